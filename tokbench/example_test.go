package tokbench_test

import (
	"context"
	"errors"
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

// Parity holds a tokenizer's ids to a reference's (usually Hugging Face's
// own library, LoadHFNode, which also gives the byte offset of the first
// difference); here two byte-per-id encoders that disagree on 'x'.
func ExampleParity() {
	bytesOf := func(xAs int32) tokbench.Func {
		return tokbench.Func{Name: "bytes", Fn: func(s string) ([]int32, error) {
			ids := make([]int32, len(s))
			for i := range len(s) {
				ids[i] = int32(s[i])
				if s[i] == 'x' {
					ids[i] = xAs
				}
			}
			return ids, nil
		}}
	}
	err := tokbench.Parity("a box", tokbench.Named{Name: "ours", Tokenizer: bytesOf(0)}, tokbench.Named{Name: "ref", Tokenizer: bytesOf('x')})
	var m *tokbench.Mismatch
	if errors.As(err, &m) {
		fmt.Println("first difference at id", m.Index, "of", m.Tokens, "; ours", m.IDs[m.Index-m.Start], "ref", m.RefIDs[m.Index-m.Start])
	}
	// Output: first difference at id 4 of 5 ; ours 0 ref 120
}
