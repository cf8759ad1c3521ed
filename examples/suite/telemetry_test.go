package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tr117/internal/telemetryparts"
	"tr117/profiler"
)

// --otlp exports the suite's dual-agent runs to a real collector: every
// phase-1 run row's trace id arrives there as a span.
func TestSuiteExportsToCollector(t *testing.T) {
	col := telemetryparts.StartCollector(t)
	root := t.TempDir()
	dead := deadURL(t)
	code, out, errs := runCmd(t, "--runs", "1", "--num-predict", "8", "--sim-tokens-per-sec", "1000", "--buffers", "default",
		"--collector-url", dead, "--insight-url", dead, "--output-root", root, "--throttle-rates", "500", "--otlp", col.HTTPURL)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	var runs []string
	filepath.WalkDir(filepath.Join(root, "phase1"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == profiler.RunFileName(1) {
			runs = append(runs, p)
		}
		return nil
	})
	if len(runs) == 0 {
		t.Fatal("no phase-1 run_1.json")
	}
	want := []string{"Name: gen_ai.client.operation.duration"}
	for _, p := range runs {
		var rr profiler.RunResult
		b, err := os.ReadFile(p)
		if err != nil || json.Unmarshal(b, &rr) != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, a := range rr.Agents {
			if a.Metrics.TraceID == "" {
				t.Errorf("%s: agent %s has no trace_id", p, a.ID)
			}
			want = append(want, "Trace ID       : "+a.Metrics.TraceID)
		}
	}
	if got, ok := col.WaitFor(20*time.Second, want...); !ok {
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("collector output lacks %q", w)
			}
		}
	}
}
