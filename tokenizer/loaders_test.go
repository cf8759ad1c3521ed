package tokenizer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ollama/ollama/fs/ggml"
)

// writeGGUF writes a tensor-less GGUF holding kv.
func writeGGUF(t *testing.T, path string, kv ggml.KV) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := ggml.WriteGGUF(f, kv, nil); err != nil {
		t.Fatal(err)
	}
}

// cachedGGUF writes the GGUF kv returns once per test binary (the Llama 3
// vocabulary takes seconds: WriteGGUF writes each string on its own) and
// returns its path, which tests must not change.
func cachedGGUF(t *testing.T, name string, kv func(*testing.T) ggml.KV) string {
	t.Helper()
	ggufMu.Lock()
	defer ggufMu.Unlock()
	p := filepath.Join(sharedDir, name+".gguf")
	if _, err := os.Stat(p); err != nil {
		writeGGUF(t, p, kv(t))
	}
	return p
}

var ggufMu sync.Mutex // held while cachedGGUF writes

func llama3BPEKV(t *testing.T) ggml.KV { return llama3KV(t, "llama-bpe") }

func gemma2KV(t *testing.T) ggml.KV {
	v := gemma2(t).(*ollamaTok).tok.Vocabulary()
	return ggml.KV{
		"general.architecture":      "gemma2",
		"tokenizer.ggml.model":      "llama",
		"tokenizer.ggml.tokens":     v.Values,
		"tokenizer.ggml.scores":     v.Scores,
		"tokenizer.ggml.token_type": v.Types,
	}
}

func llama3KV(t *testing.T, pre string) ggml.KV {
	v := llama3JSON(t).(*ollamaTok).tok.Vocabulary()
	return ggml.KV{
		"general.architecture":      "llama",
		"tokenizer.ggml.model":      "gpt2",
		"tokenizer.ggml.pre":        pre,
		"tokenizer.ggml.tokens":     v.Values,
		"tokenizer.ggml.token_type": v.Types,
		"tokenizer.ggml.merges":     v.Merges,
	}
}

func TestGGUFMatchesSourceFiles(t *testing.T) {
	text := warAndPeace(t)[:20000]
	for _, tc := range []struct {
		name string
		kv   func(*testing.T) ggml.KV
		ref  Tokenizer
		text string
	}{
		{"gemma2-spm", gemma2KV, gemma2(t), text},
		{"llama3-bpe", llama3BPEKV, llama3JSON(t), text},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := cachedGGUF(t, tc.name, tc.kv)
			tok, err := LoadFile(p, LoadConfig{})
			if err != nil {
				t.Fatal(err)
			}
			if tok.Info().Format != "gguf" {
				t.Errorf("info %+v", tok.Info())
			}
			if got, want := encode(t, tok, tc.text), encode(t, tc.ref, tc.text); !slices.Equal(got, want) {
				t.Errorf("GGUF gives %d ids, source file %d", len(got), len(want))
			}
		})
	}
}

func TestGGUFUnsupported(t *testing.T) {
	dir := t.TempDir()
	for name, kv := range map[string]ggml.KV{
		"unknown-pre":   llama3KV(t, "made-up"),
		"unknown-model": {"general.architecture": "x", "tokenizer.ggml.model": "rwkv", "tokenizer.ggml.tokens": []string{"a"}},
	} {
		if name == "unknown-pre" {
			kv["general.architecture"] = "olmo"
		}
		p := filepath.Join(dir, name+".gguf")
		writeGGUF(t, p, kv)
		if _, err := LoadGGUF(p); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: err = %v, want ErrUnsupported", name, err)
		}
	}
	p := filepath.Join(dir, "notokens.gguf")
	writeGGUF(t, p, ggml.KV{"general.architecture": "llama"})
	if _, err := LoadGGUF(p); err == nil || !strings.Contains(err.Error(), "tokenizer.ggml.tokens") {
		t.Errorf("no tokens: err = %v", err)
	}
}

// writeStore lays out an Ollama model store holding one model whose model
// layer is blob.
func writeStore(t *testing.T, root, host, ns, model, tag string, blob []byte) string {
	t.Helper()
	sum := sha256.Sum256(blob)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	mdir := filepath.Join(root, "manifests", host, ns, model)
	if err := os.MkdirAll(mdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "blobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	bpath := filepath.Join(root, "blobs", "sha256-"+hex.EncodeToString(sum[:]))
	if err := os.WriteFile(bpath, blob, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:%s","size":2},
"layers":[{"mediaType":"application/vnd.ollama.image.template","digest":"sha256:%s","size":3},
{"mediaType":"application/vnd.ollama.image.model","digest":%q,"size":%d}]}`,
		strings.Repeat("1", 64), strings.Repeat("2", 64), digest, len(blob))
	if err := os.WriteFile(filepath.Join(mdir, tag), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	return bpath
}

func TestOllamaStore(t *testing.T) {
	root := t.TempDir()
	g := filepath.Join(t.TempDir(), "g.gguf")
	writeGGUF(t, g, gemma2KV(t))
	blob, err := os.ReadFile(g)
	if err != nil {
		t.Fatal(err)
	}
	bpath := writeStore(t, root, "registry.ollama.ai", "library", "gemma2", "2b", blob)
	cfg := LoadConfig{Store: StoreConfig{Dir: root}}

	got, err := ResolveModel("gemma2:2b", cfg.Store)
	if err != nil || got != bpath {
		t.Fatalf("ResolveModel = %q, %v; want %q", got, err, bpath)
	}
	tok, tried, err := Load(context.Background(), cfg, "gemma2:latest", "gemma2:2b")
	if err != nil {
		t.Fatal(err)
	}
	if len(tried) != 2 || tried[0].Err == nil || !strings.Contains(tok.Info().Source, "ollama:gemma2:2b") {
		t.Errorf("info %+v after %v", tok.Info(), tried)
	}
	if ids := encode(t, tok, "<bos>"); !slices.Equal(ids, []int32{2}) {
		t.Errorf("<bos> = %v", ids)
	}
	// OLLAMA_MODELS is the default store.
	t.Setenv("OLLAMA_MODELS", root)
	if _, err := LoadOllamaModel("registry.ollama.ai/library/gemma2:2b", StoreConfig{}); err != nil {
		t.Error(err)
	}
	// A model layer whose blob is missing.
	writeStore(t, root, "registry.ollama.ai", "library", "gone", "latest", []byte("x"))
	if err := os.Remove(filepath.Join(root, "blobs", "sha256-"+sha256hex("x"))); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOllamaModel("gone", StoreConfig{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing blob: %v", err)
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestParseModelName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"gemma3", "registry.ollama.ai/library/gemma3:latest", true},
		{"gemma3:latest", "registry.ollama.ai/library/gemma3:latest", true},
		{"qwen2.5:7b", "registry.ollama.ai/library/qwen2.5:7b", true},
		{"me/model:q4", "registry.ollama.ai/me/model:q4", true},
		{"example.com:5000/ns/m:t", "", false}, // ':' in the host is not a path Ollama's store uses here
		{"h.io/ns/m:t", "h.io/ns/m:t", true},
		{"../../etc/passwd", "", false},
		{"a/../b", "", false},
		{"", "", false},
		{"a/b/c/d", "", false},
		{"m:", "", false},
	} {
		n, err := ParseModelName(tc.in)
		if (err == nil) != tc.ok || tc.ok && n.String() != tc.want {
			t.Errorf("ParseModelName(%q) = %v, %v; want %q ok=%v", tc.in, n, err, tc.want, tc.ok)
		}
	}
}

func TestParseManifest(t *testing.T) {
	good := `{"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:` + strings.Repeat("a", 64) + `"}]}`
	if d, err := parseManifest([]byte(good)); err != nil || d != "sha256:"+strings.Repeat("a", 64) {
		t.Errorf("good: %q, %v", d, err)
	}
	for _, bad := range []string{
		`{"layers":[]}`,
		`{"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:../../x"}]}`,
		`{"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"md5:abc"}]}`,
		`not json`,
	} {
		if _, err := parseManifest([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestTokenizerJSONUnsupported(t *testing.T) {
	base := func(model, norm, pre string) string {
		return `{"added_tokens":[],"normalizer":` + norm + `,"pre_tokenizer":` + pre + `,"model":` + model + `}`
	}
	bpe := `{"type":"BPE","vocab":{"a":0},"merges":[]}`
	bl := `{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}`
	for name, doc := range map[string]string{
		"unigram":          base(`{"type":"Unigram","vocab":[["a",0]],"unk_id":0}`, "null", "null"),
		"wordlevel":        base(`{"type":"WordLevel","vocab":{"a":0},"unk_token":"a"}`, "null", "null"),
		"byte-fallback":    base(`{"type":"BPE","byte_fallback":true,"vocab":{"a":0},"merges":[]}`, "null", bl),
		"dropout":          base(`{"type":"BPE","dropout":0.1,"vocab":{"a":0},"merges":[]}`, "null", bl),
		"normalizer":       base(bpe, `{"type":"Lowercase"}`, bl),
		"metaspace":        base(bpe, "null", `{"type":"Metaspace","replacement":"▁"}`),
		"no-pretokenizer":  base(bpe, "null", "null"),
		"prefix-space":     base(bpe, "null", `{"type":"ByteLevel","add_prefix_space":true}`),
		"digits":           base(bpe, "null", `{"type":"Sequence","pretokenizers":[{"type":"Digits"},`+bl+`]}`),
		"split-removed":    base(bpe, "null", `{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"a"},"behavior":"Removed","invert":false},`+bl+`]}`),
		"split-gaps":       base(`{"type":"BPE","vocab":`+byteVocab()+`,"merges":[]}`, "null", `{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\p{N}"},"behavior":"Isolated","invert":false},`+bl+`]}`),
		"missing-bytes":    base(bpe, "null", bl),
		"wp-no-normalizer": base(`{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","vocab":{"[UNK]":0}}`, "null", `{"type":"BertPreTokenizer"}`),
		"wp-other-unk":     base(`{"type":"WordPiece","unk_token":"<unk>","continuing_subword_prefix":"##","vocab":{"<unk>":0}}`, `{"type":"BertNormalizer"}`, `{"type":"BertPreTokenizer"}`),
		"lstrip":           `{"added_tokens":[{"id":0,"content":"a","lstrip":true}],"model":` + bpe + `}`,
	} {
		_, err := ParseTokenizerJSON([]byte(doc), name)
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: err = %v, want ErrUnsupported", name, err)
		}
	}
}

// byteVocab is a byte-level vocabulary of the 256 byte symbols plus extra.
func byteVocab(extra ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	id := 0
	for c := 0; c < 256; c++ {
		fmt.Fprintf(&b, "%q:%d,", string(byteRune(byte(c))), id)
		id++
	}
	for _, e := range extra {
		fmt.Fprintf(&b, "%q:%d,", e, id)
		id++
	}
	s := strings.TrimSuffix(b.String(), ",")
	return s + "}"
}

// gpt2Vocab is an encoder.json shaped like GPT-2's: the 256 byte symbols
// in GPT-2's order ("!" first), fillers to id 50255 and "<|endoftext|>"
// at 50256.
func gpt2Vocab() string {
	var order []int
	for c := 0; c < 256; c++ {
		if c >= '!' && c <= '~' || c >= 0xa1 && c <= 0xac || c >= 0xae {
			order = append(order, c)
		}
	}
	for c := 0; c < 256; c++ {
		if !(c >= '!' && c <= '~' || c >= 0xa1 && c <= 0xac || c >= 0xae) {
			order = append(order, c)
		}
	}
	var b strings.Builder
	b.WriteByte('{')
	for id, c := range order {
		fmt.Fprintf(&b, "%q:%d,", string(byteRune(byte(c))), id)
	}
	for id := 256; id < 50256; id++ {
		fmt.Fprintf(&b, "\"f%d\":%d,", id, id)
	}
	b.WriteString(`"<|endoftext|>":50256}`)
	return b.String()
}

// writeEncoderJSON writes encoder.json and vocab.bpe into a new directory
// and returns the encoder.json path.
func writeEncoderJSON(t *testing.T, vocab string, merges ...string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "encoder.json")
	if err := os.WriteFile(p, []byte(vocab), 0o644); err != nil {
		t.Fatal(err)
	}
	bpe := "#version: 0.2\n" + strings.Join(merges, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "vocab.bpe"), []byte(bpe), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// encoder.json+vocab.bpe records no pre-tokenizer: the loader uses the one
// of a vocabulary it recognises, and refuses to guess for any other.
func TestEncoderJSONPretokenizer(t *testing.T) {
	hasNote := func(tok Tokenizer, prefix string) bool {
		return slices.ContainsFunc(tok.Info().Notes, func(n string) bool { return strings.HasPrefix(n, prefix) })
	}
	unknown := writeEncoderJSON(t, byteVocab("Ġt"), "Ġ t")
	_, err := LoadFile(unknown, LoadConfig{})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "LoadConfig.Pretokenizer") {
		t.Errorf("unrecognised vocabulary, no pre-tokenizer: err = %v; want ErrUnsupported naming LoadConfig.Pretokenizer", err)
	}
	if _, err := LoadEncoderJSON(unknown, filepath.Join(filepath.Dir(unknown), "vocab.bpe"), ""); !errors.Is(err, ErrUnsupported) {
		t.Errorf("LoadEncoderJSON with no pattern: err = %v; want ErrUnsupported", err)
	}
	tok, err := LoadFile(unknown, LoadConfig{Pretokenizer: "gpt2"})
	if err != nil {
		t.Fatalf("unrecognised vocabulary, pre-tokenizer named: %v", err)
	}
	if !hasNote(tok, "pre-tokenizer gpt2 (as configured") {
		t.Errorf("notes %q", tok.Info().Notes)
	}

	gpt2 := writeEncoderJSON(t, gpt2Vocab(), "Ġ t")
	tok, err = LoadFile(gpt2, LoadConfig{})
	if err != nil {
		t.Fatalf("GPT-2 vocabulary: %v", err)
	}
	if !hasNote(tok, "pre-tokenizer gpt2 (recognised") {
		t.Errorf("GPT-2 vocabulary: notes %q", tok.Info().Notes)
	}
	// A pattern that contradicts the recognised vocabulary is the caller's
	// choice, and the notes say so.
	tok, err = LoadFile(gpt2, LoadConfig{Pretokenizer: "llama3"})
	if err != nil {
		t.Fatal(err)
	}
	if !hasNote(tok, "pre-tokenizer llama3 (as configured") || !hasNote(tok, "the vocabulary is GPT-2's") {
		t.Errorf("GPT-2 vocabulary split as llama3: notes %q", tok.Info().Notes)
	}
}

func TestExactBackendSplitWithGaps(t *testing.T) {
	// Digits split one by one, then GPT-2's pattern: the first split leaves
	// gaps, which only the exact backend handles.
	doc := `{"added_tokens":[],"normalizer":null,"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\p{N}"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}]},
"model":{"type":"BPE","vocab":` + byteVocab("12") + `,"merges":["1 2"]}}`
	dir := t.TempDir()
	p := filepath.Join(dir, "tokenizer.json")
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(p, LoadConfig{}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("ollama backend: %v", err)
	}
	tok, err := LoadFile(p, LoadConfig{Backend: BackendExact})
	if err != nil {
		t.Fatal(err)
	}
	// "a12b": digits isolated so "12" never merges; "a", "1", "2", "b".
	want := []int32{'a', '1', '2', 'b'}
	for i := range want {
		want[i] = int32(slices.Index(byteSymbols(), string(byteRune(byte(want[i])))))
	}
	if got := encode(t, tok, "a12b"); !slices.Equal(got, want) {
		t.Errorf("a12b = %v, want %v", got, want)
	}
	if _, err := LoadFile(p, LoadConfig{Backend: "nope"}); err == nil {
		t.Error("unknown backend accepted")
	}
}

func byteSymbols() []string {
	var s []string
	for c := 0; c < 256; c++ {
		s = append(s, string(byteRune(byte(c))))
	}
	return s
}

func TestIgnoreMergesCheck(t *testing.T) {
	doc := func(merges string, extra ...string) []byte {
		return []byte(`{"added_tokens":[],"normalizer":null,"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
"model":{"type":"BPE","vocab":` + byteVocab(extra...) + `,"merges":` + merges + `}}`)
	}
	// "abc" is reachable: a b → ab, ab c → abc.
	tok, err := ParseTokenizerJSON(doc(`["a b","ab c"]`, "ab", "abc"), "ok")
	if err != nil {
		t.Fatal(err)
	}
	if ids := encode(t, tok, "abc"); !slices.Equal(ids, []int32{257}) {
		t.Errorf("abc = %v", ids)
	}
	// Merge ranks in the newer [["a","b"]] form.
	if _, err := ParseTokenizerJSON(doc(`[["a","b"],["ab","c"]]`, "ab", "abc"), "pairs"); err != nil {
		t.Error(err)
	}
	// "abc" is in the vocabulary but merges give "a" "bc": Hugging Face
	// (ignore_merges false) gives two ids, Ollama's shortcut one.
	_, err = ParseTokenizerJSON(doc(`["b c","a b"]`, "bc", "ab", "abc"), "bad")
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `"abc"`) {
		t.Errorf("err = %v, want ErrUnsupported naming abc", err)
	}
}

func TestNFCNormalizer(t *testing.T) {
	doc := `{"added_tokens":[],"normalizer":{"type":"NFC"},"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
"model":{"type":"BPE","vocab":` + byteVocab("Ã©") + `,"merges":["Ã ©"]}}`
	tok, err := ParseTokenizerJSON([]byte(doc), "nfc")
	if err != nil {
		t.Fatal(err)
	}
	// "e" + combining acute composes to U+00E9 (bytes C3 A9, merged to
	// one id) before the byte-level mapping; without NFC it is three ids.
	if ids := encode(t, tok, "e\u0301"); !slices.Equal(ids, []int32{256}) {
		t.Errorf("NFC not applied: %v", ids)
	}
}

func TestHubDownload(t *testing.T) {
	body, err := os.ReadFile(testdata(t, HFTokenizersModule, "test/data/bert-base-uncased.json"))
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch {
		case r.URL.Path == "/gated/model/resolve/main/tokenizer.json" && r.Header.Get("Authorization") != "Bearer secret":
			http.Error(w, "no", http.StatusUnauthorized)
		case r.URL.Path == "/org/bert/resolve/main/tokenizer.json", r.URL.Path == "/gated/model/resolve/main/tokenizer.json":
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	hub := HubConfig{BaseURL: srv.URL, CacheDir: filepath.Join(dir, "dl"), HFCacheDir: filepath.Join(dir, "hf"), Token: "-"}
	ctx := context.Background()

	// Off by default: no request.
	if _, err := FetchTokenizerJSON(ctx, "org/bert", hub); !errors.Is(err, ErrDownloadDisabled) {
		t.Errorf("err = %v", err)
	}
	if hits.Load() != 0 {
		t.Fatal("request made with downloads off")
	}
	hub.AllowDownload = true
	tok, _, err := Load(ctx, LoadConfig{Hub: hub}, "hf:org/bert")
	if err != nil {
		t.Fatal(err)
	}
	if ids := encode(t, tok, "brown fox"); !slices.Equal(ids, []int32{2829, 4419}) {
		t.Errorf("ids %v", ids)
	}
	if !strings.HasPrefix(tok.Info().Source, "hf:org/bert (") {
		t.Errorf("source %q", tok.Info().Source)
	}
	// The second load comes from the cache.
	before := hits.Load()
	if _, _, err := Load(ctx, LoadConfig{Hub: hub}, "org/bert"); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != before {
		t.Error("cached tokenizer fetched again")
	}
	// Errors say what went wrong; the token is sent.
	if _, err := FetchTokenizerJSON(ctx, "org/none", hub); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	if _, err := FetchTokenizerJSON(ctx, "gated/model", hub); err == nil || !strings.Contains(err.Error(), "HF_TOKEN") {
		t.Errorf("401: %v", err)
	}
	hub.Token = "secret"
	if _, err := FetchTokenizerJSON(ctx, "gated/model", hub); err != nil {
		t.Errorf("with token: %v", err)
	}
	if _, err := FetchTokenizerJSON(ctx, "../etc", hub); !errors.Is(err, ErrNotRepoID) {
		t.Errorf("bad repo: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := FetchTokenizerJSON(cctx, "org/other", hub); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestHuggingFaceCacheSnapshot(t *testing.T) {
	hf := t.TempDir()
	snap := filepath.Join(hf, "models--org--bert", "snapshots", "abc123")
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(hf, "models--org--bert", "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hf, "models--org--bert", "refs", "main"), []byte("abc123\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(testdata(t, HFTokenizersModule, "test/data/bert-base-uncased.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(snap, "tokenizer.json"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HF_HUB_CACHE", hf)
	tok, _, err := Load(context.Background(), LoadConfig{Hub: HubConfig{CacheDir: t.TempDir()}}, "org/bert")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Info().Source != filepath.Join(snap, "tokenizer.json") {
		t.Errorf("source %q", tok.Info().Source)
	}
}
