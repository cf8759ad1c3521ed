package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"tr117/gpumon/gpumontest"
)

// The test binary doubles as the wrapped command (dmon-helper MODE) and as a
// fake nvidia-smi.
func TestMain(m *testing.M) {
	mode := ""
	if len(os.Args) == 3 && os.Args[1] == "dmon-helper" {
		mode = os.Args[2]
	}
	switch {
	case strings.HasPrefix(mode, "exit:"):
		n, _ := strconv.Atoi(strings.TrimPrefix(mode, "exit:"))
		fmt.Println("helper ran")
		os.Exit(n)
	case strings.HasPrefix(mode, "scrape:"):
		// Fetch dmon's metrics while it runs us; exit 0 if they hold a
		// GPU's power reading.
		os.Exit(scrapeGPU(strings.TrimPrefix(mode, "scrape:")))
	case strings.HasPrefix(mode, "wait:"):
		// Write our pid, then wait to be signalled (the default action
		// for SIGTERM ends the process with that signal).
		os.WriteFile(strings.TrimPrefix(mode, "wait:"), []byte(strconv.Itoa(os.Getpid())), 0o644)
		time.Sleep(time.Minute)
		os.Exit(99)
	}
	if os.Getenv(gpumontest.FakeSMIEnv) != "" {
		os.Exit(gpumontest.FakeSMIMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	// The fake nvidia-smi and helper commands are this test binary: under
	// -race its runtime sleeps 1 s at exit to flush reports, which made
	// every nvidia-smi run cost a second.
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	goleak.VerifyTestMain(m)
}

func noGPU(dir string) []string {
	return []string{"--output-dir", dir, "--sampler", "nvidia-smi", "--nvidia-smi", "/nonexistent/nvidia-smi"}
}

func TestExitCodesWithoutGPU(t *testing.T) {
	for _, code := range []int{0, 3, 42} {
		var out, errb bytes.Buffer
		dir := t.TempDir()
		got := run(context.Background(), append(noGPU(dir), "--", os.Args[0], "dmon-helper", "exit:"+strconv.Itoa(code)), &out, &errb)
		if got != code {
			t.Errorf("exit %d, want the command's %d (stderr %s)", got, code, errb.String())
		}
		if !strings.Contains(out.String(), "helper ran") || !strings.Contains(errb.String(), "no GPU monitoring") {
			t.Errorf("stdout %q stderr %q", out.String(), errb.String())
		}
	}
}

// Without a GPU, dmon still writes gpu_summary.json (sampler "none" and
// why) and a header-only gpu_metrics.csv, so scripts that read them work.
func TestFilesWithoutGPU(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out") // does not exist yet
	var errb bytes.Buffer
	if got := run(context.Background(), append(noGPU(dir), "--", os.Args[0], "dmon-helper", "exit:3"), &bytes.Buffer{}, &errb); got != 3 {
		t.Fatalf("exit %d, want 3; stderr %s", got, errb.String())
	}
	csv, err := os.ReadFile(filepath.Join(dir, "gpu_metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(csv)), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "timestamp,power.draw [W],") {
		t.Errorf("gpu_metrics.csv, want its header alone:\n%s", csv)
	}
	b, err := os.ReadFile(filepath.Join(dir, "gpu_summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.ExitCode != 3 || sum.Report.Sampler != "none" || !strings.Contains(sum.Report.Unavailable, "/nonexistent/nvidia-smi") ||
		sum.System != nil || len(sum.Command) != 3 {
		t.Errorf("gpu_summary.json:\n%s", b)
	}
	// The run is bounded by the command's start and end, not year 1.
	if r := sum.Report; time.Since(r.Start) > time.Minute || r.End.Before(r.Start) || r.DurationS < 0 || strings.Contains(string(b), "0001-01-01") {
		t.Errorf("start %v end %v duration %v:\n%s", r.Start, r.End, r.DurationS, b)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--", "true"},
		{"--output-dir", t.TempDir()},
		{"--output-dir", t.TempDir(), "--sampler", "dcgm", "--", "true"},
		{"--output-dir", t.TempDir(), "--interval", "1ms", "--", "true"},
	} {
		var errb bytes.Buffer
		if got := run(context.Background(), args, &bytes.Buffer{}, &errb); got != 2 {
			t.Errorf("%v: exit %d, want 2", args, got)
		}
	}
}

func TestSignalForwardedAndNoOrphan(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			done := make(chan int, 1)
			go func() {
				done <- run(context.Background(), append(noGPU(t.TempDir()), "--", os.Args[0], "dmon-helper", "wait:"+pidFile), &bytes.Buffer{}, &bytes.Buffer{})
			}()
			var pid int
			for pid == 0 { // wait for the child to be up
				b, err := os.ReadFile(pidFile)
				if err == nil && len(b) > 0 {
					pid, _ = strconv.Atoi(string(b))
					break
				}
				select {
				case code := <-done:
					t.Fatalf("run ended early with %d", code)
				case <-time.After(10 * time.Millisecond):
				}
			}
			// Signal dmon (this process); it must forward the signal to the
			// child, whose default action ends it.
			syscall.Kill(os.Getpid(), sig)
			if code := <-done; code != 128+int(sig) {
				t.Errorf("exit %d, want %d", code, 128+int(sig))
			}
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("child %d still exists after dmon returned (kill 0: %v)", pid, err)
			}
		})
	}
}

func TestWritesMetricsWithFakeSMI(t *testing.T) {
	t.Setenv(gpumontest.FakeSMIEnv, "1")
	dir := t.TempDir()
	var errb bytes.Buffer
	args := []string{"--output-dir", dir, "--sampler", "nvidia-smi", "--nvidia-smi", os.Args[0], "--interval", "20ms", "--", os.Args[0], "dmon-helper", "exit:7"}
	if got := run(context.Background(), args, &bytes.Buffer{}, &errb); got != 7 {
		t.Fatalf("exit %d, want 7; stderr %s", got, errb.String())
	}
	csv, err := os.ReadFile(filepath.Join(dir, "gpu_metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if !strings.HasPrefix(lines[0], "timestamp,power.draw [W],utilization.gpu [%],memory.used [MiB],index,uuid") || len(lines) < 3 {
		t.Fatalf("gpu_metrics.csv:\n%s", csv)
	}
	var sum summary
	b, err := os.ReadFile(filepath.Join(dir, "gpu_summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.ExitCode != 7 || sum.Report.Sampler != "nvidia-smi" || len(sum.Report.GPUs) != 2 {
		t.Errorf("summary %s", b)
	}
	if sum.System == nil || sum.System.DriverVersion != "550.54.15" || len(sum.System.GPUs) != 2 || sum.System.GPUs[0].PowerLimitW != 700 {
		t.Errorf("system %s", b)
	}
	for _, key := range []string{`"command": [`, `"exit_code": 7`, `"config": {`, `"system": {`, `"report": {`, `"interval_ms": 20`, `"redline_window_ms": 2000`, `"power_w": {`, `"gaps": 0`, `"redline": {`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("gpu_summary.json lacks %s:\n%s", key, b)
		}
	}
	for _, key := range []string{`"interval":`, `"redline_window":`} { // durations name their unit
		if strings.Contains(string(b), key) {
			t.Errorf("gpu_summary.json has %s:\n%s", key, b)
		}
	}
}

// scrapeGPU fetches http://addr/metrics, retrying for up to 10 s while the
// first sample arrives, and returns 0 once it holds gpu_power_watts and
// gpu_up 1, else 3.
func scrapeGPU(addr string) int {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), "gpu_power_watts{") && strings.Contains(string(b), "gpu_up 1") {
				return 0
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return 3
}

func TestMetricsAddrServesGPUs(t *testing.T) {
	t.Setenv(gpumontest.FakeSMIEnv, "1")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var errb bytes.Buffer
	args := []string{"--output-dir", t.TempDir(), "--sampler", "nvidia-smi", "--nvidia-smi", os.Args[0], "--interval", "20ms",
		"--metrics-addr", addr, "--", os.Args[0], "dmon-helper", "scrape:" + addr}
	if got := run(context.Background(), args, &bytes.Buffer{}, &errb); got != 0 {
		t.Fatalf("exit %d (3: the command found no GPU series at --metrics-addr); stderr %s", got, errb.String())
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("--metrics-addr still served after dmon returned")
	}
}

func TestMetricsAddrBad(t *testing.T) {
	var errb bytes.Buffer
	args := append(noGPU(t.TempDir()), "--metrics-addr", "127.0.0.1:99999", "--", os.Args[0], "dmon-helper", "exit:0")
	if got := run(context.Background(), args, &bytes.Buffer{}, &errb); got != 2 || !strings.Contains(errb.String(), "--metrics-addr") {
		t.Errorf("exit %d, stderr %q; want 2 naming --metrics-addr", got, errb.String())
	}
}

// A second run into the same directory is refused before COMMAND runs,
// unless --overwrite.
func TestRefusesEarlierResults(t *testing.T) {
	dir := t.TempDir()
	cmd := []string{"--", os.Args[0], "dmon-helper", "exit:0"}
	if got := run(context.Background(), append(noGPU(dir), cmd...), &bytes.Buffer{}, &bytes.Buffer{}); got != 0 {
		t.Fatalf("first run: exit %d", got)
	}
	var out, errb bytes.Buffer
	if got := run(context.Background(), append(noGPU(dir), cmd...), &out, &errb); got != 2 || strings.Contains(out.String(), "helper ran") ||
		!strings.Contains(errb.String(), "already holds gpu_metrics.csv") || !strings.Contains(errb.String(), "--overwrite") {
		t.Errorf("second run: exit %d, stdout %q, stderr %q; want exit 2 naming --overwrite, command not run", got, out.String(), errb.String())
	}
	if got := run(context.Background(), append(append(noGPU(dir), "--overwrite"), cmd...), &bytes.Buffer{}, &bytes.Buffer{}); got != 0 {
		t.Errorf("--overwrite: exit %d, want 0", got)
	}
}

// A command that cannot start is exit 127, as from a shell, not 1 (which
// a command of its own may return).
func TestCommandNotFound(t *testing.T) {
	var errb bytes.Buffer
	if got := run(context.Background(), append(noGPU(t.TempDir()), "--", "/nonexistent/cmd"), &bytes.Buffer{}, &errb); got != 127 || !strings.Contains(errb.String(), "/nonexistent/cmd") {
		t.Errorf("exit %d, want 127 naming the command; stderr %s", got, errb.String())
	}
}
