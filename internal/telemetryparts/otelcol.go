package telemetryparts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Collector is a running otelcol with an OTLP receiver on loopback and the
// debug exporter writing every metric and span it receives, in detail, to
// its log.
type Collector struct {
	// HTTPURL is the OTLP/HTTP receiver's base URL, "http://127.0.0.1:PORT".
	HTTPURL string
	// GRPCURL is the OTLP/gRPC receiver's URL, "http://127.0.0.1:PORT".
	GRPCURL string
	p       *proc
}

// OtelcolCacheBin is where scripts/install-otelcol.sh installs otelcol.
func OtelcolCacheBin() string {
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "tr117", "otelcol", OtelcolVersion, "bin", "otelcol")
}

// StartCollector starts a collector for the test and stops it in
// t.Cleanup. It finds the binary in $TR117_OTELCOL_BIN, on PATH as
// otelcol, or in [OtelcolCacheBin].
func StartCollector(t testing.TB) *Collector {
	t.Helper()
	bin := need(t, EnvOtelcolBin, EnvRequireOtelcol, "otelcol", OtelcolCacheBin(), "run scripts/install-otelcol.sh")
	dir := t.TempDir()
	grpcAddr, httpAddr := freeAddr(t), freeAddr(t)
	cfg := `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ` + grpcAddr + `
      http:
        endpoint: ` + httpAddr + `
exporters:
  debug:
    verbosity: detailed
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
    metrics:
      receivers: [otlp]
      exporters: [debug]
`
	path := filepath.Join(dir, "otelcol.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, "otelcol", bin, dir, "--config", "file:"+path)
	c := &Collector{HTTPURL: "http://" + httpAddr, GRPCURL: "http://" + grpcAddr, p: p}
	// The HTTP receiver answers 405 to a GET; wait for it to listen.
	waitListening(t, p, httpAddr)
	waitListening(t, p, grpcAddr)
	return c
}

// Output returns what the debug exporter has written so far.
func (c *Collector) Output() string { return c.p.Log() }

// WaitFor waits up to timeout for the output to contain every one of
// subs, and returns the output and whether it did.
func (c *Collector) WaitFor(timeout time.Duration, subs ...string) (string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		out := c.Output()
		all := true
		for _, s := range subs {
			if !strings.Contains(out, s) {
				all = false
				break
			}
		}
		if all || time.Now().After(deadline) {
			return out, all
		}
		time.Sleep(100 * time.Millisecond)
	}
}
