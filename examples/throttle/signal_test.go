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

	"tr117/profiler/ollamatest"
)

// envRunMain makes the test binary run the command's main instead of the
// tests, so that a test can send a real SIGINT to the command without
// building it.
const envRunMain = "TR117_TEST_RUN_THROTTLE_MAIN"

// runMainIfAsked runs main when the test binary was started as the command.
func runMainIfAsked() {
	if os.Getenv(envRunMain) != "1" {
		return
	}
	i := 1
	for i < len(os.Args) && os.Args[i] != "--" {
		i++
	}
	os.Args = append([]string{"throttle"}, os.Args[min(i+1, len(os.Args)):]...)
	main()
	os.Exit(0) // main exits; this is not reached
}

// countingWriter calls reached once a response has had at writes (the
// simulator writes and flushes one message per write).
type countingWriter struct {
	http.ResponseWriter
	n, at   int
	reached func()
}

func (w *countingWriter) Write(b []byte) (int, error) {
	w.n++
	if w.n == w.at {
		w.reached()
	}
	return w.ResponseWriter.Write(b)
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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
		h.ServeHTTP(&countingWriter{ResponseWriter: w, at: 5, reached: func() { once.Do(wg.Done) }}, r)
	}))
	defer srv.Close()
	defer h.Close() // ends the streams before srv.Close waits for them

	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "--runs", "3", "--throttle-rate", "20", "--output-dir", dir,
		"--collector-ollama-url", srv.URL, "--insight-ollama-url", srv.URL)
	cmd.Env = append(os.Environ(), envRunMain+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
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
