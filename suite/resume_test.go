package suite

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"tr117/gpumon"
)

// deadURL is a loopback URL nothing listens on (port 9 is discard, closed
// on test machines), so endpoint probes fail at once.
const deadURL = "http://127.0.0.1:9"

func fakeConfig(root string) Config {
	plan := Plan{CollectorURL: deadURL, InsightURL: deadURL}
	return Config{
		Plan: plan, OutputRoot: root, Backend: BackendSim,
		OpenSampler: func(context.Context) (gpumon.Sampler, error) { return nil, gpumon.ErrNoGPU },
	}
}

type fileState struct {
	mod  time.Time
	data []byte
}

func snapshot(t *testing.T, root string, man *Manifest) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	for _, rec := range man.Runs {
		if rec.Status != StatusOK {
			continue
		}
		if len(rec.Files) == 0 {
			t.Fatalf("run %s recorded no files", rec.Key)
		}
		for _, f := range rec.Files {
			p := filepath.Join(root, f)
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			out[f] = fileState{st.ModTime(), b}
		}
	}
	return out
}

func TestInterruptedThenResumed(t *testing.T) {
	root := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	inner := synthExec(root)
	exec := func(ctx context.Context, r Run, dir string) ([]string, error) {
		calls++
		if calls == 7 { // Ctrl-C in the middle of the 7th run
			files, _ := inner(ctx, r, dir) // it had written part of its files
			cancel()
			return files, ctx.Err()
		}
		return inner(ctx, r, dir)
	}
	res, err := execute(ctx, fakeConfig(root), exec)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Execute = %v, want context.Canceled", err)
	}
	if res.Ran != 6 || res.Report != nil {
		t.Errorf("interrupted: ran %d, report %v; want 6 and no report", res.Ran, res.Report != nil)
	}
	man, err := ReadManifest(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Runs) != 6 || man.Finished != nil || man.Sessions[0].Outcome != "interrupted" {
		t.Fatalf("manifest after interrupt: %d runs, finished %v, sessions %+v", len(man.Runs), man.Finished, man.Sessions)
	}
	before := snapshot(t, root, man)

	// Resume: the 6 finished runs are kept, the interrupted 7th is redone.
	var ran []string
	exec2 := func(ctx context.Context, r Run, dir string) ([]string, error) {
		ran = append(ran, r.Key())
		return inner(ctx, r, dir)
	}
	res, err = execute(context.Background(), fakeConfig(root), exec2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed != 6 || res.Ran != 19 || len(ran) != 19 {
		t.Errorf("resumed %d ran %d, want 6 and 19", res.Resumed, res.Ran)
	}
	if ran[0] != "phase1/gemma3_latest/buf8192/run_2" {
		t.Errorf("resume started at %s, want the interrupted run phase1/gemma3_latest/buf8192/run_2", ran[0])
	}
	for f, st := range before {
		p := filepath.Join(root, f)
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		if !info.ModTime().Equal(st.mod) || !bytes.Equal(b, st.data) {
			t.Errorf("finished run file %s was rewritten on resume", f)
		}
	}
	man, _ = ReadManifest(root)
	if len(man.Runs) != 25 || man.Finished == nil || len(man.Sessions) != 2 || man.Sessions[1].Outcome != "complete" {
		t.Errorf("manifest after resume: %d runs, finished %v, sessions %+v", len(man.Runs), man.Finished, man.Sessions)
	}
	// The merged file of a condition finished across both sessions holds
	// all of its runs.
	merged, err := os.ReadFile(filepath.Join(root, "phase1/gemma3_latest/buf8192/chunk_metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(merged), "\n"); n != 1+5*40 {
		t.Errorf("merged chunk_metrics.csv has %d lines, want %d", n, 1+5*40)
	}
	if res.Report == nil || res.Report.Runs.OK != 25 {
		t.Errorf("report after resume: %+v", res.Report)
	}

	// A third session has nothing to do.
	res, err = execute(context.Background(), fakeConfig(root), func(context.Context, Run, string) ([]string, error) {
		t.Error("a finished plan ran again")
		return nil, nil
	})
	if err != nil || res.Ran != 0 || res.Resumed != 25 {
		t.Errorf("third session: %v, ran %d resumed %d", err, res.Ran, res.Resumed)
	}
}

func TestFailedRunRecordedAndRetried(t *testing.T) {
	root := t.TempDir()
	inner := synthExec(root)
	bad := "phase2/qwen2_5_7b/run_3"
	exec := func(ctx context.Context, r Run, dir string) ([]string, error) {
		if r.Key() == bad {
			return nil, errors.New("profiler: insight (http://127.0.0.1:11435/api/generate): model 'qwen2.5:7b' not found")
		}
		return inner(ctx, r, dir)
	}
	res, err := execute(context.Background(), fakeConfig(root), exec)
	if !errors.Is(err, ErrRunsFailed) || res.Failed != 1 || res.Ran != 25 {
		t.Fatalf("Execute = %v (failed %d, ran %d), want ErrRunsFailed after all 25 runs", err, res.Failed, res.Ran)
	}
	man, _ := ReadManifest(root)
	rec := man.record(bad)
	if rec == nil || rec.Status != StatusFailed || !strings.Contains(rec.Error, "not found") {
		t.Fatalf("failed run record: %+v", rec)
	}
	if man.Sessions[0].Outcome != "failed" || man.Finished == nil {
		t.Errorf("session: %+v", man.Sessions)
	}
	if res.Report == nil || len(res.Report.Failed) != 1 || res.Report.Hardware.Models[1].Runs != 4 {
		t.Errorf("report: failed %+v", res.Report)
	}
	md, _ := os.ReadFile(filepath.Join(root, ReportMarkdown))
	if !strings.Contains(string(md), "`"+bad+"`: profiler: insight") {
		t.Errorf("report.md does not list the failed run")
	}
	// Resuming retries only the failed run.
	var ran []string
	res, err = execute(context.Background(), fakeConfig(root), func(ctx context.Context, r Run, dir string) ([]string, error) {
		ran = append(ran, r.Key())
		return inner(ctx, r, dir)
	})
	if err != nil || len(ran) != 1 || ran[0] != bad || res.Failed != 0 {
		t.Errorf("retry: %v, ran %v", err, ran)
	}
}

func TestOverwriteAndIncompatibleResume(t *testing.T) {
	root := t.TempDir()
	cfg := fakeConfig(root)
	cfg.Plan.SetRuns(1)
	if _, err := execute(context.Background(), cfg, synthExec(root)); err != nil {
		t.Fatal(err)
	}
	other := cfg
	other.Plan.Scenario = "chimera_hetero"
	if _, err := execute(context.Background(), other, synthExec(root)); err == nil || !strings.Contains(err.Error(), "scenario chimera_homo, now chimera_hetero") {
		t.Errorf("resume with another scenario: %v, want an error naming both", err)
	}
	// The user's files, also inside the suite's directories, survive an
	// overwrite; the suite's own files go, also those of a condition the
	// new plan does not have (and their emptied directories).
	keep := []string{"notes.txt", "phase1/notes.txt", "phase1/gemma3_latest/default/analysis.ipynb", "phase2/qwen2_5_7b/agent_output/mine.log", "plots/my_plot.png"}
	for _, k := range keep {
		os.MkdirAll(filepath.Dir(filepath.Join(root, k)), 0o755)
		os.WriteFile(filepath.Join(root, k), []byte("mine"), 0o644)
	}
	stale := filepath.Join(root, "phase1/gemma3_latest/buf4096")
	os.MkdirAll(stale, 0o755)
	for _, f := range []string{"run_1.json", "run_1_chunk_metrics.csv", "chunk_metrics.csv"} {
		os.WriteFile(filepath.Join(stale, f), []byte("{}"), 0o644)
	}
	other.Overwrite = true
	res, err := execute(context.Background(), other, synthExec(root))
	if err != nil || res.Ran != 5 || res.Resumed != 0 {
		t.Fatalf("overwrite: %v ran %d resumed %d", err, res.Ran, res.Resumed)
	}
	for _, k := range keep {
		if _, err := os.Stat(filepath.Join(root, k)); err != nil {
			t.Errorf("overwrite removed a file the suite did not write: %v", err)
		}
	}
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("overwrite left the suite's files of an old condition in %s", stale)
	}
	man, _ := ReadManifest(root)
	if man.Plan.Scenario != "chimera_hetero" || len(man.Sessions) != 1 {
		t.Errorf("manifest after overwrite: %s, %d sessions", man.Plan.Scenario, len(man.Sessions))
	}
}

// TestKilledThenResumed models SIGKILL: the session stops dead in its 9th
// run (buf8192 run 4), with no deferred bookkeeping written to the
// manifest. The next session marks it killed, redoes the cut-off run and
// leaves every merged CSV holding exactly the runs recorded as ok, also for
// a condition whose merge the killed session never reached.
func TestKilledThenResumed(t *testing.T) {
	root := t.TempDir()
	inner := synthExec(root)
	calls := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		execute(context.Background(), fakeConfig(root), func(ctx context.Context, r Run, dir string) ([]string, error) {
			calls++
			if calls == 9 {
				inner(ctx, r, dir) // half-written files, then the process is gone
				runtime.Goexit()
			}
			return inner(ctx, r, dir)
		})
	}()
	<-done
	man, err := ReadManifest(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Runs) != 8 || man.Sessions[0].Ended != nil || man.Sessions[0].Outcome != "" {
		t.Fatalf("manifest after kill: %d runs, sessions %+v", len(man.Runs), man.Sessions)
	}
	// As if the kill had come just before default's merge.
	os.Remove(filepath.Join(root, "phase1/gemma3_latest/default", ChunkMetrics+".csv"))

	res, err := execute(context.Background(), fakeConfig(root), synthExec(root))
	if err != nil || res.Ran != 17 || res.Resumed != 8 {
		t.Fatalf("resume: %v, ran %d resumed %d", err, res.Ran, res.Resumed)
	}
	man, _ = ReadManifest(root)
	if len(man.Sessions) != 2 || man.Sessions[0].Outcome != "killed" || man.Sessions[1].Outcome != "complete" {
		t.Errorf("sessions %+v", man.Sessions)
	}
	for _, dir := range []string{"phase1/gemma3_latest/default", "phase1/gemma3_latest/buf8192", "phase3/gemma3_latest/60tps", "phase2/qwen2_5_7b"} {
		for _, base := range []string{ChunkMetrics, LoopLag} {
			perRun := 0
			for i := 1; i <= 5; i++ {
				b, err := os.ReadFile(filepath.Join(root, dir, runFile(i, base)))
				if err != nil {
					t.Fatal(err)
				}
				perRun += strings.Count(string(b), "\n") - 1
			}
			b, err := os.ReadFile(filepath.Join(root, dir, base+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			if merged := strings.Count(string(b), "\n") - 1; merged != perRun {
				t.Errorf("%s/%s.csv: %d rows, want the %d rows of the 5 per-run files", dir, base, merged, perRun)
			}
		}
	}
}
