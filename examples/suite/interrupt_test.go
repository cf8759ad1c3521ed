package main

import (
	"context"
	"strings"
	"testing"

	"tr117/suite"
)

// cancelOnWrite cancels a context when the progress output contains s.
type cancelOnWrite struct {
	strings.Builder
	s      string
	cancel context.CancelFunc
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	n, err := w.Builder.Write(p)
	if strings.Contains(w.String(), w.s) {
		w.cancel()
	}
	return n, err
}

// An interrupted suite exits 130, as a shell reports a command that
// SIGINT ended, after recording the finished runs.
func TestInterruptExits130(t *testing.T) {
	root := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelOnWrite{s: "] done ", cancel: cancel}
	var errb strings.Builder
	code := run(ctx, []string{"--backend", "sim", "--runs", "1", "--num-predict", "16", "--sim-tokens-per-sec", "1000", "--output-root", root}, out, &errb)
	if code != 130 || !strings.Contains(errb.String(), "interrupted") {
		t.Fatalf("exit %d, want 130\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	man, err := suite.ReadManifest(root)
	if err != nil || len(man.Runs) == 0 || man.Runs[0].Status != suite.StatusOK {
		t.Errorf("manifest after the interrupt: %v %+v", err, man)
	}
}
