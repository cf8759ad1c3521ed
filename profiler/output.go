package profiler

import (
	"fmt"
	"io/fs"
	"net/url"

	"tr117/internal/layout"
)

// CheckURL reports whether raw is a base URL an agent can stream from: an
// http or https URL with a host ("http://localhost:11434"). NewRunner
// checks every agent's URL with it; commands check their flags with it up
// front.
func CheckURL(raw string) error {
	if err := checkURL(raw); err != nil {
		return fmt.Errorf("profiler: %w", err)
	}
	return nil
}

// checkURL is CheckURL without the package prefix.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err // *url.Error quotes raw
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("URL %q is not an http:// or https:// URL with a host", raw)
	}
	return nil
}

// isResultFile reports whether name is one of the files a run of the
// profiler or throttle command writes: chunk_metrics.csv, loop_lag.csv,
// summary.json or run_<i>.json.
func isResultFile(name string) bool {
	switch name {
	case layout.ChunkMetricsCSV, layout.LoopLagCSV, layout.Summary:
		return true
	}
	_, ok := layout.IsRunFile(name)
	return ok
}

// PrepareOutputDir readies dir for a new set of results. If dir holds
// results of an earlier run (chunk_metrics.csv, loop_lag.csv, summary.json
// or run_<i>.json), it returns an error that wraps fs.ErrExist and names
// one of them, unless overwrite is set: then it removes those files, and
// only those, so that no stale run_<i>.json from a run with more runs is
// left next to the new ones. A dir that does not exist is fine
// (CreateSinks creates it).
func PrepareOutputDir(dir string, overwrite bool) error {
	err := layout.Prepare(dir, overwrite, func(e fs.DirEntry) bool { return e.Type().IsRegular() && isResultFile(e.Name()) })
	if err != nil {
		return fmt.Errorf("profiler: %w", err)
	}
	return nil
}
