package gpumon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"tr117/sink"
	"tr117/stats"
)

// Config configures a [Monitor]. The zero value is the default; it can be
// written into a manifest as JSON, with durations in milliseconds under
// names that say so ("interval_ms", "redline_window_ms", as in [Report]).
type Config struct {
	// Interval between samples. Default 100 ms; values under 10 ms are
	// raised to 10 ms.
	Interval time.Duration `json:"-"` // JSON: interval_ms
	// RedlineUtil is the GPU utilization, in percent, at or above which a
	// GPU counts as redlining once it has stayed there for RedlineWindow.
	// Default 95.
	RedlineUtil float64 `json:"redline_util_percent,omitempty"`
	// RedlineWindow is how long utilization must stay at or above
	// RedlineUtil to count. Default 2 s.
	RedlineWindow time.Duration `json:"-"` // JSON: redline_window_ms
	// Logger receives sampling failures (rate-limited to one per state
	// change). nil discards them.
	Logger *slog.Logger `json:"-"`
}

// configJSON is Config's JSON form.
type configJSON struct {
	IntervalMS      float64 `json:"interval_ms,omitempty"`
	RedlineUtil     float64 `json:"redline_util_percent,omitempty"`
	RedlineWindowMS float64 `json:"redline_window_ms,omitempty"`
}

// MarshalJSON writes the durations in milliseconds.
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(configJSON{ms(c.Interval), c.RedlineUtil, ms(c.RedlineWindow)})
}

// UnmarshalJSON reads what MarshalJSON writes. Logger is left as it was.
func (c *Config) UnmarshalJSON(b []byte) error {
	var j configJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("gpumon: Config: %w", err)
	}
	c.Interval, c.RedlineUtil, c.RedlineWindow = fromMS(j.IntervalMS), j.RedlineUtil, fromMS(j.RedlineWindowMS)
	return nil
}

func (c Config) withDefaults() Config {
	c.Interval = clampInterval(c.Interval)
	if c.RedlineUtil <= 0 {
		c.RedlineUtil = 95
	}
	if c.RedlineWindow <= 0 {
		c.RedlineWindow = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Monitor runs a [Sampler] at a fixed interval, writes every reading to a
// sink (one row per GPU per sample; rows of a failed sample are gaps with
// Err set) and keeps per-GPU summaries.
//
// Its memory does not grow with the length of the run, so it can run for
// weeks: the summaries are streaming histograms (28 KiB for each GPU's
// power and utilization, 86 KiB for the intervals) and running sums, never
// a list of samples.
//
// Run it with [Monitor.Run] in a goroutine of your choosing, or with
// [Monitor.Start] for the span of a piece of work. Latest, Report,
// AddTokens, Collector and Handler are safe to call concurrently with Run;
// Run itself runs once at a time. The Monitor does not close the sampler
// or the sink.
//
// The Monitor's ticker paces the rows: a Sampler returns the latest
// reading of each GPU, never a queue of them, so a Monitor at 1 s over an
// nvidia-smi stream at 100 ms writes one row per GPU per second. A
// sampler cannot read more often than it measures, though: over an
// nvidia-smi stream slower than the Monitor's interval, each Sample waits
// for the stream's next round (rows are never repeated), and Run logs a
// warning that names both intervals. Open the nvidia-smi sampler with the
// Monitor's interval (OpenConfig.Interval), as examples/dmon does.
type Monitor struct {
	s   Sampler
	out sink.Sink[Sample]
	cfg Config
	// noGPU is the reason the Monitor has no GPU to read (s is an
	// Unavailable sampler); nil otherwise.
	noGPU error

	running atomic.Bool
	tokens  atomic.Int64

	mu        sync.Mutex
	start     time.Time
	end       time.Time
	rounds    int
	failed    int
	latest    []Sample
	lastOK    bool      // the latest round succeeded as a whole
	gpus      []*gpuAcc // sorted by index
	intervals *stats.Histogram
	lastTick  time.Time
}

// NewMonitor returns a Monitor that reads s and writes to out (nil: keep
// summaries only).
//
// s may be nil or [Unavailable](reason) when no GPU could be opened (nil
// means Unavailable(ErrNoGPU)): the Monitor then samples nothing, but a
// service can still register its Collector (gpu_up 0) and serve its
// Handler (503 with the reason); Run and Start's stop return the reason.
func NewMonitor(s Sampler, out sink.Sink[Sample], cfg Config) *Monitor {
	cfg = cfg.withDefaults()
	if s == nil {
		s = Unavailable(nil)
	}
	m := &Monitor{s: s, out: out, cfg: cfg, intervals: stats.NewHistogram(intervalHistConfig)}
	if u, ok := s.(*unavailable); ok {
		m.noGPU = u.err
	}
	return m
}

// Config returns the configuration in effect, defaults filled in.
func (m *Monitor) Config() Config { return m.cfg }

// Run samples until ctx is done and then returns ctx.Err(). A Monitor
// without a GPU (see [NewMonitor]) returns the reason at once. The first
// sample is taken at once, the rest on a time.Ticker, so the schedule does
// not drift by the time a sample takes (a sample slower than the interval
// skips ticks instead of piling them up). A failed sample does not stop
// Run: it logs, writes gap rows and goes on. Run returns early with an
// error only when the sink fails, the sampler was closed under it
// ([ErrSamplerClosed]) or Run is already running.
func (m *Monitor) Run(ctx context.Context) error { return m.run(ctx, nil) }

func (m *Monitor) run(ctx context.Context, started func()) error {
	if m.noGPU != nil {
		return m.noGPU
	}
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("gpumon: Monitor.Run called while running")
	}
	defer m.running.Store(false)
	if p, ok := m.s.(interface{ Interval() time.Duration }); ok {
		if d := p.Interval(); d > m.cfg.Interval {
			m.cfg.Logger.Warn("gpumon: the sampler reads less often than the Monitor asks; rows come at the sampler's interval",
				"sampler", m.s.Name(), "sampler_interval", d, "interval", m.cfg.Interval)
		}
	}
	m.mu.Lock()
	if m.start.IsZero() {
		m.start = time.Now()
	}
	m.lastTick = time.Time{} // no interval across separate runs
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.end = time.Now()
		m.mu.Unlock()
	}()

	ticker := time.NewTicker(m.cfg.Interval)
	defer ticker.Stop()
	var buf []Sample
	var lastErr string
	for {
		var err error
		buf, err = m.once(ctx, buf[:0], true)
		if started != nil {
			started()
			started = nil
		}
		var se *sinkError
		if errors.As(err, &se) {
			return se.err
		}
		if ctx.Err() != nil {
			break // stopped during the sample: still take the last one
		}
		if errors.Is(err, ErrSamplerClosed) {
			return err
		}
		if err != nil {
			if msg := err.Error(); msg != lastErr {
				m.cfg.Logger.Warn("gpumon: sampling failed", "sampler", m.s.Name(), "err", msg)
				lastErr = msg
			}
		} else if lastErr != "" {
			m.cfg.Logger.Info("gpumon: sampling recovered", "sampler", m.s.Name())
			lastErr = ""
		}
		select {
		case <-ticker.C:
			continue
		case <-ctx.Done():
		}
		break
	}
	// One last sample, so that a window's energy and peaks cover all of it.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*m.cfg.Interval)
	_, ferr := m.once(fctx, buf[:0], false)
	cancel()
	var se *sinkError
	if errors.As(ferr, &se) {
		return se.err
	}
	return ctx.Err()
}

type sinkError struct{ err error }

func (e *sinkError) Error() string { return e.err.Error() }

// once takes one sample, records it and writes it out. scheduled is false
// for the last sample at stop, which is not on the ticker's schedule and so
// is left out of the interval statistics.
func (m *Monitor) once(ctx context.Context, buf []Sample, scheduled bool) ([]Sample, error) {
	tick := time.Now()
	buf, serr := m.s.Sample(ctx, buf)
	if serr != nil && ctx.Err() != nil {
		return buf, ctx.Err()
	}
	if errors.Is(serr, ErrSamplerClosed) {
		// The end of sampling, not a GPU failure: nothing to record.
		return buf[:0], serr
	}
	m.mu.Lock()
	if scheduled {
		if !m.lastTick.IsZero() {
			m.intervals.Record(float64(tick.Sub(m.lastTick)) / float64(time.Millisecond))
		}
		m.lastTick = tick
	}
	m.rounds++
	m.lastOK = serr == nil
	if serr != nil {
		// The whole sample failed: one gap row per GPU seen so far.
		m.failed++
		now := time.Now()
		buf = buf[:0]
		for _, g := range m.gpus {
			row := Missing(now, g.index, g.uuid, g.name)
			row.Err = serr
			buf = append(buf, row)
		}
	}
	for i := range buf {
		m.acc(buf[i].Index, buf[i].UUID, buf[i].Name).add(&buf[i], m.cfg)
	}
	m.latest = append(m.latest[:0], buf...)
	m.mu.Unlock()
	if m.out != nil {
		for i := range buf {
			if err := m.out.Write(buf[i]); err != nil {
				return buf, &sinkError{fmt.Errorf("gpumon: writing sample: %w", err)}
			}
		}
	}
	return buf, serr
}

func (m *Monitor) acc(index int, uuid, name string) *gpuAcc {
	i, found := slices.BinarySearchFunc(m.gpus, index, func(g *gpuAcc, idx int) int { return g.index - idx })
	if found {
		g := m.gpus[i]
		if g.uuid == "" {
			g.uuid, g.name = uuid, name
		}
		return g
	}
	g := &gpuAcc{index: index, uuid: uuid, name: name,
		power: newHistogram(), util: newHistogram(),
		firstEnergy: math.NaN(), lastEnergy: math.NaN(), maxMem: math.NaN(), lastRx: math.NaN(), lastTx: math.NaN()}
	m.gpus = slices.Insert(m.gpus, i, g)
	return g
}

// AddTokens adds n generated tokens to the count the report divides energy
// by (J per token).
func (m *Monitor) AddTokens(n int64) { m.tokens.Add(n) }

// Latest appends the most recent reading of each GPU to dst and returns
// it (nil before the first sample).
func (m *Monitor) Latest(dst []Sample) []Sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append(dst, m.latest...)
}

// Start runs the Monitor in a new goroutine until the returned stop
// function is called (or ctx is done). It returns once the first sample
// has been taken, and Run takes a last one when stopped, so the report
// spans the work in between. stop waits for that goroutine to
// end and returns the report and Run's error, if it was not a
// cancellation. Call stop exactly once.
//
//	stop := m.Start(ctx)
//	err := work()
//	report, merr := stop()
func (m *Monitor) Start(ctx context.Context) (stop func() (Report, error)) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	first := make(chan struct{})
	go func() { done <- m.run(ctx, func() { close(first) }) }()
	select {
	case <-first:
	case err := <-done: // Run refused to start (already running)
		done <- err
	}
	return func() (Report, error) {
		cancel()
		err := <-done
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			err = nil
		}
		return m.Report(), err
	}
}

// Watch opens nothing and closes nothing: it runs a Monitor over s for the
// duration of fn and returns its report. fn receives the Monitor so it can
// call AddTokens. The error is fn's, joined with the Monitor's (a failing
// sink, or the reason for a nil or [Unavailable] s, in which case fn still
// runs); sampling failures are gaps in the report, not errors.
func Watch(ctx context.Context, s Sampler, out sink.Sink[Sample], cfg Config, fn func(ctx context.Context, m *Monitor) error) (Report, error) {
	m := NewMonitor(s, out, cfg)
	stop := m.Start(ctx)
	ferr := fn(ctx, m)
	rep, merr := stop()
	return rep, errors.Join(ferr, merr)
}

// histConfig is the configuration of the Monitor's histograms: watts,
// percent and milliseconds from 0.01 to 10^6 with percentiles within 1%
// (mean, min and max are exact; 0, such as an idle GPU's utilization, is
// counted exactly).
var histConfig = stats.HistogramConfig{RelativeError: 0.01, Lowest: 0.01, Highest: 1e6}

func newHistogram() *stats.Histogram { return stats.NewHistogram(histConfig) }

// intervalHistConfig is finer, for the jitter of the sampling intervals:
// 0.1 ms to 100 s within 0.2% (0.2 ms at 100 ms, 20 µs at 10 ms), 86 KiB.
var intervalHistConfig = stats.HistogramConfig{RelativeError: 0.002, Lowest: 0.1, Highest: 1e5}
