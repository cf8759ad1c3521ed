package tokbench_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"tr117/tokbench"
)

// Run benchmarks any Tokenizer; here a whitespace splitter stands in for a
// loaded one (tokbench.Load, tokbench.LoadOllamaModel, ...).
func ExampleRun() {
	ws := tokbench.Func{Name: "whitespace", Fn: func(s string) ([]int32, error) {
		return make([]int32, len(strings.Fields(s))), nil
	}}
	corpus := tokbench.SeedCorpus(45 * 1000) // the sentence 1000 times
	rep, err := tokbench.Run(context.Background(), corpus, []tokbench.Named{{Name: "ws", Tokenizer: ws}},
		tokbench.Config{Iterations: 2, Parallel: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := rep.Results[0]
	fmt.Println(r.Model, r.Tokens, "tokens per pass,", len(r.PassesMs), "passes,", r.Parallel, "shards")
	// Output: ws 9000 tokens per pass, 2 passes, 2 shards
}

// Load takes the seed's comma-separated fallbacks: an Ollama model name,
// a Hugging Face repo id, a path. Without HubConfig.AllowDownload nothing
// touches the network; the error lists every place it looked.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "store")
	defer os.RemoveAll(dir)
	cfg := tokbench.LoadConfig{
		Store: tokbench.StoreConfig{Dir: dir},
		Hub:   tokbench.HubConfig{CacheDir: dir, HFCacheDir: dir},
	}
	_, tried, err := tokbench.Load(context.Background(), cfg, "qwen2.5:7b", "Qwen/Qwen2.5-7B-Instruct")
	fmt.Println(err != nil, len(tried))
	// Output: true 5
}

// A model on an Ollama server, local or remote, is a Load source of its
// own; the suite appends one after the local store so that a model it
// measures on a server is found there when this machine lacks its files.
// tokbench.LoadFromServer(ctx, base, model, cfg) asks the server directly.
func ExampleServerSource() {
	sources := []string{"ollama:gemma3:latest", tokbench.ServerSource("http://127.0.0.1:11434/", "gemma3:latest")}
	fmt.Println(sources)
	base, model, err := tokbench.ParseServerSource(sources[1])
	fmt.Println(base, model, err)
	// Output:
	// [ollama:gemma3:latest http://127.0.0.1:11434/gemma3:latest]
	// http://127.0.0.1:11434 gemma3:latest <nil>
}
