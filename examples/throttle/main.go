// Command throttle is the Go successor of the seed's throttled_agent.py: the
// profiler's dual-agent run with each agent's reader held to a token rate,
// for the flow-dynamics ("tortoise and hare") A/B.
//
//	go run ./examples/throttle --model gemma3:latest --runs 5 --throttle-rate 60 \
//	    --output-dir results/phase3/gemma3_latest/60tps
//
// Each agent's stream passes a token bucket of --throttle-rate tokens a
// second (0: unlimited) that starts empty and holds one second of tokens
// (or --burst). It writes OUTPUT-DIR/run_<i>.json (the profiler's fields
// plus throttle_rate, burst and, per agent, what the server reported next
// to the achieved rate), chunk_metrics.csv, loop_lag.csv and summary.json
// (the configuration, throttle_rate, burst and the profiler's report), like
// the profiler command (default OUTPUT-DIR: tr117-results/throttle); agent
// throughput_tokens_per_sec is the achieved client rate. It prints a line
// per run and a summary, and exits 0 only if every agent of every run
// succeeded (1 otherwise, 2 for bad usage). It refuses (exit 2) an
// OUTPUT-DIR that already holds such files unless --overwrite is given,
// which removes them (and no other files) first. Ctrl-C (or SIGTERM) stops
// the run in progress, writes what was measured so far and exits 130; a
// second Ctrl-C kills the process.
//
// Before the first run it checks that results can be written, that both
// endpoints answer and have --model, and that OUTPUT-DIR holds no earlier
// results; a failed check is one message and nothing is written. With
// --backend auto (the default) and neither endpoint answering, it runs
// against two embedded simulators, as the suite does, says SIMULATED on
// screen and in every file, and writes under tr117-results-sim/throttle unless
// --output-dir is given; --backend sim forces them, --backend ollama
// insists on real servers. Each response is capped at --num-predict tokens
// (default 256; -1 sends no cap). When no run measured anything, the files
// it wrote are removed again.
//
// A process started with SIGINT ignored (a background job of a
// non-interactive shell: "throttle … &" in a script) cannot see a SIGINT
// sent in its first few milliseconds, before main has asked for it: the
// kernel discards it, and the runs go on. Send SIGTERM, or wait for the
// first output, when stopping it from a script.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"

	"tr117/examples/internal/agentcmd"
	"tr117/examples/internal/cli"
	"tr117/examples/internal/telcmd"
	"tr117/internal/layout"
	"tr117/profiler"
	"tr117/sink"
	"tr117/throttle"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first Ctrl-C, which ends the run in progress and writes what
	// it measured, a second one kills the process.
	context.AfterFunc(ctx, stop)
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// usage is -h's text above the flags.
const usage = `usage: throttle [flags]

The profiler's dual-agent run with each agent's reader held to
--throttle-rate tokens a second, recording what the server does under the
back-pressure. With no server answering it runs against two embedded
simulators and says so.

Flags:`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("throttle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", profiler.DefaultModel, "model both agents ask for")
	runs := fs.Int("runs", 5, "number of measured runs")
	scenario := fs.String("scenario", string(profiler.ChimeraHomo), "baseline_vs_chimera, chimera_homo or chimera_hetero")
	outDir := fs.String("output-dir", "tr117-results/throttle", "directory for run_<i>.json, summary.json and the CSVs (simulated runs: tr117-results-sim/throttle)")
	overwrite := fs.Bool("overwrite", false, "replace the results of an earlier run in --output-dir (else refused)")
	collectorURL, insightURL := agentcmd.URLFlags(fs)
	rate := fs.Float64("throttle-rate", 60, "tokens per second each agent may read (0: unlimited)")
	numPredict := agentcmd.NumPredictFlag(fs)
	backendMode := agentcmd.BackendFlag(fs)
	burst := fs.Int("burst", 0, "token bucket size (0: one second of tokens, as in the seed)")
	timeout := fs.Duration("timeout", profiler.DefaultTimeout, "longest time for one request (0: none)")
	conc := agentcmd.ConcurrencyFlags(fs)
	streamFlags := agentcmd.AddStreamFlags(fs)
	var tel telcmd.Flags
	tel.Register(fs, true)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	if code, ok := cli.Parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "throttle: unexpected arguments %q\n", fs.Args())
		return 2
	}
	sc, err := profiler.ParseScenario(*scenario)
	switch {
	case err != nil:
	case *runs < 1:
		err = errors.New("throttle: --runs must be at least 1")
	case *rate < 0 || math.IsNaN(*rate) || math.IsInf(*rate, 0):
		err = errors.New("throttle: --throttle-rate must be a rate ≥ 0")
	case *burst < 0 || *timeout < 0:
		err = errors.New("throttle: --burst and --timeout must not be negative")
	case agentcmd.CheckNumPredict("throttle", *numPredict) != nil:
		err = agentcmd.CheckNumPredict("throttle", *numPredict)
	case conc.Check("throttle") != nil:
		err = conc.Check("throttle")
	case streamFlags.Apply("throttle", &profiler.Config{}) != nil:
		err = streamFlags.Apply("throttle", &profiler.Config{})
	default:
		err = agentcmd.CheckURLFlag("throttle", "collector-url", *collectorURL)
		if err == nil {
			err = agentcmd.CheckURLFlag("throttle", "insight-url", *insightURL)
		}
		if err == nil {
			_, err = tel.Export("throttle", os.Getenv)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	t, code, err := agentcmd.Prepare(ctx, fs, agentcmd.Setup{Cmd: "throttle", Mode: *backendMode, Model: *model,
		CollectorURL: *collectorURL, InsightURL: *insightURL, DirFlag: "output-dir", Dir: *outDir, Overwrite: *overwrite, OpenAI: streamFlags.OpenAI()}, stdout)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return code
	}
	defer t.Close()
	set := profiler.DefaultOptions()
	agents := profiler.CapTokens(profiler.DefaultAgents(*model, t.CollectorURL, t.InsightURL, sc, set, set), *numPredict)
	newLimiter := func() throttle.Limiter {
		if *burst > 0 {
			return throttle.NewWithBurst(*rate, *burst)
		}
		return throttle.New(*rate)
	}
	sess, err := telcmd.Start(ctx, "throttle", tel, os.Getenv, nil)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	cfg := profiler.Config{
		Agents:   agents,
		Scenario: sc,
		Timeout:  agentcmd.NoneIfZero(*timeout),
		Wrap: sess.Wrap(func(_ profiler.Agent, s profiler.Streamer) profiler.Streamer {
			return throttle.WrapEach(s, newLimiter)
		}),
	}
	conc.Apply(&cfg)
	if err := streamFlags.Apply("throttle", &cfg); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if err := throttled(ctx, cfg, *runs, *rate, newLimiter().Burst(), t, stdout, stderr, sess); err != nil {
		fmt.Fprintln(stderr, err)
		if ctx.Err() != nil {
			return agentcmd.ExitInterrupted
		}
		return 1
	}
	return 0
}

// capText says what the cap is: "60 tok/s", or "unlimited" for 0.
func capText(rate float64) string {
	if rate <= 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%g tok/s", rate)
}

// summaryDoc is summary.json: the profiler command's, plus the cap.
type summaryDoc struct {
	Config       profiler.Config `json:"config"`
	ThrottleRate float64         `json:"throttle_rate"`
	Burst        int             `json:"burst"`
	Report       profiler.Report `json:"report"`
	Telemetry    *telcmd.Summary `json:"telemetry,omitempty"`
}

func throttled(ctx context.Context, cfg profiler.Config, runs int, rate float64, burst int, t *agentcmd.Target, stdout, stderr io.Writer, sess *telcmd.Session) error {
	dir := t.Dir
	results, used, errs := agentcmd.Series{
		Cmd: "throttle", Config: cfg, Runs: runs, Dir: dir,
		Each: func(rr *profiler.RunResult) error {
			doc := throttle.MeasureRun(rate, burst, rr)
			printRun(stdout, rr, runs, rate, doc.Backpressure)
			return rr.WriteFileWith(dir, doc)
		},
		Sinks: sess.Sinks,
	}.Run(ctx, stdout)
	st, terr := sess.Close(ctx)
	if terr != nil {
		fmt.Fprintln(stderr, terr)
	}
	defer t.Cleanup(stdout, results)
	if len(results) == 0 { // nothing ran: no summary of nothing
		return errors.Join(errs...)
	}
	fmt.Fprintf(stdout, "summary (cap %s):\n", capText(rate))
	rep := profiler.NewReport(results)
	rep.WriteText(stdout)
	if rate > 0 {
		// The profiler times a message by the read that delivered it; a
		// throttled reader finds many waiting at once.
		fmt.Fprintln(stdout, "  (ITL of a throttled stream: messages queue in the socket while the reader waits for tokens and arrive together, so p50 is near 0 and p99 is a refill wait; the achieved tok/s after the first token, (tokens - 1) / (total - TTFT), is the measure of the cap; the plain rate tokens / total also holds the TTFT)")
	}
	if err := sink.WriteJSONFile(filepath.Join(dir, layout.Summary), summaryDoc{Config: used, ThrottleRate: rate, Burst: burst, Report: rep, Telemetry: sess.Summary(st, terr)}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func printRun(stdout io.Writer, rr *profiler.RunResult, runs int, rate float64, bps []throttle.Backpressure) {
	fmt.Fprintf(stdout, "run %d/%d: cap %s, wall %.1f ms, ", rr.Run, runs, capText(rate), rr.ConcurrentWallTimeMS)
	fmt.Fprint(stdout, agentcmd.EfficiencyText(rr))
	for _, a := range rr.Agents {
		if f := agentcmd.FailureText(&a); f != "" {
			fmt.Fprint(stdout, f)
			continue
		}
		k := slices.IndexFunc(bps, func(b throttle.Backpressure) bool { return b.Agent == a.ID })
		if k < 0 {
			continue
		}
		bp := bps[k]
		achieved := "-"
		if bp.CapTokensPerSec != nil {
			achieved = fmt.Sprintf("%.1f", *bp.CapTokensPerSec)
		}
		fmt.Fprintf(stdout, " | %s %d tok, achieved %s tok/s after the first token (plain %.1f), server %.1f tok/s, server total %.0f ms", a.ID, bp.Tokens, achieved, bp.ClientTokensPerSec, bp.ServerTokensPerSec, bp.ServerTotalMS)
	}
	fmt.Fprintln(stdout)
}
