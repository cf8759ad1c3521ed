package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"tr117/gpumon"
)

func TestAgreementPairsNearestRows(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	row := func(ms int, power float64) gpumon.Sample {
		s := gpumon.Missing(t0.Add(time.Duration(ms)*time.Millisecond), 0, "GPU-1", "X")
		s.PowerW, s.UtilGPU = power, 50
		return s
	}
	nv := []gpumon.Sample{row(0, 100), row(100, 200), row(200, 300)}
	sm := []gpumon.Sample{
		row(90, 205),   // nearest NVML row is at 100 ms: |d| = 5, agrees
		row(210, 330),  // nearest is 200 ms: |d| = 30, disagrees
		row(5000, 100), // no NVML row within 100 ms: not paired
	}
	var out bytes.Buffer
	printAgreement(&out, nv, sm)
	var power string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "power.draw") {
			power = strings.Join(strings.Fields(l), " ")
		}
	}
	if want := "power.draw [W] 2 250.00 267.50 17.50 50.0%"; power != want {
		t.Errorf("power line %q, want %q\n%s", power, want, out.String())
	}
	if !strings.Contains(out.String(), "clocks.sm [MHz]               0  (not reported by both)") {
		t.Errorf("missing fields not reported:\n%s", out.String())
	}
}

func TestUsageAndNoNVML(t *testing.T) {
	var errb bytes.Buffer
	if code := run(context.Background(), []string{"--phase", "10ms"}, &bytes.Buffer{}, &errb); code != 2 {
		t.Errorf("short phase: exit %d", code)
	}
	if code := run(context.Background(), []string{"extra"}, &bytes.Buffer{}, &errb); code != 2 {
		t.Errorf("extra argument: exit %d", code)
	}
}

// -h explains what the check does and lists its flags, exit 0; a bad
// value is one line naming the flag and the form wanted.
func TestHelpAndBadFlag(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errs); code != 0 || !strings.Contains(errs.String(), "Checks tr117/gpumon against a real NVIDIA GPU") || !strings.Contains(errs.String(), "-phase duration") {
		t.Errorf("-h: exit %d, stderr:\n%s", code, errs.String())
	}
	errs.Reset()
	if code := run(context.Background(), []string{"--phase", "30"}, &out, &errs); code != 2 || strings.Count(errs.String(), "\n") != 1 || !strings.Contains(errs.String(), "-phase") || !strings.Contains(errs.String(), "such as 10ms") {
		t.Errorf("--phase 30: exit %d, stderr:\n%s", code, errs.String())
	}
}
