package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
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

// TestProfilerAgentDown: one silent endpoint stops the command before any
// run, naming the endpoint and the way out, and leaves nothing behind.
func TestProfilerAgentDown(t *testing.T) {
	down := deadURL(t)
	dir := filepath.Join(t.TempDir(), "out")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{
		"--runs", "1", "--output-dir", dir,
		"--collector-url", simURL(t, ollamatest.Config{Unpaced: true, ResponseTokens: 25}), "--insight-url", down,
	}, &out, &errOut)
	if code != 1 || !strings.HasPrefix(errOut.String(), "profiler: insight endpoint "+down) || !strings.Contains(errOut.String(), "--backend sim") || strings.Contains(errOut.String(), "suite") {
		t.Errorf("exit %d, want 1 naming the insight endpoint:\n%s", code, errOut.String())
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("%s was created", dir)
	}
}

// deadURL is a loopback URL where nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}

// TestProfilerURLFlags: a URL that is not http(s) with a host is bad usage,
// caught before any request, naming the flag.
func TestProfilerURLFlags(t *testing.T) {
	for _, tc := range []struct{ flag, url string }{
		{"collector-url", "notaurl"},
		{"insight-url", "localhost:11434"},
		{"insight-url", "ftp://host:21"},
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

// TestProfilerBackends: with no server answering, --backend ollama stops
// before any run naming both endpoints and writes nothing; the default
// (auto) runs against the embedded simulators, says so on screen and in
// every file, and writes under tr117-results-sim, not tr117-results.
func TestProfilerBackends(t *testing.T) {
	down := deadURL(t)
	t.Chdir(t.TempDir())
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--runs", "1", "--backend", "ollama", "--collector-url", down, "--insight-url", down}, &out, &errOut)
	if code != 1 || strings.Count(errOut.String(), down) < 2 || out.Len() > 0 {
		t.Errorf("--backend ollama, nothing up: exit %d\nstdout %s\nstderr %s", code, out.String(), errOut.String())
	}
	if ents, _ := os.ReadDir("."); len(ents) > 0 {
		t.Errorf("left behind: %v", ents)
	}
	out.Reset()
	errOut.Reset()
	code = run(context.Background(), []string{"--runs", "1", "--collector-url", down, "--insight-url", down, "--num-predict", "8"}, &out, &errOut)
	if code != 0 || !strings.HasPrefix(out.String(), "SIMULATED: no real Ollama used") || !strings.Contains(out.String(), "\nSIMULATED: tr117's Ollama simulator answered") {
		t.Errorf("auto, nothing up: exit %d\nstdout %s\nstderr %s", code, out.String(), errOut.String())
	}
	for _, f := range []string{"run_1.json", "summary.json"} {
		b, err := os.ReadFile(filepath.Join("tr117-results-sim", "profiler", f))
		if err != nil || !strings.Contains(string(b), `"simulated": true`) {
			t.Errorf("%s: %v, does not say simulated:\n%.400s", f, err, b)
		}
	}
	if _, err := os.Stat("tr117-results"); err == nil {
		t.Error("simulated results went to tr117-results")
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
		{"--backend", "simulated"},
		{"--lag-interval", "0"},
		{"--lag-interval", "10"},
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
	code := run(ctx, []string{"--runs", "3", "--solo-baseline=false", "--output-dir", dir,
		"--collector-ollama-url", simURL(t, slow), "--insight-ollama-url", simURL(t, slow)}, &out, &errOut)
	if code != 130 {
		t.Fatalf("exit %d, want 130", code)
	}
	if !strings.Contains(errOut.String(), "interrupted after 1 of 3 runs") {
		t.Errorf("stderr:\n%s", errOut.String())
	}
	// Ctrl-C'd agents are interrupted, not failed, and the output says
	// where the results are.
	for _, want := range []string{"| collector interrupted", "| insight interrupted", "(0 with failures, 1 interrupted)", "results in " + dir + "\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "FAILED") {
		t.Errorf("stdout calls an interrupted agent FAILED:\n%s", out.String())
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

// TestProfilerConsumerFlags: --single-loop and --consumer-cost reach the
// run file, and every run line and the summary show the true efficiency
// beside the seed's and the balance bound.
func TestProfilerConsumerFlags(t *testing.T) {
	sim := ollamatest.Config{TokensPerSecond: 500, TTFT: 2 * time.Millisecond, ResponseTokens: 20}
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--runs", "1", "--output-dir", dir, "--single-loop", "--consumer-cost", "100us", "--lag-interval", "20ms",
		"--collector-ollama-url", simURL(t, sim), "--insight-ollama-url", simURL(t, sim)}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"true speedup ", "seed efficiency ", "balance bound ", "true efficiency mean "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	var rr profiler.RunResult
	b, err := os.ReadFile(filepath.Join(dir, "run_1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rr); err != nil {
		t.Fatal(err)
	}
	if !rr.Consumer.SingleLoop || rr.Consumer.Cost != 100*time.Microsecond || !rr.SoloBaseline || rr.TrueSpeedup == nil {
		t.Errorf("run_1.json: consumer %+v, solo baseline %v, true speedup %v", rr.Consumer, rr.SoloBaseline, rr.TrueSpeedup)
	}
	if rr.LoopLag.Interval != 20*time.Millisecond {
		t.Errorf("run_1.json: lag interval %v, want --lag-interval's 20ms", rr.LoopLag.Interval)
	}
}

// TestProfilerUnwritableOutputDir: a directory results cannot go to is
// one error, before any endpoint is asked, with no empty summary.
func TestProfilerUnwritableOutputDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--runs", "1", "--backend", "sim", "--output-dir", filepath.Join(file, "out")}, &out, &errOut)
	if code != 1 || strings.Count(errOut.String(), "\n") != 1 || !strings.HasPrefix(errOut.String(), "profiler: cannot write results to "+filepath.Join(file, "out")) || out.Len() > 0 {
		t.Errorf("exit %d\nstdout %q\nstderr %q; want 1 and one line", code, out.String(), errOut.String())
	}
}

// TestProfilerChimeraFlagsSayWho: every --chimera-* and --chimera2-* flag
// says which agent sends it, and a second set the scenario ignores is
// refused rather than dropped.
func TestProfilerChimeraFlagsSayWho(t *testing.T) {
	var out, errOut bytes.Buffer
	run(context.Background(), []string{"-h"}, &out, &errOut)
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	optionFlags(fs, "chimera", chimeraWho, new(profiler.Options))
	optionFlags(fs, "chimera2", chimera2Who, new(profiler.Options))
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		if !strings.Contains(f.Usage, "sent by") {
			t.Errorf("--%s: %q does not say which agent sends it", f.Name, f.Usage)
		}
		if !strings.Contains(errOut.String(), "-"+f.Name) {
			t.Errorf("-h does not list --%s", f.Name)
		}
	})
	if n != 12 {
		t.Errorf("%d option flags, want 12", n)
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"--chimera2-num-ctx", "2048", "--output-dir", t.TempDir()}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "--chimera2-num-ctx: scenario chimera_homo sends no second option set") {
		t.Errorf("--chimera2-num-ctx with chimera_homo: exit %d, stderr %q", code, errOut.String())
	}
}

// TestProfilerTypoOnSimulator: a model the simulator does not serve stops
// the command before any run, listing what it serves, without advising
// "ollama pull".
func TestProfilerTypoOnSimulator(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--backend", "sim", "--model", "gemma3:latst", "--output-dir", dir}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "profiler: gemma3:latst is not on collector") || !strings.Contains(errOut.String(), "gemma3:latest") || strings.Contains(errOut.String(), "pull") {
		t.Errorf("exit %d\nstderr:\n%s", code, errOut.String())
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("%s was created", dir)
	}
}
