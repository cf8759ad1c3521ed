package tokenizer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ollama/ollama/fs/ggml"
	"go.uber.org/goleak"
)

// sharedDir holds files that several tests build from the same fixture
// (see cachedGGUF); it lives as long as the test binary.
var sharedDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tokenizer-test-")
	if err != nil {
		panic(err)
	}
	sharedDir = dir
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
		os.Exit(code)
	}))
}

// moduleDir finds a module in the module cache the way the bench does
// (build information), falling back to `go list -m`; it skips the test only
// when the module is truly absent.
func moduleDir(t testing.TB, mod string) string {
	t.Helper()
	if d, err := ModuleDir(mod); err == nil {
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
	cache   = map[string]Tokenizer{}
)

// load loads a module-cache tokenizer once per test binary.
func load(t testing.TB, mod, rel, pre string) Tokenizer {
	t.Helper()
	p := testdata(t, mod, rel)
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if tok, ok := cache[p+pre]; ok {
		return tok
	}
	tok, err := LoadFile(p, LoadConfig{Pretokenizer: pre})
	if err != nil {
		t.Fatal(err)
	}
	cache[p+pre] = tok
	return tok
}

func llama3JSON(t testing.TB) Tokenizer {
	return load(t, HFTokenizersModule, "test/data/Meta-Llama-3-8B-Instruct.json", "")
}

func llama3Exact(t testing.TB) Tokenizer {
	t.Helper()
	p := testdata(t, HFTokenizersModule, "test/data/Meta-Llama-3-8B-Instruct.json")
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if tok, ok := cache[p+"exact"]; ok {
		return tok
	}
	tok, err := LoadFile(p, LoadConfig{Backend: BackendExact})
	if err != nil {
		t.Fatal(err)
	}
	cache[p+"exact"] = tok
	return tok
}

// llama3Encoder loads Ollama's llama3.2 encoder.json+vocab.bpe with the
// default LoadConfig: the pre-tokenizer comes from recognising the
// vocabulary, as a user who names only the file gets it.
func llama3Encoder(t testing.TB) Tokenizer {
	return load(t, OllamaModule, "tokenizer/testdata/llama3.2/encoder.json", "")
}

func gemma2(t testing.TB) Tokenizer {
	return load(t, OllamaModule, "tokenizer/testdata/gemma2/tokenizer.model", "")
}

func bert(t testing.TB) Tokenizer {
	return load(t, HFTokenizersModule, "test/data/bert-base-uncased.json", "")
}

func warAndPeace(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(testdata(t, OllamaModule, "tokenizer/testdata/war-and-peace.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func encode(t testing.TB, tok Tokenizer, s string) []int32 {
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

func TestLlama3MatchesHuggingFace(t *testing.T) {
	tok := llama3JSON(t)
	// Expected ids from daulet/tokenizers' own tests (Hugging Face's).
	want := []int32{0x10019, 0x9bff, 0x89ec, 0x39f, 0x117, 0x3eb5, 0x162f}
	if got := encode(t, tok, "brown fox jumps over the lazy dog"); !slices.Equal(got, want) {
		t.Errorf("ids = %v, want %v", got, want)
	}
	// A special token in the text is one id; no BOS is added.
	if got := encode(t, tok, "<|begin_of_text|>hello world"); !slices.Equal(got, []int32{128000, 15339, 1917}) {
		t.Errorf("special in text: %v", got)
	}
	if raceEnabled {
		t.Log("race detector: skipping the whole-novel count")
		return
	}
	if n := len(encode(t, tok, warAndPeace(t))); n != hfWarAndPeaceTokens {
		t.Errorf("war-and-peace: %d tokens, Hugging Face gives %d", n, hfWarAndPeaceTokens)
	}
}

func TestEncoderJSONMatchesTokenizerJSON(t *testing.T) {
	text := warAndPeace(t)
	text = text[:len(text)/8]
	a := encode(t, llama3JSON(t), text)
	b := encode(t, llama3Encoder(t), text)
	if !slices.Equal(a, b) {
		i := 0
		for i < min(len(a), len(b)) && a[i] == b[i] {
			i++
		}
		t.Fatalf("encoder.json+vocab.bpe and tokenizer.json differ at token %d (%d vs %d tokens)", i, len(b), len(a))
	}
}

// An encoder.json+vocab.bpe pair records no pre-tokenizer. Split with
// GPT-2's pattern the Llama 3 vocabulary gives 793,544 tokens for
// war-and-peace; the default load must recognise it and give Hugging
// Face's 760,377.
func TestEncoderJSONRecognisesLlama3(t *testing.T) {
	tok := llama3Encoder(t)
	if notes := tok.Info().Notes; !slices.ContainsFunc(notes, func(n string) bool { return strings.HasPrefix(n, "pre-tokenizer llama3 ") }) {
		t.Errorf("notes %q: want the llama3 pre-tokenizer, recognised", notes)
	}
	if raceEnabled {
		t.Log("race detector: skipping the whole-novel count (TestEncoderJSONMatchesTokenizerJSON compares ids on an eighth)")
		return
	}
	if n := len(encode(t, tok, warAndPeace(t))); n != hfWarAndPeaceTokens {
		t.Errorf("war-and-peace: %d tokens, Hugging Face gives %d", n, hfWarAndPeaceTokens)
	}
}

func TestGemma2SentencePiece(t *testing.T) {
	tok := gemma2(t)
	if got := encode(t, tok, "<bos>"); !slices.Equal(got, []int32{2}) {
		t.Errorf("<bos> = %v, want [2]", got)
	}
	if got := encode(t, tok, "<eos>"); !slices.Equal(got, []int32{1}) {
		t.Errorf("<eos> = %v, want [1]", got)
	}
	o := tok.(*ollamaTok)
	for _, s := range []string{"hello world", " hello  ", "请考试我的软件！12345", "Hello 你好 world!", "\x01 control"} {
		ids := encode(t, tok, s)
		got, err := o.tok.Decode(ids)
		if err != nil {
			t.Fatal(err)
		}
		if got != s {
			t.Errorf("roundtrip %q → %v → %q", s, ids, got)
		}
	}
}

func TestBertWordPiece(t *testing.T) {
	tok := bert(t)
	for _, tc := range []struct {
		text string
		want []int32
	}{
		// From daulet/tokenizers' tests (Hugging Face's ids).
		{"brown fox jumps over the lazy dog", []int32{2829, 4419, 14523, 2058, 1996, 13971, 3899}},
		{"this short sentence", []int32{0x7e7, 0x99c, 0x186b}},
		{"", nil},
		// Added tokens split out of the raw text.
		{"[CLS]brown[SEP]", []int32{101, 2829, 102}},
		// Accents stripped and lowercased; ASCII symbols are punctuation.
		{"Brown Fóx", []int32{2829, 4419}},
		{"a+b", []int32{1037, 1009, 1038}},
		// A word over max_input_chars_per_word is [UNK].
		{strings.Repeat("a", 101), []int32{100}},
	} {
		if got := encode(t, tok, tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("%q = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestInvalidUTF8(t *testing.T) {
	if _, err := llama3JSON(t).Encode("a\xffb"); err == nil {
		t.Error("invalid UTF-8 encoded without error")
	}
}

func TestConcurrentEncode(t *testing.T) {
	tok := llama3JSON(t)
	text := "The quick brown fox jumps over the lazy dog. " + strings.Repeat("Pierre ", 50)
	want := encode(t, tok, text)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for range 5 {
				got, err := tok.Encode(text)
				if err != nil || !slices.Equal(got, want) {
					errs <- errors.New("concurrent encode differs")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestLoadFallbacksListWhereTheyLooked(t *testing.T) {
	dir := t.TempDir()
	cfg := LoadConfig{Store: StoreConfig{Dir: dir}, Hub: HubConfig{CacheDir: filepath.Join(dir, "dl"), HFCacheDir: filepath.Join(dir, "hf")}}
	_, tried, err := Load(context.Background(), cfg, "nosuch:latest", "org/nosuch", filepath.Join(dir, "missing.json"))
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want *LoadError", err)
	}
	if !errors.Is(err, ErrDownloadDisabled) {
		t.Errorf("error does not say downloads are off: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"manifests", "models--org--nosuch", "missing.json", "HubConfig.AllowDownload"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	if len(tried) < 3 {
		t.Errorf("only %d attempts", len(tried))
	}

	// A fallback that exists is used after the ones that do not.
	p := testdata(t, HFTokenizersModule, "test/data/bert-base-uncased.json")
	tok, tried, err := Load(context.Background(), cfg, "nosuch:latest", p)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Info().Source != p || tried[len(tried)-1].Err != nil {
		t.Errorf("loaded %+v after %v", tok.Info(), tried)
	}
}

func TestLoadDirectoryFallsBackToTokenizerModel(t *testing.T) {
	// A Hugging Face snapshot of Gemma holds a byte-fallback BPE
	// tokenizer.json (unsupported) and a tokenizer.model (supported).
	dir := t.TempDir()
	tj := `{"added_tokens":[],"normalizer":null,"pre_tokenizer":null,"model":{"type":"BPE","byte_fallback":true,"vocab":{"a":0},"merges":[]}}`
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(tj), 0o644); err != nil {
		t.Fatal(err)
	}
	model, err := os.ReadFile(testdata(t, OllamaModule, "tokenizer/testdata/gemma2/tokenizer.model"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.model"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	tok, tried, err := Load(context.Background(), LoadConfig{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Info().Model != "sentencepiece" || len(tried) != 2 || !errors.Is(tried[0].Err, ErrUnsupported) {
		t.Errorf("got %+v after %v", tok.Info(), tried)
	}
}

func TestHuggingFaceBackendAbsent(t *testing.T) {
	_, err := LoadHuggingFace("x.json")
	if hfBuilt {
		t.Skip("built with hftokenizers")
	}
	if !errors.Is(err, ErrNoHuggingFace) || !strings.Contains(err.Error(), "built without hftokenizers") {
		t.Errorf("err = %v", err)
	}
}

// The Hugging Face backend reads tokenizer.json only; asked for another
// format it refuses instead of quietly encoding with Ollama's code.
func TestHuggingFaceBackendOnlyForTokenizerJSON(t *testing.T) {
	gguf := filepath.Join(t.TempDir(), "gemma2.gguf")
	writeGGUF(t, gguf, ggml.KV{"general.architecture": "llama", "tokenizer.ggml.model": "bert", "tokenizer.ggml.tokens": []string{"[UNK]", "▁a"}})
	for _, p := range []string{
		testdata(t, OllamaModule, "tokenizer/testdata/gemma2/tokenizer.model"),
		testdata(t, OllamaModule, "tokenizer/testdata/llama3.2/encoder.json"),
		gguf,
	} {
		tok, err := LoadFile(p, LoadConfig{Backend: BackendHuggingFace})
		if err == nil || !strings.Contains(err.Error(), "reads only tokenizer.json") {
			t.Errorf("%s: %v, %v; want a refusal", filepath.Base(p), tok, err)
		}
		if _, err := LoadFile(p, LoadConfig{}); err != nil {
			t.Errorf("%s with the default backend: %v", filepath.Base(p), err)
		}
	}
}

// A fixture says so in its Info (tokbench.LoadFixtures loads each with Load; the
// smallest one keeps the test quick).
func TestFixtureLoadIsMarked(t *testing.T) {
	fx := Fixtures()
	i := slices.IndexFunc(fx, func(f Fixture) bool { return f.Name == "bert-base-uncased" })
	moduleDir(t, fx[i].Module)
	tok, err := fx[i].Load()
	if err != nil {
		t.Fatal(err)
	}
	if info := tok.Info(); !info.Fixture || info.Model != "wordpiece" {
		t.Errorf("Info() = %+v, want a wordpiece marked Fixture", info)
	}
	if err := Close(tok); err != nil {
		t.Error(err)
	}
}

func TestFixtures(t *testing.T) {
	for _, f := range Fixtures() {
		moduleDir(t, f.Module)
		p, err := f.FixturePath()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if !bytes.Contains([]byte(p), []byte(filepath.FromSlash(f.Path))) {
			t.Errorf("%s: path %s", f.Name, p)
		}
	}
	if _, err := WarAndPeace(); err != nil {
		t.Error(err)
	}
}

// Issue 12: a LoadError's short form is one line a report can print
// inline, however many places were looked at; the full list stays in Error.
func TestLoadErrorShort(t *testing.T) {
	var tried []Attempt
	for i := range 15 {
		tried = append(tried, Attempt{Source: "gemma3:latest", Where: strings.Repeat("/some/long/path", 5) + strconv.Itoa(i), Err: fmt.Errorf("open: %w", fs.ErrNotExist)})
	}
	tried = append(tried, Attempt{Source: "http://h:1/gemma3:latest", Where: "POST http://h:1/api/show gemma3:latest", Err: errors.New(strings.Repeat("server said no ", 40) + "\nsecond line")})
	e := &LoadError{Sources: []string{"gemma3:latest", "http://h:1/gemma3:latest"}, Attempts: tried}
	long, short := e.Error(), e.Short()
	if len(long) < 1000 {
		t.Fatalf("the full error is only %d characters", len(long))
	}
	if n := len([]rune(short)); n > 260 || strings.Contains(short, "\n") {
		t.Errorf("short form: %d runes, newline %v: %q", n, strings.Contains(short, "\n"), short)
	}
	for _, want := range []string{"no tokenizer found for gemma3:latest,", "16 places looked at, 15 hold nothing", "1 failed, first: POST http://h:1/api/show", "…"} {
		if !strings.Contains(short, want) {
			t.Errorf("short form lacks %q: %q", want, short)
		}
	}
}
