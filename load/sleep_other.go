//go:build !linux

package load

import "time"

// fineTimer sleeps on Go's timers where there is no timerfd.
type fineTimer struct{}

func newFineTimer() (*fineTimer, error) { return &fineTimer{}, nil }

func (*fineTimer) sleep(d time.Duration) { time.Sleep(d) }

func (*fineTimer) close() {}
