package tokbench_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"tr117/tokbench"
	"tr117/tokenizer"
)

// Run races any tokenizer.Tokenizer; here a whitespace splitter stands in
// for a loaded one (tokenizer.Load, tokenizer.LoadOllamaModel, ...).
func ExampleRun() {
	ws := tokenizer.Func{Name: "whitespace", Fn: func(s string) ([]int32, error) {
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

// Parity holds a tokenizer's ids to a reference's (usually Hugging Face's
// own library, tokenizer.LoadHFNode, which also gives the byte offset of the first
// difference); here two byte-per-id encoders that disagree on 'x'.
func ExampleParity() {
	bytesOf := func(xAs int32) tokenizer.Func {
		return tokenizer.Func{Name: "bytes", Fn: func(s string) ([]int32, error) {
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
