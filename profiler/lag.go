package profiler

import (
	"context"
	"math"
	"runtime/metrics"
	"sync"
	"time"

	"tr117/sink"
	"tr117/stats"
)

// Defaults of a [LagConfig].
const (
	// DefaultLagInterval is how often a probe samples by default.
	DefaultLagInterval = 100 * time.Millisecond
	// MinLagInterval is the shortest interval a probe accepts.
	MinLagInterval = time.Millisecond
	// DefaultStallThreshold is the lag above which a sample counts as a
	// stall event.
	DefaultStallThreshold = 10 * time.Millisecond
)

// LagConfig configures a [LagProbe]. The zero value samples every
// [DefaultLagInterval] and counts lags above [DefaultStallThreshold] as
// stalls.
type LagConfig struct {
	// Interval is how long the probe sleeps between wake-ups. Default
	// DefaultLagInterval; values below MinLagInterval are raised to it.
	Interval time.Duration `json:"interval_ns,omitempty"`
	// StallThreshold is the lag above which a sample is a stall event.
	// Default DefaultStallThreshold.
	StallThreshold time.Duration `json:"stall_threshold_ns,omitempty"`
}

func (c LagConfig) withDefaults() LagConfig {
	if c.Interval == 0 {
		c.Interval = DefaultLagInterval
	}
	if c.Interval < MinLagInterval {
		c.Interval = MinLagInterval
	}
	if c.StallThreshold <= 0 {
		c.StallThreshold = DefaultStallThreshold
	}
	return c
}

// LagSample is one wake-up of a [LagProbe]: a row of loop_lag.csv. It
// implements [sink.Record]; AppendCSV does not allocate.
type LagSample struct {
	// Time is when the probe woke up (wall clock).
	Time time.Time
	// Lag is how late it woke: the time it slept minus the interval it
	// asked for.
	Lag time.Duration
	// Run is a label for the run the sample belongs to (set by [Runner]).
	Run int
}

var lagHeader = []string{"timestamp", "lag_ms", "run"}

// CSVHeader returns the columns timestamp,lag_ms,run.
func (LagSample) CSVHeader() []string { return lagHeader }

// AppendCSV appends the record as one CSV line without the newline.
func (s LagSample) AppendCSV(dst []byte) []byte {
	dst = sink.AppendTime(dst, s.Time)
	dst = append(dst, ',')
	dst = sink.AppendMillis(dst, s.Lag)
	dst = append(dst, ',')
	return sink.AppendInt(dst, int64(s.Run))
}

// HistWindow summarises the part of a runtime/metrics time histogram that
// was recorded during a window. Quantiles are bucket upper bounds (the
// runtime's buckets are a few percent wide), in milliseconds; all are 0
// when Count is 0.
type HistWindow struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
	// Sum approximates the total time, from bucket midpoints.
	Sum float64 `json:"sum_ms"`
}

// LagReport is what a [LagProbe] measured.
type LagReport struct {
	Interval       time.Duration `json:"interval_ns"`
	StallThreshold time.Duration `json:"stall_threshold_ns"`
	// Samples is the number of wake-ups.
	Samples int `json:"samples"`
	// LagMS summarises the lateness of the wake-ups, in milliseconds (the
	// zero Summary when there were none).
	LagMS stats.Summary `json:"lag_ms"`
	// Stalls counts wake-ups later than StallThreshold.
	Stalls int `json:"stall_events"`
	// SchedLatency is the window's part of /sched/latencies:seconds: how
	// long goroutines waited to run after becoming runnable, process-wide.
	SchedLatency HistWindow `json:"sched_latency"`
	// GCPauses is the window's part of /sched/pauses/total/gc:seconds: the
	// stop-the-world pauses of the garbage collector.
	GCPauses HistWindow `json:"gc_pauses"`
	// Lags holds every sample's lateness in milliseconds, for pooling
	// across runs. It is not written to JSON.
	Lags []float64 `json:"-"`
}

// LagProbe measures how late the Go scheduler runs a goroutine that asks
// to sleep for a fixed interval, as an event-loop lag monitor does in an
// asyncio program. Run it in its own goroutine for the duration of the work
// to observe; Report may be called at any time, also concurrently with
// Run. A LagProbe is safe for concurrent use, but Run must be called once.
type LagProbe struct {
	cfg     LagConfig
	samples sink.Sink[LagSample]
	// gate, when set, is called after each wake-up and must return once
	// the probe may take its reading (its turn on a consumer loop).
	gate func(ctx context.Context)

	mu     sync.Mutex
	lags   []float64
	stalls int
	before []metrics.Sample
	after  []metrics.Sample
}

var lagMetrics = []string{"/sched/latencies:seconds", "/sched/pauses/total/gc:seconds"}

// NewLagProbe returns a probe for cfg that writes each sample to samples
// (which may be nil).
func NewLagProbe(cfg LagConfig, samples sink.Sink[LagSample]) *LagProbe {
	return &LagProbe{cfg: cfg.withDefaults(), samples: samples}
}

// Config returns the probe's configuration with defaults applied.
func (p *LagProbe) Config() LagConfig { return p.cfg }

func readHists() []metrics.Sample {
	s := make([]metrics.Sample, len(lagMetrics))
	for i, n := range lagMetrics {
		s[i].Name = n
	}
	metrics.Read(s)
	return s
}

// Run samples until ctx is done and then returns nil, or returns the
// first error of the sample sink. The runtime/metrics window spans the
// call.
func (p *LagProbe) Run(ctx context.Context) error {
	before := readHists()
	p.mu.Lock()
	p.before, p.after = before, nil
	p.mu.Unlock()
	defer func() {
		after := readHists()
		p.mu.Lock()
		p.after = after
		p.mu.Unlock()
	}()
	interval := p.cfg.Interval
	t := time.NewTimer(interval)
	defer t.Stop()
	asked := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if p.gate != nil {
			p.gate(ctx)
			if ctx.Err() != nil {
				return nil
			}
		}
		now := time.Now()
		lag := now.Sub(asked) - interval
		if lag < 0 {
			lag = 0
		}
		p.record(lag)
		if p.samples != nil {
			if err := p.samples.Write(LagSample{Time: now, Lag: lag}); err != nil {
				return err
			}
		}
		// Sleep a full interval from now, not to the next tick, so that
		// one late wake does not shorten the next interval.
		asked = time.Now()
		t.Reset(interval)
	}
}

func (p *LagProbe) record(lag time.Duration) {
	p.mu.Lock()
	p.lags = append(p.lags, float64(lag)/float64(time.Millisecond))
	if lag > p.cfg.StallThreshold {
		p.stalls++
	}
	p.mu.Unlock()
}

// Report summarises the samples so far. The runtime/metrics windows are
// filled once Run has returned (until then they cover Run's start to now).
func (p *LagProbe) Report() LagReport {
	p.mu.Lock()
	lags := append([]float64(nil), p.lags...)
	stalls := p.stalls
	before, after := p.before, p.after
	p.mu.Unlock()
	r := LagReport{Interval: p.cfg.Interval, StallThreshold: p.cfg.StallThreshold, Samples: len(lags), Stalls: stalls, Lags: lags}
	if s, err := stats.Summarize(lags); err == nil {
		r.LagMS = s
	}
	if before != nil {
		if after == nil {
			after = readHists()
		}
		r.SchedLatency = histWindow(before[0].Value, after[0].Value)
		r.GCPauses = histWindow(before[1].Value, after[1].Value)
	}
	return r
}

// histWindow summarises the counts added to a cumulative histogram
// between two readings.
func histWindow(before, after metrics.Value) HistWindow {
	if before.Kind() != metrics.KindFloat64Histogram || after.Kind() != metrics.KindFloat64Histogram {
		return HistWindow{}
	}
	a, b := before.Float64Histogram(), after.Float64Histogram()
	if len(a.Counts) != len(b.Counts) {
		return HistWindow{}
	}
	var w HistWindow
	counts := make([]uint64, len(b.Counts))
	for i := range counts {
		counts[i] = b.Counts[i] - a.Counts[i]
		w.Count += counts[i]
	}
	if w.Count == 0 {
		return w
	}
	// upper returns the finite upper bound of bucket i in ms.
	upper := func(i int) float64 {
		hi := b.Buckets[i+1]
		if math.IsInf(hi, 1) {
			hi = b.Buckets[i]
		}
		return hi * 1e3
	}
	quantile := func(q float64) float64 {
		rank := uint64(math.Ceil(q * float64(w.Count)))
		if rank == 0 {
			rank = 1
		}
		var cum uint64
		for i, c := range counts {
			cum += c
			if cum >= rank {
				return upper(i)
			}
		}
		return upper(len(counts) - 1)
	}
	w.P50, w.P99 = quantile(0.50), quantile(0.99)
	for i, c := range counts {
		if c == 0 {
			continue
		}
		w.Max = upper(i)
		lo, hi := b.Buckets[i], b.Buckets[i+1]
		if math.IsInf(lo, -1) {
			lo = 0
		}
		if math.IsInf(hi, 1) {
			hi = lo
		}
		w.Sum += float64(c) * (lo + hi) / 2 * 1e3
	}
	return w
}
