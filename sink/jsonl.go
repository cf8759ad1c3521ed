package sink

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// JSONL is a Sink that writes each record as one JSON object on its own
// line (JSON Lines). Like [CSV] it writes whole lines only. Each Write marshals with encoding/json and so allocates;
// use CSV on per-chunk hot paths.
type JSONL[T any] struct {
	lw lineWriter
}

// NewJSONL returns a JSONL sink writing to w. Close flushes but does not
// close w.
func NewJSONL[T any](w io.Writer) *JSONL[T] {
	return &JSONL[T]{lw: lineWriter{w: w}}
}

// CreateJSONL creates (or truncates) the file at path, creating its
// directory if needed, and returns a JSONL sink writing to it.
func CreateJSONL[T any](path string) (*JSONL[T], error) {
	f, err := create(path)
	if err != nil {
		return nil, err
	}
	return &JSONL[T]{lw: lineWriter{w: f, closer: f, name: path, every: DefaultFlushInterval, last: time.Now()}}, nil
}

// Write appends one line for r.
func (s *JSONL[T]) Write(r T) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("sink: %w", err)
	}
	s.lw.mu.Lock()
	defer s.lw.mu.Unlock()
	if s.lw.closed {
		return errClosed
	}
	s.lw.buf = append(s.lw.buf, b...)
	return s.lw.endLineLocked()
}

// Flush writes buffered lines through.
func (s *JSONL[T]) Flush() error { return s.lw.Flush() }

// SetFlushInterval is CSV.SetFlushInterval for JSONL.
func (s *JSONL[T]) SetFlushInterval(d time.Duration) { s.lw.setFlushInterval(d) }

// Close flushes and, for a sink made by CreateJSONL, closes the file.
func (s *JSONL[T]) Close() error {
	s.lw.mu.Lock()
	defer s.lw.mu.Unlock()
	return s.lw.closeLocked()
}

// WriteJSONFile writes v as indented JSON to path atomically: it writes a
// temporary file in the same directory, syncs it and renames it over path.
// The directory is created if needed.
func WriteJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("sink: %s: %w", path, err)
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// WriteFileAtomic writes data to path through a temporary file and a rename,
// so readers never see a partial file.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sink: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("sink: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sink: %s: %w", path, err)
	}
	return nil
}
