package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	ollamatok "github.com/ollama/ollama/tokenizer"
	"golang.org/x/text/unicode/norm"
)

// ggmlWordStart marks a word-initial piece in the vocabularies Ollama's
// WordPiece reads (GGUF convention); Hugging Face instead marks
// continuations with "##".
const ggmlWordStart = "▁"

// bertNormalizer is Hugging Face's BertNormalizer.
type bertNormalizer struct {
	cleanText, chineseChars, stripAccents, lowercase bool
}

func (n bertNormalizer) normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for _, r := range s {
		if n.cleanText {
			if r == 0 || r == utf8.RuneError || isBertControl(r) {
				continue
			}
			if isBertSpace(r) {
				r = ' '
			}
		}
		if n.chineseChars && isCJK(r) {
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(r)
	}
	out := b.String()
	if n.stripAccents {
		d := norm.NFD.String(out)
		out = strings.Map(func(r rune) rune {
			if unicode.Is(unicode.Mn, r) {
				return -1
			}
			return r
		}, d)
	}
	if n.lowercase {
		out = strings.ToLower(out)
	}
	return out
}

func isBertSpace(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || unicode.IsSpace(r)
}

// isBertControl is Rust's char::is_other (Cc, Cf, Co, Cs, Cn) minus tab,
// newline and carriage return.
func isBertControl(r rune) bool {
	switch r {
	case '\t', '\n', '\r':
		return false
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) {
		return true
	}
	// Cn: unassigned code points belong to no category.
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

func isCJK(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF ||
		r >= 0x3400 && r <= 0x4DBF ||
		r >= 0x20000 && r <= 0x2A6DF ||
		r >= 0x2A700 && r <= 0x2B73F ||
		r >= 0x2B740 && r <= 0x2B81F ||
		r >= 0x2B820 && r <= 0x2CEAF ||
		r >= 0xF900 && r <= 0xFAFF ||
		r >= 0x2F800 && r <= 0x2FA1F
}

// isBertPunct is Hugging Face's is_bert_punc: ASCII punctuation (which
// includes symbols such as $ + < = > ^ ` | ~) or Unicode category P.
func isBertPunct(r rune) bool {
	if r < 0x80 {
		return r >= 33 && r <= 47 || r >= 58 && r <= 64 || r >= 91 && r <= 96 || r >= 123 && r <= 126
	}
	return unicode.IsPunct(r)
}

// bertWords is Hugging Face's BertPreTokenizer: split on whitespace
// (dropped) and around each punctuation character (kept alone).
func bertWords(s string, yield func(string)) {
	start := -1
	for i, r := range s {
		switch {
		case isBertSpace(r):
			if start >= 0 {
				yield(s[start:i])
				start = -1
			}
		case isBertPunct(r):
			if start >= 0 {
				yield(s[start:i])
				start = -1
			}
			yield(s[i : i+utf8.RuneLen(r)])
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		yield(s[start:])
	}
}

// wordPiece runs Hugging Face's BERT pipeline (added tokens, normalizer,
// pre-tokenizer, max_input_chars_per_word) in Go and Ollama's WordPiece for
// the model itself.
type wordPiece struct {
	wp      ollamatok.WordPiece
	norm    bertNormalizer
	added   []addedToken // longest first
	unkID   int32
	maxChar int
}

type addedToken struct {
	content string
	id      int32
}

func (w *wordPiece) encode(text string) ([]int32, error) {
	var ids []int32
	var sb strings.Builder
	var err error
	flush := func() {
		if sb.Len() == 0 || err != nil {
			return
		}
		var got []int32
		got, err = w.wp.Encode(sb.String(), false)
		ids = append(ids, got...)
		sb.Reset()
	}
	for len(text) > 0 && err == nil {
		at, tok := w.nextAdded(text)
		if seg := text[:at]; seg != "" {
			bertWords(w.norm.normalize(seg), func(word string) {
				if utf8.RuneCountInString(word) > w.maxChar {
					flush()
					ids = append(ids, w.unkID)
					return
				}
				if sb.Len() > 0 {
					sb.WriteByte(' ')
				}
				sb.WriteString(word)
			})
			flush()
		}
		if tok == nil {
			break
		}
		ids = append(ids, tok.id)
		text = text[at+len(tok.content):]
	}
	return ids, err
}

// nextAdded finds the leftmost (then longest) added token in text.
func (w *wordPiece) nextAdded(text string) (int, *addedToken) {
	best, bi := len(text), -1
	for i := range w.added {
		if j := strings.Index(text[:min(len(text), best+len(w.added[i].content))], w.added[i].content); j >= 0 && j < best {
			best, bi = j, i
		}
	}
	if bi < 0 {
		return len(text), nil
	}
	return best, &w.added[bi]
}

func parseHFWordPiece(f *hfJSON, source string) (Tokenizer, error) {
	m := &f.Model
	unk := "[UNK]"
	if m.UnkToken != nil {
		unk = *m.UnkToken
	}
	if unk != "[UNK]" {
		// Ollama's WordPiece looks up "[UNK]" by name.
		return nil, unsupported(source, "WordPiece unk_token %q (Ollama's WordPiece uses \"[UNK]\")", unk)
	}
	if m.ContinuingSubwordPrefix == nil || *m.ContinuingSubwordPrefix != "##" {
		return nil, unsupported(source, "WordPiece continuing_subword_prefix other than \"##\"")
	}
	maxChar := 100
	if m.MaxInputCharsPerWord != nil {
		maxChar = *m.MaxInputCharsPerWord
	}
	bn, err := bertPipeline(f, source)
	if err != nil {
		return nil, err
	}
	values, types, err := vocabTable(f, source)
	if err != nil {
		return nil, err
	}
	w := &wordPiece{norm: bn, maxChar: maxChar}
	for _, a := range f.AddedTokens {
		if a.Normalized && bn.normalize(a.Content) != a.Content {
			return nil, unsupported(source, "added token %q is matched after normalization", a.Content)
		}
		w.added = append(w.added, addedToken{content: a.Content, id: int32(a.ID)})
	}
	unkID := -1
	for id, v := range values {
		if v == unk {
			unkID = id
		}
	}
	if unkID < 0 {
		return nil, fmt.Errorf("tokenizer: %s: unk_token %q is not in the vocabulary", source, unk)
	}
	w.unkID = int32(unkID)
	ggml, gtypes, err := ggmlPieces(values, types, unkID, source)
	if err != nil {
		return nil, err
	}
	w.wp = ollamatok.NewWordPiece(&ollamatok.Vocabulary{Values: ggml, Types: gtypes}, false)
	return &ollamaTok{
		tok:    w.wp,
		encode: w.encode,
		info: Info{
			Backend:   BackendOllama,
			Model:     "wordpiece",
			Format:    "tokenizer.json",
			Source:    source,
			VocabSize: len(values),
			Notes:     []string{"BertNormalizer and BertPreTokenizer run in tr117/tokenizer; Ollama's WordPiece matches the pieces"},
		},
	}, nil
}

// bertPipeline checks that f's normalizer and pre-tokenizer are BERT's,
// the only ones the WordPiece backend runs, and returns the normalizer.
func bertPipeline(f *hfJSON, source string) (bertNormalizer, error) {
	if isNull(f.Normalizer) {
		return bertNormalizer{}, unsupported(source, "WordPiece without a BertNormalizer")
	}
	var n hfComponent
	if err := json.Unmarshal(f.Normalizer, &n); err != nil {
		return bertNormalizer{}, fmt.Errorf("tokenizer: %s: normalizer: %w", source, err)
	}
	if n.Type != "BertNormalizer" {
		return bertNormalizer{}, unsupported(source, "normalizer %q for WordPiece (supported: BertNormalizer)", n.Type)
	}
	bn := bertNormalizer{
		cleanText:    n.CleanText == nil || *n.CleanText,
		chineseChars: n.HandleChineseChars == nil || *n.HandleChineseChars,
		lowercase:    n.Lowercase == nil || *n.Lowercase,
	}
	bn.stripAccents = bn.lowercase
	if n.StripAccents != nil {
		bn.stripAccents = *n.StripAccents
	}
	var p hfComponent
	if isNull(f.PreTokenizer) {
		return bertNormalizer{}, unsupported(source, "WordPiece without a BertPreTokenizer")
	}
	if err := json.Unmarshal(f.PreTokenizer, &p); err != nil {
		return bertNormalizer{}, fmt.Errorf("tokenizer: %s: pre_tokenizer: %w", source, err)
	}
	if p.Type != "BertPreTokenizer" {
		return bertNormalizer{}, unsupported(source, "pre_tokenizer %q for WordPiece (supported: BertPreTokenizer)", p.Type)
	}
	return bn, nil
}

// ggmlPieces maps a WordPiece vocabulary onto Ollama's spelling.
func ggmlPieces(values []string, types []int32, unkID int, source string) ([]string, []int32, error) {
	// Ollama's vocabulary spells word-initial pieces "▁x" and
	// continuations "x"; added tokens keep their text so that Ollama can
	// split them out.
	ggml := make([]string, len(values))
	gtypes := make([]int32, len(types))
	copy(gtypes, types)
	seen := make(map[string]bool, len(values))
	for id, v := range values {
		switch {
		case types[id] != ollamatok.TOKEN_TYPE_NORMAL:
			ggml[id] = v
		case id == unkID:
			ggml[id] = v
		case strings.HasPrefix(v, "##"):
			ggml[id] = v[2:]
		default:
			ggml[id] = ggmlWordStart + v
		}
		if seen[ggml[id]] {
			return nil, nil, unsupported(source, "token %q collides with another after mapping to Ollama's ▁ convention", v)
		}
		seen[ggml[id]] = true
	}
	return ggml, gtypes, nil
}
