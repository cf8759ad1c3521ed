package profiler

import "time"

// MetricReporter is the part of *testing.B that [ResultStats.Report]
// uses, so that this package need not import testing.
type MetricReporter interface {
	ReportMetric(n float64, unit string)
}

// ResultStats accumulates Results, one per streamed request, for a Go
// benchmark that measures a client with this package: add each iteration's
// Result and report the means when the loop is done, so that
// `benchstat old.txt new.txt` compares two builds of the client.
//
// The zero value is ready to use.
type ResultStats struct {
	n, ttftN, ttfcN, tpotN int
	ttft, ttfc, tpot       time.Duration
	tokens                 int
	total                  time.Duration
}

// Add accumulates r. A nil r is ignored.
func (s *ResultStats) Add(r *Result) {
	if r == nil {
		return
	}
	s.n++
	s.tokens += r.Tokens
	s.total += r.Total
	if r.HasTTFT {
		s.ttftN++
		s.ttft += r.TTFT
	}
	if r.HasTTFC {
		s.ttfcN++
		s.ttfc += r.TTFC
	}
	if d, ok := r.TPOT(); ok {
		s.tpotN++
		s.tpot += d
	}
}

// Report reports the means over the added Results in the units of the
// benchmark format: "ttft-ms", "ttfc-ms" and "tpot-ms" (milliseconds per
// request; a metric no request had is not reported, rather than reported
// as 0) and "tok/s" (all tokens over all requests' time).
func (s *ResultStats) Report(b MetricReporter) {
	mean := func(sum time.Duration, n int) float64 {
		return float64(sum) / float64(n) / float64(time.Millisecond)
	}
	if s.ttftN > 0 {
		b.ReportMetric(mean(s.ttft, s.ttftN), "ttft-ms")
	}
	if s.ttfcN > 0 {
		b.ReportMetric(mean(s.ttfc, s.ttfcN), "ttfc-ms")
	}
	if s.tpotN > 0 {
		b.ReportMetric(mean(s.tpot, s.tpotN), "tpot-ms")
	}
	if s.total > 0 {
		b.ReportMetric(float64(s.tokens)/s.total.Seconds(), "tok/s")
	}
}
