// Command suite runs the TR117 study in one process: the client-ceiling
// MRI runs (phase 1), the hardware runs under the GPU monitor (phase 2),
// the throttled flow-dynamics runs (phase 3) and optionally the tokenizer
// race, then writes report.md, report.json, report.html and plots.
//
//	go run ./examples/suite [--runs 5] [--output-root ./tr117-results] [--backend auto|ollama|sim] ...
//
// With --backend auto (the default), when neither the collector nor the
// insight Ollama server (http://localhost:11434 and :11435) answers, it runs
// the plan against two embedded simulators at a realistic token rate and says
// so on screen, in manifest.json and atop the report. --backend ollama
// insists on real servers; --backend sim forces the simulators. When only
// one answers, the suite stops with an error naming the silent URL rather
// than silently drop a real server.
//
// The scheduler-lag probe samples every 10ms (--lag-interval), not the
// seed's 100ms: a real small-model run of 50–100ms would otherwise have no
// lag sample, and no lag p99 for the lag-vs-efficiency correlation.
//
// Results go to ./tr117-results, or ./tr117-results-sim when the data is
// simulated (embedded simulators, or simulators answering at the URLs), so
// that a simulated study never blocks or mixes with a real one; an
// explicit --output-root is used as given, and one holding results of
// another kind is refused with the way out.
//
// Running it again with the same --output-root resumes where it stopped
// (Ctrl-C saves the state); --overwrite starts over. Exit 0: every run
// succeeded; 1: a run failed or the suite could not run; 2: bad usage;
// 130 (128 + SIGINT, as a shell reports it): interrupted by Ctrl-C or
// SIGTERM, after recording the runs that finished.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"tr117/examples/internal/agentcmd"
	"tr117/examples/internal/backend"
	"tr117/examples/internal/cli"
	"tr117/examples/internal/telcmd"
	"tr117/suite"
)

// exitInterrupted is the exit status of an interrupted suite: 128 +
// SIGINT, what a shell reports for a command Ctrl-C ended (and what
// examples/dmon and examples/throttle exit with).
const exitInterrupted = 130

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first Ctrl-C stops the suite cleanly (state saved); after it,
	// signals get their default action again, so a second one kills.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("suite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f flags
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: suite [flags]\n\nRuns the TR117 plan (default: 25 runs over three phases) and writes a report.\n\nFlags:")
		fs.PrintDefaults()
	}
	if code, ok := cli.Parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "suite: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	plan, err := f.plan(fs)
	if err == nil {
		err = f.check()
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	full := plan.WithDefaults()
	if f.showPlanAndRun {
		return dryRun(full, stdout, stderr)
	}
	return f.execute(ctx, fs, plan, stdout, stderr)
}

// check checks the flags that are not part of the plan.
func (f *flags) check() error {
	switch f.backendMode {
	case backend.Auto, backend.Ollama, backend.Sim:
	default:
		return fmt.Errorf("suite: --backend %q: want auto, ollama or sim", f.backendMode)
	}
	if f.simRate <= 0 {
		return errors.New("suite: --sim-tokens-per-sec must be positive")
	}
	_, err := f.tel.Export("suite", os.Getenv)
	return err
}

// dryRun prints the plan with its defaults and the runs it makes.
func dryRun(full suite.Plan, stdout, stderr io.Writer) int {
	js, err := json.MarshalIndent(full, "", "  ")
	if err != nil {
		fmt.Fprintln(stderr, "suite: plan:", err)
		return 1
	}
	fmt.Fprintf(stdout, "plan:\n%s\nruns:\n", js)
	for _, r := range suite.Runs(full) {
		fmt.Fprintln(stdout, r.Key())
	}
	return 0
}

// execute chooses the backend, runs the suite and returns the exit status.
func (f *flags) execute(ctx context.Context, fs *flag.FlagSet, plan suite.Plan, stdout, stderr io.Writer) int {
	full := plan.WithDefaults()
	roots := []string{f.outputRoot}
	if def := agentcmd.OutputDir(fs, "output-root", f.outputRoot, &backend.Backend{Simulated: true}); def != f.outputRoot {
		roots = append(roots, def)
	}
	if err := agentcmd.CheckWritable("suite", roots...); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	be, err := backend.Choose(ctx, f.backendMode, full.CollectorURL, full.InsightURL, backend.SimConfig{TokensPerSecond: f.simRate, TTFT: 50 * time.Millisecond, Jitter: 0.1})
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "suite: interrupted")
			return exitInterrupted
		}
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer be.Close()
	root := agentcmd.OutputDir(fs, "output-root", f.outputRoot, be)
	if be.Name == suite.BackendSim {
		fmt.Fprintf(stdout, "SIMULATED: no real Ollama used (%s).\nRunning the plan against two embedded simulators at %g tok/s (collector %s, insight %s).\nThe results exercise the pipeline only; the manifest and report say so.\n\n",
			be.Reason, f.simRate, be.CollectorURL, be.InsightURL)
		plan.CollectorURL, plan.InsightURL = be.CollectorURL, be.InsightURL
	} else if be.Simulated {
		fmt.Fprintf(stdout, "SIMULATED: the servers at %s (collector) and %s (insight) are tr117's Ollama simulators, not real Ollama.\nThe results exercise the pipeline only; the manifest and report say so.\n\n", full.CollectorURL, full.InsightURL)
	} else {
		fmt.Fprintf(stdout, "Using Ollama at %s (collector) and %s (insight).\n\n", full.CollectorURL, full.InsightURL)
	}

	sess, err := telcmd.Start(ctx, "suite", f.tel, os.Getenv, nil)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	start := time.Now()
	prog := newProgress(stdout)
	stopDrawing := keepDrawing(prog)
	res, err := suite.Execute(ctx, suite.Config{
		Plan:       plan,
		OutputRoot: root,
		Overwrite:  f.overwrite,
		Backend:    be.Name,
		Simulator:  be.Sim,
		Progress:   prog,
		Telemetry:  sess.Recorder(),
	})
	stopDrawing()
	prog.Close()
	elapsed := time.Since(start).Round(time.Second)
	if _, terr := sess.Close(ctx); terr != nil {
		fmt.Fprintln(stderr, terr)
	}
	return exitStatus(err, res, root, elapsed, stdout, stderr)
}

// exitStatus reports how the suite ended and returns the exit status.
func exitStatus(err error, res *suite.Result, root string, elapsed time.Duration, stdout, stderr io.Writer) int {
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "\nDone in %s: %d runs (%d resumed). Report: %s\n", elapsed, res.Ran+res.Resumed, res.Resumed, filepath.Join(root, suite.ReportMarkdown))
		return 0
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(stderr, "\nsuite: interrupted after %s; finished runs are recorded in %s. Run the same command again to resume.\n", elapsed, filepath.Join(root, suite.ManifestFile))
		return exitInterrupted
	case errors.As(err, new(*suite.MissingModelsError)):
		fmt.Fprintf(stderr, "%v\nThe models are chosen with --mri-models, --hardware-models and --throttle-models, or in a --plan file.\n", err)
		return 1
	case errors.As(err, new(*suite.IncompatibleRootError)):
		// Earlier results: the flags decide, as in every command (exit 2).
		fmt.Fprintf(stderr, "%v\nUse --overwrite to replace them, or --output-root DIR to keep both.\n", err)
		return 2
	case errors.Is(err, suite.ErrBadManifest):
		fmt.Fprintf(stderr, "%v\nUse --overwrite to replace them, or --output-root DIR to keep both.\n", err)
		return 1
	case errors.Is(err, suite.ErrRunsFailed):
		fmt.Fprintf(stderr, "\n%v\nReport: %s. Run the same command again to retry the failed runs.\n", err, filepath.Join(root, suite.ReportMarkdown))
		if tokenizersFailed(res) {
			fmt.Fprintln(stderr, "The tokenizer race failed: if a tokenizer was not found, point --ollama-models at the Ollama model store that has it, or pass --allow-download-tokenizers.")
		}
		return 1
	default:
		fmt.Fprintln(stderr, err)
		return 1
	}
}

// flags are the command's flags.
type flags struct {
	planFile       string
	mriModels      string
	hwModels       string
	thrModels      string
	runs           int
	buffers        string
	rates          string
	scenario       string
	collector      string
	insight        string
	outputRoot     string
	tokBench       bool
	ollamaModels   string
	allowDownload  bool
	cmdTemplate    string
	numPredict     int
	overwrite      bool
	backendMode    string
	simRate        float64
	samplerKind    string
	lagInterval    time.Duration
	ceiling        bool
	ceilingModel   string
	ceilingCosts   string
	soloBaseline   bool
	showPlanAndRun bool
	tel            telcmd.Flags
}

// register defines the flags on fs.
func (f *flags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.planFile, "plan", "", "plan file (JSON or YAML); flags given as well override it")
	fs.StringVar(&f.mriModels, "mri-models", "", "comma-separated models for phase 1 (default gemma3:latest)")
	fs.StringVar(&f.hwModels, "hardware-models", "", "comma-separated models for phase 2 (default gemma3:latest,qwen2.5:7b)")
	fs.StringVar(&f.thrModels, "throttle-models", "", "comma-separated models for phase 3 (default gemma3:latest)")
	fs.IntVar(&f.runs, "runs", 0, "runs per condition in every phase (default 5)")
	fs.StringVar(&f.buffers, "buffers", "", "read-buffer sizes for phase 1, e.g. default,8192,64k (default default,8192)")
	fs.StringVar(&f.rates, "throttle-rates", "", "throttle rates in tok/s for phase 3, 0 = unlimited (default 60)")
	fs.StringVar(&f.scenario, "scenario", "", "baseline_vs_chimera, chimera_homo (default) or chimera_hetero")
	fs.StringVar(&f.collector, "collector-url", "", "collector Ollama URL (default "+suite.DefaultCollectorURL+")")
	fs.StringVar(&f.insight, "insight-url", "", "insight Ollama URL (default "+suite.DefaultInsightURL+")")
	fs.StringVar(&f.outputRoot, "output-root", backend.Root(false), "results directory; an existing one is resumed (simulated results: "+backend.Root(true)+")")
	fs.BoolVar(&f.tokBench, "run-tokenizer-bench", false, "run the tokenizer race (phase2/tokenizers)")
	fs.StringVar(&f.ollamaModels, "ollama-models", "", "local Ollama model store the tokenizer race reads first (default $OLLAMA_MODELS, else ~/.ollama/models)")
	fs.BoolVar(&f.allowDownload, "allow-download-tokenizers", false, "let the tokenizer race fetch tokenizer.json from the Hugging Face Hub")
	fs.StringVar(&f.cmdTemplate, "hardware-cmd-template", "", "command each hardware run executes under the GPU monitor, with {model} {slug} {run} {dir} {collector_url} {insight_url}; split like a shell, run without one (default: the built-in dual-agent run)")
	fs.IntVar(&f.numPredict, "num-predict", suite.DefaultNumPredict, "cap each completion at N tokens (Ollama's num_predict); -1: send none, the server decides (a model that never stops then runs until the fixed 2-minute request timeout)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "start over: remove the suite's earlier results under --output-root")
	fs.StringVar(&f.backendMode, "backend", backend.Auto, "auto (real Ollama if both endpoints answer, simulators if neither does), ollama or sim")
	fs.Float64Var(&f.simRate, "sim-tokens-per-sec", 100, "token rate of each simulated stream (simulator only)")
	fs.StringVar(&f.samplerKind, "sampler", "", "GPU sampler: auto (default), nvml or nvidia-smi")
	fs.DurationVar(&f.lagInterval, "lag-interval", 0, "scheduler-lag probe interval (default 10ms; the seed's was 100ms, too long for short runs)")
	fs.BoolVar(&f.ceiling, "ceiling", false, "run the ceiling sweep: both agents' per-message work on one event loop at each --ceiling-costs")
	fs.StringVar(&f.ceilingModel, "ceiling-model", "", "model of the ceiling sweep (default: the first MRI model)")
	fs.StringVar(&f.ceilingCosts, "ceiling-costs", "", "CPU costs per message the ceiling sweep compares (default 0,50us,100us,200us,400us)")
	fs.BoolVar(&f.soloBaseline, "solo-baseline", true, "each dual-agent run first streams every agent alone, for the true speedup")
	fs.BoolVar(&f.showPlanAndRun, "dry-run", false, "print the plan (as JSON, defaults filled in) and the runs it makes, and exit")
	f.tel.Register(fs, true)
}

// plan is the --plan file's plan (or the default) with the flags given on
// the command line over it, validated. Its errors are usage errors.
func (f *flags) plan(fs *flag.FlagSet) (suite.Plan, error) {
	var plan suite.Plan
	if f.planFile != "" {
		var err error
		if plan, err = suite.LoadPlan(f.planFile); err != nil {
			return plan, err
		}
	}
	var usageErr error
	fs.Visit(func(fl *flag.Flag) {
		var err error
		switch fl.Name {
		case "mri-models":
			plan.MRI.Models, err = models(fl.Name, f.mriModels)
		case "hardware-models":
			plan.Hardware.Models, err = models(fl.Name, f.hwModels)
		case "throttle-models":
			plan.Throttle.Models, err = models(fl.Name, f.thrModels)
		case "runs":
			if f.runs < 1 {
				err = fmt.Errorf("suite: --runs %d: want at least 1", f.runs)
			}
			plan.SetRuns(f.runs)
		case "buffers":
			plan.MRI.Buffers, err = suite.ParseBufferSizes(f.buffers)
		case "throttle-rates":
			plan.Throttle.Rates, err = suite.ParseRates(f.rates)
		case "scenario":
			plan.Scenario = f.scenario
		case "collector-url":
			plan.CollectorURL = f.collector
		case "insight-url":
			plan.InsightURL = f.insight
		case "run-tokenizer-bench":
			plan.Tokenizers.Run = f.tokBench
		case "ollama-models":
			plan.Tokenizers.OllamaModels = f.ollamaModels
		case "allow-download-tokenizers":
			plan.Tokenizers.AllowDownload = f.allowDownload
		case "hardware-cmd-template":
			plan.Hardware.CommandTemplate = f.cmdTemplate
		case "num-predict":
			if f.numPredict == 0 || f.numPredict < suite.NoNumPredict {
				err = fmt.Errorf("suite: --num-predict %d: want a positive number of tokens, or -1 to send none", f.numPredict)
			}
			plan.NumPredict = f.numPredict
		case "sampler":
			plan.Hardware.Sampler = f.samplerKind
		case "lag-interval":
			if f.lagInterval < time.Millisecond {
				err = fmt.Errorf("suite: --lag-interval %v: want a duration of at least 1ms, such as 10ms", f.lagInterval)
			}
			plan.LagInterval = suite.Duration(f.lagInterval)
		case "ceiling":
			plan.Ceiling.Run = f.ceiling
		case "ceiling-model":
			plan.Ceiling.Model = f.ceilingModel
		case "ceiling-costs":
			plan.Ceiling.Costs, err = suite.ParseCosts(f.ceilingCosts)
		case "solo-baseline":
			plan.SoloBaseline = &f.soloBaseline
		}
		if err != nil && usageErr == nil {
			usageErr = err
		}
	})
	if usageErr != nil {
		// The library's errors carry their "suite: " prefix already.
		return plan, usageErr
	}
	return plan, plan.Validate()
}

// models parses the comma-separated models of flag --name; an empty list is
// an error rather than the default (a plan file's "skip" leaves a phase out).
func models(name, value string) ([]string, error) {
	m := suite.ParseModels(value)
	if len(m) == 0 {
		return nil, fmt.Errorf("suite: --%s %q: want one or more comma-separated model names (a plan file's \"skip: true\" leaves a phase out)", name, value)
	}
	return m, nil
}

// tokenizersFailed reports whether the session's tokenizer race failed.
func tokenizersFailed(res *suite.Result) bool {
	if res == nil || res.Manifest == nil {
		return false
	}
	for _, rec := range res.Manifest.Runs {
		if rec.Phase == suite.PhaseTokenizers && rec.Status == suite.StatusFailed {
			return true
		}
	}
	return false
}
