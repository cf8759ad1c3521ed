// Package cmdtest helps the commands' tests send real signals: the test
// binary re-runs itself as the command, and a response writer reports when a
// simulated stream has reached a given point.
package cmdtest

import (
	"net/http"
	"os"
	"os/exec"
	"testing"
)

// RunMainIfChild runs main, as the command name, when the test binary was
// started by Command with the same env variable; otherwise it returns. Call
// it first in TestMain.
func RunMainIfChild(env, name string, main func()) {
	if os.Getenv(env) != "1" {
		return
	}
	i := 1
	for i < len(os.Args) && os.Args[i] != "--" {
		i++
	}
	os.Args = append([]string{name}, os.Args[min(i+1, len(os.Args)):]...)
	main()
	os.Exit(0) // main exits itself; not reached
}

// Command returns the test binary started as the command with args, for
// RunMainIfChild with the same env variable to catch.
func Command(env string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), env+"=1")
	return cmd
}

// CountingWriter calls Reached once the response has had At writes (the
// simulator writes and flushes one message per write).
type CountingWriter struct {
	http.ResponseWriter
	At      int
	Reached func()
	n       int
}

func (w *CountingWriter) Write(b []byte) (int, error) {
	w.n++
	if w.n == w.At {
		w.Reached()
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the Flusher underneath.
func (w *CountingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Start starts cmd and waits until ready is closed. If the command exits
// first (it failed to start streaming), the test fails at once with its
// exit status instead of waiting forever. The returned function waits for
// the command to exit and returns cmd.Wait's error.
func Start(t testing.TB, cmd *exec.Cmd, ready <-chan struct{}) (wait func() error) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("%s exited (%v) before it reached the point the test waits for", cmd.Args[0], err)
	}
	return func() error { return <-done }
}
