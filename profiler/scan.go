package profiler

import (
	"bytes"
	"encoding/json"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ollama/ollama/api"
)

// lineFields are the fields of one streamed message the hot path needs.
// Content and Thinking point into the line or into the scanner's scratch
// buffers: valid until the next scan.
type lineFields struct {
	content  []byte // generate: response; chat: message.content
	thinking []byte // generate: thinking; chat: message.thinking
	errMsg   []byte // the "error" member
	done     bool
}

// genLine and chatLine hold exactly the members the fast scanner reads from
// a generate or chat message. encoding/json decodes a line into one of them
// when the scanner declines it; FuzzScanLine checks that both paths agree.
type genLine struct {
	Response string `json:"response"`
	Thinking string `json:"thinking"`
	Done     bool   `json:"done"`
	Error    string `json:"error"`
}

type chatLine struct {
	Message struct {
		Content  string `json:"content"`
		Thinking string `json:"thinking"`
	} `json:"message"`
	Done  bool   `json:"done"`
	Error string `json:"error"`
}

// finalLine is what the final (done) message is decoded into, with
// encoding/json, for Ollama's metrics. The long "context" array of a
// generate response is validated and skipped, not decoded.
type finalLine struct {
	DoneReason string `json:"done_reason"`
	api.Metrics
}

// lineScanner extracts lineFields from one NDJSON line without
// encoding/json and without allocating in the common case. It declines
// (scan returns false) whatever it does not handle exactly as encoding/json
// would: keys with escapes or non-ASCII bytes, keys that match a wanted
// member only case-insensitively, null or mistyped wanted members, deep
// nesting, and every syntax error. The caller then decodes the line with
// encoding/json, which gives the authoritative value or error. FuzzScanLine
// checks the equivalence.
type lineScanner struct {
	chat     bool
	f        lineFields
	scratchC []byte
	scratchT []byte
	scratchE []byte
}

const maxScanDepth = 64

// scan parses line into s.f. It reports false when the line must go to
// encoding/json instead.
func (s *lineScanner) scan(b []byte) bool {
	s.f = lineFields{}
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipWS(b, i+1) == len(b)
	}
	for {
		key, j, ok := scanKey(b, i)
		if !ok {
			return false
		}
		i = j
		switch {
		case string(key) == "done":
			if i, ok = scanBool(b, i, &s.f.done); !ok {
				return false
			}
		case string(key) == "error":
			if i, ok = scanString(b, i, &s.f.errMsg, &s.scratchE); !ok {
				return false
			}
		case !s.chat && string(key) == "response":
			if i, ok = scanString(b, i, &s.f.content, &s.scratchC); !ok {
				return false
			}
		case !s.chat && string(key) == "thinking":
			if i, ok = scanString(b, i, &s.f.thinking, &s.scratchT); !ok {
				return false
			}
		case s.chat && string(key) == "message":
			if i, ok = s.scanMessage(b, i); !ok {
				return false
			}
		case foldsToWanted(key, s.chat, false):
			return false
		default:
			if i, ok = skipValue(b, i, 0); !ok {
				return false
			}
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return false
		}
		if b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if b[i] == '}' {
			return skipWS(b, i+1) == len(b)
		}
		return false
	}
}

// scanMessage parses the chat "message" object at b[i].
func (s *lineScanner) scanMessage(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return i, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		key, j, ok := scanKey(b, i)
		if !ok {
			return i, false
		}
		i = j
		switch {
		case string(key) == "content":
			if i, ok = scanString(b, i, &s.f.content, &s.scratchC); !ok {
				return i, false
			}
		case string(key) == "thinking":
			if i, ok = scanString(b, i, &s.f.thinking, &s.scratchT); !ok {
				return i, false
			}
		case foldsToWanted(key, true, true):
			return i, false
		default:
			if i, ok = skipValue(b, i, 1); !ok {
				return i, false
			}
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return i, false
		}
		if b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if b[i] == '}' {
			return i + 1, true
		}
		return i, false
	}
}

// foldsToWanted reports whether key is a case-insensitive (but not exact)
// match of a member the scanner reads, which encoding/json would also
// accept. Exact matches were handled by the caller.
func foldsToWanted(key []byte, chat, inMessage bool) bool {
	switch len(key) {
	case 4:
		return !inMessage && bytes.EqualFold(key, []byte("done"))
	case 5:
		return !inMessage && bytes.EqualFold(key, []byte("error"))
	case 7:
		if inMessage {
			return bytes.EqualFold(key, []byte("content"))
		}
		return chat && bytes.EqualFold(key, []byte("message"))
	case 8:
		if inMessage {
			return bytes.EqualFold(key, []byte("thinking"))
		}
		return !chat && (bytes.EqualFold(key, []byte("response")) || bytes.EqualFold(key, []byte("thinking")))
	}
	return false
}

// scanKey reads `"key"` and the colon after it, returning the position of
// the value. Keys with escapes or non-ASCII bytes are declined.
func scanKey(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	j := i + 1
	for j < len(b) {
		c := b[j]
		if c == '"' {
			break
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return nil, i, false
		}
		j++
	}
	if j >= len(b) {
		return nil, i, false
	}
	key := b[i+1 : j]
	j = skipWS(b, j+1)
	if j >= len(b) || b[j] != ':' {
		return nil, i, false
	}
	return key, skipWS(b, j+1), true
}

func scanBool(b []byte, i int, dst *bool) (int, bool) {
	if bytes.HasPrefix(b[i:], []byte("true")) {
		*dst = true
		return i + 4, true
	}
	if bytes.HasPrefix(b[i:], []byte("false")) {
		*dst = false
		return i + 5, true
	}
	return i, false
}

// scanString reads the JSON string at b[i] and sets *dst to its value:
// a subslice of b when it has no escapes and only ASCII, else the
// unescaped bytes in *scratch, decoded exactly as encoding/json does
// (invalid UTF-8 and lone surrogates become U+FFFD).
func scanString(b []byte, i int, dst, scratch *[]byte) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	j := i + 1
	for j < len(b) {
		c := b[j]
		if c == '"' {
			*dst = b[i+1 : j]
			return j + 1, true
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			break
		}
		j++
	}
	out := append((*scratch)[:0], b[i+1:j]...)
	for j < len(b) {
		c := b[j]
		switch {
		case c == '"':
			*scratch = out
			*dst = out
			return j + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			if j+1 >= len(b) {
				return i, false
			}
			switch b[j+1] {
			case '"', '\\', '/':
				out = append(out, b[j+1])
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := getu4(b[j:])
				if r < 0 {
					return i, false
				}
				j += 6
				if utf16.IsSurrogate(r) {
					r2 := getu4(b[j:])
					if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
						out = utf8.AppendRune(out, dec)
						j += 6
						continue
					}
					r = unicode.ReplacementChar
				}
				out = utf8.AppendRune(out, r)
				continue
			default:
				return i, false
			}
			j += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			j++
		default:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, unicode.ReplacementChar)
			} else {
				out = append(out, b[j:j+size]...)
			}
			j += size
		}
	}
	return i, false
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue validates and skips the JSON value at b[i].
func skipValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{':
		if depth >= maxScanDepth {
			return i, false
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = skipString(b, i); !ok {
				return i, false
			}
			i = skipWS(b, i)
			if i >= len(b) || b[i] != ':' {
				return i, false
			}
			if i, ok = skipValue(b, skipWS(b, i+1), depth+1); !ok {
				return i, false
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return i, false
			}
			if b[i] == '}' {
				return i + 1, true
			}
			if b[i] != ',' {
				return i, false
			}
			i = skipWS(b, i+1)
		}
	case c == '[':
		if depth >= maxScanDepth {
			return i, false
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = skipValue(b, i, depth+1); !ok {
				return i, false
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return i, false
			}
			if b[i] == ']' {
				return i + 1, true
			}
			if b[i] != ',' {
				return i, false
			}
			i = skipWS(b, i+1)
		}
	case c == '-' || '0' <= c && c <= '9':
		return skipNumber(b, i)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	}
	return i, false
}

func skipLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return i, false
}

func skipString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			if j+1 >= len(b) {
				return i, false
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if getu4(b[j:]) < 0 {
					return i, false
				}
				j += 5
			default:
				return i, false
			}
		}
	}
	return i, false
}

func skipNumber(b []byte, i int) (int, bool) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	if j >= len(b) {
		return i, false
	}
	if b[j] == '0' {
		j++
	} else if '1' <= b[j] && b[j] <= '9' {
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
	} else {
		return i, false
	}
	if j < len(b) && b[j] == '.' {
		j++
		k := j
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
		if j == k {
			return i, false
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := j
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
		if j == k {
			return i, false
		}
	}
	return j, true
}

// decodeLine decodes line with encoding/json and fills f from it. It is
// the slow path, for lines the scanner declined.
func decodeLine(line []byte, chat bool, f *lineFields) error {
	if chat {
		var w chatLine
		if err := json.Unmarshal(line, &w); err != nil {
			return err
		}
		*f = lineFields{content: []byte(w.Message.Content), thinking: []byte(w.Message.Thinking), errMsg: []byte(w.Error), done: w.Done}
		return nil
	}
	var w genLine
	if err := json.Unmarshal(line, &w); err != nil {
		return err
	}
	*f = lineFields{content: []byte(w.Response), thinking: []byte(w.Thinking), errMsg: []byte(w.Error), done: w.Done}
	return nil
}
