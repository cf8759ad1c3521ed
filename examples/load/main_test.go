package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tr117/examples/internal/cmdtest"
	"tr117/gpumon/gpumontest"
	"tr117/load"
	"tr117/profiler/ollamatest"
)

// envRunMain makes the test binary run the command's main (see
// cmdtest.RunMainIfChild), for worker processes and real signals.
const envRunMain = "TR117_TEST_RUN_LOAD_MAIN"

func TestMain(m *testing.M) {
	cmdtest.RunMainIfChild(envRunMain, "load", main)
	if os.Getenv(gpumontest.FakeSMIEnv) != "" {
		// Run as nvidia-smi, for the Prometheus test's GPU series.
		os.Exit(gpumontest.FakeSMIMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func sim(t *testing.T, cfg ollamatest.Config) string {
	t.Helper()
	srv := ollamatest.NewServer(cfg)
	t.Cleanup(func() { srv.Close() })
	return srv.URL
}

func readRecords(t *testing.T, dir string) []load.Record {
	t.Helper()
	recs, err := load.ReadRecordsFile(filepath.Join(dir, load.RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func TestBadUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"prompt\": \"hi\"}\n\n{\"prompt\": \"x\", \"max_tokens\": 4}\n{\"prompt\": oops}\n"), 0o644)
	out := filepath.Join(dir, "out")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rate", "0"}, "--rate 0: must be positive"},
		{[]string{"--rate", "-2"}, "--rate -2: must be positive"},
		{[]string{}, "give --rate"},
		{[]string{"--rate", "1", "--segment", "3/2"}, "segment 3/2: the index must be at least 0 and below the count"},
		{[]string{"--rate", "1", "--segment", "x"}, "--segment"},
		{[]string{"--rate", "1", "--dataset", bad}, "bad.jsonl: line 4: not a JSON object"},
		{[]string{"--rate", "1", "--dataset", filepath.Join(dir, "missing.jsonl")}, "missing.jsonl"},
		{[]string{"--rate", "1", "--goodput", "ttft"}, "--goodput"},
		{[]string{"--sweep", "1,x"}, "--sweep"},
		{[]string{"--concurrency", "2", "--sweep", "auto"}, "--sweep auto raises the rate"},
		{[]string{"--rate", "1", "--concurrency", "2"}, "give one"},
		{[]string{"--rate", "1", "--start-at", "tomorrow"}, "--start-at"},
		{[]string{"--rate", "1", "--url", "localhost:11434"}, "--url"},
		{[]string{"--rate", "1", "--api", "grpc"}, "--api"},
		{[]string{"--rate", "1", "--arrival", "uniform"}, "--arrival"},
		{[]string{"--rate", "1", "--burstiness", "2"}, "--arrival gamma"},
		{[]string{"--rate", "1", "--options", "[1]"}, "--options"},
		{[]string{"--rate", "1", "extra"}, "unexpected arguments"},
		{[]string{"--rate", "1", "--tokenizer", filepath.Join(dir, "no-tokenizer.json")}, "--tokenizer"},
		{[]string{"--concurrency", "2", "--sweep", "1,1.5"}, "not a whole number"},
		{[]string{"--rate", "1", "--dataset", bad, "--input-tokens", "5"}, "describe synthetic prompts"},
		{[]string{"--rate", "1", "--output-spread", "1"}, "spreads in [0, 1)"},
		{[]string{"--sweep", "auto", "--segment", "0/2"}, "runs on one machine"},
	} {
		code, _, stderr := runCmd(t, append(tc.args, "--output-dir", out)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a bad command line created the output directory")
	}
}

func TestRunWritesResults(t *testing.T) {
	url := sim(t, ollamatest.Config{TTFT: time.Millisecond, TokensPerSecond: 2000})
	dir := filepath.Join(t.TempDir(), "out")
	args := []string{"--url", url, "--model", "tiny", "--rate", "100", "--requests", "20", "--arrival", "gamma", "--burstiness", "0.5",
		"--output-tokens", "6", "--input-tokens", "10", "--goodput", "ttft:1s,e2e:10s", "--seed", "3", "--output-dir", dir}
	code, stdout, stderr := runCmd(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	recs := readRecords(t, dir)
	if len(recs) != 20 {
		t.Fatalf("%d records", len(recs))
	}
	for _, r := range recs {
		if r.EvalCount == nil || *r.EvalCount != 6 || r.TokensGenerated != 6 {
			t.Errorf("request %d: eval_count %v, %d tokens; want 6", r.ID, r.EvalCount, r.TokensGenerated)
		}
	}
	sum := readJSON(t, filepath.Join(dir, load.SummaryFile))
	for _, k := range []string{"requested_rate", "achieved_rate", "schedule_delay_ms", "request_throughput", "output_tokens_per_second", "ttft_ms", "ttfc_ms", "itl_ms", "tpot_ms", "e2e_ms", "errors", "goodput", "config"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary.json has no %q", k)
		}
	}
	if g := sum["goodput"].(map[string]any); g["share"] != 1.0 {
		t.Errorf("goodput %v", g)
	}
	v := readJSON(t, filepath.Join(dir, load.VLLMFile))
	for _, k := range []string{"request_rate", "burstiness", "completed", "request_goodput", "output_throughput", "ttfts", "itls", "mean_ttft_ms", "median_tpot_ms", "p99_itl_ms", "std_e2el_ms"} {
		if _, ok := v[k]; !ok {
			t.Errorf("vllm_result.json has no %q", k)
		}
	}
	if v["request_rate"] != 100.0 || v["burstiness"] != 0.5 || v["completed"] != 20.0 {
		t.Errorf("vllm result: rate %v, burstiness %v, completed %v", v["request_rate"], v["burstiness"], v["completed"])
	}
	for _, f := range []string{load.ReportFile, "plots/ttft_cdf.png", "plots/in_flight.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if code, _, stderr := runCmd(t, args...); code != 2 || !strings.Contains(stderr, "--overwrite") {
		t.Errorf("second run into one directory: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCmd(t, append(args, "--overwrite")...); code != 0 {
		t.Errorf("--overwrite: exit %d, %s", code, stderr)
	}
}

func TestClosedLoopSweep(t *testing.T) {
	url := sim(t, ollamatest.Config{TTFT: time.Millisecond, TokensPerSecond: 2000})
	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCmd(t, "--url", url, "--model", "tiny", "--concurrency", "1", "--sweep", "1,3", "--requests", "9",
		"--output-tokens", "4", "--output-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, p := range []string{"concurrency-1", "concurrency-3"} {
		if n := len(readRecords(t, filepath.Join(dir, p))); n != 9 {
			t.Errorf("%s: %d records", p, n)
		}
	}
	sw := readJSON(t, filepath.Join(dir, load.SweepFile))
	if pts := sw["points"].([]any); len(pts) != 2 {
		t.Errorf("sweep.json: %d points", len(pts))
	}
}

// TestSweepAutoSaturates: a server that serves one request at a time at
// about 100 a second saturates as the rate doubles from 25.
func TestSweepAutoSaturates(t *testing.T) {
	url := sim(t, ollamatest.Config{TTFT: time.Millisecond, TokensPerSecond: 1000, Parallel: 1})
	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCmd(t, "--url", url, "--model", "tiny", "--sweep", "auto", "--rate", "25", "--requests", "40",
		"--arrival", "constant", "--output-tokens", "8", "--sweep-max-points", "6", "--output-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "saturated at rate-") {
		t.Fatalf("no saturation named:\n%s", stdout)
	}
	report, _ := os.ReadFile(filepath.Join(dir, load.ReportFile))
	if !strings.Contains(string(report), "The server saturated at **rate-") {
		t.Errorf("report.md:\n%s", report)
	}
	// The title says what was loaded and where, not just "Load run".
	if first, _, _ := strings.Cut(string(report), "\n"); !strings.Contains(first, "tiny at "+url) {
		t.Errorf("report.md title %q names neither the model nor the URL", first)
	}
	if page, err := os.ReadFile(filepath.Join(dir, load.HTMLReportFile)); err != nil || !strings.Contains(string(page), "The server saturated at <strong>rate-") {
		t.Errorf("report.html (%v) lacks the saturation verdict", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "plots", "pareto.png")); err != nil {
		t.Error(err)
	}
}

// TestDatasetSessions sends a JSONL dataset as two-turn sessions: each
// line's max_tokens is sent (else --output-tokens), and the summary reports
// prompt evaluation per turn.
func TestDatasetSessions(t *testing.T) {
	url := sim(t, ollamatest.Config{TTFT: time.Millisecond, TokensPerSecond: 2000})
	dir := t.TempDir()
	ds := filepath.Join(dir, "prompts.jsonl")
	os.WriteFile(ds, []byte(`{"prompt": "Tell me a story", "max_tokens": 3}
{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]}
`), 0o644)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCmd(t, "--url", url, "--model", "tiny", "--api", "chat", "--dataset", ds, "--output-tokens", "5",
		"--turns", "2", "--rate", "50", "--requests", "4", "--output-dir", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	recs := readRecords(t, out)
	if len(recs) != 8 {
		t.Fatalf("%d records, want 4 sessions × 2 turns", len(recs))
	}
	for _, r := range recs {
		// Session k's turn t is item (2k+t) mod 2: turn 0 the story (3
		// tokens), turn 1 the chat line (the default 5).
		want := 3
		if r.Turn == 1 {
			want = 5
		}
		if r.TokensGenerated != want || r.MaxTokens != want {
			t.Errorf("session %d turn %d: %d tokens, max %d; want %d", r.ID, r.Turn, r.TokensGenerated, r.MaxTokens, want)
		}
	}
	sum := readJSON(t, filepath.Join(out, load.SummaryFile))
	if turns, _ := sum["turns"].([]any); len(turns) != 2 {
		t.Errorf("summary turns %v", sum["turns"])
	}
	if sum["input_tokens_approximated"] != false {
		t.Error("a dataset's input tokens are said to be approximated")
	}
}

func TestHelpAndMergeUsage(t *testing.T) {
	if code, _, stderr := runCmd(t, "-h"); code != 0 || !strings.Contains(stderr, "usage: load [flags]") || !strings.Contains(stderr, "-sweep") {
		t.Errorf("-h: exit %d, %s", code, stderr)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"merge"}, 2, "name at least one worker's output directory"},
		{[]string{"merge", "--goodput", "x", dir}, 2, "goodput limit"},
		{[]string{"merge", "--output-dir", filepath.Join(dir, "m"), filepath.Join(dir, "nowhere")}, 1, filepath.Join(dir, "nowhere", load.RecordsFile)},
	} {
		code, _, stderr := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, %s; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	// A worker's requests.jsonl cut mid-line is named with its line.
	w := filepath.Join(dir, "w")
	os.MkdirAll(w, 0o755)
	os.WriteFile(filepath.Join(w, load.RecordsFile), []byte("{\"id\":0,\"scheduled_ms\":0,\"sent_ms\":0,\"e2e_ms\":1,\"end_ms\":1,\"error\":\"\"}\n{\"id\":1,\"sch"), 0o644)
	code, _, stderr := runCmd(t, "merge", "--output-dir", filepath.Join(dir, "m2"), w)
	if code != 1 || !strings.Contains(stderr, "line 2") {
		t.Errorf("cut record: exit %d, %s", code, stderr)
	}
}

// TestSweepInterrupted: Ctrl-C during a sweep's second point exits 130
// with the first point whole, the second's requests recorded as
// interrupted, and the sweep's report written.
func TestSweepInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	url := sim(t, ollamatest.Config{TTFT: time.Millisecond, TokensPerSecond: 2000,
		FaultFunc: func(r ollamatest.Request) ollamatest.Fault {
			if r.Seq <= 3 {
				return ollamatest.Fault{}
			}
			once.Do(func() { time.AfterFunc(50*time.Millisecond, cancel) })
			return ollamatest.Fault{Kind: ollamatest.FaultStall, After: 1}
		}})
	dir := filepath.Join(t.TempDir(), "out")
	var o, e bytes.Buffer
	code := run(ctx, []string{"--url", url, "--model", "tiny", "--sweep", "50,100", "--requests", "3", "--arrival", "constant",
		"--output-tokens", "4", "--output-dir", dir}, &o, &e)
	if code != 130 {
		t.Fatalf("exit %d\n%s%s", code, o.String(), e.String())
	}
	if n := len(readRecords(t, filepath.Join(dir, "rate-50"))); n != 3 {
		t.Errorf("rate-50: %d records", n)
	}
	for _, r := range readRecords(t, filepath.Join(dir, "rate-100")) {
		if r.ErrorKind != "interrupted" {
			t.Errorf("rate-100 request %d: %q", r.ID, r.ErrorKind)
		}
	}
	sw := readJSON(t, filepath.Join(dir, load.SweepFile))
	if pts := sw["points"].([]any); len(pts) != 2 {
		t.Errorf("sweep.json: %d points", len(pts))
	}
	if _, err := os.Stat(filepath.Join(dir, load.ReportFile)); err != nil {
		t.Error(err)
	}
}

// TestOpenAIAPIs runs the load against the simulator's OpenAI-compatible
// endpoints: num_predict goes out as max_tokens, and the usage counts come
// back as eval_count.
func TestOpenAIAPIs(t *testing.T) {
	url := sim(t, ollamatest.Config{TTFT: time.Millisecond, TokensPerSecond: 2000})
	for _, api := range []string{"openai-chat", "openai-completions"} {
		dir := filepath.Join(t.TempDir(), api)
		code, stdout, stderr := runCmd(t, "--url", url, "--model", "tiny", "--api", api, "--rate", "50", "--requests", "5",
			"--output-tokens", "6", "--input-tokens", "10", "--output-dir", dir)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", api, code, stdout, stderr)
		}
		for _, r := range readRecords(t, dir) {
			if r.TokensGenerated != 6 || r.EvalCount == nil || *r.EvalCount != 6 || r.TTFTMS == nil || r.TTFCMS == nil {
				t.Errorf("%s: request %d: %d tokens, eval_count %v, ttft %v, ttfc %v", api, r.ID, r.TokensGenerated, r.EvalCount, r.TTFTMS, r.TTFCMS)
			}
		}
	}
}

// An output directory that cannot be created is one line naming it, before
// any request is sent, not an empty run summary and repeated sink errors.
func TestUnwritableOutputDirFirst(t *testing.T) {
	url := sim(t, ollamatest.Config{TTFT: time.Millisecond, TokensPerSecond: 1000})
	// /proc refuses new entries even to root, where file modes do not.
	code, stdout, stderr := runCmd(t, "--url", url, "--model", "tiny", "--rate", "5", "--requests", "2", "--output-dir", "/proc/tr117-load-test")
	if code != 1 || !strings.Contains(stderr, "load: cannot write results to /proc/tr117-load-test") || strings.Count(strings.TrimSpace(stderr), "\n") > 0 || strings.Contains(stdout, "requests,") {
		t.Errorf("exit %d\nstdout %q\nstderr %q\nwant exit 1 and one line naming the directory, before any request", code, stdout, stderr)
	}
}

// --backend sim tries the command without any server: an embedded
// simulator answers, the run says SIMULATED and its results go under the
// simulated root; --url beside it, or another backend, is a usage error.
func TestBackendSim(t *testing.T) {
	t.Chdir(t.TempDir())
	code, stdout, stderr := runCmd(t, "--backend", "sim", "--model", "tiny", "--rate", "20", "--requests", "4", "--output-tokens", "4")
	if code != 0 || !strings.Contains(stdout, "SIMULATED") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if b, err := os.ReadFile(filepath.Join("tr117-results-sim", "load", load.SummaryFile)); err != nil || !strings.Contains(string(b), `"simulated": true`) {
		t.Errorf("summary under tr117-results-sim/load (%v):\n%s", err, b)
	}
	for _, args := range [][]string{{"--backend", "sim", "--url", "http://127.0.0.1:1", "--rate", "1"}, {"--backend", "vllm", "--rate", "1"}} {
		if code, _, stderr := runCmd(t, args...); code != 2 || !strings.Contains(stderr, "--backend") {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming --backend", args, code, stderr)
		}
	}
}
