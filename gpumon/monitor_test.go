package gpumon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"tr117/sink"
)

// scriptSampler replays a scripted run of one or two GPUs on a synthetic
// clock (row i is stamped t0 + i×100 ms) and cancels the run after the
// last step, so tests are deterministic however slow the machine.
type scriptSampler struct {
	t0     time.Time
	steps  []step
	i      int
	cancel context.CancelFunc
}

type step struct {
	power, util, energy []float64 // per GPU; NaN: missing
	err                 error     // the whole sample fails
}

func (s *scriptSampler) Name() string { return "script" }
func (s *scriptSampler) Close() error { return nil }
func (s *scriptSampler) Sample(ctx context.Context, dst []Sample) ([]Sample, error) {
	if s.i >= len(s.steps) {
		<-ctx.Done()
		return dst, ctx.Err()
	}
	st := s.steps[s.i]
	now := s.t0.Add(time.Duration(s.i) * 100 * time.Millisecond)
	s.i++
	if s.i == len(s.steps) {
		defer s.cancel()
	}
	if st.err != nil {
		return dst, st.err
	}
	for g := range st.power {
		r := Missing(now, g, "GPU-"+string(rune('a'+g)), "Fake")
		r.PowerW, r.UtilGPU, r.EnergyJ, r.MemUsedMiB = st.power[g], st.util[g], st.energy[g], 1000
		dst = append(dst, r)
	}
	return dst, nil
}

func runScript(t *testing.T, cfg Config, steps []step, out sink.Sink[Sample]) Report {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &scriptSampler{t0: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), steps: steps, cancel: cancel}
	if cfg.Interval == 0 {
		cfg.Interval = MinInterval
	}
	m := NewMonitor(s, out, cfg)
	if err := m.Run(ctx); err != context.Canceled {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	return m.Report()
}

func TestMonitorCSVAndSummary(t *testing.T) {
	nan := math.NaN()
	var steps []step
	for i := range 10 {
		p := float64(100 + 10*i)
		steps = append(steps, step{
			power:  []float64{p, p},
			util:   []float64{100, 50},
			energy: []float64{1000 + 10*float64(i), nan}, // GPU 1 has no energy counter
		})
	}
	var buf bytes.Buffer
	csv := sink.NewCSV[Sample](&buf)
	rep := runScript(t, Config{RedlineUtil: 95, RedlineWindow: 500 * time.Millisecond}, steps, csv)
	csv.Close()

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if !strings.HasPrefix(lines[0], "timestamp,power.draw [W],utilization.gpu [%],memory.used [MiB],index,uuid,") {
		t.Fatalf("header %q", lines[0])
	}
	if len(lines) != 1+20 {
		t.Fatalf("%d lines, want header + 10 samples × 2 GPUs", len(lines))
	}
	if want := "2026-11-26T12:00:00.000000Z,100.000,100.0,1000.0,0,GPU-a,Fake,"; !strings.HasPrefix(lines[1], want) {
		t.Errorf("first row %q, want prefix %q", lines[1], want)
	}
	if rep.Samples != 10 || len(rep.GPUs) != 2 {
		t.Fatalf("report: %d samples %d GPUs", rep.Samples, len(rep.GPUs))
	}
	g0, g1 := rep.GPUs[0], rep.GPUs[1]
	if g0.PowerW.Mean != 145 || g0.PowerW.Max != 190 || g0.UtilGPU.P99 != 100 {
		t.Errorf("GPU 0 power %+v util %+v", g0.PowerW, g0.UtilGPU)
	}
	if *g0.EnergyJ != 90 || g0.EnergySource != "counter" {
		t.Errorf("GPU 0 energy %v from %s, want 90 J from the counter", *g0.EnergyJ, g0.EnergySource)
	}
	// Trapezoid over 9 intervals of 0.1 s of a ramp 100→190 W: mean 145 W × 0.9 s.
	if math.Abs(*g1.EnergyJ-130.5) > 1e-9 || g1.EnergySource != "power_integral" {
		t.Errorf("GPU 1 energy %v from %s, want 130.5 J integrated", *g1.EnergyJ, g1.EnergySource)
	}
	// 10 rows at 100 % spanning 0.9 s ≥ 0.5 s: one episode; GPU 1 never redlines.
	if g0.Redline.Episodes != 1 || math.Abs(g0.Redline.Seconds-0.9) > 1e-9 || g1.Redline.Episodes != 0 {
		t.Errorf("redline %+v / %+v", g0.Redline, g1.Redline)
	}
	if g0.JoulesPerToken != nil {
		t.Errorf("J/token without a token count")
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatalf("report is not JSON-safe: %v", err)
	}
}

func TestMonitorGapsWhenSamplingFails(t *testing.T) {
	ok := step{power: []float64{100}, util: []float64{10}, energy: []float64{math.NaN()}}
	bad := step{err: errors.New("gpumon: nvidia-smi: -lms stream ended")}
	var mem sink.Memory[Sample]
	rep := runScript(t, Config{}, []step{ok, bad, bad, ok}, &mem)
	rows := mem.Records()
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4 (two of them gaps)", len(rows))
	}
	for i, wantGap := range []bool{false, true, true, false} {
		if rows[i].Gap() != wantGap {
			t.Errorf("row %d gap=%v, want %v (%+v)", i, rows[i].Gap(), wantGap, rows[i])
		}
	}
	if rep.FailedSamples != 2 || rep.GPUs[0].Gaps != 2 {
		t.Errorf("failed %d gaps %d, want 2 and 2", rep.FailedSamples, rep.GPUs[0].Gaps)
	}
	// The energy integral does not bridge the gap.
	if rep.GPUs[0].EnergyJ != nil {
		t.Errorf("energy integrated across a gap: %v", *rep.GPUs[0].EnergyJ)
	}
}

func TestMonitorStartStopAndTokens(t *testing.T) {
	fake := newFakeDev()
	fake.tick(20000, 200, 99)
	m := NewMonitor(fakeNVML(fake), nil, Config{Interval: MinInterval})
	stop := m.Start(context.Background())
	m.AddTokens(1000)
	rep, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Samples < 1 || rep.Tokens != 1000 || rep.Sampler != "nvml" {
		t.Fatalf("report %+v", rep)
	}
	g := rep.GPUs[0]
	if g.EnergyJ != nil && (g.JoulesPerToken == nil || *g.JoulesPerToken != *g.EnergyJ/1000) {
		t.Errorf("J/token %v for %v J", g.JoulesPerToken, *g.EnergyJ)
	}
}

func TestMonitorSinkFailureStopsRun(t *testing.T) {
	fail := sink.Func[Sample](func(Sample) error { return errors.New("disk full") })
	m := NewMonitor(fakeNVML(newFakeDev()), fail, Config{})
	err := m.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Run = %v, want the sink's error", err)
	}
}

func TestWatch(t *testing.T) {
	rep, err := Watch(context.Background(), fakeNVML(newFakeDev()), nil, Config{}, func(ctx context.Context, m *Monitor) error {
		m.AddTokens(5)
		return errors.New("work failed")
	})
	if err == nil || !strings.Contains(err.Error(), "work failed") || rep.Tokens != 5 || rep.Samples < 1 {
		t.Fatalf("Watch = %+v, %v", rep, err)
	}
}

// rampSampler is one GPU whose power and utilization step through a fixed
// cycle, as fast as it is asked.
type rampSampler struct{ i int }

func (s *rampSampler) Name() string { return "ramp" }
func (s *rampSampler) Close() error { return nil }
func (s *rampSampler) Sample(ctx context.Context, dst []Sample) ([]Sample, error) {
	s.i++
	r := Missing(time.Unix(0, int64(s.i)*int64(100*time.Millisecond)), 0, "GPU-r", "Ramp")
	r.PowerW, r.UtilGPU, r.EnergyJ = 100+float64(s.i%301), float64(s.i%101), float64(s.i)
	return append(dst, r), nil
}

// A Monitor must be safe to run for weeks: its memory may not grow with
// the number of samples, and its percentiles must stay close to the exact
// ones.
func TestMonitorMemoryDoesNotGrow(t *testing.T) {
	m := NewMonitor(&rampSampler{}, nil, Config{})
	ctx := context.Background()
	var buf []Sample
	step := func(n int) {
		for range n {
			buf, _ = m.once(ctx, buf[:0], true)
		}
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	step(1000)
	before := heap()
	const n = 300_000 // 8.3 hours at 100 ms; a list of samples would hold 7 MB
	step(n)
	after := heap()
	if grew := int64(after) - int64(before); grew > 512<<10 {
		t.Errorf("heap grew by %d bytes over %d samples: the summaries keep samples", grew, n)
	}
	rep := m.Report()
	g := rep.GPUs[0]
	if g.Samples != n+1000 || g.PowerW.N != n+1000 {
		t.Fatalf("samples %d (power N %d), want %d", g.Samples, g.PowerW.N, n+1000)
	}
	// Power cycles uniformly through 100..400 W: exact p50 250, p99 397.
	for _, tc := range []struct {
		name      string
		got, want float64
	}{{"p50", g.PowerW.P50, 250}, {"p99", g.PowerW.P99, 397}, {"max", g.PowerW.Max, 400}, {"mean", g.PowerW.Mean, 250}} {
		if math.Abs(tc.got-tc.want) > 0.01*tc.want+0.5 {
			t.Errorf("power %s = %v, want %v within 1%%", tc.name, tc.got, tc.want)
		}
	}
}

// cancelOnFirst is a one-GPU sampler that cancels the run during its first
// Sample (a stop that comes right after Start returns) and counts calls.
type cancelOnFirst struct {
	cancel context.CancelFunc
	calls  int
}

func (s *cancelOnFirst) Name() string { return "cancel-on-first" }
func (s *cancelOnFirst) Close() error { return nil }
func (s *cancelOnFirst) Sample(ctx context.Context, dst []Sample) ([]Sample, error) {
	s.calls++
	if s.calls == 1 {
		s.cancel()
	}
	r := Missing(time.Now(), 0, "GPU-a", "Fake")
	r.PowerW, r.EnergyJ = 100, float64(s.calls)
	return append(dst, r), nil
}

// A run stopped while its first sample is taken still takes the last one
// at stop, so the report spans the work (the energy counter needs both).
func TestMonitorStopDuringFirstSampleTakesTheLast(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &cancelOnFirst{cancel: cancel}
	m := NewMonitor(s, nil, Config{Interval: time.Hour})
	if err := m.Run(ctx); err != context.Canceled {
		t.Fatalf("Run = %v", err)
	}
	rep := m.Report()
	if s.calls != 2 || rep.Samples != 2 || rep.GPUs[0].EnergyJ == nil || *rep.GPUs[0].EnergyJ != 1 {
		t.Errorf("%d calls, report %+v: want the first and the last sample", s.calls, rep)
	}
}
