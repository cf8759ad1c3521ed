package suite

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   \t\n ", nil},
		{"a b  c", []string{"a", "b", "c"}},
		{`python run.py --model {model}`, []string{"python", "run.py", "--model", "{model}"}},
		{`echo 'a b' "c d"`, []string{"echo", "a b", "c d"}},
		{`'a'"b"c`, []string{"abc"}},
		{`"" ''`, []string{"", ""}},
		{`a\ b`, []string{"a b"}},
		{"a\\\nb", []string{"ab"}},
		{`"a\"b\\c\$d\e"`, []string{`a"b\c$d\e`}},
		{`'it'\''s'`, []string{"it's"}},
		{`'$HOME | x'`, []string{"$HOME | x"}},
		{`a#b`, []string{"a#b"}},
		{`*.txt ~/x [ab]`, []string{"*.txt", "~/x", "[ab]"}},
		{`--prompt="hello world" x`, []string{"--prompt=hello world", "x"}},
		{"\"multi\nline\"", []string{"multi\nline"}},
		{`"a\` + "\n" + `b"`, []string{"ab"}},
	}
	for _, tt := range tests {
		got, err := splitCommand(tt.in)
		if err != nil {
			t.Errorf("splitCommand(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitCommand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitCommandErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		msg    string
	}{
		{`echo 'abc`, 5, "unterminated single quote"},
		{`echo "abc`, 5, "unterminated double quote"},
		{`echo abc\`, 8, "trailing backslash"},
		{`cmd > out`, 4, "without a shell"},
		{`a | b`, 2, "without a shell"},
		{`a && b`, 2, "without a shell"},
		{`echo $HOME`, 5, "without a shell"},
		{`echo "$HOME"`, 6, "expanded by a shell"},
		{"echo `id`", 5, "without a shell"},
		{`echo # note`, 5, "comment"},
		{`a;b`, 1, "without a shell"},
		{`(a)`, 0, "without a shell"},
	}
	for _, tt := range tests {
		_, err := splitCommand(tt.in)
		var se *SplitError
		if !errors.As(err, &se) {
			t.Errorf("splitCommand(%q) error = %v, want *SplitError", tt.in, err)
			continue
		}
		if se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("splitCommand(%q) = offset %d %q, want offset %d containing %q", tt.in, se.Offset, se.Msg, tt.offset, tt.msg)
		}
	}
}

func TestTemplate(t *testing.T) {
	tpl, err := ParseTemplate(`go run ./examples/profiler --model {model} --output-dir '{dir}/agent output' --tag={slug}-r{run} --json '{{"a":1}}'`)
	if err != nil {
		t.Fatal(err)
	}
	got := tpl.Expand(map[string]string{"model": "qwen2.5:7b it's", "slug": "qwen2_5_7b", "run": "3", "dir": "/r/phase2/qwen2_5_7b"})
	want := []string{"go", "run", "./examples/profiler", "--model", "qwen2.5:7b it's", "--output-dir", "/r/phase2/qwen2_5_7b/agent output", "--tag=qwen2_5_7b-r3", "--json", `{"a":1}`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Expand = %q\nwant %q", got, want)
	}
	for _, bad := range []string{"", "  ", "run {modle}", "run {model", "run model}", "run 'x"} {
		if _, err := ParseTemplate(bad); err == nil {
			t.Errorf("ParseTemplate(%q) succeeded, want error", bad)
		}
	}
}

func TestQuoteWordRoundTrip(t *testing.T) {
	words := []string{"", "plain", "a b", "it's", `"q"`, "$HOME", "a\nb", "\\", "{model}", "#x", "ü"}
	var parts []string
	for _, w := range words {
		parts = append(parts, quoteWord(w))
	}
	got, err := splitCommand(strings.Join(parts, " "))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, words) {
		t.Errorf("round trip = %q, want %q", got, words)
	}
}

func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{`a 'b c' "d\"e" f\ g`, `x "$y"`, `'`, `"\`, "a\\\nb", `a#b #c`, `{model} {{x}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := splitCommand(s)
		if err != nil {
			var se *SplitError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset >= len(s) {
				t.Fatalf("splitCommand(%q): bad error %v", s, err)
			}
			return
		}
		// Quoting the words and splitting again gives the same words.
		var parts []string
		for _, w := range words {
			parts = append(parts, quoteWord(w))
		}
		again, err := splitCommand(strings.Join(parts, " "))
		if err != nil {
			t.Fatalf("re-split of %q: %v", parts, err)
		}
		if len(again) != len(words) || (len(words) > 0 && !reflect.DeepEqual(again, words)) {
			t.Fatalf("splitCommand(%q) = %q; re-split %q", s, words, again)
		}
		// A word never contains an unquoted separator unless the input quoted or escaped one.
		if !strings.ContainsAny(s, `'"\`) {
			for _, w := range words {
				if strings.ContainsAny(w, " \t\n") {
					t.Fatalf("word %q of unquoted %q holds a blank", w, s)
				}
			}
		}
	})
}

// quoteWord returns w quoted for a POSIX shell so that SplitCommand (or sh)
// reads it back as the single word w.
func quoteWord(w string) string {
	if w == "" {
		return "''"
	}
	safe := true
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_./:=,+@%", c) >= 0) {
			safe = false
			break
		}
	}
	if safe {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}
