// Package sink is where tr117's records go: profiler chunks, scheduler-lag
// samples, GPU samples, tokenizer results and run summaries.
//
// A pathway package (profiler, gpumon, tokbench, throttle) accepts a
// [Sink] for each record type it produces and never cares what is behind it.
// This package provides three destinations and one adapter:
//
//   - [CSV] writes one header line and then one line per record. It buffers
//     whole lines only, so the file on disk always ends at a line boundary:
//     after an interrupt, a crash between flushes or a Ctrl-C, what is there
//     parses. Records describe their own columns through [Record].
//   - [JSONL] writes one JSON object per line, with the same guarantee.
//   - [Memory] keeps records in a slice, for library users and tests.
//   - [Func] adapts a plain function; [Tee] fans one record out to several sinks.
//
// Whole JSON documents (run_<i>.json, manifests, summaries) are written with
// [WriteJSONFile], which writes a temporary file and renames it over the
// target, so a reader sees either the old file or the new one, never half.
//
// Timestamps in CSV files are UTC RFC 3339 with microseconds
// (2026-11-26T16:34:46.123456Z), written by [AppendTime]. Values that were
// not measured (NaN, a field a GPU does not support) are written as an empty
// field, never as 0: see [AppendFloat].
//
// # Concurrency
//
// Every Sink in this package ([CSV], [JSONL], [Memory], and [Tee] of such
// sinks) is safe for concurrent use, and a pathway may call a Sink from
// several goroutines at once unless it documents otherwise; a [Func] is as
// safe as its function.
package sink

import (
	"errors"
	"sync"
)

// Sink receives records of one type. Write must not retain r after it
// returns unless r is a value type.
type Sink[T any] interface {
	Write(r T) error
}

// Func adapts an ordinary function to a [Sink].
type Func[T any] func(T) error

// Write calls f(r).
func (f Func[T]) Write(r T) error { return f(r) }

// Tee returns a Sink that writes each record to every sink in order. It
// writes to all of them even when one fails and returns the errors joined.
// Nil sinks are skipped.
func Tee[T any](sinks ...Sink[T]) Sink[T] {
	var live []Sink[T]
	for _, s := range sinks {
		if s != nil {
			live = append(live, s)
		}
	}
	return tee[T](live)
}

type tee[T any] []Sink[T]

func (t tee[T]) Write(r T) error {
	var errs []error
	for _, s := range t {
		if err := s.Write(r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Memory is a Sink that keeps every record in memory. The zero value is
// ready to use.
type Memory[T any] struct {
	mu   sync.Mutex
	recs []T
}

// Write appends r.
func (m *Memory[T]) Write(r T) error {
	m.mu.Lock()
	m.recs = append(m.recs, r)
	m.mu.Unlock()
	return nil
}

// Records returns a copy of the records written so far, in order.
func (m *Memory[T]) Records() []T {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]T, len(m.recs))
	copy(out, m.recs)
	return out
}

// Len reports how many records have been written.
func (m *Memory[T]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.recs)
}

// Reset discards the records written so far, keeping the storage.
func (m *Memory[T]) Reset() {
	m.mu.Lock()
	clear(m.recs)
	m.recs = m.recs[:0]
	m.mu.Unlock()
}
