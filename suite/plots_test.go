package suite

import (
	"tr117/profiler"

	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

// labels returns the labelled ticks of m over [lo, hi].
func labels(m plot.Ticker, lo, hi float64) []string {
	var out []string
	for _, t := range m.Ticks(lo, hi) {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return out
}

// A gap CDF within one decade still has several labelled ticks (gonum's
// LogTicks gave one).
func TestLogTicksReadable(t *testing.T) {
	if got := strings.Join(labels(logTicks{}, 1.5, 9.5), " "); got != "2 5" && !strings.Contains(got, "2 5") {
		t.Errorf("1.5–9.5: labels %q", got)
	}
	if got := strings.Join(labels(logTicks{}, 0.9, 30), " "); got != "1 2 5 10 20" {
		t.Errorf("0.9–30: labels %q", got)
	}
	if got := strings.Join(labels(logTicks{}, 0.001, 1000), " "); got != "0.001 0.01 0.1 1 10 100 1e+03" {
		t.Errorf("six decades: labels %q", got)
	}
}

// plotRuns is a condition of two runs, for the plots.
func plotRuns() (Plan, []*runData) {
	plan := Plan{Throttle: ThrottlePlan{Skip: true}, Hardware: HardwarePlan{Skip: true}}.WithDefaults()
	plan.MRI.Buffers = []BufferSize{0}
	var ds []*runData
	for i, eff := range []float64{99.91, 99.97} {
		ds = append(ds, &runData{Run: Run{Phase: PhaseMRI, Model: plan.MRI.Models[0], Index: i + 1}, Result: &profiler.RunResult{EfficiencyPercent: &eff},
			LagT: []float64{0, 0.01, 0.02}, LagMs: []float64{0.2, 5, 0.3}, ChunkGapMs: []float64{2, 3, 4}, ChunkSeedGapMs: []float64{2, 3, 4}, ChunkParseMs: []float64{0.1, 0.1, 0.1}, ChunkLines: []int{1, 1, 1}})
	}
	return plan, ds
}

// The efficiency axis shows the whole scale, so 0.06 points of noise look
// as small as they are; the lag legend sits in headroom above the data.
func TestPlotScales(t *testing.T) {
	plan, ds := plotRuns()
	p, ok := efficiencyPlot(plan, ds)
	if !ok || p.Y.Min != 0 || p.Y.Max != 100 {
		t.Errorf("efficiency axis [%v, %v], want [0, 100]", p.Y.Min, p.Y.Max)
	}
	p, ok = lagPlot(plan.MRI.Models[0], plan.MRI.Buffers, 0.01, ds)
	if !ok || !p.Legend.Top || p.Y.Max < 5*1.2 || math.IsNaN(p.Y.Max) {
		t.Errorf("lag plot: legend top %v, y max %v for data up to 5", p.Legend.Top, p.Y.Max)
	}
}

// Every image of simulated data says so in its title, and no real one does.
func TestPlotsMarkedSimulated(t *testing.T) {
	plan, ds := plotRuns()
	for _, sim := range []bool{true, false} {
		nps := plots(plan, ds, sim)
		if len(nps) != 3 {
			t.Fatalf("%d plots, want 3", len(nps))
		}
		for _, np := range nps {
			if strings.HasPrefix(np.p.Title.Text, "SIMULATED") != sim {
				t.Errorf("simulated %v: %s titled %q", sim, np.name, np.p.Title.Text)
			}
		}
	}
	files, err := writePlots(t.TempDir(), plan, ds, true)
	if err != nil || len(files) != 3 {
		t.Errorf("writePlots: %v %v", files, err)
	}
}
