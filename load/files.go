package load

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"tr117/sink"
)

// The files a run writes into its directory.
const (
	// RecordsFile holds one [Record] per line.
	RecordsFile = "requests.jsonl"
	// SummaryFile holds the [Summary] with the run's configuration.
	SummaryFile = "summary.json"
	// VLLMFile holds [VLLMResult]'s JSON.
	VLLMFile = "vllm_result.json"
	// ReportFile is the Markdown report, PlotsDir its plots.
	ReportFile = "report.md"
	PlotsDir   = "plots"
	// SweepFile lists a sweep's points and its saturation verdict.
	SweepFile = "sweep.json"
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
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load: output directory: %w", err)
	}
	var found []string
	for _, e := range entries {
		if isResult(dir, e) {
			found = append(found, filepath.Join(dir, e.Name()))
		}
	}
	if len(found) == 0 {
		return nil
	}
	if !overwrite {
		more := ""
		if len(found) > 1 {
			more = fmt.Sprintf(" and %d more", len(found)-1)
		}
		return fmt.Errorf("load: output directory %s already holds results (%s%s): %w", dir, found[0], more, fs.ErrExist)
	}
	for _, f := range found {
		if err := os.RemoveAll(f); err != nil {
			return fmt.Errorf("load: output directory: %w", err)
		}
	}
	return nil
}
