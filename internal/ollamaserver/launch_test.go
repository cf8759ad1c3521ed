package ollamaserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeBin writes an executable shell script standing in for ollama.
func fakeBin(t *testing.T, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ollama")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFindEnv(t *testing.T) {
	bin := fakeBin(t, "exit 0\n")
	t.Setenv(EnvBin, bin)
	if got, err := Find(); err != nil || got != bin {
		t.Errorf("Find() = %q, %v; want %q", got, err, bin)
	}
	t.Setenv(EnvBin, filepath.Join(t.TempDir(), "missing"))
	if _, err := Find(); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "install-ollama.sh") {
		t.Errorf("Find() with a missing %s: %v", EnvBin, err)
	}
}

func TestCacheBin(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if got, _ := CacheBin(); got != "/x/cache/tr117/ollama/v0.6.5/bin/ollama" {
		t.Errorf("CacheBin() = %q", got)
	}
}

func TestLaunchExitsEarly(t *testing.T) {
	bin := fakeBin(t, "echo 'Error: listen tcp: address already in use' >&2\nexit 1\n")
	_, err := Launch(context.Background(), Config{Bin: bin})
	if err == nil || !strings.Contains(err.Error(), "exited before answering") || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("err = %v; want the exit and the log tail", err)
	}
}

func TestLaunchNeverAnswers(t *testing.T) {
	bin := fakeBin(t, "echo starting\nexec sleep 60\n")
	_, err := Launch(context.Background(), Config{Bin: bin, ReadyTimeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "did not answer /api/version") || !strings.Contains(err.Error(), "starting") {
		t.Errorf("err = %v; want a readiness timeout with the log tail", err)
	}
}

func TestLaunchCanceled(t *testing.T) {
	bin := fakeBin(t, "exec sleep 60\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Launch(ctx, Config{Bin: bin}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v; want context.Canceled", err)
	}
}

func TestStartSkipsOrFails(t *testing.T) {
	t.Setenv(EnvBin, filepath.Join(t.TempDir(), "missing"))
	for _, require := range []string{"", "1"} {
		t.Setenv(EnvRequire, require)
		ft := &fakeTB{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			Start(ft, 1)
		}()
		<-done
		switch {
		case require == "" && !ft.skipped:
			t.Error("without a binary, Start should skip")
		case require == "1" && !ft.failed:
			t.Errorf("with %s=1, Start should fail", EnvRequire)
		}
		if !strings.Contains(ft.msg, "install-ollama.sh") {
			t.Errorf("message %q does not say how to get a server", ft.msg)
		}
	}
}

// fakeTB records Skip and Fatal instead of acting on them; both end the
// calling goroutine, as the real ones do.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestLaunchRetriesTakenPort(t *testing.T) {
	count := filepath.Join(t.TempDir(), "count")
	bin := fakeBin(t, "echo x >> "+count+"\necho \"Error: listen tcp $OLLAMA_HOST: bind: address already in use\" >&2\nexit 1\n")
	_, err := Launch(context.Background(), Config{Bin: bin})
	if !errors.Is(err, errPortTaken) {
		t.Errorf("err = %v; want errPortTaken", err)
	}
	if b, _ := os.ReadFile(count); strings.Count(string(b), "x") != 3 {
		t.Errorf("%d attempts, want 3", strings.Count(string(b), "x"))
	}
	// With an address of the caller's choosing there is no retry.
	os.Remove(count)
	addr, _ := FreeAddr()
	if _, err := Launch(context.Background(), Config{Bin: bin, Addr: addr}); !errors.Is(err, errPortTaken) {
		t.Errorf("err = %v", err)
	}
	if b, _ := os.ReadFile(count); strings.Count(string(b), "x") != 1 {
		t.Errorf("%d attempts with a fixed address, want 1", strings.Count(string(b), "x"))
	}
}

// versionServer answers /api/version on a loopback port, standing in for
// whatever listens there.
func versionServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"version":"0.6.5"}`)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func TestLaunchReadiness(t *testing.T) {
	addr := versionServer(t)
	t.Run("ours", func(t *testing.T) {
		// A server that logs that it listens on addr is ready once addr answers.
		bin := fakeBin(t, "echo \"msg=\\\"Listening on $OLLAMA_HOST (version 0.6.5)\\\"\" >&2\nexec sleep 60\n")
		s, err := Launch(context.Background(), Config{Bin: bin, Addr: addr, StopGrace: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if s.URL != "http://"+addr {
			t.Errorf("URL %q", s.URL)
		}
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if _, err := os.Stat(s.ModelsDir); !os.IsNotExist(err) {
			t.Errorf("models dir %s left behind: %v", s.ModelsDir, err)
		}
	})
	t.Run("someone else's", func(t *testing.T) {
		// A server that never says it listens is not believed within 2 s,
		// even though its address answers.
		bin := fakeBin(t, "echo starting >&2\nexec sleep 60\n")
		_, err := Launch(context.Background(), Config{Bin: bin, Addr: addr, ReadyTimeout: 500 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "did not answer") {
			t.Errorf("err = %v; want a readiness timeout", err)
		}
	})
	t.Run("ignores SIGTERM", func(t *testing.T) {
		bin := fakeBin(t, "trap '' TERM\necho \"Listening on $OLLAMA_HOST\"\nwhile :; do sleep 0.05; done\n")
		s, err := Launch(context.Background(), Config{Bin: bin, Addr: addr, StopGrace: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Stop(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Errorf("Stop: %v; want killed after the grace period", err)
		}
	})
}
