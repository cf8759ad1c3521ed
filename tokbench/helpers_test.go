package tokbench

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"tr117/tokenizer"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// moduleDir finds a module in the module cache the way the loaders do
// (build information), falling back to `go list -m`; it skips the test only
// when the module is truly absent.
func moduleDir(t testing.TB, mod string) string {
	t.Helper()
	if d, err := tokenizer.ModuleDir(mod); err == nil {
		return d
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	if d := strings.TrimSpace(string(out)); err == nil && d != "" {
		return d
	}
	t.Skipf("module %s is not in the module cache (go mod download %s)", mod, mod)
	return ""
}

func testdata(t testing.TB, mod, rel string) string {
	t.Helper()
	p := filepath.Join(moduleDir(t, mod), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("module %s present but %s missing: %v", mod, rel, err)
	}
	return p
}

var (
	cacheMu sync.Mutex
	cache   = map[string]tokenizer.Tokenizer{}
)

// load loads a module-cache tokenizer once per test binary.
func load(t testing.TB, mod, rel string, cfg tokenizer.LoadConfig) tokenizer.Tokenizer {
	t.Helper()
	p := testdata(t, mod, rel)
	key := p + "|" + cfg.Backend + "|" + cfg.Pretokenizer
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if tok, ok := cache[key]; ok {
		return tok
	}
	tok, err := tokenizer.LoadFile(p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cache[key] = tok
	return tok
}

const llama3Path = "test/data/Meta-Llama-3-8B-Instruct.json"

func llama3JSON(t testing.TB) tokenizer.Tokenizer {
	return load(t, tokenizer.HFTokenizersModule, llama3Path, tokenizer.LoadConfig{})
}

func llama3Exact(t testing.TB) tokenizer.Tokenizer {
	return load(t, tokenizer.HFTokenizersModule, llama3Path, tokenizer.LoadConfig{Backend: tokenizer.BackendExact})
}

func llama3Encoder(t testing.TB) tokenizer.Tokenizer {
	return load(t, tokenizer.OllamaModule, "tokenizer/testdata/llama3.2/encoder.json", tokenizer.LoadConfig{})
}

func gemma2(t testing.TB) tokenizer.Tokenizer {
	return load(t, tokenizer.OllamaModule, "tokenizer/testdata/gemma2/tokenizer.model", tokenizer.LoadConfig{})
}

func bert(t testing.TB) tokenizer.Tokenizer {
	return load(t, tokenizer.HFTokenizersModule, "test/data/bert-base-uncased.json", tokenizer.LoadConfig{})
}

func warAndPeace(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(testdata(t, tokenizer.OllamaModule, "tokenizer/testdata/war-and-peace.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func encode(t testing.TB, tok tokenizer.Tokenizer, s string) []int32 {
	t.Helper()
	ids, err := tok.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// Hugging Face's count for Meta-Llama-3-8B-Instruct.json on
// war-and-peace.txt without special tokens.
const hfWarAndPeaceTokens = 760377

// requireHFNode is whether a missing hf-node backend fails the test
// instead of skipping it: in CI, or with TR117_REQUIRE_HF_NODE set.
func requireHFNode() bool {
	return os.Getenv("CI") != "" || os.Getenv("TR117_REQUIRE_HF_NODE") != ""
}

// hfNode loads path with Hugging Face's library in a child node process,
// skipping the test (failing it in CI) when node or the npm package is not
// installed. The child is closed when the test ends.
func hfNode(t testing.TB, path string, cfg tokenizer.HFNodeConfig) tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.LoadHFNode(path, cfg)
	if errors.Is(err, tokenizer.ErrNoHFNode) {
		if requireHFNode() {
			t.Fatalf("%v (CI / TR117_REQUIRE_HF_NODE set)", err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tokenizer.Close(tok) })
	return tok
}

// The bench in two shards counts what one call counts: Hugging Face's
// number for the whole novel.
func TestShardsCountLikeOneCall(t *testing.T) {
	if raceEnabled {
		t.Skip("race detector: the whole novel is too slow")
	}
	rep, err := Run(t.Context(), warAndPeace(t), []Named{{"llama3", llama3JSON(t)}}, Config{Iterations: 1, Parallel: 2, NoWarmUp: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := rep.Results[0].Tokens; n != hfWarAndPeaceTokens {
		t.Errorf("war-and-peace in 2 shards: %d tokens, Hugging Face gives %d", n, hfWarAndPeaceTokens)
	}
}
