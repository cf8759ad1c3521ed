package tokenizer_test

import (
	"context"
	"fmt"
	"os"

	"tr117/tokenizer"
)

// Load tries comma-separated fallbacks in order: an Ollama model name,
// a Hugging Face repo id, a path. Without HubConfig.AllowDownload nothing
// touches the network; the error lists every place it looked.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "store")
	defer os.RemoveAll(dir)
	cfg := tokenizer.LoadConfig{
		Store: tokenizer.StoreConfig{Dir: dir},
		Hub:   tokenizer.HubConfig{CacheDir: dir, HFCacheDir: dir},
	}
	_, tried, err := tokenizer.Load(context.Background(), cfg, "qwen2.5:7b", "Qwen/Qwen2.5-7B-Instruct")
	fmt.Println(err != nil, len(tried))
	// Output: true 5
}

// A model on an Ollama server, local or remote, is a Load source of its
// own; the suite appends one after the local store so that a model it
// measures on a server is found there when this machine lacks its files.
// tokenizer.LoadFromServer(ctx, base, model, cfg) asks the server directly.
func ExampleServerSource() {
	sources := []string{"ollama:gemma3:latest", tokenizer.ServerSource("http://127.0.0.1:11434/", "gemma3:latest")}
	fmt.Println(sources)
	base, model, err := tokenizer.ParseServerSource(sources[1])
	fmt.Println(base, model, err)
	// Output:
	// [ollama:gemma3:latest http://127.0.0.1:11434/gemma3:latest]
	// http://127.0.0.1:11434 gemma3:latest <nil>
}
