package gpumon

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"tr117/stats"
)

// BenchmarkNVMLSample is the per-sample cost of the NVML path on fake GPUs
// (the Go side: sample buffers, field reads, error handling; a real GPU
// adds the driver's time per query).
func BenchmarkNVMLSample(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprintf("gpus=%d", n), func(b *testing.B) {
			devs := make([]*fakeDev, n)
			for i := range devs {
				devs[i] = newFakeDev()
				devs[i].tick(100000, 300, 90)
			}
			s := fakeNVML(devs...)
			var rows []Sample
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				for _, d := range devs { // one new buffered sample per read, without allocating
					d.clockUS += 100000
					d.powerBuf[0].ts, d.utilBuf[0].ts = d.clockUS, d.clockUS
				}
				rows, _ = s.Sample(ctx, rows[:0])
			}
		})
	}
}

// BenchmarkSMIParseLine is the cost of parsing one nvidia-smi stream line
// of the default fields.
func BenchmarkSMIParseLine(b *testing.B) {
	p, err := newSMILineParser(DefaultSMIFields())
	if err != nil {
		b.Fatal(err)
	}
	line := []byte("0, GPU-9f3c2a4e-1111-2222-3333-444455556666, NVIDIA H100 80GB HBM3, 312.45, 97, 41, 70123, 81559, 1980, 2619, 61, P0, 0x0000000000000004")
	s := Missing(time.Time{}, 0, "", "")
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		uuid, name := s.UUID, s.Name
		s = Missing(s.Time, 0, uuid, name)
		if err := p.parse(line, &s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMonitorJitter runs a Monitor over two fake GPUs for a fixed
// number of samples and reports the p50/p99 of the actual intervals and
// the CPU the whole process used, as a percentage of one core (getrusage).
func BenchmarkMonitorJitter(b *testing.B) {
	for _, tc := range []struct {
		interval time.Duration
		samples  int
	}{{100 * time.Millisecond, 30}, {10 * time.Millisecond, 300}} {
		b.Run(tc.interval.String(), func(b *testing.B) {
			all := stats.NewHistogram(intervalHistConfig)
			var cpu, wall time.Duration
			for b.Loop() {
				s := &countingSampler{Sampler: fakeNVML(newFakeDev(), newFakeDev()), stopAt: tc.samples}
				ctx, cancel := context.WithCancel(context.Background())
				s.cancel = cancel
				m := NewMonitor(s, nil, Config{Interval: tc.interval})
				c0, t0 := cpuTime(), time.Now()
				m.Run(ctx)
				cpu += cpuTime() - c0
				wall += time.Since(t0)
				cancel()
				m.mu.Lock()
				all.Merge(m.intervals)
				m.mu.Unlock()
			}
			sum, err := all.Summary()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(sum.P50, "p50-ms")
			b.ReportMetric(sum.P99, "p99-ms")
			b.ReportMetric(sum.Max, "max-ms")
			b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%")
		})
	}
}

type countingSampler struct {
	Sampler
	n, stopAt int
	cancel    context.CancelFunc
}

func (c *countingSampler) Sample(ctx context.Context, dst []Sample) ([]Sample, error) {
	c.n++
	if c.n == c.stopAt {
		defer c.cancel()
	}
	return c.Sampler.Sample(ctx, dst)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
