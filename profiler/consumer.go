package profiler

import (
	"context"
	"time"
)

// ConsumerConfig models the client's handling of each streamed message: the
// work an application does per message (decode, bookkeeping, UI), and
// whether that work shares one thread with every other agent's, as in a
// single-threaded asyncio event loop. The zero value does no work per
// message in each agent's own goroutine: the plain Go client.
type ConsumerConfig struct {
	// SingleLoop serialises every agent's per-message handling through one
	// goroutine, in arrival order, and makes the lag probe's wake-up wait
	// for its turn on that goroutine too: an agent's reader waits while its
	// message is queued or handled, and the probe's lag is the loop's lag.
	SingleLoop bool `json:"single_loop"`
	// Cost is CPU busy work (a spin, not a sleep) done per streamed message:
	// on the loop when SingleLoop is set, else in the agent's goroutine.
	// Zero: none. Negative values count as zero.
	Cost time.Duration `json:"cost_ns"`
}

// loopJob is one turn on an eventLoop: spin for cost, then signal done.
type loopJob struct {
	cost time.Duration
	done chan struct{}
}

// eventLoop is a single goroutine that runs jobs one at a time, in the
// order they were submitted. The zero value is not usable; see newEventLoop.
type eventLoop struct {
	jobs chan loopJob
}

func newEventLoop() *eventLoop { return &eventLoop{jobs: make(chan loopJob)} }

// run serves jobs until stop is called. Call it in its own goroutine.
func (l *eventLoop) run() {
	for j := range l.jobs {
		busySpin(j.cost)
		j.done <- struct{}{}
	}
}

// stop ends run once every submitted job has been served. No job may be
// submitted after it.
func (l *eventLoop) stop() { close(l.jobs) }

// do waits for a turn on the loop, spins for cost on it and returns. done
// is the caller's own channel (reused from turn to turn, so that a turn does
// not allocate); it must have no buffer and no other user.
func (l *eventLoop) do(cost time.Duration, done chan struct{}) {
	l.jobs <- loopJob{cost: cost, done: done}
	<-done
}

// spin keeps the CPU busy for d.
func busySpin(d time.Duration) {
	if d <= 0 {
		return
	}
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
}

// consumer returns the per-message callback of one agent for cfg on loop
// (nil unless cfg.SingleLoop). The callback does not allocate.
func consumer(cfg ConsumerConfig, loop *eventLoop) func(*Message) error {
	switch {
	case loop != nil:
		done := make(chan struct{})
		return func(*Message) error {
			loop.do(cfg.Cost, done)
			return nil
		}
	case cfg.Cost > 0:
		return func(*Message) error {
			busySpin(cfg.Cost)
			return nil
		}
	default:
		return func(*Message) error { return nil }
	}
}

// loopGate returns the lag probe's gate for loop: wait for a turn (of no
// work) on the loop, or for ctx. Nil without a loop.
func loopGate(loop *eventLoop) func(ctx context.Context) {
	if loop == nil {
		return nil
	}
	done := make(chan struct{})
	return func(ctx context.Context) {
		select {
		case loop.jobs <- loopJob{done: done}:
			<-done
		case <-ctx.Done():
		}
	}
}
