package cli

import (
	"flag"
	"strings"
	"testing"
	"time"
)

func newFS(usage *strings.Builder) *flag.FlagSet {
	fs := flag.NewFlagSet("cmd", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Duration("lag-interval", 10*time.Millisecond, "probe interval")
	fs.Int("runs", 5, "runs")
	fs.Int("zero", 0, "0: the plan's own")
	fs.Float64("rate", 60, "rate")
	fs.Bool("overwrite", false, "replace")
	fs.Usage = func() { usage.WriteString("usage: cmd [flags]\n"); fs.PrintDefaults() }
	return fs
}

// A bad value is one line naming the flag, the value and the form wanted,
// without the usage.
func TestParseBadValue(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--lag-interval", "10"}, `cmd: invalid value "10" for flag -lag-interval: parse error; want a duration with a unit, such as 10ms or 1.5s (-h lists the flags)`},
		{[]string{"-runs=x"}, `cmd: invalid value "x" for flag -runs: parse error; want a whole number, such as 5 (-h lists the flags)`},
		{[]string{"--rate", "fast"}, `want a number, such as 60`},
		{[]string{"--zero", "x"}, `parse error; want a whole number (-h lists the flags)`},
		{[]string{"--overwrite=maybe"}, `want true or false`},
		{[]string{"--nope"}, `cmd: flag provided but not defined: -nope (-h lists the flags)`},
		{[]string{"--runs"}, `cmd: flag needs an argument: -runs; want a whole number`},
	} {
		var usage, stderr strings.Builder
		code, ok := Parse(newFS(&usage), tc.args, &stderr)
		if ok || code != 2 || !strings.Contains(stderr.String(), tc.want) || strings.Count(stderr.String(), "\n") != 1 || usage.Len() != 0 {
			t.Errorf("%q: code %d ok %v\nstderr %q\nusage %q\nwant one line with %q and no usage", tc.args, code, ok, stderr.String(), usage.String(), tc.want)
		}
	}
}

func TestParseHelpAndOK(t *testing.T) {
	var usage, stderr strings.Builder
	if code, ok := Parse(newFS(&usage), []string{"-h"}, &stderr); ok || code != 0 || !strings.Contains(usage.String(), "-lag-interval") || stderr.Len() != 0 {
		t.Errorf("-h: code %d ok %v usage %q stderr %q", code, ok, usage.String(), stderr.String())
	}
	usage.Reset()
	if code, ok := Parse(newFS(&usage), []string{"--runs", "3"}, &stderr); !ok || code != 0 || usage.Len() != 0 || stderr.Len() != 0 {
		t.Errorf("good flags: code %d ok %v", code, ok)
	}
}
