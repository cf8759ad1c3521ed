package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"tr117/examples/internal/cmdtest"
	"tr117/gpumon/gpumontest"
	"tr117/profiler"
	"tr117/profiler/ollamatest"
)

func TestMain(m *testing.M) {
	cmdtest.RunMainIfChild(envRunMain, "profiler", main)
	if os.Getenv(gpumontest.FakeSMIEnv) != "" {
		// Run as nvidia-smi, for the Prometheus test's GPU series.
		os.Exit(gpumontest.FakeSMIMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

func simURL(t *testing.T, cfg ollamatest.Config) string {
	t.Helper()
	srv := ollamatest.NewServer(cfg)
	t.Cleanup(func() { srv.Close() })
	return srv.URL
}

func TestProfilerRuns(t *testing.T) {
	sim := ollamatest.Config{Unpaced: true, ResponseTokens: 30}
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{
		"--runs", "2", "--scenario", "chimera_hetero", "--output-dir", dir,
		"--collector-ollama-url", simURL(t, sim), "--insight-ollama-url", simURL(t, sim),
		"--read-buffer-size", "8192", "--chimera2-num-ctx", "1024", "--chimera-top-k", "40",
		"--num-predict", "20", "--api", "chat", "--warmup", "--timeout", "0", "--idle-timeout", "5s",
	}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	runLines := 0
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "run ") {
			runLines++
		}
	}
	if runLines != 2 || !strings.Contains(out.String(), "summary:") {
		t.Errorf("stdout:\n%s", out.String())
	}
	var rr profiler.RunResult
	b, err := os.ReadFile(filepath.Join(dir, "run_2.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rr); err != nil {
		t.Fatal(err)
	}
	if rr.Scenario != "chimera_hetero" || rr.ReadBufferSize != 8192 || rr.API != "chat" || len(rr.Agents) != 2 {
		t.Fatalf("run_2.json: %+v", rr)
	}
	co, in := rr.Agents[0].Options, rr.Agents[1].Options
	if co["num_ctx"] != 512.0 || co["top_k"] != 40.0 || in["num_ctx"] != 1024.0 || in["top_k"] != nil || co["num_predict"] != 20.0 {
		t.Errorf("options: collector %v insight %v", co, in)
	}
	for _, a := range rr.Agents {
		if a.Metrics.TokensGenerated != 20 || a.Metrics.EvalCount != 20 {
			t.Errorf("agent %s: %+v", a.ID, a.Metrics)
		}
	}
	var summary struct {
		Config profiler.Config
	}
	if b, err := os.ReadFile(filepath.Join(dir, "summary.json")); err != nil || json.Unmarshal(b, &summary) != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if summary.Config.Timeout >= 0 || summary.Config.IdleTimeout != 5*time.Second || summary.Config.API != profiler.APIChat || !summary.Config.Warmup {
		t.Errorf("--timeout 0 --idle-timeout 5s gave config %+v", summary.Config)
	}
	for _, f := range []string{"chunk_metrics.csv", "loop_lag.csv", "summary.json", "run_1.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestProfilerAgentDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{
		"--runs", "1", "--output-dir", dir,
		"--collector-ollama-url", simURL(t, ollamatest.Config{Unpaced: true, ResponseTokens: 25}), "--insight-ollama-url", down,
	}, &out, &errOut)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(errOut.String(), "agent insight: "+down) {
		t.Errorf("stderr does not name the agent and URL:\n%s", errOut.String())
	}
	var rr profiler.RunResult
	b, _ := os.ReadFile(filepath.Join(dir, "run_1.json"))
	if err := json.Unmarshal(b, &rr); err != nil {
		t.Fatal(err)
	}
	if rr.Agents[0].Error != "" || rr.Agents[0].Metrics.TokensGenerated != 25 || rr.Agents[1].Error == "" {
		t.Errorf("agents %+v", rr.Agents)
	}
	// The refused agent's time is no completion time: no efficiency.
	if rr.EfficiencyPercent != nil || rr.ConcurrencySpeedup != nil || rr.ConcurrentWallTimeMS <= 0 {
		t.Errorf("efficiency %v speedup %v wall %v for a run with a failed agent", rr.EfficiencyPercent, rr.ConcurrencySpeedup, rr.ConcurrentWallTimeMS)
	}
	if s := out.String(); !strings.Contains(s, "speedup and efficiency: failed (1 of 2 agents failed)") || !strings.Contains(s, "efficiency: none") || strings.Contains(s, "efficiency mean") {
		t.Errorf("stdout shows an efficiency for a failed run:\n%s", s)
	}
	f, _ := os.Open(filepath.Join(dir, "chunk_metrics.csv"))
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Errorf("chunk_metrics.csv: %d rows, %v", len(rows), err)
	}
}

// TestProfilerURLFlags: a URL that is not http(s) with a host is bad usage,
// caught before any request, naming the flag.
func TestProfilerURLFlags(t *testing.T) {
	for _, tc := range []struct{ flag, url string }{
		{"collector-ollama-url", "notaurl"},
		{"insight-ollama-url", "localhost:11434"},
		{"insight-ollama-url", "ftp://host:21"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"--runs", "1", "--output-dir", t.TempDir(), "--" + tc.flag, tc.url}, &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), "--"+tc.flag) || !strings.Contains(errOut.String(), tc.url) || out.Len() > 0 {
			t.Errorf("--%s %s: exit %d, want 2 naming the flag; stdout %q stderr %q", tc.flag, tc.url, code, out.String(), errOut.String())
		}
	}
}

// TestProfilerOutputDirReused: results of an earlier run are not silently
// truncated or left stale: the command refuses the directory, naming a
// file, unless --overwrite, which removes them first.
func TestProfilerOutputDirReused(t *testing.T) {
	sim := simURL(t, ollamatest.Config{Unpaced: true, ResponseTokens: 5})
	dir := t.TempDir()
	args := func(runs string, more ...string) []string {
		return append([]string{"--runs", runs, "--output-dir", dir, "--collector-ollama-url", sim, "--insight-ollama-url", sim}, more...)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), args("2"), &out, &errOut); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, errOut.String())
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "chunk_metrics.csv"))
	out.Reset()
	errOut.Reset()
	code := run(context.Background(), args("1"), &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "already holds results ("+dir+string(filepath.Separator)) || !strings.Contains(errOut.String(), "--overwrite") {
		t.Fatalf("second run into the same dir: exit %d, stderr %q", code, errOut.String())
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "chunk_metrics.csv")); !bytes.Equal(before, after) {
		t.Error("the refused run changed chunk_metrics.csv")
	}
	errOut.Reset()
	if code := run(context.Background(), args("1", "--overwrite"), &out, &errOut); code != 0 {
		t.Fatalf("--overwrite: exit %d\n%s", code, errOut.String())
	}
	for name, want := range map[string]bool{"run_1.json": true, "run_2.json": false, "summary.json": true, "chunk_metrics.csv": true, "loop_lag.csv": true, "notes.txt": true} {
		if _, err := os.Stat(filepath.Join(dir, name)); (err == nil) != want {
			t.Errorf("after --overwrite --runs 1: %s exists %v, want %v", name, err == nil, want)
		}
	}
}

func TestProfilerDefaultOutputDir(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &errOut); code != 0 || !strings.Contains(errOut.String(), `(default "tr117-results/profiler")`) {
		t.Errorf("exit %d; --help:\n%s", code, errOut.String())
	}
}

// TestProfilerBothAgentsDown: each agent's failure is one stderr line that
// says which run, which agent and which URL.
func TestProfilerBothAgentsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--runs", "1", "--output-dir", t.TempDir(), "--collector-ollama-url", down, "--insight-ollama-url", down}, &out, &errOut)
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	if code != 1 || len(lines) != 2 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut.String())
	}
	for i, id := range []string{"collector", "insight"} {
		if want := "run 1: profiler: agent " + id + ": " + down + "/api/generate: dial tcp "; !strings.HasPrefix(lines[i], want) {
			t.Errorf("stderr line %q, want it to start %q", lines[i], want)
		}
	}
}

func TestProfilerUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--scenario", "nope"},
		{"--api", "completions"},
		{"--runs", "0"},
		{"--read-buffer-size", "-1"},
		{"--read-buffer-size", "1000000000"},
		{"--idle-timeout", "-1s"},
		{"--chimera-num-ctx", "big"},
		{"--no-such-flag"},
		{"extra"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestProfilerInterrupted(t *testing.T) {
	slow := ollamatest.Config{TokensPerSecond: 200, TTFT: -1, ResponseTokens: 100000}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Ctrl-C once the first run has streamed for a while.
	stop := time.AfterFunc(300*time.Millisecond, cancel)
	defer stop.Stop()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"--runs", "3", "--output-dir", dir,
		"--collector-ollama-url", simURL(t, slow), "--insight-ollama-url", simURL(t, slow)}, &out, &errOut)
	if code != 130 {
		t.Fatalf("exit %d, want 130", code)
	}
	if !strings.Contains(errOut.String(), "interrupted after 1 of 3 runs") {
		t.Errorf("stderr:\n%s", errOut.String())
	}
	var rr profiler.RunResult
	b, _ := os.ReadFile(filepath.Join(dir, "run_1.json"))
	if err := json.Unmarshal(b, &rr); err != nil {
		t.Fatal(err)
	}
	for _, a := range rr.Agents {
		if !strings.Contains(a.Error, "context canceled") || a.Metrics.TokensGenerated == 0 {
			t.Errorf("agent %s: error %q, %d tokens", a.ID, a.Error, a.Metrics.TokensGenerated)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "run_2.json")); err == nil {
		t.Error("run 2 ran after the interrupt")
	}
	f, _ := os.Open(filepath.Join(dir, "chunk_metrics.csv"))
	defer f.Close()
	if rows, err := csv.NewReader(f).ReadAll(); err != nil || len(rows) < 10 {
		t.Errorf("chunk_metrics.csv: %d rows, %v", len(rows), err)
	}
}
