package suite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
)

// suiteRootFiles are the suite's files at the output root.
var suiteRootFiles = []string{ManifestFile, ReportMarkdown, ReportJSON, ReportHTML}

// suiteTrees are the directories under the root that the suite writes
// into; only the files matching suiteFile are its own.
var suiteTrees = []string{"phase1", "phase2", "phase3", PlotsDir}

// suiteFile matches the base names of the files the suite (or the profiler
// and gpumon under it) writes: per-run files, merged traces, hardware
// command logs, the tokenizer race's outputs, plots, and the temporary
// files of an interrupted atomic write.
var suiteFile = regexp.MustCompile(`^(run_\d+(\.json|_[a-z_]+\.(csv|json)|\.log)|(chunk_metrics|loop_lag|gpu_metrics)\.csv|tokenizer_(bench\.(json|txt|bench)|missing\.json)|(efficiency|(lag|chunk_gap_cdf|gpu)_[A-Za-z0-9._-]+)\.png|\..+\.tmp\d*)$`)

// removeOutputs removes the suite's own files under root, for
// Config.Overwrite: the manifest, the report, and the files matching
// suiteFile in the phase and plot directories, then the directories that
// this leaves empty. Anything else (a user's notes in phase1/, a plot of
// their own) is kept.
func removeOutputs(root string) error {
	var errs []error
	for _, name := range suiteRootFiles {
		if err := os.Remove(filepath.Join(root, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for _, tree := range suiteTrees {
		top := filepath.Join(root, tree)
		var dirs []string
		err := filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
			switch {
			case errors.Is(err, fs.ErrNotExist) && path == top:
				return nil
			case err != nil:
				return err
			case d.IsDir():
				dirs = append(dirs, path)
			case suiteFile.MatchString(d.Name()):
				return os.Remove(path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
		// Deepest first; a directory still holding a user's file stays.
		slices.Reverse(dirs)
		for _, dir := range dirs {
			if ents, err := os.ReadDir(dir); err == nil && len(ents) == 0 {
				if err := os.Remove(dir); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("suite: overwrite: %w", err)
	}
	return nil
}
