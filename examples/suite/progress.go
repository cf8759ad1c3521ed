package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"tr117/suite"
)

// progress is the command's suite.Progress: on a terminal, one bar
// redrawn in place ("[#####-----] 12/25 mri gemma3:latest buf8192 run 2/5
// ETA 1m20s"); otherwise one plain line per event. It is safe for
// concurrent use (the ticker of keepDrawing redraws it).
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	width   int
	total   int
	done    int // finished (ok or failed), including those from earlier sessions
	skipped int // finished in an earlier session
	failed  int
	cur     string
	curAt   time.Time // when the current run started
	start   time.Time
	spent   time.Duration // time spent on runs finished in this session
	now     func() time.Time
	drawn   bool
}

// newProgress returns a progress writing to w. It draws a bar when w is a
// terminal (an *os.File, or anything with an Fd method, for which
// golang.org/x/term says so), plain lines otherwise. A nil w discards
// everything. The total number of runs comes with Resumed.
func newProgress(w io.Writer) *progress {
	p := &progress{w: w, now: time.Now, width: 80}
	if f, ok := w.(interface{ Fd() uintptr }); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
		if wd, _, err := term.GetSize(int(f.Fd())); err == nil && wd > 20 {
			p.width = wd
		}
	}
	p.start = p.now()
	return p
}

// Resumed records the plan's total runs, n of them finished in an
// earlier session.
func (p *progress) Resumed(n, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
	p.done += n
	p.skipped += n
	if n > 0 {
		p.linef("resuming: %d of %d runs already finished", n, p.total)
	}
}

// Start records that run r has begun.
func (p *progress) Start(r suite.Run, runsInCondition int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.Phase == suite.PhaseTokenizers {
		p.cur = "tokenizers"
	} else {
		p.cur = fmt.Sprintf("%s %s", r.Phase, r.Model)
		if c := r.Condition(); c != "" {
			p.cur += " " + c
		}
		p.cur += fmt.Sprintf(" run %d/%d", r.Index, runsInCondition)
	}
	p.curAt = p.now()
	if p.tty {
		p.drawLocked()
		return
	}
	p.linef("[%d/%d] start %s", p.done+1, p.total, p.cur)
}

// Finish records that run r ended after d, with err if it failed.
func (p *progress) Finish(r suite.Run, d time.Duration, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.spent += d
	status := "ok"
	if err != nil {
		p.failed++
		// A joined error (both agents failed) has several lines: indent
		// the later ones so they read as part of this run's entry.
		status = "FAILED: " + strings.ReplaceAll(strings.TrimRight(err.Error(), "\n"), "\n", "\n    ")
	}
	// The run is over: its time is in spent, not still running.
	p.cur = ""
	if p.tty {
		if err != nil {
			p.linef("%s %s", r, status)
		}
		p.drawLocked()
		return
	}
	// The ETA goes before the status, which may run over several lines.
	p.linef("[%d/%d] done  %s in %s%s: %s", p.done, p.total, r, d.Round(10*time.Millisecond), p.etaSuffixLocked(), status)
}

// Redraw redraws the bar (on a terminal; elsewhere it does nothing), so
// that the ETA counts down during a long run; keepDrawing calls it once a
// second.
func (p *progress) Redraw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		p.drawLocked()
	}
}

// IsTerminal reports whether the progress is drawn as a bar.
func (p *progress) IsTerminal() bool { return p.tty }

// Note writes a message line without breaking the bar.
func (p *progress) Note(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.linef("%s", msg)
}

// Close ends the bar with a newline.
func (p *progress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn && p.w != nil {
		fmt.Fprint(p.w, "\n")
		p.drawn = false
	}
}

// eta estimates the time left from the mean duration of the runs finished
// in this session, less the time the current run has already taken; ok is
// false before the first one.
func (p *progress) etaLocked() (time.Duration, bool) {
	n := p.done - p.skipped
	if n <= 0 {
		return 0, false
	}
	left := p.total - p.done
	eta := time.Duration(int64(p.spent) / int64(n) * int64(left))
	if p.cur != "" {
		eta = max(0, eta-p.now().Sub(p.curAt))
	}
	return eta, true
}

func (p *progress) etaSuffixLocked() string {
	if eta, ok := p.etaLocked(); ok && p.done < p.total {
		return fmt.Sprintf(" (ETA %s)", fmtDur(eta))
	}
	return ""
}

func fmtDur(d time.Duration) string { return d.Round(time.Second).String() }

func (p *progress) linef(format string, args ...any) {
	if p.w == nil {
		return
	}
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
	fmt.Fprintf(p.w, format+"\n", args...)
	if p.tty {
		p.drawLocked()
	}
}

func (p *progress) drawLocked() {
	if p.w == nil || p.total == 0 {
		return
	}
	eta := "ETA --"
	if d, ok := p.etaLocked(); ok {
		eta = "ETA " + fmtDur(d)
	}
	if p.done >= p.total {
		eta = "done in " + fmtDur(p.now().Sub(p.start))
	}
	tail := fmt.Sprintf(" %d/%d", p.done, p.total)
	if p.failed > 0 {
		tail += fmt.Sprintf(" (%d failed)", p.failed)
	}
	tail += "  " + eta
	if p.cur != "" {
		tail += "  " + p.cur
	}
	barW := 30
	if p.width < 80 {
		barW = 10
	}
	filled := barW * p.done / p.total
	line := "[" + strings.Repeat("#", filled) + strings.Repeat("-", barW-filled) + "]" + tail
	if len(line) > p.width-1 {
		line = line[:p.width-1]
	}
	fmt.Fprint(p.w, "\r\033[K"+line)
	p.drawn = true
}

// keepDrawing redraws p's bar once a second, so that its ETA moves during
// long runs, until the returned stop is called; stop returns once the
// redrawing goroutine has ended. On anything but a terminal it does
// nothing.
func keepDrawing(p *progress) (stop func()) {
	if !p.IsTerminal() {
		return func() {}
	}
	tick := time.NewTicker(time.Second)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-tick.C:
				p.Redraw()
			case <-quit:
				return
			}
		}
	}()
	return func() { tick.Stop(); close(quit); <-done }
}
