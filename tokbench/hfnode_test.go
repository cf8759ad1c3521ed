package tokbench

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tr117/tokenizer"
)

// parityCases are the tokenizer.json files of daulet/tokenizers' test data
// with the backend of tr117 that must give Hugging Face's ids: exact (BPE
// in Hugging Face's merge order; WordPiece is Ollama's either way).
func parityCases(t *testing.T) map[string]string {
	t.Helper()
	dir := testdata(t, tokenizer.HFTokenizersModule, "test/data")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no tokenizer.json files in %s (%v)", dir, err)
	}
	cases := map[string]string{}
	for _, f := range files {
		cases[f] = tokenizer.BackendExact
	}
	return cases
}

// TestHFNodeParity: on the whole of War and Peace, tr117's backends give
// Hugging Face's own ids for every tokenizer.json of the module cache's
// test data that they load (Llama 3 BPE, BERT WordPiece and the others);
// a file tr117 refuses with ErrUnsupported is logged, not compared. A
// difference is reported with its byte offset and the ids around it.
func TestHFNodeParity(t *testing.T) {
	text := warAndPeace(t)
	if raceEnabled {
		text = text[:len(text)/16]
	}
	loaded := 0
	for path, backend := range parityCases(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			ours, err := tokenizer.LoadFile(path, tokenizer.LoadConfig{Backend: backend})
			if err != nil {
				// Refused loudly (ErrUnsupported, or a file it reads
				// differently, such as a vocabulary with gaps): not a
				// tokenizer tr117 would run with other ids.
				t.Logf("tr117 does not load it: %v", err)
				return
			}
			loaded++
			hf := hfNode(t, path, tokenizer.HFNodeConfig{})
			if err := Parity(text, Named{backend, ours}, Named{tokenizer.BackendHFNode, hf}); err != nil {
				t.Error(err)
			}
		})
	}
	if loaded < 2 {
		t.Errorf("tr117 loaded %d of the test data's tokenizer.json files, want at least Llama 3 and BERT", loaded)
	}
}

// Ollama's BPE pops equal-rank merges in heap order: on War and Peace its
// Llama 3 ids differ from Hugging Face's, and Parity says where, with the
// byte offset and both id sequences around it.
func TestHFNodeParityReportsTheFirstDifference(t *testing.T) {
	if raceEnabled {
		t.Skip("race detector: the whole novel is too slow")
	}
	p := testdata(t, tokenizer.HFTokenizersModule, "test/data/Meta-Llama-3-8B-Instruct.json")
	hf := hfNode(t, p, tokenizer.HFNodeConfig{})
	text := warAndPeace(t)
	err := Parity(text, Named{"ollama", llama3JSON(t)}, Named{"hf", hf})
	var m *Mismatch
	if !errors.As(err, &m) {
		t.Fatalf("Parity = %v, want a *Mismatch (Ollama's BPE is known to differ)", err)
	}
	if m.Tokens != hfWarAndPeaceTokens || m.RefTokens != hfWarAndPeaceTokens || m.Offset <= 0 || m.Offset >= len(text) ||
		m.IDs[m.Index-m.Start] == m.RefIDs[m.Index-m.Start] || !slices.Equal(m.IDs[:m.Index-m.Start], m.RefIDs[:m.Index-m.Start]) {
		t.Errorf("mismatch %+v", m)
	}
	// The reference's token at Index starts at Offset: the ids before it
	// are exactly Hugging Face's encoding of the text before it.
	if got := encode(t, hf, text[:m.Offset]); len(got) != m.Index {
		t.Errorf("text before offset %d encodes to %d ids, want %d", m.Offset, len(got), m.Index)
	}
	for _, want := range []string{"byte offset", "ollama differs from hf at id"} {
		if !strings.Contains(m.Error(), want) {
			t.Errorf("%q lacks %q", m.Error(), want)
		}
	}
}

// Run times hf-node passes inside the child and pairs the result with
// tr117's on the same file.
func TestHFNodeInRun(t *testing.T) {
	p := testdata(t, tokenizer.HFTokenizersModule, "test/data/bert-base-uncased.json")
	h := hfNode(t, p, tokenizer.HFNodeConfig{Threads: 2})
	if m := h.Info().Model; m != "wordpiece" {
		t.Errorf("model %q, want wordpiece (bert-base-uncased.json's model has no type)", m)
	}
	ours := bert(t)
	corpus := SeedCorpus(45000)
	toks := []Named{{"bert", ours}, {"bert-hf", h}}
	rep, err := Run(context.Background(), corpus, toks, Config{Iterations: 2, Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Results[1].Tokens != 10000 || rep.Results[1].Info.Backend != tokenizer.BackendHFNode || len(rep.Results[1].PassesMs) != 2 {
		t.Errorf("hf-node result %+v", rep.Results[1])
	}
	if len(rep.VersusHF) != 1 || rep.VersusHF[0].Model != "bert" || rep.VersusHF[0].HF != "bert-hf" || !rep.VersusHF[0].SameTokens || !(rep.VersusHF[0].SpeedRatio > 0) {
		t.Errorf("versus HF %+v", rep.VersusHF)
	}
	// Paragraph by paragraph: one batch in the child, the same count.
	paras := strings.Repeat(SeedSentence+"\n\n", 300)
	rep, err = Run(context.Background(), paras, toks, Config{Iterations: 1, Paragraphs: true})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := rep.Results[0].Tokens, rep.Results[1].Tokens; a != b || a == 0 {
		t.Errorf("paragraphs: %d tokens, Hugging Face %d", a, b)
	}
	ps := CheckParity(corpus, toks)
	if len(ps) != 1 || !ps[0].Equal || ps[0].Model != "bert" || ps[0].Reference != "bert-hf" {
		t.Errorf("parity %+v", ps)
	}
}
