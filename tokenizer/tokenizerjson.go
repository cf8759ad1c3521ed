package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/dlclark/regexp2"
	ollamatok "github.com/ollama/ollama/tokenizer"
	"golang.org/x/text/unicode/norm"
)

// ErrUnsupported is wrapped by every error that rejects a file because it
// uses a feature the backend cannot reproduce exactly (a normalizer, a
// pre-tokenizer, a model option). Such a file is refused rather than
// encoded to different ids.
var ErrUnsupported = errors.New("unsupported")

func unsupported(source, format string, args ...any) error {
	return fmt.Errorf("tokenizer: %s: %w: %s", source, ErrUnsupported, fmt.Sprintf(format, args...))
}

// Pre-tokenizer regular expressions, as Hugging Face and Ollama spell them.
const (
	// preGPT2 is the byte-level pre-tokenizer of GPT-2 (Hugging Face
	// ByteLevel with use_regex, Ollama's default).
	preGPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	// preLlama3 is Llama 3's split pattern.
	preLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// preQwen2 is Qwen 2's split pattern (digits one at a time).
	preQwen2 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// hfJSON is the subset of a Hugging Face tokenizer.json this package reads.
// Fields it does not know are kept raw so that an unexpected setting can be
// refused by name.
type hfJSON struct {
	AddedTokens  []hfAddedToken  `json:"added_tokens"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer json.RawMessage `json:"pre_tokenizer"`
	Model        hfModel         `json:"model"`
}

type hfAddedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type hfModel struct {
	Type                    string            `json:"type"`
	Dropout                 *float64          `json:"dropout"`
	UnkToken                *string           `json:"unk_token"`
	ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
	FuseUnk                 bool              `json:"fuse_unk"`
	ByteFallback            bool              `json:"byte_fallback"`
	IgnoreMerges            bool              `json:"ignore_merges"`
	MaxInputCharsPerWord    *int              `json:"max_input_chars_per_word"`
	UnkID                   *int              `json:"unk_id"`
	Vocab                   json.RawMessage   `json:"vocab"`
	Merges                  []json.RawMessage `json:"merges"`
}

type hfComponent struct {
	Type string `json:"type"`
	// Sequence
	Normalizers   []json.RawMessage `json:"normalizers"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	// ByteLevel
	AddPrefixSpace *bool `json:"add_prefix_space"`
	UseRegex       *bool `json:"use_regex"`
	// Split
	Pattern  *hfPattern `json:"pattern"`
	Behavior string     `json:"behavior"`
	Invert   bool       `json:"invert"`
	// BertNormalizer
	CleanText          *bool `json:"clean_text"`
	HandleChineseChars *bool `json:"handle_chinese_chars"`
	StripAccents       *bool `json:"strip_accents"`
	Lowercase          *bool `json:"lowercase"`
}

type hfPattern struct {
	Regex  *string `json:"Regex"`
	String *string `json:"String"`
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// LoadTokenizerJSON reads a Hugging Face tokenizer.json and returns a
// tokenizer on the Ollama backend that gives the same ids as Hugging
// Face's. It supports byte-level BPE models (GPT-2, Llama 3, Qwen 2 and
// their kin: a ByteLevel pre-tokenizer, or Split regexes followed by
// ByteLevel, with no normalizer or NFC) and WordPiece models (BERT:
// BertNormalizer and BertPreTokenizer). Anything else is refused with an
// error wrapping ErrUnsupported that names the setting.
func LoadTokenizerJSON(path string) (Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return ParseTokenizerJSON(data, path)
}

// ParseTokenizerJSON is LoadTokenizerJSON on the file's contents; source
// names it in errors and in Info.
func ParseTokenizerJSON(data []byte, source string) (Tokenizer, error) {
	return parseTokenizerJSON(data, source, BackendOllama)
}

func parseTokenizerJSON(data []byte, source, backend string) (Tokenizer, error) {
	var f hfJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", source, err)
	}
	for _, a := range f.AddedTokens {
		if a.SingleWord || a.LStrip || a.RStrip {
			return nil, unsupported(source, "added token %q has single_word/lstrip/rstrip set", a.Content)
		}
		if a.Content == "" {
			return nil, fmt.Errorf("tokenizer: %s: added token %d has no content", source, a.ID)
		}
	}
	typ := f.Model.Type
	if typ == "" {
		// Hugging Face reads an untagged model by its fields.
		switch {
		case f.Model.Merges != nil:
			typ = "BPE"
		case f.Model.MaxInputCharsPerWord != nil || f.Model.ContinuingSubwordPrefix != nil:
			typ = "WordPiece"
		case f.Model.UnkID != nil:
			typ = "Unigram"
		case len(f.Model.Vocab) > 0:
			typ = "WordLevel"
		}
	}
	switch typ {
	case "BPE":
		return parseHFBPE(&f, source, backend)
	case "WordPiece":
		return parseHFWordPiece(&f, source)
	case "":
		return nil, fmt.Errorf("tokenizer: %s: no model.type: not a tokenizer.json", source)
	default:
		return nil, unsupported(source, "model type %q (supported: BPE, WordPiece)", typ)
	}
}

// vocabTable builds id → token from the model vocab and the added tokens,
// and refuses gaps and duplicates.
func vocabTable(f *hfJSON, source string) ([]string, []int32, error) {
	var vocab map[string]int
	if err := json.Unmarshal(f.Model.Vocab, &vocab); err != nil {
		return nil, nil, fmt.Errorf("tokenizer: %s: model.vocab: %w", source, err)
	}
	if len(vocab) == 0 {
		return nil, nil, fmt.Errorf("tokenizer: %s: model.vocab is empty", source)
	}
	n := len(vocab)
	for _, a := range f.AddedTokens {
		n = max(n, a.ID+1)
	}
	for _, id := range vocab {
		n = max(n, id+1)
	}
	if n > len(vocab)+len(f.AddedTokens) {
		// Some id is missing: ids must run 0..n-1.
		return nil, nil, fmt.Errorf("tokenizer: %s: token id %d leaves gaps in a vocabulary of %d entries (ids must be contiguous)", source, n-1, len(vocab)+len(f.AddedTokens))
	}
	values := make([]string, n)
	types := make([]int32, n)
	for tok, id := range vocab {
		if id < 0 {
			return nil, nil, fmt.Errorf("tokenizer: %s: token %q has negative id %d", source, tok, id)
		}
		if types[id] != 0 {
			return nil, nil, fmt.Errorf("tokenizer: %s: id %d used by %q and %q", source, id, values[id], tok)
		}
		values[id] = tok
		types[id] = ollamatok.TOKEN_TYPE_NORMAL
	}
	for _, a := range f.AddedTokens {
		if a.ID < 0 {
			return nil, nil, fmt.Errorf("tokenizer: %s: added token %q has negative id", source, a.Content)
		}
		if types[a.ID] != 0 && values[a.ID] != a.Content {
			return nil, nil, fmt.Errorf("tokenizer: %s: added token %q reuses id %d of %q", source, a.Content, a.ID, values[a.ID])
		}
		values[a.ID] = a.Content
		// Ollama splits CONTROL and USER_DEFINED tokens out of the text
		// before encoding, as Hugging Face does with all added tokens.
		if a.Special {
			types[a.ID] = ollamatok.TOKEN_TYPE_CONTROL
		} else {
			types[a.ID] = ollamatok.TOKEN_TYPE_USER_DEFINED
		}
	}
	for id, t := range types {
		if t == 0 {
			return nil, nil, fmt.Errorf("tokenizer: %s: no token has id %d (ids must be contiguous)", source, id)
		}
	}
	seen := make(map[string]int, n)
	for id, v := range values {
		if prev, dup := seen[v]; dup {
			return nil, nil, fmt.Errorf("tokenizer: %s: token %q has two ids, %d and %d", source, v, prev, id)
		}
		seen[v] = id
	}
	return values, types, nil
}

func parseMerges(raw []json.RawMessage, source string) ([]string, error) {
	merges := make([]string, 0, len(raw))
	for i, m := range raw {
		var s string
		if err := json.Unmarshal(m, &s); err == nil {
			if strings.Count(s, " ") != 1 {
				return nil, unsupported(source, "merge %d %q is not two tokens separated by one space", i, s)
			}
			merges = append(merges, s)
			continue
		}
		var pair []string
		if err := json.Unmarshal(m, &pair); err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("tokenizer: %s: merge %d: want \"a b\" or [\"a\",\"b\"], got %s", source, i, m)
		}
		if strings.Contains(pair[0], " ") || strings.Contains(pair[1], " ") {
			return nil, unsupported(source, "merge %d has a token with a space (%q, %q)", i, pair[0], pair[1])
		}
		merges = append(merges, pair[0]+" "+pair[1])
	}
	return merges, nil
}

func parseHFBPE(f *hfJSON, source, backend string) (Tokenizer, error) {
	m := &f.Model
	switch {
	case m.Dropout != nil && *m.Dropout != 0:
		return nil, unsupported(source, "BPE dropout %v", *m.Dropout)
	case m.ByteFallback:
		return nil, unsupported(source, "BPE byte_fallback (SentencePiece-style BPE; load the model's tokenizer.model or GGUF instead)")
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "":
		return nil, unsupported(source, "BPE continuing_subword_prefix %q", *m.ContinuingSubwordPrefix)
	case m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return nil, unsupported(source, "BPE end_of_word_suffix %q", *m.EndOfWordSuffix)
	}
	var notes []string
	var prep func(string) string
	if !isNull(f.Normalizer) {
		var n hfComponent
		if err := json.Unmarshal(f.Normalizer, &n); err != nil {
			return nil, fmt.Errorf("tokenizer: %s: normalizer: %w", source, err)
		}
		if n.Type != "NFC" {
			return nil, unsupported(source, "normalizer %q for BPE (supported: none, NFC)", n.Type)
		}
		prep = norm.NFC.String
		notes = append(notes, "normalizer NFC applied before encoding")
	}
	pre, err := byteLevelRegexes(f.PreTokenizer, source)
	if err != nil {
		return nil, err
	}
	values, types, err := vocabTable(f, source)
	if err != nil {
		return nil, err
	}
	merges, err := parseMerges(m.Merges, source)
	if err != nil {
		return nil, err
	}
	vocab := &ollamatok.Vocabulary{Values: values, Types: types, Merges: merges}
	if err := checkByteLevel(vocab, source); err != nil {
		return nil, err
	}
	info := Info{Format: "tokenizer.json", Source: source, Notes: notes}
	return newBPE(vocab, pre, m.IgnoreMerges, backend, prep, info)
}

// byteLevelRegexes maps a tokenizer.json pre_tokenizer onto the regexes
// Ollama's BPE splits with.
func byteLevelRegexes(raw json.RawMessage, source string) ([]string, error) {
	if isNull(raw) {
		return nil, unsupported(source, "BPE without a pre_tokenizer (Ollama's BPE always byte-level splits)")
	}
	var p hfComponent
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: pre_tokenizer: %w", source, err)
	}
	parts := []hfComponent{p}
	if p.Type == "Sequence" {
		parts = parts[:0]
		for i, r := range p.Pretokenizers {
			var c hfComponent
			if err := json.Unmarshal(r, &c); err != nil {
				return nil, fmt.Errorf("tokenizer: %s: pre_tokenizer %d: %w", source, i, err)
			}
			parts = append(parts, c)
		}
	}
	if len(parts) == 0 {
		return nil, unsupported(source, "empty pre_tokenizer sequence")
	}
	last := parts[len(parts)-1]
	if last.Type != "ByteLevel" {
		return nil, unsupported(source, "pre_tokenizer %q: want ByteLevel last (byte-level BPE)", last.Type)
	}
	if last.AddPrefixSpace != nil && *last.AddPrefixSpace {
		return nil, unsupported(source, "ByteLevel add_prefix_space true")
	}
	var regexes []string
	for i, c := range parts[:len(parts)-1] {
		if c.Type != "Split" {
			return nil, unsupported(source, "pre_tokenizer %d of type %q (supported: Split, ByteLevel)", i, c.Type)
		}
		if c.Behavior != "Isolated" || c.Invert {
			return nil, unsupported(source, "Split behavior %q invert %v (supported: Isolated, not inverted)", c.Behavior, c.Invert)
		}
		if c.Pattern == nil || c.Pattern.Regex == nil {
			return nil, unsupported(source, "Split pattern without a Regex")
		}
		if _, err := regexp2.Compile(*c.Pattern.Regex, regexp2.RE2); err != nil {
			return nil, unsupported(source, "Split regex %q: %v", *c.Pattern.Regex, err)
		}
		regexes = append(regexes, *c.Pattern.Regex)
	}
	useRegex := last.UseRegex == nil || *last.UseRegex
	if useRegex {
		regexes = append(regexes, preGPT2)
	}
	if len(regexes) == 0 {
		return nil, unsupported(source, "ByteLevel use_regex false with no Split before it")
	}
	return regexes, nil
}

// byteRune is GPT-2's bytes_to_unicode, the mapping Ollama's BPE applies.
func byteRune(b byte) rune {
	r := rune(b)
	switch {
	case r == 0xad:
		return 0x143
	case r <= 0x20:
		return r + 0x100
	case r >= 0x7f && r <= 0xa0:
		return r + 0xa2
	}
	return r
}

// checkByteLevel refuses a vocabulary without all 256 byte symbols: Ollama's
// BPE drops a symbol it cannot find, which would lose text silently.
func checkByteLevel(v *ollamatok.Vocabulary, source string) error {
	for b := 0; b < 256; b++ {
		if v.Encode(string(byteRune(byte(b)))) < 0 {
			return unsupported(source, "byte-level vocabulary lacks the symbol for byte 0x%02x", b)
		}
	}
	return nil
}

// wholeTokensReachable reports whether merging each normal vocabulary
// token's symbols by merge rank (leftmost first among equal ranks, as
// Hugging Face does) ends in the token itself. If not it returns the first
// token that does not.
func wholeTokensReachable(v *ollamatok.Vocabulary) (string, bool) {
	rank := make(map[string]int, len(v.Merges))
	for i, m := range v.Merges {
		if _, dup := rank[m]; !dup {
			rank[m] = i
		}
	}
	ids := make([]int, 0, len(v.Values))
	for id, t := range v.Types {
		if t == ollamatok.TOKEN_TYPE_NORMAL {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	var syms []string
	for _, id := range ids {
		tok := v.Values[id]
		syms = syms[:0]
		for _, r := range tok {
			syms = append(syms, string(r))
		}
		for len(syms) > 1 {
			best, at := -1, -1
			for i := 0; i+1 < len(syms); i++ {
				if r, ok := rank[syms[i]+" "+syms[i+1]]; ok && (best < 0 || r < best) {
					best, at = r, i
				}
			}
			if at < 0 {
				break
			}
			syms[at] += syms[at+1]
			syms = append(syms[:at+1], syms[at+2:]...)
		}
		if len(syms) != 1 {
			return tok, false
		}
	}
	return "", true
}
