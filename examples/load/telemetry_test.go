package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"tr117/examples/internal/cmdtest"
	"tr117/internal/ollamaserver"
	"tr117/internal/telemetryparts"
	"tr117/load"
	"tr117/profiler"
	"tr117/profiler/ollamatest"
	"tr117/sink"
	"tr117/telemetry"
)

// A load run through the telemetry recorder against the simulator: each
// requests.jsonl row carries the trace id of a recorded span, one span per
// request, and every request's schedule delay is in tr117.schedule.delay.
func TestRunRecordsTelemetry(t *testing.T) {
	url := sim(t, ollamatest.Config{Unpaced: true})
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { mp.Shutdown(context.Background()); tp.Shutdown(context.Background()) })
	rec, err := telemetry.New(telemetry.Config{MeterProvider: mp, TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	c := newStreamer(&options{}, 4)
	defer c.CloseIdleConnections()
	const n = 4
	cfg := load.Config{Request: profiler.Request{URL: url, Model: "tiny"}, Schedule: load.Schedule{Arrival: load.Constant, Rate: 200, Requests: n}}
	items := []load.Item{{Prompt: "Why is the sky blue?", MaxTokens: 3}}
	var mem sink.Memory[load.Record]
	oc, err := load.Run(context.Background(), rec.Wrap(profiler.Agent{}, c), items, cfg, recordDelays(rec, &mem))
	if err != nil {
		t.Fatal(err)
	}
	traced := map[string]bool{}
	for _, s := range spans.Ended() {
		traced[s.SpanContext().TraceID().String()] = true
	}
	if len(spans.Ended()) != n || len(traced) != n {
		t.Errorf("%d spans with %d trace ids, want %d", len(spans.Ended()), len(traced), n)
	}
	for _, r := range oc.Records {
		if !r.OK() || !traced[r.TraceID] {
			t.Errorf("request %d: trace id %q is no recorded span's (error %q)", r.ID, r.TraceID, r.Error)
		}
	}
	b, err := json.Marshal(oc.Records[0])
	if err != nil || !bytes.Contains(b, []byte(`"trace_id":"`+oc.Records[0].TraceID+`"`)) {
		t.Errorf("requests.jsonl row %s has no trace_id (%v)", b, err)
	}
	if mem.Len() != n {
		t.Errorf("the sink got %d records, want %d", mem.Len(), n)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
				for _, dp := range h.DataPoints {
					counts[m.Name] += dp.Count
				}
			}
		}
	}
	for _, name := range []string{telemetry.MetricScheduleDelay, telemetry.MetricOperationDuration} {
		if counts[name] != n {
			t.Errorf("%s: %d recorded, want %d", name, counts[name], n)
		}
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string { return cmdtest.ClosedAddr(t) }

// A collector that is down fails nothing: the run exits 0 with every
// record (and its trace id) written, and the failed exports are reported
// once on stderr and in summary.json.
func TestLoadCollectorDown(t *testing.T) {
	url := sim(t, ollamatest.Config{TTFT: time.Millisecond, TokensPerSecond: 2000})
	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCmd(t, "--url", url, "--model", "tiny", "--rate", "100", "--requests", "3", "--output-tokens", "3",
		"--input-tokens", "5", "--output-dir", dir, "--otlp", "http://"+closedAddr(t))
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if n := strings.Count(stderr, "exports failed"); n != 1 {
		t.Errorf("stderr reports failed exports %d times, want once:\n%s", n, stderr)
	}
	recs := readRecords(t, dir)
	for _, r := range recs {
		if !r.OK() || r.TraceID == "" {
			t.Errorf("request %d: trace id %q, error %q", r.ID, r.TraceID, r.Error)
		}
	}
	var sum struct {
		Requests  int
		Telemetry struct {
			OTLP   struct{ Endpoint string }
			Export struct {
				MetricFailures int64 `json:"metric_failures"`
				SpanFailures   int64 `json:"span_failures"`
			}
			Error string
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, load.SummaryFile))
	if err := json.Unmarshal(b, &sum); err != nil || len(recs) != 3 || sum.Telemetry.Export.MetricFailures == 0 || sum.Telemetry.Export.SpanFailures == 0 || sum.Telemetry.Error == "" {
		t.Errorf("%d records; summary.json telemetry %+v (%v)", len(recs), sum.Telemetry, err)
	}
}

// A bad OTEL_* value, --otlp or --metrics-addr is bad usage, before
// anything runs.
func TestLoadBadTelemetryConfig(t *testing.T) {
	for _, tc := range []struct {
		env, val string
		args     []string
		want     string
	}{
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", nil, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318", nil, "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{"", "", []string{"--otlp", "ftp://x"}, "--otlp"},
		{"", "", []string{"--metrics-addr", "127.0.0.1:99999"}, "--metrics-addr"},
	} {
		if tc.env != "" {
			t.Setenv(tc.env, tc.val)
		}
		dir := filepath.Join(t.TempDir(), "out")
		code, _, stderr := runCmd(t, append([]string{"--url", "http://127.0.0.1:1", "--rate", "1", "--requests", "1", "--output-dir", dir}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s=%s %v: exit %d, stderr %q; want 2 naming %s", tc.env, tc.val, tc.args, code, stderr, tc.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s=%s %v: wrote %d files", tc.env, tc.val, tc.args, len(entries))
		}
		if tc.env != "" {
			os.Unsetenv(tc.env)
		}
	}
}

// A run against the real tiny Ollama exports to a real collector named by
// --otlp: the collector receives the GenAI metrics, tr117.schedule.delay
// and each request's span under the trace id its requests.jsonl row holds.
// It is skipped without ollama or otelcol binaries (failed under CI).
func TestLoadExportsToCollector(t *testing.T) {
	inst := ollamaserver.Start(t, 1)[0]
	col := telemetryparts.StartCollector(t)
	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCmd(t, "--url", inst.URL, "--model", inst.Model, "--options", `{"num_thread":1,"seed":7}`,
		"--arrival", "constant", "--rate", "4", "--requests", "3", "--input-tokens", "8", "--output-tokens", "4",
		"--output-dir", dir, "--otlp", col.HTTPURL)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if stderr != "" {
		t.Errorf("stderr with a working collector:\n%s", stderr)
	}
	want := []string{
		"Name: " + telemetry.MetricOperationDuration, "Name: " + telemetry.MetricTokenUsage,
		"Name: " + telemetry.MetricScheduleDelay, "gen_ai.request.model: Str(" + inst.Model + ")",
		"Name           : text_completion " + inst.Model,
	}
	recs := readRecords(t, dir)
	for _, r := range recs {
		if len(r.TraceID) != 32 {
			t.Fatalf("request %d: trace_id %q in requests.jsonl", r.ID, r.TraceID)
		}
		want = append(want, "Trace ID       : "+r.TraceID)
	}
	if got, ok := col.WaitFor(20*time.Second, want...); !ok {
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("collector output lacks %q", w)
			}
		}
	}
	var sum struct {
		Telemetry struct {
			Export struct {
				MetricExports  int64 `json:"metric_exports"`
				MetricFailures int64 `json:"metric_failures"`
				SpanFailures   int64 `json:"span_failures"`
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, load.SummaryFile))
	if err := json.Unmarshal(b, &sum); err != nil || sum.Telemetry.Export.MetricExports == 0 || sum.Telemetry.Export.MetricFailures+sum.Telemetry.Export.SpanFailures != 0 {
		t.Errorf("summary.json telemetry %+v (%v)", sum.Telemetry, err)
	}
}

// A sweep's export counts and failures are in sweep.json.
func TestLoadSweepTelemetrySummary(t *testing.T) {
	url := sim(t, ollamatest.Config{TTFT: time.Millisecond, TokensPerSecond: 2000})
	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCmd(t, "--url", url, "--model", "tiny", "--sweep", "50,100", "--requests", "2", "--output-tokens", "3",
		"--input-tokens", "5", "--output-dir", dir, "--otlp", "http://"+closedAddr(t))
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	sw := readJSON(t, filepath.Join(dir, load.SweepFile))
	tel, ok := sw["telemetry"].(map[string]any)
	if _, points := sw["points"]; !ok || !points || tel["error"] == nil {
		t.Errorf("sweep.json: telemetry %v, keys %v", sw["telemetry"], keys(sw))
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// A real Prometheus scrapes --metrics-addr while load runs against the real
// tiny Ollama: the GenAI duration histogram, tr117.schedule.delay and a GPU
// series (from the fake nvidia-smi on PATH) are there and above zero.
func TestLoadPrometheusScrapes(t *testing.T) {
	inst := ollamaserver.Start(t, 1)[0]
	addr := closedAddr(t)
	args := []string{"--url", inst.URL, "--model", inst.Model, "--options", `{"num_thread":1,"seed":7}`,
		"--arrival", "constant", "--rate", "2", "--duration", "10m", "--input-tokens", "8", "--output-tokens", "4",
		"--output-dir", filepath.Join(t.TempDir(), "out"), "--metrics-addr", addr}
	cmdtest.ScrapeWhileRunning(t, addr, []string{`gen_ai_client_operation_duration_seconds_count{gen_ai_operation_name="text_completion",gen_ai_provider_name="ollama"}`,
		`tr117_schedule_delay_seconds_count`, `gpu_power_watts`}, func(ctx context.Context, stdout, stderr io.Writer) int {
		return run(ctx, args, stdout, stderr)
	})
}
