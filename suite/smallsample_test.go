package suite

import (
	"strings"
	"testing"

	"tr117/stats"
)

// Two runs per side give no usable standard deviation: no Hedges' g (two
// nearly equal runs made it -235), anywhere in the comparison's JSON.
func TestCompareNoEffectSizeFromTwoRuns(t *testing.T) {
	a := &analyzer{}
	ab := a.compare([]float64{99.9612, 99.9613}, []float64{99.9601, 99.9602}, "default", "buf8192")
	if ab == nil {
		t.Fatal("no comparison")
	}
	if ab.Effect != nil || strings.Contains(string(ab.Detail), `"hedges_g"`) {
		t.Errorf("effect %v from 2 vs 2 runs; detail %s", *ab.Effect, ab.Detail)
	}
	if !strings.Contains(string(ab.Detail), "hedges' g not computed: fewer than 3 values per side") {
		t.Errorf("detail does not say why: %s", ab.Detail)
	}
	ab = a.compare([]float64{1, 2, 3}, []float64{2, 3, 4}, "a", "b")
	if ab == nil || ab.Effect == nil {
		t.Errorf("3 vs 3 runs: no effect size: %+v", ab)
	}
}

// An interval from fewer than minCIRuns runs carries its warning beside it.
func TestCICellWarnsOnFewRuns(t *testing.T) {
	if need := stats.IntervalNeed(0.95); need != minCIRuns {
		t.Fatalf("minCIRuns %d, stats.IntervalNeed(0.95) %d", minCIRuns, need)
	}
	iv := &stats.Interval{Lo: 91.22, Hi: 99.49, Level: 0.95}
	if got := ciCell(iv, 2); got != "[91.22, 99.49] ⚠ 2 runs: unreliable, needs 6" {
		t.Errorf("2 runs: %q", got)
	}
	if got := ciCell(iv, 6); got != "[91.22, 99.49]" {
		t.Errorf("6 runs: %q", got)
	}
}

// "not enough finished runs" names each side's count.
func TestFlowVerdictSidesNamed(t *testing.T) {
	a := &analyzer{}
	vs := a.flowVerdicts(FlowModel{Model: "tiny", Rate: 60, Baseline: "phase1 default"}, 0, 2)
	if len(vs) == 0 || !strings.Contains(vs[0].Sentence(), "(2 throttled vs 0 baseline runs)") {
		t.Errorf("verdict %+v", vs)
	}
}

// A tokenizer's long list of places looked at stays in its file; the
// report prints one short line.
func TestShortReason(t *testing.T) {
	long := "tokbench: no tokenizer found for gemma3:latest; looked at:\n  " + strings.Repeat("/some/long/path/that/was/tried: no such file or directory\n  ", 15) + "end"
	got := shortReason(long)
	if got != "tokbench: no tokenizer found for gemma3:latest; looked at: 16 places" {
		t.Errorf("shortReason = %q", got)
	}
	if got := shortReason(strings.Repeat("x", 500)); len([]rune(got)) != maxReason+1 {
		t.Errorf("a 500-character line: %d characters", len([]rune(got)))
	}
}
