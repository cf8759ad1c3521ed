package sink

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Record is a record that can be written as one CSV line.
type Record interface {
	// CSVHeader returns the column names. It must return the same columns
	// for every value of a type, including the zero value, because the
	// header is written before (and without) any record.
	CSVHeader() []string
	// AppendCSV appends the record's fields, comma-separated, in header
	// order and without a trailing newline, and returns the extended slice.
	// It should not allocate: use AppendString, AppendFloat, AppendInt and
	// AppendTime.
	AppendCSV(dst []byte) []byte
}

// flushThreshold is how many buffered bytes make a line-oriented sink write
// through to its writer.
const flushThreshold = 32 << 10

// DefaultFlushInterval is how old the last write-through of a file sink
// made by CreateCSV or CreateJSONL may be when a line is written: a line
// written later than that writes the buffer through, so that a file that
// is read (or a process that is killed) during a run is at most about this
// far behind.
const DefaultFlushInterval = time.Second

// lineWriter buffers whole lines and writes them through in one call, so the
// destination always ends at a line boundary.
type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closer io.Closer
	name   string // for errors: a file path, or "" for a plain writer
	buf    []byte
	err    error // sticky write error
	closed bool
	every  time.Duration // 0: write through by size only
	last   time.Time     // the last write-through
}

func (lw *lineWriter) setFlushInterval(d time.Duration) {
	lw.mu.Lock()
	lw.every = d
	lw.mu.Unlock()
}

func (lw *lineWriter) flushLocked() error {
	if lw.err != nil {
		return lw.err
	}
	if len(lw.buf) == 0 {
		return nil
	}
	_, err := lw.w.Write(lw.buf)
	lw.buf = lw.buf[:0]
	if lw.every > 0 {
		lw.last = time.Now()
	}
	if err != nil {
		lw.err = lw.wrap(err)
	}
	return lw.err
}

func (lw *lineWriter) wrap(err error) error {
	if lw.name != "" {
		return fmt.Errorf("sink: %s: %w", lw.name, err)
	}
	return fmt.Errorf("sink: %w", err)
}

// endLineLocked finishes the line just appended to buf and writes through
// when enough has accumulated.
func (lw *lineWriter) endLineLocked() error {
	lw.buf = append(lw.buf, '\n')
	if len(lw.buf) >= flushThreshold || (lw.every > 0 && time.Since(lw.last) >= lw.every) {
		return lw.flushLocked()
	}
	return lw.err
}

func (lw *lineWriter) Flush() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.flushLocked()
}

func (lw *lineWriter) closeLocked() error {
	if lw.closed {
		return lw.err
	}
	lw.closed = true
	err := lw.flushLocked()
	if lw.closer != nil {
		if cerr := lw.closer.Close(); cerr != nil && err == nil {
			err = lw.wrap(cerr)
		}
	}
	return err
}

var errClosed = fmt.Errorf("sink: write after Close")

// CSV is a Sink that writes records as CSV lines: the header once, then one
// line per record. Lines are buffered and written through whole (every
// 32 KiB, on a write once the last write-through is older than the flush
// interval, on Flush and on Close), so the output is well-formed CSV at
// every moment. Write does not allocate once the buffer has grown to its
// working size.
type CSV[T Record] struct {
	lw lineWriter
}

// NewCSV returns a CSV sink writing to w and writes the header into its
// buffer. Close flushes; it closes w only if w was opened by [CreateCSV].
func NewCSV[T Record](w io.Writer) *CSV[T] {
	s := &CSV[T]{lw: lineWriter{w: w, buf: make([]byte, 0, flushThreshold+4096)}}
	var zero T
	for i, col := range zero.CSVHeader() {
		if i > 0 {
			s.lw.buf = append(s.lw.buf, ',')
		}
		s.lw.buf = AppendString(s.lw.buf, col)
	}
	s.lw.buf = append(s.lw.buf, '\n')
	return s
}

// CreateCSV creates (or truncates) the file at path, creating its directory
// if needed, and returns a CSV sink writing to it. The header is on disk
// when CreateCSV returns, so even a run that records nothing leaves a file
// that says what it would have held.
func CreateCSV[T Record](path string) (*CSV[T], error) {
	f, err := create(path)
	if err != nil {
		return nil, err
	}
	s := NewCSV[T](f)
	s.lw.closer = f
	s.lw.name = path
	s.lw.every = DefaultFlushInterval
	if err := s.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func create(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	return f, nil
}

// Write appends one line for r.
func (s *CSV[T]) Write(r T) error {
	s.lw.mu.Lock()
	defer s.lw.mu.Unlock()
	if s.lw.closed {
		return errClosed
	}
	s.lw.buf = r.AppendCSV(s.lw.buf)
	return s.lw.endLineLocked()
}

// Flush writes buffered lines through to the underlying writer.
func (s *CSV[T]) Flush() error { return s.lw.Flush() }

// SetFlushInterval sets the flush interval: a line written once the last
// write-through is d old writes the buffer through. Zero writes through by
// size only (the default of NewCSV; CreateCSV's is DefaultFlushInterval).
// A sink starts no goroutine: lines that nothing follows wait for the next
// write, Flush or Close.
func (s *CSV[T]) SetFlushInterval(d time.Duration) { s.lw.setFlushInterval(d) }

// Close flushes and, for a sink made by CreateCSV, closes the file. Writes
// after Close fail. Close is idempotent.
func (s *CSV[T]) Close() error {
	s.lw.mu.Lock()
	defer s.lw.mu.Unlock()
	return s.lw.closeLocked()
}

// AppendString appends s as one CSV field, quoted only when it must be
// (it holds a comma, a quote, a newline or leading/trailing space).
func AppendString(dst []byte, s string) []byte {
	if !needsQuote(s) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		dst = append(dst, s[:i+1]...)
		dst = append(dst, '"')
		s = s[i+1:]
	}
	dst = append(dst, s...)
	return append(dst, '"')
}

func needsQuote(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == ' ' || s[0] == '\t' || s[len(s)-1] == ' ' || s[len(s)-1] == '\t' {
		return true
	}
	return strings.ContainsAny(s, ",\"\r\n")
}

// AppendFloat appends v with prec digits after the decimal point (prec < 0:
// the shortest exact representation). NaN and ±Inf mean "not measured" and
// are written as an empty field.
func AppendFloat(dst []byte, v float64, prec int) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dst
	}
	return strconv.AppendFloat(dst, v, 'f', prec, 64)
}

// AppendInt appends v in decimal.
func AppendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

// TimeLayout is the layout of every timestamp tr117 writes to CSV.
const TimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// AppendTime appends t in UTC as RFC 3339 with microseconds. The zero time
// is written as an empty field.
func AppendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return dst
	}
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, TimeLayout)
	}
	hour, min, sec := t.Clock()
	// Written by hand: time.AppendFormat re-parses its layout on every
	// call, and this runs once per chunk and per GPU sample.
	dst = append4(dst, year)
	dst = append(dst, '-')
	dst = append2(dst, int(month))
	dst = append(dst, '-')
	dst = append2(dst, day)
	dst = append(dst, 'T')
	dst = append2(dst, hour)
	dst = append(dst, ':')
	dst = append2(dst, min)
	dst = append(dst, ':')
	dst = append2(dst, sec)
	dst = append(dst, '.')
	us := t.Nanosecond() / 1000
	dst = append2(dst, us/10000)
	dst = append2(dst, us/100%100)
	dst = append2(dst, us%100)
	return append(dst, 'Z')
}

func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

func append4(dst []byte, v int) []byte {
	return append2(append2(dst, v/100), v%100)
}

// AppendMillis appends d in milliseconds with six decimals, the unit of
// every *_ms column. It is exact: a Duration counts nanoseconds, and six
// decimals of a millisecond are nanoseconds, so sub-microsecond times
// (parsing one chunk takes about a microsecond) keep their resolution.
func AppendMillis(dst []byte, d time.Duration) []byte {
	if d < 0 {
		dst = append(dst, '-')
		if d == math.MinInt64 {
			return append(dst, "9223372036854.775808"...)
		}
		d = -d
	}
	ms, ns := int64(d/time.Millisecond), int64(d%time.Millisecond)
	dst = strconv.AppendInt(dst, ms, 10)
	dst = append(dst, '.')
	for div := int64(100000); div > 0; div /= 10 {
		dst = append(dst, byte('0'+ns/div%10))
	}
	return dst
}
