package suite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"tr117/profiler"
	"tr117/sink"
)

// condition is a profiler Runner kept for the runs of one condition (one
// model × buffer, or model × rate), so that the agents' kept-alive
// connections and the warm-up are shared by its runs, as in the seed where
// one script invocation made all of a condition's runs.
type condition struct {
	key    string
	runner *profiler.Runner
	chunks *switchSink[profiler.Chunk]
	lag    *switchSink[profiler.LagSample]
	warm   bool
}

func (c *condition) close() {
	if c != nil && c.runner != nil {
		c.runner.Close()
	}
}

// switchSink forwards records to the current per-run CSV file, so one
// profiler Runner can write each run's trace into its own file.
type switchSink[T sink.Record] struct {
	mu  sync.Mutex
	cur *sink.CSV[T]
}

func (s *switchSink[T]) Write(r T) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return nil
	}
	return s.cur.Write(r)
}

func (s *switchSink[T]) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return nil
	}
	return s.cur.Flush()
}

// open starts a new file at path; finish closes it.
func (s *switchSink[T]) open(path string) error {
	f, err := sink.CreateCSV[T](path)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.cur = f
	s.mu.Unlock()
	return nil
}

func (s *switchSink[T]) finish() error {
	s.mu.Lock()
	f := s.cur
	s.cur = nil
	s.mu.Unlock()
	if f == nil {
		return nil
	}
	return f.Close()
}

// agents returns the plan's two agents for model, with num_predict added
// to every agent's options when the plan sets it.
func (r *runner) agents(model string) ([]profiler.Agent, error) {
	sc, err := profiler.ParseScenario(r.plan.Scenario)
	if err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	set := profiler.DefaultOptions()
	agents := profiler.DefaultAgents(model, r.plan.CollectorURL, r.plan.InsightURL, sc, set, set)
	return profiler.CapTokens(agents, r.plan.NumPredict), nil
}

// throttleTokenBudget is the completion length assumed when a throttled
// run's request timeout is sized and the plan sets no num_predict: about
// the longest completion a small model writes before it stops on its own.
const throttleTokenBudget = 8192

// requestTimeout bounds each request of a run: the profiler's default (two
// minutes) plus, for a throttled run, the time the reader needs at the
// throttle rate for num_predict tokens (or throttleTokenBudget), so that a
// long completion read at 60 tok/s is not cut off as a timeout.
func (r *runner) requestTimeout(run Run) time.Duration {
	t := profiler.DefaultTimeout
	if run.Phase == PhaseThrottle && run.Rate > 0 {
		n := r.plan.NumPredict
		if n <= 0 {
			n = throttleTokenBudget
		}
		t += time.Duration(float64(n) / run.Rate * float64(time.Second))
	}
	return t
}

// conditionFor returns the Runner of the run's condition, creating it (and
// closing the previous condition's) when the run starts a new one.
func (r *runner) conditionFor(run Run, dir string, buffer int, wrap func(profiler.Agent, profiler.Streamer) profiler.Streamer) (*condition, error) {
	key := dir
	if r.cond != nil && r.cond.key == key {
		return r.cond, nil
	}
	r.cond.close()
	r.cond = nil
	agents, err := r.agents(run.Model)
	if err != nil {
		return nil, err
	}
	sc, _ := profiler.ParseScenario(r.plan.Scenario)
	c := &condition{key: key, chunks: &switchSink[profiler.Chunk]{}, lag: &switchSink[profiler.LagSample]{}}
	var lag sink.Sink[profiler.LagSample] = c.lag
	if rec := r.cfg.Telemetry; rec != nil {
		lag = rec.LagSink(c.lag)
		inner := wrap
		wrap = func(a profiler.Agent, s profiler.Streamer) profiler.Streamer {
			if inner != nil {
				s = inner(a, s)
			}
			return rec.Wrap(a, s)
		}
	}
	c.runner, err = profiler.NewRunner(profiler.Config{
		Agents:       agents,
		Scenario:     sc,
		ClientConfig: profiler.ClientConfig{ReadBufferSize: buffer, ReadMode: profiler.ReadMode(r.plan.MRI.ReadMode)},
		Timeout:      r.requestTimeout(run),
		Warmup:       *r.plan.Warmup,
		Lag:          profiler.LagConfig{Interval: r.plan.LagInterval.D()},
		SoloBaseline: *r.plan.SoloBaseline && run.Phase != PhaseHardware,
		Consumer:     consumerFor(run),
		Wrap:         wrap,
	}, profiler.Sinks{Chunks: c.chunks, Lag: lag})
	if err != nil {
		return nil, fmt.Errorf("suite: %s: %w", run, err)
	}
	r.cond = c
	return c, nil
}

// The hardware phase takes no solo baselines: its GPU window and token
// count are the concurrent run's.

// consumerFor is the client's consumer model in run: the ceiling sweep's
// single loop at the run's cost; none for the other phases.
func consumerFor(run Run) profiler.ConsumerConfig {
	if run.Phase != PhaseCeiling {
		return profiler.ConsumerConfig{}
	}
	return profiler.ConsumerConfig{SingleLoop: true, Cost: run.Cost.D()}
}

// warmCondition returns the Runner of the run's condition (see
// conditionFor), warmed up once: callers that measure around the run (the
// hardware phase's GPU monitor) call it first, so that the warm-up's model
// load is not in their window.
func (r *runner) warmCondition(ctx context.Context, run Run, dir string, buffer int, wrap func(profiler.Agent, profiler.Streamer) profiler.Streamer) (*condition, error) {
	c, err := r.conditionFor(run, dir, buffer, wrap)
	if err != nil {
		return nil, err
	}
	if !c.warm {
		if err := c.runner.Warmup(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// A failed warm-up is the first sign of a dead endpoint or a
			// missing model; the measured run will say which.
			r.log.Warn("warm-up failed", "run", run.Key(), "err", err)
		}
		c.warm = true
	}
	return c, nil
}

// profileRun runs one dual-agent run of a condition into dir and returns
// the files written and the result. extra, when set, returns the fields
// run_<i>.json adds to the profiler's (the throttle phase adds its own).
func (r *runner) profileRun(ctx context.Context, run Run, dir string, buffer int, wrap func(profiler.Agent, profiler.Streamer) profiler.Streamer, extra func(*profiler.RunResult) any) ([]string, *profiler.RunResult, error) {
	c, err := r.warmCondition(ctx, run, dir, buffer, wrap)
	if err != nil {
		return nil, nil, err
	}
	chunkPath := filepath.Join(dir, runFile(run.Index, ChunkMetrics))
	lagPath := filepath.Join(dir, runFile(run.Index, LoopLag))
	if err := c.chunks.open(chunkPath); err != nil {
		return nil, nil, err
	}
	if err := c.lag.open(lagPath); err != nil {
		c.chunks.finish()
		return nil, nil, err
	}
	res, runErr := c.runner.Run(ctx, run.Index)
	ferr := errors.Join(c.chunks.finish(), c.lag.finish())
	files := []string{r.rel(chunkPath), r.rel(lagPath)}
	if ctx.Err() != nil {
		return files, res, ctx.Err()
	}
	if res != nil {
		var v any
		if extra != nil {
			v = extra(res)
		}
		if err := res.WriteFileWith(dir, v); err != nil {
			return files, res, errors.Join(runErr, err)
		}
		files = append(files, r.rel(filepath.Join(dir, profiler.RunFileName(run.Index))))
	}
	return files, res, errors.Join(runErr, ferr)
}

func (r *runner) runMRI(ctx context.Context, run Run, dir string) ([]string, error) {
	files, _, err := r.profileRun(ctx, run, dir, int(run.Buffer), nil, nil)
	return files, err
}
