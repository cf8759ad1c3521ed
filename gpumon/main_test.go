package gpumon

import (
	"os"
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
	goleak.VerifyTestMain(m)
}
