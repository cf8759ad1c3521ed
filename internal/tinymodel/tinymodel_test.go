package tinymodel

import (
	"encoding/binary"
	"math"
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
	// The output projection: zero rows for control and byte tokens, N(0,1)
	// rows for words.
	var out *ggml.Tensor
	for _, tt := range g.Tensors().Items() {
		if tt.Name == "output.weight" {
			out = tt
		}
	}
	if out == nil {
		t.Fatal("no output.weight")
	}
	data := make([]byte, out.Size())
	if _, err := f.ReadAt(data, int64(g.Tensors().Offset+out.Offset)); err != nil {
		t.Fatal(err)
	}
	row := func(tok int) (sumSq float64) {
		for i := 0; i < 64; i++ {
			v := math.Float32frombits(binary.LittleEndian.Uint32(data[4*(tok*64+i):]))
			sumSq += float64(v) * float64(v)
		}
		return sumSq
	}
	for tok := 0; tok < firstWordID; tok++ {
		if r := row(tok); r != 0 {
			t.Fatalf("output row of token %d (%s) is not zero: %v", tok, toks[tok], r)
		}
	}
	for tok := firstWordID; tok < len(toks); tok++ {
		if r := row(tok); r < 10 || r > 200 { // sum of 64 squared N(0,1): mean 64
			t.Fatalf("output row of token %d (%s) has sum of squares %v", tok, toks[tok], r)
		}
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
