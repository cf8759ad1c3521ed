package ollamaserver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Instance is a running server with the tiny model, as [Start] returns it.
//
// It is plain data: safe to read from several goroutines, not to modify while
// others read it.
type Instance struct {
	// URL is the server's base URL, "http://127.0.0.1:PORT".
	URL string
	// Model is the name of the tiny model on it ("tiny").
	Model string
	// Server is the process behind it.
	Server *Server
}

// Required reports whether TR117_REQUIRE_OLLAMA asks for a missing binary to
// fail tests instead of skipping them.
func Required() bool {
	v, _ := strconv.ParseBool(os.Getenv(EnvRequire))
	return v
}

// Start launches n servers for the test, sharing one models directory in
// t.TempDir() that holds the tiny model, and stops them in t.Cleanup (the
// tail of each log is logged when the test failed). Without an ollama
// binary it skips the test, or fails it when TR117_REQUIRE_OLLAMA=1.
func Start(t testing.TB, n int) []Instance {
	t.Helper()
	bin, err := Find()
	if err != nil {
		if Required() {
			t.Fatalf("%v (%s=1 makes this a failure)", err, EnvRequire)
		}
		t.Skipf("%v; tests against a real Ollama %s are skipped", err, Version)
	}
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	insts := make([]Instance, 0, n)
	for i := range n {
		s, err := Launch(ctx, Config{
			Bin:       bin,
			ModelsDir: models,
			Home:      filepath.Join(dir, "home"),
			LogPath:   filepath.Join(dir, "serve-"+strconv.Itoa(i)+".log"),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("ollama %s log tail (%s):\n%s", s.Addr, s.LogPath, s.LogTail(30))
			}
			if err := s.Stop(); err != nil {
				t.Error(err)
			}
		})
		insts = append(insts, Instance{URL: s.URL, Model: TinyModel, Server: s})
	}
	if n > 0 {
		if err := CreateTiny(ctx, insts[0].Server, filepath.Join(dir, "gguf")); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%v; log tail:\n%s", err, insts[0].Server.LogTail(30))
			}
			t.Fatal(err)
		}
	}
	return insts
}
