package tokenizer

import (
	"fmt"
	"os"
	"slices"

	"github.com/ollama/ollama/fs/ggml"
	ollamatok "github.com/ollama/ollama/tokenizer"
)

// LoadGGUF reads the tokenizer.ggml.* metadata of a GGUF model file and
// builds the tokenizer Ollama's engine builds for it: BPE ("gpt2") with
// the pre-tokenizer its architecture and tokenizer.ggml.pre select,
// SentencePiece ("llama"), or WordPiece ("bert"). Tensor data is not read.
// A pre-tokenizer the engine does not know is refused with ErrUnsupported.
func LoadGGUF(path string) (Tokenizer, error) {
	return loadGGUF(path, BackendOllama)
}

func loadGGUF(path, backend string) (Tokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	g, err := ggml.Decode(f, -1)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: GGUF: %w", path, err)
	}
	return fromGGUF(fromKV(g.KV()), path, backend)
}

// ggufPre maps (architecture, tokenizer.ggml.pre) to the regexes Ollama's
// engine (model/models/*) splits with.
func ggufPre(arch, pre string) ([]string, error) {
	switch arch {
	case "qwen2", "qwen25vl", "qwen3", "qwen3moe", "qwen3vl", "qwen3vlmoe":
		// These model packages hard-code Qwen 2's pattern.
		return []string{preQwen2}, nil
	case "gemma3", "gemma3n", "gemma2", "gemma":
		// gemma3 with a "gpt2" vocabulary uses the default pattern.
		return []string{preGPT2}, nil
	}
	switch pre {
	case "default":
		return []string{preGPT2}, nil
	case "qwen2":
		return []string{preQwen2}, nil
	case "refact":
		return []string{`\p{N}`, `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`}, nil
	case "tekken":
		return []string{"[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, nil
	case "llama-bpe", "llama3", "llama-v3", "smaug-bpe", "":
		// The llama engine's fallback is Llama 3's pattern.
		return []string{preLlama3}, nil
	}
	if arch == "llama" {
		return []string{preLlama3}, nil
	}
	return nil, fmt.Errorf("%w: tokenizer.ggml.pre %q for architecture %q", ErrUnsupported, pre, arch)
}

// ggufVocab is the tokenizer.ggml.* metadata a tokenizer is built from,
// read from a GGUF file (fromKV) or from a server's /api/show model_info.
type ggufVocab struct {
	Arch   string    // general.architecture; "unknown" if absent, as ggml.KV says
	Model  string    // tokenizer.ggml.model
	Pre    string    // tokenizer.ggml.pre
	Tokens []string  // tokenizer.ggml.tokens
	Types  []int32   // tokenizer.ggml.token_type
	Scores []float32 // tokenizer.ggml.scores
	Merges []string  // tokenizer.ggml.merges
}

func fromKV(kv ggml.KV) ggufVocab {
	return ggufVocab{
		Arch:   kv.Architecture(),
		Model:  kv.String("tokenizer.ggml.model"),
		Pre:    kv.String("tokenizer.ggml.pre"),
		Tokens: kv.Strings("tokenizer.ggml.tokens"),
		Types:  kv.Ints("tokenizer.ggml.token_type"),
		Scores: kv.Floats("tokenizer.ggml.scores"),
		Merges: kv.Strings("tokenizer.ggml.merges"),
	}
}

// fromGGUF builds the tokenizer Ollama's engine builds from g. Its Info
// has Format "gguf"; callers that read the metadata elsewhere rewrite it.
func fromGGUF(g ggufVocab, source, backend string) (Tokenizer, error) {
	if err := noHuggingFace(backend, source, "GGUF"); err != nil {
		return nil, err
	}
	values := g.Tokens
	if len(values) == 0 {
		return nil, fmt.Errorf("tokenizer: %s: GGUF has no tokenizer.ggml.tokens", source)
	}
	types := g.Types
	if len(types) == 0 {
		types = make([]int32, len(values))
		for i := range types {
			types[i] = ollamatok.TOKEN_TYPE_NORMAL
		}
	}
	if len(types) != len(values) {
		return nil, fmt.Errorf("tokenizer: %s: %d token types for %d tokens", source, len(types), len(values))
	}
	arch := g.Arch
	vocab := &ollamatok.Vocabulary{
		Values: values,
		Types:  types,
		Scores: g.Scores,
		Merges: g.Merges,
	}
	info := Info{Backend: BackendOllama, Format: "gguf", Source: source, VocabSize: len(values)}
	model := g.Model
	var tok ollamatok.Tokenizer
	switch model {
	case "gpt2":
		pre, err := ggufPre(arch, g.Pre)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %s: %w", source, err)
		}
		if len(vocab.Merges) == 0 {
			return nil, fmt.Errorf("tokenizer: %s: BPE GGUF has no tokenizer.ggml.merges", source)
		}
		info.Notes = append(info.Notes, fmt.Sprintf("architecture %q, tokenizer.ggml.pre %q", arch, g.Pre))
		if backend == BackendExact {
			if err := checkByteLevel(vocab, source); err != nil {
				return nil, err
			}
		}
		return newBPE(vocab, pre, true, backend, nil, info)
	case "llama":
		if len(vocab.Scores) != len(values) {
			return nil, fmt.Errorf("tokenizer: %s: %d scores for %d tokens", source, len(vocab.Scores), len(values))
		}
		if len(values) < minSPMPieces {
			return nil, fmt.Errorf("tokenizer: %s: SentencePiece vocabulary of %d tokens, want at least %d", source, len(values), minSPMPieces)
		}
		tok = ollamatok.NewSentencePiece(vocab)
		info.Model = "sentencepiece"
	case "bert":
		if !slices.Contains(values, "[UNK]") {
			return nil, unsupported(source, "WordPiece vocabulary without \"[UNK]\"")
		}
		tok = ollamatok.NewWordPiece(vocab, true)
		info.Model = "wordpiece"
		info.Notes = append(info.Notes, "Ollama's WordPiece as its engine runs it (lowercasing, no accent stripping)")
	case "":
		return nil, fmt.Errorf("tokenizer: %s: GGUF has no tokenizer.ggml.model", source)
	default:
		return nil, unsupported(source, "tokenizer.ggml.model %q (supported: gpt2, llama, bert)", model)
	}
	return &ollamaTok{tok: tok, info: info}, nil
}
