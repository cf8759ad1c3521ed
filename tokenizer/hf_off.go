//go:build !hftokenizers

package tokenizer

import "fmt"

// LoadHuggingFace loads a tokenizer.json with the Hugging Face tokenizers
// library (Rust, through github.com/daulet/tokenizers and cgo). This build
// was made without the hftokenizers build tag, so it always fails.
func LoadHuggingFace(path string) (Tokenizer, error) {
	return nil, fmt.Errorf("tokenizer: %s: Hugging Face backend: %w", path, ErrNoHuggingFace)
}

const hfBuilt = false
