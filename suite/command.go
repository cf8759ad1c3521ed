package suite

import (
	"fmt"
	"strconv"
	"strings"
)

// splitCommand splits s into words the way a POSIX shell does, without
// running one and without any expansion:
//
//   - unquoted blanks (space, tab, newline) separate words;
//   - '…' keeps everything up to the next ' literally;
//   - "…" keeps everything literally except that a backslash escapes
//     $ ` " \ and newline (backslash-newline is removed);
//   - an unquoted backslash makes the next character literal
//     (backslash-newline is removed);
//   - adjacent quoted and unquoted parts form one word ('a'"b"c is abc),
//     and a pair of empty quotes alone is an empty word.
//
// Because the words are run without a shell, characters that only a shell
// would act on are rejected when unquoted, with an error that says where:
// | & ; < > ( ) $ ` and a # that starts a word. Quote them to pass them
// literally, or run `sh -c '…'` explicitly. Globs (* ? [) and ~ are passed
// through literally. An unterminated quote or a trailing backslash is an
// error.
func splitCommand(s string) ([]string, error) {
	var (
		words  []string
		cur    strings.Builder
		inWord bool // cur holds a word, possibly empty ("")
	)
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t', '\n':
			flush()
		case '\\':
			if i+1 >= len(s) {
				return nil, &SplitError{Offset: i, Msg: "trailing backslash"}
			}
			i++
			if s[i] != '\n' {
				cur.WriteByte(s[i])
				inWord = true
			}
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, &SplitError{Offset: i, Msg: "unterminated single quote"}
			}
			cur.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case '"':
			start := i
			inWord = true
			for i++; ; i++ {
				if i >= len(s) {
					return nil, &SplitError{Offset: start, Msg: "unterminated double quote"}
				}
				c := s[i]
				if c == '"' {
					break
				}
				if c == '\\' && i+1 < len(s) {
					switch s[i+1] {
					case '$', '`', '"', '\\':
						cur.WriteByte(s[i+1])
						i++
						continue
					case '\n':
						i++
						continue
					}
				}
				if c == '$' || c == '`' {
					return nil, &SplitError{Offset: i, Msg: fmt.Sprintf("%q inside double quotes would be expanded by a shell; this template runs without one: escape it (\\%c) or use single quotes", c, c)}
				}
				cur.WriteByte(c)
			}
		case '|', '&', ';', '<', '>', '(', ')', '$', '`':
			return nil, &SplitError{Offset: i, Msg: fmt.Sprintf("unquoted %q: the command runs without a shell, so pipes, redirections, variables and substitutions do not work; quote it to pass it literally, or run sh -c '…' explicitly", c)}
		case '#':
			if !inWord {
				return nil, &SplitError{Offset: i, Msg: "unquoted '#' starts a shell comment; quote it to pass it literally"}
			}
			cur.WriteByte(c)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return words, nil
}

// SplitError is a command line that splitCommand cannot split. Offset is
// the byte offset of the problem in the input.
type SplitError struct {
	Offset int
	Msg    string
}

func (e *SplitError) Error() string {
	return "split command: at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Template is a parsed hardware command template: argv words, each of which
// may hold placeholders. Placeholders are replaced after splitting, so a
// value with spaces or quotes stays one argument:
//
//	{model}   the model name (gemma3:latest)
//	{slug}    its directory-safe slug (gemma3_latest)
//	{run}     the run number (1-based)
//	{dir}     the run's output directory (<root>/phase2/<slug>)
//	{collector_url} and {insight_url}  the plan's endpoints
//
// Any other {name} is an error, so a misspelt placeholder is caught before
// the suite starts. Write {{ and }} for literal braces.
//
// A Template is immutable and safe for concurrent use.
type Template struct {
	words []string
}

var placeholders = []string{"model", "slug", "run", "dir", "collector_url", "insight_url"}

// ParseTemplate splits s into words as a POSIX shell would (quotes and
// backslashes, no expansion) and checks its placeholders.
func ParseTemplate(s string) (*Template, error) {
	words, err := splitCommand(s)
	if err != nil {
		return nil, fmt.Errorf("command template: %w", err)
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("command template: no command")
	}
	for _, w := range words {
		if _, err := expandWord(w, nil); err != nil {
			return nil, fmt.Errorf("command template: word %q: %w", w, err)
		}
	}
	return &Template{words: words}, nil
}

// Words returns the template's words before expansion.
func (t *Template) Words() []string { return append([]string(nil), t.words...) }

// Expand returns argv with every placeholder replaced by vars[name]. A
// placeholder missing from vars expands to the empty string.
func (t *Template) Expand(vars map[string]string) []string {
	out := make([]string, len(t.words))
	for i, w := range t.words {
		out[i], _ = expandWord(w, vars) // checked by ParseTemplate
	}
	return out
}

// expandWord replaces {name} in w; with vars == nil it only checks names.
func expandWord(w string, vars map[string]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == '{' && i+1 < len(w) && w[i+1] == '{':
			b.WriteByte('{')
			i++
		case c == '}' && i+1 < len(w) && w[i+1] == '}':
			b.WriteByte('}')
			i++
		case c == '{':
			j := strings.IndexByte(w[i:], '}')
			if j < 0 {
				return "", fmt.Errorf("unclosed '{' at byte %d (write {{ for a literal brace)", i)
			}
			name := w[i+1 : i+j]
			known := false
			for _, p := range placeholders {
				known = known || p == name
			}
			if !known {
				return "", fmt.Errorf("unknown placeholder {%s}: want one of {%s} (write {{ for a literal brace)", name, strings.Join(placeholders, "} {"))
			}
			b.WriteString(vars[name])
			i += j
		case c == '}':
			return "", fmt.Errorf("unmatched '}' at byte %d (write }} for a literal brace)", i)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
