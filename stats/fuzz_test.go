package stats

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"
)

// floats decodes b as little-endian float64s (any bit pattern: NaN, ±Inf,
// subnormals, -0), dropping a trailing partial value.
func floats(b []byte) []float64 {
	xs := make([]float64, len(b)/8)
	for i := range xs {
		xs[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return xs
}

func bytesOf(xs ...float64) []byte {
	b := make([]byte, 0, 8*len(xs))
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func isKnown(err error, known ...error) bool {
	for _, k := range known {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

func FuzzSummarize(f *testing.F) {
	f.Add(bytesOf(1, 2, 3, 4), 75.0)
	f.Add(bytesOf(), 50.0)
	f.Add(bytesOf(math.NaN(), 1), 50.0)
	f.Add(bytesOf(-math.MaxFloat64, math.MaxFloat64, 0), 33.0)
	f.Add(bytesOf(5e-324, -0.0, 0), 100.0)
	f.Fuzz(func(t *testing.T, data []byte, p float64) {
		xs := floats(data)
		orig := slices.Clone(xs)
		s, err := Summarize(xs, p)
		if !slices.EqualFunc(xs, orig, func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }) {
			t.Fatal("Summarize modified its input")
		}
		if err != nil {
			if !isKnown(err, ErrEmpty, ErrNaN, ErrRange, ErrOverflow) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if _, err := json.Marshal(s); err != nil {
			t.Fatalf("summary not JSON-safe: %v: %+v", err, s)
		}
		sorted := slices.Clone(xs)
		slices.Sort(sorted)
		for _, c := range []struct {
			p, got float64
		}{{50, s.P50}, {90, s.P90}, {95, s.P95}, {99, s.P99}, {99.9, s.P999}, {p, s.Extra[PercentileKey(p)]}} {
			if want := PercentileSorted(sorted, c.p); c.got != want {
				t.Fatalf("p%v = %v, sort-based %v", c.p, c.got, want)
			}
			if c.got < s.Min || c.got > s.Max {
				t.Fatalf("p%v = %v outside [%v, %v]", c.p, c.got, s.Min, s.Max)
			}
		}
		if s.N != len(xs) || s.Min != sorted[0] || s.Max != sorted[len(sorted)-1] || s.StdDev < 0 {
			t.Fatalf("summary %+v", s)
		}
	})
}

func FuzzPercentile(f *testing.F) {
	f.Add(bytesOf(3, 1, 2), 50.0)
	f.Add(bytesOf(1), -1.0)
	f.Add(bytesOf(math.Inf(1)), 10.0)
	f.Fuzz(func(t *testing.T, data []byte, p float64) {
		xs := floats(data)
		got, err := Percentile(xs, p)
		if err != nil {
			if !isKnown(err, ErrEmpty, ErrNaN, ErrRange) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		sorted := slices.Clone(xs)
		slices.Sort(sorted)
		if want := PercentileSorted(sorted, p); got != want || !isFinite(got) {
			t.Fatalf("Percentile = %v, sort-based %v", got, want)
		}
	})
}

func FuzzCompare(f *testing.F) {
	f.Add(bytesOf(1, 2, 3), bytesOf(4, 5, 6), uint64(1))
	f.Add(bytesOf(0, 0), bytesOf(0), uint64(0))
	f.Add(bytesOf(-math.MaxFloat64), bytesOf(math.MaxFloat64, 1), uint64(7))
	f.Add(bytesOf(), bytesOf(1), uint64(0))
	f.Fuzz(func(t *testing.T, da, db []byte, seed uint64) {
		a, b := floats(da), floats(db)
		if len(a) > 64 || len(b) > 64 {
			return // keep each run fast; size is not what is fuzzed
		}
		c, err := Compare(a, b, CompareConfig{Bootstrap: BootstrapConfig{Resamples: 50, Seed: seed}})
		if err != nil {
			if !isKnown(err, ErrEmpty, ErrNaN) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if _, err := json.Marshal(c); err != nil {
			t.Fatalf("comparison not JSON-safe: %v: %+v", err, c)
		}
		if c.MannWhitney.P < 0 || c.MannWhitney.P > 1 || c.CliffsDelta < -1 || c.CliffsDelta > 1 {
			t.Fatalf("comparison %+v", c)
		}
	})
}

func FuzzHistogram(f *testing.F) {
	f.Add(bytesOf(1, 2, 3, -4, 0, 1e300), uint8(0))
	f.Add(bytesOf(math.NaN(), math.Inf(-1)), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, e uint8) {
		relErr := []float64{0, 0.001, 0.02, 0.1}[e%4]
		h := NewHistogram(HistogramConfig{RelativeError: relErr, Highest: 1e6})
		for _, x := range floats(data) {
			h.Record(x)
		}
		s, err := h.Summary(1, 25, 75)
		if err != nil {
			if h.Count() != 0 || !errors.Is(err, ErrEmpty) {
				t.Fatalf("Summary: %v with %d values", err, h.Count())
			}
			return
		}
		if _, err := json.Marshal(s); err != nil {
			t.Fatalf("histogram summary not JSON-safe: %v: %+v", err, s)
		}
		prev := math.Inf(-1)
		for p := 0.0; p <= 100; p += 2.5 {
			q := h.Quantile(p)
			if q < s.Min || q > s.Max || q < prev {
				t.Fatalf("Quantile(%v) = %v: outside [%v, %v] or below Quantile(%v) = %v", p, q, s.Min, s.Max, p-2.5, prev)
			}
			prev = q
		}
	})
}
