package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"tr117/suite"
)

func TestProgressPlain(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b)
	p.total = 4
	clock := time.Unix(0, 0)
	p.now = func() time.Time { return clock }
	p.Resumed(1, 4)
	r := suite.Run{Phase: suite.PhaseMRI, Model: "gemma3:latest", Buffer: 8192, Index: 2}
	p.Start(r, 5)
	p.Finish(r, 2*time.Second, nil)
	r.Index = 3
	p.Start(r, 5)
	p.Finish(r, 4*time.Second, errors.New("boom"))
	p.Close()
	want := `resuming: 1 of 4 runs already finished
[2/4] start mri gemma3:latest buf8192 run 2/5
[2/4] done  mri gemma3:latest buf8192 run 2 in 2s (ETA 4s): ok
[3/4] start mri gemma3:latest buf8192 run 3/5
[3/4] done  mri gemma3:latest buf8192 run 3 in 4s (ETA 3s): FAILED: boom
`
	if b.String() != want {
		t.Errorf("progress:\n%s\nwant:\n%s", b.String(), want)
	}
}

// A multi-line error (both agents failed) stays after the ETA, its later
// lines indented under the run's line.
func TestProgressMultiLineError(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b)
	p.total = 2
	clock := time.Unix(0, 0)
	p.now = func() time.Time { return clock }
	r := suite.Run{Phase: suite.PhaseHardware, Model: "gemma3:latest", Index: 1}
	p.Start(r, 1)
	p.Finish(r, time.Second, errors.Join(errors.New("profiler: agent collector: not found"), errors.New("profiler: agent insight: not found")))
	p.Close()
	want := `[1/2] start hardware gemma3:latest run 1/1
[1/2] done  hardware gemma3:latest run 1 in 1s (ETA 1s): FAILED: profiler: agent collector: not found
    profiler: agent insight: not found
`
	if b.String() != want {
		t.Errorf("progress:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestProgressBar(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b)
	p.total = 2
	p.tty, p.width = true, 100
	r := suite.Run{Phase: suite.PhaseHardware, Model: "qwen2.5:7b", Index: 1}
	p.Start(r, 2)
	p.Finish(r, time.Second, nil)
	p.Close()
	out := b.String()
	if !strings.Contains(out, "\r\033[K[---") || !strings.Contains(out, "0/2  ETA --  hardware qwen2.5:7b run 1/2") || !strings.Contains(out, "1/2  ETA 1s") || !strings.HasSuffix(out, "\n") {
		t.Errorf("bar output %q", out)
	}
}

// TestProgressETACountsDown: between events, Redraw moves the ETA by the
// time the current run has taken.
func TestProgressETACountsDown(t *testing.T) {
	var b strings.Builder
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newProgress(&b)
	p.total = 3
	p.tty, p.width, p.now = true, 100, func() time.Time { return now }
	r := suite.Run{Phase: suite.PhaseMRI, Model: "m", Index: 1}
	p.Start(r, 3)
	now = now.Add(10 * time.Second)
	p.Finish(r, 10*time.Second, nil)
	r.Index = 2
	p.Start(r, 3)
	if !strings.HasSuffix(b.String(), "1/3  ETA 20s  mri m default run 2/3") {
		t.Fatalf("bar at the start of run 2: %q", b.String())
	}
	now = now.Add(7 * time.Second)
	p.Redraw()
	if !strings.HasSuffix(b.String(), "1/3  ETA 13s  mri m default run 2/3") {
		t.Errorf("bar 7s into run 2: %q", b.String())
	}
	b.Reset()
	p.tty = false
	p.Redraw()
	if b.Len() != 0 {
		t.Errorf("Redraw wrote %q when not on a terminal", b.String())
	}
}

// The ETA printed as a run finishes counts the runs left at the mean
// duration; the finished run's own time is not taken off again (a 4-minute
// run printed "ETA 0s" with three runs to go).
func TestProgressETAAfterLongRun(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b)
	p.total = 4
	clock := time.Unix(0, 0)
	p.now = func() time.Time { return clock }
	r := suite.Run{Phase: suite.PhaseThrottle, Model: "tiny", Rate: 60, Index: 1}
	p.Start(r, 4)
	clock = clock.Add(4 * time.Minute)
	p.Finish(r, 4*time.Minute, nil)
	if !strings.Contains(b.String(), "(ETA 12m0s)") {
		t.Errorf("progress:\n%s\nwant ETA 12m0s for three 4-minute runs left", b.String())
	}
}
