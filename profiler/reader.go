package profiler

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// ReadMode says how a response body is cut into chunks: the unit of
// chunk_metrics.csv and the moment at which the messages a chunk completes
// are handed on.
type ReadMode string

const (
	// ReadBound hands on what each transport read returned, at most
	// ReadBufferSize bytes: a chunk is whatever the server had flushed.
	// It is the default.
	ReadBound ReadMode = "bound"
	// ReadExact re-chunks the body into pieces of exactly ReadBufferSize
	// bytes (the last one holds the rest), reading as often as it takes to
	// fill one, as httpx's aiter_bytes(chunk_size=N) does: messages wait
	// until the piece that completes them is full. Without a
	// ReadBufferSize it is the same as ReadBound.
	ReadExact ReadMode = "exact"
)

// ParseReadMode accepts "bound", "exact" and "" (bound).
func ParseReadMode(s string) (ReadMode, error) {
	switch ReadMode(s) {
	case "", ReadBound:
		return ReadBound, nil
	case ReadExact:
		return ReadExact, nil
	}
	return "", fmt.Errorf("profiler: unknown read mode %q (want bound or exact)", s)
}

// bodyReader reads a response body into a growing buffer, one chunk at a
// time, and holds the bytes a framer has not consumed: buf[lo:hi], of
// which buf[lo:scan] the framer has already looked at.
type bodyReader struct {
	body  io.Reader
	size  int  // bytes per chunk (at most, or exactly)
	exact bool // ReadExact
	buf   []byte

	lo, scan, hi int

	// last, when set, is stored with each read's time since start, for
	// the idle watchdog.
	last  *atomic.Int64
	start time.Time
}

// reset prepares r to read body, keeping its buffer.
func (r *bodyReader) reset(body io.Reader, size int, exact bool) {
	*r = bodyReader{body: body, size: size, exact: exact, buf: r.buf}
	if cap(r.buf) < 2*size {
		r.buf = make([]byte, 2*size)
	}
	r.buf = r.buf[:cap(r.buf)]
}

// makeRoom moves the unconsumed bytes to the front of the buffer, or grows
// it, so that a whole chunk fits after them.
func (r *bodyReader) makeRoom() {
	if len(r.buf)-r.hi >= r.size {
		return
	}
	if r.lo > 0 {
		n := copy(r.buf, r.buf[r.lo:r.hi])
		r.scan -= r.lo
		r.lo, r.hi = 0, n
	}
	if len(r.buf)-r.hi < r.size {
		nb := make([]byte, 2*len(r.buf)+r.size)
		copy(nb, r.buf[:r.hi])
		r.buf = nb
	}
}

// read reads one chunk and appends it to the unconsumed bytes. Like
// io.Reader, it may return bytes and an error together.
func (r *bodyReader) read() (int, error) {
	r.makeRoom()
	n := 0
	for {
		m, err := r.body.Read(r.buf[r.hi+n : r.hi+r.size])
		n += m
		if m > 0 && r.last != nil {
			r.last.Store(int64(time.Since(r.start)))
		}
		if err != nil || !r.exact || n == r.size {
			r.hi += n
			return n, err
		}
	}
}

// rest returns the unconsumed bytes.
func (r *bodyReader) rest() []byte { return r.buf[r.lo:r.hi] }
