package suite

import (
	"fmt"

	"tr117/stats"
)

// Question names what a [Verdict] answers. Each question's doc lists the
// [Verdict] fields it sets and the keys of its Facts.
type Question string

const (
	// QBufferEfficiency: does read buffer B change the seed efficiency
	// against A ("default")? Value, Interval and P are the mean
	// difference B − A in percentage points; Outcome met when p < Alpha
	// and the interval excludes 0. Facts: n_a, n_b, mean_a, mean_b and,
	// for the runs' median chunk parse times, parse_mean_a_ms,
	// parse_mean_b_ms, parse_lo_ms, parse_hi_ms, parse_level, parse_p,
	// parse_n_a, parse_n_b. No Value when a side has fewer than two runs.
	QBufferEfficiency Question = "buffer_efficiency"
	// QLagVsLoss: does per-run scheduler-lag p99 track the efficiency
	// loss? Value and P are Pearson's r against the true-efficiency loss,
	// Criterion [CorrelationCriterion]. Facts: true_pearson_r,
	// true_pearson_p, true_spearman_rho, true_spearman_p, and the seed_
	// twins for the seed-efficiency loss (each set when computed); runs,
	// runs_with_lag, lag_interval_ms, lag_samples_min, lag_samples_max,
	// stalls, stall_threshold_ms.
	QLagVsLoss Question = "lag_vs_efficiency_loss"
	// QTrueSpeedup: how much faster were the agents together than one
	// after the other? Value is the true speed-up. Facts: true_mean,
	// true_min, true_max, true_n (percent; absent without solo
	// baselines), seed_mean, seed_min, seed_max, balance_mean. No facts
	// when no MRI run finished.
	QTrueSpeedup Question = "true_speedup"
	// QCeilingKnee: at what CPU cost per message does a single-loop client
	// cap efficiency? Value is the knee in µs (nil when none), Criterion
	// [KneePP]. Facts: first_cost_us, first_true, last_cost_us,
	// last_true, saturation_us, client_cost_us.
	QCeilingKnee Question = "ceiling_knee"
	// QSweepCorrelation: loop-lag p99 against the efficiency loss named
	// by B ("true" or "seed") across the sweep's runs. Value and P are
	// Pearson's r; Facts: spearman_rho, spearman_p.
	QSweepCorrelation Question = "sweep_lag_correlation"
	// QNoGPU: no GPU sample was recorded; Reason says why. Facts: runs.
	QNoGPU Question = "no_gpu"
	// QGPU: what the GPU did for Model. Facts: samples, runs, power_mean_w,
	// power_max_w, util_mean, util_max, memory_max_mib, pcie_rx_mbps,
	// pcie_tx_mbps, j_per_token, redline_runs, redline_util,
	// redline_window_s (each set when measured).
	QGPU Question = "gpu"
	// QEvalRate: is model B slower than model A on the server? Value,
	// Interval and P are B − A in tokens per second. Facts: mean_a,
	// mean_b.
	QEvalRate Question = "eval_rate"
	// QThrottleEfficiency: does throttling (B, a rate) gain seed
	// efficiency against A (the baseline)? Value, Interval, P: the
	// difference in percentage points; Criterion [ThrottleCriterionPP].
	// Facts: rate_tps, mean_a, mean_b, n_a, n_b.
	QThrottleEfficiency Question = "throttle_efficiency"
	// QThrottleTrueEfficiency: as QThrottleEfficiency for the true
	// efficiency, without a criterion.
	QThrottleTrueEfficiency Question = "throttle_true_efficiency"
	// QBackPressure: did throttling the reader slow the server? Value is
	// the change of the server's eval rate in percent, P its p-value;
	// Outcome met when the change is significant. Facts: rate_tps,
	// mean_a, mean_b, cap_rate, client_rate, server_share.
	QBackPressure Question = "back_pressure"
	// QTokenizerGap: is a tokenizer (B) more than Criterion times slower
	// than another (A)? Value is the time ratio. Facts: tokens_per_sec_ratio,
	// fixtures (1 when fixtures stood in for the models), tokenizers.
	// Reason is set when the race left no results.
	QTokenizerGap Question = "tokenizer_gap"
)

// Outcome is what a verdict's evidence says about its criterion.
type Outcome string

const (
	// Described: the verdict describes; it holds nothing to a criterion.
	Described Outcome = ""
	// Met: the criterion is met, with significance where a test applies.
	Met Outcome = "met"
	// NotMet: the evidence says the criterion is not met.
	NotMet Outcome = "not_met"
	// NoEvidence: the data cannot decide (too few runs, not significant).
	NoEvidence Outcome = "no_evidence"
)

// Verdict is one answer as data: the question, what is compared, the
// value with its interval and p-value, n, the outcome and caveats.
// Renderers word it; [Verdict.Sentence] and [Verdict.Caveats] give the
// words report.md uses. Missing values are nil or absent from Facts.
type Verdict struct {
	Question Question `json:"question"`
	Model    string   `json:"model,omitempty"`
	// A and B name the compared sides, baseline first.
	A string `json:"a,omitempty"`
	B string `json:"b,omitempty"`
	// Reason says why the question has no answer, when it has none.
	Reason    string          `json:"reason,omitempty"`
	Criterion *float64        `json:"criterion,omitempty"`
	Value     *float64        `json:"value,omitempty"`
	Interval  *stats.Interval `json:"interval,omitempty"`
	P         *float64        `json:"p,omitempty"`
	N         int             `json:"n"`
	Outcome   Outcome         `json:"outcome,omitempty"`
	// Facts are the further numbers the answer rests on, by the names
	// its Question lists.
	Facts map[string]float64 `json:"facts,omitempty"`
	// Warnings are caveats: stats' (sample size, normal approximation,
	// undefined statistics) and the report's own ([SmallSampleWarning],
	// [TooFewRunsWarning], [LagCoverageWarning], [FewLagSamplesWarning],
	// [FewPassesWarning]).
	Warnings stats.Warnings `json:"warnings,omitempty"`
}

// fact returns Facts[k] and whether it is set.
func (v Verdict) fact(k string) (float64, bool) {
	x, ok := v.Facts[k]
	return x, ok
}

// f returns Facts[k], 0 when unset.
func (v Verdict) f(k string) float64 { return v.Facts[k] }

func (v *Verdict) set(k string, x float64) {
	if v.Facts == nil {
		v.Facts = map[string]float64{}
	}
	v.Facts[k] = x
}

func ptr[T any](x T) *T { return &x }

// SmallSampleWarning: N values (of What, such as "runs per buffer") are
// fewer than Min, the report's own threshold for a firm answer.
type SmallSampleWarning struct {
	N    int    `json:"n"`
	Min  int    `json:"min"`
	What string `json:"what"`
}

// WarningKind returns "small_sample".
func (SmallSampleWarning) WarningKind() string { return "small_sample" }

func (w SmallSampleWarning) Error() string {
	return fmt.Sprintf("n = %d %s is below %d: treat this as indicative only", w.N, w.What, w.Min)
}

// TooFewRunsWarning: a comparison was not made because a side has fewer
// than Need finished runs (NA baseline, NB candidate).
type TooFewRunsWarning struct {
	NA   int `json:"n_a"`
	NB   int `json:"n_b"`
	Need int `json:"need"`
}

// WarningKind returns "too_few_runs".
func (TooFewRunsWarning) WarningKind() string { return "too_few_runs" }

func (w TooFewRunsWarning) Error() string {
	if w.Need == 2 {
		return "each side needs at least two runs"
	}
	return fmt.Sprintf("each side needs at least %s", plural(w.Need, "run"))
}

// LagCoverageWarning: Without of Runs runs ended before their first
// scheduler-lag sample (taken every IntervalMs) and are left out.
type LagCoverageWarning struct {
	Without    int     `json:"without"`
	Runs       int     `json:"runs"`
	IntervalMs float64 `json:"interval_ms"`
}

// WarningKind returns "lag_coverage".
func (LagCoverageWarning) WarningKind() string { return "lag_coverage" }

func (w LagCoverageWarning) Error() string {
	return fmt.Sprintf("%d of %d runs ended before the first lag sample (every %gms) and are left out of the correlation: use a shorter lag interval", w.Without, w.Runs, w.IntervalMs)
}

// FewLagSamplesWarning: the shortest runs have only Min lag samples, so
// their p99 is about their maximum.
type FewLagSamplesWarning struct {
	Min int `json:"min"`
}

// WarningKind returns "few_lag_samples".
func (FewLagSamplesWarning) WarningKind() string { return "few_lag_samples" }

func (w FewLagSamplesWarning) Error() string {
	return fmt.Sprintf("the shortest runs have only %d lag sample(s): their p99 is about their maximum", w.Min)
}

// FewPassesWarning: the tokenizer race timed only Passes passes per
// tokenizer.
type FewPassesWarning struct {
	Passes int `json:"passes"`
}

// WarningKind returns "few_passes".
func (FewPassesWarning) WarningKind() string { return "few_passes" }

func (w FewPassesWarning) Error() string {
	return fmt.Sprintf("%d timed passes per tokenizer: too few to trust the ratio", w.Passes)
}
