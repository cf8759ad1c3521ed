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
	"syscall"

	"tr117/examples/internal/agentcmd"
	"tr117/examples/internal/telcmd"
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

// runDoc is run_<i>.json.
type runDoc struct {
	*profiler.RunResult
	ThrottleRate float64                 `json:"throttle_rate"`
	Burst        int                     `json:"burst"`
	Backpressure []throttle.Backpressure `json:"backpressure"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("throttle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", profiler.DefaultModel, "model both agents ask for")
	runs := fs.Int("runs", 5, "number of measured runs")
	scenario := fs.String("scenario", string(profiler.ChimeraHomo), "baseline_vs_chimera, chimera_homo or chimera_hetero")
	outDir := fs.String("output-dir", "tr117-results/throttle", "directory for run_<i>.json, summary.json and the CSVs")
	overwrite := fs.Bool("overwrite", false, "replace the results of an earlier run in --output-dir (else refused)")
	collectorURL := fs.String("collector-ollama-url", profiler.DefaultCollectorURL, "collector agent's Ollama URL")
	insightURL := fs.String("insight-ollama-url", profiler.DefaultInsightURL, "insight agent's Ollama URL")
	rate := fs.Float64("throttle-rate", 60, "tokens per second each agent may read (0: unlimited)")
	numPredict := fs.Int("num-predict", 0, "num_predict option: most tokens per response (0: not sent)")
	burst := fs.Int("burst", 0, "token bucket size (0: one second of tokens, as in the seed)")
	timeout := fs.Duration("timeout", profiler.DefaultTimeout, "longest time for one request (0: none)")
	var tel telcmd.Flags
	tel.Register(fs, true)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: throttle [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
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
	case *numPredict < 0 || *burst < 0 || *timeout < 0:
		err = errors.New("throttle: --num-predict, --burst and --timeout must not be negative")
	default:
		err = agentcmd.CheckURLFlag("throttle", "collector-ollama-url", *collectorURL)
		if err == nil {
			err = agentcmd.CheckURLFlag("throttle", "insight-ollama-url", *insightURL)
		}
		if err == nil {
			_, err = tel.Export("throttle", os.Getenv)
		}
		if err == nil {
			err = agentcmd.PrepareOutputDir(*outDir, *overwrite)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	set := profiler.DefaultOptions()
	agents := profiler.CapTokens(profiler.DefaultAgents(*model, *collectorURL, *insightURL, sc, set, set), *numPredict)
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
	if err := throttled(ctx, cfg, *runs, *rate, newLimiter().Burst(), *outDir, stdout, stderr, sess); err != nil {
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

func throttled(ctx context.Context, cfg profiler.Config, runs int, rate float64, burst int, dir string, stdout, stderr io.Writer, sess *telcmd.Session) error {
	results, used, errs := agentcmd.Series{
		Cmd: "throttle", Config: cfg, Runs: runs, Dir: dir,
		Each: func(rr *profiler.RunResult) error {
			doc := runDoc{RunResult: rr, ThrottleRate: rate, Burst: burst}
			for _, a := range rr.Agents {
				doc.Backpressure = append(doc.Backpressure, throttle.Measure(rate, a.Stream))
			}
			printRun(stdout, rr, runs, rate, doc.Backpressure)
			return sink.WriteJSONFile(filepath.Join(dir, profiler.RunFileName(rr.Run)), doc)
		},
		Sinks: sess.Sinks,
	}.Run(ctx, stdout)
	st, terr := sess.Close(ctx)
	if terr != nil {
		fmt.Fprintln(stderr, terr)
	}
	fmt.Fprintf(stdout, "summary (cap %s):\n", capText(rate))
	rep := profiler.NewReport(results)
	rep.WriteText(stdout)
	if rate > 0 {
		// The profiler times a message by the read that delivered it; a
		// throttled reader finds many waiting at once.
		fmt.Fprintln(stdout, "  (ITL of a throttled stream: messages queue in the socket while the reader waits for tokens and arrive together, so p50 is near 0 and p99 is a refill wait; the achieved tok/s is the measure of the cap)")
	}
	if err := sink.WriteJSONFile(filepath.Join(dir, "summary.json"), summaryDoc{Config: used, ThrottleRate: rate, Burst: burst, Report: rep, Telemetry: sess.Summary(st, terr)}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func printRun(stdout io.Writer, rr *profiler.RunResult, runs int, rate float64, bps []throttle.Backpressure) {
	fmt.Fprintf(stdout, "run %d/%d: cap %s, wall %.1f ms, ", rr.Run, runs, capText(rate), rr.ConcurrentWallTimeMS)
	if rr.EfficiencyPercent == nil {
		fmt.Fprintf(stdout, "efficiency: failed (%d of %d agents failed)", rr.Failed, len(rr.Agents))
	} else {
		fmt.Fprintf(stdout, "efficiency %.1f%%", *rr.EfficiencyPercent)
	}
	for k, a := range rr.Agents {
		if a.Error != "" {
			fmt.Fprintf(stdout, " | %s FAILED: %s", a.ID, a.Error)
			continue
		}
		bp := bps[k]
		fmt.Fprintf(stdout, " | %s %d tok, client %.1f tok/s, server %.1f tok/s, server total %.0f ms", a.ID, bp.Tokens, bp.ClientTokensPerSec, bp.ServerTokensPerSec, bp.ServerTotalMS)
	}
	fmt.Fprintln(stdout)
}
