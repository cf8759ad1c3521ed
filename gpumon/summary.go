package gpumon

import (
	"math"
	"time"

	"tr117/stats"
)

// Report summarizes a Monitor's run. It is JSON-safe: values that were
// never measured are null (nil pointers), never NaN.
type Report struct {
	// Sampler is the sampler's Name ("nvml", "nvidia-smi", or "none"
	// without a GPU).
	Sampler string `json:"sampler"`
	// Unavailable says why there was no GPU to sample (sampler "none"),
	// typically [Open]'s error; empty otherwise.
	Unavailable string `json:"unavailable,omitempty"`
	// IntervalMS is the configured sampling interval in milliseconds.
	IntervalMS float64 `json:"interval_ms"`
	// Start and End bound the run (End is zero while it runs).
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
	// DurationS is End-Start (or now-Start while running), in seconds.
	DurationS float64 `json:"duration_s"`
	// Samples counts sampling rounds; FailedSamples those where the
	// sampler failed as a whole (every GPU got a gap row).
	Samples       int `json:"samples"`
	FailedSamples int `json:"failed_samples"`
	// Tokens is the count given through AddTokens.
	Tokens int64 `json:"tokens,omitempty"`
	// ActualIntervalMS summarizes the time between the starts of
	// consecutive samples, in milliseconds: the sampling jitter. Nil with
	// fewer than two samples. Like every Summary in a Report it comes from
	// a streaming histogram: N, mean, standard deviation, min and max are
	// exact, percentiles within 0.2% here and 1% for power and
	// utilization.
	ActualIntervalMS *stats.Summary `json:"actual_interval_ms,omitempty"`
	// GPUs holds one summary per GPU, by index.
	GPUs []GPUSummary `json:"gpus"`
}

// GPUSummary summarizes one GPU over a Monitor's run.
type GPUSummary struct {
	Index int    `json:"index"`
	UUID  string `json:"uuid,omitempty"`
	Name  string `json:"name,omitempty"`
	// Samples is the number of rows; Gaps those that failed entirely.
	Samples int `json:"samples"`
	Gaps    int `json:"gaps"`
	// PowerW and UtilGPU summarize the measured power (W) and GPU
	// utilization (%) rows (mean, max, p99 and the rest). Nil when the
	// GPU never reported the field.
	PowerW  *stats.Summary `json:"power_w,omitempty"`
	UtilGPU *stats.Summary `json:"utilization_gpu_percent,omitempty"`
	// MemUsedMaxMiB is the largest memory.used seen.
	MemUsedMaxMiB *float64 `json:"memory_used_max_mib,omitempty"`
	// EnergyJ is the energy used during the run, in joules: the
	// difference of the GPU's energy counter when it has one
	// (EnergySource "counter"), else the trapezoidal integral of power over
	// time, not bridging gap rows or pauses longer than 5 intervals or
	// 1 s, whichever is longer ("power_integral").
	EnergyJ      *float64 `json:"energy_j,omitempty"`
	EnergySource string   `json:"energy_source,omitempty"`
	// JoulesPerToken is EnergyJ divided by the report's Tokens.
	JoulesPerToken *float64 `json:"joules_per_token,omitempty"`
	// Redline describes the spans where utilization stayed at or above the
	// threshold for at least the window.
	Redline Redline `json:"redline"`
}

// Redline describes sustained full utilization.
type Redline struct {
	ThresholdPct float64 `json:"threshold_percent"`
	WindowS      float64 `json:"window_s"`
	// Episodes counts spans that lasted at least WindowS; Seconds is their
	// total length and LongestS the longest.
	Episodes int     `json:"episodes"`
	Seconds  float64 `json:"seconds"`
	LongestS float64 `json:"longest_s"`
	// Fraction is Seconds over the run's duration.
	Fraction float64 `json:"fraction"`
}

// gpuAcc accumulates one GPU's summary. Guarded by Monitor.mu.
type gpuAcc struct {
	index      int
	uuid, name string
	n, gaps    int
	power      *stats.Histogram
	util       *stats.Histogram
	maxMem     float64
	// the newest PCIe readings, which NVML gives only every PCIeInterval
	lastRx, lastTx float64

	firstEnergy, lastEnergy float64
	energyN                 int
	counterReset            bool

	integJ   float64
	integOK  bool
	prevT    time.Time
	prevP    float64
	prevPSet bool

	redStart               time.Time // start of the current streak (zero: none)
	redLast                time.Time // last sample of the streak
	episodes               int
	redSeconds, redLongest float64
}

func (g *gpuAcc) add(s *Sample, cfg Config) {
	g.n++
	if s.Gap() {
		g.gaps++
		g.prevPSet = false
		g.endStreak(cfg)
		return
	}
	if !math.IsNaN(s.PowerW) {
		g.power.Record(s.PowerW)
		if g.prevPSet && s.Time.Sub(g.prevT) <= max(5*cfg.Interval, time.Second) {
			g.integJ += (s.PowerW + g.prevP) / 2 * s.Time.Sub(g.prevT).Seconds()
			g.integOK = true
		}
		g.prevT, g.prevP, g.prevPSet = s.Time, s.PowerW, true
	}
	if !math.IsNaN(s.EnergyJ) {
		if math.IsNaN(g.firstEnergy) {
			g.firstEnergy = s.EnergyJ
		} else if s.EnergyJ < g.lastEnergy {
			g.counterReset = true
		}
		g.lastEnergy = s.EnergyJ
		g.energyN++
	}
	if !math.IsNaN(s.PCIeRxMBps) {
		g.lastRx = s.PCIeRxMBps
	}
	if !math.IsNaN(s.PCIeTxMBps) {
		g.lastTx = s.PCIeTxMBps
	}
	if !math.IsNaN(s.MemUsedMiB) && !(s.MemUsedMiB <= g.maxMem) {
		g.maxMem = s.MemUsedMiB
	}
	if !math.IsNaN(s.UtilGPU) {
		g.util.Record(s.UtilGPU)
		if s.UtilGPU >= cfg.RedlineUtil {
			if g.redStart.IsZero() {
				g.redStart = s.Time
			}
			g.redLast = s.Time
		} else {
			g.endStreak(cfg)
		}
	}
}

// endStreak closes the current redline streak, counting it if it lasted
// the window.
func (g *gpuAcc) endStreak(cfg Config) {
	if g.redStart.IsZero() {
		return
	}
	if d := g.redLast.Sub(g.redStart); d >= cfg.RedlineWindow {
		g.episodes++
		g.redSeconds += d.Seconds()
		g.redLongest = max(g.redLongest, d.Seconds())
	}
	g.redStart = time.Time{}
}

// energy returns the energy used so far and its source.
func (g *gpuAcc) energy() (float64, string, bool) {
	if g.energyN >= 2 && !g.counterReset {
		return g.lastEnergy - g.firstEnergy, "counter", true
	}
	if g.integOK {
		return g.integJ, "power_integral", true
	}
	return 0, "", false
}

func summarize(h *stats.Histogram) *stats.Summary {
	if h.Count() == 0 {
		return nil
	}
	s, err := h.Summary()
	if err != nil {
		return nil
	}
	return &s
}

func fptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// Report returns the summary so far. It is safe to call while Run runs;
// it costs a walk over each histogram's buckets, however long the run.
func (m *Monitor) Report() Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	end := m.end
	now := end
	if m.running.Load() || end.IsZero() {
		now = time.Now()
		if m.running.Load() {
			end = time.Time{}
		}
	}
	r := Report{
		Sampler: m.s.Name(), IntervalMS: float64(m.cfg.Interval) / float64(time.Millisecond),
		Start: m.start, End: end, Samples: m.rounds, FailedSamples: m.failed,
		Tokens: m.tokens.Load(), ActualIntervalMS: summarize(m.intervals),
	}
	if m.noGPU != nil {
		r.Unavailable = m.noGPU.Error()
	}
	if !m.start.IsZero() {
		r.DurationS = now.Sub(m.start).Seconds()
	}
	for _, g := range m.gpus {
		gs := GPUSummary{Index: g.index, UUID: g.uuid, Name: g.name, Samples: g.n, Gaps: g.gaps,
			PowerW: summarize(g.power), UtilGPU: summarize(g.util), MemUsedMaxMiB: fptr(g.maxMem)}
		if e, src, ok := g.energy(); ok {
			gs.EnergyJ, gs.EnergySource = fptr(e), src
			if r.Tokens > 0 {
				gs.JoulesPerToken = fptr(e / float64(r.Tokens))
			}
		}
		// Count a streak still open at the end without closing it.
		eps, secs, longest := g.episodes, g.redSeconds, g.redLongest
		if !g.redStart.IsZero() {
			if d := g.redLast.Sub(g.redStart); d >= m.cfg.RedlineWindow {
				eps++
				secs += d.Seconds()
				longest = max(longest, d.Seconds())
			}
		}
		gs.Redline = Redline{ThresholdPct: m.cfg.RedlineUtil, WindowS: m.cfg.RedlineWindow.Seconds(),
			Episodes: eps, Seconds: secs, LongestS: longest}
		if r.DurationS > 0 {
			gs.Redline.Fraction = min(1, secs/r.DurationS)
		}
		r.GPUs = append(r.GPUs, gs)
	}
	return r
}
