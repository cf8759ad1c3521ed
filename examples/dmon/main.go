// Command dmon runs a command while sampling the GPUs:
//
//	go run ./examples/dmon --output-dir DIR [--interval 100ms] [--sampler auto|nvml|nvidia-smi] [--metrics-addr ADDR] -- COMMAND ARGS...
//
// It runs COMMAND directly (no shell), forwards SIGINT and SIGTERM to it
// (a Ctrl-C at a terminal reaches COMMAND from the terminal as well, since
// it stays in the foreground process group to keep the terminal), writes
// DIR/gpu_metrics.csv (one row per GPU per sample) and DIR/gpu_summary.json
// (the gpumon.Report plus the command, its exit status and the
// gpumon.SystemInfo of driver and GPUs), and exits with COMMAND's exit
// code, or 128+N if signal N ended it.
//
// Without a GPU it says so on stderr, still runs COMMAND and returns its
// code, and writes a header-only gpu_metrics.csv and a gpu_summary.json
// whose report has sampler "none" and, in "unavailable", the reason, so
// scripts that read the files need no special case. Exit 2 is bad usage
// (or an earlier run's files without --overwrite); 127 means the command
// could not start; 1 means dmon itself failed (the files could not be
// written) while the command succeeded.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"tr117/examples/internal/cli"
	"tr117/examples/internal/telcmd"
	"tr117/gpumon"
	"tr117/internal/layout"
	"tr117/sink"
)

func main() {
	// No signal.NotifyContext here: run forwards SIGINT and SIGTERM to the
	// command instead of cancelling, and stops when the command ends.
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// summary is gpu_summary.json.
type summary struct {
	Command  []string      `json:"command"`
	ExitCode int           `json:"exit_code"`
	Signal   string        `json:"signal,omitempty"`
	Config   gpumon.Config `json:"config"`
	// System is the driver and GPUs, read once before the command starts
	// (absent if the sampler could not describe them).
	System  *gpumon.SystemInfo `json:"system,omitempty"`
	Report  gpumon.Report      `json:"report"`
	Warning string             `json:"warning,omitempty"`
}

// options are dmon's flags.
type options struct {
	outDir      string
	interval    time.Duration
	kind        gpumon.Kind
	smiPath     string
	metricsAddr string
	overwrite   bool
	cmdArgs     []string
}

// parseFlags parses args; ok is false when run must exit with code.
func parseFlags(args []string, stderr io.Writer) (o options, code int, ok bool) {
	fs := flag.NewFlagSet("dmon", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outDir := fs.String("output-dir", "", "directory for gpu_metrics.csv and gpu_summary.json (required)")
	interval := fs.Duration("interval", gpumon.DefaultInterval, "sampling interval (10ms or more)")
	samplerFlag := fs.String("sampler", "auto", "sampler: auto, nvml or nvidia-smi")
	smiPath := fs.String("nvidia-smi", "", "nvidia-smi executable (default: nvidia-smi on PATH)")
	overwrite := fs.Bool("overwrite", false, "replace gpu_metrics.csv and gpu_summary.json of an earlier run in --output-dir")
	metricsAddr := fs.String("metrics-addr", "", "serve the GPUs' Prometheus metrics at http://ADDR/metrics while COMMAND runs, :9464 for example (default: off)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dmon --output-dir DIR [--interval 100ms] [--sampler auto|nvml|nvidia-smi] -- COMMAND ARGS...")
		fs.PrintDefaults()
	}
	if code, ok := cli.Parse(fs, args, stderr); !ok {
		return o, code, false
	}
	o = options{outDir: *outDir, interval: *interval, smiPath: *smiPath, metricsAddr: *metricsAddr, overwrite: *overwrite, cmdArgs: fs.Args()}
	kind, err := gpumon.ParseKind(*samplerFlag)
	o.kind = kind
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "dmon:", err)
		return o, 2, false
	case o.outDir == "":
		fmt.Fprintln(stderr, "dmon: --output-dir is required")
		fs.Usage()
		return o, 2, false
	case len(o.cmdArgs) == 0:
		fmt.Fprintln(stderr, "dmon: no command given (put it after --)")
		fs.Usage()
		return o, 2, false
	case o.interval < gpumon.MinInterval:
		fmt.Fprintf(stderr, "dmon: --interval %v is below the minimum %v\n", o.interval, gpumon.MinInterval)
		return o, 2, false
	}
	if err := checkEarlier(o.outDir, o.overwrite); err != nil {
		fmt.Fprintln(stderr, "dmon:", err)
		return o, 2, false
	}
	return o, 0, true
}

// checkEarlier refuses an output directory that holds an earlier run's
// files unless overwrite is set, before COMMAND starts: results are never
// replaced silently.
func checkEarlier(dir string, overwrite bool) error {
	if overwrite {
		return nil
	}
	for _, name := range []string{layout.GPUMetricsCSV, layout.GPUSummary} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return fmt.Errorf("%s already holds %s from an earlier run; pass --overwrite to replace it, or choose another --output-dir", dir, name)
		}
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseFlags(args, stderr)
	if !ok {
		return code
	}
	// Signals are caught before anything starts, so none is lost between
	// starting the command and forwarding.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	s, sys, noGPU := openSampler(ctx, o, stderr)
	defer s.Close()
	csv, err := sink.CreateCSV[gpumon.Sample](filepath.Join(o.outDir, layout.GPUMetricsCSV))
	if err != nil {
		fmt.Fprintln(stderr, "dmon:", err)
		return 1
	}
	m := gpumon.NewMonitor(s, csv, gpumon.Config{Interval: o.interval})
	// The OTEL_* variables are COMMAND's: dmon itself exports nothing over
	// OTLP, it only serves its GPU collector.
	noEnv := func(string) string { return "" }
	tel, err := telcmd.Start(ctx, "dmon", telcmd.Flags{MetricsAddr: o.metricsAddr}, noEnv, m)
	if err != nil {
		fmt.Fprintln(stderr, err)
		csv.Close()
		return 2
	}
	defer func() {
		if _, err := tel.Close(ctx); err != nil {
			fmt.Fprintln(stderr, err)
		}
	}()
	// Without a GPU the monitor never runs; the report still bounds the
	// command's run (it said 0001-01-01 otherwise).
	started := time.Now()
	stop := func() (gpumon.Report, error) {
		rep := m.Report()
		rep.Start, rep.End = started.UTC(), time.Now().UTC()
		rep.DurationS = rep.End.Sub(rep.Start).Seconds()
		return rep, nil
	}
	if !noGPU {
		fmt.Fprintf(stderr, "dmon: sampling with %s every %v into %s\n", s.Name(), o.interval, o.outDir)
		stop = m.Start(ctx)
	}

	code, sig, cerr := runCommand(o.cmdArgs, stdout, stderr, sigs)
	if cerr != nil {
		// 127 when COMMAND could not start, as a shell says "not found".
		fmt.Fprintln(stderr, "dmon:", cerr)
	}
	rep, merr := stop()
	failed := false
	if merr != nil {
		fmt.Fprintln(stderr, "dmon:", merr)
		failed = true
	}
	if err := csv.Close(); err != nil {
		fmt.Fprintln(stderr, "dmon:", err)
		failed = true
	}
	sum := summary{Command: o.cmdArgs, ExitCode: code, Signal: sig, Config: m.Config(), System: sys, Report: rep}
	if !writeSummary(o.outDir, sum, stderr) {
		failed = true
	}
	if failed && code == 0 {
		return 1
	}
	return code
}

// openSampler opens the sampler o asks for and describes the system. With
// no GPU it says so on stderr and returns a sampler that reports why.
func openSampler(ctx context.Context, o options, stderr io.Writer) (s gpumon.Sampler, sys *gpumon.SystemInfo, noGPU bool) {
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	s, err := gpumon.Open(openCtx, gpumon.OpenConfig{Kind: o.kind, Interval: o.interval, SMIPath: o.smiPath})
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "dmon: no GPU monitoring, running the command anyway: %v\n", err)
		return gpumon.Unavailable(err), nil, true
	}
	infoCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if info, err := gpumon.Info(infoCtx, s); err == nil {
		sys = &info
	} else {
		fmt.Fprintln(stderr, "dmon: no system description:", err)
	}
	return s, sys, false
}

// writeSummary writes gpu_summary.json, with a warning when samples failed;
// it reports on stderr and returns false when the file could not be written.
func writeSummary(dir string, sum summary, stderr io.Writer) bool {
	rep := sum.Report
	if rep.FailedSamples > 0 {
		sum.Warning = fmt.Sprintf("%d of %d samples failed; see the error column of gpu_metrics.csv", rep.FailedSamples, rep.Samples)
	}
	if err := sink.WriteJSONFile(filepath.Join(dir, layout.GPUSummary), sum); err != nil {
		fmt.Fprintln(stderr, "dmon:", err)
		return false
	}
	return true
}

// runCommand runs args without a shell, forwarding signals from sigs, and
// returns the exit code (128+N for signal N) and the signal's name.
func runCommand(args []string, stdout, stderr io.Writer, sigs <-chan os.Signal) (int, string, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Start(); err != nil {
		return 127, "", fmt.Errorf("starting %s: %w", args[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			cmd.Process.Signal(sig) // the command decides how to end
		case err := <-done:
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				return 1, "", fmt.Errorf("waiting for %s: %w", args[0], err)
			}
			ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if ok && ws.Signaled() {
				return 128 + int(ws.Signal()), ws.Signal().String(), nil
			}
			return cmd.ProcessState.ExitCode(), "", nil
		}
	}
}
