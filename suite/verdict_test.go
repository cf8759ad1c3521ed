package suite

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"tr117/stats"
)

// Two runs against two whose interval excludes 0: the rank test cannot
// reach p < 0.05 with so few runs, so the verdict is no evidence, says why,
// and its caveats name both sides with n and need.
func TestBufferVerdictTwoVsTwo(t *testing.T) {
	a := &analyzer{cfg: ReportConfig{MinN: 5}}
	e := a.compare([]float64{97.1, 97.3}, []float64{94.2, 94.4}, "default", "8192")
	if e == nil || e.Diff.Contains(0) {
		t.Fatalf("comparison %+v: want an interval that excludes 0", e)
	}
	v := a.bufferVerdict("tiny", 8192, BufferComparison{Buffer: 8192, Efficiency: e}, 2, 2)
	if v.Outcome != NoEvidence || v.Value == nil || *v.Value != e.Diff.Estimate || v.P == nil || *v.P < Alpha {
		t.Errorf("verdict %+v", v)
	}
	want := stats.SampleSizeWarning{Side: stats.SideBoth, NA: 2, NB: 2, Need: 4, For: stats.ForSignificance, Level: Alpha}
	if len(v.Warnings) == 0 || v.Warnings[0] != stats.Warning(want) {
		t.Errorf("warnings %#v, want first %#v", v.Warnings, want)
	}
	s := v.Sentence()
	for _, part := range []string{"moves the seed efficiency by -2.90 pp", "which excludes 0", "Mann-Whitney p = 0.333 is not below α = 0.05", "with 2 vs 2 runs it cannot be: it needs 4 per side", "not established"} {
		if !strings.Contains(s, part) {
			t.Errorf("sentence lacks %q:\n%s", part, s)
		}
	}
	if strings.Contains(s, "no evidence") {
		t.Errorf("sentence says no evidence although its interval excludes 0: %s", s)
	}
	if c := v.Caveats(); len(c) != 1 || c[0] != "too few runs (2 vs 2) for any difference to reach significance at α = 0.05: fewer than 4 per side can never give p below it" {
		t.Errorf("caveats %q", c)
	}
}

// A 95% interval needs 6 runs per side; the caveat names the short sides
// by their labels, baseline first, each with its own n.
func TestIntervalCaveatSides(t *testing.T) {
	a := &analyzer{cfg: ReportConfig{MinN: 5}}
	seq := func(n int, from float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = from + float64(i)
		}
		return xs
	}
	for _, c := range []struct {
		na, nb int
		want   string
	}{
		{2, 8, "fewer than 6 runs per side (default: 2): the 95% confidence interval is not reliable"},
		{8, 3, "fewer than 6 runs per side (8192: 3): the 95% confidence interval is not reliable"},
		{5, 4, "fewer than 6 runs per side (default: 5, 8192: 4): the 95% confidence interval is not reliable"},
	} {
		e := a.compare(seq(c.na, 0), seq(c.nb, 100), "default", "8192")
		v := a.bufferVerdict("tiny", 8192, BufferComparison{Efficiency: e}, c.na, c.nb)
		if got := v.Caveats(); len(got) == 0 || got[0] != c.want {
			t.Errorf("%d vs %d: caveats %q, want first %q", c.na, c.nb, got, c.want)
		}
	}
}

// checkReportJSON reads report.json back into a Report and writes it
// again: the same bytes, with the documented field names.
func checkReportJSON(t *testing.T, root string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("report.json does not read back: %v", err)
	}
	again, err := json.MarshalIndent(&back, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	json.Unmarshal(data, &a)
	json.Unmarshal(again, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("report.json changes on a round trip:\n%s", lineDiff(string(data), string(again)))
	}
	for _, field := range []string{`"question":`, `"outcome":`, `"facts":`, `"n":`, `"client_ceiling":`, `"latency":`, `"flow_dynamics":`, `"verdicts":`} {
		if !bytes.Contains(data, []byte(field)) {
			t.Errorf("report.json lacks %s", field)
		}
	}
	if bytes.Contains(data, []byte(`"text":`)) {
		t.Error("report.json carries verdict prose")
	}
}

// checkVerdictsFollowValues holds every verdict's outcome and words to
// its values: met comparisons are significant with intervals that exclude
// 0; "no evidence" is only said of an interval that contains 0.
func checkVerdictsFollowValues(t *testing.T, rep *Report) {
	t.Helper()
	var all []Verdict
	for _, cm := range rep.ClientCeiling {
		all = append(all, cm.Verdicts...)
	}
	if rep.Sweep != nil {
		all = append(all, rep.Sweep.Verdicts...)
	}
	all = append(all, rep.Hardware.Verdicts...)
	for _, fm := range rep.Flow {
		all = append(all, fm.Verdicts...)
	}
	if rep.Tokenizers != nil {
		all = append(all, rep.Tokenizers.Verdicts...)
	}
	for _, v := range all {
		s := v.Sentence()
		if v.Question == "" || s == "" {
			t.Errorf("verdict without question or words: %+v", v)
		}
		if v.Interval != nil && v.P != nil && v.Question == QBufferEfficiency {
			significant := *v.P < Alpha && !v.Interval.Contains(0)
			if significant != (v.Outcome == Met) {
				t.Errorf("%s: outcome %s with p %v and interval %v", v.Question, v.Outcome, *v.P, *v.Interval)
			}
		}
		if v.Interval != nil && !v.Interval.Contains(0) && strings.Contains(s, "no evidence") {
			t.Errorf("says no evidence while its interval %v excludes 0: %s", *v.Interval, s)
		}
	}
}

// An ITL p50 of 0 (several tokens per read) is explained under the table,
// and only then.
func TestLatencyExplainsZeroITL(t *testing.T) {
	zero, ok := &stats.Summary{N: 2, P50: 0}, &stats.Summary{N: 2, P50: 8.9}
	for _, c := range []struct {
		p50  *stats.Summary
		want bool
	}{{zero, true}, {ok, false}} {
		var b strings.Builder
		writeLatency(&b, []ConditionLatency{{Phase: PhaseMRI, Model: "tiny", Runs: 2, ITLP50ms: c.p50, ITLP99ms: ok}})
		got := b.String()
		if strings.Contains(got, "| 0.00 / ") != c.want || strings.Contains(got, "0 ms apart by construction") != c.want {
			t.Errorf("p50 %v: explanation shown %v, want %v:\n%s", c.p50.P50, !c.want, c.want, got)
		}
	}
}

// A reader rate above the throttle's cap is explained (the bucket's one
// second of burst), not left to read as a broken throttle.
func TestBackPressureExplainsRateAboveCap(t *testing.T) {
	p := 0.4
	v := Verdict{Question: QBackPressure, Model: "tiny", Value: new(float64), P: &p, Outcome: NotMet,
		Facts: map[string]float64{"rate_tps": 60, "cap_rate": 64.2, "mean_a": 100, "mean_b": 99}}
	if s := v.Sentence(); !strings.Contains(s, "above the cap by the bucket's burst") {
		t.Errorf("64.2 tok/s against a cap of 60 unexplained: %s", s)
	}
	v.Facts["cap_rate"] = 59.5
	if s := v.Sentence(); strings.Contains(s, "above the cap") {
		t.Errorf("59.5 tok/s against a cap of 60 called above it: %s", s)
	}
}

// A Mann-Whitney test that could not be computed shows no p in the
// table: a p of 1 beside "not computed" read as a contradiction.
func TestABPNotComputed(t *testing.T) {
	c, err := stats.Compare([]float64{5, 5, 5}, []float64{5, 5, 5}, stats.CompareConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ab := &AB{PValue: c.MannWhitney.P, Warnings: c.Warnings}
	if got := abP(ab); got != "n/a" {
		t.Errorf("abP = %q for a test stats did not compute (%v), want n/a", got, c.Warnings)
	}
	if got := abP(&AB{PValue: 0.03}); got == "n/a" {
		t.Errorf("abP of a computed p = %q", got)
	}
}
