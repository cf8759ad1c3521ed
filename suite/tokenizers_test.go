package suite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tr117/tokenizer"
)

// TestTokenizerPhase races two real tokenizers from the ollama module's
// test data (Llama 3.2's BPE and Gemma 2's SentencePiece) and one that
// cannot be found.
func TestTokenizerPhase(t *testing.T) {
	mod, err := tokenizer.ModuleDir("github.com/ollama/ollama")
	if err != nil {
		t.Skipf("ollama module not in the module cache: %v", err)
	}
	td := filepath.Join(mod, "tokenizer", "testdata")
	root := t.TempDir()
	plan := Plan{
		CollectorURL: deadURL, InsightURL: deadURL,
		MRI: MRIPlan{Skip: true}, Throttle: ThrottlePlan{Skip: true}, Hardware: HardwarePlan{Skip: true},
		Tokenizers: TokenizerPlan{
			Run:    true,
			Models: []string{"llama3.2", "gemma2", "nowhere:latest"},
			Sources: map[string]string{
				"llama3.2":       filepath.Join(td, "llama3.2"),
				"gemma2":         filepath.Join(td, "gemma2", "tokenizer.model"),
				"nowhere:latest": filepath.Join(root, "missing.json"),
			},
			Bytes: 32 << 10, Iterations: 2,
		},
	}
	res, err := Execute(context.Background(), Config{Plan: plan, OutputRoot: root, Backend: BackendSim})
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Report.Tokenizers
	if tr == nil || len(tr.Results) != 2 || len(tr.Comparisons) != 1 || tr.Missing["nowhere:latest"] == "" {
		t.Fatalf("tokenizer report %+v", tr)
	}
	for _, r := range tr.Results {
		if r.Tokens < 1000 || r.TokensPerSec <= 0 {
			t.Errorf("%s: %v tokens at %v tok/s", r.Model, r.Tokens, r.TokensPerSec)
		}
	}
	for _, f := range []string{TokenizerBenchJSON, TokenizerBenchTable, TokenizerBenchfmt, tokenizerMissing} {
		if _, err := os.Stat(filepath.Join(root, "phase2", "tokenizers", f)); err != nil {
			t.Error(err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(root, ReportMarkdown))
	if !strings.Contains(string(md), "- nowhere:latest: tokenizer not found") || !strings.Contains(string(md), "passes per tokenizer: too few") {
		t.Errorf("report.md tokenizer section:\n%s", md)
	}

	// Against real servers, with nothing found the run fails, is
	// recorded, and says how to fix it.
	root2 := t.TempDir()
	plan.Tokenizers.Models = []string{"nowhere:latest"}
	res, err = Execute(context.Background(), Config{Plan: plan, OutputRoot: root2, Backend: BackendOllama})
	man, _ := ReadManifest(root2)
	if err == nil || res.Failed != 1 || !strings.Contains(man.Runs[0].Error, "--allow-download-tokenizers") || !strings.Contains(man.Runs[0].Error, "--ollama-models") {
		t.Errorf("no tokenizer found: %v, manifest %+v", err, man.Runs)
	}
}

// On the simulated backend (a fresh machine: no Ollama store, no Hugging
// Face cache) the race falls back to the real tokenizers in the module
// cache, labelled as fixtures, rather than fail.
func TestTokenizerPhaseSimulatedUsesFixtures(t *testing.T) {
	if _, err := tokenizer.ModuleDir(tokenizer.OllamaModule); err != nil {
		t.Skipf("ollama module not in the module cache: %v", err)
	}
	root := t.TempDir()
	plan := Plan{
		CollectorURL: deadURL, InsightURL: deadURL,
		MRI: MRIPlan{Skip: true}, Throttle: ThrottlePlan{Skip: true}, Hardware: HardwarePlan{Skip: true},
		Tokenizers: TokenizerPlan{
			Run: true, Models: []string{"gemma3:latest"},
			Sources: map[string]string{"gemma3:latest": filepath.Join(root, "missing.json")},
			Bytes:   8 << 10, Iterations: 1,
		},
	}
	res, err := Execute(context.Background(), Config{Plan: plan, OutputRoot: root, Backend: BackendSim})
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Report.Tokenizers
	if tr == nil || len(tr.Results) < 2 || tr.Missing["gemma3:latest"] == "" {
		t.Fatalf("tokenizer report %+v", tr)
	}
	for _, r := range tr.Results {
		if !strings.HasPrefix(r.Model, "fixture:") || r.Tokens < 100 {
			t.Errorf("result %+v: want a fixture, labelled as one", r)
		}
	}
	for _, v := range tr.Verdicts {
		if text := v.Sentence(); v.Outcome != NoEvidence || strings.Contains(text, "bottleneck candidate") || (strings.Contains(text, "widest gap") && !strings.Contains(text, "not a finding")) {
			t.Errorf("fixtures judged by the 2× rule as if they were the plan's models: %s %q", v.Outcome, text)
		}
	}
	md, _ := os.ReadFile(filepath.Join(root, ReportMarkdown))
	if !strings.Contains(string(md), "module-cache fixtures") {
		t.Errorf("report.md does not say the tokenizers are fixtures:\n%s", md)
	}
}

func TestTokenizerSources(t *testing.T) {
	for model, want := range map[string][]string{
		"gemma3:latest": {"ollama:gemma3:latest", "http://127.0.0.1:11434/gemma3:latest", "google/gemma-3-4b-it"},
		"qwen2.5:14b":   {"ollama:qwen2.5:14b", "http://127.0.0.1:11434/qwen2.5:14b", "Qwen/Qwen2.5-7B-Instruct"},
		"tiny":          {"ollama:tiny", "http://127.0.0.1:11434/tiny"},
	} {
		if got := tokenizerSources(model, "http://127.0.0.1:11434"); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: sources %q, want %q", model, got, want)
		}
	}
}
