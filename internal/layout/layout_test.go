package layout

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"gemma3:latest", "gemma3_latest"},
		{"qwen2.5:7b", "qwen2_5_7b"},
		{"llama3.1:8b-instruct-q4_0", "llama3_1_8b_instruct_q4_0"},
		{"hf.co/org/Model-GGUF:Q4_K_M", "hf_co_org_Model_GGUF_Q4_K_M"},
		{"../../etc/passwd", "etc_passwd"},
		{"::", "unnamed"},
		{"", "unnamed"},
		{"modèle:latest", "mod_le_latest"},
		{"__a__b__", "a_b"},
	}
	for _, tt := range tests {
		if got := Slug(tt.in); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestJoin(t *testing.T) {
	root := t.TempDir()
	ok := [][]string{{"phase1", "gemma3_latest", "default"}, {"a/../b"}, {"."}}
	for _, elems := range ok {
		p, err := Join(root, elems...)
		if err != nil {
			t.Errorf("Join(%q) = %v", elems, err)
			continue
		}
		if !strings.HasPrefix(p, root) {
			t.Errorf("Join(%q) = %q, outside %q", elems, p, root)
		}
	}
	bad := [][]string{{".."}, {"phase1", "../../x"}, {"/etc"}, {"a", "..", ".."}}
	for _, elems := range bad {
		if p, err := Join(root, elems...); err == nil {
			t.Errorf("Join(%q) = %q, want an error", elems, p)
		}
	}
}

func FuzzSlug(f *testing.F) {
	for _, s := range []string{"gemma3:latest", "../x", "", "a/b\\c", "\x00"} {
		f.Add(s)
	}
	root := filepath.FromSlash("/out")
	f.Fuzz(func(t *testing.T, name string) {
		s := Slug(name)
		if s == "" || strings.ContainsAny(s, `/\.:`) || strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") {
			t.Fatalf("Slug(%q) = %q", name, s)
		}
		if Slug(s) != s {
			t.Fatalf("Slug not idempotent on %q", s)
		}
		p, err := Join(root, "phase1", s)
		if err != nil || filepath.Dir(filepath.Dir(p)) != root {
			t.Fatalf("Join with slug %q = %q, %v", s, p, err)
		}
	})
}
