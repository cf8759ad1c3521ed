package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"tr117/profiler/ollamatest"
	"tr117/suite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb strings.Builder
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// deadURL is a loopback URL no server answers.
func deadURL(t *testing.T) string {
	srv := ollamatest.NewServer(ollamatest.Config{})
	u := srv.URL
	srv.Close()
	return u
}

// TestDefaultPlanFallsBackToSimulator runs the default plan (one run per
// condition, short completions, a fast simulator) with endpoints that do
// not answer: it must say it is simulated and produce the report.
func TestDefaultPlanFallsBackToSimulator(t *testing.T) {
	root := t.TempDir()
	dead := deadURL(t)
	code, out, errs := runCmd(t, "--runs", "1", "--num-predict", "16", "--sim-tokens-per-sec", "1000",
		"--collector-url", dead, "--insight-url", dead, "--output-root", root, "--throttle-rates", "500")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.HasPrefix(out, "SIMULATED: no real Ollama used") || !strings.Contains(out, dead) || !strings.Contains(out, "Done in") {
		t.Errorf("stdout does not announce the simulator:\n%s", out)
	}
	man, err := suite.ReadManifest(root)
	if err != nil {
		t.Fatal(err)
	}
	var sims map[string]ollamatest.Config
	if err := json.Unmarshal(man.Simulator, &sims); err != nil || sims["insight"].TokensPerSecond != 1000 || sims["collector"].Rates["qwen2.5:7b"] != 700 || sims["insight"].Seed != 2 {
		t.Errorf("manifest: simulator %s (%v)", man.Simulator, err)
	}
	if !man.Simulated || len(man.Runs) != 5 {
		t.Errorf("manifest: simulated %v, %d runs", man.Simulated, len(man.Runs))
	}
	md, err := os.ReadFile(filepath.Join(root, suite.ReportMarkdown))
	if err != nil || !strings.HasPrefix(string(md), "> **SIMULATED") {
		t.Errorf("report.md: %v %.80q", err, md)
	}
	// Again on the same root: everything is resumed, nothing re-run.
	code, out, errs = runCmd(t, "--runs", "1", "--num-predict", "16", "--sim-tokens-per-sec", "1000",
		"--collector-url", dead, "--insight-url", dead, "--output-root", root, "--throttle-rates", "500", "--backend", "sim")
	if code != 0 || !strings.Contains(out, "resuming: 5 of 5 runs already finished") || !strings.Contains(out, "5 runs (5 resumed)") {
		t.Errorf("second invocation: exit %d\n%s\n%s", code, out, errs)
	}
}

func TestBackendOllamaRefusesDeadEndpoints(t *testing.T) {
	dead := deadURL(t)
	code, out, errs := runCmd(t, "--backend", "ollama", "--collector-url", dead, "--insight-url", dead, "--output-root", t.TempDir())
	if code != 1 || !strings.Contains(errs, "collector endpoint "+dead) || !strings.Contains(errs, "--backend sim") || strings.Contains(out, "SIMULATED") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--backend", "cloud"},
		{"--runs", "0"},
		{"--buffers", "huge"},
		{"--scenario", "nope"},
		{"--hardware-cmd-template", "bench | tee log"},
		{"--plan", "/nonexistent/plan.yaml"},
		{"extra-arg"},
	} {
		if code, _, errs := runCmd(t, args...); code != 2 || errs == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", args, code, errs)
		}
	}
}

func TestPlanFileAndDryRun(t *testing.T) {
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.yaml")
	os.WriteFile(plan, []byte("mri:\n  buffers: [default, 64k]\n  runs: 2\nthrottle:\n  skip: true\nhardware:\n  models: [qwen2.5:7b]\n"), 0o644)
	code, out, errs := runCmd(t, "--plan", plan, "--hardware-models", "gemma3:latest", "--dry-run")
	want := "phase1/gemma3_latest/default/run_1\nphase1/gemma3_latest/default/run_2\nphase1/gemma3_latest/buf65536/run_1\nphase1/gemma3_latest/buf65536/run_2\n" +
		"phase2/gemma3_latest/run_1\nphase2/gemma3_latest/run_2\nphase2/gemma3_latest/run_3\nphase2/gemma3_latest/run_4\nphase2/gemma3_latest/run_5\n"
	if _, runs, _ := strings.Cut(out, "\nruns:\n"); code != 0 || runs != want {
		t.Errorf("exit %d, stderr %q\ngot:\n%s\nwant:\n%s", code, errs, out, want)
	}
}

// TestTokenizerHint: the suite library's error names the plan's fields;
// the command adds its flags.
func TestTokenizerHint(t *testing.T) {
	dir := t.TempDir()
	srv := ollamatest.NewServer(ollamatest.Config{})
	t.Cleanup(func() { srv.Close() })
	plan := filepath.Join(dir, "plan.yaml")
	os.WriteFile(plan, []byte("mri:\n  skip: true\nthrottle:\n  skip: true\nhardware:\n  skip: true\ntokenizers:\n  run: true\n  models: [nowhere:latest]\n  sources:\n    nowhere:latest: "+filepath.Join(dir, "missing.json")+"\n"), 0o644)
	code, out, errs := runCmd(t, "--plan", plan, "--backend", "ollama", "--collector-url", srv.URL, "--insight-url", srv.URL, "--output-root", filepath.Join(dir, "out"))
	if code != 1 || !strings.Contains(errs, "--allow-download-tokenizers") || !strings.Contains(errs, "--ollama-models") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

// TestBadManifestHint: the library names the root and its manifest; the
// command adds --overwrite.
func TestBadManifestHint(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, suite.ManifestFile), []byte("{truncated"), 0o644)
	code, out, errs := runCmd(t, "--backend", "sim", "--output-root", root, "--runs", "1")
	if code != 1 || !strings.Contains(errs, filepath.Join(root, suite.ManifestFile)) || !strings.Contains(errs, "--overwrite") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}
