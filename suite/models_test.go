package suite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tr117/profiler/ollamatest"
)

// Servers that answer but lack the plan's models stop the suite before
// its first run, with an error naming the models, the endpoint and what it
// has; nothing is measured and no run directory is written.
func TestMissingModelsFailBeforeRunning(t *testing.T) {
	var urls []string
	for i := 0; i < 2; i++ {
		srv := ollamatest.NewServer(ollamatest.Config{Models: []string{"tiny", "gemma3"}, Unpaced: true})
		t.Cleanup(func() { srv.Close() })
		urls = append(urls, srv.URL)
	}
	root := t.TempDir()
	// gemma3 (no tag) is gemma3:latest, which the servers have.
	plan := Plan{CollectorURL: urls[0], InsightURL: urls[1], MRI: MRIPlan{Models: []string{"gemma3"}}}
	plan.SetRuns(1)
	res, err := Execute(context.Background(), Config{Plan: plan, OutputRoot: root, Backend: BackendOllama})
	var me *MissingModelsError
	if !errors.As(err, &me) || res != nil {
		t.Fatalf("Execute: %v (result %v), want a *MissingModelsError", err, res)
	}
	// The servers are simulators: pulling would not help, so the error
	// does not advise it.
	want := "suite: qwen2.5:7b is not on collector " + urls[0] + ", tr117's simulator (it has: gemma3:latest, tiny:latest)"
	if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "insight "+urls[1]) || strings.Contains(err.Error(), "ollama pull") {
		t.Errorf("error:\n%v\nwant it to start with %q and name the insight endpoint", err, want)
	}
	if me.Role != "collector" || strings.Join(me.Missing, ",") != "qwen2.5:7b" {
		t.Errorf("error fields %+v", me)
	}
	for _, name := range []string{"phase1", "phase2", "phase3", ManifestFile, ReportMarkdown} {
		if _, err := os.Stat(filepath.Join(root, name)); err == nil {
			t.Errorf("%s was written", name)
		}
	}
}

// A real server lacking a model is told to pull it; the simulator is not.
func TestMissingModelsAdvice(t *testing.T) {
	real := &MissingModelsError{Role: "collector", URL: "http://127.0.0.1:11434", Missing: []string{"gemma3:latest"}, Have: []string{"tiny:latest"}}
	if got := real.Error(); !strings.Contains(got, "ollama pull it there") {
		t.Errorf("real server: %q, want pull advice", got)
	}
	sim := *real
	sim.Simulated = true
	if got := sim.Error(); strings.Contains(got, "pull") || !strings.Contains(got, "tr117's simulator (it has: tiny:latest)") {
		t.Errorf("simulator: %q, want no pull advice and its models", got)
	}
}
