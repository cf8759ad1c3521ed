package suite

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"tr117/profiler"
)

// Defaults of a [Plan]. A zero field of a Plan means the default below.
const (
	DefaultScenario = "chimera_homo"
	// DefaultCollectorURL and DefaultInsightURL are the profiler's (and so
	// the throttle command's) defaults, so that every tr117 tool looks for
	// the same servers.
	DefaultCollectorURL = profiler.DefaultCollectorURL
	DefaultInsightURL   = profiler.DefaultInsightURL
	DefaultRuns         = 5
	// DefaultNumPredict is Plan.NumPredict's default.
	DefaultNumPredict = profiler.DefaultNumPredict
	// NoNumPredict as Plan.NumPredict sends no num_predict: the server
	// decides, and a model that never stops streams until the timeout.
	NoNumPredict = -1
	// planLagInterval is Plan.LagInterval's default; see there why it is
	// not profiler.DefaultLagInterval.
	planLagInterval = 10 * time.Millisecond
)

// Default model lists and conditions of the seed's 25-run plan.
var (
	defaultMRIModels      = []string{"gemma3:latest"}
	defaultBuffers        = []BufferSize{0, 8192}
	defaultThrottleModels = []string{"gemma3:latest"}
	defaultRates          = []float64{60}
	defaultHardwareModels = []string{"gemma3:latest", "qwen2.5:7b"}
	defaultCeilingCosts   = []Duration{0, Duration(50 * time.Microsecond), Duration(100 * time.Microsecond), Duration(200 * time.Microsecond), Duration(400 * time.Microsecond)}
)

// Plan is what the suite runs: the TR117 study's three phases and the
// optional tokenizer race. It is written into manifest.json as is and can be
// loaded from a JSON or YAML file with [LoadPlan].
//
// The zero value is the seed's 25-run plan: MRI = gemma3:latest × read
// buffers [default, 8192] × 5 runs; throttle = gemma3:latest × 60 tok/s × 5
// runs; hardware = [gemma3:latest, qwen2.5:7b] × 5 runs; no tokenizer race.
// Every zero field means its default; [Plan.WithDefaults] fills them in.
// A phase is left out with its Skip field.
//
// A Plan is a value; it is safe to copy and to read concurrently.
type Plan struct {
	// Scenario is the profiler scenario every dual-agent run uses:
	// baseline_vs_chimera, chimera_homo (default) or chimera_hetero.
	Scenario string `json:"scenario" yaml:"scenario"`
	// CollectorURL and InsightURL are the two Ollama endpoints (defaults
	// http://localhost:11434 and http://localhost:11435).
	CollectorURL string `json:"collector_url" yaml:"collector_url"`
	InsightURL   string `json:"insight_url" yaml:"insight_url"`
	// NumPredict is sent as Ollama's num_predict option to cap each
	// completion's length (default [DefaultNumPredict]); [NoNumPredict]
	// sends none and lets the server decide.
	NumPredict int `json:"num_predict,omitempty" yaml:"num_predict"`
	// Warmup sends one unmeasured request per agent and model before the
	// first measured run of each condition, so model load time does not
	// pollute run 1. The default (nil) is true.
	Warmup *bool `json:"warmup,omitempty" yaml:"warmup"`
	// LagInterval is the scheduler-lag probe's interval during dual-agent
	// runs (default 10ms; at least 1ms).
	//
	// The default is shorter than [profiler.DefaultLagInterval] (100ms,
	// the profiler command's, which keeps the Python script's): 100ms
	// leaves a short run (a real small-model completion takes 50–100ms)
	// with no lag sample at all, so its lag p99 is missing from the
	// lag-vs-efficiency correlation. At 10ms such a run has 5–10 samples
	// and a 2–3s run a few hundred; the probe's cost (one timer wake-up
	// per interval, one CSV row) stays negligible next to a streaming
	// client.
	LagInterval Duration `json:"lag_interval,omitempty" yaml:"lag_interval"`
	// SoloBaseline makes every dual-agent run first stream each agent
	// alone (see profiler.Config.SoloBaseline), for the true speed-up. The
	// default (nil) is true.
	SoloBaseline *bool `json:"solo_baseline,omitempty" yaml:"solo_baseline"`

	MRI        MRIPlan       `json:"mri" yaml:"mri"`
	Ceiling    CeilingPlan   `json:"ceiling" yaml:"ceiling"`
	Throttle   ThrottlePlan  `json:"throttle" yaml:"throttle"`
	Hardware   HardwarePlan  `json:"hardware" yaml:"hardware"`
	Tokenizers TokenizerPlan `json:"tokenizers" yaml:"tokenizers"`
}

// MRIPlan is phase 1, the client ceiling ("Python MRI"): dual-agent runs per
// model and transport read-buffer size, with chunk and scheduler-lag traces.
type MRIPlan struct {
	Skip bool `json:"skip,omitempty" yaml:"skip"`
	// Models (default [gemma3:latest]).
	Models []string `json:"models" yaml:"models"`
	// Buffers are the read-buffer sizes compared; 0 ("default" in a plan
	// file) is Go's default transport reads. Default [default, 8192].
	Buffers []BufferSize `json:"buffers" yaml:"buffers"`
	// ReadMode is how a buffer cuts the body into chunks: "exact" (pieces
	// of exactly the buffer's size, as httpx's aiter_bytes(chunk_size=N)
	// does) or "bound" (each transport read, at most the buffer's size).
	// Default "exact", the TR117 study's A/B.
	ReadMode string `json:"read_mode" yaml:"read_mode"`
	// Runs per model and buffer (default 5).
	Runs int `json:"runs" yaml:"runs"`
}

// CeilingPlan is the client-ceiling experiment: dual-agent runs of one
// model whose client handles every streamed message on a single event loop
// (profiler.ConsumerConfig.SingleLoop) at a swept CPU cost per message. It
// is off by default, so that the zero Plan stays the seed's 25 runs.
type CeilingPlan struct {
	// Run enables the sweep.
	Run bool `json:"run" yaml:"run"`
	// Model (default: the first MRI model).
	Model string `json:"model,omitempty" yaml:"model"`
	// Costs are the CPU costs per message swept, as Go durations
	// (default 0, 50µs, 100µs, 200µs, 400µs).
	Costs []Duration `json:"costs,omitempty" yaml:"costs"`
	// Runs per cost (default 5).
	Runs int `json:"runs" yaml:"runs"`
}

// ThrottlePlan is phase 3, flow dynamics ("tortoise and hare"): dual-agent
// runs with each agent's reader capped by a token bucket. A throttled
// request may take the profiler's 2-minute timeout plus the time its
// tokens need at the rate (num_predict tokens, or 8192 when the plan sets
// no num_predict).
type ThrottlePlan struct {
	Skip bool `json:"skip,omitempty" yaml:"skip"`
	// Models (default [gemma3:latest]).
	Models []string `json:"models" yaml:"models"`
	// Rates in tokens per second per agent; 0 is unlimited. Default [60].
	Rates []float64 `json:"rates" yaml:"rates"`
	// Runs per model and rate (default 5).
	Runs int `json:"runs" yaml:"runs"`
}

// HardwarePlan is phase 2, hardware: each run is wrapped by the GPU monitor.
type HardwarePlan struct {
	Skip bool `json:"skip,omitempty" yaml:"skip"`
	// Models (default [gemma3:latest, qwen2.5:7b]).
	Models []string `json:"models" yaml:"models"`
	// Runs per model (default 5).
	Runs int `json:"runs" yaml:"runs"`
	// CommandTemplate, when set, is the command each hardware run executes
	// instead of the built-in dual-agent profiler run. It is split with
	// POSIX shell quoting rules and run without a shell; see [ParseTemplate]
	// for its placeholders.
	CommandTemplate string `json:"command_template,omitempty" yaml:"command_template"`
	// Interval between GPU samples (default 100ms), as a Go duration string.
	Interval Duration `json:"interval,omitempty" yaml:"interval"`
	// Sampler is the GPU sampler: "auto" (default), "nvml" or "nvidia-smi".
	Sampler string `json:"sampler,omitempty" yaml:"sampler"`
}

// TokenizerPlan is the optional tokenizer race (phase 2, tokenizers).
type TokenizerPlan struct {
	// Run enables the race; it is off by default, as in the seed.
	Run bool `json:"run" yaml:"run"`
	// AllowDownload lets tokbench fetch tokenizer.json files from the
	// Hugging Face Hub; without it nothing touches the network.
	AllowDownload bool `json:"allow_download,omitempty" yaml:"allow_download"`
	// Models raced (default: the MRI and hardware models together).
	Models []string `json:"models,omitempty" yaml:"models"`
	// Sources overrides where a model's tokenizer is looked for:
	// comma-separated fallbacks (a file or directory, "ollama:NAME",
	// "hf:ORG/NAME", "http://HOST:PORT/MODEL" for a running Ollama), as
	// the seed's --gemma-tokenizer flags. Default: the local Ollama store,
	// then the collector endpoint's /api/show, then the model's Hugging
	// Face repo.
	Sources map[string]string `json:"sources,omitempty" yaml:"sources"`
	// OllamaModels is the local Ollama model store searched first
	// (default: $OLLAMA_MODELS, else ~/.ollama/models).
	OllamaModels string `json:"ollama_models,omitempty" yaml:"ollama_models"`
	// Bytes of corpus (default 1 MiB) and Iterations (default 3).
	Bytes      int `json:"bytes,omitempty" yaml:"bytes"`
	Iterations int `json:"iterations,omitempty" yaml:"iterations"`
}

// BufferSize is a transport read-buffer size in bytes; 0 means Go's default.
// In JSON and YAML it is a number or the string "default".
type BufferSize int

// String returns "default" for 0 and the number otherwise.
func (b BufferSize) String() string {
	if b == 0 {
		return "default"
	}
	return strconv.Itoa(int(b))
}

// Dir returns the phase-1 directory name of the condition: "default" or
// "bufN", as in the seed's layout.
func (b BufferSize) Dir() string {
	if b == 0 {
		return "default"
	}
	return "buf" + strconv.Itoa(int(b))
}

// MarshalJSON writes 0 as "default" and other sizes as numbers.
func (b BufferSize) MarshalJSON() ([]byte, error) {
	if b == 0 {
		return []byte(`"default"`), nil
	}
	return strconv.AppendInt(nil, int64(b), 10), nil
}

// UnmarshalJSON accepts a number or "default".
func (b *BufferSize) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		return b.parse(s)
	}
	var n int
	if err := json.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("buffer size %s: want a number of bytes or \"default\"", data)
	}
	*b = BufferSize(n)
	return nil
}

// UnmarshalYAML accepts a number or "default".
func (b *BufferSize) UnmarshalYAML(n *yaml.Node) error {
	return b.parse(n.Value)
}

func (b *BufferSize) parse(s string) error {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "default") || s == "" {
		*b = 0
		return nil
	}
	s = strings.TrimPrefix(strings.ToLower(s), "buf")
	mult := 1
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "kib"):
		mult = 1024
		s = strings.TrimSuffix(strings.TrimSuffix(s, "kib"), "k")
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("buffer size %q: want a number of bytes (8192, 64k) or \"default\"", s)
	}
	*b = BufferSize(n * mult)
	return nil
}

// ParseBufferSizes parses a comma-separated list such as "default,8192,64k".
func ParseBufferSizes(s string) ([]BufferSize, error) {
	var out []BufferSize
	for _, f := range splitList(s) {
		var b BufferSize
		if err := b.parse(f); err != nil {
			return nil, fmt.Errorf("suite: %w", err)
		}
		out = append(out, b)
	}
	return out, nil
}

// ParseRates parses a comma-separated list of tok/s rates ("60,0").
func ParseRates(s string) ([]float64, error) {
	var out []float64
	for _, f := range splitList(s) {
		f = strings.TrimSuffix(strings.ToLower(f), "tps")
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("suite: throttle rate %q: want tokens per second", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// ParseCosts parses a comma-separated list of Go durations, as the ceiling
// sweep's costs per message ("0,50us,100us"); a bare 0 is zero.
func ParseCosts(s string) ([]Duration, error) {
	var out []Duration
	for _, f := range splitList(s) {
		var d Duration
		if f != "0" {
			if err := d.UnmarshalText([]byte(f)); err != nil {
				return nil, fmt.Errorf("suite: ceiling cost: %w", err)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// ParseModels parses a comma-separated list of model names, as the
// --mri-models, --hardware-models and --throttle-models flags take them:
// spaces around names and empty items are dropped.
func ParseModels(s string) []string { return splitList(s) }

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// WithDefaults returns a copy of p with every zero field set to its
// default. Slices are copied, so the result shares no memory with p.
func (p Plan) WithDefaults() Plan {
	if p.Scenario == "" {
		p.Scenario = DefaultScenario
	}
	if p.CollectorURL == "" {
		p.CollectorURL = DefaultCollectorURL
	}
	if p.InsightURL == "" {
		p.InsightURL = DefaultInsightURL
	}
	if p.LagInterval == 0 {
		p.LagInterval = Duration(planLagInterval)
	}
	if p.NumPredict == 0 {
		p.NumPredict = DefaultNumPredict
	}
	p.Warmup = boolOr(p.Warmup, true)
	p.SoloBaseline = boolOr(p.SoloBaseline, true)
	p.MRI.Models = orDefault(p.MRI.Models, defaultMRIModels)
	p.MRI.Buffers = orDefault(p.MRI.Buffers, defaultBuffers)
	if p.MRI.ReadMode == "" {
		p.MRI.ReadMode = string(profiler.ReadExact)
	}
	if p.MRI.Runs == 0 {
		p.MRI.Runs = DefaultRuns
	}
	if p.Ceiling.Model == "" {
		p.Ceiling.Model = p.MRI.Models[0]
	}
	p.Ceiling.Costs = orDefault(p.Ceiling.Costs, defaultCeilingCosts)
	if p.Ceiling.Runs == 0 {
		p.Ceiling.Runs = DefaultRuns
	}
	p.Throttle.Models = orDefault(p.Throttle.Models, defaultThrottleModels)
	p.Throttle.Rates = orDefault(p.Throttle.Rates, defaultRates)
	if p.Throttle.Runs == 0 {
		p.Throttle.Runs = DefaultRuns
	}
	p.Hardware.Models = orDefault(p.Hardware.Models, defaultHardwareModels)
	if p.Hardware.Runs == 0 {
		p.Hardware.Runs = DefaultRuns
	}
	if p.Hardware.Interval == 0 {
		p.Hardware.Interval = Duration(defaultInterval)
	}
	if p.Hardware.Sampler == "" {
		p.Hardware.Sampler = "auto"
	}
	if len(p.Tokenizers.Models) == 0 {
		p.Tokenizers.Models = uniq(append(append([]string(nil), p.MRI.Models...), p.Hardware.Models...))
	} else {
		p.Tokenizers.Models = append([]string(nil), p.Tokenizers.Models...)
	}
	if p.Tokenizers.Bytes == 0 {
		p.Tokenizers.Bytes = 1 << 20
	}
	if p.Tokenizers.Iterations == 0 {
		p.Tokenizers.Iterations = 3
	}
	return p
}

// boolOr returns a fresh copy of *b, or of def when b is nil.
func boolOr(b *bool, def bool) *bool {
	if b != nil {
		def = *b
	}
	return &def
}

func orDefault[T any](v, def []T) []T {
	if len(v) == 0 {
		v = def
	}
	return append([]T(nil), v...)
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	out := xs[:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// SetRuns sets the run count of every phase to n, as the --runs flag does.
func (p *Plan) SetRuns(n int) {
	p.MRI.Runs, p.Throttle.Runs, p.Hardware.Runs, p.Ceiling.Runs = n, n, n, n
}

// PlanError is a plan field that does not validate. Field is the field's
// path as written in a plan file ("mri.buffers[1]").
type PlanError struct {
	Field string
	Err   error
}

func (e *PlanError) Error() string { return "suite: plan: " + e.Field + ": " + e.Err.Error() }
func (e *PlanError) Unwrap() error { return e.Err }

var scenarios = []string{"baseline_vs_chimera", "chimera_homo", "chimera_hetero"}

// Validate checks p after applying defaults and returns every problem found,
// each a *[PlanError] naming its field, joined with errors.Join.
func (p Plan) Validate() error {
	p = p.WithDefaults()
	var c planCheck
	c.top(p)
	c.mri(p.MRI)
	c.ceiling(p.Ceiling)
	c.throttle(p.Throttle)
	c.hardware(p.Hardware)
	c.tokenizers(p.Tokenizers)
	return errors.Join(c.errs...)
}

// planCheck gathers a plan's errors, each naming its field.
type planCheck struct{ errs []error }

func (c *planCheck) bad(field, format string, args ...any) {
	c.errs = append(c.errs, &PlanError{Field: field, Err: fmt.Errorf(format, args...)})
}

func (c *planCheck) top(p Plan) {
	if !slices.Contains(scenarios, p.Scenario) {
		c.bad("scenario", "%q is not one of %s", p.Scenario, strings.Join(scenarios, ", "))
	}
	for field, u := range map[string]string{"collector_url": p.CollectorURL, "insight_url": p.InsightURL} {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			c.bad(field, "%q is not an http(s) URL with a host", u)
		}
	}
	if d := p.LagInterval.D(); d < time.Millisecond {
		c.bad("lag_interval", "%v is shorter than 1ms", d)
	}
	if p.NumPredict < NoNumPredict {
		c.bad("num_predict", "%d: want a positive cap, or %d for none", p.NumPredict, NoNumPredict)
	}
}

func (c *planCheck) models(field string, models []string) {
	seen := map[string]bool{}
	for i, m := range models {
		switch {
		case strings.TrimSpace(m) == "":
			c.bad(fmt.Sprintf("%s[%d]", field, i), "empty model name")
		case seen[m]:
			c.bad(fmt.Sprintf("%s[%d]", field, i), "model %q listed twice", m)
		}
		seen[m] = true
	}
}

func (c *planCheck) runs(field string, n int) {
	if n < 0 {
		c.bad(field, "%d is negative", n)
	}
	if n > 10000 {
		c.bad(field, "%d is more runs than the suite supports (10000)", n)
	}
}

func (c *planCheck) mri(m MRIPlan) {
	c.models("mri.models", m.Models)
	c.runs("mri.runs", m.Runs)
	if _, err := profiler.ParseReadMode(m.ReadMode); err != nil {
		c.bad("mri.read_mode", "%q is not bound or exact", m.ReadMode)
	}
	seen := map[BufferSize]bool{}
	for i, b := range m.Buffers {
		switch {
		case b < 0:
			c.bad(fmt.Sprintf("mri.buffers[%d]", i), "%d is negative", int(b))
		case seen[b]:
			c.bad(fmt.Sprintf("mri.buffers[%d]", i), "%s listed twice", b)
		}
		seen[b] = true
	}
}

func (c *planCheck) ceiling(cp CeilingPlan) {
	c.runs("ceiling.runs", cp.Runs)
	seen := map[Duration]bool{}
	for i, cost := range cp.Costs {
		switch {
		case cost < 0:
			c.bad(fmt.Sprintf("ceiling.costs[%d]", i), "%v is negative", cost)
		case seen[cost]:
			c.bad(fmt.Sprintf("ceiling.costs[%d]", i), "%v listed twice", cost)
		}
		seen[cost] = true
	}
}

func (c *planCheck) throttle(t ThrottlePlan) {
	c.models("throttle.models", t.Models)
	c.runs("throttle.runs", t.Runs)
	seen := map[string]bool{}
	for i, r := range t.Rates {
		switch {
		case math.IsNaN(r) || math.IsInf(r, 0) || r < 0:
			c.bad(fmt.Sprintf("throttle.rates[%d]", i), "%v is not a rate (tok/s ≥ 0; 0 = unlimited)", r)
		case seen[rateDir(r)]:
			c.bad(fmt.Sprintf("throttle.rates[%d]", i), "%v listed twice", r)
		}
		seen[rateDir(r)] = true
	}
}

func (c *planCheck) hardware(h HardwarePlan) {
	c.models("hardware.models", h.Models)
	c.runs("hardware.runs", h.Runs)
	if h.CommandTemplate != "" {
		if _, err := ParseTemplate(h.CommandTemplate); err != nil {
			c.bad("hardware.command_template", "%w", err)
		}
	}
	if d := h.Interval.D(); d < minInterval {
		c.bad("hardware.interval", "%v is shorter than %v", d, minInterval)
	}
	switch h.Sampler {
	case "auto", "nvml", "nvidia-smi":
	default:
		c.bad("hardware.sampler", "%q is not auto, nvml or nvidia-smi", h.Sampler)
	}
}

func (c *planCheck) tokenizers(t TokenizerPlan) {
	c.models("tokenizers.models", t.Models)
	if t.Bytes < 0 {
		c.bad("tokenizers.bytes", "%d is negative", t.Bytes)
	}
	if t.Iterations < 0 {
		c.bad("tokenizers.iterations", "%d is negative", t.Iterations)
	}
}

// rateDir returns the phase-3 directory name of a throttle rate, as in the
// seed's layout: "60tps", "7.5tps", and "0tps" for unlimited.
func rateDir(r float64) string {
	return strconv.FormatFloat(r, 'f', -1, 64) + "tps"
}

// costDir returns the ceiling directory name of a consumer cost in whole
// microseconds, "0us", "160us".
func costDir(c Duration) string {
	return strconv.FormatInt(c.D().Microseconds(), 10) + "us"
}

// LoadPlan reads a plan from a JSON (.json) or YAML (.yaml, .yml, or any
// other name) file. Unknown fields are errors that name the field and line,
// so a misspelt key is not silently ignored. The plan is validated.
func LoadPlan(path string) (Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Plan{}, fmt.Errorf("suite: plan: %w", err)
	}
	var p Plan
	if strings.EqualFold(filepath.Ext(path), ".json") {
		p, err = DecodePlanJSON(bytes.NewReader(data))
	} else {
		p, err = DecodePlanYAML(bytes.NewReader(data))
	}
	if err != nil {
		return Plan{}, fmt.Errorf("%w (in %s)", err, path)
	}
	return p, nil
}

// DecodePlanJSON decodes and validates a plan written as JSON.
func DecodePlanJSON(r io.Reader) (Plan, error) {
	var p Plan
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return Plan{}, &PlanError{Field: te.Field, Err: fmt.Errorf("%s is not a %v", te.Value, te.Type)}
		}
		return Plan{}, fmt.Errorf("suite: plan: %w", err)
	}
	if dec.More() {
		return Plan{}, fmt.Errorf("suite: plan: more than one JSON value")
	}
	return p, p.Validate()
}

// DecodePlanYAML decodes and validates a plan written as YAML.
func DecodePlanYAML(r io.Reader) (Plan, error) {
	var p Plan
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		return Plan{}, fmt.Errorf("suite: plan: %w", err)
	}
	return p, p.Validate()
}

const (
	defaultInterval = 100 * time.Millisecond
	minInterval     = 10 * time.Millisecond
)

// Duration is a time.Duration written in JSON and YAML as a Go duration
// string ("100ms").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a Go duration string ("100ms", "1s").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: want a Go duration such as 100ms", b)
	}
	*d = Duration(v)
	return nil
}
