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

// A bad value is one line naming the flag and the form it wants, and a
// value that would silently mean the default is refused, naming the flag.
func TestBadValuesOneLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--lag-interval", "10"}, "want a duration with a unit, such as 10ms"},
		{[]string{"--lag-interval", "0"}, "--lag-interval 0s: want a duration of at least 1ms"},
		{[]string{"--mri-models", ""}, `--mri-models "": want one or more comma-separated model names`},
		{[]string{"--hardware-models", " , "}, `--hardware-models " , "`},
		{[]string{"--num-predict", "0"}, "--num-predict 0: want a positive number of tokens, or -1"},
		{[]string{"--runs", "two"}, "want a whole number"},
	} {
		code, _, errs := runCmd(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and one line with %q", tc.args, code, errs, tc.want)
		}
	}
}
