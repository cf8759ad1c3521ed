package suite

import (
	"strings"
	"testing"

	"tr117/stats"
)

// A verdict's difference is printed with its interval's precision: a run of
// the default plan once said "+0.00 pp" next to a table's "+0.0021".
func TestDiffTextAgreesWithInterval(t *testing.T) {
	tests := []struct {
		iv   stats.Interval
		want string
	}{
		{stats.Interval{Estimate: 0.0021, Lo: -0.0102, Hi: 0.0139, Level: 0.95}, "+0.0021"},
		{stats.Interval{Estimate: 2.5, Lo: 1.2, Hi: 3.4, Level: 0.95}, "+2.50"},
		{stats.Interval{Estimate: -0.05, Lo: -0.2, Hi: 0.05, Level: 0.95}, "-0.05"},
		{stats.Interval{}, "+0.00"},
	}
	for _, tt := range tests {
		got := diffText(tt.iv)
		if got != tt.want {
			t.Errorf("diffText(%+v) = %q, want %q", tt.iv, got, tt.want)
		}
		if ci := ciText(tt.iv, "pp"); tt.iv.Level > 0 && strings.Count(ci, ".") > 0 {
			dec := len(got) - strings.Index(got, ".") - 1
			lo := ci[strings.Index(ci, "[")+1 : strings.Index(ci, ",")]
			if d := len(lo) - strings.Index(lo, ".") - 1; d != dec {
				t.Errorf("%+v: difference %q has %d decimals, its CI %q has %d", tt.iv, got, dec, ci, d)
			}
		}
	}
}
