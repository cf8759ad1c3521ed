package suite

import (
	"math"

	"tr117/stats"
)

// Criteria of the concurrency answers.
const (
	// KneePP is the fall in true efficiency, in percentage points below
	// the cost-0 condition, at which the ceiling sweep places the knee.
	KneePP = 5.0
	// BalanceNearPP: an efficiency_percent within this many points of its
	// balance bound is explained by the agents' length difference.
	BalanceNearPP = 3.0
)

// ConditionLatency is one condition's per-stream latencies: TTFT and TPOT
// have one value per agent and run; ITLP50 and ITLP99 summarise each
// stream's own ITL p50 and p99 (one value per agent and run).
type ConditionLatency struct {
	Phase     Phase          `json:"phase"`
	Model     string         `json:"model"`
	Condition string         `json:"condition"`
	Runs      int            `json:"runs"`
	TTFTms    *stats.Summary `json:"ttft_ms"`
	TPOTms    *stats.Summary `json:"tpot_ms"`
	ITLP50ms  *stats.Summary `json:"itl_p50_ms"`
	ITLP99ms  *stats.Summary `json:"itl_p99_ms"`
}

// latency summarises the streams of ds (successful agents only).
func latency(phase Phase, model, cond string, ds []*runData) ConditionLatency {
	cl := ConditionLatency{Phase: phase, Model: model, Condition: cond, Runs: len(ds)}
	var ttft, tpot, p50, p99 []float64
	for _, d := range ds {
		for _, ag := range d.Agents() {
			if ag.Error != "" {
				continue
			}
			m := ag.Metrics
			if m.TTFTMS != nil {
				ttft = append(ttft, *m.TTFTMS)
			}
			if m.TPOTMS != nil {
				tpot = append(tpot, *m.TPOTMS)
			}
			if m.ITLMS != nil {
				p50, p99 = append(p50, m.ITLMS.P50), append(p99, m.ITLMS.P99)
			}
		}
	}
	cl.TTFTms, cl.TPOTms, cl.ITLP50ms, cl.ITLP99ms = summarize(ttft), summarize(tpot), summarize(p50), summarize(p99)
	return cl
}

// latencies lists every measured condition of the plan.
func (a *analyzer) latencies() []ConditionLatency {
	var out []ConditionLatency
	p := a.plan
	if !p.MRI.Skip {
		for _, m := range p.MRI.Models {
			for _, b := range p.MRI.Buffers {
				out = append(out, latency(PhaseMRI, m, b.Dir(), a.runs(PhaseMRI, m, func(r Run) bool { return r.Buffer == b })))
			}
		}
	}
	if p.Ceiling.Run {
		for _, c := range p.Ceiling.Costs {
			out = append(out, latency(PhaseCeiling, p.Ceiling.Model, costDir(c), a.runs(PhaseCeiling, p.Ceiling.Model, func(r Run) bool { return r.Cost == c })))
		}
	}
	if !p.Throttle.Skip {
		for _, m := range p.Throttle.Models {
			for _, rt := range p.Throttle.Rates {
				out = append(out, latency(PhaseThrottle, m, rateDir(rt), a.runs(PhaseThrottle, m, func(r Run) bool { return r.Rate == rt })))
			}
		}
	}
	if !p.Hardware.Skip && p.Hardware.CommandTemplate == "" {
		for _, m := range p.Hardware.Models {
			out = append(out, latency(PhaseHardware, m, "", a.runs(PhaseHardware, m, nil)))
		}
	}
	return out
}

// CeilingSweep is the client-ceiling experiment: true efficiency against
// the consumer's CPU cost per message on a single event loop.
type CeilingSweep struct {
	Model string        `json:"model"`
	Costs []CeilingCost `json:"costs"`
	// KneeUS is the smallest cost whose mean true efficiency is KneePP
	// points or more below the cost-0 condition's; nil when none is.
	KneeUS *float64 `json:"knee_us"`
	// SaturationUS is the cost at which the loop would be busy all the
	// time at the cost-0 condition's message rate (both agents):
	// 1e6 / messages per second.
	SaturationUS *float64 `json:"saturation_us"`
	// ClientCostUS is tr117's own measured handling time per message:
	// the parse time of every transport read over the messages, in the
	// MRI and cost-0 runs.
	ClientCostUS *float64 `json:"client_cost_us"`
	// LagVsTrueLoss correlates per-run loop-lag p99 with 100 − true
	// efficiency; LagVsSeedLoss with 100 − efficiency_percent.
	LagVsTrueLoss *Correlation `json:"lag_p99_vs_true_efficiency_loss,omitempty"`
	LagVsSeedLoss *Correlation `json:"lag_p99_vs_seed_efficiency_loss,omitempty"`
	Verdicts      []Verdict    `json:"verdicts"`
}

// CeilingCost is one consumer cost of the sweep. Lag summaries have one
// value per run (that run's p50 or p99); rates are per run, both agents.
type CeilingCost struct {
	CostUS         float64        `json:"cost_us"`
	Runs           int            `json:"runs"`
	Failed         int            `json:"failed_runs"`
	TrueEfficiency *stats.Summary `json:"true_efficiency_percent"`
	SeedEfficiency *stats.Summary `json:"efficiency_percent"`
	BalanceBound   *stats.Summary `json:"balance_bound_percent"`
	LagP50ms       *stats.Summary `json:"lag_p50_ms"`
	LagP99ms       *stats.Summary `json:"lag_p99_ms"`
	ChunksPerSec   *stats.Summary `json:"chunks_per_sec"`
	MessagesPerSec *stats.Summary `json:"messages_per_sec"`
}

// values returns f of every run in ds that is not NaN.
func values(ds []*runData, f func(*runData) float64) []float64 {
	var out []float64
	for _, d := range ds {
		if v := f(d); !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

// perSecond is the run's count (of both agents) per second of wall time.
func perSecond(d *runData, count func(*runData) int) float64 {
	if d.Result == nil || d.Result.ConcurrentWallTimeMS <= 0 {
		return math.NaN()
	}
	return float64(count(d)) / (d.Result.ConcurrentWallTimeMS / 1000)
}

func chunksOf(d *runData) int {
	n := 0
	for _, ag := range d.Agents() {
		n += ag.Metrics.Chunks
	}
	return n
}

func messagesOf(d *runData) int {
	n := 0
	for _, ag := range d.Agents() {
		n += ag.Metrics.Messages
	}
	return n
}

func lagPercentile(q float64) func(*runData) float64 {
	return func(d *runData) float64 {
		v, err := stats.Percentile(d.LagMs, q)
		if err != nil {
			return math.NaN()
		}
		return v
	}
}

// sweep analyses the ceiling phase.
func (a *analyzer) sweep() *CeilingSweep {
	p := a.plan.Ceiling
	cs := &CeilingSweep{Model: p.Model}
	var lagP99, trueLoss, lagP99s, seedLoss []float64
	var all []*runData
	for _, c := range p.Costs {
		isC := func(r Run) bool { return r.Cost == c }
		ds := a.runs(PhaseCeiling, p.Model, isC)
		all = append(all, ds...)
		cc := CeilingCost{CostUS: float64(c.D().Nanoseconds()) / 1e3, Runs: len(ds), Failed: a.failedRuns(PhaseCeiling, p.Model, isC)}
		cc.TrueEfficiency = summarize(values(ds, (*runData).TrueEfficiency))
		cc.SeedEfficiency = summarize(efficiencies(ds))
		cc.BalanceBound = summarize(values(ds, (*runData).BalanceBound))
		cc.LagP50ms = summarize(values(ds, lagPercentile(50)))
		cc.LagP99ms = summarize(values(ds, lagPercentile(99)))
		cc.ChunksPerSec = summarize(values(ds, func(d *runData) float64 { return perSecond(d, chunksOf) }))
		cc.MessagesPerSec = summarize(values(ds, func(d *runData) float64 { return perSecond(d, messagesOf) }))
		cs.Costs = append(cs.Costs, cc)
		for _, d := range ds {
			l := lagPercentile(99)(d)
			if math.IsNaN(l) {
				continue
			}
			if e := d.TrueEfficiency(); !math.IsNaN(e) {
				lagP99, trueLoss = append(lagP99, l), append(trueLoss, 100-e)
			}
			if e := d.Efficiency(); !math.IsNaN(e) {
				lagP99s, seedLoss = append(lagP99s, l), append(seedLoss, 100-e)
			}
		}
	}
	cs.LagVsTrueLoss, cs.LagVsSeedLoss = a.correlate(lagP99, trueLoss), a.correlate(lagP99s, seedLoss)
	cs.KneeUS, cs.SaturationUS = knee(cs.Costs)
	cs.ClientCostUS = a.clientCost()
	cs.Verdicts = a.sweepVerdicts(cs)
	return cs
}

// knee finds the first cost whose mean true efficiency is KneePP below the
// cost-0 condition's (the first condition, when none has cost 0), and the
// loop's saturation cost at that condition's message rate.
func knee(cs []CeilingCost) (kneeUS, satUS *float64) {
	base := -1
	for i, c := range cs {
		if c.TrueEfficiency != nil && (base < 0 || c.CostUS < cs[base].CostUS) {
			base = i
		}
	}
	if base < 0 {
		return nil, nil
	}
	if m := cs[base].MessagesPerSec; m != nil && m.Mean > 0 {
		v := 1e6 / m.Mean
		satUS = &v
	}
	for _, c := range cs {
		if c.TrueEfficiency != nil && c.CostUS > cs[base].CostUS && c.TrueEfficiency.Mean <= cs[base].TrueEfficiency.Mean-KneePP {
			if kneeUS == nil || c.CostUS < *kneeUS {
				v := c.CostUS
				kneeUS = &v
			}
		}
	}
	return kneeUS, satUS
}

// clientCost is tr117's parse time per message over the MRI runs and the
// sweep's cost-0 runs, in µs; nil without messages.
func (a *analyzer) clientCost() *float64 {
	var parseMs float64
	msgs := 0
	for _, d := range a.data {
		if d.Run.Phase != PhaseMRI && (d.Run.Phase != PhaseCeiling || d.Run.Cost != 0) {
			continue
		}
		for _, p := range d.ChunkParseMs {
			parseMs += p
		}
		msgs += messagesOf(d)
	}
	if msgs == 0 {
		return nil
	}
	v := parseMs * 1e3 / float64(msgs)
	return &v
}

// sweepVerdicts states where the client starts to cap efficiency.
func (a *analyzer) sweepVerdicts(cs *CeilingSweep) []Verdict {
	var first, last *CeilingCost
	n := 0
	for i := range cs.Costs {
		c := &cs.Costs[i]
		if c.TrueEfficiency == nil {
			continue
		}
		n += c.TrueEfficiency.N
		if first == nil {
			first = c
		}
		last = c
	}
	v := Verdict{Question: QCeilingKnee, Model: cs.Model, Criterion: ptr(KneePP)}
	if first == nil {
		v.Reason = "no ceiling-sweep run has a true efficiency (solo baselines off, or every run failed)"
		return []Verdict{v}
	}
	v.N, v.Warnings, v.Value = n, a.smallN(first.TrueEfficiency.N, "runs per cost"), cs.KneeUS
	v.set("first_cost_us", first.CostUS)
	v.set("first_true", first.TrueEfficiency.Mean)
	v.set("last_cost_us", last.CostUS)
	v.set("last_true", last.TrueEfficiency.Mean)
	if cs.SaturationUS != nil {
		v.set("saturation_us", *cs.SaturationUS)
	}
	if cs.ClientCostUS != nil {
		v.set("client_cost_us", *cs.ClientCostUS)
	}
	vs := []Verdict{v}
	for _, c := range []struct {
		loss string
		c    *Correlation
	}{{"true", cs.LagVsTrueLoss}, {"seed", cs.LagVsSeedLoss}} {
		if c.c == nil {
			continue
		}
		cv := Verdict{Question: QSweepCorrelation, Model: cs.Model, B: c.loss, Value: ptr(c.c.Pearson), P: ptr(c.c.PearsonP), N: c.c.N, Warnings: c.c.Warnings}
		cv.set("spearman_rho", c.c.Spearman)
		cv.set("spearman_p", c.c.SpearmanP)
		vs = append(vs, cv)
	}
	return vs
}
