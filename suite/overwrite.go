package suite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"tr117/internal/layout"
)

// removeOutputs removes the suite's own files under root, for
// Config.Overwrite: the manifest, the report, and the files that
// internal/layout knows as tr117's (layout.Known) in the phase and plot
// directories, then the directories that this leaves empty. Anything else
// (a user's notes in phase1/, a plot of their own) is kept.
func removeOutputs(root string) error {
	var errs []error
	for _, name := range [...]string{layout.Manifest, layout.ReportMarkdown, layout.ReportJSON, layout.ReportHTML} {
		if err := os.Remove(filepath.Join(root, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for _, tree := range layout.SuiteDirs() {
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
			case layout.Known(d.Name()):
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
