package suite

import (
	"encoding/json"

	"tr117/stats"
)

// minEffectN is the fewest values per side for which the report gives a
// standardized effect size (Hedges' g).
const minEffectN = 3

// minCIRuns is the fewest values from which the report shows a 95%
// interval without a warning: stats.IntervalNeed(0.95), benchstat's
// minimum for that level.
const minCIRuns = 6

// compare runs stats.Compare on b (candidate) against a (baseline). It
// returns nil when either side has fewer than two values: a comparison of
// single runs says nothing, and the report says so instead.
func (a *analyzer) compare(xa, xb []float64, labelA, labelB string) *AB {
	if len(xa) < 2 || len(xb) < 2 {
		return nil
	}
	c, err := stats.Compare(xa, xb, stats.CompareConfig{Alpha: Alpha, Bootstrap: a.cfg.Bootstrap})
	if err != nil {
		return nil
	}
	ab := &AB{
		A: labelA, B: labelB,
		NA: c.NA, NB: c.NB, MeanA: c.MeanA, MeanB: c.MeanB,
		Diff:     c.MeanDiff,
		PValue:   c.MannWhitney.P,
		Warnings: shownWarnings(c.Warnings),
	}
	if c.Welch != nil {
		p := c.Welch.P
		ab.WelchP = &p
	}
	if c.HedgesG != nil && min(c.NA, c.NB) < minEffectN {
		// Two values give a standard deviation of one degree of freedom:
		// two nearly equal runs made g = -235 out of a 0.01 pp difference.
		c.HedgesG = nil
		c.Warnings = append(c.Warnings, stats.UndefinedWarning{Stat: stats.StatHedgesG, Reason: "fewer than 3 values per side give no usable standard deviation"})
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

// shownWarnings keeps the caveats about the numbers the report shows (the
// mean difference, its interval and Mann-Whitney's p); those about
// Welch's t, Hedges' g and the ratios, which it does not show, are dropped.
func shownWarnings(ws stats.Warnings) stats.Warnings {
	var out stats.Warnings
	for _, w := range ws {
		if u, ok := w.(stats.UndefinedWarning); ok && u.Stat != stats.StatMannWhitney && u.Stat != stats.StatDifferences {
			continue
		}
		out = append(out, w)
	}
	return out
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
		c.Warnings = append(c.Warnings, stats.UndefinedWarning{Stat: stats.StatSpearman, Reason: err.Error()})
	}
	return c
}

// abWarnings is an A/B verdict's caveats: stats', and the report's own
// small-n warning when stats has no sample-size caveat. Of the
// sample-size caveats only the strongest is kept: "no difference can be
// significant" implies "the interval is not reliable", which implies "n
// is small".
func (a *analyzer) abWarnings(e *AB, what string) stats.Warnings {
	var out stats.Warnings
	var size stats.Warning
	for _, w := range e.Warnings {
		s, ok := w.(stats.SampleSizeWarning)
		if !ok {
			out = append(out, w)
			continue
		}
		if size == nil || s.For == stats.ForSignificance {
			size = s
		}
	}
	if size == nil {
		return append(a.smallN(min(e.NA, e.NB), what), out...)
	}
	return append(stats.Warnings{size}, out...)
}
