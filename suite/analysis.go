package suite

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"tr117/stats"
)

// minEffectN is the fewest values per side for which the report gives a
// standardized effect size (Hedges' g).
const minEffectN = 3

// minCIRuns is the fewest values from which the report shows a 95%
// interval without a warning: benchstat's (x/perf/benchmath) minimum for
// that level.
const minCIRuns = 6

// compare runs stats.Compare on b (candidate) against a (baseline); unit
// names what a value is ("runs", "agent runs") for the warnings. It
// returns nil when either side has fewer than two values: a comparison of
// single runs says nothing, and the report says so instead.
func (a *analyzer) compare(xa, xb []float64, labelA, labelB, unit string) *AB {
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
	if c.HedgesG != nil && min(c.NA, c.NB) < minEffectN {
		// Two values give a standard deviation of one degree of freedom:
		// two nearly equal runs made g = -235 out of a 0.01 pp difference.
		c.HedgesG = nil
		c.Warnings = append(c.Warnings, fmt.Sprintf("hedges' g not computed: fewer than %d values per side (%d vs %d) give no usable standard deviation", minEffectN, c.NB, c.NA))
	}
	ab.Warnings = plainWarnings(c.Warnings, ab, unit)
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

// Prefixes of plainWarnings' sample-size caveats.
const (
	tooFewPrefix    = "too few"
	fewerThanPrefix = "fewer than"
)

var (
	ciWarning    = regexp.MustCompile(`^(a|b): need >= (\d+) samples for confidence interval at level ([\d.]+)$`)
	alphaWarning = regexp.MustCompile(`^need >= (\d+) samples to detect a difference at alpha level ([\d.]+)$`)
)

// plainWarnings rewrites stats.Compare's caveats (benchstat's terse
// sample-size messages among them) into plain words about the numbers the
// report shows: the mean difference, its interval and Mann-Whitney's p.
// Caveats about numbers the report does not show (Welch's t, Hedges' g,
// ratios) are dropped.
func plainWarnings(ws []string, ab *AB, unit string) []string {
	var out []string
	ciNeed, ciSides, ciLevel := 0, []string{}, ""
	for _, w := range ws {
		switch {
		case strings.HasPrefix(w, "welch"), strings.HasPrefix(w, "hedges"), strings.Contains(w, "ratio not computed"):
		case ciWarning.MatchString(w):
			m := ciWarning.FindStringSubmatch(w)
			ciNeed, _ = strconv.Atoi(m[2])
			ciLevel = m[3]
			if m[1] == "a" {
				ciSides = append(ciSides, fmt.Sprintf("%s: %d", ab.A, ab.NA))
			} else {
				ciSides = append(ciSides, fmt.Sprintf("%s: %d", ab.B, ab.NB))
			}
		case alphaWarning.MatchString(w):
			m := alphaWarning.FindStringSubmatch(w)
			out = append(out, fmt.Sprintf(tooFewPrefix+" %s (%d vs %d) for any difference to reach significance at α = %s: fewer than %s per side can never give p below it", unit, ab.NA, ab.NB, m[2], m[1]))
		case strings.HasPrefix(w, "mann-whitney p-value is from the normal approximation"):
			out = append(out, fmt.Sprintf("tied values: the Mann-Whitney p is from the normal approximation, which is rough with this few %s", unit))
		default:
			out = append(out, w)
		}
	}
	if ciNeed > 0 {
		level := ciLevel
		if f, err := strconv.ParseFloat(ciLevel, 64); err == nil {
			level = strconv.FormatFloat(100*f, 'g', -1, 64) + "%"
		}
		out = append([]string{fmt.Sprintf(fewerThanPrefix+" %d %s per side (%s): the %s confidence interval is not reliable", ciNeed, unit, strings.Join(ciSides, ", "), level)}, out...)
	}
	return out
}
