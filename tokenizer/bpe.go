package tokenizer

import (
	"slices"

	ollamatok "github.com/ollama/ollama/tokenizer"
)

// completeSplits are the split patterns known to match every character, so
// that Ollama's splitter (which mishandles text between matches) is exact
// on them.
var completeSplits = []string{preGPT2, preLlama3, preQwen2}

// ollamaBPENote says how Ollama's BPE can differ from Hugging Face's.
const ollamaBPENote = "Ollama's BPE merges equal-rank pairs in heap order: on runs of one repeated symbol its ids can differ from Hugging Face's (backend exact merges in Hugging Face's order)"

// newBPE builds a byte-level BPE on the chosen backend. info's Format,
// Source and Notes are kept; the rest is filled in.
func newBPE(v *ollamatok.Vocabulary, pre []string, ignoreMerges bool, backend string, prep func(string) string, info Info) (Tokenizer, error) {
	info.Model = "bpe"
	info.VocabSize = len(v.Values)
	if backend == BackendExact {
		e, err := newExactBPE(v, pre, ignoreMerges)
		if err != nil {
			return nil, unsupported(info.Source, "pre-tokenizer: %v", err)
		}
		info.Backend = BackendExact
		return &ollamaTok{encode: e.Encode, prep: prep, info: info}, nil
	}
	info.Backend = BackendOllama
	if info.Format != "gguf" {
		// A GGUF gets the engine's splitter as it is, that being what
		// Ollama runs; a tokenizer.json or encoder.json promises the
		// file's ids.
		for _, p := range pre {
			if !slices.Contains(completeSplits, p) {
				return nil, unsupported(info.Source, "split pattern %q may leave text between matches, which Ollama's splitter repeats; use backend exact", p)
			}
		}
		if !ignoreMerges {
			// Ollama's BPE takes a pre-token found whole in the
			// vocabulary without merging (Hugging Face's ignore_merges).
			// With ignore_merges false that is only exact if merging
			// every vocabulary entry gives the entry itself.
			if bad, ok := wholeTokensReachable(v); !ok {
				return nil, unsupported(info.Source, "ignore_merges is false and token %q does not merge back to itself, so Ollama's whole-word shortcut would change ids; use backend exact", bad)
			}
			info.Notes = append(info.Notes, "ignore_merges=false: checked that every vocabulary token merges back to itself")
		}
	}
	info.Notes = append(info.Notes, ollamaBPENote)
	bpe := ollamatok.NewBytePairEncoding(v, pre...)
	return &ollamaTok{tok: &bpe, prep: prep, info: info}, nil
}
