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
	var (
		planFile       = fs.String("plan", "", "plan file (JSON or YAML); flags given as well override it")
		mriModels      = fs.String("mri-models", "", "comma-separated models for phase 1 (default gemma3:latest)")
		hwModels       = fs.String("hardware-models", "", "comma-separated models for phase 2 (default gemma3:latest,qwen2.5:7b)")
		thrModels      = fs.String("throttle-models", "", "comma-separated models for phase 3 (default gemma3:latest)")
		runs           = fs.Int("runs", 0, "runs per condition in every phase (default 5)")
		buffers        = fs.String("buffers", "", "read-buffer sizes for phase 1, e.g. default,8192,64k (default default,8192)")
		rates          = fs.String("throttle-rates", "", "throttle rates in tok/s for phase 3, 0 = unlimited (default 60)")
		scenario       = fs.String("scenario", "", "baseline_vs_chimera, chimera_homo (default) or chimera_hetero")
		collector      = fs.String("collector-url", "", "collector Ollama URL (default "+suite.DefaultCollectorURL+")")
		insight        = fs.String("insight-url", "", "insight Ollama URL (default "+suite.DefaultInsightURL+")")
		outputRoot     = fs.String("output-root", backend.Root(false), "results directory; an existing one is resumed (simulated results: "+backend.Root(true)+")")
		tokBench       = fs.Bool("run-tokenizer-bench", false, "run the tokenizer race (phase2/tokenizers)")
		ollamaModels   = fs.String("ollama-models", "", "local Ollama model store the tokenizer race reads first (default $OLLAMA_MODELS, else ~/.ollama/models)")
		allowDownload  = fs.Bool("allow-download-tokenizers", false, "let the tokenizer race fetch tokenizer.json from the Hugging Face Hub")
		cmdTemplate    = fs.String("hardware-cmd-template", "", "command each hardware run executes under the GPU monitor, with {model} {slug} {run} {dir} {collector_url} {insight_url}; split like a shell, run without one (default: the built-in dual-agent run)")
		numPredict     = fs.Int("num-predict", suite.DefaultNumPredict, "cap each completion at N tokens (Ollama's num_predict); -1: send none, the server decides (a model that never stops then runs until the timeout)")
		overwrite      = fs.Bool("overwrite", false, "start over: remove the suite's earlier results under --output-root")
		backendMode    = fs.String("backend", backend.Auto, "auto (real Ollama if both endpoints answer, simulators if neither does), ollama or sim")
		simRate        = fs.Float64("sim-tokens-per-sec", 100, "token rate of each simulated stream (simulator only)")
		samplerKind    = fs.String("sampler", "", "GPU sampler: auto (default), nvml or nvidia-smi")
		lagInterval    = fs.Duration("lag-interval", 0, "scheduler-lag probe interval (default 10ms; the seed's was 100ms, too long for short runs)")
		ceiling        = fs.Bool("ceiling", false, "run the ceiling sweep: both agents' per-message work on one event loop at each --ceiling-costs")
		ceilingModel   = fs.String("ceiling-model", "", "model of the ceiling sweep (default: the first MRI model)")
		ceilingCosts   = fs.String("ceiling-costs", "", "CPU costs per message the ceiling sweep compares (default 0,50us,100us,200us,400us)")
		soloBaseline   = fs.Bool("solo-baseline", true, "each dual-agent run first streams every agent alone, for the true speedup")
		showPlanAndRun = fs.Bool("dry-run", false, "print the plan (as JSON, defaults filled in) and the runs it makes, and exit")
		tel            telcmd.Flags
	)
	tel.Register(fs, true)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: suite [flags]\n\nRuns the TR117 plan (default: the seed's 25 runs) and writes a report.\n\nFlags:")
		fs.PrintDefaults()
	}
	if code, ok := cli.Parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "suite: unexpected argument %q\n", fs.Arg(0))
		return 2
	}

	var plan suite.Plan
	if *planFile != "" {
		var err error
		if plan, err = suite.LoadPlan(*planFile); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	}
	var usageErr error
	fs.Visit(func(f *flag.Flag) {
		var err error
		switch f.Name {
		case "mri-models":
			plan.MRI.Models, err = models(f.Name, *mriModels)
		case "hardware-models":
			plan.Hardware.Models, err = models(f.Name, *hwModels)
		case "throttle-models":
			plan.Throttle.Models, err = models(f.Name, *thrModels)
		case "runs":
			if *runs < 1 {
				err = fmt.Errorf("suite: --runs %d: want at least 1", *runs)
			}
			plan.SetRuns(*runs)
		case "buffers":
			plan.MRI.Buffers, err = suite.ParseBufferSizes(*buffers)
		case "throttle-rates":
			plan.Throttle.Rates, err = suite.ParseRates(*rates)
		case "scenario":
			plan.Scenario = *scenario
		case "collector-url":
			plan.CollectorURL = *collector
		case "insight-url":
			plan.InsightURL = *insight
		case "run-tokenizer-bench":
			plan.Tokenizers.Run = *tokBench
		case "ollama-models":
			plan.Tokenizers.OllamaModels = *ollamaModels
		case "allow-download-tokenizers":
			plan.Tokenizers.AllowDownload = *allowDownload
		case "hardware-cmd-template":
			plan.Hardware.CommandTemplate = *cmdTemplate
		case "num-predict":
			if *numPredict == 0 || *numPredict < suite.NoNumPredict {
				err = fmt.Errorf("suite: --num-predict %d: want a positive number of tokens, or -1 to send none", *numPredict)
			}
			plan.NumPredict = *numPredict
		case "sampler":
			plan.Hardware.Sampler = *samplerKind
		case "lag-interval":
			if *lagInterval < time.Millisecond {
				err = fmt.Errorf("suite: --lag-interval %v: want a duration of at least 1ms, such as 10ms", *lagInterval)
			}
			plan.LagInterval = suite.Duration(*lagInterval)
		case "ceiling":
			plan.Ceiling.Run = *ceiling
		case "ceiling-model":
			plan.Ceiling.Model = *ceilingModel
		case "ceiling-costs":
			plan.Ceiling.Costs, err = suite.ParseCosts(*ceilingCosts)
		case "solo-baseline":
			plan.SoloBaseline = soloBaseline
		}
		if err != nil && usageErr == nil {
			usageErr = err
		}
	})
	if usageErr != nil {
		// The library's errors carry their "suite: " prefix already.
		fmt.Fprintln(stderr, usageErr)
		return 2
	}
	if err := plan.Validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	switch *backendMode {
	case backend.Auto, backend.Ollama, backend.Sim:
	default:
		fmt.Fprintf(stderr, "suite: --backend %q: want auto, ollama or sim\n", *backendMode)
		return 2
	}
	if *simRate <= 0 {
		fmt.Fprintln(stderr, "suite: --sim-tokens-per-sec must be positive")
		return 2
	}
	if _, err := tel.Export("suite", os.Getenv); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	full := plan.WithDefaults()
	if *showPlanAndRun {
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

	roots := []string{*outputRoot}
	if def := agentcmd.OutputDir(fs, "output-root", *outputRoot, &backend.Backend{Simulated: true}); def != *outputRoot {
		roots = append(roots, def)
	}
	if err := agentcmd.CheckWritable("suite", roots...); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	be, err := backend.Choose(ctx, *backendMode, full.CollectorURL, full.InsightURL, backend.SimConfig{TokensPerSecond: *simRate, TTFT: 50 * time.Millisecond, Jitter: 0.1})
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "suite: interrupted")
			return exitInterrupted
		}
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer be.Close()
	root := agentcmd.OutputDir(fs, "output-root", *outputRoot, be)
	if be.Name == suite.BackendSim {
		fmt.Fprintf(stdout, "SIMULATED: no real Ollama used (%s).\nRunning the plan against two embedded simulators at %g tok/s (collector %s, insight %s).\nThe results exercise the pipeline only; the manifest and report say so.\n\n",
			be.Reason, *simRate, be.CollectorURL, be.InsightURL)
		plan.CollectorURL, plan.InsightURL = be.CollectorURL, be.InsightURL
	} else if be.Simulated {
		fmt.Fprintf(stdout, "SIMULATED: the servers at %s (collector) and %s (insight) are tr117's Ollama simulators, not real Ollama.\nThe results exercise the pipeline only; the manifest and report say so.\n\n", full.CollectorURL, full.InsightURL)
	} else {
		fmt.Fprintf(stdout, "Using Ollama at %s (collector) and %s (insight).\n\n", full.CollectorURL, full.InsightURL)
	}

	sess, err := telcmd.Start(ctx, "suite", tel, os.Getenv, nil)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	start := time.Now()
	res, err := suite.Execute(ctx, suite.Config{
		Plan:       plan,
		OutputRoot: root,
		Overwrite:  *overwrite,
		Backend:    be.Name,
		Simulator:  be.Sim,
		Progress:   stdout,
		Telemetry:  sess.Recorder(),
	})
	elapsed := time.Since(start).Round(time.Second)
	if _, terr := sess.Close(ctx); terr != nil {
		fmt.Fprintln(stderr, terr)
	}
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
		fmt.Fprintf(stderr, "%v\nUse --overwrite to replace them, or --output-root DIR to keep both.\n", err)
		return 1
	case errors.Is(err, suite.ErrRunsFailed):
		fmt.Fprintf(stderr, "\n%v\nReport: %s. Run the same command again to retry the failed runs.\n", err, filepath.Join(root, suite.ReportMarkdown))
		return 1
	default:
		fmt.Fprintln(stderr, err)
		return 1
	}
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
