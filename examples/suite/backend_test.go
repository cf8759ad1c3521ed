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

// Simulated results go to their own default root, so that a later real
// study neither stops on them nor mixes with them; an explicit root that
// holds results of another backend is refused with the way out, naming
// both backends.
func TestSimulatedResultsKeepTheirOwnRoot(t *testing.T) {
	t.Chdir(t.TempDir())
	fast := []string{"--runs", "1", "--num-predict", "4", "--sim-tokens-per-sec", "2000", "--throttle-rates", "1000"}
	code, out, errs := runCmd(t, append([]string{"--backend", "sim"}, fast...)...)
	if code != 0 || !strings.Contains(out, filepath.Join("tr117-results-sim", "report.md")) {
		t.Fatalf("--backend sim: exit %d\n%s\n%s", code, out, errs)
	}
	if _, err := os.Stat("tr117-results"); err == nil {
		t.Error("simulated results went to tr117-results")
	}
	// Simulators listening where real servers are expected are simulated
	// data too: they go to the simulated root, here refused as another backend.
	a, b := ollamatest.NewServer(ollamatest.Config{}), ollamatest.NewServer(ollamatest.Config{})
	defer a.Close()
	defer b.Close()
	code, out, errs = runCmd(t, append([]string{"--backend", "ollama", "--collector-url", a.URL, "--insight-url", b.URL}, fast...)...)
	if code != 2 || !strings.HasPrefix(out, "SIMULATED: the servers at") || !strings.Contains(errs, "suite: tr117-results-sim holds results measured with backend sim (embedded simulators), now ollama (servers at the given URLs, answering as tr117's simulators)") ||
		!strings.Contains(errs, "--overwrite") || !strings.Contains(errs, "--output-root DIR") {
		t.Errorf("--backend ollama on simulators: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

// The suite checks that it can write its results before it starts
// anything (the simulators included).
func TestUnwritableRootFailsFirst(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "--backend", "sim", "--output-root", filepath.Join(file, "out"))
	if code != 1 || out != "" || !strings.HasPrefix(errs, "suite: cannot write results to ") || strings.Count(errs, "\n") != 1 {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, out, errs)
	}
}
