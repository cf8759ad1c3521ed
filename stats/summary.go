package stats

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Sentinel errors. Functions wrap them with context; test with [errors.Is].
var (
	// ErrEmpty is returned for a sample with no values.
	ErrEmpty = errors.New("stats: empty sample")
	// ErrNaN is returned for a sample that holds NaN or ±Inf. Samples are
	// never silently filtered: drop missing values before calling.
	ErrNaN = errors.New("stats: sample holds NaN or Inf")
	// ErrRange is returned for an argument outside its domain: a percentile
	// outside [0, 100], a confidence level outside (0, 1) and the like.
	ErrRange = errors.New("stats: argument out of range")
	// ErrOverflow is returned when a result of finite inputs is not
	// representable as a finite float64 (for example the standard deviation
	// of {-1.7e308, 1.7e308}).
	ErrOverflow = errors.New("stats: result overflows float64")
)

// Summary describes one sample. It is JSON-safe: no field is ever NaN or
// ±Inf. Fields that are undefined for the sample hold 0, as documented on
// each.
//
// Percentiles are computed with linear interpolation between closest ranks,
// the default of numpy.percentile (method="linear"), R's quantile type 7 and
// Excel's PERCENTILE.INC: for n sorted values x[0..n-1] and p in [0,100],
// h = (n-1)·p/100 and the result is x[⌊h⌋] + (h-⌊h⌋)·(x[⌊h⌋+1]-x[⌊h⌋]).
// The arithmetic follows numpy's step for step (the virtual index
// n·q + (1-q) - 1, then numpy's _lerp, which works from the upper value when
// the fraction is at least 1/2), so results should match numpy's bit for bit
// for samples whose range does not overflow float64.
type Summary struct {
	// N is the number of values.
	N int `json:"n"`
	// Mean is the arithmetic mean.
	Mean float64 `json:"mean"`
	// StdDev is the sample standard deviation (divisor n-1, numpy's ddof=1,
	// R's sd). It is 0 when N is 1.
	StdDev float64 `json:"stddev"`
	// Min and Max are the smallest and largest values.
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	// P50 (the median), P90, P95, P99 and P999 (the 99.9th) are the
	// percentiles every report prints.
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	// CV is the coefficient of variation StdDev/Mean. It carries the sign of
	// Mean and is 0 when Mean is 0 or the ratio is not a finite float64.
	CV float64 `json:"cv"`
	// Extra holds the percentiles asked for by the caller, keyed by
	// [PercentileKey] ("p75", "p99.99").
	Extra map[string]float64 `json:"extra,omitempty"`
}

// Summarize describes xs. It returns [ErrEmpty] for an empty sample,
// [ErrNaN] when xs holds NaN or ±Inf, [ErrRange] for an extra percentile
// outside [0, 100] and [ErrOverflow] when the mean or standard deviation of
// finite values overflows. It does not modify xs.
//
// Summarize copies xs once and finds the percentiles by selection, not by
// sorting, so it runs in linear expected time: about 0.3 s for 10 million
// values on one core (see BenchmarkSummarize).
func Summarize(xs []float64, extra ...float64) (Summary, error) {
	if len(xs) == 0 {
		return Summary{}, ErrEmpty
	}
	for _, p := range extra {
		if !(p >= 0 && p <= 100) {
			return Summary{}, fmt.Errorf("stats: summarize: extra percentile %v: %w", p, ErrRange)
		}
	}
	lo, hi, err := minMax(xs)
	if err != nil {
		return Summary{}, fmt.Errorf("stats: summarize: %w", err)
	}
	mean, sd, err := meanStdDev(xs, lo, hi)
	if err != nil {
		return Summary{}, fmt.Errorf("stats: summarize: %w", err)
	}
	s := Summary{N: len(xs), Mean: mean, StdDev: sd, Min: lo, Max: hi}
	if mean != 0 {
		if cv := sd / mean; !math.IsInf(cv, 0) {
			s.CV = cv
		}
	}

	ps := make([]float64, 0, 5+len(extra))
	ps = append(ps, 50, 90, 95, 99, 99.9)
	ps = append(ps, extra...)
	vals := make([]float64, len(ps))
	if len(xs) == 1 {
		for i := range vals {
			vals[i] = xs[0]
		}
	} else {
		buf := slices.Clone(xs)
		ranks := make([]int, 0, 2*len(ps))
		for _, p := range ps {
			i, j, _ := linearIndex(len(buf), p)
			ranks = append(ranks, i, j)
		}
		slices.Sort(ranks)
		ranks = slices.Compact(ranks)
		selectRanks(buf, ranks)
		for k, p := range ps {
			vals[k] = interpolate(buf, p)
		}
	}
	s.P50, s.P90, s.P95, s.P99, s.P999 = vals[0], vals[1], vals[2], vals[3], vals[4]
	if len(extra) > 0 {
		s.Extra = make(map[string]float64, len(extra))
		for k, p := range extra {
			s.Extra[PercentileKey(p)] = vals[5+k]
		}
	}
	return s, nil
}

// PercentileKey is the key under which [Summary.Extra] holds percentile p:
// "p" followed by p in the shortest decimal form ("p75", "p99.9", "p12.5").
func PercentileKey(p float64) string {
	if p == 0 {
		p = 0 // not "p-0"
	}
	return "p" + strconv.FormatFloat(p, 'f', -1, 64)
}

// Percentile returns the p-th percentile of xs (p in [0, 100]) by linear
// interpolation, numpy's default; see [Summary]. It returns [ErrEmpty],
// [ErrNaN] for NaN or ±Inf in xs and [ErrRange] for p outside [0, 100]. It
// does not modify xs and runs in linear expected time. To take several
// percentiles of one sample, use [Summarize] with extra percentiles, or sort
// a copy once and call [PercentileSorted].
func Percentile(xs []float64, p float64) (float64, error) {
	if len(xs) == 0 {
		return 0, ErrEmpty
	}
	if !(p >= 0 && p <= 100) {
		return 0, fmt.Errorf("stats: percentile %v: %w", p, ErrRange)
	}
	if _, _, err := minMax(xs); err != nil {
		return 0, fmt.Errorf("stats: percentile: %w", err)
	}
	if len(xs) == 1 {
		return xs[0], nil
	}
	buf := slices.Clone(xs)
	i, j, _ := linearIndex(len(buf), p)
	if i == j {
		selectRanks(buf, []int{i})
	} else {
		selectRanks(buf, []int{i, j})
	}
	return interpolate(buf, p), nil
}

// PercentileSorted returns the p-th percentile of sorted, which must be
// sorted in ascending order and hold no NaN, by the same linear
// interpolation as [Percentile]. p below 0 or above 100 is clamped. It
// allocates nothing and runs in constant time. It panics if sorted is empty
// or p is NaN: both are programmer errors.
func PercentileSorted(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		panic("stats: PercentileSorted of empty slice")
	}
	if math.IsNaN(p) {
		panic("stats: PercentileSorted: p is NaN")
	}
	p = min(max(p, 0), 100)
	return interpolate(sorted, p)
}

// linearIndex returns the two ranks that percentile p of n sorted values
// interpolates between and the weight of the upper one, computed as numpy
// does (numpy/lib/_function_base_impl.py, _compute_virtual_index with
// alpha = beta = 1, then _get_indexes and _get_gamma).
func linearIndex(n int, p float64) (lo, hi int, gamma float64) {
	lo64, hi64, gamma := linearIndex64(int64(n), p)
	return int(lo64), int(hi64), gamma
}

// interpolate returns percentile p of xs, which is sorted at least at the two
// ranks linearIndex names (and everything at or below lo is <= xs[lo],
// everything above is >= xs[hi]).
func interpolate(xs []float64, p float64) float64 {
	lo, hi, gamma := linearIndex(len(xs), p)
	return lerp(xs[lo], xs[hi], gamma)
}

// lerp is numpy's _lerp: a + t(b-a), computed from b when t >= 0.5 so that
// the result is monotone and exact at the ends. When b-a overflows it
// falls back to a(1-t) + bt, which cannot.
func lerp(a, b, t float64) float64 {
	d := b - a
	if math.IsInf(d, 0) {
		return a*(1-t) + b*t
	}
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}

// minMax returns the extremes of xs, or ErrNaN naming the first value that is
// NaN or ±Inf.
func minMax(xs []float64) (lo, hi float64, err error) {
	lo, hi = xs[0], xs[0]
	for i, x := range xs {
		if x-x != 0 { // NaN or ±Inf
			return 0, 0, fmt.Errorf("value %d is %v: %w", i, x, ErrNaN)
		}
		lo = min(lo, x)
		hi = max(hi, x)
	}
	return lo, hi, nil
}
