package load

import (
	"math"
	"time"

	"tr117/stats"
)

// VLLMMeta is what a vLLM result names besides the measurements.
//
// It is plain data, safe for concurrent use.
type VLLMMeta struct {
	// Date is when the run started.
	Date time.Time
	// Backend names the server kind ("ollama", "openai-chat").
	Backend string
	// Model is the model asked for.
	Model string
	// RequestRate is the requested rate; 0 is written as "inf", as vLLM
	// does for a run without a rate limit (a closed loop).
	RequestRate float64
	// Burstiness is the gamma shape (1 for Poisson and constant runs).
	Burstiness float64
	// MaxConcurrency is the cap on requests in flight; 0 writes null.
	MaxConcurrency int
	// Goodput says whether limits were given (request_goodput is null
	// otherwise).
	Goodput bool
}

// vllmPercentiles are the percentiles written as p<P>_<metric>_ms.
var vllmPercentiles = []float64{50, 90, 95, 99, 99.9}

// VLLMResult returns the result JSON of vllm bench serve --save-result
// for recs and their summary s: the same key names, with times in seconds
// in the per-request lists (ttfts, itls) and milliseconds in the
// mean/median/std/p<P> keys, as vLLM writes them. generated_texts holds
// empty strings: the load generator does not keep the responses.
func VLLMResult(meta VLLMMeta, recs []Record, s Summary) map[string]any {
	var rate any = "inf"
	if meta.RequestRate > 0 {
		rate = meta.RequestRate
	}
	var maxConc any
	if meta.MaxConcurrency > 0 {
		maxConc = meta.MaxConcurrency
	}
	burst := meta.Burstiness
	if burst == 0 {
		burst = 1
	}
	var goodput any
	if meta.Goodput && s.Goodput != nil {
		goodput = s.Goodput.Rate
	}
	inputs, outputs := make([]int, len(recs)), make([]int, len(recs))
	ttfts, itls := make([]float64, len(recs)), make([][]float64, len(recs))
	texts, errs := make([]string, len(recs)), make([]string, len(recs))
	for i := range recs {
		r := &recs[i]
		inputs[i], outputs[i], errs[i] = r.InputTokens, r.TokensGenerated, r.Error
		if r.TTFTMS != nil && r.OK() {
			ttfts[i] = *r.TTFTMS / 1000
		}
		itls[i] = make([]float64, len(r.ITLMS))
		for j, v := range r.ITLMS {
			itls[i][j] = v / 1000
		}
	}
	out := map[string]any{
		"date":                   meta.Date.Format("20060102-150405"),
		"backend":                meta.Backend,
		"model_id":               meta.Model,
		"tokenizer_id":           meta.Model,
		"num_prompts":            len(recs),
		"request_rate":           rate,
		"burstiness":             burst,
		"max_concurrency":        maxConc,
		"duration":               s.DurationS,
		"completed":              s.Completed,
		"failed":                 s.Failed,
		"total_input_tokens":     s.TotalInputTokens,
		"total_output_tokens":    s.TotalOutputTokens,
		"request_throughput":     s.RequestThroughput,
		"request_goodput":        goodput,
		"output_throughput":      s.OutputTokensPerSecond,
		"total_token_throughput": totalThroughput(&s),
		"input_lens":             inputs,
		"output_lens":            outputs,
		"ttfts":                  ttfts,
		"itls":                   itls,
		"generated_texts":        texts,
		"errors":                 errs,
	}
	for name, l := range map[string]*Latency{"ttft": s.TTFTMS, "tpot": s.TPOTMS, "itl": s.ITLMS, "e2el": s.E2EMS} {
		vllmMetric(out, name, l)
	}
	return out
}

// totalThroughput is input and output tokens per second; 0 for a run of no
// duration (never Inf, which JSON cannot hold).
func totalThroughput(s *Summary) float64 {
	if s.DurationS <= 0 {
		return 0
	}
	return float64(s.TotalInputTokens+s.TotalOutputTokens) / s.DurationS
}

// vllmMetric writes mean_, median_, std_ and p<P>_ keys; vLLM writes 0 for
// a metric with no values. std is numpy's, with divisor n.
func vllmMetric(out map[string]any, name string, l *Latency) {
	if l == nil {
		l = &Latency{}
	}
	out["mean_"+name+"_ms"] = l.Mean
	out["median_"+name+"_ms"] = l.P50.Estimate
	std := 0.0
	if l.N > 0 {
		std = l.Std * math.Sqrt(float64(l.N-1)/float64(l.N)) // numpy.std's divisor n, as vLLM
	}
	out["std_"+name+"_ms"] = std
	vals := map[float64]float64{50: l.P50.Estimate, 90: l.P90.Estimate, 95: l.P95.Estimate, 99: l.P99.Estimate, 99.9: l.P999.Estimate}
	for _, p := range vllmPercentiles {
		out[stats.PercentileKey(p)+"_"+name+"_ms"] = vals[p] // "p99.9_ttft_ms", as vLLM names it
	}
}
