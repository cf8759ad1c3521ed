package main

import (
	"path/filepath"
	"testing"

	"tr117/internal/ollamaserver"
	"tr117/load"
)

// TestRealOllama runs a Poisson run against one real Ollama v0.6.5 (the
// tiny model) and a two-point sweep against a second: every request
// completes with the server's eval_count equal to --output-tokens. It is
// skipped without an ollama binary, and fails then under
// TR117_REQUIRE_OLLAMA=1.
func TestRealOllama(t *testing.T) {
	insts := ollamaserver.Start(t, 2)
	// num_thread 1: the servers share the machine with other tests. A fixed
	// seed keeps the random-weight model's text repeatable.
	opts := `{"num_thread":1,"seed":7}`
	root := t.TempDir()
	check := func(dir string, n int) {
		t.Helper()
		recs := readRecords(t, dir)
		if len(recs) != n {
			t.Fatalf("%s: %d records, want %d", dir, len(recs), n)
		}
		for _, r := range recs {
			if !r.OK() || r.EvalCount == nil || *r.EvalCount != 8 || r.TokensGenerated != 8 || r.PromptEvalCount == nil {
				t.Errorf("%s: request %d: eval_count %v, %d tokens, error %q; want 8", dir, r.ID, r.EvalCount, r.TokensGenerated, r.Error)
			}
		}
	}
	poisson := filepath.Join(root, "poisson")
	code, stdout, stderr := runCmd(t, "--url", insts[0].URL, "--model", insts[0].Model, "--options", opts,
		"--arrival", "poisson", "--rate", "2", "--requests", "6", "--input-tokens", "16", "--output-tokens", "8", "--output-dir", poisson,
		"--tokenizer", "auto")
	if code != 0 {
		t.Fatalf("poisson run: exit %d\n%s%s", code, stdout, stderr)
	}
	check(poisson, 6)
	t.Log(stdout, stderr)
	// The tiny model's tokenizer came from the server: each prompt was
	// measured (at most --input-tokens; its tiny vocabulary splits words,
	// so whole words may stop short), and the server evaluated exactly
	// those tokens plus the template's, the same for every request.
	if sum := readJSON(t, filepath.Join(poisson, load.SummaryFile)); sum["input_tokens_approximated"] != false {
		t.Errorf("--tokenizer auto: lengths still approximated (%s)", stderr)
	}
	overhead := -1
	for _, r := range readRecords(t, poisson) {
		d := *r.PromptEvalCount - r.InputTokens
		if overhead < 0 {
			overhead = d
		}
		if r.InputTokens < 1 || r.InputTokens > 16 || d != overhead || d < 0 {
			t.Errorf("request %d: input_tokens %d, prompt_eval_count %d (template overhead %d elsewhere)", r.ID, r.InputTokens, *r.PromptEvalCount, overhead)
		}
	}

	sweep := filepath.Join(root, "sweep")
	code, stdout, stderr = runCmd(t, "--url", insts[1].URL, "--model", insts[1].Model, "--options", opts,
		"--sweep", "1,2", "--requests", "4", "--input-tokens", "16", "--output-tokens", "8", "--output-dir", sweep)
	if code != 0 {
		t.Fatalf("sweep: exit %d\n%s%s", code, stdout, stderr)
	}
	check(filepath.Join(sweep, "rate-1"), 4)
	check(filepath.Join(sweep, "rate-2"), 4)
	t.Log(stdout)
	readJSON(t, filepath.Join(sweep, load.SweepFile))
}
