package suite

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"tr117/profiler"
)

func TestDefaultPlanIsSeedPlan(t *testing.T) {
	p := Plan{}.WithDefaults()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := len(Runs(p)); got != 25 {
		t.Errorf("default plan has %d runs, want the seed's 25", got)
	}
	if !reflect.DeepEqual(p.MRI.Buffers, []BufferSize{0, 8192}) || p.MRI.Runs != 5 ||
		!reflect.DeepEqual(p.Hardware.Models, []string{"gemma3:latest", "qwen2.5:7b"}) ||
		!reflect.DeepEqual(p.Throttle.Rates, []float64{60}) || p.Tokenizers.Run {
		t.Errorf("default plan = %+v", p)
	}
	if p.Scenario != "chimera_homo" || p.CollectorURL != profiler.DefaultCollectorURL || p.InsightURL != profiler.DefaultInsightURL {
		t.Errorf("default endpoints/scenario = %q %q %q", p.Scenario, p.CollectorURL, p.InsightURL)
	}
}

// The buffer A/B reads the study's way by default (httpx's
// aiter_bytes(chunk_size=N): exact N-byte pieces); a plan can ask for
// transport-bounded reads, and nothing else.
func TestPlanReadMode(t *testing.T) {
	if got := (Plan{}).WithDefaults().MRI.ReadMode; got != string(profiler.ReadExact) {
		t.Errorf("default read mode %q", got)
	}
	if err := (Plan{MRI: MRIPlan{ReadMode: "bound"}}).Validate(); err != nil {
		t.Error(err)
	}
	err := (Plan{MRI: MRIPlan{ReadMode: "lines"}}).Validate()
	var pe *PlanError
	if !errors.As(err, &pe) || pe.Field != "mri.read_mode" {
		t.Errorf("read mode lines: %v", err)
	}
}

func TestPlanWithDefaultsDoesNotAlias(t *testing.T) {
	in := Plan{MRI: MRIPlan{Models: []string{"a"}}}
	out := in.WithDefaults()
	out.MRI.Models[0] = "b"
	if in.MRI.Models[0] != "a" {
		t.Error("WithDefaults shares the models slice with its receiver")
	}
}

func TestLoadPlanYAMLAndJSON(t *testing.T) {
	dir := t.TempDir()
	yml := `
scenario: chimera_hetero
num_predict: 64
mri:
  models: [gemma3:latest]
  buffers: [default, 8192, 64k]
  runs: 2
throttle:
  rates: [60, 0]
  runs: 1
hardware:
  skip: true
  interval: 50ms
  command_template: "python bench.py --model {model}"
tokenizers:
  run: true
`
	yp := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(yp, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPlan(yp)
	if err != nil {
		t.Fatal(err)
	}
	if p.Scenario != "chimera_hetero" || p.NumPredict != 64 || !reflect.DeepEqual(p.MRI.Buffers, []BufferSize{0, 8192, 65536}) ||
		!reflect.DeepEqual(p.Throttle.Rates, []float64{60, 0}) || !p.Hardware.Skip || p.Hardware.Interval.D() != 50*time.Millisecond || !p.Tokenizers.Run {
		t.Errorf("YAML plan = %+v", p)
	}
	// The same plan round-trips through JSON (as in manifest.json).
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	jp := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(jp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	p2, err := LoadPlan(jp)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, p2) {
		t.Errorf("JSON round trip:\n got %+v\nwant %+v", p2, p)
	}
}

func TestPlanErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name, ext, body string
		fields          []string
	}{
		{"unknown yaml key", ".yaml", "mri:\n  modles: [x]\n", []string{"modles"}},
		{"unknown json key", ".json", `{"mri":{"runs":1},"throtle":{}}`, []string{"throtle"}},
		{"json type", ".json", `{"mri":{"runs":"five"}}`, []string{"mri.runs"}},
		{"bad buffer", ".yaml", "mri:\n  buffers: [big]\n", []string{"big"}},
		{"many", ".yaml", "scenario: nope\ncollector_url: localhost:1\nmri:\n  runs: -1\n  buffers: [8192, 8192]\nthrottle:\n  rates: [-5]\nhardware:\n  command_template: \"a | b\"\n  interval: 1ms\n  sampler: rocm\n",
			[]string{"plan: scenario:", "plan: collector_url:", "plan: mri.runs:", "plan: mri.buffers[1]:", "plan: throttle.rates[0]:", "plan: hardware.command_template:", "plan: hardware.interval:", "plan: hardware.sampler:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "plan"+tt.ext)
			if err := os.WriteFile(path, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadPlan(path)
			if err == nil {
				t.Fatal("LoadPlan succeeded, want an error")
			}
			for _, f := range tt.fields {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error %q does not mention %q", err, f)
				}
			}
		})
	}
	var pe *PlanError
	if err := (Plan{MRI: MRIPlan{Runs: -2}}).Validate(); !errors.As(err, &pe) || pe.Field != "mri.runs" {
		t.Errorf("Validate error = %v, want a *PlanError for mri.runs", err)
	}
}

func TestParseLists(t *testing.T) {
	if m := ParseModels(" gemma3:latest,, qwen2.5:7b ,"); !reflect.DeepEqual(m, []string{"gemma3:latest", "qwen2.5:7b"}) {
		t.Errorf("ParseModels = %q", m)
	}
	b, err := ParseBufferSizes("default, 8192,64k,")
	if err != nil || !reflect.DeepEqual(b, []BufferSize{0, 8192, 65536}) {
		t.Errorf("ParseBufferSizes = %v, %v", b, err)
	}
	if _, err := ParseBufferSizes("8192,huge"); err == nil {
		t.Error("ParseBufferSizes accepted huge")
	}
	r, err := ParseRates("60,0,7.5tps")
	if err != nil || !reflect.DeepEqual(r, []float64{60, 0, 7.5}) {
		t.Errorf("ParseRates = %v, %v", r, err)
	}
	if rateDir(60) != "60tps" || rateDir(7.5) != "7.5tps" || rateDir(0) != "0tps" {
		t.Error("rateDir")
	}
	if BufferSize(0).Dir() != "default" || BufferSize(8192).Dir() != "buf8192" {
		t.Error("BufferSize.Dir")
	}
}

func FuzzDecodePlan(f *testing.F) {
	f.Add("mri:\n  buffers: [default, 8192]\n  runs: 2\n", false)
	f.Add(`{"throttle":{"rates":[60,0]},"hardware":{"interval":"50ms"}}`, true)
	f.Add("hardware:\n  command_template: \"a '{model}'\"\n", false)
	f.Add("tokenizers: {run: true, sources: {gemma3: /x}}", false)
	f.Fuzz(func(t *testing.T, s string, isJSON bool) {
		var p Plan
		var err error
		if isJSON {
			p, err = DecodePlanJSON(strings.NewReader(s))
		} else {
			p, err = DecodePlanYAML(strings.NewReader(s))
		}
		if err != nil {
			return
		}
		// A plan that decodes validates, and survives the manifest's
		// JSON round trip unchanged.
		if err := p.Validate(); err != nil {
			t.Fatalf("decoded plan does not validate: %v", err)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodePlanJSON(strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("re-decoding %s: %v", b, err)
		}
		if !reflect.DeepEqual(back.WithDefaults(), p.WithDefaults()) {
			t.Fatalf("round trip changed the plan:\n%+v\n%+v", p.WithDefaults(), back.WithDefaults())
		}
		Runs(p)
	})
}

// TestThrottledRequestTimeout: a throttled request may take as long as its
// tokens need at the throttle rate, on top of the profiler's default.
func TestThrottledRequestTimeout(t *testing.T) {
	for _, c := range []struct {
		run        Run
		numPredict int
		want       time.Duration
	}{
		{Run{Phase: PhaseMRI}, 0, profiler.DefaultTimeout},
		{Run{Phase: PhaseThrottle, Rate: 0}, 0, profiler.DefaultTimeout},
		{Run{Phase: PhaseThrottle, Rate: 60}, 600, profiler.DefaultTimeout + 10*time.Second},
		{Run{Phase: PhaseThrottle, Rate: 64}, NoNumPredict, profiler.DefaultTimeout + 128*time.Second},
		{Run{Phase: PhaseThrottle, Rate: 64}, 0, profiler.DefaultTimeout + DefaultNumPredict*time.Second/64},
	} {
		r := &runner{plan: Plan{NumPredict: c.numPredict}.WithDefaults()}
		if got := r.requestTimeout(c.run); got != c.want {
			t.Errorf("%s rate %v num_predict %d: timeout %v, want %v", c.run.Phase, c.run.Rate, c.numPredict, got, c.want)
		}
	}
}

// TestDefaultNumPredict: the zero plan caps every response, so that a model
// that never stops (the tiny random-weight test model) cannot make a run
// last until the request timeout; NoNumPredict sends no cap.
func TestDefaultNumPredict(t *testing.T) {
	if got := (Plan{}).WithDefaults().NumPredict; got != DefaultNumPredict || got <= 0 {
		t.Errorf("default num_predict %d, want %d", got, DefaultNumPredict)
	}
	p := Plan{NumPredict: NoNumPredict}
	if err := p.Validate(); err != nil || p.WithDefaults().NumPredict != NoNumPredict {
		t.Errorf("num_predict %d: %v, then %d", NoNumPredict, err, p.WithDefaults().NumPredict)
	}
	r := &runner{plan: (Plan{}).WithDefaults()}
	agents, err := r.agents("tiny")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range agents {
		if a.Options["num_predict"] != DefaultNumPredict {
			t.Errorf("agent %s options %v: no num_predict %d", a.ID, a.Options, DefaultNumPredict)
		}
	}
	if err := (Plan{NumPredict: -2}).Validate(); err == nil {
		t.Error("num_predict -2 accepted")
	}
}
