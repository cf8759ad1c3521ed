package telemetry

import (
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// A value equal to a bound falls in that bound's bucket; one above the
// last bound in the overflow bucket.
func TestDurHistBuckets(t *testing.T) {
	var h durHist
	h.init([]float64{0.001, 0.01})
	l := localHist{h: &h}
	for _, d := range []time.Duration{0, time.Millisecond, time.Millisecond + 1} {
		l.record(d)
	}
	l.merge()
	l = localHist{h: &h}
	for _, d := range []time.Duration{10 * time.Millisecond, time.Second} {
		l.record(d)
	}
	l.merge()
	dp := h.point(attribute.NewSet(), time.Time{}, time.Time{})
	if fmt.Sprint(dp.BucketCounts) != "[2 2 1]" || dp.Count != 5 || dp.Sum != 1.012000001 {
		t.Errorf("buckets %v count %d sum %v", dp.BucketCounts, dp.Count, dp.Sum)
	}
}

func BenchmarkLocalHistRecord(b *testing.B) {
	var h durHist
	h.init(FineBuckets)
	l := localHist{h: &h}
	b.ReportAllocs()
	for b.Loop() {
		l.record(3 * time.Millisecond)
	}
	l.merge()
}
