package main

import (
	"bytes"
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
const envRunMain = "TR117_TEST_RUN_THROTTLE_MAIN"

// TestSIGINT sends a real SIGINT to the command while both agents stream
// through a 20 tok/s bucket that starts empty (the server sends 500 tok/s,
// so the readers are waiting for tokens): the run ends, run_1.json and
// summary.json are written, no second run starts, and the exit code is 130.
func TestSIGINT(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("os.Process.Signal cannot send SIGINT on Windows")
	}
	var wg sync.WaitGroup
	wg.Add(2) // both agents' streams have started
	h := ollamatest.NewHandler(ollamatest.Config{TokensPerSecond: 500, TTFT: -1, ResponseTokens: 100000})
	defer h.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var once sync.Once
		h.ServeHTTP(&cmdtest.CountingWriter{ResponseWriter: w, At: 5, Reached: func() { once.Do(wg.Done) }}, r)
	}))
	defer srv.Close()
	defer h.Close() // ends the streams before srv.Close waits for them

	dir := t.TempDir()
	cmd := cmdtest.Command(envRunMain, "--runs", "3", "--solo-baseline=false", "--throttle-rate", "20", "--output-dir", dir,
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
	var doc struct {
		Agents []struct{ ID, Error string }
	}
	b, err := os.ReadFile(filepath.Join(dir, "run_1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, a := range doc.Agents {
		if !strings.HasSuffix(a.Error, "context canceled") {
			t.Errorf("agent %s: error %q", a.ID, a.Error)
		}
	}
	for _, name := range []string{"summary.json", "chunk_metrics.csv", "loop_lag.csv"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "run_2.json")); err == nil {
		t.Error("run 2 ran after the interrupt")
	}
}
