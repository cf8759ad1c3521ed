// Package agentcmd holds what the profiler and throttle commands share: the
// exit code of an interrupted run, flag checks whose errors name the flag,
// and the loop that runs a profiler.Config run after run into a directory.
package agentcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"time"

	"tr117/profiler"
)

// ExitInterrupted is the exit code after Ctrl-C or SIGTERM: 128+SIGINT, as
// a shell reports a command that Ctrl-C ended.
const ExitInterrupted = 130

// CheckURLFlag checks the URL given to flag --name of command cmd, naming
// the flag in the error.
func CheckURLFlag(cmd, name, value string) error {
	if err := profiler.CheckURL(value); err != nil {
		return fmt.Errorf("%s: --%s: %w", cmd, name, errors.Unwrap(err))
	}
	return nil
}

// URLFlags registers --collector-url and --insight-url, the suite's names
// for the two endpoints, with the seed's --collector-ollama-url and
// --insight-ollama-url kept as aliases.
func URLFlags(fs *flag.FlagSet) (collector, insight *string) {
	collector, insight = new(string), new(string)
	fs.StringVar(collector, "collector-url", profiler.DefaultCollectorURL, "collector agent's server URL")
	fs.StringVar(insight, "insight-url", profiler.DefaultInsightURL, "insight agent's server URL")
	fs.StringVar(collector, "collector-ollama-url", profiler.DefaultCollectorURL, "alias of --collector-url")
	fs.StringVar(insight, "insight-ollama-url", profiler.DefaultInsightURL, "alias of --insight-url")
	return collector, insight
}

// PrepareOutputDir refuses a directory with earlier results unless
// overwrite, naming the flag that allows it.
func PrepareOutputDir(dir string, overwrite bool) error {
	err := profiler.PrepareOutputDir(dir, overwrite)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w; pass --overwrite to replace them", err)
	}
	return err
}

// NoneIfZero maps a flag's "0: none" to the library's negative timeout.
func NoneIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// Series is one command's measured runs.
type Series struct {
	// Cmd names the command in errors ("profiler").
	Cmd string
	// Config is what every run runs.
	Config profiler.Config
	// Runs is how many measured runs, numbered from 1.
	Runs int
	// Dir receives chunk_metrics.csv and loop_lag.csv (and whatever Each
	// writes).
	Dir string
	// Each is called after every run, interrupted ones included, to write
	// run_<i>.json and print the run's line; an error it returns is
	// recorded and the series goes on.
	Each func(rr *profiler.RunResult) error
	// Sinks, when set, may add to the runner's sinks (telemetry's lag
	// recording).
	Sinks func(profiler.Sinks) profiler.Sinks
}

// Run creates the seed's CSVs in s.Dir, warms the agents up when
// s.Config.Warmup is set, runs s.Runs runs (stopping early when ctx is
// done) and returns every run's result, the configuration the runner used
// (defaults filled in) and the errors: each failed agent's on its own line
// with its run, then an interruption. The CSVs are flushed and closed when
// it returns.
func (s Series) Run(ctx context.Context, warmupOut io.Writer) (results []*profiler.RunResult, used profiler.Config, errs []error) {
	sinks, closeSinks, err := profiler.CreateSinks(s.Dir)
	if err != nil {
		return nil, s.Config, []error{err}
	}
	defer func() {
		if err := closeSinks(); err != nil {
			errs = append(errs, err)
		}
	}()
	if s.Sinks != nil {
		sinks = s.Sinks(sinks)
	}
	r, err := profiler.NewRunner(s.Config, sinks)
	if err != nil {
		return nil, s.Config, []error{err}
	}
	defer r.Close()

	if s.Config.Warmup {
		if err := r.Warmup(ctx); err != nil {
			errs = append(errs, err)
			fmt.Fprintln(warmupOut, err)
		}
	}
	for i := 1; i <= s.Runs && ctx.Err() == nil; i++ {
		rr, err := r.Run(ctx, i)
		results = append(results, rr)
		errs = append(errs, runErrors(ctx, rr, err)...)
		if err := s.Each(rr); err != nil {
			errs = append(errs, err)
		}
	}
	if ctx.Err() != nil {
		errs = append(errs, fmt.Errorf("%s: interrupted after %d of %d runs: %w", s.Cmd, len(results), s.Runs, ctx.Err()))
	}
	return results, r.Config(), errs
}

// runErrors returns a run's errors, each agent's on its own line with the
// run's number: "run 1: profiler: agent insight: URL: …". An interruption
// returns none: Run reports it once.
func runErrors(ctx context.Context, rr *profiler.RunResult, err error) []error {
	if err == nil || ctx.Err() != nil {
		return nil
	}
	var errs []error
	for _, a := range rr.Agents {
		// A dead endpoint fails the solo and the concurrent stream alike:
		// say it once.
		if a.SoloErr != nil && a.SoloError != a.Error {
			errs = append(errs, fmt.Errorf("run %d: solo baseline: %w", rr.Run, a.SoloErr))
		}
		if a.Err != nil {
			errs = append(errs, fmt.Errorf("run %d: %w", rr.Run, a.Err))
		}
	}
	if len(errs) == 0 { // not the agents': a sink's
		errs = append(errs, fmt.Errorf("run %d: %w", rr.Run, err))
	}
	return errs
}

// Concurrency holds the flags that choose how a command measures
// concurrency: warm-up, solo baselines, the consumer model and the lag
// probe.
type Concurrency struct {
	Warmup       bool
	SoloBaseline bool
	SingleLoop   bool
	ConsumerCost time.Duration
	LagInterval  time.Duration
}

// ConcurrencyFlags registers --warmup, --solo-baseline, --single-loop,
// --consumer-cost and --lag-interval on fs. Warm-up is on by default:
// without it the first run's solo streams pay model loading and connection
// setup, and its true speedup exceeds the number of agents.
func ConcurrencyFlags(fs *flag.FlagSet) *Concurrency {
	c := &Concurrency{}
	fs.BoolVar(&c.Warmup, "warmup", true, "send each agent a short unmeasured request first, so model loading is not measured (off: the first run's solo baselines pay it)")
	fs.BoolVar(&c.SoloBaseline, "solo-baseline", true, "each run first streams every agent alone (unrecorded), for the true speedup and each agent's slowdown")
	fs.BoolVar(&c.SingleLoop, "single-loop", false, "serialise every agent's per-message work, and the lag probe, through one event loop, as a single-threaded asyncio client does")
	fs.DurationVar(&c.ConsumerCost, "consumer-cost", 0, "CPU busy work per streamed message, e.g. 160us (0: none)")
	fs.DurationVar(&c.LagInterval, "lag-interval", profiler.DefaultLagInterval, "scheduler-lag probe interval (the seed's 100ms; a run shorter than it has no lag samples)")
	return c
}

// Check refuses a negative --consumer-cost and a --lag-interval under the
// probe's minimum, naming command cmd.
func (c *Concurrency) Check(cmd string) error {
	if c.ConsumerCost < 0 {
		return fmt.Errorf("%s: --consumer-cost must not be negative", cmd)
	}
	if c.LagInterval < profiler.MinLagInterval {
		return fmt.Errorf("%s: --lag-interval %v: want a duration of at least %v, such as 10ms", cmd, c.LagInterval, profiler.MinLagInterval)
	}
	return nil
}

// Apply sets the flags' choices in cfg.
func (c *Concurrency) Apply(cfg *profiler.Config) {
	cfg.Warmup = c.Warmup
	cfg.SoloBaseline = c.SoloBaseline
	cfg.Consumer = profiler.ConsumerConfig{SingleLoop: c.SingleLoop, Cost: c.ConsumerCost}
	cfg.Lag.Interval = c.LagInterval
}

// FailureText is how a run's line words an agent that did not succeed:
// " | insight interrupted" when Ctrl-C (the context) ended it, which is not
// a failure, else " | insight FAILED: …"; "" for a successful agent.
func FailureText(a *profiler.AgentResult) string {
	switch {
	case a.Error == "" && a.Err == nil:
		return ""
	case errors.Is(a.Err, context.Canceled):
		return " | " + a.ID + " interrupted"
	}
	return " | " + a.ID + " FAILED: " + a.Error
}

// EfficiencyText says a run's true efficiency and speed-up (when solo
// baselines were taken), its seed efficiency and its balance bound:
// "true speedup 1.002 (efficiency 50.1%), seed efficiency 75.0% (speedup
// 1.500, balance bound 75.0%)".
func EfficiencyText(rr *profiler.RunResult) string {
	if rr.EfficiencyPercent == nil || rr.ConcurrencySpeedup == nil {
		cut := 0
		for i := range rr.Agents {
			if errors.Is(rr.Agents[i].Err, context.Canceled) {
				cut++
			}
		}
		if cut > 0 && cut == rr.Failed {
			return fmt.Sprintf("speedup and efficiency: none (interrupted: %d of %d agents did not finish)", cut, len(rr.Agents))
		}
		return fmt.Sprintf("speedup and efficiency: failed (%d of %d agents failed)", rr.Failed, len(rr.Agents))
	}
	s := "true speedup - (no solo baseline)"
	if rr.TrueSpeedup != nil && rr.TrueEfficiencyPercent != nil {
		s = fmt.Sprintf("true speedup %.3f (efficiency %.1f%%)", *rr.TrueSpeedup, *rr.TrueEfficiencyPercent)
		if *rr.TrueEfficiencyPercent > 105 {
			s += " [above 100%: the solo streams ran slower than the concurrent ones (a cold server or connection?), so this run's true speedup is not a concurrency gain]"
		}
	} else if rr.SoloBaseline {
		s = "true speedup - (a solo baseline failed)"
	}
	s += fmt.Sprintf(", seed efficiency %.1f%% (speedup %.3f", *rr.EfficiencyPercent, *rr.ConcurrencySpeedup)
	if rr.BalanceBoundPercent != nil {
		s += fmt.Sprintf(", balance bound %.1f%%", *rr.BalanceBoundPercent)
	}
	return s + ")"
}
