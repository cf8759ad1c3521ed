//go:build linux

package load

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fineTimer sleeps precisely: a timerfd read through Go's netpoller, which
// wakes on the fd's readiness (within the kernel's timer slack, 50 µs by
// default) instead of rounding its timeout to a millisecond, and parks the
// goroutine, so that the requests the dispatcher has just started run
// meanwhile. It is used by one goroutine.
type fineTimer struct {
	f   *os.File
	fd  int
	buf [8]byte
}

func newFineTimer() (*fineTimer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("load: timerfd: %w", err)
	}
	return &fineTimer{f: os.NewFile(uintptr(fd), "timerfd"), fd: fd}, nil
}

// sleep sleeps for d (positive).
func (t *fineTimer) sleep(d time.Duration) {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if unix.TimerfdSettime(t.fd, 0, &spec, nil) != nil {
		time.Sleep(d)
		return
	}
	// 8 bytes, the expiry count. A file the netpoller could not take
	// would fail at once (EAGAIN) instead of waiting: sleep on Go's
	// timer then, not in a busy loop.
	if _, err := t.f.Read(t.buf[:]); err != nil {
		time.Sleep(d)
	}
}

func (t *fineTimer) close() { t.f.Close() }
