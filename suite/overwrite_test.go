package suite

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"tr117/gpumon"
	"tr117/internal/layout"
	"tr117/tokenizer"
)

// TestEveryOutputKnown runs a short simulated suite with every phase and
// checks that internal/layout recognises every file it wrote, so that
// --overwrite removes them all and nothing else: a file the suite writes
// under a name layout.Known does not know would survive an overwrite.
func TestEveryOutputKnown(t *testing.T) {
	c, i := simPair(t, 2000)
	root := t.TempDir()
	plan := Plan{CollectorURL: c, InsightURL: i, NumPredict: 8, LagInterval: Duration(5 * time.Millisecond)}
	plan.SetRuns(1)
	plan.MRI.Buffers = []BufferSize{0}
	plan.Throttle.Rates = []float64{400}
	plan.Ceiling = CeilingPlan{Run: true, Costs: []Duration{0}, Runs: 1}
	if mod, err := tokenizer.ModuleDir(tokenizer.OllamaModule); err == nil {
		plan.Tokenizers = TokenizerPlan{
			Run: true, Models: []string{"llama3.2", "nowhere:latest"},
			Sources: map[string]string{
				"llama3.2":       filepath.Join(mod, "tokenizer", "testdata", "llama3.2"),
				"nowhere:latest": filepath.Join(root, "missing.json"),
			},
			Bytes: 4 << 10, Iterations: 1,
		}
	} else {
		t.Logf("ollama module not in the module cache (%v): no tokenizer race", err)
	}
	_, err := Execute(context.Background(), Config{
		Plan: plan, OutputRoot: root, Backend: BackendSim,
		OpenSampler: func(context.Context) (gpumon.Sampler, error) { return &fakeGPU{}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "notes.txt"), []byte("mine"), 0o644)
	n := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		switch known := layout.Known(d.Name()); {
		case rel == "notes.txt" && known:
			t.Errorf("a user's %s is taken for tr117's", rel)
		case rel != "notes.txt" && !known:
			t.Errorf("the suite wrote %s, which internal/layout does not know", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 25 {
		t.Errorf("walked %d files; the suite wrote too few for this test to mean anything", n)
	}
	if err := removeOutputs(root); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(root)
	if len(ents) != 1 || ents[0].Name() != "notes.txt" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("after removeOutputs the root holds %v, want only notes.txt", names)
	}
}
