package tokenizer

import (
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
	// A pass is timed in the child; two texts are one batch whose count is
	// the sum of theirs.
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 200)
	n1, d, err := h.EncodeTimed([]string{text})
	if err != nil || n1 != len(encode(t, llama3Exact(t), text)) || !(d > 0) {
		t.Errorf("one text: %d tokens in %v (%v)", n1, d, err)
	}
	a, b := text[:4500], text[4500:]
	if n2, _, err := h.EncodeTimed([]string{a, b}); err != nil || n2 != len(encode(t, h, a))+len(encode(t, h, b)) {
		t.Errorf("two texts: %d tokens, want %d + %d (%v)", n2, len(encode(t, h, a)), len(encode(t, h, b)), err)
	}
	if _, err := h.Encode("a\xffb"); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("invalid UTF-8: %v", err)
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

// A child that crashes or hangs after loading fails the tokenizer with an
// error naming the file and backend, and every later call fails the same
// way (tokbench's TestRunKeepsOthersWhenOneFails: the race goes on).
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
			_, _, err := h.EncodeTimed([]string{"The quick brown fox jumps over the lazy dog."})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "backend hf-node") {
				t.Errorf("err = %v, want %q naming %s and the backend", err, tc.want, p)
			}
			// Later calls give the same error at once.
			if _, err := h.Encode("x"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("after the failure: %v", err)
			}
		})
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
