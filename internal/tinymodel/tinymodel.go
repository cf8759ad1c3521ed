// Package tinymodel writes a tiny random-weight llama-architecture GGUF
// model that a real Ollama server loads and runs on a CPU at hundreds of
// tokens a second. Tests use it to drive a real server without downloading
// anything: tr117/internal/ollamaserver creates it as "tiny:latest".
//
// The model has Layers transformer blocks of Embd dimensions and a
// SentencePiece ("llama") vocabulary of the control tokens <unk>, <s> and
// </s>, the 256 byte tokens <0x00>…<0xFF> and one token per word of
// [Words] ("▁the"). The rows of the output projection that belong to
// control and byte tokens are zero and the word rows are N(0,1), so the
// model never samples end-of-sequence or a partial byte: a generation runs
// to num_predict and every streamed message is one whole word. All tensors
// are F32, which every GGUF loader accepts. The file is about 0.5 MB and
// depends only on the [Config], so it is generated at test time and never
// committed.
package tinymodel

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/ollama/ollama/fs/ggml"
)

// Config shapes the model. The zero value is the default model.
//
// It is plain data: safe to read from several goroutines, not to modify while
// others read it.
type Config struct {
	// Layers is the number of transformer blocks. Default 2.
	Layers int `json:"layers,omitempty"`
	// Embd is the embedding width. Default 64.
	Embd int `json:"embd,omitempty"`
	// Heads is the number of attention heads (Embd must divide by it). Default 4.
	Heads int `json:"heads,omitempty"`
	// FF is the feed-forward width. Default 128.
	FF int `json:"ff,omitempty"`
	// ContextLength is the trained context length written into the file.
	// Default 4096.
	ContextLength int `json:"context_length,omitempty"`
	// Seed seeds the random weights. Default 0, a seed like any other.
	Seed uint64 `json:"seed"`
}

func (c Config) withDefaults() Config {
	if c.Layers <= 0 {
		c.Layers = 2
	}
	if c.Embd <= 0 {
		c.Embd = 64
	}
	if c.Heads <= 0 {
		c.Heads = 4
	}
	if c.FF <= 0 {
		c.FF = 128
	}
	if c.ContextLength <= 0 {
		c.ContextLength = 4096
	}
	return c
}

// Token types of the llama (SentencePiece) vocabulary in GGUF.
const (
	typeNormal  = 1
	typeUnknown = 2
	typeControl = 3
	typeByte    = 6
)

// Token ids of the control tokens.
const (
	UnkID = 0
	BOSID = 1
	EOSID = 2
)

// firstWordID is the id of the first word token: after the three control
// tokens and the 256 byte tokens.
const firstWordID = 3 + 256

// Words returns the word vocabulary, in token-id order from 259.
func Words() []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range strings.Fields(wordList) {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

const wordList = `the of and to in a is that for it as was with be by on not he this are or
his from at which but have an they you were her she there one all we their has been would more
when will if no out so said what up its about into than them can only other new some could time
these two may then do first any my now such like our over man me even most made after also did
many before must through back years where much your way well down should because each just those
people how too little state good very make world still own see men work long get here between
both life being under never day same another know while last might us great old year off come
since against go came right used take three model token stream latency throughput memory cache
kernel batch queue agent server client request response prompt context layer weight tensor
measure profile benchmark window buffer socket packet frame scheduler thread core power energy
clock signal sample metric result report why sky blue hello world tell story about quick brown
fox jumps lazy dog`

// Vocab returns the tokens, their scores and their types, in id order.
func Vocab() (tokens []string, scores []float32, types []int32) {
	tokens = []string{"<unk>", "<s>", "</s>"}
	types = []int32{typeUnknown, typeControl, typeControl}
	for b := 0; b < 256; b++ {
		tokens = append(tokens, fmt.Sprintf("<0x%02X>", b))
		types = append(types, typeByte)
	}
	for _, w := range Words() {
		tokens = append(tokens, "\u2581"+w)
		types = append(types, typeNormal)
	}
	scores = make([]float32, len(tokens))
	for i := firstWordID; i < len(tokens); i++ {
		scores[i] = -float32(i - firstWordID)
	}
	return tokens, scores, types
}

// f32 is a tensor's data; it writes itself little-endian.
type f32 []float32

func (t f32) WriteTo(w io.Writer) (int64, error) {
	b := make([]byte, 4*len(t))
	for i, v := range t {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	n, err := w.Write(b)
	return int64(n), err
}

// Write writes the model to path, through a temporary file in the same
// directory that is renamed over path, so a reader never sees half a model.
func Write(path string, cfg Config) error {
	cfg = cfg.withDefaults()
	if cfg.Embd%cfg.Heads != 0 {
		return fmt.Errorf("tinymodel: embd %d does not divide into %d heads", cfg.Embd, cfg.Heads)
	}
	kv, nVocab := metadata(cfg)
	return writeGGUF(path, kv, tensors(cfg, nVocab))
}

// metadata returns the model's GGUF key-values: a llama architecture of
// cfg's shape with the package's vocabulary, and the vocabulary's size.
func metadata(cfg Config) (ggml.KV, int) {
	tokens, scores, types := Vocab()
	nVocab := len(tokens)
	return ggml.KV{
		"general.architecture":                   "llama",
		"general.name":                           "tiny",
		"general.file_type":                      uint32(0), // all F32
		"general.alignment":                      uint32(32),
		"llama.context_length":                   uint32(cfg.ContextLength),
		"llama.embedding_length":                 uint32(cfg.Embd),
		"llama.block_count":                      uint32(cfg.Layers),
		"llama.feed_forward_length":              uint32(cfg.FF),
		"llama.attention.head_count":             uint32(cfg.Heads),
		"llama.attention.head_count_kv":          uint32(cfg.Heads),
		"llama.attention.layer_norm_rms_epsilon": float32(1e-5),
		"llama.rope.dimension_count":             uint32(cfg.Embd / cfg.Heads),
		"llama.rope.freq_base":                   float32(10000),
		"llama.vocab_size":                       uint32(nVocab),
		"tokenizer.ggml.model":                   "llama",
		"tokenizer.ggml.tokens":                  tokens,
		"tokenizer.ggml.scores":                  scores,
		"tokenizer.ggml.token_type":              types,
		"tokenizer.ggml.bos_token_id":            uint32(BOSID),
		"tokenizer.ggml.eos_token_id":            uint32(EOSID),
		"tokenizer.ggml.unknown_token_id":        uint32(UnkID),
		"tokenizer.ggml.add_bos_token":           true,
		"tokenizer.ggml.add_eos_token":           false,
	}, nVocab
}

// tensors returns the model's weights, random from cfg.Seed.
func tensors(cfg Config, nVocab int) []*ggml.Tensor {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7469_6e79)) // "tiny"
	normal := func(n int, std float64) f32 {
		t := make(f32, n)
		for i := range t {
			t[i] = float32(rng.NormFloat64() * std)
		}
		return t
	}
	ones := func(n int) f32 {
		t := make(f32, n)
		for i := range t {
			t[i] = 1
		}
		return t
	}
	e, ff := cfg.Embd, cfg.FF
	u := func(xs ...int) []uint64 {
		s := make([]uint64, len(xs))
		for i, x := range xs {
			s[i] = uint64(x)
		}
		return s
	}
	tensor := func(name string, data f32, shape ...int) *ggml.Tensor {
		return &ggml.Tensor{Name: name, Kind: uint32(ggml.TensorTypeF32), Shape: u(shape...), WriterTo: data}
	}

	// The output projection: one row of Embd values per token. Zero rows
	// never win the sampler against N(0,1) rows over a unit-RMS hidden state.
	out := make(f32, e*nVocab)
	for tok := firstWordID; tok < nVocab; tok++ {
		for i := 0; i < e; i++ {
			out[tok*e+i] = float32(rng.NormFloat64())
		}
	}
	ts := []*ggml.Tensor{
		tensor("token_embd.weight", normal(e*nVocab, 1), e, nVocab),
		tensor("output_norm.weight", ones(e), e),
		tensor("output.weight", out, e, nVocab),
	}
	const std = 0.02
	for l := 0; l < cfg.Layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		ts = append(ts,
			tensor(p+"attn_norm.weight", ones(e), e),
			tensor(p+"attn_q.weight", normal(e*e, std), e, e),
			tensor(p+"attn_k.weight", normal(e*e, std), e, e),
			tensor(p+"attn_v.weight", normal(e*e, std), e, e),
			tensor(p+"attn_output.weight", normal(e*e, std), e, e),
			tensor(p+"ffn_norm.weight", ones(e), e),
			tensor(p+"ffn_gate.weight", normal(e*ff, std), e, ff),
			tensor(p+"ffn_up.weight", normal(e*ff, std), e, ff),
			tensor(p+"ffn_down.weight", normal(ff*e, std), ff, e),
		)
	}
	return ts
}

// writeGGUF writes the model to path through a temporary file in the same
// directory that is renamed over path.
func writeGGUF(path string, kv ggml.KV, ts []*ggml.Tensor) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tinymodel-*.gguf")
	if err != nil {
		return fmt.Errorf("tinymodel: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename this fails harmlessly
	if err := ggml.WriteGGUF(f, kv, ts); err != nil {
		f.Close()
		return fmt.Errorf("tinymodel: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tinymodel: write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("tinymodel: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("tinymodel: %w", err)
	}
	return nil
}

// Ensure writes the model for cfg into dir unless it is there already, and
// returns its path. The file name carries a digest of cfg, so models of
// different configs do not collide.
func Ensure(dir string, cfg Config) (string, error) {
	cfg = cfg.withDefaults()
	name := fmt.Sprintf("tiny-l%d-e%d-h%d-f%d-c%d-s%d.gguf", cfg.Layers, cfg.Embd, cfg.Heads, cfg.FF, cfg.ContextLength, cfg.Seed)
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("tinymodel: %w", err)
	}
	if err := Write(path, cfg); err != nil {
		return "", err
	}
	return path, nil
}
