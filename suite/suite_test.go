package suite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"tr117/gpumon"
	"tr117/profiler/ollamatest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeGPU is a gpumon.Sampler for one GPU whose power and utilisation
// follow a repeating pattern, like a GPU that streams tokens.
type fakeGPU struct{ n int }

func (f *fakeGPU) Name() string { return "fake" }
func (f *fakeGPU) Close() error { return nil }
func (f *fakeGPU) Sample(ctx context.Context, dst []gpumon.Sample) ([]gpumon.Sample, error) {
	f.n++
	s := gpumon.Missing(time.Now(), 0, "GPU-fake-0", "Fake GPU 4080")
	s.PowerW = 100 + float64(f.n%10)*10
	s.UtilGPU = 90 + float64(f.n%3)*5
	s.MemUsedMiB, s.MemTotalMiB = 6000, 12282
	s.EnergyJ = float64(f.n) * 12
	s.PCIeRxMBps, s.PCIeTxMBps = 5, 2
	s.PState = 2
	return append(dst, s), nil
}

// Info describes the fake GPU as gpumon's samplers describe a real one.
func (f *fakeGPU) Info(ctx context.Context) (gpumon.SystemInfo, error) {
	return gpumon.SystemInfo{Sampler: "fake", DriverVersion: "550.54.15", CUDADriverVersion: "12.4", GPUs: []gpumon.GPUInfo{{
		Index: 0, UUID: "GPU-fake-0", Name: "Fake GPU 4080", MemoryTotalMiB: 12282,
		PCIeLinkGenMax: 4, PCIeLinkWidthMax: 16, PowerLimitW: 175, ComputeCapability: "8.9",
	}}}, nil
}

// simPair starts two simulators, collector and insight, at a fast rate.
func simPair(t *testing.T, tps float64) (string, string) {
	t.Helper()
	var urls []string
	for i := 0; i < 2; i++ {
		srv := ollamatest.NewServer(ollamatest.Config{TokensPerSecond: tps, TTFT: 5 * time.Millisecond, Seed: uint64(i + 1)})
		t.Cleanup(func() { srv.Close() })
		urls = append(urls, srv.URL)
	}
	return urls[0], urls[1]
}

func TestSimulatedDefaultPlan(t *testing.T) {
	c, i := simPair(t, 400)
	root := t.TempDir()
	if d := os.Getenv("SUITE_KEEP"); d != "" {
		root = d
	}
	plan := Plan{CollectorURL: c, InsightURL: i, NumPredict: 24, LagInterval: Duration(5 * time.Millisecond)}
	plan.SetRuns(2)
	plan.Throttle.Rates = []float64{200}
	var progress lineProgress
	t.Logf("root %s", root)
	res, err := Execute(context.Background(), Config{
		Plan: plan, OutputRoot: root, Backend: BackendSim, Progress: &progress,
		OpenSampler: func(context.Context) (gpumon.Sampler, error) { return &fakeGPU{}, nil },
	})
	if err != nil {
		t.Fatalf("Execute: %v\nprogress:\n%s", err, progress.b.String())
	}
	if out := progress.b.String(); strings.Contains(out, "ERROR") || !strings.Contains(out, "[10/10] done") || !strings.Contains(out, "report: ") {
		t.Errorf("progress out of order or incomplete:\n%s", out)
	}
	if res.Ran != 10 || res.Failed != 0 || res.Resumed != 0 {
		t.Errorf("ran %d failed %d resumed %d, want 10 0 0", res.Ran, res.Failed, res.Resumed)
	}
	for _, rel := range []string{
		"manifest.json", "report.md", "report.json",
		"phase1/gemma3_latest/default/run_1.json", "phase1/gemma3_latest/default/chunk_metrics.csv",
		"phase1/gemma3_latest/buf8192/run_2_loop_lag.csv", "phase1/gemma3_latest/buf8192/loop_lag.csv",
		"phase3/gemma3_latest/200tps/run_2.json",
		"phase2/qwen2_5_7b/run_1_gpu_metrics.csv", "phase2/qwen2_5_7b/gpu_metrics.csv", "phase2/qwen2_5_7b/run_2_gpu_summary.json",
		"plots/efficiency.png", "plots/lag_gemma3_latest.png", "plots/chunk_gap_cdf_gemma3_latest.png", "plots/gpu_qwen2_5_7b.png",
	} {
		if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	man, err := ReadManifest(root)
	if err != nil {
		t.Fatal(err)
	}
	if !man.Simulated || man.Backend != "sim" || len(man.Endpoints) != 2 || man.Endpoints[0].Version == "" || len(man.Endpoints[0].Models) == 0 {
		t.Errorf("manifest backend/endpoints: %+v %+v", man.Backend, man.Endpoints)
	}
	if man.GPU.Sampler != "fake" || len(man.GPU.Devices) != 1 || man.GPU.Driver != "550.54.15" || man.GPU.CUDA != "12.4" || man.GPU.Devices[0].PowerLimitW != 175 || man.Finished == nil {
		t.Errorf("manifest GPU/finished: %+v %v", man.GPU, man.Finished)
	}
	md, _ := os.ReadFile(filepath.Join(root, ReportMarkdown))
	if want := "| GPU | 0: Fake GPU 4080 (12282 MiB, PCIe gen 4 x16, 175 W limit, compute 8.9); sampler fake; driver 550.54.15, CUDA 12.4 |"; !strings.Contains(string(md), want) {
		t.Errorf("report.md's Setup table lacks %q", want)
	}
	if !strings.HasPrefix(string(md), "> **SIMULATED") {
		t.Errorf("report.md does not start with the simulated banner:\n%.300s", md)
	}
	rep := res.Report
	if len(rep.ClientCeiling) != 1 || rep.ClientCeiling[0].Conditions[0].Runs != 2 || rep.ClientCeiling[0].Conditions[0].Chunks == 0 {
		t.Errorf("client ceiling: %+v", rep.ClientCeiling)
	}
	if e := rep.ClientCeiling[0].Conditions[0].Efficiency; e == nil || e.Mean < 50 || e.Mean > 101 || math.IsNaN(e.Mean) {
		t.Errorf("efficiency %+v", e)
	}
	if rep.Hardware.NoGPU || rep.Hardware.Models[0].Samples == 0 || rep.Hardware.Models[0].JPerToken == nil {
		t.Errorf("hardware: %+v", rep.Hardware)
	}
	if len(rep.Flow) != 1 || rep.Flow[0].Efficiency == nil {
		t.Errorf("flow: %+v", rep.Flow)
	}
}

func TestBackendOllamaEndpointDown(t *testing.T) {
	srv := ollamatest.NewServer(ollamatest.Config{})
	url := srv.URL
	srv.Close()
	_, err := Execute(context.Background(), Config{
		Plan:       Plan{CollectorURL: url, InsightURL: url},
		OutputRoot: t.TempDir(),
	})
	if err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "collector") {
		t.Fatalf("Execute with a dead endpoint: %v, want an error naming the collector and %s", err, url)
	}
}

var _ = errors.Is

// lineProgress is a Progress that writes one line per event, "[5/6]
// start mri …", and checks the order Execute promises.
type lineProgress struct {
	b           strings.Builder
	done, total int
	started     bool
}

func (p *lineProgress) Resumed(done, total int) {
	p.done, p.total = done, total
	fmt.Fprintf(&p.b, "resumed %d of %d\n", done, total)
}

func (p *lineProgress) Start(r Run, per int) {
	if p.started {
		fmt.Fprintf(&p.b, "ERROR: start of %s before the last run finished\n", r)
	}
	p.started = true
	fmt.Fprintf(&p.b, "[%d/%d] start %s (of %d)\n", p.done+1, p.total, r, per)
}

func (p *lineProgress) Finish(r Run, d time.Duration, err error) {
	p.started = false
	p.done++
	fmt.Fprintf(&p.b, "[%d/%d] done %s: %v\n", p.done, p.total, r, err)
}

func (p *lineProgress) Note(msg string) { fmt.Fprintln(&p.b, msg) }

// cancelAt is a Progress that cancels the suite when a line containing
// marker is written: a Ctrl-C at a known point.
type cancelAt struct {
	lineProgress
	marker string
	cancel context.CancelFunc
}

func (c *cancelAt) Start(r Run, per int) {
	c.lineProgress.Start(r, per)
	if strings.Contains(c.b.String(), c.marker) {
		c.cancel()
	}
}

// TestSimulatedInterruptMidStream cuts a real (simulated) run off in the
// middle of its streams, then resumes.
func TestSimulatedInterruptMidStream(t *testing.T) {
	c, i := simPair(t, 400)
	root := t.TempDir()
	plan := Plan{CollectorURL: c, InsightURL: i, NumPredict: 40, Hardware: HardwarePlan{Skip: true}, Throttle: ThrottlePlan{Rates: []float64{100}}}
	plan.SetRuns(2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The progress line of run 5 (the first throttled run) is written as it
	// starts; the cancel lands during its warm-up or its streams.
	w := &cancelAt{marker: "[5/6] start", cancel: cancel}
	cfg := Config{Plan: plan, OutputRoot: root, Backend: BackendSim, Progress: w}
	res, err := Execute(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Execute = %v, want context.Canceled\n%s", err, w.b.String())
	}
	if res.Ran != 4 {
		t.Errorf("ran %d before the interrupt, want 4", res.Ran)
	}
	man, _ := ReadManifest(root)
	before := snapshot(t, root, man)
	cfg.Progress = nil
	res, err = Execute(context.Background(), cfg)
	if err != nil || res.Resumed != 4 || res.Ran != 2 {
		t.Fatalf("resume: %v, resumed %d ran %d", err, res.Resumed, res.Ran)
	}
	for f, st := range before {
		info, err := os.Stat(filepath.Join(root, f))
		if err != nil || !info.ModTime().Equal(st.mod) {
			t.Errorf("finished run file %s was touched on resume (%v)", f, err)
		}
	}
	if rep := res.Report; len(rep.Flow) != 1 || rep.Flow[0].Efficiency == nil || rep.Flow[0].ClientRate == nil || math.Abs(rep.Flow[0].ClientRate.Mean-100) > 15 {
		t.Errorf("flow after resume: %+v", rep.Flow)
	}
}

// TestSimulatorAtOllamaURLs runs the suite with the "ollama" backend
// against two simulators (as "scripts/ollama-dev.sh start --sim" leaves
// them on Ollama's ports): the manifest, its endpoints and the report must
// all say the data is simulated, and a later session that finds real
// endpoints must refuse to mix them into the same root.
func TestSimulatorAtOllamaURLs(t *testing.T) {
	c, i := simPair(t, 2000)
	root := t.TempDir()
	plan := Plan{CollectorURL: c, InsightURL: i, NumPredict: 8, Throttle: ThrottlePlan{Skip: true}, Hardware: HardwarePlan{Skip: true}}
	plan.MRI.Buffers = []BufferSize{0}
	plan.SetRuns(1)
	if _, err := Execute(context.Background(), Config{Plan: plan, OutputRoot: root, Backend: BackendOllama}); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	man, err := ReadManifest(root)
	if err != nil {
		t.Fatal(err)
	}
	if !man.Simulated || !man.Endpoints[0].Simulated || !man.Endpoints[1].Simulated {
		t.Errorf("manifest: simulated %v, endpoints %+v; want all simulated", man.Simulated, man.Endpoints)
	}
	md, _ := os.ReadFile(filepath.Join(root, ReportMarkdown))
	if !strings.HasPrefix(string(md), "> **SIMULATED") || strings.Contains(string(md), "real Ollama servers |") || !strings.Contains(string(md), "| collector | "+c+", SIMULATED (tr117's simulator") {
		t.Errorf("report.md does not say simulated:\n%.600s", md)
	}
	if err := compatible(man, plan.WithDefaults(), BackendOllama, false); err == nil || !strings.Contains(err.Error(), "simulated endpoints, now real endpoints") {
		t.Errorf("resuming simulated results with real endpoints: %v, want a refusal naming both", err)
	}
}
