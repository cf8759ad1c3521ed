package tinymodel

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ollama/ollama/fs/ggml"
)

func TestWriteReadsBack(t *testing.T) {
	dir := t.TempDir()
	path, err := Ensure(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := ggml.Decode(f, -1)
	if err != nil {
		t.Fatal(err)
	}
	kv := g.KV()
	if kv.Architecture() != "llama" || kv.BlockCount() != 2 || kv.EmbeddingLength() != 64 {
		t.Errorf("arch %q blocks %d embd %d", kv.Architecture(), kv.BlockCount(), kv.EmbeddingLength())
	}
	toks, _, _ := Vocab()
	if got := len(kv.Strings("tokenizer.ggml.tokens")); got != len(toks) {
		t.Errorf("%d tokens, want %d", got, len(toks))
	}
	if n := len(g.Tensors().Items()); n != 3+9*2 {
		t.Errorf("%d tensors", n)
	}
	st, _ := os.Stat(path)
	t.Logf("%s: %d bytes, %d tokens", filepath.Base(path), st.Size(), len(toks))

	// Deterministic: a second write gives the same bytes.
	again := filepath.Join(dir, "again.gguf")
	if err := Write(again, Config{}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(path)
	b, _ := os.ReadFile(again)
	if string(a) != string(b) {
		t.Error("two writes of the same config differ")
	}
}
