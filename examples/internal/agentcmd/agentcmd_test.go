package agentcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tr117/examples/internal/backend"
	"tr117/profiler"
	"tr117/suite"
)

func TestCheckURLFlagNamesTheFlag(t *testing.T) {
	if err := CheckURLFlag("profiler", "collector-ollama-url", "http://localhost:11434"); err != nil {
		t.Fatal(err)
	}
	err := CheckURLFlag("throttle", "insight-ollama-url", "notaurl")
	if err == nil || !strings.HasPrefix(err.Error(), "throttle: --insight-ollama-url: ") || strings.Count(err.Error(), "profiler:") > 0 {
		t.Fatalf("err = %v, want one prefixed by the command and the flag only", err)
	}
}

func TestPrepareOutputDirNamesOverwrite(t *testing.T) {
	dir := t.TempDir()
	if err := PrepareOutputDir(dir, false); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "run_1.json"), []byte("{}"), 0o644)
	if err := PrepareOutputDir(dir, false); err == nil || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("err = %v, want a refusal naming --overwrite", err)
	}
	if err := PrepareOutputDir(dir, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run_1.json")); !os.IsNotExist(err) {
		t.Errorf("--overwrite kept the earlier run file: %v", err)
	}
}

func TestNoneIfZero(t *testing.T) {
	if NoneIfZero(0) >= 0 || NoneIfZero(5) != 5 {
		t.Error("0 must map to the library's 'none' (negative), others unchanged")
	}
}

// The suite's --collector-url and --insight-url are the names; the seed's
// --collector-ollama-url and --insight-ollama-url still work.
func TestURLFlagsAliases(t *testing.T) {
	for _, args := range [][]string{
		{"--collector-url", "http://a:1", "--insight-url", "http://b:2"},
		{"--collector-ollama-url", "http://a:1", "--insight-ollama-url", "http://b:2"},
	} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		c, i := URLFlags(fs)
		if err := fs.Parse(args); err != nil || *c != "http://a:1" || *i != "http://b:2" {
			t.Errorf("%q: %v, collector %q insight %q", args, err, *c, *i)
		}
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	c, i := URLFlags(fs)
	if *c != profiler.DefaultCollectorURL || *i != profiler.DefaultInsightURL {
		t.Errorf("defaults %q %q", *c, *i)
	}
}

// A series in which no agent measured anything leaves no files behind (a
// directory of failures blocked the retry); one that measured keeps them.
func TestRemoveIfNothingMeasured(t *testing.T) {
	failed := &profiler.RunResult{Run: 1, Agents: []profiler.AgentResult{{ID: "collector", Err: errors.New("refused")}, {ID: "insight", Err: errors.New("refused")}}}
	partial := &profiler.RunResult{Run: 1, Agents: []profiler.AgentResult{{ID: "collector", Err: errors.New("interrupted"), Metrics: profiler.AgentMetrics{Messages: 3}}, {ID: "insight", Err: errors.New("refused")}}}
	for _, tc := range []struct {
		name    string
		results []*profiler.RunResult
		removed bool
	}{
		{"none ran", nil, true},
		{"all failed", []*profiler.RunResult{failed}, true},
		{"interrupted mid-stream", []*profiler.RunResult{failed, partial}, false},
	} {
		dir := filepath.Join(t.TempDir(), "out")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"chunk_metrics.csv", "loop_lag.csv", "run_1.json", "summary.json"} {
			os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644)
		}
		got := RemoveIfNothingMeasured(dir, false, tc.results)
		_, err := os.Stat(dir)
		if got != tc.removed || (err == nil) == tc.removed {
			t.Errorf("%s: removed %v, dir exists %v; want removed %v", tc.name, got, err == nil, tc.removed)
		}
	}
}

func TestFailureTextInterrupted(t *testing.T) {
	for _, tc := range []struct {
		a    profiler.AgentResult
		want string
	}{
		{profiler.AgentResult{ID: "collector"}, ""},
		{profiler.AgentResult{ID: "insight", Error: "profiler: agent insight: context canceled", Err: fmt.Errorf("profiler: agent insight: %w", context.Canceled)}, " | insight interrupted"},
		{profiler.AgentResult{ID: "insight", Error: "profiler: agent insight: refused", Err: errors.New("refused")}, " | insight FAILED: profiler: agent insight: refused"},
	} {
		if got := FailureText(&tc.a); got != tc.want {
			t.Errorf("FailureText(%s, %v) = %q, want %q", tc.a.ID, tc.a.Err, got, tc.want)
		}
	}
}

// Warm-up is on unless turned off: a cold first run's solo baselines pay
// model loading, and a new user saw "true speedup 4.123 (efficiency
// 206.2%)" from two agents.
func TestConcurrencyFlagsWarmUpByDefault(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{{nil, true}, {[]string{"--warmup=false"}, false}} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		c := ConcurrencyFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		var cfg profiler.Config
		c.Apply(&cfg)
		if cfg.Warmup != tc.want {
			t.Errorf("%v: Warmup = %v, want %v", tc.args, cfg.Warmup, tc.want)
		}
	}
}

func TestPrepareBadBackendIsUsage(t *testing.T) {
	fs := flag.NewFlagSet("profiler", flag.ContinueOnError)
	dir := filepath.Join(t.TempDir(), "out")
	_, code, err := Prepare(context.Background(), fs, Setup{Cmd: "profiler", Mode: "simulated", Model: "tiny", Dir: dir, DirFlag: "output-dir",
		CollectorURL: "http://127.0.0.1:1", InsightURL: "http://127.0.0.1:1"}, io.Discard)
	if code != 2 || err == nil || !strings.Contains(err.Error(), `profiler: --backend "simulated"`) {
		t.Errorf("Prepare(--backend simulated) = exit %d, %v; want 2 naming --backend", code, err)
	}
}

// TestAnnounceVersions: real servers are named with their versions, and a
// build from source's 0.0.0 is not passed off as a release.
func TestAnnounceVersions(t *testing.T) {
	be := &backend.Backend{Name: suite.BackendOllama, Endpoints: []suite.Endpoint{
		{Role: "collector", URL: "http://127.0.0.1:11434", Version: "0.6.5"},
		{Role: "insight", URL: "http://127.0.0.1:11435", Version: "0.0.0"},
	}}
	var b strings.Builder
	Announce(&b, be)
	want := "Using http://127.0.0.1:11434 (collector, Ollama 0.6.5) and http://127.0.0.1:11435 (insight, Ollama unknown (development build, reports 0.0.0)).\n\n"
	if b.String() != want {
		t.Errorf("Announce:\n%s\nwant\n%s", b.String(), want)
	}
}

// A true efficiency above 100 % is flagged as no concurrency gain.
func TestEfficiencyTextFlagsImpossibleTrueEfficiency(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	rr := &profiler.RunResult{
		Agents:            make([]profiler.AgentResult, 2),
		EfficiencyPercent: f(90), ConcurrencySpeedup: f(1.8),
		TrueSpeedup: f(4.1), TrueEfficiencyPercent: f(206),
	}
	if got := EfficiencyText(rr); !strings.Contains(got, "not a concurrency gain") {
		t.Errorf("206%% true efficiency not flagged: %s", got)
	}
	rr.TrueSpeedup, rr.TrueEfficiencyPercent = f(1.6), f(80)
	if got := EfficiencyText(rr); strings.Contains(got, "not a concurrency gain") {
		t.Errorf("80%% true efficiency flagged: %s", got)
	}
}
