package layout

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Earlier results are refused, naming one and counting the rest; with
// overwrite they, and only they, are removed.
func TestPrepare(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{Summary, "run_1.json", "notes.txt"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	result := func(e fs.DirEntry) bool { return e.Name() != "notes.txt" }
	err := Prepare(dir, false, result)
	if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "and 1 more") || !strings.HasPrefix(err.Error(), "output directory "+dir) {
		t.Fatalf("Prepare = %v, want fs.ErrExist naming one result and 1 more", err)
	}
	if err := Prepare(dir, true, result); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 1 || left[0].Name() != "notes.txt" {
		t.Errorf("left %v, want notes.txt alone", left)
	}
	if err := Prepare(filepath.Join(dir, "missing"), false, result); err != nil {
		t.Errorf("a dir that does not exist: %v", err)
	}
}
