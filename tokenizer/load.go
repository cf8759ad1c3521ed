package tokenizer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	ollamatok "github.com/ollama/ollama/tokenizer"
)

// LoadConfig configures Load. The zero value looks in the default local
// places and never downloads.
type LoadConfig struct {
	// Store is the local Ollama model store.
	Store StoreConfig `json:"store"`
	// Hub is the Hugging Face cache and (opt-in) download.
	Hub HubConfig `json:"hub"`
	// Pretokenizer is the split pattern for encoder.json+vocab.bpe pairs,
	// which do not record one: "gpt2", "llama3", "qwen2", or a regular
	// expression. Default: the pattern of a vocabulary this package recognises
	// (GPT-2's, Llama 3's; see LoadEncoderJSON); any other pair is refused
	// with ErrUnsupported rather than split with a guess.
	Pretokenizer string `json:"pretokenizer,omitempty"`
	// Server is how http:// sources ask a running Ollama server.
	Server ServerConfig `json:"server"`
	// Backend encodes: BackendOllama (default: Ollama's own pure-Go
	// tokenizers), BackendExact (BPE with Hugging Face's merge order;
	// WordPiece and SentencePiece stay Ollama's), BackendHFNode
	// (tokenizer.json through Hugging Face's library in a child node
	// process) or BackendHuggingFace (tokenizer.json through the Rust
	// library; build tag hftokenizers).
	Backend string `json:"backend,omitempty"`
	// HFNode configures BackendHFNode.
	HFNode HFNodeConfig `json:"hf_node,omitempty"`
}

func (c LoadConfig) pretokenizer() string {
	switch c.Pretokenizer {
	case "gpt2":
		return preGPT2
	case "llama3":
		return preLlama3
	case "qwen2":
		return preQwen2
	}
	return c.Pretokenizer
}

// LoadEncoderJSON reads a GPT-2 style encoder.json (token → id) and
// vocab.bpe (merges, one "a b" per line, "#" lines skipped) onto Ollama's
// BPE, splitting with the regular expression pre.
//
// The pair does not record its split pattern, and the wrong one silently
// changes the ids (the Llama 3 vocabulary split with GPT-2's pattern gives
// 793,544 tokens for war-and-peace instead of 760,377). With pre empty the
// vocabulary must be one this package recognises: GPT-2's (50,257 tokens,
// "<|endoftext|>" last, first merge "Ġ t"; split with preGPT2) or Llama 3's
// (its 128,000 regular tokens, identified by their SHA-256, with at most
// 256 "<|…|>" tokens after them; preLlama3). Any other vocabulary with pre
// empty is an ErrUnsupported error asking for the pattern.
func LoadEncoderJSON(encoderPath, vocabPath, pre string) (Tokenizer, error) {
	return loadEncoderJSON(encoderPath, vocabPath, pre, BackendOllama)
}

func loadEncoderJSON(encoderPath, vocabPath, pre, backend string) (Tokenizer, error) {
	enc, err := os.ReadFile(encoderPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	vb, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return parseEncoderJSON(enc, vb, encoderPath, vocabPath, pre, backend)
}

// parseEncoderJSON is LoadEncoderJSON on the files' contents; the paths
// name them in errors and Info.
func parseEncoderJSON(enc, vb []byte, encoderPath, vocabPath, pre, backend string) (Tokenizer, error) {
	var vocab map[string]int
	if err := json.Unmarshal(enc, &vocab); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", encoderPath, err)
	}
	f := hfJSON{Model: hfModel{}}
	f.Model.Vocab, _ = json.Marshal(vocab)
	values, types, err := vocabTable(&f, encoderPath)
	if err != nil {
		return nil, err
	}
	var merges []string
	sc := bufio.NewScanner(bytes.NewReader(vb))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		t := sc.Text()
		if strings.HasPrefix(t, "#") || t == "" {
			continue
		}
		if strings.Count(t, " ") != 1 {
			return nil, fmt.Errorf("tokenizer: %s:%d: merge %q is not two tokens separated by one space", vocabPath, line, t)
		}
		merges = append(merges, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", vocabPath, err)
	}
	source := encoderPath + "+" + filepath.Base(vocabPath)
	v := &ollamatok.Vocabulary{Values: values, Types: types, Merges: merges}
	if err := checkByteLevel(v, source); err != nil {
		return nil, err
	}
	known, ok := recogniseVocab(values, merges)
	var notes []string
	switch {
	case pre == "" && !ok:
		return nil, unsupported(source, "encoder.json+vocab.bpe does not record its pre-tokenizer, and this vocabulary (%d tokens) is not one tr117/tokenizer recognises (GPT-2, Llama 3), so any split pattern would be a guess that can change the ids; name it in LoadConfig.Pretokenizer (gpt2, llama3, qwen2 or a regular expression)", len(values))
	case pre == "":
		pre = known.pre
		notes = append(notes, fmt.Sprintf("pre-tokenizer %s (recognised the %s vocabulary; encoder.json+vocab.bpe records none)", preName(pre), known.name))
	default:
		notes = append(notes, fmt.Sprintf("pre-tokenizer %s (as configured)", preName(pre)))
		if ok && pre != known.pre {
			notes = append(notes, fmt.Sprintf("the vocabulary is %s's, whose own pre-tokenizer is %s: ids differ from the model's", known.name, preName(known.pre)))
		}
	}
	return newBPE(v, []string{pre}, true, backend, nil, Info{
		Format: "encoder.json+vocab.bpe", Source: source, Notes: notes,
	})
}

// knownVocab is a byte-level vocabulary whose split pattern this package knows.
type knownVocab struct {
	name string
	pre  string
}

// llama3VocabSHA256 is the SHA-256 of Llama 3's 128,000 regular tokens in
// id order, joined by "\n": the same for Meta's tokenizer.json and Ollama's
// encoder.json conversion, whose merge lists differ.
const llama3VocabSHA256 = "8dd8b994f25dc533e90df9906b38f5729193ae5b07a383cb23058e0e0960dc10"

// recogniseVocab tells the vocabularies LoadEncoderJSON knows the split
// pattern of (values indexed by id, merges in rank order).
func recogniseVocab(values, merges []string) (knownVocab, bool) {
	const llama3Regular = 128000
	if n := len(values); n == 50257 && values[0] == "!" && values[50256] == "<|endoftext|>" && len(merges) > 0 && merges[0] == "Ġ t" {
		return knownVocab{"GPT-2", preGPT2}, true
	}
	if n := len(values); n >= llama3Regular && n <= llama3Regular+256 {
		for _, v := range values[llama3Regular:] {
			if !strings.HasPrefix(v, "<|") || !strings.HasSuffix(v, "|>") {
				return knownVocab{}, false
			}
		}
		h := sha256.New()
		for i, v := range values[:llama3Regular] {
			if i > 0 {
				h.Write([]byte{'\n'})
			}
			io.WriteString(h, v)
		}
		if hex.EncodeToString(h.Sum(nil)) == llama3VocabSHA256 {
			return knownVocab{"Llama 3", preLlama3}, true
		}
	}
	return knownVocab{}, false
}

func preName(p string) string {
	switch p {
	case preGPT2:
		return "gpt2"
	case preLlama3:
		return "llama3"
	case preQwen2:
		return "qwen2"
	}
	return p
}

// Attempt is one place Load looked.
type Attempt struct {
	Source string `json:"source"` // what was asked for
	Where  string `json:"where"`  // the path or URL looked at
	Err    error  `json:"-"`      // why it did not give a tokenizer
}

func (a Attempt) String() string {
	if a.Err == nil {
		return a.Where + ": ok"
	}
	return a.Where + ": " + a.Err.Error()
}

// LoadError is returned when no source gave a tokenizer; it lists every
// place that was looked at.
type LoadError struct {
	Sources  []string
	Attempts []Attempt
}

func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tokenizer: no tokenizer found for %s; looked at:", strings.Join(e.Sources, ","))
	for _, a := range e.Attempts {
		b.WriteString("\n  ")
		b.WriteString(a.String())
	}
	return b.String()
}

// Short is Error in one line of at most about 200 characters, for a
// report or a table cell: the sources, how many places were looked at, how
// many of them hold nothing (a missing file, downloads off), and the first
// real problem (a server's error, an unsupported file), cut short.
func (e *LoadError) Short() string {
	var problems []Attempt
	for _, a := range e.Attempts {
		if a.Err != nil && !errors.Is(a.Err, fs.ErrNotExist) && !errors.Is(a.Err, ErrDownloadDisabled) {
			problems = append(problems, a)
		}
	}
	s := fmt.Sprintf("tokenizer: no tokenizer found for %s (%d places looked at, %d hold nothing",
		cut(strings.Join(e.Sources, ","), 60), len(e.Attempts), len(e.Attempts)-len(problems))
	if len(problems) > 0 {
		s += fmt.Sprintf("; %d failed, first: %s", len(problems), cut(problems[0].String(), 80))
	}
	return s + ")"
}

// cut shortens s to n runes, marking the cut with "…", and keeps only its
// first line.
func cut(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// Unwrap returns the attempts' errors, so errors.Is finds, say,
// ErrUnsupported or ErrDownloadDisabled among them.
func (e *LoadError) Unwrap() []error {
	var errs []error
	for _, a := range e.Attempts {
		if a.Err != nil {
			errs = append(errs, a.Err)
		}
	}
	return errs
}

// Load returns the tokenizer of the first source that gives one, trying
// each in order (fallbacks). A source is:
//   - a file: tokenizer.json, tokenizer.model, encoder.json (with
//     vocab.bpe beside it) or a GGUF model, told apart by content;
//   - a directory holding one of those (tokenizer.json first; if it is
//     unsupported, tokenizer.model);
//   - "ollama:NAME" or a bare Ollama model name ("gemma3:latest") found in
//     the local store;
//   - "http://HOST:PORT/MODEL" (or https): the model as the Ollama server
//     there serves it, asked over its API (see LoadFromServer and
//     ServerSource); the server may be remote, its store need not be here;
//   - "hf:ORG/NAME" or a bare "ORG/NAME" Hugging Face repo id, found in the
//     Hugging Face cache or this package's download cache, or downloaded
//     when cfg.Hub.AllowDownload is set.
//
// When every source fails the error is a *LoadError listing where it
// looked. Only the server request and the download honour ctx; an
// http:// source is a request the caller named, while nothing is fetched
// from the Hugging Face Hub without cfg.Hub.AllowDownload.
func Load(ctx context.Context, cfg LoadConfig, sources ...string) (Tokenizer, []Attempt, error) {
	if err := checkBackend(cfg.Backend); err != nil {
		return nil, nil, err
	}
	var tried []Attempt
	for _, src := range sources {
		src = strings.TrimSpace(src)
		if src == "" {
			continue
		}
		t, att := loadOne(ctx, src, cfg)
		tried = append(tried, att...)
		if t != nil {
			return t, tried, nil
		}
		if ctx.Err() != nil {
			return nil, tried, ctx.Err()
		}
	}
	return nil, tried, &LoadError{Sources: sources, Attempts: tried}
}

func loadOne(ctx context.Context, src string, cfg LoadConfig) (Tokenizer, []Attempt) {
	var tried []Attempt
	try := func(where string, f func() (Tokenizer, error)) Tokenizer {
		t, err := f()
		tried = append(tried, Attempt{Source: src, Where: where, Err: err})
		return t
	}
	if name, ok := strings.CutPrefix(src, "ollama:"); ok {
		t := try("ollama store: "+name, func() (Tokenizer, error) { return loadOllamaModel(name, cfg.Store, cfg.Backend) })
		return t, tried
	}
	if repo, ok := strings.CutPrefix(src, "hf:"); ok {
		return loadRepo(ctx, src, repo, cfg, tried)
	}
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		base, model, err := ParseServerSource(src)
		if err != nil {
			return nil, append(tried, Attempt{Source: src, Where: src, Err: err})
		}
		t := try("POST "+base+"/api/show "+model, func() (Tokenizer, error) { return LoadFromServer(ctx, base, model, cfg) })
		return t, tried
	}
	if st, err := os.Stat(src); err == nil {
		if st.IsDir() {
			return loadDir(src, cfg, tried)
		}
		t := try(src, func() (Tokenizer, error) { return LoadFile(src, cfg) })
		return t, tried
	}
	if _, err := ParseModelName(src); err == nil && !IsPath(src) {
		if t := try("ollama store: "+src, func() (Tokenizer, error) { return loadOllamaModel(src, cfg.Store, cfg.Backend) }); t != nil {
			return t, tried
		}
	}
	if checkRepoID(src) == nil && !strings.Contains(src, ":") {
		return loadRepo(ctx, src, src, cfg, tried)
	}
	if len(tried) == 0 {
		tried = append(tried, Attempt{Source: src, Where: src, Err: fmt.Errorf("tokenizer: %s: %w", src, os.ErrNotExist)})
	}
	return nil, tried
}

// IsPath reports whether Load reads src only as a path on this machine:
// an absolute path, one starting with "." or "~", or a name ending in
// .json, .model or .gguf (not an Ollama model name, a Hugging Face repo id
// or a server URL). A caller can check such a source exists before
// loading anything.
func IsPath(src string) bool {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") || strings.HasPrefix(src, "ollama:") || strings.HasPrefix(src, "hf:") {
		return false
	}
	return filepath.IsAbs(src) || strings.HasPrefix(src, ".") || strings.HasPrefix(src, "~") ||
		strings.HasSuffix(src, ".json") || strings.HasSuffix(src, ".model") || strings.HasSuffix(src, ".gguf")
}

func loadRepo(ctx context.Context, src, repo string, cfg LoadConfig, tried []Attempt) (Tokenizer, []Attempt) {
	dirs, err := cfg.Hub.CachedTokenizerDirs(repo)
	if err != nil {
		return nil, append(tried, Attempt{Source: src, Where: "hf:" + repo, Err: err})
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); err != nil {
			tried = append(tried, Attempt{Source: src, Where: d, Err: fmt.Errorf("tokenizer: %w", err)})
			continue
		}
		var t Tokenizer
		if t, tried = loadDir(d, cfg, tried); t != nil {
			return t, tried
		}
	}
	path, err := FetchTokenizerJSON(ctx, repo, cfg.Hub)
	where := "https://huggingface.co/" + repo
	if cfg.Hub.BaseURL != "" {
		where = strings.TrimRight(cfg.Hub.BaseURL, "/") + "/" + repo
	}
	if err != nil {
		return nil, append(tried, Attempt{Source: src, Where: where, Err: err})
	}
	t, err := loadJSON(path, cfg)
	tried = append(tried, Attempt{Source: src, Where: path, Err: err})
	if t != nil {
		if o, ok := t.(*ollamaTok); ok {
			o.info.Source = "hf:" + repo + " (" + path + ")"
		}
	}
	return t, tried
}

// loadDir tries the tokenizer files a model directory may hold.
func loadDir(dir string, cfg LoadConfig, tried []Attempt) (Tokenizer, []Attempt) {
	for _, name := range []string{"tokenizer.json", "tokenizer.model", "encoder.json"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		t, err := LoadFile(p, cfg)
		tried = append(tried, Attempt{Source: dir, Where: p, Err: err})
		if err == nil {
			return t, tried
		}
	}
	tried = append(tried, Attempt{Source: dir, Where: dir, Err: fmt.Errorf("tokenizer: %s: no tokenizer.json, tokenizer.model or encoder.json", dir)})
	return nil, tried
}

func loadJSON(path string, cfg LoadConfig) (Tokenizer, error) {
	switch cfg.Backend {
	case BackendHuggingFace:
		return LoadHuggingFace(path)
	case BackendHFNode:
		return LoadHFNode(path, cfg.HFNode)
	case "", BackendOllama, BackendExact:
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
		return parseTokenizerJSON(data, path, cfg.Backend)
	}
	return nil, errUnknownBackend(cfg.Backend)
}

// noHuggingFace refuses the Hugging Face backends for a format they do
// not read, rather than quietly encoding with another backend.
func noHuggingFace(backend, path, format string) error {
	if backend == BackendHuggingFace || backend == BackendHFNode {
		return fmt.Errorf("tokenizer: %s: backend %s reads only tokenizer.json, not a %s (use %s or %s)", path, backend, format, BackendOllama, BackendExact)
	}
	return nil
}

// Backends lists the backends LoadConfig.Backend and Spec.Backend accept.
func Backends() []string {
	return []string{BackendOllama, BackendExact, BackendHFNode, BackendHuggingFace}
}

func checkBackend(b string) error {
	if b == "" || slices.Contains(Backends(), b) {
		return nil
	}
	return errUnknownBackend(b)
}

func errUnknownBackend(b string) error {
	return fmt.Errorf("tokenizer: unknown backend %q (want one of %s)", b, strings.Join(Backends(), ", "))
}

// LoadFile loads one tokenizer file, telling its format by its content: a
// GGUF model, a SentencePiece model, a tokenizer.json, or an encoder.json
// (whose vocab.bpe must sit beside it).
func LoadFile(path string, cfg LoadConfig) (Tokenizer, error) {
	if err := checkBackend(cfg.Backend); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	head := make([]byte, 4096)
	n, _ := f.Read(head)
	f.Close()
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("GGUF")):
		return loadGGUF(path, cfg.Backend)
	case bytes.HasPrefix(bytes.TrimSpace(head), []byte("{")):
		if filepath.Base(path) == "encoder.json" || !bytes.Contains(head, []byte(`"model"`)) && !bytes.Contains(head, []byte(`"added_tokens"`)) {
			vocab := filepath.Join(filepath.Dir(path), "vocab.bpe")
			if _, err := os.Stat(vocab); err == nil {
				if err := noHuggingFace(cfg.Backend, path, "encoder.json+vocab.bpe"); err != nil {
					return nil, err
				}
				return loadEncoderJSON(path, vocab, cfg.pretokenizer(), cfg.Backend)
			}
			if filepath.Base(path) == "encoder.json" {
				return nil, fmt.Errorf("tokenizer: %s: no vocab.bpe beside it", path)
			}
		}
		return loadJSON(path, cfg)
	case strings.HasSuffix(path, ".model") || len(head) > 0 && head[0] == 0x0a:
		// A SentencePiece ModelProto starts with field 1 (pieces), tag 0x0a.
		if err := noHuggingFace(cfg.Backend, path, "SentencePiece tokenizer.model"); err != nil {
			return nil, err
		}
		return LoadSentencePiece(path)
	}
	return nil, fmt.Errorf("tokenizer: %s: %w: not a GGUF, tokenizer.json, encoder.json or SentencePiece model", path, ErrUnsupported)
}
