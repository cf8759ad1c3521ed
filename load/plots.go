package load

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"tr117/internal/layout"
	"tr117/sink"
)

// minLogMS is the least value a log axis shows: a 0 ms latency (an
// unpaced simulator's) is drawn at 1 µs.
const minLogMS = 1e-3

// maxPlotPoints bounds the points of one drawn line.
const maxPlotPoints = 2000

// WritePlots draws a sweep's PNGs under dir/plots and returns their paths
// relative to dir, slash-separated, as report.md links them: latency
// against achieved throughput, the TTFT and ITL CDFs, the in-flight
// timeline, and the throughput-latency Pareto front. A plot with nothing to
// draw is left out.
func WritePlots(dir string, res *SweepResult) ([]string, error) {
	var files []string
	for _, pl := range []struct {
		name string
		draw func(*SweepResult) (*plot.Plot, bool)
	}{
		{layout.PlotLatencyVsRate, latencyPlot},
		{layout.PlotTTFTCDF, func(r *SweepResult) (*plot.Plot, bool) { return cdfPlot(r, "TTFT", ttftValues) }},
		{layout.PlotITLCDF, func(r *SweepResult) (*plot.Plot, bool) { return cdfPlot(r, "ITL", itlValues) }},
		{layout.PlotInFlight, inFlightPlot},
		{layout.PlotPareto, paretoPlot},
	} {
		p, ok := pl.draw(res)
		if !ok {
			continue
		}
		if res.Simulated() {
			markSimulated(p)
		}
		wt, err := p.WriterTo(8*vg.Inch, 4*vg.Inch, "png")
		if err != nil {
			return files, fmt.Errorf("load: plot %s: %w", pl.name, err)
		}
		var buf bytes.Buffer
		if _, err := wt.WriteTo(&buf); err != nil {
			return files, fmt.Errorf("load: plot %s: %w", pl.name, err)
		}
		if err := sink.WriteFileAtomic(filepath.Join(dir, PlotsDir, pl.name), buf.Bytes()); err != nil {
			return files, err
		}
		files = append(files, PlotsDir+"/"+pl.name)
	}
	return files, nil
}

// SimulatedTitle is the line above a plot's title when tr117's Ollama
// simulator answered, so that a copied image keeps the warning.
const SimulatedTitle = "SIMULATED: tr117's Ollama simulator, not a real server"

// markSimulated puts SimulatedTitle above p's title, in red.
func markSimulated(p *plot.Plot) {
	p.Title.Text = SimulatedTitle + "\n" + p.Title.Text
	p.Title.TextStyle.Color = color.RGBA{R: 0xc0, A: 0xff}
}

func addLine(p *plot.Plot, xy plotter.XYs, i int, name string, points bool) bool {
	if len(xy) == 0 {
		return false
	}
	l, s, err := plotter.NewLinePoints(xy)
	if err != nil {
		return false
	}
	l.Color, s.Color = plotutil.Color(i), plotutil.Color(i)
	if points {
		p.Add(l, s)
	} else {
		p.Add(l)
	}
	p.Legend.Add(name, l)
	return true
}

func latencyPlot(r *SweepResult) (*plot.Plot, bool) {
	p := plot.New()
	p.Title.Text = "Latency against achieved throughput"
	p.X.Label.Text = "completed requests per second"
	p.Y.Label.Text = "ms"
	series := []struct {
		name string
		get  func(*Summary) (float64, bool)
	}{
		{"TTFT p50", func(s *Summary) (float64, bool) { return est(s.TTFTMS, 50) }},
		{"TTFT p99", func(s *Summary) (float64, bool) { return est(s.TTFTMS, 99) }},
		{"E2E p50", func(s *Summary) (float64, bool) { return est(s.E2EMS, 50) }},
		{"E2E p99", func(s *Summary) (float64, bool) { return est(s.E2EMS, 99) }},
	}
	drawn := false
	for i, se := range series {
		var xy plotter.XYs
		for _, pt := range r.Points {
			if v, ok := se.get(&pt.Summary); ok {
				xy = append(xy, plotter.XY{X: pt.Summary.RequestThroughput, Y: v})
			}
		}
		drawn = addLine(p, xy, i, se.name, true) || drawn
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	headroom(p)
	return p, drawn
}

// headroom makes room above the lines for the legend.
func headroom(p *plot.Plot) {
	p.Y.Min = math.Min(p.Y.Min, 0)
	p.Y.Max += 0.3 * (p.Y.Max - p.Y.Min)
}

func est(l *Latency, p float64) (float64, bool) {
	if l == nil {
		return 0, false
	}
	switch p {
	case 50:
		return l.P50.Estimate, true
	case 99:
		return l.P99.Estimate, true
	}
	return 0, false
}

func ttftValues(recs []Record) []float64 {
	var xs []float64
	for i := range recs {
		if recs[i].OK() && recs[i].TTFTMS != nil {
			xs = append(xs, *recs[i].TTFTMS)
		}
	}
	return xs
}

func itlValues(recs []Record) []float64 {
	var xs []float64
	for i := range recs {
		if recs[i].OK() {
			xs = append(xs, recs[i].ITLMS...)
		}
	}
	return xs
}

// cdfPlot draws each point's empirical CDF of a metric on a log x axis.
func cdfPlot(r *SweepResult, metric string, values func([]Record) []float64) (*plot.Plot, bool) {
	p := plot.New()
	p.Title.Text = metric + " CDF"
	p.X.Label.Text = metric + " ms (log scale)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Label.Text = "fraction of requests"
	if metric == "ITL" {
		p.Y.Label.Text = "fraction of tokens"
	}
	drawn := false
	for i, pt := range r.Points {
		xs := values(pt.Records)
		if len(xs) == 0 {
			continue
		}
		slices.Sort(xs)
		step := max(1, len(xs)/maxPlotPoints)
		var xy plotter.XYs
		for j := 0; j < len(xs); j += step {
			xy = append(xy, plotter.XY{X: max(xs[j], minLogMS), Y: float64(j+1) / float64(len(xs))})
		}
		xy = append(xy, plotter.XY{X: max(xs[len(xs)-1], minLogMS), Y: 1})
		drawn = addLine(p, xy, i, pt.Label, false) || drawn
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	logRange(&p.X)
	return p, drawn
}

// logRange keeps a log axis' range positive and not empty: gonum widens an
// empty range (every value the same, as with an unpaced simulator's zero
// latencies) by ±1, below zero, where a log scale panics.
func logRange(a *plot.Axis) {
	a.Min = max(a.Min, minLogMS)
	a.Max = max(a.Max, a.Min)
	if a.Max < a.Min*1.5 {
		a.Min, a.Max = a.Min/2, a.Max*2
	}
}

// inFlight returns the step function of requests in flight over time, in
// seconds from the run's start.
func inFlight(recs []Record) plotter.XYs {
	type ev struct {
		t float64
		d int
	}
	evs := make([]ev, 0, 2*len(recs))
	for i := range recs {
		evs = append(evs, ev{recs[i].SentMS / 1000, 1}, ev{recs[i].EndMS / 1000, -1})
	}
	slices.SortFunc(evs, func(a, b ev) int {
		if a.t != b.t {
			return cmpFloat(a.t, b.t)
		}
		return a.d - b.d
	})
	// A step function: at each change, a point at the old level and one
	// at the new. Long runs keep every stride-th change.
	stride := max(1, 2*len(evs)/maxPlotPoints)
	xy := make(plotter.XYs, 0, 2*len(evs)/stride+2)
	n := 0
	for i, e := range evs {
		prev := n
		n += e.d
		if i%stride == 0 || i == len(evs)-1 {
			xy = append(xy, plotter.XY{X: e.t, Y: float64(prev)}, plotter.XY{X: e.t, Y: float64(n)})
		}
	}
	return xy
}

func cmpFloat(a, b float64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

func inFlightPlot(r *SweepResult) (*plot.Plot, bool) {
	p := plot.New()
	p.Title.Text = "Requests in flight"
	p.X.Label.Text = "seconds from the start of each run"
	p.Y.Label.Text = "in flight"
	drawn := false
	for i, pt := range r.Points {
		drawn = addLine(p, inFlight(pt.Records), i, pt.Label, false) || drawn
	}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	headroom(p)
	return p, drawn
}

// paretoPlot draws output throughput against TTFT p99 per point, and the
// front of the points no other point beats on both.
func paretoPlot(r *SweepResult) (*plot.Plot, bool) {
	var all plotter.XYs
	var names []string
	for _, pt := range r.Points {
		if v, ok := est(pt.Summary.TTFTMS, 99); ok {
			all = append(all, plotter.XY{X: pt.Summary.OutputTokensPerSecond, Y: v})
			names = append(names, pt.Label)
		}
	}
	if len(all) == 0 {
		return nil, false
	}
	p := plot.New()
	p.Title.Text = "Throughput against latency (Pareto front)"
	p.X.Label.Text = "output tokens per second"
	p.Y.Label.Text = "TTFT p99 ms"
	sc, err := plotter.NewScatter(all)
	if err != nil {
		return nil, false
	}
	p.Add(sc)
	if lb, err := plotter.NewLabels(plotter.XYLabels{XYs: all, Labels: names}); err == nil {
		p.Add(lb)
	}
	addLine(p, paretoFront(all), 1, "front", false)
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	headroom(p)
	pad := 0.1 * math.Max(p.X.Max-p.X.Min, 1)
	p.X.Min, p.X.Max = math.Max(0, p.X.Min-pad), p.X.Max+pad
	return p, true
}

// paretoFront returns the points that no other point beats with more
// throughput (X) and less latency (Y), by throughput.
func paretoFront(xy plotter.XYs) plotter.XYs {
	var front plotter.XYs
	for i, a := range xy {
		beaten := false
		for j, b := range xy {
			if i != j && b.X >= a.X && b.Y <= a.Y && (b.X > a.X || b.Y < a.Y) {
				beaten = true
				break
			}
		}
		if !beaten {
			front = append(front, a)
		}
	}
	slices.SortFunc(front, func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
	return front
}
