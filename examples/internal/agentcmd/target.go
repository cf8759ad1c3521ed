package agentcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tr117/examples/internal/backend"
	"tr117/profiler"
	"tr117/suite"
)

// BackendFlag registers --backend, as the suite has it.
func BackendFlag(fs *flag.FlagSet) *string {
	return fs.String("backend", backend.Auto, "auto (real Ollama if both endpoints answer, two embedded simulators if neither does), ollama or sim")
}

// Sim is how the commands' embedded simulators behave: the suite's pace.
var Sim = backend.SimConfig{TokensPerSecond: 100, TTFT: 50 * time.Millisecond, Jitter: 0.1}

// CheckBackend refuses a --backend value that is not auto, ollama or sim,
// naming command cmd: a usage error.
func CheckBackend(cmd, mode string) error {
	switch mode {
	case backend.Auto, backend.Ollama, backend.Sim:
		return nil
	}
	return fmt.Errorf("%s: --backend %q: want auto, ollama or sim", cmd, mode)
}

// Choose picks what serves the agents before anything is measured or
// written: with real servers, both must answer and have model, else the
// error names the endpoint and what is missing. The caller closes the
// backend.
func Choose(ctx context.Context, cmd, mode, collectorURL, insightURL, model string) (*backend.Backend, error) {
	if err := CheckBackend(cmd, mode); err != nil {
		return nil, err
	}
	be, err := backend.Choose(ctx, mode, collectorURL, insightURL, Sim)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		// The probe is the suite's; the error is this command's.
		return nil, errors.New(strings.ReplaceAll(err.Error(), "suite: ", cmd+": "))
	}
	eps := be.Endpoints
	if eps == nil { // the embedded simulators: ask them too, for their models
		for _, ep := range [][2]string{{"collector", be.CollectorURL}, {"insight", be.InsightURL}} {
			e, _ := suite.ProbeEndpoint(ctx, nil, ep[0], ep[1])
			eps = append(eps, e)
		}
	}
	var missing []error
	for _, ep := range eps {
		if err := suite.MissingModels(ep, []string{model}); err != nil {
			missing = append(missing, errors.New(strings.Replace(err.Error(), "suite: ", cmd+": ", 1)))
		}
	}
	if len(missing) > 0 {
		be.Close()
		return nil, fmt.Errorf("%w\n(--model chooses the model)", errors.Join(missing...))
	}
	return be, nil
}

// Announce says on w what serves the agents: simulated data is said to be
// so; real servers are named with their Ollama versions.
func Announce(w io.Writer, be *backend.Backend) {
	switch {
	case be.Name == suite.BackendSim:
		fmt.Fprintf(w, "SIMULATED: no real Ollama used (%s); two embedded simulators at %g tok/s answer instead.\nThe results exercise the pipeline only; the run files and summary say so.\n\n", be.Reason, Sim.TokensPerSecond)
	case be.Simulated:
		fmt.Fprintf(w, "SIMULATED: the servers at %s and %s are tr117's Ollama simulators, not real Ollama.\n\n", be.CollectorURL, be.InsightURL)
	case len(be.Endpoints) > 0:
		var eps []string
		for _, ep := range be.Endpoints {
			eps = append(eps, fmt.Sprintf("%s (%s, Ollama %s)", ep.URL, ep.Role, ep.VersionText()))
		}
		fmt.Fprintf(w, "Using %s.\n\n", strings.Join(eps, " and "))
	default:
		fmt.Fprintf(w, "Using %s (collector) and %s (insight).\n\n", be.CollectorURL, be.InsightURL)
	}
}

// OutputDir is the directory flag --name asked for, or, when it was not
// given, the default for the backend's kind of results (under
// backend.Root: real and simulated results never share a directory).
func OutputDir(fs *flag.FlagSet, name, value string, be *backend.Backend) string {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	if given {
		return value
	}
	rel, err := filepath.Rel(backend.Root(false), value)
	if err != nil || strings.HasPrefix(rel, "..") {
		return value
	}
	return filepath.Join(backend.Root(be.Simulated), rel)
}

// CheckWritable reports, before anything starts, whether results could be
// written at each dir: in it when it exists, else in its nearest existing
// parent, where it would be created. It leaves nothing behind.
func CheckWritable(cmd string, dirs ...string) error {
	for _, dir := range dirs {
		at := dir
		for {
			if _, err := os.Stat(at); err == nil || filepath.Dir(at) == at {
				break
			}
			at = filepath.Dir(at)
		}
		f, err := os.CreateTemp(at, ".tr117-write-check-*")
		if err != nil {
			return fmt.Errorf("%s: cannot write results to %s: %w", cmd, dir, errors.Unwrap(err))
		}
		f.Close()
		os.Remove(f.Name())
	}
	return nil
}

// RemoveIfNothingMeasured removes the result files a series wrote into dir,
// and dir when the series created it and it is left empty, when no agent
// of any run succeeded: a directory of failures would only block the
// retry. A run interrupted mid-stream measured something. It reports
// whether it removed them.
func RemoveIfNothingMeasured(dir string, existed bool, results []*profiler.RunResult) bool {
	for _, rr := range results {
		if rr == nil {
			continue
		}
		for _, a := range rr.Agents {
			// An interrupted stream measured its part, even before its
			// first message arrived: its run file says where Ctrl-C came.
			if a.Err == nil || a.Metrics.Messages > 0 || errors.Is(a.Err, context.Canceled) {
				return false
			}
		}
	}
	if err := profiler.PrepareOutputDir(dir, true); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if !existed {
		os.Remove(dir) // only when empty
	}
	return true
}

// NumPredictFlag registers --num-predict with the suite's default cap.
func NumPredictFlag(fs *flag.FlagSet) *int {
	return fs.Int("num-predict", profiler.DefaultNumPredict, "num_predict option: most tokens per response; -1: not sent, the server decides (a model that never stops then runs until --timeout)")
}

// CheckNumPredict refuses a --num-predict that is neither a cap nor -1.
func CheckNumPredict(cmd string, n int) error {
	if n == 0 || n < -1 {
		return fmt.Errorf("%s: --num-predict %d: want a positive number of tokens, or -1 to send none", cmd, n)
	}
	return nil
}

// Target is where a command's series streams from and writes to.
type Target struct {
	*backend.Backend
	// Dir is the output directory; existed says whether it was there.
	Dir     string
	existed bool
}

// Setup is the output-directory and endpoint flags of a command.
type Setup struct {
	Cmd, Mode, Model, CollectorURL, InsightURL string
	// DirFlag names the output-directory flag, Dir its value.
	DirFlag, Dir string
	Overwrite    bool
	// OpenAI is set when the agents stream through an OpenAI-compatible
	// API: the servers need not be Ollama, so unless Mode is sim they are
	// probed with GET /v1/models (see ProbeOpenAI) instead of Ollama's
	// version and model probes.
	OpenAI bool
}

// Prepare checks, in this order and before anything is measured or
// written, that --backend is one of its values (else exit 2), that results
// can be written, that the endpoints answer and
// have the model (or starts the simulators), and that the output directory
// holds no earlier results (unless s.Overwrite); it announces simulated
// endpoints on stdout. On error it returns the exit code: 2 for a refused
// directory, 130 when ctx ended, 1 otherwise. The caller closes the Target.
func Prepare(ctx context.Context, fs *flag.FlagSet, s Setup, stdout io.Writer) (*Target, int, error) {
	if err := CheckBackend(s.Cmd, s.Mode); err != nil {
		return nil, 2, err
	}
	dirs := []string{s.Dir}
	if def := OutputDir(fs, s.DirFlag, s.Dir, &backend.Backend{Simulated: true}); def != s.Dir {
		dirs = append(dirs, def)
	}
	if err := CheckWritable(s.Cmd, dirs...); err != nil {
		return nil, 1, err
	}
	be, err := choose(ctx, s)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ExitInterrupted, fmt.Errorf("%s: interrupted", s.Cmd)
		}
		return nil, 1, err
	}
	t := &Target{Backend: be, Dir: OutputDir(fs, s.DirFlag, s.Dir, be)}
	_, statErr := os.Stat(t.Dir)
	t.existed = statErr == nil
	if err := PrepareOutputDir(t.Dir, s.Overwrite); err != nil {
		be.Close()
		return nil, 2, err
	}
	Announce(stdout, be)
	return t, 0, nil
}

// choose picks the backend for s: for an OpenAI-compatible API the
// servers as given (any server may answer there), once ProbeOpenAI found
// them answering and not lacking the model; else Choose.
func choose(ctx context.Context, s Setup) (*backend.Backend, error) {
	if !s.OpenAI || s.Mode == backend.Sim {
		return Choose(ctx, s.Cmd, s.Mode, s.CollectorURL, s.InsightURL, s.Model)
	}
	be := &backend.Backend{Name: "openai", CollectorURL: s.CollectorURL, InsightURL: s.InsightURL}
	var errs []error
	for _, ep := range [][2]string{{"collector", s.CollectorURL}, {"insight", s.InsightURL}} {
		sim, err := ProbeOpenAI(ctx, s.Cmd, ep[0], ep[1], s.Model)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		be.Simulated = be.Simulated || sim
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return be, nil
}

// Cleanup removes what a series wrote when nothing was measured (see
// RemoveIfNothingMeasured), saying so on w; else it says on w where the
// results are.
func (t *Target) Cleanup(w io.Writer, results []*profiler.RunResult) {
	if RemoveIfNothingMeasured(t.Dir, t.existed, results) {
		fmt.Fprintf(w, "nothing was measured; no results were left in %s\n", t.Dir)
		return
	}
	fmt.Fprintf(w, "results in %s\n", t.Dir)
}
