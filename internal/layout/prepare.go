package layout

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Prepare readies dir for a new set of results. If dir holds entries that
// isResult recognises (results of an earlier run), it returns an error
// that wraps fs.ErrExist and names one of them, unless overwrite is set:
// then it removes those entries, and nothing else, so that no stale file
// of a longer earlier run is left beside the new ones. A dir that does not
// exist is fine. Errors start "output directory"; callers prefix their
// package.
func Prepare(dir string, overwrite bool, isResult func(fs.DirEntry) bool) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	var found []string
	for _, e := range entries {
		if isResult(e) {
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
		return fmt.Errorf("output directory %s already holds results (%s%s): %w", dir, found[0], more, fs.ErrExist)
	}
	for _, f := range found {
		if err := os.RemoveAll(f); err != nil {
			return fmt.Errorf("output directory: %w", err)
		}
	}
	return nil
}
