package gpumon

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"tr117/gpumon/internal/fakesmi"
)

// TestMain lets the test binary double as a fake nvidia-smi: tests point
// SMIPath at os.Args[0] with GPUMON_FAKE_SMI set.
func TestMain(m *testing.M) {
	if os.Getenv(fakesmi.Env) != "" {
		os.Exit(fakesmi.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}
