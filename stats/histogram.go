package stats

import (
	"fmt"
	"math"
)

// HistogramConfig configures a [Histogram]. The zero value gives the
// defaults; it can be written into a manifest as JSON.
type HistogramConfig struct {
	// RelativeError bounds the relative error of every percentile the
	// histogram reports, for values whose magnitude lies in [Lowest,
	// Highest]. Default 0.01 (1%). It is clamped to [1e-4, 0.1]. Memory is
	// 16·2^m bytes per power of two between Lowest and Highest, where 2^-m
	// is about twice RelativeError.
	RelativeError float64 `json:"relative_error,omitempty"`
	// Lowest is the smallest magnitude recorded with the stated relative
	// error; values of smaller magnitude may be counted as 0 (an absolute
	// error below Lowest). Default 1e-9. Clamped to at least 2.3e-308 (the
	// smallest normal float64).
	Lowest float64 `json:"lowest,omitempty"`
	// Highest is the largest magnitude recorded with the stated error;
	// larger ones land in the top bucket (Min, Max, Mean and StdDev stay
	// exact, percentiles near them are clamped to Max). Default 1e15.
	// Clamped to at least 2·Lowest and at most MaxFloat64.
	Highest float64 `json:"highest,omitempty"`
}

const (
	defaultRelativeError = 0.01
	defaultLowest        = 1e-9
	defaultHighest       = 1e15
)

// normalize returns c with defaults filled in and fields clamped.
func (c HistogramConfig) normalize() HistogramConfig {
	if !(c.RelativeError > 0) {
		c.RelativeError = defaultRelativeError
	}
	c.RelativeError = min(max(c.RelativeError, 1e-4), 0.1)
	if !(c.Lowest > 0) || math.IsInf(c.Lowest, 0) {
		c.Lowest = defaultLowest
	}
	c.Lowest = max(c.Lowest, 0x1p-1022)
	if !(c.Highest > 0) {
		c.Highest = defaultHighest
	}
	c.Highest = min(max(c.Highest, 2*c.Lowest), math.MaxFloat64)
	return c
}

// Histogram summarizes an unbounded stream of values in constant memory:
// log-linear buckets in the manner of HdrHistogram, each power of two split
// into 2^m equal sub-buckets, with m the smallest that meets the configured
// relative error. With the defaults (1%, magnitudes 1e-9 to 1e15) it holds
// 2 × 80 × 64 counters, about 80 KiB, whether it has seen ten values or ten
// billion.
//
// Count, Min, Max, Mean and StdDev are exact (Welford's running moments).
// Quantile interpolates linearly between the representatives of the buckets
// holding the two ranks numpy's linear method would use, so its result is
// within RelativeError of what [Percentile] returns on all recorded values,
// for values in [Lowest, Highest] of one sign. Record never allocates.
//
// Negative values are supported (a mirrored set of buckets). NaN and ±Inf
// are not recorded; they are counted in [Histogram.Dropped].
//
// A Histogram is not safe for concurrent use: give each goroutine its own
// and combine them with [Histogram.Merge], or guard it with a mutex.
type Histogram struct {
	cfg      HistogramConfig
	subBits  uint    // m: sub-buckets per octave = 1<<m
	minExp   int     // exponent of the first octave
	nBuckets int     // buckets per sign
	pos, neg []int64 // counts per bucket, by magnitude
	zero     int64   // values of magnitude below 2^minExp

	count, dropped int64
	mean, m2       float64 // Welford running moments
	min, max       float64
}

// NewHistogram returns an empty Histogram. Fields of cfg outside their
// documented range are clamped; [Histogram.Config] returns what was used.
func NewHistogram(cfg HistogramConfig) *Histogram {
	cfg = cfg.normalize()
	// Bucket [L, L(1+w)) with w = 2^-m at worst; reporting 2L(1+w)/(2+w)
	// errs by at most w/(2+w) relative.
	var m uint
	for {
		w := math.Ldexp(1, -int(m))
		if w/(2+w) <= cfg.RelativeError {
			break
		}
		m++
	}
	_, lo := math.Frexp(cfg.Lowest)  // Lowest = f·2^lo, f in [0.5, 1)
	_, hi := math.Frexp(cfg.Highest) // likewise
	minExp := lo - 1
	octaves := hi - minExp // octaves minExp .. hi-1
	n := octaves << m
	return &Histogram{
		cfg:      cfg,
		subBits:  m,
		minExp:   minExp,
		nBuckets: n,
		pos:      make([]int64, n),
		neg:      make([]int64, n),
	}
}

// Config returns the configuration in use, defaults filled in.
func (h *Histogram) Config() HistogramConfig { return h.cfg }

// index returns the bucket of magnitude a > 0, or -1 for a below 2^minExp.
func (h *Histogram) index(a float64) int {
	b := math.Float64bits(a)
	exp := int(b>>52&0x7ff) - 1023
	if exp < h.minExp {
		return -1
	}
	i := (exp-h.minExp)<<h.subBits | int(b>>(52-h.subBits)&(1<<h.subBits-1))
	return min(i, h.nBuckets-1)
}

// bucketValue returns the representative of bucket i: the point of
// least worst-case relative error between its bounds.
func (h *Histogram) bucketValue(i int) float64 {
	oct := i >> h.subBits
	sub := i & (1<<h.subBits - 1)
	base := math.Ldexp(1, h.minExp+oct)
	w := base / float64(uint(1)<<h.subBits)
	lo := base + float64(sub)*w
	hi := lo + w
	return 2 * lo / (lo + hi) * hi
}

// Record adds v. NaN and ±Inf are counted as dropped and otherwise ignored.
// It does not allocate.
func (h *Histogram) Record(v float64) {
	if v-v != 0 {
		h.dropped++
		return
	}
	if h.count == 0 {
		h.min, h.max = v, v
	} else {
		h.min = min(h.min, v)
		h.max = max(h.max, v)
	}
	h.count++
	d := v - h.mean
	h.mean += d / float64(h.count)
	h.m2 += d * (v - h.mean)

	switch {
	case v > 0:
		if i := h.index(v); i >= 0 {
			h.pos[i]++
			return
		}
	case v < 0:
		if i := h.index(-v); i >= 0 {
			h.neg[i]++
			return
		}
	}
	h.zero++
}

// Count returns the number of values recorded (not counting dropped ones).
func (h *Histogram) Count() int64 { return h.count }

// Dropped returns the number of NaN and ±Inf values passed to Record.
func (h *Histogram) Dropped() int64 { return h.dropped }

// Min returns the smallest value recorded, exactly, or 0 when empty.
func (h *Histogram) Min() float64 { return h.min }

// Max returns the largest value recorded, exactly, or 0 when empty.
func (h *Histogram) Max() float64 { return h.max }

// Mean returns the mean of the values recorded, or 0 when empty. It is 0
// too in the rare case that the running mean overflowed (values near
// ±MaxFloat64 of both signs).
func (h *Histogram) Mean() float64 {
	if !isFinite(h.mean) {
		return 0
	}
	return h.mean
}

// StdDev returns the sample standard deviation (divisor n-1) of the values
// recorded, or 0 when fewer than two were recorded or it overflowed.
func (h *Histogram) StdDev() float64 {
	if h.count < 2 {
		return 0
	}
	sd := math.Sqrt(h.m2 / float64(h.count-1))
	if !isFinite(sd) {
		return 0
	}
	return sd
}

// Quantile returns the p-th percentile of the values recorded, p in
// [0, 100] as for [Percentile] and HdrHistogram's ValueAtQuantile (so the
// 99th percentile is Quantile(99), not Quantile(0.99)). p outside [0, 100] is
// clamped; NaN p and an empty histogram give 0. Quantile(0) and
// Quantile(100) are the exact Min and Max. It runs in time proportional to
// the number of buckets and does not allocate.
func (h *Histogram) Quantile(p float64) float64 {
	if h.count == 0 || math.IsNaN(p) {
		return 0
	}
	p = min(max(p, 0), 100)
	lo, hi, gamma := linearIndex64(h.count, p)
	var a, b float64
	if hi == lo || gamma == 0 {
		a = h.valueAtRank(lo)
		b = a
	} else {
		a, b = h.valueAtRank(lo), h.valueAtRank(hi)
	}
	return min(max(lerp(a, b, gamma), h.min), h.max)
}

// linearIndex64 is linearIndex for counts beyond int range on 32-bit
// platforms, and its implementation.
func linearIndex64(n int64, p float64) (lo, hi int64, gamma float64) {
	q := p / 100
	fn := float64(n)
	// n*q + (alpha + q*(1-alpha-beta)) - 1 with alpha = beta = 1.
	v := fn*q + (1 + q*(1-1-1)) - 1
	f := math.Floor(v)
	gamma = v - f
	lo, hi = int64(f), int64(f)+1
	lo = min(max(lo, 0), n-1)
	hi = min(max(hi, 0), n-1)
	if v < 0 || v > fn-1 {
		gamma = 0
	}
	return lo, hi, gamma
}

// valueAtRank returns the representative of the bucket holding the value
// of rank r (0-based, ascending), using the exact extremes at the ends.
func (h *Histogram) valueAtRank(r int64) float64 {
	if r <= 0 {
		return h.min
	}
	if r >= h.count-1 {
		return h.max
	}
	var seen int64
	for i := h.nBuckets - 1; i >= 0; i-- {
		if seen += h.neg[i]; seen > r {
			return -h.bucketValue(i)
		}
	}
	if seen += h.zero; seen > r {
		return 0
	}
	for i := 0; i < h.nBuckets; i++ {
		if seen += h.pos[i]; seen > r {
			return h.bucketValue(i)
		}
	}
	return h.max // unreachable while counts are consistent
}

// Summary describes the values recorded like [Summarize] does, with the
// percentiles (the standard ones and any extra asked for) taken from the
// buckets and so within the configured relative error. It returns
// [ErrEmpty] when nothing was recorded and [ErrRange] for an extra
// percentile outside [0, 100].
func (h *Histogram) Summary(extra ...float64) (Summary, error) {
	if h.count == 0 {
		return Summary{}, fmt.Errorf("stats: histogram: %w", ErrEmpty)
	}
	for _, p := range extra {
		if !(p >= 0 && p <= 100) {
			return Summary{}, fmt.Errorf("stats: histogram: extra percentile %v: %w", p, ErrRange)
		}
	}
	s := Summary{
		N:      int(min(h.count, math.MaxInt)),
		Mean:   h.Mean(),
		StdDev: h.StdDev(),
		Min:    h.min,
		Max:    h.max,
		P50:    h.Quantile(50),
		P90:    h.Quantile(90),
		P95:    h.Quantile(95),
		P99:    h.Quantile(99),
		P999:   h.Quantile(99.9),
	}
	if s.Mean != 0 {
		if cv := s.StdDev / s.Mean; isFinite(cv) {
			s.CV = cv
		}
	}
	if len(extra) > 0 {
		s.Extra = make(map[string]float64, len(extra))
		for _, p := range extra {
			s.Extra[PercentileKey(p)] = h.Quantile(p)
		}
	}
	return s, nil
}

// Merge adds the values recorded in o to h, as if h had recorded them
// itself. Both must have been made with the same configuration (after
// defaults and clamping); otherwise Merge returns an error and leaves h
// unchanged. o is not modified.
func (h *Histogram) Merge(o *Histogram) error {
	if h.cfg != o.cfg {
		return fmt.Errorf("stats: histogram: merge: configs differ (%+v vs %+v)", h.cfg, o.cfg)
	}
	if o.count == 0 {
		h.dropped += o.dropped
		return nil
	}
	for i := range h.pos {
		h.pos[i] += o.pos[i]
		h.neg[i] += o.neg[i]
	}
	h.zero += o.zero
	h.dropped += o.dropped
	if h.count == 0 {
		h.min, h.max, h.mean, h.m2, h.count = o.min, o.max, o.mean, o.m2, o.count
		return nil
	}
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
	// Chan et al.'s pairwise update of the running moments.
	n := float64(h.count + o.count)
	d := o.mean - h.mean
	h.m2 += o.m2 + d*d*float64(h.count)*float64(o.count)/n
	h.mean += d * float64(o.count) / n
	h.count += o.count
	return nil
}

// Reset empties h, keeping its configuration and memory.
func (h *Histogram) Reset() {
	clear(h.pos)
	clear(h.neg)
	h.zero, h.count, h.dropped = 0, 0, 0
	h.mean, h.m2, h.min, h.max = 0, 0, 0, 0
}
