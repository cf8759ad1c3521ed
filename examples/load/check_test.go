package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tr117/load"
	"tr117/profiler/ollamatest"
	"tr117/suite"
)

// TestSimulatedServer: a run against the simulator, with no --output-dir,
// says SIMULATED on screen, in summary.json, requests.jsonl and report.md,
// and writes under tr117-results-sim/load, not among real results.
func TestSimulatedServer(t *testing.T) {
	t.Chdir(t.TempDir())
	url := sim(t, ollamatest.Config{TTFT: time.Millisecond, TokensPerSecond: 2000})
	code, stdout, stderr := runCmd(t, "--url", url, "--model", "tiny", "--rate", "50", "--requests", "4",
		"--output-tokens", "4", "--input-tokens", "8")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "SIMULATED") || !strings.Contains(stdout, "results in tr117-results-sim/load") {
		t.Errorf("stdout does not say SIMULATED and where the results are:\n%s", stdout)
	}
	dir := filepath.Join("tr117-results-sim", "load")
	if sum := readJSON(t, filepath.Join(dir, load.SummaryFile)); sum["simulated"] != true {
		t.Errorf("summary.json: simulated = %v", sum["simulated"])
	}
	for _, r := range readRecords(t, dir) {
		if !r.Simulated {
			t.Errorf("request %d not marked simulated", r.ID)
		}
	}
	rep, err := os.ReadFile(filepath.Join(dir, load.ReportFile))
	if err != nil || !strings.Contains(string(rep), "SIMULATED") {
		t.Errorf("report.md does not say SIMULATED (%v)", err)
	}
	if _, err := os.Stat("tr117-results"); err == nil {
		t.Error("a simulated run wrote under tr117-results")
	}
}

// TestUnpacedSimulator: an unpaced simulator's zero latencies are drawn,
// not a panic on the CDFs' log axes.
func TestUnpacedSimulator(t *testing.T) {
	url := sim(t, ollamatest.Config{Unpaced: true})
	dir := t.TempDir()
	code, stdout, stderr := runCmd(t, "--url", url, "--model", "tiny", "--concurrency", "2", "--requests", "6",
		"--output-tokens", "4", "--input-tokens", "8", "--output-dir", dir, "--overwrite")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, f := range []string{"plots/ttft_cdf.png", "plots/itl_cdf.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestServerCheckedFirst: a server that does not answer, or lacks the
// model, is one message naming the endpoint (exit 1) before anything is
// sent or written.
func TestServerCheckedFirst(t *testing.T) {
	url := sim(t, ollamatest.Config{TTFT: time.Millisecond})
	for _, tc := range []struct {
		url, model string
		want       []string
	}{
		{closedURL(t), "tiny", []string{"does not answer", "--url"}},
		{url, "no-such-model", []string{"no-such-model", url, "--model", "simulator"}},
	} {
		out := filepath.Join(t.TempDir(), "out")
		code, stdout, stderr := runCmd(t, "--url", tc.url, "--model", tc.model, "--rate", "10", "--requests", "2", "--output-dir", out)
		if code != 1 {
			t.Errorf("%s %s: exit %d, want 1\n%s%s", tc.url, tc.model, code, stdout, stderr)
		}
		for _, w := range append(tc.want, tc.url) {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s %s: stderr lacks %q:\n%s", tc.url, tc.model, w, stderr)
			}
		}
		if strings.Contains(stderr, "agent request") || strings.Count(stderr, "\n") > 3 {
			t.Errorf("%s %s: not one message:\n%s", tc.url, tc.model, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s %s: the output directory was created", tc.url, tc.model)
		}
	}
}

func closedURL(t *testing.T) string {
	t.Helper()
	return "http://" + closedAddr(t)
}

// TestFlagErrorsOnce: a flag's error names the flag once, without the
// library's prefix again, and a value of the wrong type is one line (exit
// 2), in the run and in merge.
func TestFlagErrorsOnce(t *testing.T) {
	for _, args := range [][]string{
		{"--rate", "1", "--arrival", "uniform"},
		{"--rate", "1", "--api", "grpc"},
		{"--rate", "1", "--segment", "x"},
		{"--rate", "1", "--goodput", "x"},
		{"--sweep", "1,x"},
		{"--rate", "x"},
		{"merge", "--goodput", "x", "somewhere"},
		{"merge", "--bootstrap-resamples", "many", "somewhere"},
	} {
		code, _, stderr := runCmd(t, args...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and one line", args, code, stderr)
		}
		for _, doubled := range []string{": load: ", ": profiler: "} {
			if strings.Contains(stderr, doubled) {
				t.Errorf("%q: prefix repeated: %s", args, stderr)
			}
		}
	}
}

// TestAnnounceDevBuild: a real Ollama built from source reports 0.0.0,
// which is not passed off as a release.
func TestAnnounceDevBuild(t *testing.T) {
	var b strings.Builder
	announce(&b, "http://127.0.0.1:11434", server{checked: true, ep: suite.Endpoint{Version: "0.0.0"}})
	if want := "server: http://127.0.0.1:11434 (Ollama unknown (development build, reports 0.0.0))\n"; b.String() != want {
		t.Errorf("announce: %q, want %q", b.String(), want)
	}
}

// TestOpenAIServerCheckedFirst: with --api openai-*, a silent --url is
// one message (exit 1) before anything is written, as with Ollama's APIs.
func TestOpenAIServerCheckedFirst(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	url := closedURL(t)
	code, stdout, stderr := runCmd(t, "--url", url, "--api", "openai-chat", "--model", "tiny", "--rate", "10", "--requests", "2", "--output-dir", out)
	if code != 1 || !strings.Contains(stderr, url+" does not answer GET /v1/models") {
		t.Errorf("exit %d, want 1 naming %s\n%s%s", code, url, stdout, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the output directory was created")
	}
}
