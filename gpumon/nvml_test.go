package gpumon

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

func TestNVMLSeveralGPUsUnsupportedFieldsAreMissing(t *testing.T) {
	dc, consumer := newFakeDev(), consumerDev()
	dc.tick(20000, 300, 90)
	s := fakeNVML(dc, consumer)
	rows, err := s.Sample(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want one per GPU (2)", len(rows))
	}
	a, c := rows[0], rows[1]
	if a.Err != nil || c.Err != nil {
		t.Fatalf("unexpected errors: %v / %v", a.Err, c.Err)
	}
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"dc power", a.PowerW, 300},
		{"dc util", a.UtilGPU, 90},
		{"dc energy", a.EnergyJ, 1000 + 6},
		{"dc pcie rx", a.PCIeRxMBps, 5},
		{"dc mem used", a.MemUsedMiB, 10 << 10},
		{"consumer power (GetPowerUsage fallback)", c.PowerW, 250},
		{"consumer util (GetUtilizationRates fallback)", c.UtilGPU, 80},
		{"consumer temp", c.TempC, 55},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		v    float64
	}{{"energy", c.EnergyJ}, {"pcie rx", c.PCIeRxMBps}, {"pcie tx", c.PCIeTxMBps}} {
		if !math.IsNaN(tc.v) {
			t.Errorf("consumer %s = %v, want missing (NaN), never 0", tc.name, tc.v)
		}
	}
	if c.ClockReasonsOK {
		t.Errorf("consumer clock reasons reported as valid")
	}
	if !a.ClockReasonsOK || a.ClockReasons != 4 || a.PState != 0 {
		t.Errorf("dc reasons/pstate = %#x %v P%d", a.ClockReasons, a.ClockReasonsOK, a.PState)
	}
	// An unsupported query is not asked again.
	if _, err := s.Sample(context.Background(), rows[:0]); err != nil {
		t.Fatal(err)
	}
	if n := consumer.calls["energy"]; n != 1 {
		t.Errorf("energy asked %d times of a GPU that does not support it, want 1", n)
	}
}

func TestNVMLSampleBuffersGiveFreshValues(t *testing.T) {
	d := newFakeDev()
	d.tick(20000, 100, 10) // history before the first read, of unknown age: not used
	d.tick(20000, 200, 20)
	d.mu.Lock()
	d.powerMW, d.util = 250000, 25 // what the instant queries answer now
	d.mu.Unlock()
	s := fakeNVML(d)
	rows, _ := s.Sample(context.Background(), nil)
	if rows[0].PowerW != 250 || rows[0].UtilGPU != 25 {
		t.Fatalf("first read = %v W %v%%, want the instant queries' 250 W 25%%", rows[0].PowerW, rows[0].UtilGPU)
	}
	d.tick(20000, 300, 30)
	d.tick(20000, 500, 50)
	rows, _ = s.Sample(context.Background(), rows[:0])
	if rows[0].PowerW != 400 || rows[0].UtilGPU != 40 {
		t.Errorf("second read = %v W %v%%, want the mean of the two new samples 400 W 40%%", rows[0].PowerW, rows[0].UtilGPU)
	}
	// No new sample: the newest measured value is carried, not a mean of old ones.
	rows, _ = s.Sample(context.Background(), rows[:0])
	if rows[0].PowerW != 500 || rows[0].UtilGPU != 50 {
		t.Errorf("read without new samples = %v W %v%%, want the newest 500 W 50%%", rows[0].PowerW, rows[0].UtilGPU)
	}
}

func TestNVMLGPULostMidRun(t *testing.T) {
	a, b := newFakeDev(), newFakeDev()
	s := fakeNVML(a, b)
	ctx := context.Background()
	rows, _ := s.Sample(ctx, nil)
	if rows[0].Gap() || rows[1].Gap() {
		t.Fatal("healthy GPUs gave gap rows")
	}
	a.mu.Lock()
	a.lost = true
	a.mu.Unlock()
	for range 2 {
		var err error
		rows, err = s.Sample(ctx, rows[:0])
		if err != nil {
			t.Fatalf("a lost GPU failed the whole sample: %v", err)
		}
		if !rows[0].Gap() || !errors.Is(rows[0].Err, ErrGPULost) {
			t.Fatalf("lost GPU row: gap=%v err=%v, want a gap with ErrGPULost", rows[0].Gap(), rows[0].Err)
		}
		if !math.IsNaN(rows[0].PowerW) || !math.IsNaN(rows[0].MemUsedMiB) {
			t.Errorf("lost GPU row holds values: %+v", rows[0])
		}
		if rows[1].Gap() || rows[1].Err != nil || math.IsNaN(rows[1].PowerW) {
			t.Errorf("the other GPU suffered: %+v", rows[1])
		}
	}
}

func TestNVMLFieldErrorKeepsRow(t *testing.T) {
	d := newFakeDev()
	d.failing["temperature"] = errNoPermission
	rows, err := fakeNVML(d).Sample(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	if r.Gap() {
		t.Fatal("one failing field made the row a gap")
	}
	if !math.IsNaN(r.TempC) || !errors.Is(r.Err, errNoPermission) {
		t.Errorf("temp=%v err=%v, want NaN and the error", r.TempC, r.Err)
	}
	if r.MemUsedMiB != 10<<10 {
		t.Errorf("other fields lost: mem=%v", r.MemUsedMiB)
	}
}

func TestNVMLPCIeReadAtItsOwnInterval(t *testing.T) {
	d := newFakeDev()
	s := fakeNVML(d)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	s.now = func() time.Time { return now }
	var got []bool
	var rows []Sample
	for i := range 12 {
		now = t0.Add(time.Duration(i) * 100 * time.Millisecond)
		rows, _ = s.Sample(context.Background(), rows[:0])
		got = append(got, !math.IsNaN(rows[0].PCIeRxMBps))
	}
	want := []bool{true, false, false, false, false, false, false, false, false, false, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("PCIe read pattern at 100 ms = %v, want once per second %v", got, want)
		}
	}
}

func TestNVMLPCIeOneGPUPerSample(t *testing.T) {
	s := fakeNVML(newFakeDev(), consumerDev(), newFakeDev())
	var got [][3]bool
	var rows []Sample
	for range 3 {
		rows, _ = s.Sample(context.Background(), rows[:0])
		got = append(got, [3]bool{!math.IsNaN(rows[0].PCIeRxMBps), !math.IsNaN(rows[1].PCIeRxMBps), !math.IsNaN(rows[2].PCIeRxMBps)})
	}
	// GPU 1 has no PCIe counters, so it neither reads nor uses the turn.
	want := [][3]bool{{true, false, false}, {false, false, true}, {false, false, false}}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("PCIe reads per sample = %v, want %v", got, want)
		}
	}
}

func TestNVMLClosed(t *testing.T) {
	s := fakeNVML(newFakeDev())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sample(context.Background(), nil); !errors.Is(err, ErrSamplerClosed) {
		t.Errorf("Sample after Close: %v, want ErrSamplerClosed", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := fakeNVML(newFakeDev()).Sample(ctx, nil); err != context.Canceled {
		t.Errorf("cancelled Sample: %v, want context.Canceled as is", err)
	}
}

// A sample buffer that stops filling is carried for at most staleSamples;
// after that the row comes from the instant query, not a stale sample.
func TestNVMLStaleSampleBufferFallsBackToInstantQuery(t *testing.T) {
	d := newFakeDev()
	s := fakeNVML(d)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	s.now = func() time.Time { return now }
	rows, _ := s.Sample(context.Background(), nil)
	d.tick(20000, 300, 90)
	rows, _ = s.Sample(context.Background(), rows[:0])
	if rows[0].PowerW != 300 {
		t.Fatalf("read of a new sample: %v W", rows[0].PowerW)
	}
	d.mu.Lock()
	d.powerMW, d.util = 60000, 0 // the load ended; the buffers stop filling
	d.mu.Unlock()
	now = t0.Add(staleSamples / 2)
	rows, _ = s.Sample(context.Background(), rows[:0])
	if rows[0].PowerW != 300 || rows[0].UtilGPU != 90 {
		t.Errorf("within staleSamples: %v W %v%%, want the carried 300 W 90%%", rows[0].PowerW, rows[0].UtilGPU)
	}
	now = t0.Add(staleSamples + time.Millisecond)
	rows, _ = s.Sample(context.Background(), rows[:0])
	if rows[0].PowerW != 60 || rows[0].UtilGPU != 0 {
		t.Errorf("after staleSamples: %v W %v%%, want the instant 60 W 0%%", rows[0].PowerW, rows[0].UtilGPU)
	}
}
