package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"tr117/examples/internal/cmdtest"
	"tr117/profiler/ollamatest"
)

// envRunMain makes the test binary run the command's main instead of the
// tests (see cmdtest.RunMainIfChild), so that a test can send a real SIGINT
// to the command without building it.
const envRunMain = "TR117_TEST_RUN_PROFILER_MAIN"

// TestSIGINT sends a real SIGINT to the command while both agents are
// mid-stream (the server has sent each 5 tokens and then stalls): the
// command exits 130, run_1.json holds each agent's interruption, and the CSVs
// and summary.json are written. (How many of the 5 tokens the client had
// read when the signal came is not known here; TestProfilerInterrupted
// checks that what was read is kept.)
func TestSIGINT(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("os.Process.Signal cannot send SIGINT on Windows")
	}
	var wg sync.WaitGroup
	wg.Add(2) // both agents have 5 messages
	h := ollamatest.NewHandler(ollamatest.Config{TTFT: -1, Unpaced: true,
		Faults: map[string]ollamatest.Fault{"gemma3:latest": {Kind: ollamatest.FaultStall, After: 5}}})
	defer h.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var once sync.Once
		h.ServeHTTP(&cmdtest.CountingWriter{ResponseWriter: w, At: 5, Reached: func() { once.Do(wg.Done) }}, r)
	}))
	defer srv.Close()
	defer h.Close() // ends the stalled streams before srv.Close waits for them

	dir := t.TempDir()
	cmd := cmdtest.Command(envRunMain, "--runs", "3", "--solo-baseline=false", "--output-dir", dir,
		"--collector-ollama-url", srv.URL, "--insight-ollama-url", srv.URL)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ready := make(chan struct{})
	go func() { wg.Wait(); close(ready) }()
	wait := cmdtest.Start(t, cmd, ready)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted after 1 of 3 runs") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	var rr struct {
		Agents []struct {
			ID, Error string
			Metrics   struct {
				TokensGenerated int `json:"tokens_generated"`
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "run_1.json"))
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if err := json.Unmarshal(b, &rr); err != nil {
		t.Fatal(err)
	}
	for _, a := range rr.Agents {
		if !strings.HasPrefix(a.Error, "profiler: agent "+a.ID+": "+srv.URL+"/api/generate") || !strings.HasSuffix(a.Error, "context canceled") || a.Metrics.TokensGenerated > 5 {
			t.Errorf("agent %s: error %q, %d tokens", a.ID, a.Error, a.Metrics.TokensGenerated)
		}
	}
	for _, name := range []string{"chunk_metrics.csv", "loop_lag.csv"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(rows) < 1 {
			t.Errorf("%s: %d rows, %v", name, len(rows), err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "summary.json")); err != nil {
		t.Error(err)
	}
}
