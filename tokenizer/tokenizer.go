package tokenizer

import (
	"fmt"
	"io"
	"unicode/utf8"

	ollamatok "github.com/ollama/ollama/tokenizer"
)

// Tokenizer encodes text to token ids. Implementations in this package are
// safe for concurrent use.
type Tokenizer interface {
	// Encode returns the ids of text without any special token added: no
	// BOS, no EOS, no template. Special tokens written literally in text
	// (such as "<|begin_of_text|>") are still recognised, as Hugging Face
	// and Ollama both do.
	Encode(text string) ([]int32, error)
	// Info says what the tokenizer is and where it was loaded from.
	Info() Info
}

// Info describes a loaded tokenizer. It is written into tokenizer_bench.json.
type Info struct {
	// Backend is the implementation that encodes: BackendOllama,
	// BackendExact, BackendHFNode or BackendHuggingFace (or what a
	// caller's Func says).
	Backend string `json:"backend"`
	// Model is the algorithm: "bpe", "sentencepiece" or "wordpiece".
	Model string `json:"model"`
	// Format is what was read: "tokenizer.json", "encoder.json+vocab.bpe",
	// "tokenizer.model", "gguf", "ollama-store" (a GGUF found by model
	// name) or "ollama-api" (a GGUF's metadata from a server's /api/show).
	Format string `json:"format,omitempty"`
	// Source is where it was loaded from: a path, an Ollama model name and
	// its blob, a server source "http://HOST:PORT/MODEL", or a Hugging
	// Face repo id and the cached file.
	Source string `json:"source"`
	// VocabSize is the number of ids, added tokens included.
	VocabSize int `json:"vocab_size,omitempty"`
	// Library names the encoding library and its runtime when it is not
	// this binary's Go code (the hf-node backend: Hugging Face's tokenizers
	// version and the Node.js that ran it).
	Library string `json:"library,omitempty"`
	// Notes records how the loader mapped the file onto the backend (for
	// example "normalizer NFC applied before encoding").
	Notes []string `json:"notes,omitempty"`
	// Fixture is set on the module-cache test files LoadFixtures and
	// Fixture.Load return: real tokenizers, but not the models a run asks
	// about, so Compare labels their comparisons instead of giving a
	// verdict.
	Fixture bool `json:"fixture,omitempty"`
}

// Backends.
const (
	// BackendOllama is github.com/ollama/ollama/tokenizer, the pure-Go code
	// Ollama's own engine runs.
	BackendOllama = "ollama"
	// BackendHuggingFace is github.com/daulet/tokenizers, the Rust
	// tokenizers library through cgo (build tag hftokenizers).
	BackendHuggingFace = "huggingface"
)

// Func adapts a function to a Tokenizer, for benchmarking an encoder this
// package does not load. Its Info reports Backend "func" and Source Name.
// It is safe for concurrent use if Fn is.
type Func struct {
	Name string
	Fn   func(text string) ([]int32, error)
}

// Encode calls f.Fn.
func (f Func) Encode(text string) ([]int32, error) { return f.Fn(text) }

// Info reports f as a "func" backend named f.Name.
func (f Func) Info() Info { return Info{Backend: "func", Model: "func", Source: f.Name} }

// Close releases t if it holds resources outside the Go heap (the Hugging
// Face backend does); it is a no-op for the pure-Go tokenizers.
func Close(t Tokenizer) error {
	if c, ok := t.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// ollamaTok wraps an github.com/ollama/ollama/tokenizer.Tokenizer, with an optional text
// transform that makes its input what the file's own pipeline would feed
// the model (a normalizer the backend lacks).
type ollamaTok struct {
	tok  ollamatok.Tokenizer
	info Info
	// prep, when set, rewrites text before encoding (normalizers).
	prep func(string) string
	// encode, when set, replaces tok.Encode (WordPiece with a Hugging Face
	// pre-tokenizer in front).
	encode func(string) ([]int32, error)
}

func (o *ollamaTok) Encode(text string) ([]int32, error) {
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("tokenizer: %s: text is not valid UTF-8", o.info.Source)
	}
	if o.prep != nil {
		text = o.prep(text)
	}
	if o.encode != nil {
		ids, err := o.encode(text)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %s: %w", o.info.Source, err)
		}
		return ids, nil
	}
	ids, err := o.tok.Encode(text, false)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", o.info.Source, err)
	}
	return ids, nil
}

func (o *ollamaTok) Info() Info { return o.info }
