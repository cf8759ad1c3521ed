package gpumontest_test

import (
	"fmt"
	"os"
	"strings"

	"tr117/gpumon/gpumontest"
)

// In a test binary, TestMain hands control to the fake when the test has
// set FakeSMIEnv and pointed the sampler's SMIPath at os.Args[0]. Called
// directly, it answers a query like nvidia-smi does.
func ExampleFakeSMIMain() {
	var out strings.Builder
	gpumontest.FakeSMIMain([]string{"--query-gpu=index,name,power.draw,memory.used,clocks.sm,temperature.gpu", "--format=csv"}, &out, os.Stderr)
	fmt.Print(out.String())
	out.Reset()
	code := gpumontest.FakeSMIMain([]string{"--query-gpu=index,pcie.rx", "--format=csv,noheader"}, &out, os.Stderr)
	fmt.Printf("%sexit %d\n", out.String(), code)
	// Output:
	// index, name, power.draw [W], memory.used [MiB], clocks.current.sm [MHz], temperature.gpu
	// 0, NVIDIA H100 80GB HBM3, 100.00 W, 1000 MiB, 1980 MHz, 40
	// 1, NVIDIA GeForce RTX 4090, [N/A], 1000 MiB, 1980 MHz, 41
	// Field "pcie.rx" is not a valid field to query.
	//
	// exit 2
}
