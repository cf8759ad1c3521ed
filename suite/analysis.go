package suite

import (
	"encoding/json"
	"strings"

	"tr117/stats"
)

// compare runs stats.Compare on b (candidate) against a (baseline). It
// returns nil when either side has fewer than two values: a comparison of
// single runs says nothing, and the report says so instead.
func (a *analyzer) compare(xa, xb []float64, labelA, labelB string) *AB {
	if len(xa) < 2 || len(xb) < 2 {
		return nil
	}
	c, err := stats.Compare(xa, xb, stats.CompareConfig{Alpha: Alpha, Bootstrap: a.opts.Bootstrap})
	if err != nil {
		return nil
	}
	ab := &AB{
		A: labelA, B: labelB,
		NA: c.NA, NB: c.NB, MeanA: c.MeanA, MeanB: c.MeanB,
		Diff:   c.MeanDiff,
		PValue: c.MannWhitney.P,
	}
	// Keep the caveats about the numbers the verdict uses (the mean
	// difference and Mann-Whitney), not those about Welch or Hedges' g.
	for _, w := range c.Warnings {
		if !strings.HasPrefix(w, "welch") && !strings.HasPrefix(w, "hedges") {
			ab.Warnings = append(ab.Warnings, w)
		}
	}
	if c.Welch != nil {
		p := c.Welch.P
		ab.WelchP = &p
	}
	if c.HedgesG != nil {
		g := *c.HedgesG
		ab.Effect = &g
	}
	ab.Different = c.Significant && !c.MeanDiff.Contains(0)
	if raw, err := json.Marshal(c); err == nil {
		ab.Detail = raw
	}
	return ab
}

// correlate returns Pearson's and Spearman's correlation of x and y, or nil
// when they cannot be computed (fewer than 3 pairs, a constant variable);
// the reason then goes in the verdict.
func (a *analyzer) correlate(x, y []float64) *Correlation {
	p, err := stats.Pearson(x, y)
	if err != nil {
		return nil
	}
	c := &Correlation{N: p.N, Pearson: p.R, PearsonP: p.P}
	if s, err := stats.Spearman(x, y); err == nil {
		c.Spearman, c.SpearmanP = s.R, s.P
	} else {
		c.Warnings = append(c.Warnings, "Spearman's ρ not computed: "+err.Error())
	}
	return c
}
