// Command gpucheck checks gpumon against a real NVIDIA GPU. It is what
// scripts/gpu-check.sh runs while a PyTorch matmul loop loads the GPU:
//
//	gpucheck [--phase 30s] [--nvidia-smi PATH]
//
// Three phases of --phase each: the NVML sampler alone at 100 ms and at
// 10 ms (interval jitter, and the CPU this process used as a percentage of
// one core, from getrusage), then the NVML sampler at 100 ms next to
// nvidia-smi's -lms 100 stream (power.draw.instant where the driver has it),
// matching each nvidia-smi row to the NVML row of the same GPU nearest in
// time to print per-field agreement. It prints the SystemInfo both samplers
// give, PCIe readings and the stream's own intervals too. Everything goes to
// stdout as plain text. Exit 1 when NVML cannot be opened or a
// phase fails, 2 on bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"tr117/examples/internal/cli"
	"tr117/gpumon"
	"tr117/sink"
	"tr117/stats"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gpucheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	phase := fs.Duration("phase", 30*time.Second, "length of each of the three phases")
	smi := fs.String("nvidia-smi", "", "nvidia-smi executable (default: on PATH)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: gpucheck [--phase 30s] [--nvidia-smi PATH]

Checks tr117/gpumon against a real NVIDIA GPU, best while something loads it
(scripts/gpu-check.sh runs a PyTorch matmul loop). Three phases of --phase
each: the NVML sampler alone at 100 ms, then at 10 ms (interval jitter and
this process's CPU use), then NVML at 100 ms beside nvidia-smi's -lms 100
stream, printing how far each field agrees. Everything goes to stdout as
plain text. Exit 0 when every phase ran, 1 when NVML cannot be opened or a
phase fails, 2 on bad usage. It needs an NVIDIA driver; without one it
says so and exits 1.

Flags:
`)
		fs.PrintDefaults()
	}
	if code, ok := cli.Parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 || *phase < time.Second {
		fmt.Fprintln(stderr, "gpucheck: want no arguments and a --phase of at least 1s (-h explains the check)")
		return 2
	}
	if err := check(ctx, stdout, *phase, *smi); err != nil {
		fmt.Fprintln(stderr, "gpucheck:", err)
		return 1
	}
	return 0
}

func check(ctx context.Context, w io.Writer, phase time.Duration, smiPath string) error {
	nv, err := gpumon.OpenNVML(gpumon.OpenConfig{})
	if err != nil {
		return fmt.Errorf("NVML: %w", err)
	}
	defer nv.Close()
	if info, err := gpumon.Info(ctx, nv); err != nil {
		fmt.Fprintf(w, "NVML system info: %v\n", err)
	} else {
		printInfo(w, info)
	}
	first, err := nv.Sample(ctx, nil)
	if err != nil {
		return err
	}
	for _, s := range first {
		fmt.Fprintf(w, "GPU %d: %s (%s), %.0f MiB\n", s.Index, s.Name, s.UUID, s.MemTotalMiB)
		fmt.Fprintf(w, "  fields NVML does not report here: %v\n", missingFields(s))
		if s.Err != nil {
			fmt.Fprintf(w, "  errors: %v\n", s.Err)
		}
	}

	// The cost of one NVML sample of every GPU (a PCIe read, ~40 ms per
	// GPU, lands in one of them: see max).
	var cost []float64
	rows := first
	for range 100 {
		t0 := time.Now()
		if rows, err = nv.Sample(ctx, rows[:0]); err != nil {
			return err
		}
		cost = append(cost, float64(time.Since(t0).Microseconds()))
		time.Sleep(10 * time.Millisecond)
	}
	if c, err := stats.Summarize(cost); err == nil {
		fmt.Fprintf(w, "\nNVML Sample() of all GPUs, µs: p50 %.0f  p99 %.0f  max %.0f\n", c.P50, c.P99, c.Max)
	}

	for _, iv := range []time.Duration{100 * time.Millisecond, 10 * time.Millisecond} {
		var rows sink.Memory[gpumon.Sample]
		c0, t0 := cpuTime(), time.Now()
		rep, err := watchFor(ctx, nv, &rows, iv, phase)
		if err != nil {
			return err
		}
		cpu := 100 * (cpuTime() - c0).Seconds() / time.Since(t0).Seconds()
		fmt.Fprintf(w, "\n== NVML alone at %v for %v ==\n", iv, phase)
		printReport(w, rep, cpu)
		printRepeats(w, rows.Records())
		printPCIe(w, rows.Records())
	}

	fmt.Fprintf(w, "\n== NVML at 100ms next to nvidia-smi -lms 100 for %v ==\n", phase)
	// power.draw.instant (driver 535+; power.draw, a 1 s average on
	// Ampere and newer, before) is what NVML's power samples compare with.
	smFields := gpumon.DefaultSMIFields()
	for i, f := range smFields {
		if f == "power.draw" {
			smFields[i] = "power.draw.instant"
		}
	}
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sm, err := gpumon.OpenSMI(ctx, gpumon.OpenConfig{SMIPath: smiPath, Interval: 100 * time.Millisecond, SMIFields: smFields, Logger: logger})
	if err != nil {
		return fmt.Errorf("nvidia-smi: %w", err)
	}
	defer sm.Close()
	if info, err := gpumon.Info(ctx, sm); err != nil {
		fmt.Fprintf(w, "nvidia-smi system info: %v\n", err)
	} else {
		fmt.Fprintln(w, "as nvidia-smi describes it:")
		printInfo(w, info)
	}
	var nvRows, smRows sink.Memory[gpumon.Sample]
	type result struct {
		rep gpumon.Report
		err error
	}
	smc := make(chan result, 1)
	go func() {
		rep, err := watchFor(ctx, sm, &smRows, 100*time.Millisecond, phase)
		smc <- result{rep, err}
	}()
	_, nerr := watchFor(ctx, nv, &nvRows, 100*time.Millisecond, phase)
	sr := <-smc
	if err := errors.Join(nerr, sr.err); err != nil {
		return err
	}
	// The stream's intervals show whether nvidia-smi flushes each round
	// into the pipe (p50 near 100 ms) or buffers it (bursts: p50 near 0).
	fmt.Fprintln(w, "nvidia-smi -lms 100 stream as gpumon read it:")
	printReport(w, sr.rep, math.NaN())
	printAgreement(w, nvRows.Records(), smRows.Records())
	return nil
}

func printInfo(w io.Writer, info gpumon.SystemInfo) {
	fmt.Fprintf(w, "driver %s, NVML %s, CUDA %s (via %s)\n", orNA(info.DriverVersion), orNA(info.NVMLVersion), orNA(info.CUDADriverVersion), info.Sampler)
	for _, g := range info.GPUs {
		fmt.Fprintf(w, "  GPU %d %s %s: bus %s, CC %s, VBIOS %s, %.0f MiB (%.0f reserved), PCIe gen %d/%d x%d/%d, power limit %.0f W\n",
			g.Index, g.Name, g.UUID, orNA(g.PCIBusID), orNA(g.ComputeCapability), orNA(g.VBIOSVersion), g.MemoryTotalMiB, g.MemoryReservedMiB,
			g.PCIeLinkGen, g.PCIeLinkGenMax, g.PCIeLinkWidth, g.PCIeLinkWidthMax, g.PowerLimitW)
	}
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

// printPCIe prints the PCIe throughput readings (NVML's KB/s over 20 ms,
// divided by 1000), to hold against the load's own host-to-device copy
// rate, which scripts/gpu-check.sh prints: NVML documents the unit as KB/s,
// but nvidia-settings#114 asks whether it is really MB/s.
func printPCIe(w io.Writer, rows []gpumon.Sample) {
	type mm struct {
		n            int
		maxRx, maxTx float64
	}
	per := map[int]*mm{}
	for _, r := range rows {
		if math.IsNaN(r.PCIeRxMBps) && math.IsNaN(r.PCIeTxMBps) {
			continue
		}
		m := per[r.Index]
		if m == nil {
			m = &mm{}
			per[r.Index] = m
		}
		m.n++
		if r.PCIeRxMBps > m.maxRx {
			m.maxRx = r.PCIeRxMBps
		}
		if r.PCIeTxMBps > m.maxTx {
			m.maxTx = r.PCIeTxMBps
		}
	}
	for _, i := range slices.Sorted(maps.Keys(per)) {
		m := per[i]
		fmt.Fprintf(w, "  GPU %d PCIe: %d readings, max rx %.1f MB/s, max tx %.1f MB/s\n", i, m.n, m.maxRx, m.maxTx)
	}
}

func watchFor(ctx context.Context, s gpumon.Sampler, out sink.Sink[gpumon.Sample], iv, d time.Duration) (gpumon.Report, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return gpumon.Watch(ctx, s, out, gpumon.Config{Interval: iv}, func(ctx context.Context, _ *gpumon.Monitor) error {
		<-ctx.Done()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil
		}
		return ctx.Err()
	})
}

func printReport(w io.Writer, r gpumon.Report, cpu float64) {
	fmt.Fprintf(w, "samples %d (failed %d)", r.Samples, r.FailedSamples)
	if !math.IsNaN(cpu) {
		fmt.Fprintf(w, ", gpumon CPU %.3f%% of one core", cpu)
	}
	fmt.Fprintln(w)
	if s := r.ActualIntervalMS; s != nil {
		fmt.Fprintf(w, "actual interval ms: p50 %.3f  p99 %.3f  max %.3f  (mean %.3f, sd %.3f)\n", s.P50, s.P99, s.Max, s.Mean, s.StdDev)
	}
	for _, g := range r.GPUs {
		fmt.Fprintf(w, "GPU %d: gaps %d", g.Index, g.Gaps)
		if g.PowerW != nil {
			fmt.Fprintf(w, ", power W mean %.1f max %.1f p99 %.1f", g.PowerW.Mean, g.PowerW.Max, g.PowerW.P99)
		}
		if g.UtilGPU != nil {
			fmt.Fprintf(w, ", util %% mean %.1f p99 %.1f", g.UtilGPU.Mean, g.UtilGPU.P99)
		}
		if g.EnergyJ != nil {
			fmt.Fprintf(w, ", energy %.1f J (%s)", *g.EnergyJ, g.EnergySource)
		}
		fmt.Fprintf(w, ", redline %.1f s\n", g.Redline.Seconds)
	}
}

// printRepeats prints how often consecutive rows of a GPU repeat a value:
// the share of rows that are not fresh measurements.
func printRepeats(w io.Writer, rows []gpumon.Sample) {
	for _, f := range fields {
		last := map[int]float64{}
		same, n := 0, 0
		for _, r := range rows {
			v := f.get(r)
			if math.IsNaN(v) {
				continue
			}
			if p, ok := last[r.Index]; ok {
				n++
				if p == v {
					same++
				}
			}
			last[r.Index] = v
		}
		if n > 0 {
			fmt.Fprintf(w, "  %-20s repeats the previous row in %5.1f%% of rows\n", f.name, 100*float64(same)/float64(n))
		}
	}
}

var fields = []struct {
	name string
	get  func(gpumon.Sample) float64
	tol  float64 // absolute difference counted as agreeing
}{
	{"power.draw [W]", func(s gpumon.Sample) float64 { return s.PowerW }, 10},
	{"utilization.gpu [%]", func(s gpumon.Sample) float64 { return s.UtilGPU }, 5},
	{"utilization.memory [%]", func(s gpumon.Sample) float64 { return s.UtilMem }, 5},
	{"memory.used [MiB]", func(s gpumon.Sample) float64 { return s.MemUsedMiB }, 64},
	{"clocks.sm [MHz]", func(s gpumon.Sample) float64 { return s.ClockSMMHz }, 30},
	{"clocks.mem [MHz]", func(s gpumon.Sample) float64 { return s.ClockMemMHz }, 30},
	{"temperature.gpu [C]", func(s gpumon.Sample) float64 { return s.TempC }, 1},
	{"pstate", func(s gpumon.Sample) float64 {
		if s.PState < 0 {
			return math.NaN()
		}
		return float64(s.PState)
	}, 0},
}

func missingFields(s gpumon.Sample) []string {
	var out []string
	for _, f := range append(fields[:len(fields):len(fields)],
		struct {
			name string
			get  func(gpumon.Sample) float64
			tol  float64
		}{"energy [J]", func(s gpumon.Sample) float64 { return s.EnergyJ }, 0},
		struct {
			name string
			get  func(gpumon.Sample) float64
			tol  float64
		}{"pcie.rx [MB/s]", func(s gpumon.Sample) float64 { return s.PCIeRxMBps }, 0}) {
		if math.IsNaN(f.get(s)) {
			out = append(out, f.name)
		}
	}
	return out
}

// printAgreement pairs each nvidia-smi row with the NVML row of the same
// GPU nearest in time (within 100 ms) and prints, per field, the pairs
// compared, the mean of each side, the mean absolute difference and the
// share within the field's tolerance.
func printAgreement(w io.Writer, nv, sm []gpumon.Sample) {
	byGPU := map[int][]gpumon.Sample{}
	for _, r := range nv {
		if !r.Gap() {
			byGPU[r.Index] = append(byGPU[r.Index], r)
		}
	}
	fmt.Fprintf(w, "%-24s %6s %12s %12s %10s %9s\n", "field", "pairs", "mean nvml", "mean smi", "mean |d|", "agree")
	for _, f := range fields {
		var a, b, d []float64
		agree := 0
		for _, s := range sm {
			rows := byGPU[s.Index]
			i, _ := slices.BinarySearchFunc(rows, s.Time, func(r gpumon.Sample, t time.Time) int { return r.Time.Compare(t) })
			best := -1
			for _, j := range []int{i - 1, i} {
				if j >= 0 && j < len(rows) && (best < 0 || absDur(rows[j].Time.Sub(s.Time)) < absDur(rows[best].Time.Sub(s.Time))) {
					best = j
				}
			}
			if best < 0 || absDur(rows[best].Time.Sub(s.Time)) > 100*time.Millisecond {
				continue
			}
			x, y := f.get(rows[best]), f.get(s)
			if math.IsNaN(x) || math.IsNaN(y) {
				continue
			}
			a, b, d = append(a, x), append(b, y), append(d, math.Abs(x-y))
			if math.Abs(x-y) <= f.tol {
				agree++
			}
		}
		if len(a) == 0 {
			fmt.Fprintf(w, "%-24s %6d  (not reported by both)\n", f.name, 0)
			continue
		}
		ma, _ := stats.Summarize(a)
		mb, _ := stats.Summarize(b)
		md, _ := stats.Summarize(d)
		fmt.Fprintf(w, "%-24s %6d %12.2f %12.2f %10.2f %8.1f%%\n", f.name, len(a), ma.Mean, mb.Mean, md.Mean, 100*float64(agree)/float64(len(a)))
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
