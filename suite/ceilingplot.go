package suite

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// ceilingPlot draws the ceiling sweep: mean true efficiency, seed
// efficiency and balance bound of each cost per message.
func ceilingPlot(plan Plan, data []*runData) (*plot.Plot, bool) {
	if !plan.Ceiling.Run {
		return nil, false
	}
	p := plot.New()
	p.Title.Text = "Ceiling sweep: " + plan.Ceiling.Model + " on one event loop"
	p.X.Label.Text = "CPU cost per message (µs)"
	p.Y.Label.Text = "percent (mean over runs)"
	series := []struct {
		name string
		f    func(*runData) float64
	}{{"true efficiency", (*runData).TrueEfficiency}, {"seed efficiency", (*runData).Efficiency}, {"balance bound", (*runData).BalanceBound}}
	drawn := false
	for i, s := range series {
		var xy plotter.XYs
		for _, c := range plan.Ceiling.Costs {
			var ds []*runData
			for _, d := range data {
				if d.Run.Phase == PhaseCeiling && d.Run.Model == plan.Ceiling.Model && d.Run.Cost == c {
					ds = append(ds, d)
				}
			}
			if m := summarize(values(ds, s.f)); m != nil && !math.IsNaN(m.Mean) {
				xy = append(xy, plotter.XY{X: float64(c.D().Nanoseconds()) / 1e3, Y: m.Mean})
			}
		}
		if len(xy) > 0 {
			drawn = addLine(p, xy, i, s.name) || drawn
		}
	}
	p.Add(plotter.NewGrid())
	p.Legend.Left = true
	p.Legend.Top = false
	return p, drawn
}
