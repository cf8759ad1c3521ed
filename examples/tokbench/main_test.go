package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"tr117/internal/ollamaserver"
	"tr117/tokbench"
	"tr117/tokenizer"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// isolate points every default tokenizer location at empty directories.
func isolate(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("OLLAMA_MODELS", filepath.Join(dir, "ollama"))
	t.Setenv("HF_HUB_CACHE", filepath.Join(dir, "hf"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	for _, f := range tokenizer.Fixtures() {
		if f.Name == name {
			p, err := f.FixturePath()
			if err != nil {
				t.Skipf("fixture %s not in the module cache: %v", name, err)
			}
			return p
		}
	}
	t.Fatalf("no fixture %s", name)
	return ""
}

func TestNamedTokenizer(t *testing.T) {
	isolate(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--tokenizer", "bert=" + fixture(t, "bert-base-uncased"),
		"--bytes", "9000", "--iterations", "2", "--parallel", "2", "--output-dir", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "Model | ") || !strings.Contains(stdout.String(), "Tokens/Sec | Latency (ms)") {
		t.Errorf("no table on stdout:\n%s", stdout.String())
	}
	var results []map[string]any
	data, err := os.ReadFile(filepath.Join(out, "tokenizer_bench.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0]["model"] != "bert" || results[0]["tokens"].(float64) != 2000 {
		t.Errorf("results %v", results)
	}
	for _, f := range tokbench.OutputFiles() {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// A second run does not overwrite silently, and says so before it
	// loads or benchmarks anything.
	stderr.Reset()
	if code := run(context.Background(), []string{"--tokenizer", "bert=" + fixture(t, "bert-base-uncased"), "--bytes", "100", "--output-dir", out}, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), out) || !strings.Contains(stderr.String(), "--overwrite") ||
		strings.Contains(stderr.String(), "bert:") || strings.Contains(stderr.String(), "warm-up") {
		t.Errorf("rerun: exit %d, want 2 with a message naming %s and --overwrite before any work:\n%s", code, out, stderr.String())
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"--tokenizer", "bert=" + fixture(t, "bert-base-uncased"), "--bytes", "100", "--iterations", "1", "--output-dir", out, "--overwrite"}, &stdout, &stderr); code != 0 {
		t.Errorf("rerun with --overwrite: exit %d\n%s", code, stderr.String())
	}
}

func TestDefaultFallsBackToModuleCache(t *testing.T) {
	isolate(t)
	fixture(t, "gemma2")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--bytes", "3000", "--iterations", "1", "--output-dir", t.TempDir()}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	for _, want := range []string{"gemma3:latest", "module cache", "llama3", "gemma2", "the ratio the 2× rule judges"} {
		if !strings.Contains(stderr.String()+stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, stderr.String(), stdout.String())
		}
	}
	// Issue 12: the fallback is one clear line, not a list of every
	// missing file: which models were not found where, and that the
	// module-cache fixtures stand in.
	if strings.Contains(stderr.String(), "no such file or directory") || strings.Count(stderr.String(), "not loaded") > 0 {
		t.Errorf("the default run lists the places it looked:\n%s", stderr.String())
	}
	var summary []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(line, "Not found: ") {
			summary = append(summary, line)
		}
	}
	store := os.Getenv("OLLAMA_MODELS")
	if len(summary) != 1 || !strings.Contains(summary[0], "gemma3:latest, ") || !strings.Contains(summary[0], "in the Ollama store "+store) ||
		!strings.Contains(summary[0], "Qwen/Qwen2.5-7B-Instruct, ") || !strings.Contains(summary[0], "in the Hugging Face caches (downloads off)") ||
		!strings.Contains(summary[0], "module-cache fixtures instead") {
		t.Errorf("want one line naming the models not found, where, and the fallback:\n%s", stderr.String())
	}
	// The fixtures are unrelated tokenizers: their comparisons are
	// labelled, not verdicts.
	n := 0
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.Contains(line, "as long as") {
			n++
			if strings.Contains(line, "FLAGGED") || !strings.Contains(line, "not a finding") {
				t.Errorf("comparison of fixtures reads as a finding: %s", line)
			}
		}
	}
	if n == 0 {
		t.Errorf("no comparisons on stdout:\n%s", stdout.String())
	}
}

func TestBackendsInOneRun(t *testing.T) {
	isolate(t)
	p := fixture(t, "llama3")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--tokenizer", "ollama=" + p, "--tokenizer", "exact@exact=" + p,
		"--bytes", "5000", "--iterations", "1", "--output-dir", t.TempDir()}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	for _, want := range []string{"ollama: ollama bpe", "exact@exact: exact bpe"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestNothingFound(t *testing.T) {
	isolate(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--tokenizer", "x=nosuch:latest,no/such-repo", "--output-dir", t.TempDir()}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"nosuch:latest", "Supply one of", "--allow-download"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// TestDownloadHint: the library's error names HubConfig.AllowDownload; the
// command adds its flag.
func TestDownloadHint(t *testing.T) {
	isolate(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--tokenizer", "x=org/nosuch", "--output-dir", t.TempDir()}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stderr.String(), "pass --allow-download to fetch those") {
		t.Errorf("stderr lacks the --allow-download hint:\n%s", stderr.String())
	}
}

// TestOllamaServer benchmarks the tokenizer of a model a real Ollama
// serves, named by URL and through --ollama-url for the default models (which
// the tiny server lacks, so the run falls back to the module cache and
// lists the server among the places it looked).
func TestOllamaServer(t *testing.T) {
	inst := ollamaserver.Start(t, 1)[0] // before isolate hides the cached binary
	isolate(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--tokenizer", "tiny=" + inst.URL + "/tiny",
		"--bytes", "3000", "--iterations", "1", "--output-dir", t.TempDir()}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if want := "tiny: ollama sentencepiece from " + inst.URL + "/tiny"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}

	fixture(t, "gemma2")
	stderr.Reset()
	code = run(context.Background(), []string{"--ollama-url", inst.URL, "--bytes", "3000", "--iterations", "1", "--output-dir", t.TempDir()}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	for _, want := range []string{"POST " + inst.URL + "/api/show gemma3:latest: ", "404", "module cache"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// Without --output-dir the files go under tr117-results/tokbench, where
// every tr117 command writes (and the repository ignores).
func TestDefaultOutputDir(t *testing.T) {
	isolate(t)
	p := fixture(t, "bert-base-uncased")
	t.Chdir(t.TempDir())
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--tokenizer", "bert=" + p, "--bytes", "100", "--iterations", "1"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	for _, f := range tokbench.OutputFiles() {
		if _, err := os.Stat(filepath.Join("tr117-results", "tokbench", f)); err != nil {
			t.Error(err)
		}
	}
}

func TestUsageMessage(t *testing.T) {
	for _, args := range [][]string{{"--nope"}, {"-h"}} {
		var stdout, stderr bytes.Buffer
		run(context.Background(), args, &stdout, &stderr)
		if !strings.Contains(stderr.String(), "usage: tokbench [flags]\n") || strings.Contains(stderr.String(), "Usage of") || !strings.Contains(stderr.String(), "-output-dir") {
			t.Errorf("%v: stderr lacks the usage line, as the other commands spell it, and the flags:\n%s", args, stderr.String())
		}
	}
}

// Ctrl-C exits 128+SIGINT, as dmon and profiler do, and leaves no files.
func TestInterrupted(t *testing.T) {
	isolate(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"--tokenizer", "bert=" + fixture(t, "bert-base-uncased"), "--bytes", "100", "--output-dir", out}, &stdout, &stderr); code != 130 {
		t.Errorf("exit %d, want 130\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say it was interrupted:\n%s", stderr.String())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output directory after an interrupt: %v, want none", err)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"--ollama-url", "localhost:11434"}, {"--tokenizer", "a=x", "--tokenizer", "a=y"}, {"--gemma-tokenizer", "x", "--tokenizer", "gemma=y"}, {"--iterations", "0"}, {"--nope"}, {"extra"}, {"--tokenizer", "noequals"}, {"--backend", "rust"}, {"--tokenizer", "a@rust=x"}, {"--hf-node-timeout", "0s"}, {"--hf-node-timeout", "5"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// unwritable returns a directory this process cannot create files in: a
// read-only directory, or (for root, whom permissions do not stop) a
// place in /sys. It skips the test when there is none.
func unwritable(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, "/sys"} {
		if f, err := os.CreateTemp(d, "probe-*"); err == nil {
			f.Close()
			os.Remove(f.Name())
			continue
		}
		return d
	}
	t.Skip("no unwritable directory here")
	return ""
}

// Issue 12: an output directory that cannot be written is refused before
// anything is loaded or benchmarked (it was found after 7 s of benchmarking,
// and the table was never printed).
func TestUnwritableOutputDirFirst(t *testing.T) {
	isolate(t)
	out := filepath.Join(unwritable(t), "tokbench-out")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--tokenizer", "bert=" + fixture(t, "bert-base-uncased"), "--bytes", "100", "--output-dir", out}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), out) || strings.Contains(stderr.String(), "bert:") || strings.Contains(stderr.String(), "warm-up") {
		t.Errorf("exit %d, want 1 (as every command) with an error naming %s before any work:\n%s", code, out, stderr.String())
	}
}

// Issue 12: a missing corpus is a usage error (exit 2) found before any
// tokenizer is loaded.
func TestMissingCorpusFirst(t *testing.T) {
	isolate(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--tokenizer", "bert=" + fixture(t, "bert-base-uncased"), "--corpus", "/nonexistent", "--output-dir", t.TempDir()}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "/nonexistent") || strings.Contains(stderr.String(), "bert:") {
		t.Errorf("exit %d, want 2 naming /nonexistent before loading tokenizers:\n%s", code, stderr.String())
	}
}

// hfNodeInstalled skips (fails in CI or with TR117_REQUIRE_HF_NODE) unless
// Hugging Face's library for Node.js is installed.
func hfNodeInstalled(t *testing.T, p string) {
	t.Helper()
	tok, err := tokenizer.LoadHFNode(p, tokenizer.HFNodeConfig{})
	if err == nil {
		tokenizer.Close(tok)
		return
	}
	if os.Getenv("CI") != "" || os.Getenv("TR117_REQUIRE_HF_NODE") != "" || !errors.Is(err, tokenizer.ErrNoHFNode) {
		t.Fatal(err)
	}
	t.Skip(err)
}

// One run races Ollama's Go tokenizer, tr117's exact backend and Hugging
// Face's own library on the same file and corpus; the table and the JSON
// say which is which, give the speed ratios to Hugging Face's library and
// check the ids against it.
func TestHFNodeBesideTheOthers(t *testing.T) {
	p := fixture(t, "llama3")
	hfNodeInstalled(t, p)
	if os.Getenv("TR117_HF_NODE_DIR") == "" { // isolate moves the cache
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("TR117_HF_NODE_DIR", filepath.Join(cache, "tr117", "hf-tokenizers", tokenizer.HFNodeVersion))
	}
	isolate(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--tokenizer", "ollama=" + p, "--tokenizer", "exact@exact=" + p, "--tokenizer", "hf@hf-node=" + p,
		"--bytes", "20000", "--iterations", "2", "--parallel", "2", "--output-dir", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	for _, want := range []string{"hf@hf-node: hf-node bpe from " + p, "Hugging Face tokenizers " + tokenizer.HFNodeVersion} {
		if !strings.Contains(stderr.String()+stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, stderr.String(), stdout.String())
		}
	}
	for _, want := range []string{"Beside Hugging Face's own library", "exact@exact (exact) runs at", "ollama (ollama) runs at", "exact@exact (exact): equal to hf@hf-node"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	var rep tokbench.Report
	data, err := os.ReadFile(filepath.Join(out, tokbench.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	backends := map[string]string{}
	for _, r := range rep.Results {
		backends[r.Model] = r.Info.Backend
	}
	if backends["ollama"] != "ollama" || backends["exact@exact"] != "exact" || backends["hf@hf-node"] != "hf-node" || len(rep.VersusHF) != 2 || len(rep.Parity) != 2 {
		t.Errorf("report: backends %v, versus_hf %+v, parity %+v", backends, rep.VersusHF, rep.Parity)
	}
}

// Without the npm package, hf-node is refused with how to install it, and
// the other tokenizers are still benchmarked.
func TestHFNodeNotInstalled(t *testing.T) {
	isolate(t)
	t.Setenv("TR117_HF_NODE_DIR", t.TempDir())
	p := fixture(t, "bert-base-uncased")
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--tokenizer", "bert=" + p, "--tokenizer", "hf@hf-node=" + p, "--bytes", "100", "--iterations", "1", "--output-dir", out}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "scripts/install-hf-tokenizers.sh") || !strings.Contains(stderr.String(), "hf@hf-node: not loaded") {
		t.Errorf("exit %d, want 1 with how to install hf-node:\n%s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, tokbench.JSONFile)); err != nil {
		t.Errorf("the other tokenizer's results: %v", err)
	}
}

// Issue 12: a tokenizer file that does not exist is a usage error (exit 2)
// found before any tokenizer is loaded, as a missing corpus is.
func TestMissingTokenizerFileFirst(t *testing.T) {
	isolate(t)
	for _, args := range [][]string{
		{"--tokenizer", "x=/no/such/tokenizer.json"},
		{"--tokenizer", "x=/no/such/tokenizer.json,./also/missing.model"},
		{"--gemma-tokenizer", "/no/such/tokenizer.json"},
	} {
		var stdout, stderr bytes.Buffer
		args = append(args, "--tokenizer", "bert="+fixture(t, "bert-base-uncased"), "--output-dir", t.TempDir())
		code := run(context.Background(), args, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), "/no/such/tokenizer.json") || strings.Contains(stderr.String(), "bert:") {
			t.Errorf("%v: exit %d, want 2 naming /no/such/tokenizer.json before loading tokenizers:\n%s", args, code, stderr.String())
		}
	}
	// A missing path with a model name to fall back on is not refused.
	if err := checkPaths([]tokbench.Spec{{Name: "x", Sources: []string{"/no/such.json", "gemma3:latest"}}}); err != nil {
		t.Errorf("fallback to a model name refused: %v", err)
	}
}

// Issue 12: an output directory under a regular file is refused (exit 1,
// as every command's unwritable directory) before any tokenizer is loaded.
func TestOutputDirUnderAFile(t *testing.T) {
	isolate(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(file, "out")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--tokenizer", "bert=" + fixture(t, "bert-base-uncased"), "--bytes", "100", "--output-dir", out}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), out) || strings.Contains(stderr.String(), "bert:") {
		t.Errorf("exit %d, want 1 naming %s before loading tokenizers:\n%s", code, out, stderr.String())
	}
}

// Issue 12: when the files cannot be written after the bench (the
// directory went away or became read-only meanwhile), the table is still
// printed and the error returned.
func TestTableWhenWritingFails(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	res := []tokbench.Result{{Model: "a", Source: "a", Tokens: 10, TokensPerSec: 1000, LatencyMs: 10, PassesMs: []float64{10}}}
	rep := &tokbench.Report{Config: tokbench.Config{Iterations: 1}, Results: res}
	var stdout bytes.Buffer
	err := writeReport(&stdout, filepath.Join(file, "out"), rep, false)
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("writeReport into a directory under a file: %v, want an error naming it", err)
	}
	if !strings.Contains(stdout.String(), "Tokens/Sec | Latency (ms)") {
		t.Errorf("no table on stdout:\n%s", stdout.String())
	}
}
