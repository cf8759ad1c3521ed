package profiler

import (
	"testing"
	"time"
)

type metricMap map[string]float64

func (m metricMap) ReportMetric(n float64, unit string) { m[unit] = n }

func TestResultStats(t *testing.T) {
	var s ResultStats
	s.Add(&Result{HasTTFT: true, TTFT: 10 * time.Millisecond, HasTTFC: true, TTFC: 20 * time.Millisecond, Tokens: 11, Total: 110 * time.Millisecond})
	s.Add(&Result{HasTTFT: true, TTFT: 30 * time.Millisecond, Tokens: 1, Total: 90 * time.Millisecond})
	s.Add(nil)
	got := metricMap{}
	s.Report(got)
	want := metricMap{"ttft-ms": 20, "ttfc-ms": 20, "tpot-ms": 10, "tok/s": 60}
	for unit, v := range want {
		if got[unit] != v {
			t.Errorf("%s = %v, want %v", unit, got[unit], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("reported %v", got)
	}
	empty := metricMap{}
	(&ResultStats{}).Report(empty)
	if len(empty) != 0 {
		t.Errorf("no results reported %v", empty)
	}
}
