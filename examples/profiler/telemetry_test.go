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

	"tr117/examples/internal/cmdtest"
	"tr117/internal/ollamaserver"
	"tr117/internal/telemetryparts"
	"tr117/profiler"
	"tr117/profiler/ollamatest"
)

// readRun reads dir/run_<i>.json.
func readRun(t *testing.T, dir string, i int) profiler.RunResult {
	t.Helper()
	var rr profiler.RunResult
	b, err := os.ReadFile(filepath.Join(dir, profiler.RunFileName(i)))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rr); err != nil {
		t.Fatal(err)
	}
	return rr
}

// A run against the real tiny Ollama exports to a real collector, over
// OTLP/HTTP named by --otlp and over gRPC named by the OTEL_* variables:
// the collector receives the GenAI metrics with their units and attributes,
// and each agent's span under the trace id its run_1.json row holds.
func TestProfilerExportsToCollector(t *testing.T) {
	inst := ollamaserver.Start(t, 1)[0]
	for _, tc := range []struct {
		name string
		env  func(col *telemetryparts.Collector) map[string]string
		flag func(col *telemetryparts.Collector) []string
	}{
		{"http-flag", func(*telemetryparts.Collector) map[string]string { return nil },
			func(col *telemetryparts.Collector) []string { return []string{"--otlp", col.HTTPURL} }},
		{"grpc-env", func(col *telemetryparts.Collector) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": col.GRPCURL, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_SERVICE_NAME": "tr117-grpc-test"}
		}, func(*telemetryparts.Collector) []string { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			col := telemetryparts.StartCollector(t)
			for k, v := range tc.env(col) {
				t.Setenv(k, v)
			}
			dir := t.TempDir()
			var out, errOut bytes.Buffer
			args := append([]string{"--runs", "1", "--output-dir", dir, "--model", inst.Model,
				"--collector-ollama-url", inst.URL, "--insight-ollama-url", inst.URL, "--num-predict", "6"}, tc.flag(col)...)
			if code := run(context.Background(), args, &out, &errOut); code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
			}
			if errOut.Len() > 0 {
				t.Errorf("stderr with a working collector:\n%s", errOut.String())
			}
			rr := readRun(t, dir, 1)
			want := []string{
				"Name: gen_ai.client.operation.duration", "Name: gen_ai.client.token.usage", "Unit: {token}",
				"Name: gen_ai.client.operation.time_to_first_chunk", "Name: gen_ai.client.operation.time_per_output_chunk",
				"Name: tr117.client.overhead", "Name: tr117.chunk.gap",
				"gen_ai.operation.name: Str(text_completion)", "gen_ai.provider.name: Str(ollama)",
				"gen_ai.request.model: Str(" + inst.Model + ")", "server.address: Str(127.0.0.1)",
				"gen_ai.token.type: Str(output)", "gen_ai.token.type: Str(input)",
				"Name           : text_completion " + inst.Model, "Kind           : Client",
				"-> Name: " + "tr117.first_content_token",
			}
			for _, a := range rr.Agents {
				if len(a.Metrics.TraceID) != 32 {
					t.Fatalf("agent %s: trace_id %q in run_1.json", a.ID, a.Metrics.TraceID)
				}
				want = append(want, "Trace ID       : "+a.Metrics.TraceID)
			}
			if tc.name == "grpc-env" {
				want = append(want, "service.name: Str(tr117-grpc-test)")
			}
			got, ok := col.WaitFor(20*time.Second, want...)
			if !ok {
				for _, w := range want {
					if !strings.Contains(got, w) {
						t.Errorf("collector output lacks %q", w)
					}
				}
			}
			var sum struct {
				Telemetry struct {
					Export struct {
						MetricFailures int64 `json:"metric_failures"`
						SpanFailures   int64 `json:"span_failures"`
						MetricExports  int64 `json:"metric_exports"`
					}
				}
			}
			b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
			if err := json.Unmarshal(b, &sum); err != nil || sum.Telemetry.Export.MetricExports == 0 || sum.Telemetry.Export.MetricFailures+sum.Telemetry.Export.SpanFailures != 0 {
				t.Errorf("summary.json telemetry %+v (%v)", sum.Telemetry, err)
			}
		})
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string { return cmdtest.ClosedAddr(t) }

// A collector that is down fails nothing: the run succeeds, every record
// is written, and the failed exports are reported once on stderr and in
// summary.json.
func TestProfilerCollectorDown(t *testing.T) {
	sim := simURL(t, ollamatest.Config{Unpaced: true})
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--runs", "2", "--output-dir", dir, "--collector-ollama-url", sim, "--insight-ollama-url", sim,
		"--num-predict", "5", "--otlp", "http://" + closedAddr(t)}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut.String())
	}
	if n := strings.Count(errOut.String(), "exports failed"); n != 1 {
		t.Errorf("stderr reports failed exports %d times, want once:\n%s", n, errOut.String())
	}
	for i := 1; i <= 2; i++ {
		for _, a := range readRun(t, dir, i).Agents {
			if a.Metrics.TokensGenerated != 5 || a.Metrics.TraceID == "" {
				t.Errorf("run %d agent %s: %+v", i, a.ID, a.Metrics)
			}
		}
	}
	var sum struct {
		Telemetry struct {
			OTLP   struct{ Endpoint string }
			Export struct {
				MetricFailures int64 `json:"metric_failures"`
				SpanFailures   int64 `json:"span_failures"`
			}
			Error string
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil || sum.Telemetry.Export.MetricFailures == 0 || sum.Telemetry.Export.SpanFailures == 0 || sum.Telemetry.Error == "" {
		t.Errorf("summary.json telemetry %+v (%v)", sum.Telemetry, err)
	}
}

// A bad OTEL_* value or --otlp is bad usage, before anything runs.
func TestProfilerBadTelemetryConfig(t *testing.T) {
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
		dir := t.TempDir()
		var errOut bytes.Buffer
		code := run(context.Background(), append([]string{"--runs", "1", "--output-dir", dir, "--collector-ollama-url", "http://127.0.0.1:1", "--insight-ollama-url", "http://127.0.0.1:1"}, tc.args...), &bytes.Buffer{}, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%s=%s %v: exit %d, stderr %q; want 2 naming %s", tc.env, tc.val, tc.args, code, errOut.String(), tc.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s=%s %v: wrote %d files", tc.env, tc.val, tc.args, len(entries))
		}
		if tc.env != "" {
			os.Unsetenv(tc.env)
		}
	}
}

// A real Prometheus scrapes --metrics-addr while the profiler runs against
// the real tiny Ollama: the GenAI duration histogram, a per-chunk one (from
// the Producer), the scheduler lag and a GPU series (from the fake
// nvidia-smi on PATH) are there and above zero.
func TestProfilerPrometheusScrapes(t *testing.T) {
	inst := ollamaserver.Start(t, 1)[0]
	addr := closedAddr(t)
	args := []string{"--runs", "100000", "--output-dir", t.TempDir(), "--model", inst.Model,
		"--collector-ollama-url", inst.URL, "--insight-ollama-url", inst.URL, "--num-predict", "64", "--solo-baseline=false", "--metrics-addr", addr}
	cmdtest.ScrapeWhileRunning(t, addr, []string{`gen_ai_client_operation_duration_seconds_count{gen_ai_operation_name="text_completion",gen_ai_provider_name="ollama"}`,
		`gen_ai_client_operation_time_per_output_chunk_seconds_count`, `tr117_scheduler_lag_seconds_count`, `gpu_power_watts`}, func(ctx context.Context, stdout, stderr io.Writer) int {
		return run(ctx, args, stdout, stderr)
	})
}
