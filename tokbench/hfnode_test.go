package tokbench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// requireHFNode is whether a missing hf-node backend fails the test
// instead of skipping it: in CI, or with TR117_REQUIRE_HF_NODE set.
func requireHFNode() bool {
	return os.Getenv("CI") != "" || os.Getenv("TR117_REQUIRE_HF_NODE") != ""
}

// hfNode loads path with Hugging Face's library in a child node process,
// skipping the test (failing it in CI) when node or the npm package is not
// installed. The child is closed when the test ends.
func hfNode(t testing.TB, path string, cfg HFNodeConfig) *hfNodeTok {
	t.Helper()
	tok, err := LoadHFNode(path, cfg)
	if errors.Is(err, ErrNoHFNode) {
		if requireHFNode() {
			t.Fatalf("%v (CI / TR117_REQUIRE_HF_NODE set)", err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Close(tok) })
	return tok.(*hfNodeTok)
}

func TestHFNodeEncodes(t *testing.T) {
	p := testdata(t, HFTokenizersModule, "test/data/Meta-Llama-3-8B-Instruct.json")
	h := hfNode(t, p, HFNodeConfig{Threads: 2})
	info := h.Info()
	if info.Backend != BackendHFNode || info.Model != "bpe" || info.VocabSize != 128256 || !strings.Contains(info.Library, HFNodeVersion) {
		t.Errorf("info %+v", info)
	}
	// Hugging Face's ids (daulet/tokenizers' own tests), no BOS added.
	if got, want := encode(t, h, "brown fox jumps over the lazy dog"), []int32{0x10019, 0x9bff, 0x89ec, 0x39f, 0x117, 0x3eb5, 0x162f}; !slices.Equal(got, want) {
		t.Errorf("ids = %v, want %v", got, want)
	}
	ids, offs, err := h.EncodeOffsets("héllo wörld 😀 x")
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(offs) || offs[0] != 0 || offs[len(offs)-1] != len("héllo wörld 😀") {
		t.Errorf("offsets %v for ids %v: want byte offsets", offs, ids)
	}
	// A pass is timed in the child; two shards are one batch of the same count.
	text := SeedCorpus(9000)
	n1, d, err := h.encodeTimed([]string{text})
	if err != nil || n1 != len(encode(t, llama3Exact(t), text)) || !(d > 0) {
		t.Errorf("one text: %d tokens in %v (%v)", n1, d, err)
	}
	if n2, _, err := h.encodeTimed(Shards(text, 2)); err != nil || n2 != n1 {
		t.Errorf("two shards: %d tokens, one call %d (%v)", n2, n1, err)
	}
	if _, err := h.Encode("a\xffb"); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

// parityCases are the tokenizer.json files of daulet/tokenizers' test data
// with the backend of tr117 that must give Hugging Face's ids: exact (BPE
// in Hugging Face's merge order; WordPiece is Ollama's either way).
func parityCases(t *testing.T) map[string]string {
	t.Helper()
	dir := testdata(t, HFTokenizersModule, "test/data")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no tokenizer.json files in %s (%v)", dir, err)
	}
	cases := map[string]string{}
	for _, f := range files {
		cases[f] = BackendExact
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
			ours, err := LoadFile(path, LoadConfig{Backend: backend})
			if err != nil {
				// Refused loudly (ErrUnsupported, or a file it reads
				// differently, such as a vocabulary with gaps): not a
				// tokenizer tr117 would run with other ids.
				t.Logf("tr117 does not load it: %v", err)
				return
			}
			loaded++
			hf := hfNode(t, path, HFNodeConfig{})
			if err := Parity(text, Named{backend, ours}, Named{BackendHFNode, hf}); err != nil {
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
	p := testdata(t, HFTokenizersModule, "test/data/Meta-Llama-3-8B-Instruct.json")
	hf := hfNode(t, p, HFNodeConfig{})
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

// fakeNode writes an executable that stands in for node: it answers
// --version with version and runs body otherwise.
func fakeNode(t *testing.T, version, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "node")
	script := "#!/bin/sh\nif [ \"$1\" = --version ]; then echo " + version + "; exit 0; fi\n" + body + "\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakePackage is a directory that looks like an installed npm package
// tokenizers (for the errors found before the library runs).
func fakePackage(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	pkg := filepath.Join(dir, "node_modules", "tokenizers")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkg, "package.json"), []byte(`{"name":"tokenizers","version":"0.23.2"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Each way the backend cannot start is an error naming the file and the
// backend, and says what is wrong.
func TestHFNodeRefused(t *testing.T) {
	p := testdata(t, HFTokenizersModule, "test/data/bert-base-uncased.json")
	bad := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(bad, []byte(`{"version":"1.0","model":{"type":"NoSuchModel"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		path string
		cfg  HFNodeConfig
		want []string
		is   error
	}{
		"not installed": {p, HFNodeConfig{Dir: t.TempDir()}, []string{"install-hf-tokenizers.sh", "TR117_HF_NODE_DIR"}, ErrNoHFNode},
		"no node":       {p, HFNodeConfig{Dir: fakePackage(t), Node: filepath.Join(t.TempDir(), "node")}, []string{"install-hf-tokenizers.sh"}, ErrNoHFNode},
		"node too old":  {p, HFNodeConfig{Dir: fakePackage(t), Node: fakeNode(t, "v10.24.1", "exit 0")}, []string{"v10.24.1", "older than the 12"}, nil},
		"not node":      {p, HFNodeConfig{Dir: fakePackage(t), Node: fakeNode(t, "5.1", "exit 0")}, []string{"not a Node.js version"}, nil},
		"crashes":       {p, HFNodeConfig{Dir: fakePackage(t), Node: fakeNode(t, "v20.0.0", "echo 'Segmentation fault' >&2; exit 139")}, []string{"node exited: exit status 139", "Segmentation fault"}, nil},
		"hangs":         {p, HFNodeConfig{Dir: fakePackage(t), Node: fakeNode(t, "v20.0.0", "exec sleep 60"), Timeout: 500 * time.Millisecond}, []string{"no answer from node in 500ms"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			tok, err := LoadHFNode(tc.path, tc.cfg)
			if err == nil {
				Close(tok)
				t.Fatal("loaded")
			}
			for _, want := range append(tc.want, tc.path, "backend hf-node") {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%v: lacks %q", err, want)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%v: not %v", err, tc.is)
			}
		})
	}
	t.Run("library refuses the file", func(t *testing.T) {
		hfNode(t, p, HFNodeConfig{}) // skips when not installed
		_, err := LoadHFNode(bad, HFNodeConfig{})
		if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "backend hf-node: the Hugging Face library refused it") {
			t.Errorf("err = %v", err)
		}
	})
}

// A child that crashes or hangs in the middle of a run fails its own
// tokenizer with an error naming the file and backend; the other
// tokenizers' results are kept.
func TestHFNodeFailsMidRun(t *testing.T) {
	p := testdata(t, HFTokenizersModule, "test/data/bert-base-uncased.json")
	for name, tc := range map[string]struct {
		sig  syscall.Signal
		want string
	}{
		"crash": {syscall.SIGKILL, "node exited: signal: killed"},
		"hang":  {syscall.SIGSTOP, "no answer from node in 1s"},
	} {
		t.Run(name, func(t *testing.T) {
			h := hfNode(t, p, HFNodeConfig{})
			h.timeout = time.Second // after the load, which may take longer on a busy machine
			if err := h.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			rep, err := Run(context.Background(), SeedCorpus(4500), []Named{{"hf", h}, {"words", words("words")}}, Config{Iterations: 1})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "backend hf-node") {
				t.Errorf("err = %v, want %q naming %s and the backend", err, tc.want, p)
			}
			if rep == nil || len(rep.Results) != 1 || rep.Results[0].Model != "words" || len(rep.Failures) != 1 || rep.Failures[0].Model != "hf" {
				t.Fatalf("report %+v: want the other result kept and the failure listed", rep)
			}
			// Later calls give the same error at once.
			if _, err := h.Encode("x"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("after the failure: %v", err)
			}
		})
	}
}

// Run times hf-node passes inside the child and pairs the result with
// tr117's on the same file.
func TestHFNodeInRun(t *testing.T) {
	p := testdata(t, HFTokenizersModule, "test/data/bert-base-uncased.json")
	h := hfNode(t, p, HFNodeConfig{Threads: 2})
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
	if rep.Results[1].Tokens != 10000 || rep.Results[1].Info.Backend != BackendHFNode || len(rep.Results[1].PassesMs) != 2 {
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

// The install script and the cache directory the backend looks in name
// the same version.
func TestHFNodeVersionPinned(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "scripts", "install-hf-tokenizers.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "\nversion="+HFNodeVersion+"\n") {
		t.Errorf("scripts/install-hf-tokenizers.sh does not pin version=%s", HFNodeVersion)
	}
}
