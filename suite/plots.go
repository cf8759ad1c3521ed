package suite

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"tr117/internal/layout"
	"tr117/sink"
	"tr117/stats"
)

// namedPlot is a plot and its file name under plots/.
type namedPlot struct {
	name string
	p    *plot.Plot
}

// writePlots draws the report's PNGs under <root>/plots and returns their
// paths relative to root (slash-separated, as report.md links them).
func writePlots(root string, plan Plan, data []*runData, simulated bool) ([]string, error) {
	var files []string
	for _, np := range plots(plan, data, simulated) {
		wt, err := np.p.WriterTo(8*vg.Inch, 4*vg.Inch, "png")
		if err != nil {
			return files, fmt.Errorf("suite: plot %s: %w", np.name, err)
		}
		var buf bytes.Buffer
		if _, err := wt.WriteTo(&buf); err != nil {
			return files, fmt.Errorf("suite: plot %s: %w", np.name, err)
		}
		path, err := layout.Join(root, PlotsDir, np.name)
		if err != nil {
			return files, err
		}
		if err := sink.WriteFileAtomic(path, buf.Bytes()); err != nil {
			return files, err
		}
		files = append(files, PlotsDir+"/"+np.name)
	}
	return files, nil
}

// plots builds the report's plots, each marked when the data is simulated.
func plots(plan Plan, data []*runData, simulated bool) []namedPlot {
	var out []namedPlot
	add := func(p *plot.Plot, ok bool, name string) {
		if !ok {
			return
		}
		if simulated {
			markSimulated(p)
		}
		out = append(out, namedPlot{name, p})
	}
	byPhaseModel := func(ph Phase, model string) []*runData {
		var out []*runData
		for _, d := range data {
			if d.Run.Phase == ph && d.Run.Model == model {
				out = append(out, d)
			}
		}
		return out
	}
	// Efficiency per condition, mean with its 95% bootstrap interval.
	p, ok := efficiencyPlot(plan, data)
	add(p, ok, layout.PlotEfficiency)
	p, ok = ceilingPlot(plan, data)
	add(p, ok, layout.PlotFor(layout.PlotCeiling, plan.Ceiling.Model))
	if !plan.MRI.Skip {
		for _, model := range plan.MRI.Models {
			ds := byPhaseModel(PhaseMRI, model)
			p, ok := lagPlot(model, plan.MRI.Buffers, plan.LagInterval.D().Seconds(), ds)
			add(p, ok, layout.PlotFor(layout.PlotLag, model))
			p, ok = gapCDFPlot(model, plan.MRI.Buffers, ds)
			add(p, ok, layout.PlotFor(layout.PlotChunkGapCDF, model))
		}
	}
	if !plan.Hardware.Skip {
		for _, model := range plan.Hardware.Models {
			p, ok := gpuPlot(model, byPhaseModel(PhaseHardware, model))
			add(p, ok, layout.PlotFor(layout.PlotGPU, model))
		}
	}
	return out
}

type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

func efficiencyPlot(plan Plan, data []*runData) (*plot.Plot, bool) {
	type cond struct {
		label string
		keep  func(Run) bool
	}
	var conds []cond
	if !plan.MRI.Skip {
		for _, m := range plan.MRI.Models {
			for _, b := range plan.MRI.Buffers {
				conds = append(conds, cond{m + " " + b.Dir(), func(r Run) bool { return r.Phase == PhaseMRI && r.Model == m && r.Buffer == b }})
			}
		}
	}
	if !plan.Throttle.Skip {
		for _, m := range plan.Throttle.Models {
			for _, rt := range plan.Throttle.Rates {
				conds = append(conds, cond{m + " " + rateDir(rt), func(r Run) bool { return r.Phase == PhaseThrottle && r.Model == m && r.Rate == rt }})
			}
		}
	}
	if !plan.Hardware.Skip && plan.Hardware.CommandTemplate == "" {
		for _, m := range plan.Hardware.Models {
			conds = append(conds, cond{m + " hw", func(r Run) bool { return r.Phase == PhaseHardware && r.Model == m }})
		}
	}
	var names []string
	var seed, truth errPoints
	for _, c := range conds {
		sp, ok := conditionMean(data, c.keep, (*runData).Efficiency)
		if !ok {
			continue
		}
		x := float64(len(names))
		label := c.label
		if tp, ok := conditionMean(data, c.keep, (*runData).TrueEfficiency); ok {
			truth.add(x-0.12, tp)
		} else {
			// Hardware runs take no solo baselines: say why the circle is missing.
			label += "\n(no solo runs)"
		}
		names = append(names, label)
		seed.add(x+0.12, sp)
	}
	if len(names) == 0 {
		return nil, false
	}
	p := plot.New()
	p.Title.Text = "Multi-agent efficiency per condition (mean, 95% bootstrap CI)"
	p.Y.Label.Text = "efficiency %"
	for _, series := range []struct {
		name  string
		pts   errPoints
		shape draw.GlyphDrawer
	}{{"true efficiency (vs solo runs)", truth, draw.CircleGlyph{}}, {"seed efficiency (overlap only)", seed, draw.TriangleGlyph{}}} {
		if len(series.pts.XYs) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(series.pts.XYs)
		if err != nil {
			return nil, false
		}
		sc.GlyphStyle.Shape = series.shape
		eb, err := plotter.NewYErrorBars(series.pts)
		if err != nil {
			return nil, false
		}
		p.Add(sc, eb)
		p.Legend.Add(series.name, sc)
	}
	p.Add(plotter.NewGrid())
	p.Legend.Left = true // bottom left: efficiencies sit near the top
	p.NominalX(names...)
	p.Y.Tick.Marker = fixedTicks{prec: 0}
	// The whole scale, 0 to 100%: a window around the points made noise of
	// a tenth of a point look like a difference.
	p.Y.Min, p.Y.Max = 0, math.Max(100, p.Y.Max)
	p.X.Tick.Label.Rotation = 0.3
	p.X.Tick.Label.XAlign = -0.9
	// Room at both ends, so the last rotated label is not cut off.
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.2
	return p, true
}

// add appends a point at x with iv's interval as its error bar.
func (e *errPoints) add(x float64, iv stats.Interval) {
	e.XYs = append(e.XYs, plotter.XY{X: x, Y: iv.Estimate})
	e.YErrors = append(e.YErrors, struct{ Low, High float64 }{iv.Estimate - iv.Lo, iv.Hi - iv.Estimate})
}

// conditionMean is the bootstrap mean of value over the runs keep selects
// (NaN values left out); false when there is none.
func conditionMean(data []*runData, keep func(Run) bool, value func(*runData) float64) (stats.Interval, bool) {
	var vs []float64
	for _, d := range data {
		if v := value(d); keep(d.Run) && !math.IsNaN(v) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return stats.Interval{}, false
	}
	iv, err := stats.BootstrapMean(vs, stats.BootstrapConfig{})
	return iv, err == nil
}

// lagPlot draws scheduler lag over time per buffer condition, the runs of a
// condition laid end to end.
func lagPlot(model string, bufs []BufferSize, interval float64, ds []*runData) (*plot.Plot, bool) {
	p := plot.New()
	p.Title.Text = "Scheduler lag over time: " + model
	p.X.Label.Text = "seconds (runs end to end)"
	p.Y.Label.Text = "lag ms"
	drawn := false
	for i, b := range bufs {
		var xy plotter.XYs
		offset := 0.0
		for _, d := range sortedRuns(ds, func(r Run) bool { return r.Buffer == b }) {
			end := 0.0
			for j, t := range d.LagT {
				xy = append(xy, plotter.XY{X: offset + t, Y: d.LagMs[j]})
				end = t
			}
			offset += end + interval
		}
		if len(xy) == 0 {
			continue
		}
		drawn = addPoints(p, xy, i, b.Dir()) || drawn
	}
	p.Add(plotter.NewGrid())
	// Headroom above the points for the legend, which would cover them.
	p.Legend.Top = true
	p.Y.Min = math.Min(p.Y.Min, 0)
	p.Y.Max += 0.25 * (p.Y.Max - p.Y.Min)
	return p, drawn
}

// minGapMs is where the chunk-gap CDF's log axis starts: gaps below it
// (back-to-back chunks from one read) are drawn at it.
const minGapMs = 0.001

// gapCDFPlot draws the empirical CDF of chunk gaps per buffer condition on
// a log x axis: gaps span from microseconds (chunks delivered by one read)
// to the token interval and the odd stall of tens of milliseconds, and a
// linear axis squeezes all but the stalls into one step.
func gapCDFPlot(model string, bufs []BufferSize, ds []*runData) (*plot.Plot, bool) {
	p := plot.New()
	p.Title.Text = "Chunk gap CDF: " + model
	p.X.Label.Text = "gap ms (log scale)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = logTicks{}
	p.Y.Label.Text = "fraction of chunks"
	drawn := false
	for i, b := range bufs {
		var gaps []float64
		for _, d := range sortedRuns(ds, func(r Run) bool { return r.Buffer == b }) {
			_, g := d.seedChunks()
			gaps = append(gaps, g...)
		}
		if len(gaps) == 0 {
			continue
		}
		sort.Float64s(gaps)
		// At most 2,000 points: the CDF at evenly spaced ranks.
		step := max(1, len(gaps)/2000)
		var xy plotter.XYs
		for j := 0; j < len(gaps); j += step {
			xy = append(xy, plotter.XY{X: max(gaps[j], minGapMs), Y: float64(j+1) / float64(len(gaps))})
		}
		xy = append(xy, plotter.XY{X: max(gaps[len(gaps)-1], minGapMs), Y: 1})
		drawn = addLine(p, xy, i, b.Dir()) || drawn
	}
	// Top left: the curves start at 0 there.
	p.Legend.Left = true
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p, drawn
}

// gpuPlot draws power and utilisation over time for a model's hardware
// runs, end to end: one segment per run, a sampling interval apart, so
// that no line joins the end of one run to the start of the next.
func gpuPlot(model string, ds []*runData) (*plot.Plot, bool) {
	p := plot.New()
	p.Title.Text = "GPU timeline: " + model
	p.X.Label.Text = "seconds (runs end to end)"
	p.Y.Label.Text = "power W / utilisation %"
	offset, drawn := 0.0, false
	legend := [2]bool{}
	for _, d := range sortedRuns(ds, nil) {
		var power, util plotter.XYs
		end, step := 0.0, 0.0
		for i, g := range d.GPU {
			if g.PowerOK {
				power = append(power, plotter.XY{X: offset + g.T, Y: g.PowerW})
			}
			if g.UtilOK {
				util = append(util, plotter.XY{X: offset + g.T, Y: g.UtilGPU})
			}
			if i > 0 && step == 0 {
				step = g.T - end
			}
			end = g.T
		}
		offset += end + step
		for i, s := range []struct {
			name string
			xy   plotter.XYs
		}{{"power W", power}, {"utilization %", util}} {
			if len(s.xy) == 0 {
				continue
			}
			l, err := plotter.NewLine(s.xy)
			if err != nil {
				continue
			}
			l.Color = plotutil.Color(i)
			p.Add(l)
			if !legend[i] {
				p.Legend.Add(s.name, l)
				legend[i] = true
			}
			drawn = true
		}
	}
	if !drawn {
		return nil, false
	}
	p.Add(plotter.NewGrid())
	// Room above the lines for the legend.
	p.Legend.Top = true
	p.Y.Min = math.Min(p.Y.Min, 0)
	p.Y.Max += 0.15 * (p.Y.Max - p.Y.Min)
	return p, true
}

func sortedRuns(ds []*runData, keep func(Run) bool) []*runData {
	var out []*runData
	for _, d := range ds {
		if keep == nil || keep(d.Run) {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Run.Index < out[j].Run.Index })
	return out
}

// fixedTicks labels gonum's default ticks with a fixed number of decimals
// instead of %g, which turns 99.9 into "1e+02".
type fixedTicks struct{ prec int }

func (f fixedTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', f.prec, 64)
		}
	}
	return ts
}

// addLine adds xy to p as the i-th colored line with a legend entry, and
// reports whether it could.
func addLine(p *plot.Plot, xy plotter.XYs, i int, name string) bool {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return false
	}
	l.Color = plotutil.Color(i)
	p.Add(l)
	p.Legend.Add(name, l)
	return true
}

// addPoints draws xy as unjoined points: each lag sample is one probe's
// lateness, and a line from a 0 ms sample to the next one's 135 ms
// stall drew a ramp of steadily growing lag that never happened.
func addPoints(p *plot.Plot, xy plotter.XYs, i int, name string) bool {
	sc, err := plotter.NewScatter(xy)
	if err != nil {
		return false
	}
	sc.GlyphStyle.Color = plotutil.Color(i)
	sc.GlyphStyle.Shape = plotutil.Shape(i)
	sc.GlyphStyle.Radius = vg.Points(1.5)
	p.Add(sc)
	p.Legend.Add(name, sc)
	return true
}

// markSimulated puts a red SIMULATED line above the plot's title, so that
// a copied image keeps the warning.
func markSimulated(p *plot.Plot) {
	p.Title.Text = "SIMULATED: tr117's Ollama simulator, not real Ollama\n" + p.Title.Text
	p.Title.TextStyle.Color = color.RGBA{R: 200, A: 255}
}

// logTicks labels a log axis at 1, 2 and 5 times each power of ten when
// it spans at most four decades (at each power of ten otherwise), so that
// even a range within one decade has several labelled ticks; the other
// integer multiples are unlabelled minor ticks.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= lo {
		return nil
	}
	dense := math.Log10(hi/lo) <= 4
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		pow := math.Pow(10, e)
		for m := 1.0; m <= 9; m++ {
			v := m * pow
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || dense && (m == 2 || m == 5) {
				t.Label = strconv.FormatFloat(v, 'g', 3, 64)
			}
			ts = append(ts, t)
		}
	}
	return ts
}
