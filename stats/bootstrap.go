package stats

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// BootstrapConfig configures the bootstrap confidence intervals of
// [BootstrapMean], [BootstrapMedian], [Bootstrap] and [Compare]. The zero
// value gives the defaults; it can be written into a manifest as JSON, and
// together with the sample it determines the result: the same config and
// sample give the same interval on every run. The resampling uses PCG and
// its own bounded-integer draw, so it does not change with the Go version
// or platform.
type BootstrapConfig struct {
	// Resamples is the number of bootstrap resamples. Default 10,000.
	Resamples int `json:"resamples,omitempty"`
	// Level is the confidence level in (0, 1). Default 0.95 (in [Compare],
	// 1 - CompareConfig.Alpha).
	Level float64 `json:"level,omitempty"`
	// Seed seeds the resampling. Zero is a seed like any other: leaving it
	// unset still gives reproducible intervals.
	Seed uint64 `json:"seed"`
}

// DefaultResamples is the number of resamples when BootstrapConfig.Resamples is 0.
const DefaultResamples = 10000

// withDefaults fills in defaults and checks the ranges.
func (c BootstrapConfig) withDefaults(level float64) (BootstrapConfig, error) {
	if c.Resamples == 0 {
		c.Resamples = DefaultResamples
	}
	if c.Level == 0 {
		c.Level = level
	}
	if c.Resamples < 1 {
		return c, fmt.Errorf("stats: bootstrap: %d resamples: %w", c.Resamples, ErrRange)
	}
	if !(c.Level > 0 && c.Level < 1) {
		return c, fmt.Errorf("stats: bootstrap: level %v not in (0, 1): %w", c.Level, ErrRange)
	}
	return c, nil
}

// Interval is a point estimate with a confidence interval. It is a plain,
// JSON-safe value.
type Interval struct {
	// Estimate is the statistic computed on the sample(s) themselves.
	Estimate float64 `json:"estimate"`
	// Lo and Hi bound the interval; Lo <= Hi.
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
	// Level is the confidence level, such as 0.95.
	Level float64 `json:"level"`
}

// Contains reports whether v lies in [Lo, Hi].
func (iv Interval) Contains(v float64) bool { return iv.Lo <= v && v <= iv.Hi }

// String formats iv as "12.3 [11.9, 12.8] 95% CI".
func (iv Interval) String() string {
	return fmt.Sprintf("%.4g [%.4g, %.4g] %g%% CI", iv.Estimate, iv.Lo, iv.Hi, 100*iv.Level)
}

// BootstrapMean returns the mean of xs with a percentile-bootstrap
// confidence interval. Errors are those of [Summarize] and [ErrRange] for a
// config out of range.
func BootstrapMean(xs []float64, cfg BootstrapConfig) (Interval, error) {
	return Bootstrap(xs, mean, cfg)
}

// BootstrapMedian returns the median of xs with a percentile-bootstrap
// confidence interval. Errors are those of [Summarize] and [ErrRange] for a
// config out of range.
func BootstrapMedian(xs []float64, cfg BootstrapConfig) (Interval, error) {
	return Bootstrap(xs, median, cfg)
}

// Bootstrap returns statistic(xs) with a percentile-bootstrap confidence
// interval: it draws cfg.Resamples samples of len(xs) values from xs with
// replacement, computes statistic on each, and reports the (1-Level)/2 and
// (1+Level)/2 percentiles of those values (linear interpolation, as
// [Percentile]). statistic may reorder the slice it is given but must not
// keep it; it is never given xs itself. It returns [ErrEmpty] or [ErrNaN]
// for such a sample, [ErrRange] for a config out of range, and [ErrNaN] if
// statistic returns NaN or ±Inf.
//
// The percentile interval is simple and transformation-respecting but
// covers less than its level for small samples (below about 20 values) and
// skewed statistics; it never extends beyond the values the statistic can
// take on resamples.
func Bootstrap(xs []float64, statistic func([]float64) float64, cfg BootstrapConfig) (Interval, error) {
	cfg, err := cfg.withDefaults(0.95)
	if err != nil {
		return Interval{}, err
	}
	if err := checkSample("bootstrap", xs); err != nil {
		return Interval{}, err
	}
	buf := slices.Clone(xs)
	est := statistic(buf)
	if !isFinite(est) {
		return Interval{}, fmt.Errorf("stats: bootstrap: statistic of the sample is %v: %w", est, ErrNaN)
	}
	r := newResampler(cfg.Seed)
	reps := make([]float64, cfg.Resamples)
	for i := range reps {
		r.resample(buf, xs)
		v := statistic(buf)
		if !isFinite(v) {
			return Interval{}, fmt.Errorf("stats: bootstrap: statistic of resample %d is %v: %w", i, v, ErrNaN)
		}
		reps[i] = v
	}
	lo, hi := percentileInterval(reps, cfg.Level)
	return Interval{Estimate: est, Lo: lo, Hi: hi, Level: cfg.Level}, nil
}

// percentileInterval returns the central Level interval of reps, which it
// reorders.
func percentileInterval(reps []float64, level float64) (lo, hi float64) {
	a := 100 * (1 - level) / 2
	b := 100 - a
	i0, i1, _ := linearIndex(len(reps), a)
	j0, j1, _ := linearIndex(len(reps), b)
	ranks := []int{i0, i1, j0, j1}
	slices.Sort(ranks)
	selectRanks(reps, slices.Compact(ranks))
	return interpolate(reps, a), interpolate(reps, b)
}

// checkSample returns ErrEmpty or ErrNaN for a sample that is not fit for
// analysis, prefixed with what.
func checkSample(what string, xs []float64) error {
	if len(xs) == 0 {
		return fmt.Errorf("stats: %s: %w", what, ErrEmpty)
	}
	if _, _, err := minMax(xs); err != nil {
		return fmt.Errorf("stats: %s: %w", what, err)
	}
	return nil
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	m := s / float64(len(xs))
	if !isFinite(m) { // the sum overflowed; scale down
		s = 0
		for _, x := range xs {
			s += x / 0x1p64
		}
		m = s / float64(len(xs)) * 0x1p64
	}
	return m
}

// median reorders xs.
func median(xs []float64) float64 {
	if len(xs) == 1 {
		return xs[0]
	}
	i, j, _ := linearIndex(len(xs), 50)
	if i == j {
		selectRanks(xs, []int{i})
	} else {
		selectRanks(xs, []int{i, j})
	}
	return interpolate(xs, 50)
}

// resampler draws bootstrap resamples from a PCG generator with a fixed
// algorithm for bounded integers, so results do not depend on the Go
// version.
type resampler struct{ src *rand.PCG }

func newResampler(seed uint64) *resampler {
	return &resampler{src: rand.NewPCG(seed, 0x74723131375f6273)} // "tr117_bs"
}

// intN returns a uniform integer in [0, n) by Lemire's multiply-shift with
// rejection (unbiased).
func (r *resampler) intN(n uint64) uint64 {
	hi, lo := bits.Mul64(r.src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.src.Uint64(), n)
		}
	}
	return hi
}

// resample fills dst with len(dst) values drawn from src with replacement.
func (r *resampler) resample(dst, src []float64) {
	n := uint64(len(src))
	for i := range dst {
		dst[i] = src[r.intN(n)]
	}
}
