// Package cli holds what every command's flag parsing shares: a bad flag
// value is one line naming the flag, the value and the form wanted, not the
// whole usage.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"time"
)

// Parse parses args into fs. It returns ok when the command should go on;
// otherwise the command exits with code: 0 after -h (fs.Usage printed), 2
// after a bad flag, for which one line goes to stderr:
//
//	suite: invalid value "10" for flag -lag-interval: parse error; want a duration with a unit, such as 10ms or 1.5s (-h lists the flags)
func Parse(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return 0, false
	}
	line := fs.Name() + ": " + err.Error()
	if want := Want(fs, err); want != "" {
		line += "; want " + want
	}
	fmt.Fprintln(stderr, line+" (-h lists the flags)")
	return 2, false
}

// example returns ", such as <def>" for a flag's default, or "" when the
// default is 0: a 0 default often means "the plan's own" and may itself be
// refused as a value (the suite's --runs).
func example(def string) string {
	if def == "" || def == "0" {
		return ""
	}
	return ", such as " + def
}

// flagName finds the flag an error of package flag names.
var flagName = regexp.MustCompile(`(?:flag:?|for|argument:) -{1,2}([A-Za-z0-9][A-Za-z0-9_.-]*)`)

// Want returns the form the flag named in a parse error wants ("a
// duration with a unit, such as 10ms or 1.5s"), or "" when unknown.
func Want(fs *flag.FlagSet, err error) string {
	m := flagName.FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	f := fs.Lookup(m[1])
	if f == nil {
		return ""
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case time.Duration:
		return "a duration with a unit, such as 10ms or 1.5s"
	case int, int64, uint, uint64:
		return "a whole number" + example(f.DefValue)
	case float64:
		return "a number" + example(f.DefValue)
	case bool:
		return "true or false"
	}
	return ""
}
