//go:build hftokenizers

package tokenizer

import (
	"slices"
	"testing"
)

// TestHuggingFaceBackendAgrees compares this package's tokenizers with
// Hugging Face's own on the module-cache fixtures, id for id. It needs the
// hftokenizers tag and libtokenizers.a (see LoadHuggingFace), which this
// repository's CI cannot build; `go vet -tags hftokenizers` type-checks it
// there, and a machine with the library runs it with
// `go test -tags hftokenizers ./tokenizer/`.
func TestHuggingFaceBackendAgrees(t *testing.T) {
	text := warAndPeace(t)
	if raceEnabled {
		text = text[:len(text)/16]
	}
	for _, tc := range []struct {
		name, file string
		ours       Tokenizer
	}{
		{"llama3-exact", "test/data/Meta-Llama-3-8B-Instruct.json", llama3Exact(t)},
		{"bert", "test/data/bert-base-uncased.json", bert(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hf, err := LoadHuggingFace(testdata(t, HFTokenizersModule, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer Close(hf)
			got, want := encode(t, tc.ours, text), encode(t, hf, text)
			if !slices.Equal(got, want) {
				i := 0
				for i < min(len(got), len(want)) && got[i] == want[i] {
					i++
				}
				t.Errorf("%d ids, Hugging Face %d; first difference at id %d", len(got), len(want), i)
			}
			if tc.name == "llama3-exact" && len(want) != hfWarAndPeaceTokens && !raceEnabled {
				t.Errorf("Hugging Face gives %d tokens, the recorded count is %d", len(want), hfWarAndPeaceTokens)
			}
		})
	}
}
