package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tr117/internal/ollamaserver"
	"tr117/profiler"
)

// The profiler against two real tiny Ollama servers through their OpenAI
// endpoints: client and server token counts agree with --num-predict, and
// TTFT falls inside the total.
func TestProfilerOpenAIRealServers(t *testing.T) {
	insts := ollamaserver.Start(t, 2)
	const numPredict = 12
	for _, api := range []string{"openai-chat", "openai-completions"} {
		t.Run(api, func(t *testing.T) {
			t.Setenv("OPENAI_API_KEY", "sk-never-written")
			dir := t.TempDir()
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{
				"--runs", "2", "--output-dir", dir, "--model", insts[0].Model, "--api", api,
				"--collector-ollama-url", insts[0].URL, "--insight-ollama-url", insts[1].URL,
				"--num-predict", "12", "--read-buffer-size", "4096", "--read-mode", "exact",
			}, &out, &errOut)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
			}
			for _, run := range []string{"run_1.json", "run_2.json"} {
				b, err := os.ReadFile(filepath.Join(dir, run))
				if err != nil {
					t.Fatal(err)
				}
				var rr profiler.RunResult
				if err := json.Unmarshal(b, &rr); err != nil {
					t.Fatal(err)
				}
				if string(rr.API) != api || rr.ReadMode != profiler.ReadExact {
					t.Errorf("%s: api %q read mode %q", run, rr.API, rr.ReadMode)
				}
				for _, a := range rr.Agents {
					m := a.Metrics
					if m.TokensGenerated != numPredict || m.EvalCount != numPredict || m.EvalCountSource != "usage" || m.DoneReason != "length" {
						t.Errorf("%s %s: %d client tokens, eval_count %d from %q, %q", run, a.ID, m.TokensGenerated, m.EvalCount, m.EvalCountSource, m.DoneReason)
					}
					if m.TTFTMS == nil || *m.TTFTMS <= 0 || *m.TTFTMS > m.TotalDurationMS || m.TTFCMS == nil {
						t.Errorf("%s %s: TTFT %v TTFC %v total %v", run, a.ID, m.TTFTMS, m.TTFCMS, m.TotalDurationMS)
					}
					if m.EvalDuration != 0 || m.ServerTotalDuration != 0 || m.ClientOverheadMS != nil {
						t.Errorf("%s %s: server durations from a protocol without them: %+v", run, a.ID, m)
					}
				}
			}
			// The key is sent, never written.
			filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if b, _ := os.ReadFile(path); bytes.Contains(b, []byte("sk-never-written")) {
						t.Errorf("%s holds the API key", path)
					}
				}
				return nil
			})
			if strings.Contains(out.String()+errOut.String(), "sk-never-written") {
				t.Error("the API key was printed")
			}
		})
	}
}
