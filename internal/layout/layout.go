// Package layout names the files and directories tr117 writes: the seed's
// model slug and a join that cannot leave the output root.
package layout

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Slug turns a model name into a directory name the way the seed did: every
// run of characters other than ASCII letters and digits becomes one '_', and
// leading and trailing '_' are trimmed ("gemma3:latest" → "gemma3_latest",
// "qwen2.5:7b" → "qwen2_5_7b"). A name with no letters or digits gives
// "unnamed". The result never contains a path separator or "..".
func Slug(name string) string {
	b := make([]byte, 0, len(name))
	pendingSep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			if pendingSep && len(b) > 0 {
				b = append(b, '_')
			}
			pendingSep = false
			b = append(b, c)
			continue
		}
		pendingSep = true
	}
	if len(b) == 0 {
		return "unnamed"
	}
	return string(b)
}

// Join joins elems under root and returns an error if the result would lie
// outside root (an element that is absolute, or climbs out with "..").
func Join(root string, elems ...string) (string, error) {
	p := filepath.Join(append([]string{root}, elems...)...)
	rel, err := filepath.Rel(filepath.Clean(root), p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("layout: %q leaves output directory %s", filepath.Join(elems...), root)
	}
	for _, e := range elems {
		if filepath.IsAbs(e) {
			return "", fmt.Errorf("layout: %q is absolute; want a path inside %s", e, root)
		}
	}
	return p, nil
}
