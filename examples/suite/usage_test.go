package main

import (
	"strings"
	"testing"
)

// A usage error is printed with one "suite:" prefix, not two.
func TestUsageErrorsHaveOnePrefix(t *testing.T) {
	for _, args := range [][]string{
		{"--buffers", "foo"},
		{"--throttle-rates", "fast"},
		{"--runs", "0"},
		{"--backend", "cloud"},
	} {
		code, _, errs := runCmd(t, args...)
		if code != 2 || !strings.HasPrefix(errs, "suite: ") || strings.Contains(errs, "suite: suite:") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and one suite: prefix", args, code, errs)
		}
	}
}
