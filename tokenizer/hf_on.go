//go:build hftokenizers

package tokenizer

import (
	"fmt"
	"math"
	"sync"

	hf "github.com/daulet/tokenizers"
)

// LoadHuggingFace loads a tokenizer.json with the Hugging Face tokenizers
// library (Rust, through github.com/daulet/tokenizers and cgo). The
// returned Tokenizer holds Rust memory: release it with Close.
func LoadHuggingFace(path string) (Tokenizer, error) {
	t, err := hf.FromFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: Hugging Face backend: %w", path, err)
	}
	return &hfTok{t: t, info: Info{
		Backend:   BackendHuggingFace,
		Model:     "hf",
		Format:    "tokenizer.json",
		Source:    path,
		VocabSize: int(t.VocabSize()),
	}}, nil
}

// hfTok is safe for concurrent use: the Rust tokenizer is immutable once
// built; mu only orders Close after the encodes in flight.
type hfTok struct {
	mu     sync.RWMutex
	t      *hf.Tokenizer
	info   Info
	closed bool
}

func (h *hfTok) Encode(text string) ([]int32, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return nil, fmt.Errorf("tokenizer: %s: encode after Close", h.info.Source)
	}
	ids, _ := h.t.Encode(text, false)
	out := make([]int32, len(ids))
	for i, id := range ids {
		if id > math.MaxInt32 {
			return nil, fmt.Errorf("tokenizer: %s: id %d out of int32 range", h.info.Source, id)
		}
		out[i] = int32(id)
	}
	return out, nil
}

func (h *hfTok) Info() Info { return h.info }

// Close frees the Rust tokenizer. It is idempotent.
func (h *hfTok) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	return h.t.Close()
}

const hfBuilt = true
