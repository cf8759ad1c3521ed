package load

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"tr117/internal/layout"
	"tr117/sink"
)

// The files a run writes into its directory.
const (
	// RecordsFile holds one [Record] per line.
	RecordsFile = layout.LoadRecords
	// SummaryFile holds the [Summary] with the run's configuration.
	SummaryFile = layout.Summary
	// VLLMFile holds [VLLMResult]'s JSON.
	VLLMFile = layout.LoadVLLM
	// ReportFile is the Markdown report, PlotsDir its plots.
	ReportFile = layout.ReportMarkdown
	PlotsDir   = layout.PlotsDir
	// SweepFile lists a sweep's points and its saturation verdict.
	SweepFile = layout.LoadSweep
)

// CreateRecords creates dir/requests.jsonl (and dir) for a run's records.
func CreateRecords(dir string) (*sink.JSONL[Record], error) {
	return sink.CreateJSONL[Record](filepath.Join(dir, RecordsFile))
}

// ReadRecordsFile reads a requests.jsonl; see [ReadRecords].
func ReadRecordsFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer f.Close()
	return ReadRecords(f, path)
}

// ReadRecords reads records, one JSON object a line, naming the input and
// the line of one that does not parse. A last line cut short (a worker
// killed mid-write) is an error too.
func ReadRecords(r io.Reader, name string) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 256<<20)
	var recs []Record
	line := 0
	for sc.Scan() {
		line++
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("load: %s: line %d: %w", name, line, err)
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("load: %s: line %d: %w", name, line+1, err)
	}
	return recs, nil
}

// isResult reports whether a directory entry is something a load run
// writes: its files, its plots, or a sweep point's directory.
func isResult(dir string, e fs.DirEntry) bool {
	name := e.Name()
	switch name {
	case RecordsFile, SummaryFile, VLLMFile, ReportFile, HTMLReportFile, SweepFile:
		return e.Type().IsRegular()
	case PlotsDir:
		return e.IsDir()
	}
	if e.IsDir() && (strings.HasPrefix(name, "rate-") || strings.HasPrefix(name, "concurrency-")) {
		_, err := os.Stat(filepath.Join(dir, name, RecordsFile))
		return err == nil
	}
	return false
}

// PrepareDir readies dir for a new run. If dir holds results of an earlier
// one, it returns an error that wraps fs.ErrExist and names one of them,
// unless overwrite is set: then it removes those results, and nothing else.
// A dir that does not exist is fine.
func PrepareDir(dir string, overwrite bool) error {
	err := layout.Prepare(dir, overwrite, func(e fs.DirEntry) bool { return isResult(dir, e) })
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return nil
}
