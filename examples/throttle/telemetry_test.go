package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tr117/internal/telemetryparts"
	"tr117/profiler/ollamatest"
)

// --otlp exports each throttled request's span to a real collector, under
// the trace id its run_<i>.json row holds; the span covers the throttle's
// waits, since the telemetry wrapper is outermost. At 40 tok/s a run
// outlasts the lag probe's 100 ms interval, so lag is exported too.
func TestThrottleExportsToCollector(t *testing.T) {
	col := telemetryparts.StartCollector(t)
	sim := simURL(t, ollamatest.Config{Unpaced: true, ResponseTokens: 10})
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--runs", "1", "--output-dir", dir, "--throttle-rate", "40", "--burst", "1", "--num-predict", "10",
		"--collector-ollama-url", sim, "--insight-ollama-url", sim, "--otlp", col.HTTPURL}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut.String())
	}
	var doc struct {
		Agents []struct {
			ID      string
			Metrics struct {
				TraceID         string  `json:"trace_id"`
				TotalDurationMS float64 `json:"total_duration_ms"`
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "run_1.json"))
	if err != nil || json.Unmarshal(b, &doc) != nil || len(doc.Agents) != 2 {
		t.Fatalf("run_1.json: %v\n%s", err, b)
	}
	want := []string{"Name: gen_ai.client.operation.duration", "Name: tr117.scheduler.lag"}
	for _, a := range doc.Agents {
		want = append(want, "Trace ID       : "+a.Metrics.TraceID)
	}
	if got, ok := col.WaitFor(20*time.Second, want...); !ok {
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("collector output lacks %q", w)
			}
		}
	}
}
