package profiler

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"tr117/sink"
)

// Chunk is one transport read of a response body that delivered bytes:
// a row of chunk_metrics.csv. It implements [sink.Record]; AppendCSV does
// not allocate.
type Chunk struct {
	// Time is when the read returned (wall clock).
	Time time.Time
	// Agent is the request's agent label.
	Agent string
	// Index numbers the chunks of one stream from 0.
	Index int
	// Bytes is how many bytes the read delivered.
	Bytes int
	// Gap is the time since the stream's previous chunk. The first chunk
	// (Index 0) has no previous chunk and so no gap (see HasGap): Gap is
	// 0 and its gap_ms field empty, so that gap statistics hold only
	// inter-read times; its time from the request's start (the time to
	// first byte, with TTFT in it) is Since.
	Gap time.Duration
	// Parse is the time spent finding and decoding the lines the chunk
	// completed (the caller's callback excluded).
	Parse time.Duration
	// Run is the request's run label.
	Run int
	// Lines is the number of lines the chunk completed (0 when it only
	// carried part of a line).
	Lines int
	// Since is the read's time from the start of the request.
	Since time.Duration
}

// HasGap reports whether the chunk has a gap, which all but a stream's
// first chunk have.
func (c Chunk) HasGap() bool { return c.Index > 0 }

var chunkHeader = []string{"timestamp", "agent_id", "chunk_index", "bytes", "gap_ms", "parse_ms", "run", "lines", "since_start_ms"}

// CSVHeader returns the columns
// timestamp,agent_id,chunk_index,bytes,gap_ms,parse_ms,run,lines,since_start_ms. gap_ms is empty for chunk 0 (see Gap).
func (Chunk) CSVHeader() []string { return chunkHeader }

// AppendCSV appends the record as one CSV line without the newline.
func (c Chunk) AppendCSV(dst []byte) []byte {
	dst = sink.AppendTime(dst, c.Time)
	dst = append(dst, ',')
	dst = sink.AppendString(dst, c.Agent)
	dst = append(dst, ',')
	dst = sink.AppendInt(dst, int64(c.Index))
	dst = append(dst, ',')
	dst = sink.AppendInt(dst, int64(c.Bytes))
	dst = append(dst, ',')
	if c.HasGap() {
		dst = sink.AppendMillis(dst, c.Gap)
	}
	dst = append(dst, ',')
	dst = sink.AppendMillis(dst, c.Parse)
	dst = append(dst, ',')
	dst = sink.AppendInt(dst, int64(c.Run))
	dst = append(dst, ',')
	dst = sink.AppendInt(dst, int64(c.Lines))
	dst = append(dst, ',')
	return sink.AppendMillis(dst, c.Since)
}

// CreateSinks creates the two CSV files of a run directory in dir, chunk_metrics.csv
// and loop_lag.csv (creating dir if needed), and returns them as Sinks for
// NewRunner with a function that flushes and closes both. The files are
// well-formed CSV at every moment, also if the process is interrupted.
func CreateSinks(dir string) (Sinks, func() error, error) {
	chunks, err := sink.CreateCSV[Chunk](filepath.Join(dir, "chunk_metrics.csv"))
	if err != nil {
		return Sinks{}, nil, fmt.Errorf("profiler: %w", err)
	}
	lags, err := sink.CreateCSV[LagSample](filepath.Join(dir, "loop_lag.csv"))
	if err != nil {
		chunks.Close()
		return Sinks{}, nil, fmt.Errorf("profiler: %w", err)
	}
	closeBoth := func() error { return errors.Join(chunks.Close(), lags.Close()) }
	return Sinks{Chunks: chunks, Lag: lags}, closeBoth, nil
}
