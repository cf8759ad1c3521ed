package suite

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"

	"tr117/internal/layout"
	"tr117/sink"
)

// Per-run trace files. Each run writes its own (run_<i>_chunk_metrics.csv …)
// so that a finished run's files are never touched again; after a session,
// the finished runs of a condition are merged into the seed's file names
// (chunk_metrics.csv …) with a trailing "run" column: when a condition's
// last run ends, and for every condition at the end of a session.
const (
	ChunkMetrics = layout.ChunkMetrics
	LoopLag      = layout.LoopLag
	GPUMetrics   = layout.GPUMetrics
)

// runFile returns the name of run i's file for the trace base
// ("run_3_chunk_metrics.csv"), or of its result when base is ""
// ("run_3.json"); internal/layout owns both names.
func runFile(i int, base string) string {
	if base == "" {
		return layout.RunFile(i)
	}
	return layout.RunTrace(i, base)
}

// mergeCondition rebuilds the merged CSV files of one condition directory
// from the per-run files of its runs recorded as ok. A merged file whose
// content would not change is left alone.
func (r *runner) mergeCondition(dir string) error {
	var idx []int
	for _, rec := range r.man.Runs {
		if rec.Status != StatusOK || rec.Phase == PhaseTokenizers {
			continue
		}
		if d, err := rec.Run.Dir(r.root); err == nil && d == dir {
			idx = append(idx, rec.Index)
		}
	}
	sort.Ints(idx)
	var errs []error
	for _, base := range [...]string{ChunkMetrics, LoopLag, GPUMetrics} {
		if err := mergeRuns(dir, base, idx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// mergeAll rebuilds the merged CSV files of every condition of the plan.
// Doing all of them (not only those that gained runs in this session)
// repairs a condition whose merge a killed session (SIGKILL, a crash)
// never reached.
func (r *runner) mergeAll(runs []Run) error {
	seen := map[string]bool{}
	var errs []error
	for _, run := range runs {
		if run.Phase == PhaseTokenizers {
			continue
		}
		dir, err := run.Dir(r.root)
		if err != nil || seen[dir] {
			continue
		}
		seen[dir] = true
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		errs = append(errs, r.mergeCondition(dir))
	}
	return errors.Join(errs...)
}

// mergeRuns writes dir/<base>.csv from dir/run_<i>_<base>.csv for each i in
// idx, adding a "run" column. Runs without the file are skipped; when none
// has it, no merged file is written (and a stale one is removed).
func mergeRuns(dir, base string, idx []int) error {
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	var header []string
	rows := 0
	for _, i := range idx {
		path := filepath.Join(dir, runFile(i, base))
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("suite: merge: %w", err)
		}
		cr := csv.NewReader(f)
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = true
		hdr, err := cr.Read()
		if err != nil {
			f.Close()
			if err == io.EOF {
				continue
			}
			return fmt.Errorf("suite: merge: %s: %w", path, err)
		}
		// Profiler traces carry their own run column; others get one.
		addRun := !slices.Contains(hdr, "run")
		if header == nil {
			header = append([]string(nil), hdr...)
			if addRun {
				header = append(header, "run")
			}
			w.Write(header)
		}
		run := strconv.Itoa(i)
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Close()
				return fmt.Errorf("suite: merge: %s: %w", path, err)
			}
			if addRun {
				rec = append(rec, run)
			}
			w.Write(rec)
			rows++
		}
		f.Close()
	}
	target := filepath.Join(dir, base+".csv")
	if header == nil {
		if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("suite: merge: %w", err)
		}
		return nil
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("suite: merge: %s: %w", target, err)
	}
	if old, err := os.ReadFile(target); err == nil && bytes.Equal(old, out.Bytes()) {
		return nil
	}
	return sink.WriteFileAtomic(target, out.Bytes())
}
