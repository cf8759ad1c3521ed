package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tr117/profiler/ollamatest"
)

// With --backend auto, one dead endpoint is an error naming it: the
// suite falls back to the simulators only when neither answers.
func TestAutoRefusesOneDeadEndpoint(t *testing.T) {
	live := ollamatest.NewServer(ollamatest.Config{})
	defer live.Close()
	dead := deadURL(t)
	root := filepath.Join(t.TempDir(), "out")
	code, out, errs := runCmd(t, "--collector-url", live.URL, "--insight-url", dead, "--output-root", root, "--runs", "1")
	if code != 1 || !strings.Contains(errs, "insight endpoint "+dead) || strings.Contains(errs, "collector endpoint") || strings.Contains(out, "SIMULATED") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if _, err := os.Stat(root); err == nil {
		t.Errorf("%s was created", root)
	}
}
