// Command profiler is the Go successor of the seed's profiler_agent.py
// ("Python MRI"): it streams completions from two Ollama endpoints at once,
// run after run, and records every transport read, the scheduler's lag and
// the runs' multi-agent efficiency.
//
//	go run ./examples/profiler --model gemma3:latest --runs 5 --scenario chimera_homo \
//	    --output-dir results/phase1/gemma3_latest/default [--read-buffer-size 8192]
//
// It writes OUTPUT-DIR/chunk_metrics.csv, OUTPUT-DIR/loop_lag.csv,
// OUTPUT-DIR/run_<i>.json (i from 1) and OUTPUT-DIR/summary.json
// (default OUTPUT-DIR: tr117-results/profiler), prints a line per run and a
// closing summary, and exits 0 only if every agent of every run succeeded
// (1 otherwise, 2 for bad usage). It refuses (exit 2) an OUTPUT-DIR that
// already holds such files unless --overwrite is given, which removes them
// (and no other files) first. Ctrl-C (or SIGTERM) stops the run in progress
// and writes what was measured so far, each interrupted agent with its
// error, and exits 130; a second Ctrl-C kills the process.
//
// Before the first run it checks that results can be written, that both
// endpoints answer and have --model, and that OUTPUT-DIR holds no earlier
// results; a failed check is one message and nothing is written. With
// --backend auto (the default) and neither endpoint answering, it runs
// against two embedded simulators, as the suite does, says SIMULATED on
// screen and in every file, and writes under tr117-results-sim/profiler unless
// --output-dir is given; --backend sim forces them, --backend ollama
// insists on real servers. Each response is capped at --num-predict tokens
// (default 256; -1 sends no cap). When no run measured anything, the files
// it wrote are removed again.
//
// A process started with SIGINT ignored (a background job of a
// non-interactive shell: "profiler … &" in a script) cannot see a SIGINT
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
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"tr117/examples/internal/agentcmd"
	"tr117/examples/internal/cli"
	"tr117/examples/internal/telcmd"
	"tr117/internal/layout"
	"tr117/profiler"
	"tr117/sink"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first Ctrl-C, which ends the run in progress and writes what
	// it measured, a second one kills the process.
	context.AfterFunc(ctx, stop)
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// optInt and optFloat are flags that may be left unset (then the option
// is not sent).
type optInt struct{ p **int }

func (o optInt) String() string {
	if o.p == nil || *o.p == nil {
		return ""
	}
	return strconv.Itoa(**o.p)
}

func (o optInt) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not an integer")
	}
	*o.p = &v
	return nil
}

type optFloat struct{ p **float64 }

func (o optFloat) String() string {
	if o.p == nil || *o.p == nil {
		return ""
	}
	return strconv.FormatFloat(**o.p, 'g', -1, 64)
}

func (o optFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("not a number")
	}
	*o.p = &v
	return nil
}

// optionFlags registers the --PREFIX-* flags of one tuned option set,
// each saying which agents (who) send it.
func optionFlags(fs *flag.FlagSet, prefix, who string, o *profiler.Options) {
	fs.Var(optInt{&o.NumGPU}, prefix+"-num-gpu", "num_gpu option "+who)
	fs.Var(optInt{&o.NumCtx}, prefix+"-num-ctx", "num_ctx option "+who)
	fs.Var(optFloat{&o.Temperature}, prefix+"-temperature", "temperature option "+who)
	fs.Var(optFloat{&o.TopP}, prefix+"-top-p", "top_p option "+who+" (default: not sent)")
	fs.Var(optInt{&o.TopK}, prefix+"-top-k", "top_k option "+who+" (default: not sent)")
	fs.Var(optFloat{&o.RepeatPenalty}, prefix+"-repeat-penalty", "repeat_penalty option "+who+" (default: not sent)")
}

// Which agents send each option set, by scenario.
const (
	chimeraWho  = "sent by both agents in chimera_homo, the collector in chimera_hetero, the insight agent in baseline_vs_chimera"
	chimera2Who = "sent by the insight agent, in chimera_hetero only"
)

// checkChimera2 refuses --chimera2-* flags in a scenario that ignores them.
func checkChimera2(fs *flag.FlagSet, sc profiler.Scenario) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err == nil && sc != profiler.ChimeraHetero && strings.HasPrefix(f.Name, "chimera2-") {
			err = fmt.Errorf("profiler: --%s: scenario %s sends no second option set (only chimera_hetero does)", f.Name, sc)
		}
	})
	return err
}

// checkNumbers refuses numeric flag values no run can use, naming the flag.
func checkNumbers(runs, readBuf int, timeout, idle time.Duration) error {
	switch {
	case runs < 1:
		return errors.New("profiler: --runs must be at least 1")
	case readBuf < 0 || timeout < 0 || idle < 0:
		return errors.New("profiler: --read-buffer-size, --timeout and --idle-timeout must not be negative")
	case readBuf > profiler.MaxReadBufferSize:
		return fmt.Errorf("profiler: --read-buffer-size %d is above the limit of %d bytes", readBuf, profiler.MaxReadBufferSize)
	}
	return nil
}

// usage is -h's text above the flags.
const usage = `usage: profiler [flags]

Streams two agents at once, run after run: "collector" (a short
data-gathering prompt, on --collector-url) and "insight" (a longer analysis
prompt, on --insight-url). It records every transport read, the scheduler's
lag and how much running together cost each agent (true speedup against
each agent run alone, and the balance-based efficiency of the original
study) into --output-dir. --scenario chooses the agents' Ollama options
("chimera" is the study's name for a tuned set, the --chimera-* flags):
baseline_vs_chimera (collector on Ollama's defaults, insight tuned),
chimera_homo (both tuned alike) or chimera_hetero (the insight agent
takes the --chimera2-* set instead).
With no server answering it runs against two embedded simulators and says
so.

Flags:`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("profiler", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", profiler.DefaultModel, "model both agents ask for")
	runs := fs.Int("runs", 5, "number of measured runs")
	scenario := fs.String("scenario", string(profiler.ChimeraHomo), "baseline_vs_chimera, chimera_homo or chimera_hetero")
	outDir := fs.String("output-dir", "tr117-results/profiler", "directory for chunk_metrics.csv, loop_lag.csv, run_<i>.json and summary.json (simulated runs: tr117-results-sim/profiler)")
	overwrite := fs.Bool("overwrite", false, "replace the results of an earlier run in --output-dir (else refused)")
	collectorURL, insightURL := agentcmd.URLFlags(fs)
	readBuf := fs.Int("read-buffer-size", 0, "bytes per transport read (0: Go's default)")
	set1, set2 := profiler.DefaultOptions(), profiler.DefaultOptions()
	optionFlags(fs, "chimera", chimeraWho, &set1)
	optionFlags(fs, "chimera2", chimera2Who, &set2)
	streamFlags := agentcmd.AddStreamFlags(fs)
	numPredict := agentcmd.NumPredictFlag(fs)
	backendMode := agentcmd.BackendFlag(fs)
	timeout := fs.Duration("timeout", profiler.DefaultTimeout, "longest time for one request (0: none)")
	idle := fs.Duration("idle-timeout", 0, "longest silence between reads before a stream is abandoned (0: none)")
	conc := agentcmd.ConcurrencyFlags(fs)
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
		fmt.Fprintf(stderr, "profiler: unexpected arguments %q\n", fs.Args())
		return 2
	}
	sc, err := profiler.ParseScenario(*scenario)
	if err == nil {
		err = streamFlags.Apply("profiler", &profiler.Config{})
	}
	if err == nil {
		err = checkChimera2(fs, sc)
	}
	if err == nil {
		err = checkNumbers(*runs, *readBuf, *timeout, *idle)
	}
	if err == nil {
		err = agentcmd.CheckNumPredict("profiler", *numPredict)
	}
	if err == nil {
		err = conc.Check("profiler")
	}
	if err == nil {
		err = agentcmd.CheckURLFlag("profiler", "collector-url", *collectorURL)
	}
	if err == nil {
		err = agentcmd.CheckURLFlag("profiler", "insight-url", *insightURL)
	}
	if err == nil {
		_, err = tel.Export("profiler", os.Getenv)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	t, code, err := agentcmd.Prepare(ctx, fs, agentcmd.Setup{Cmd: "profiler", Mode: *backendMode, Model: *model,
		CollectorURL: *collectorURL, InsightURL: *insightURL, DirFlag: "output-dir", Dir: *outDir, Overwrite: *overwrite, OpenAI: streamFlags.OpenAI()}, stdout)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return code
	}
	defer t.Close()
	agents := profiler.CapTokens(profiler.DefaultAgents(*model, t.CollectorURL, t.InsightURL, sc, set1, set2), *numPredict)
	cfg := profiler.Config{
		Agents:       agents,
		Scenario:     sc,
		ClientConfig: profiler.ClientConfig{ReadBufferSize: *readBuf, IdleTimeout: *idle},
		Timeout:      agentcmd.NoneIfZero(*timeout),
	}
	conc.Apply(&cfg)
	if err := streamFlags.Apply("profiler", &cfg); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	sess, err := telcmd.Start(ctx, "profiler", tel, os.Getenv, nil)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	cfg.Wrap = sess.Wrap(nil)
	if err := profile(ctx, cfg, *runs, t, stdout, stderr, sess); err != nil {
		fmt.Fprintln(stderr, err)
		if ctx.Err() != nil {
			return agentcmd.ExitInterrupted
		}
		return 1
	}
	return 0
}

// profile runs cfg runs times, writing into dir, and returns an error
// unless every agent of every run succeeded. Telemetry's export failures
// are reported on stderr and in summary.json, and do not fail the run.
func profile(ctx context.Context, cfg profiler.Config, runs int, t *agentcmd.Target, stdout, stderr io.Writer, sess *telcmd.Session) error {
	dir := t.Dir
	results, used, errs := agentcmd.Series{
		Cmd: "profiler", Config: cfg, Runs: runs, Dir: dir,
		Each: func(rr *profiler.RunResult) error {
			printRun(stdout, rr, runs)
			return rr.WriteFile(dir)
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
	rep := profiler.NewReport(results)
	fmt.Fprintln(stdout, "summary:")
	rep.WriteText(stdout)
	if err := sink.WriteJSONFile(filepath.Join(dir, layout.Summary), struct {
		Config    profiler.Config `json:"config"`
		Report    profiler.Report `json:"report"`
		Telemetry *telcmd.Summary `json:"telemetry,omitempty"`
	}{used, rep, sess.Summary(st, terr)}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func printRun(w io.Writer, rr *profiler.RunResult, runs int) {
	fmt.Fprintf(w, "run %d/%d: wall %.1f ms, ", rr.Run, runs, rr.ConcurrentWallTimeMS)
	fmt.Fprintf(w, "%s, ", agentcmd.EfficiencyText(rr))
	if lag := rr.LoopLag; lag.Samples == 0 {
		fmt.Fprintf(w, "no lag samples (run shorter than the %g ms interval)", float64(lag.Interval)/float64(time.Millisecond))
	} else {
		fmt.Fprintf(w, "lag p99 %.2f ms over %d samples, %d stalls", lag.LagMS.P99, lag.Samples, lag.Stalls)
	}
	for _, a := range rr.Agents {
		if f := agentcmd.FailureText(&a); f != "" {
			fmt.Fprint(w, f)
			continue
		}
		ttft := "-"
		if a.Metrics.TTFTMS != nil {
			ttft = fmt.Sprintf("%.1f ms", *a.Metrics.TTFTMS)
		}
		fmt.Fprintf(w, " | %s %d tok %.1f tok/s TTFT %s", a.ID, a.Metrics.TokensGenerated, a.Metrics.ThroughputTokensPerSec, ttft)
	}
	fmt.Fprintln(w)
}
