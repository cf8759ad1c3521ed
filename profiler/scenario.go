package profiler

import (
	"fmt"
)

// Scenario says which Ollama options each of the two default agents
// sends.
type Scenario string

// The scenarios.
const (
	// BaselineVsChimera: the collector sends no options, the insight agent
	// sends the tuned set.
	BaselineVsChimera Scenario = "baseline_vs_chimera"
	// ChimeraHomo: both agents send the same tuned set. The default.
	ChimeraHomo Scenario = "chimera_homo"
	// ChimeraHetero: the collector sends set 1, the insight agent set 2.
	ChimeraHetero Scenario = "chimera_hetero"
)

// scenarios lists the scenarios in a stable order.
func scenarios() []Scenario { return []Scenario{BaselineVsChimera, ChimeraHomo, ChimeraHetero} }

// ParseScenario accepts a scenario name; "" means ChimeraHomo.
func ParseScenario(s string) (Scenario, error) {
	if s == "" {
		return ChimeraHomo, nil
	}
	for _, sc := range scenarios() {
		if string(sc) == s {
			return sc, nil
		}
	}
	return "", fmt.Errorf("profiler: unknown scenario %q (want baseline_vs_chimera, chimera_homo or chimera_hetero)", s)
}

// AgentOptions returns the options the collector and the insight agent
// send in scenario s, given the two tuned sets. Each result is a fresh map
// (nil when the agent sends none).
func (s Scenario) AgentOptions(set1, set2 Options) (collector, insight map[string]any) {
	switch s {
	case BaselineVsChimera:
		return nil, set1.Map()
	case ChimeraHetero:
		return set1.Map(), set2.Map()
	default:
		return set1.Map(), set1.Map()
	}
}

// Options is one set of tuned Ollama options. Nil fields are not sent.
type Options struct {
	NumGPU        *int     `json:"num_gpu,omitempty"`
	NumCtx        *int     `json:"num_ctx,omitempty"`
	Temperature   *float64 `json:"temperature,omitempty"`
	TopP          *float64 `json:"top_p,omitempty"`
	TopK          *int     `json:"top_k,omitempty"`
	RepeatPenalty *float64 `json:"repeat_penalty,omitempty"`
	// NumPredict caps the response length (Ollama's num_predict).
	NumPredict *int `json:"num_predict,omitempty"`
}

// DefaultOptions returns num_gpu 80, num_ctx 512 and temperature 1.0, the
// others unset. Both sets default to it, so [ChimeraHetero] with defaults
// differs only where set 2 is changed.
func DefaultOptions() Options {
	gpu, ctx, temp := 80, 512, 1.0
	return Options{NumGPU: &gpu, NumCtx: &ctx, Temperature: &temp}
}

// Map returns the set as Ollama's options map, or nil when no field is set.
func (o Options) Map() map[string]any {
	m := map[string]any{}
	if o.NumGPU != nil {
		m["num_gpu"] = *o.NumGPU
	}
	if o.NumCtx != nil {
		m["num_ctx"] = *o.NumCtx
	}
	if o.Temperature != nil {
		m["temperature"] = *o.Temperature
	}
	if o.TopP != nil {
		m["top_p"] = *o.TopP
	}
	if o.TopK != nil {
		m["top_k"] = *o.TopK
	}
	if o.RepeatPenalty != nil {
		m["repeat_penalty"] = *o.RepeatPenalty
	}
	if o.NumPredict != nil {
		m["num_predict"] = *o.NumPredict
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// The default agents' names and endpoints: two Ollama servers on the
// default ports 11434 and 11435.
const (
	CollectorID         = "collector"
	InsightID           = "insight"
	DefaultCollectorURL = "http://localhost:11434"
	DefaultInsightURL   = "http://localhost:11435"
	DefaultModel        = "gemma3:latest"
)

// collectorPrompt is the collector agent's prompt.
const collectorPrompt = "You are a systems analyst. Produce a concise data inventory of the benchmark artifacts " +
	"of an LLM inference study: directory coverage, file counts by type, and gaps in telemetry " +
	"(for example missing GPU, latency or throughput logs). Use short bullet points. Keep it under 250 words."

// insightPrompt is the insight agent's prompt.
const insightPrompt = "You are an LLM operations specialist. Write an executive summary of local LLM inference " +
	"benchmark results, then give three optimisation recommendations that balance throughput, " +
	"time to first token and output quality, and finish with a risk table (risk, likelihood, impact, " +
	"mitigation). Aim for 300-400 words."

// DefaultAgents returns two agents: a collector that asks for a short data
// inventory at collectorURL and an insight agent that asks for a longer
// summary at insightURL, both of model and sending the options of
// scenario sc.
func DefaultAgents(model, collectorURL, insightURL string, sc Scenario, set1, set2 Options) []Agent {
	co, io := sc.AgentOptions(set1, set2)
	return []Agent{
		{ID: CollectorID, URL: collectorURL, Model: model, Prompt: collectorPrompt, Options: co},
		{ID: InsightID, URL: insightURL, Model: model, Prompt: insightPrompt, Options: io},
	}
}

// CapTokens caps every agent's response at n tokens: it returns agents with
// Ollama's num_predict = n added to every agent's options, including an
// agent that sends no tuned options (the baseline of BaselineVsChimera): a
// length cap only compares agents fairly if all of them get it. n ≤ 0
// returns agents unchanged. The options maps are copied, never modified.
func CapTokens(agents []Agent, n int) []Agent {
	if n <= 0 {
		return agents
	}
	out := make([]Agent, len(agents))
	for i, a := range agents {
		opts := make(map[string]any, len(a.Options)+1)
		for k, v := range a.Options {
			opts[k] = v
		}
		opts["num_predict"] = n
		a.Options = opts
		out[i] = a
	}
	return out
}
