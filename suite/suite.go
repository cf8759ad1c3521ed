package suite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tr117/gpumon"
	"tr117/telemetry"
)

// DefaultOutputRoot is where results go when Config.OutputRoot is empty.
const DefaultOutputRoot = "tr117-results"

// Backends recorded in the manifest.
const (
	BackendOllama = "ollama" // real Ollama servers
	BackendSim    = "sim"    // tr117/profiler/ollamatest simulators
)

// ErrRunsFailed is returned (wrapped) by [Execute] when every run was
// attempted but at least one failed. The failed runs are in the manifest.
var ErrRunsFailed = errors.New("suite: some runs failed")

// Config configures [Execute]. The zero value runs the study's 25-run plan
// against real Ollama servers on the default endpoints, writing to
// ./tr117-results. The JSON-tagged fields can be written into a manifest.
type Config struct {
	// Plan is what to run; zero fields mean the defaults of [Plan].
	Plan Plan `json:"plan"`
	// OutputRoot is the results directory (default "tr117-results"). A
	// suite run again on the same root resumes: runs recorded as finished
	// in its manifest.json are kept and not run again.
	OutputRoot string `json:"output_root"`
	// Overwrite starts over: it removes the suite's own files under
	// OutputRoot before running: manifest.json, report.md, report.json,
	// and in phase1/, phase2/, phase3/ and plots/ the per-run files
	// (run_<i>.json, run_<i>_*.csv/json, agent_output/run_<i>.log), the
	// merged traces, the tokenizer race's files and the plots, then the
	// directories left empty. A user's own files there are kept.
	Overwrite bool `json:"overwrite"`
	// Backend is "ollama" (default) or "sim". It is recorded in the
	// manifest and announced atop the report; the caller chooses what
	// serves the plan's endpoints.
	Backend string `json:"backend"`
	// Simulator, for the "sim" backend, is the simulators' configuration
	// (an ollamatest.Config, say), written into the manifest as is. It
	// must marshal to JSON.
	Simulator any `json:"simulator,omitempty"`

	// Progress receives the suite's progress. nil: none.
	Progress Progress `json:"-"`
	// Logger receives diagnostics. nil discards them.
	Logger *slog.Logger `json:"-"`
	// HTTPClient is used to probe the endpoints (/api/version, /api/tags).
	// nil: a client with a 5 s timeout.
	HTTPClient *http.Client `json:"-"`
	// OpenSampler opens the GPU sampler for the hardware phase. nil:
	// gpumon.Open with the plan's sampler kind and interval. An error
	// (gpumon.ErrNoGPU on a machine without an NVIDIA GPU) is recorded in
	// the manifest; hardware runs still happen, without GPU samples.
	OpenSampler func(ctx context.Context) (gpumon.Sampler, error) `json:"-"`
	// CommandOutput receives the stdout and stderr of hardware template
	// commands in addition to their log files. nil: log files only.
	CommandOutput io.Writer `json:"-"`
	// Telemetry, when set, traces and records every measured request of
	// the dual-agent runs (its Wrap goes outermost) and the scheduler lag.
	// Hardware template commands are other processes: not recorded.
	Telemetry *telemetry.Recorder `json:"-"`
}

// Result is what [Execute] did.
type Result struct {
	// Root is the output root.
	Root string
	// Manifest is the manifest as last written.
	Manifest *Manifest
	// Report is the report built at the end, nil if the session was
	// interrupted before building it.
	Report *Report
	// Ran, Resumed and Failed count the runs run in this session, the
	// finished runs kept from earlier sessions, and the failed runs.
	Ran, Resumed, Failed int
}

// executor runs one run, writing into dir, and returns the files it wrote
// (relative to the output root).
type executor func(ctx context.Context, r Run, dir string) ([]string, error)

// Progress receives [Execute]'s progress: examples/suite draws a
// terminal bar from it. Execute calls it from one goroutine, one call at a
// time, in this order: Resumed once, then Start and Finish for each run it
// runs, with Note between them.
type Progress interface {
	// Resumed says that done of the plan's total runs finished in earlier
	// sessions.
	Resumed(done, total int)
	// Start says that run begins; its condition has perCondition runs.
	Start(run Run, perCondition int)
	// Finish says that run ended after took, with err when it failed.
	Finish(run Run, took time.Duration, err error)
	// Note is a message for the user: no GPU, an interrupted run, where
	// the report is.
	Note(msg string)
}

type noProgress struct{}

func (noProgress) Resumed(int, int)                 {}
func (noProgress) Start(Run, int)                   {}
func (noProgress) Finish(Run, time.Duration, error) {}
func (noProgress) Note(string)                      {}

type runner struct {
	cfg  Config
	plan Plan
	root string
	log  *slog.Logger
	prog Progress
	man  *Manifest
	exec executor // nil: the real phases
	gpu  *gpuState
	cond *condition // the profiler Runner of the current condition
}

// Execute runs the plan of cfg, resuming from cfg.OutputRoot, then writes
// report.md, report.json and plots. It returns ctx.Err() if ctx was
// cancelled (the manifest then records what finished, so a later Execute
// resumes), an error wrapping [ErrRunsFailed] when runs failed, and other
// errors when the suite could not start (a bad plan, an unreachable
// endpoint, a [*MissingModelsError] for models an endpoint lacks, an output
// root from a different plan); those come before anything is written. The Result is non-nil
// whenever the suite started.
func Execute(ctx context.Context, cfg Config) (*Result, error) {
	return execute(ctx, cfg, nil)
}

func execute(ctx context.Context, cfg Config, exec executor) (*Result, error) {
	r, err := newRunner(cfg, exec)
	if err != nil {
		return nil, err
	}
	if err := r.prepare(ctx); err != nil {
		return nil, err
	}
	return r.runAll(ctx)
}

func newRunner(cfg Config, exec executor) (*runner, error) {
	if err := cfg.Plan.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Backend {
	case "":
		cfg.Backend = BackendOllama
	case BackendOllama, BackendSim:
	default:
		return nil, fmt.Errorf("suite: backend %q: want %q or %q", cfg.Backend, BackendOllama, BackendSim)
	}
	if cfg.OutputRoot == "" {
		cfg.OutputRoot = DefaultOutputRoot
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &runner{
		cfg:  cfg,
		plan: cfg.Plan.WithDefaults(),
		root: cfg.OutputRoot,
		log:  log,
		exec: exec,
	}, nil
}

func (r *runner) prepare(ctx context.Context) error {
	// Probe the endpoints first: a dead endpoint or a missing model stops
	// the suite before anything under the root is removed or written.
	endpoints, err := r.probe(ctx)
	if err != nil {
		return err
	}
	if r.cfg.Overwrite {
		if err := removeOutputs(r.root); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(r.root, 0o755); err != nil {
		return fmt.Errorf("suite: output root: %w", err)
	}
	old, err := ReadManifest(r.root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.man = newManifest()
		r.man.Started = time.Now().UTC()
	case err != nil:
		return fmt.Errorf("%w (start over in %s, or choose another output root)", err, r.root)
	default:
		if err := compatible(old, r.plan, r.cfg.Backend, simulated(r.cfg.Backend, endpoints)); err != nil {
			err.Root = r.root
			return err
		}
		r.man = old
		for i := range r.man.Sessions {
			if s := &r.man.Sessions[i]; s.Ended == nil && s.Outcome == "" {
				s.Outcome = "killed"
			}
		}
		fresh := newManifest()
		r.man.Tool, r.man.Version, r.man.GoVersion, r.man.Host = fresh.Tool, fresh.Version, fresh.GoVersion, fresh.Host
	}
	r.man.Backend = r.cfg.Backend
	r.man.Simulated = simulated(r.cfg.Backend, endpoints)
	r.man.Simulator = nil
	if r.cfg.Simulator != nil {
		raw, err := json.Marshal(r.cfg.Simulator)
		if err != nil {
			return fmt.Errorf("suite: simulator configuration: %w", err)
		}
		r.man.Simulator = raw
	}
	r.man.Plan = r.plan
	r.man.Finished = nil

	r.man.Endpoints = endpoints

	if !r.plan.Hardware.Skip {
		r.gpu = r.openGPU(ctx)
		r.man.GPU = r.gpu.info
	}
	r.man.Sessions = append(r.man.Sessions, Session{Started: time.Now().UTC()})
	return r.man.write(r.root)
}

// probe asks both endpoints for their version and models. When a phase
// streams from them (and the runs are real, not a test's executor), an
// endpoint that does not answer is an error, and so is one that lacks a
// model the plan streams from it.
func (r *runner) probe(ctx context.Context) ([]Endpoint, error) {
	models := streamedModels(r.plan)
	var eps []Endpoint
	var down, missing []error
	for _, ep := range []struct{ role, url string }{{"collector", r.plan.CollectorURL}, {"insight", r.plan.InsightURL}} {
		e, err := ProbeEndpoint(ctx, r.cfg.HTTPClient, ep.role, ep.url)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			down = append(down, err)
		} else if me := missingModels(e, models); me != nil {
			missing = append(missing, me)
		}
		eps = append(eps, e)
	}
	if len(models) == 0 || r.exec != nil {
		return eps, nil
	}
	if len(down) > 0 {
		return nil, errors.Join(down...)
	}
	if len(missing) > 0 {
		return nil, errors.Join(missing...)
	}
	return eps, nil
}

// compatible refuses to resume into a root whose results were measured
// differently: mixing them would corrupt the comparisons.
func compatible(old *Manifest, p Plan, backend string, sim bool) *IncompatibleRootError {
	var diffs []string
	if old.Backend != "" && old.Backend != backend {
		diffs = append(diffs, fmt.Sprintf("backend %s, now %s", backendWords(old.Backend, old.Simulated), backendWords(backend, sim)))
	} else if old.Simulated != sim {
		diffs = append(diffs, fmt.Sprintf("%s, now %s", simText(old.Simulated), simText(sim)))
	}
	op := old.Plan.WithDefaults()
	if op.Scenario != p.Scenario {
		diffs = append(diffs, fmt.Sprintf("scenario %s, now %s", op.Scenario, p.Scenario))
	}
	if op.NumPredict != p.NumPredict {
		diffs = append(diffs, fmt.Sprintf("num_predict %d, now %d", op.NumPredict, p.NumPredict))
	}
	if *op.SoloBaseline != *p.SoloBaseline {
		diffs = append(diffs, fmt.Sprintf("solo baseline %v, now %v", *op.SoloBaseline, *p.SoloBaseline))
	}
	if op.LagInterval != p.LagInterval {
		diffs = append(diffs, fmt.Sprintf("lag interval %s, now %s", op.LagInterval, p.LagInterval))
	}
	if op.Hardware.CommandTemplate != p.Hardware.CommandTemplate {
		diffs = append(diffs, fmt.Sprintf("hardware command template %q, now %q", op.Hardware.CommandTemplate, p.Hardware.CommandTemplate))
	}
	if len(diffs) > 0 {
		return &IncompatibleRootError{Diffs: diffs}
	}
	return nil
}

// backendWords names a backend for a message: "sim" is the embedded
// simulators, "ollama" the servers at the given URLs, which may themselves
// be tr117's simulators.
func backendWords(backend string, sim bool) string {
	switch {
	case backend == BackendSim:
		return "sim (embedded simulators)"
	case sim:
		return backend + " (servers at the given URLs, answering as tr117's simulators)"
	}
	return backend + " (servers at the given URLs)"
}

// simulated reports whether results measured with backend from endpoints
// are simulated: the sim backend's are, and so are those of a simulator
// answering where real Ollama was expected.
func simulated(backend string, endpoints []Endpoint) bool {
	if backend == BackendSim {
		return true
	}
	for _, e := range endpoints {
		if e.Simulated {
			return true
		}
	}
	return false
}

func simText(sim bool) string {
	if sim {
		return "simulated endpoints"
	}
	return "real endpoints"
}

// IncompatibleRootError is returned by [Execute], before anything is
// written, when the output root holds results measured differently
// (another backend, simulated or real endpoints, another scenario,
// num_predict, lag interval or hardware command): resuming would mix them.
// Start over (Config.Overwrite) or choose another root.
type IncompatibleRootError struct {
	Root string
	// Diffs says what differs: "backend sim, now ollama".
	Diffs []string
}

func (e *IncompatibleRootError) Error() string {
	return fmt.Sprintf("suite: %s holds results measured with %s; resuming there would mix them", e.Root, strings.Join(e.Diffs, "; "))
}

func (r *runner) runAll(ctx context.Context) (*Result, error) {
	runs := Runs(r.plan)
	order := make(map[string]int, len(runs))
	for i, run := range runs {
		order[run.Key()] = i
	}
	res := &Result{Root: r.root, Manifest: r.man}
	r.prog = r.cfg.Progress
	if r.prog == nil {
		r.prog = noProgress{}
	}
	defer r.gpu.close()
	defer func() { r.cond.close(); r.cond = nil }()
	for _, run := range runs {
		if rec := r.man.record(run.Key()); rec != nil && rec.Status == StatusOK {
			res.Resumed++
		}
	}
	r.prog.Resumed(res.Resumed, len(runs))
	if r.gpu != nil && r.gpu.info.None {
		r.prog.Note(fmt.Sprintf("no GPU: %s; hardware runs go on without GPU samples", r.gpu.info.Error))
	}

	var runErr error
	for i, run := range runs {
		if rec := r.man.record(run.Key()); rec != nil && rec.Status == StatusOK {
			continue
		}
		if err := ctx.Err(); err != nil {
			runErr = err
			break
		}
		lastOfCondition := i+1 == len(runs) || runs[i+1].relDir() != run.relDir()
		ran, err := r.runOne(ctx, run, order, lastOfCondition)
		if ran {
			res.Ran++
		}
		if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			runErr = err
			break
		}
		if err != nil {
			return res, err
		}
	}

	// Rebuild the merged CSVs of every condition, even when interrupted:
	// they are derived from the per-run files of the runs recorded as ok.
	if err := r.mergeAll(runs); err != nil {
		r.log.Warn("merging per-run CSV files", "err", err)
	}
	for _, rec := range r.man.Runs {
		if _, inPlan := order[rec.Key]; inPlan && rec.Status == StatusFailed {
			res.Failed++
		}
	}
	sess := &r.man.Sessions[len(r.man.Sessions)-1]
	end := time.Now().UTC()
	sess.Ended = &end
	switch {
	case runErr != nil:
		sess.Outcome = "interrupted"
	case res.Failed > 0:
		sess.Outcome = "failed"
		r.man.Finished = &end
	default:
		sess.Outcome = "complete"
		r.man.Finished = &end
	}
	if err := r.man.write(r.root); err != nil {
		return res, err
	}
	if runErr != nil {
		return res, runErr
	}
	rep, err := Analyze(r.root, ReportConfig{})
	if err != nil {
		return res, err
	}
	if err := WriteReport(r.root, rep, true); err != nil {
		return res, err
	}
	res.Report = rep
	r.prog.Note("report: " + filepath.Join(r.root, ReportMarkdown))
	if res.Failed > 0 {
		return res, fmt.Errorf("%w: %d of %d runs failed (see %s)", ErrRunsFailed, res.Failed, len(runs), filepath.Join(r.root, ManifestFile))
	}
	return res, nil
}

// runOne runs run, records it in the manifest and reports it; with
// lastOfCondition it then merges the condition's traces, so that a session
// killed later leaves the condition complete. ran is false when the run
// was interrupted (it is then not recorded, so a resumed suite redoes it,
// and err is the context's error); a failed run is recorded and is not an
// error here.
func (r *runner) runOne(ctx context.Context, run Run, order map[string]int, lastOfCondition bool) (ran bool, err error) {
	dir, err := run.Dir(r.root)
	if err != nil {
		return false, fmt.Errorf("suite: %w", err)
	}
	r.prog.Start(run, r.runsInCondition(run))
	rec := RunRecord{Key: run.Key(), Run: run, Started: time.Now().UTC()}
	files, runErr := r.execOne(ctx, run, dir)
	rec.Ended = time.Now().UTC()
	rec.Files = files
	if runErr != nil && ctx.Err() != nil {
		r.prog.Note(fmt.Sprintf("interrupted during %s: it is not recorded, and a resumed suite redoes it", run))
		return false, ctx.Err()
	}
	if runErr != nil {
		rec.Status, rec.Error = StatusFailed, runErr.Error()
		r.log.Warn("run failed", "run", run.Key(), "err", runErr)
	} else {
		rec.Status = StatusOK
	}
	r.man.setRecord(rec, order)
	if err := r.man.write(r.root); err != nil {
		return true, err
	}
	r.prog.Finish(run, rec.Ended.Sub(rec.Started), runErr)
	if lastOfCondition {
		if err := r.mergeCondition(dir); err != nil {
			r.log.Warn("merging per-run CSV files", "dir", dir, "err", err)
		}
	}
	return true, nil
}

func (r *runner) runsInCondition(run Run) int {
	switch run.Phase {
	case PhaseMRI:
		return r.plan.MRI.Runs
	case PhaseCeiling:
		return r.plan.Ceiling.Runs
	case PhaseThrottle:
		return r.plan.Throttle.Runs
	case PhaseHardware:
		return r.plan.Hardware.Runs
	}
	return 1
}

func (r *runner) execOne(ctx context.Context, run Run, dir string) ([]string, error) {
	if r.exec != nil {
		return r.exec(ctx, run, dir)
	}
	switch run.Phase {
	case PhaseMRI:
		return r.runMRI(ctx, run, dir)
	case PhaseCeiling:
		files, _, err := r.profileRun(ctx, run, dir, 0, nil, nil)
		return files, err
	case PhaseThrottle:
		return r.runThrottle(ctx, run, dir)
	case PhaseHardware:
		return r.runHardware(ctx, run, dir)
	case PhaseTokenizers:
		return r.runTokenizers(ctx, run, dir)
	}
	return nil, fmt.Errorf("suite: unknown phase %q", run.Phase)
}

// rel returns path relative to the output root, for the manifest.
func (r *runner) rel(path string) string {
	if rel, err := filepath.Rel(r.root, path); err == nil {
		return filepath.ToSlash(rel)
	}
	return path
}
