// Package telemetryparts starts the real telemetry backends that tr117's
// telemetry tests export to, each on free loopback ports for one test: an
// OpenTelemetry Collector (the core otelcol that scripts/install-otelcol.sh
// builds, with the OTLP receiver and the debug exporter at detailed
// verbosity, whose output the test reads) and a Prometheus (Debian's
// prometheus package) scraping one target.
//
// A missing binary skips the test, or fails it when CI or the part's
// TR117_REQUIRE_* variable is set.
package telemetryparts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Variables that locate the binaries and make a missing one a failure.
const (
	EnvOtelcolBin        = "TR117_OTELCOL_BIN"
	EnvRequireOtelcol    = "TR117_REQUIRE_OTELCOL"
	EnvPrometheusBin     = "TR117_PROMETHEUS_BIN"
	EnvRequirePrometheus = "TR117_REQUIRE_PROMETHEUS"
	// OtelcolVersion is the collector scripts/install-otelcol.sh builds.
	OtelcolVersion = "v0.165.0"
)

// required reports whether a missing part fails the test: CI or the
// part's variable is set to a true value.
func required(env string) bool {
	for _, name := range []string{"CI", env} {
		if v, err := strconv.ParseBool(os.Getenv(name)); err == nil && v {
			return true
		}
	}
	return false
}

// find returns $env if set (it must be executable), else name on PATH,
// else cached if it is executable.
func find(env, name, cached string) (string, error) {
	if p := os.Getenv(env); p != "" {
		if isExec(p) {
			return p, nil
		}
		return "", fmt.Errorf("telemetryparts: %s=%s is not an executable file", env, p)
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if cached != "" && isExec(cached) {
		return cached, nil
	}
	return "", fmt.Errorf("telemetryparts: no %s binary (set %s)", name, env)
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// need finds a part's binary or skips/fails t.
func need(t testing.TB, env, requireEnv, name, cached, hint string) string {
	t.Helper()
	bin, err := find(env, name, cached)
	if err != nil {
		if required(requireEnv) {
			t.Fatalf("%v; %s (CI or %s=1 makes this a failure)", err, hint, requireEnv)
		}
		t.Skipf("%v; %s", err, hint)
	}
	return bin
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is a started part: its process and its log (stdout and stderr).
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	once    sync.Once
}

// start runs bin with args, its output to dir/name.log, and stops it in
// t.Cleanup (logging the log's tail when the test failed).
func start(t testing.TB, name, bin, dir string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, logPath: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	logf, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr, p.cmd.Dir = logf, logf, dir
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("telemetryparts: starting %s: %v", name, err)
	}
	go func() {
		p.cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s log tail (%s):\n%s", name, p.logPath, p.tail(40))
		}
	})
	return p
}

// stop sends SIGTERM and, after 10 s, SIGKILL, and waits for the exit.
func (p *proc) stop() {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// Log returns the part's output so far.
func (p *proc) Log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

func (p *proc) tail(n int) string {
	lines := strings.Split(strings.TrimRight(p.Log(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// waitHTTP waits until GET url answers 200, the process exits or a minute
// passes.
func (p *proc) waitHTTP(t testing.TB, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("telemetryparts: %s exited before answering %s; log tail:\n%s", p.name, url, p.tail(40))
		case <-ctx.Done():
			t.Fatalf("telemetryparts: %s did not answer %s within a minute: %v", p.name, url, errors.Join(err, ctx.Err()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitListening waits until addr accepts a TCP connection.
func waitListening(t testing.TB, p *proc, addr string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-p.done:
			t.Fatalf("telemetryparts: %s exited before listening on %s; log tail:\n%s", p.name, addr, p.tail(40))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("telemetryparts: %s not listening on %s after a minute: %v", p.name, addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
