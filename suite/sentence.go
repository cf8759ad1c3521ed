package suite

import (
	"fmt"
	"math"
	"strings"

	"tr117/stats"
)

// Sentence words the verdict as report.md does: one paragraph of plain
// English made from its values. It does not include the caveats (see
// [Verdict.Caveats]) or n.
func (v Verdict) Sentence() string {
	switch v.Question {
	case QBufferEfficiency:
		return v.bufferSentence()
	case QLagVsLoss:
		return v.lagSentence()
	case QTrueSpeedup:
		return v.speedupSentence()
	case QCeilingKnee:
		return v.kneeSentence()
	case QSweepCorrelation:
		return v.sweepCorrelationSentence()
	case QNoGPU:
		return fmt.Sprintf("No GPU: %s. The %d hardware runs ran without GPU telemetry, so power, utilisation, memory, PCIe and energy per token are unmeasured on this machine.", v.Reason, int(v.f("runs")))
	case QGPU:
		return v.gpuSentence()
	case QEvalRate:
		return fmt.Sprintf("Server eval rate: %s %.1f tok/s vs %s %.1f tok/s (difference %s; Mann-Whitney p %s).", v.A, v.f("mean_a"), v.B, v.f("mean_b"), ciText(*v.Interval, "tok/s"), pv(*v.P))
	case QThrottleEfficiency:
		return v.throttleSentence()
	case QThrottleTrueEfficiency:
		s := fmt.Sprintf("%s: true efficiency throttled %.2f%% vs %.2f%% unthrottled: %s pp (%s; Mann-Whitney p %s).", v.Model, v.f("mean_b"), v.f("mean_a"), diffText(*v.Interval), ciText(*v.Interval, "pp"), pv(*v.P))
		if v.f("mean_b") > 90 {
			s += " Throttled, each reader is paced by its cap alone and together alike, so its streams take about tokens / rate either way: a true efficiency near (or a hair above) 100 % shows the cap set the pace, not that the server ran the agents in parallel."
		}
		return s
	case QBackPressure:
		return v.backPressureSentence()
	case QTokenizerGap:
		return v.tokenizerSentence()
	}
	return fmt.Sprintf("%s: %s", v.Question, v.Model)
}

// Caveats words the verdict's warnings for a reader, without repeats.
func (v Verdict) Caveats() []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range v.Warnings {
		s := v.caveat(w)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// caveat words one warning; sample sizes are named by the verdict's sides.
func (v Verdict) caveat(w stats.Warning) string {
	switch w := w.(type) {
	case stats.SampleSizeWarning:
		if w.For == stats.ForSignificance {
			return fmt.Sprintf("too few runs (%d vs %d) for any difference to reach significance at α = %g: fewer than %d per side can never give p below it", w.NA, w.NB, w.Level, w.Need)
		}
		var sides []string
		if w.Side != stats.SideB {
			sides = append(sides, fmt.Sprintf("%s: %d", v.A, w.NA))
		}
		if w.Side != stats.SideA {
			sides = append(sides, fmt.Sprintf("%s: %d", v.B, w.NB))
		}
		return fmt.Sprintf("fewer than %d runs per side (%s): the %g%% confidence interval is not reliable", w.Need, strings.Join(sides, ", "), 100*w.Level)
	case stats.NormalApproxWarning:
		return "tied values: the Mann-Whitney p is from the normal approximation, which is rough with this few runs"
	}
	return w.Error()
}

func (v Verdict) bufferSentence() string {
	if v.Value == nil {
		return fmt.Sprintf("%s, read buffer %s vs default: not enough finished runs to compare efficiency (%d vs %d).", v.Model, v.B, int(v.f("n_a")), int(v.f("n_b")))
	}
	iv := *v.Interval
	var s string
	switch {
	case v.Outcome == Met:
		s = fmt.Sprintf("%s: read buffer %s changes the seed efficiency by %s pp (%.2f%% → %.2f%%; %s; Mann-Whitney p %s).", v.Model, v.B, diffText(iv), v.f("mean_a"), v.f("mean_b"), ciText(iv, "pp"), pv(*v.P))
	case !iv.Contains(0):
		s = fmt.Sprintf("%s: read buffer %s moves the seed efficiency by %s pp (%.2f%% → %.2f%%; %s, which excludes 0), but Mann-Whitney p %s is not below α = %g%s: the change is not established.", v.Model, v.B, diffText(iv), v.f("mean_a"), v.f("mean_b"), ciText(iv, "pp"), pv(*v.P), Alpha, v.unreachable())
	default:
		s = fmt.Sprintf("%s: no evidence that read buffer %s changes the seed efficiency: %s pp (%s; Mann-Whitney p %s).", v.Model, v.B, diffText(iv), ciText(iv, "pp"), pv(*v.P))
	}
	if lo, ok := v.fact("parse_lo_ms"); ok {
		piv := stats.Interval{Lo: lo, Hi: v.f("parse_hi_ms"), Level: v.f("parse_level")}
		s += fmt.Sprintf(" Median chunk parse time per run: %.4f ms → %.4f ms (%s; p %s; %d vs %d runs).", v.f("parse_mean_a_ms"), v.f("parse_mean_b_ms"), ciText(piv, "ms"), pv(v.f("parse_p")), int(v.f("parse_n_a")), int(v.f("parse_n_b")))
	}
	return s
}

// unreachable says why a test could not reach significance, when its
// sample sizes make it impossible: " (with 2 vs 2 runs it cannot: it
// needs 4 per side)".
func (v Verdict) unreachable() string {
	for _, w := range v.Warnings {
		if s, ok := w.(stats.SampleSizeWarning); ok && s.For == stats.ForSignificance {
			return fmt.Sprintf(" (with %d vs %d runs it cannot be: it needs %d per side)", s.NA, s.NB, s.Need)
		}
	}
	return ""
}

func (v Verdict) lagSentence() string {
	interval := fmt.Sprintf("%gms", v.f("lag_interval_ms"))
	samples := fmt.Sprintf(" Lag samples per run (every %s): none.", interval)
	if lo, ok := v.fact("lag_samples_min"); ok {
		if hi := v.f("lag_samples_max"); hi != lo {
			samples = fmt.Sprintf(" Lag samples per run (every %s): %d to %d.", interval, int(lo), int(hi))
		} else {
			samples = fmt.Sprintf(" Lag samples per run (every %s): %d.", interval, int(lo))
		}
	}
	if v.Reason != "" {
		return fmt.Sprintf("%s: lag p99 vs efficiency loss: not computed: %s (%d of %d runs have lag samples).%s", v.Model, v.Reason, int(v.f("runs_with_lag")), int(v.f("runs")), samples)
	}
	var s string
	if r, ok := v.fact("true_pearson_r"); ok {
		word := "not met"
		if v.Outcome == Met {
			word = "met"
		}
		s = fmt.Sprintf("%s: scheduler-lag p99 vs true-efficiency loss across runs: Pearson r = %.3f (p %s), Spearman ρ = %.3f (p %s); the criterion r > %.1f (client lag explains the loss) is %s.",
			v.Model, r, pv(v.f("true_pearson_p")), v.f("true_spearman_rho"), pv(v.f("true_spearman_p")), CorrelationCriterion, word)
	} else {
		s = fmt.Sprintf("%s: no true efficiency (no solo baselines): lag cannot be set against the real loss.", v.Model)
	}
	if r, ok := v.fact("seed_pearson_r"); ok {
		s += fmt.Sprintf(" Against the seed's efficiency loss instead (which contention does not move): Pearson r = %.3f (p %s), Spearman ρ = %.3f (p %s).",
			r, pv(v.f("seed_pearson_p")), v.f("seed_spearman_rho"), pv(v.f("seed_spearman_p")))
	}
	return s + fmt.Sprintf(" Stall events (lag > %.0f ms): %d.", v.f("stall_threshold_ms"), int(v.f("stalls"))) + samples
}

func (v Verdict) speedupSentence() string {
	if v.Reason != "" {
		return fmt.Sprintf("%s: %s: the client ceiling is unmeasured.", v.Model, v.Reason)
	}
	var s string
	if v.Value != nil {
		s = fmt.Sprintf("%s: running the agents together was %.2f× as fast as running them one after the other (true efficiency %.1f%% mean, min %.1f%%, max %.1f%%, over %d runs).",
			v.Model, *v.Value, v.f("true_mean"), v.f("true_min"), v.f("true_max"), int(v.f("true_n")))
	} else {
		s = fmt.Sprintf("%s: no solo baselines, so the true speed-up is unmeasured; the seed's efficiency below cannot tell contention from client cost.", v.Model)
	}
	seed := v.f("seed_mean")
	s += fmt.Sprintf(" The seed's efficiency reads %.1f%% (min %.1f%%, max %.1f%%)", seed, v.f("seed_min"), v.f("seed_max"))
	if b, ok := v.fact("balance_mean"); ok {
		s += fmt.Sprintf(" against a balance bound of %.1f%%", b)
		if b-seed <= BalanceNearPP && b <= 100-BalanceNearPP {
			s += fmt.Sprintf(": within %.0f points of it, so its shortfall from 100%% is the agents' length difference, not the client", BalanceNearPP)
		}
	}
	return s + "."
}

func (v Verdict) kneeSentence() string {
	if v.Reason != "" {
		return fmt.Sprintf("%s: %s: the sweep answers nothing.", v.Model, v.Reason)
	}
	first, last := v.f("first_cost_us"), v.f("last_cost_us")
	s := fmt.Sprintf("%s on a single event loop: true efficiency %.1f%% at %g µs of CPU work per message, %.1f%% at %g µs.",
		v.Model, v.f("first_true"), first, v.f("last_true"), last)
	if v.Value != nil {
		s += fmt.Sprintf(" The knee (true efficiency %.0f points below %g µs) is at %g µs per message.", KneePP, first, *v.Value)
	} else {
		s += fmt.Sprintf(" True efficiency stays within %.0f points up to %g µs: no knee in the swept range.", KneePP, last)
	}
	if sat, ok := v.fact("saturation_us"); ok {
		s += fmt.Sprintf(" At the measured rate of %.0f messages/s (both agents), one loop is fully busy at about %.0f µs per message.", 1e6/sat, sat)
	}
	cost, haveCost := v.fact("client_cost_us")
	if haveCost {
		s += fmt.Sprintf(" tr117's own measured handling cost is %.1f µs per message", cost)
		if v.Value != nil {
			s += fmt.Sprintf(", %.0f× below the knee", *v.Value/cost)
		}
		s += "."
	}
	if v.Value != nil {
		s += fmt.Sprintf(" So at this token rate a single-loop client caps multi-agent efficiency once it spends about %g µs per message", *v.Value)
		if haveCost && cost < *v.Value {
			s += "; tr117 does not"
		}
		s += "."
	}
	return s
}

func (v Verdict) sweepCorrelationSentence() string {
	what := "true-efficiency loss"
	if v.B == "seed" {
		what = "seed-efficiency loss (labelled: that number cannot see contention)"
	}
	return fmt.Sprintf("%s sweep: loop-lag p99 vs %s across runs: Pearson r = %.3f (p %s), Spearman ρ = %.3f (p %s).",
		v.Model, what, *v.Value, pv(*v.P), v.f("spearman_rho"), pv(v.f("spearman_p")))
}

func (v Verdict) gpuSentence() string {
	if v.f("samples") == 0 {
		return fmt.Sprintf("%s: no GPU samples.", v.Model)
	}
	var parts []string
	if w, ok := v.fact("power_mean_w"); ok {
		parts = append(parts, fmt.Sprintf("power mean %.1f W (max %.1f W)", w, v.f("power_max_w")))
	}
	if u, ok := v.fact("util_mean"); ok {
		parts = append(parts, fmt.Sprintf("GPU utilisation mean %.1f%% (max %.1f%%)", u, v.f("util_max")))
	}
	if m, ok := v.fact("memory_max_mib"); ok {
		parts = append(parts, fmt.Sprintf("memory max %.0f MiB", m))
	}
	if rx, ok := v.fact("pcie_rx_mbps"); ok {
		parts = append(parts, fmt.Sprintf("PCIe RX/TX mean %.1f/%.1f MB/s", rx, v.f("pcie_tx_mbps")))
	} else {
		parts = append(parts, "PCIe unmeasured (only NVML reports it)")
	}
	if j, ok := v.fact("j_per_token"); ok {
		parts = append(parts, fmt.Sprintf("%.3f J per token", j))
	}
	red := "not redlining"
	if n := int(v.f("redline_runs")); n > 0 {
		red = fmt.Sprintf("redlining (≥ %.0f%% utilisation for ≥ %gs) in %d of %d runs", v.f("redline_util"), v.f("redline_window_s"), n, int(v.f("runs")))
	}
	return fmt.Sprintf("%s: %s; %s.", v.Model, strings.Join(parts, ", "), red)
}

func (v Verdict) throttleSentence() string {
	if v.Value == nil {
		return fmt.Sprintf("%s at %s: not enough finished runs to compare efficiency with %s (%d throttled vs %d baseline runs).", v.Model, v.B, v.A, int(v.f("n_b")), int(v.f("n_a")))
	}
	word := "not met"
	switch {
	case v.Outcome == Met:
		word = "met"
	case v.Outcome == NoEvidence:
		word = "not established: the gain is large enough but not significant" + v.unreachable()
	}
	iv := *v.Interval
	return fmt.Sprintf("%s: throttled to %g tok/s, seed efficiency %.2f%% vs %.2f%% unthrottled (%s): %s pp (%s; Mann-Whitney p %s). The seed's criterion (throttling gains ≥ %.0f pp) is %s.",
		v.Model, v.f("rate_tps"), v.f("mean_b"), v.f("mean_a"), v.A, diffText(iv), ciText(iv, "pp"), pv(*v.P), *v.Criterion, word)
}

func (v Verdict) backPressureSentence() string {
	change := *v.Value
	what := fmt.Sprintf("the server's eval rate changed by %+.1f%%, which is not significant: no evidence that back-pressure slowed generation", change)
	if v.Outcome == Met {
		what = fmt.Sprintf("the server's eval rate changed by %+.1f%%: back-pressure from the reader reached the GPU", change)
	}
	s := fmt.Sprintf("%s under back-pressure: server eval rate %.1f tok/s throttled vs %.1f tok/s unthrottled (p %s); %s.", v.Model, v.f("mean_b"), v.f("mean_a"), pv(*v.P), what)
	rate := v.f("rate_tps")
	client, haveClient := v.fact("client_rate")
	if capRate, ok := v.fact("cap_rate"); ok {
		s += fmt.Sprintf(" Achieved reader rate after the first token, (tokens − 1) / (total − TTFT): %.1f tok/s per agent (cap %g)", capRate, rate)
		if rate > 0 && capRate > 1.02*rate {
			s += "; above the cap by the bucket's burst: the reader may take up to one second of tokens at once, saved up while it waited for the first"
		}
		if haveClient {
			s += fmt.Sprintf("; plain tokens / total: %.1f tok/s (its window includes the TTFT)", client)
		}
		s += "."
	} else if haveClient {
		s += fmt.Sprintf(" Achieved client rate, plain tokens / total: %.1f tok/s per agent (cap %g).", client, rate)
	}
	if share, ok := v.fact("server_share"); ok {
		s += fmt.Sprintf(" The server's total_duration was %.0f%% of the client's total time", 100*share)
		if share < 0.9 {
			s += ": the server finished early and socket buffers held the rest"
		}
		s += "."
	}
	return s
}

func (v Verdict) tokenizerSentence() string {
	if v.Reason != "" {
		return "Tokenizer race: " + v.Reason + "."
	}
	if v.Value == nil {
		return fmt.Sprintf("Tokenizer race: %d tokenizer(s) measured; the 2× rule needs two.", int(v.f("tokenizers")))
	}
	ratio, factor := *v.Value, *v.Criterion
	switch {
	case v.f("fixtures") == 1:
		return fmt.Sprintf("Tokenizers: the widest gap is %s at %.2f× the time of %s, but module-cache fixtures stand in for the plan's models here, so the seed's 2× rule says nothing about them: not a finding.", v.B, ratio, v.A)
	case v.Outcome == Met:
		return fmt.Sprintf("Tokenizers: %s takes %.2f× as long as %s to encode the same corpus (%.2f× fewer tokens/s): more than %g×, so by the seed's rule its tokenizer is a CPU bottleneck candidate.", v.B, ratio, v.A, v.f("tokens_per_sec_ratio"), factor)
	}
	return fmt.Sprintf("Tokenizers: the widest gap is %s at %.2f× the time of %s: within %g×, so by the seed's rule tokenization does not explain a slowdown.", v.B, ratio, v.A, factor)
}

// pv writes a p-value for a sentence: "= 0.0159", or "< 0.001" below
// that (report.json keeps the exact value).
func pv(p float64) string {
	if p < 0.001 {
		return "< 0.001"
	}
	return fmt.Sprintf("= %.3g", p)
}

func ciText(iv stats.Interval, unit string) string {
	prec := ivPrec(iv)
	return fmt.Sprintf("%g%% CI [%+.*f, %+.*f] %s", 100*iv.Level, prec, iv.Lo, prec, iv.Hi, unit)
}

// ivPrec is 2 decimals, or 4 when the interval lies within ±0.1 and would
// print as ±0.00.
func ivPrec(iv stats.Interval) int {
	if w := math.Max(math.Abs(iv.Lo), math.Abs(iv.Hi)); w > 0 && w < 0.1 {
		return 4
	}
	return 2
}

// diffText formats an interval's estimate with ciText's precision, so a
// verdict's difference agrees with its interval and the table.
func diffText(iv stats.Interval) string {
	return fmt.Sprintf("%+.*f", ivPrec(iv), iv.Estimate)
}
