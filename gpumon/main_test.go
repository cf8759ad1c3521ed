package gpumon

import (
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"tr117/gpumon/gpumontest"
)

// TestMain lets the test binary double as a fake nvidia-smi: tests point
// SMIPath at os.Args[0] with GPUMON_FAKE_SMI set.
func TestMain(m *testing.M) {
	if os.Getenv(gpumontest.FakeSMIEnv) != "" {
		os.Exit(gpumontest.FakeSMIMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	// The fake nvidia-smi and helper commands are this test binary: under
	// -race its runtime sleeps 1 s at exit to flush reports, which made
	// every nvidia-smi run cost a second.
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	goleak.VerifyTestMain(m)
}
