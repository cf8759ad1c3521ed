package profiler

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://localhost:11434", true},
		{"https://gpu-box:443/", true},
		{"http://127.0.0.1:11435", true},
		{"notaurl", false},
		{"localhost:11434", false},
		{"ftp://host", false},
		{"http://", false},
		{"", false},
		{"http://bad host", false},
	} {
		err := CheckURL(tc.url)
		if (err == nil) != tc.ok || err != nil && !strings.HasPrefix(err.Error(), "profiler: ") {
			t.Errorf("CheckURL(%q) = %v, want ok %v", tc.url, err, tc.ok)
		}
	}
	// NewRunner rejects such an agent up front, naming it.
	_, err := NewRunner(Config{Agents: []Agent{{ID: "collector", URL: "notaurl", Model: "m"}}}, Sinks{})
	if err == nil || err.Error() != `profiler: agent collector: URL "notaurl" is not an http:// or https:// URL with a host` {
		t.Errorf("NewRunner with URL notaurl: %v", err)
	}
}

func TestPrepareOutputDir(t *testing.T) {
	write := func(t *testing.T, dir string, names ...string) {
		t.Helper()
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	list := func(t *testing.T, dir string) []string {
		t.Helper()
		es, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}
	t.Run("missing or unrelated", func(t *testing.T) {
		dir := t.TempDir()
		if err := PrepareOutputDir(filepath.Join(dir, "new"), false); err != nil {
			t.Errorf("missing dir: %v", err)
		}
		write(t, dir, "notes.txt", "run_x.json", "run_.json", "gpu_metrics.csv")
		if err := PrepareOutputDir(dir, false); err != nil {
			t.Errorf("dir without results: %v", err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "run_2.json")
		err := PrepareOutputDir(dir, false)
		if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), filepath.Join(dir, "run_2.json")) || !strings.HasPrefix(err.Error(), "profiler: ") {
			t.Errorf("error %v, want fs.ErrExist naming run_2.json", err)
		}
		if got := list(t, dir); !slices.Equal(got, []string{"run_2.json"}) {
			t.Errorf("refusing removed files: %v", got)
		}
	})
	t.Run("overwrite", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "run_1.json", "run_12.json", "summary.json", "chunk_metrics.csv", "loop_lag.csv", "notes.txt", "gpu_metrics.csv")
		if err := PrepareOutputDir(dir, true); err != nil {
			t.Fatal(err)
		}
		if got := list(t, dir); !slices.Equal(got, []string{"gpu_metrics.csv", "notes.txt"}) {
			t.Errorf("left %v, want only the files the commands do not write", got)
		}
	})
}
