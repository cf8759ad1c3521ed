package cmdtest

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"tr117/gpumon/gpumontest"
	"tr117/internal/telemetryparts"
)

// ClosedAddr returns a loopback address nothing listens on.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// FakeSMIOnPath puts the test binary on PATH as nvidia-smi, answering as
// one GPU: the test binary's TestMain must run gpumontest.FakeSMIMain when
// gpumontest.FakeSMIEnv is set.
func FakeSMIOnPath(t *testing.T) {
	t.Helper()
	bin := t.TempDir()
	if err := os.Symlink(os.Args[0], filepath.Join(bin, "nvidia-smi")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv(gpumontest.FakeSMIEnv, "1")
	t.Setenv("FAKESMI_GPUS", "1")
}

// ScrapeWhileRunning is the commands' Prometheus test: a real Prometheus
// scrapes the command's --metrics-addr (addr) while run, the command,
// runs with a fake nvidia-smi on PATH; every query must turn positive
// within a minute, and the command must then stop on cancellation with
// exit 130. Without a prometheus binary it skips (fails under CI).
func ScrapeWhileRunning(t *testing.T, addr string, queries []string, run func(ctx context.Context, stdout, stderr io.Writer) int) {
	t.Helper()
	prom := telemetryparts.StartPrometheus(t, addr)
	FakeSMIOnPath(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, &out, &errOut) }()
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	for _, q := range queries {
		v, err := prom.WaitPositive(wctx, q)
		if err != nil {
			t.Error(err)
			continue
		}
		t.Logf("%s = %g", q, v)
	}
	cancel()
	select {
	case code := <-done:
		if code != 130 {
			t.Errorf("exit %d after cancelling, want 130; stderr:\n%s", code, errOut.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the command did not stop after cancelling")
	}
}
