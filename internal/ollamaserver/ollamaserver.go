// Package ollamaserver runs real Ollama servers (v0.6.5, CPU) for tests.
//
// [Find] locates the ollama binary; [Launch] starts one `ollama serve` on a
// loopback port with its own log file and waits until it answers;
// [CreateTiny] registers the tiny random-weight model of tr117/internal/tinymodel
// under the name "tiny"; [Start] does all of that for a test, n instances
// sharing one temporary models directory, and stops them in t.Cleanup.
//
// Without a binary, [Start] skips the test with a message saying how to get
// one (scripts/install-ollama.sh, or TR117_OLLAMA_BIN). With
// TR117_REQUIRE_OLLAMA=1 in the environment, as .ci/run sets it, a missing
// binary fails the test instead, so that CI never silently skips.
package ollamaserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"tr117/internal/tinymodel"
)

// Version is the Ollama release scripts/install-ollama.sh installs and this
// package is tested against.
const Version = "v0.6.5"

// Environment variables this package reads.
const (
	// EnvBin names the ollama binary to use, overriding the search.
	EnvBin = "TR117_OLLAMA_BIN"
	// EnvRequire, set to 1, turns a missing binary from a skip into a failure.
	EnvRequire = "TR117_REQUIRE_OLLAMA"
)

// ErrNotFound is returned by [Find] when no ollama binary is found.
var ErrNotFound = errors.New("ollamaserver: no ollama binary: run scripts/install-ollama.sh or set " + EnvBin)

// CacheBin returns where scripts/install-ollama.sh installs the binary:
// ${XDG_CACHE_HOME:-$HOME/.cache}/tr117/ollama/v0.6.5/bin/ollama.
func CacheBin() (string, error) {
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("ollamaserver: cache dir: %w", err)
		}
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "tr117", "ollama", Version, "bin", "ollama"), nil
}

// Find returns the path of an ollama binary: $TR117_OLLAMA_BIN if set (it
// must exist), else "ollama" on PATH, else [CacheBin]. It returns an error
// wrapping [ErrNotFound] when there is none.
func Find() (string, error) {
	if p := os.Getenv(EnvBin); p != "" {
		if isExec(p) {
			return p, nil
		}
		return "", fmt.Errorf("%w (%s=%s is not an executable file)", ErrNotFound, EnvBin, p)
	}
	if p, err := exec.LookPath("ollama"); err == nil {
		return p, nil
	}
	p, err := CacheBin()
	if err == nil && isExec(p) {
		return p, nil
	}
	return "", ErrNotFound
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// Config configures [Launch]. The zero value is the binary [Find] finds, on
// a free loopback port, with its models, home and log in a new temporary
// directory that Stop removes.
//
// It is plain data: safe to read from several goroutines, not to modify while
// others read it.
type Config struct {
	// Bin is the ollama binary. Default: Find().
	Bin string
	// Addr is the host:port to listen on. Default: a free loopback port.
	Addr string
	// ModelsDir is OLLAMA_MODELS. Default: a new temporary directory,
	// removed by Stop.
	ModelsDir string
	// Home is the HOME of the server (where it keeps its key pair).
	// Default: a directory in the temporary directory Launch makes, so a
	// test never writes into the real home.
	Home string
	// LogPath receives the server's stdout and stderr (appended).
	// Default: serve.log in the temporary directory Launch makes.
	LogPath string
	// Env adds KEY=VALUE pairs to the server's environment, after the
	// defaults (OLLAMA_NOPRUNE=1, OLLAMA_KEEP_ALIVE=5m). Variables named
	// OLLAMA_* from the caller's environment are not passed on.
	Env []string
	// ReadyTimeout bounds the wait for /api/version to answer. Default 30s.
	ReadyTimeout time.Duration
	// StopGrace is how long Stop waits after SIGTERM before SIGKILL.
	// Default 5s.
	StopGrace time.Duration
}

// Server is one running `ollama serve`. Its methods are safe for concurrent
// use.
type Server struct {
	// URL is "http://127.0.0.1:PORT".
	URL string
	// Addr is "127.0.0.1:PORT".
	Addr string
	// Bin is the binary it runs.
	Bin string
	// ModelsDir is its OLLAMA_MODELS.
	ModelsDir string
	// LogPath is the file its output goes to.
	LogPath string

	env     []string
	cmd     *exec.Cmd
	logf    *os.File
	tmp     string // removed by Stop when non-empty
	grace   time.Duration
	exited  chan struct{}
	waitErr error

	stopOnce sync.Once
	stopErr  error
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("ollamaserver: free port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, nil
}

// Launch starts `ollama serve` and returns once it answers /api/version, or
// with an error that includes the tail of its log. ctx bounds the start only:
// the server runs until Stop.
//
// When Config.Addr is empty and the port it picked is taken before the
// server binds it (another process got it first), Launch tries again with
// another port, three times in all.
func Launch(ctx context.Context, opts Config) (*Server, error) {
	var err error
	if opts.Bin == "" {
		if opts.Bin, err = Find(); err != nil {
			return nil, err
		}
	}
	auto := opts.Addr == ""
	for attempt := 1; ; attempt++ {
		o := opts
		if auto {
			if o.Addr, err = FreeAddr(); err != nil {
				return nil, err
			}
		}
		s, err := launch(ctx, o)
		if err == nil || !auto || attempt == 3 || !errors.Is(err, errPortTaken) {
			return s, err
		}
	}
}

// errPortTaken marks a server that exited because its port was in use.
var errPortTaken = errors.New("port taken")

func launch(ctx context.Context, opts Config) (*Server, error) {
	var err error
	s := &Server{Addr: opts.Addr, URL: "http://" + opts.Addr, Bin: opts.Bin, grace: opts.StopGrace, exited: make(chan struct{})}
	if s.grace <= 0 {
		s.grace = 5 * time.Second
	}
	if opts.ModelsDir == "" || opts.Home == "" || opts.LogPath == "" {
		if s.tmp, err = os.MkdirTemp("", "tr117-ollama-"); err != nil {
			return nil, fmt.Errorf("ollamaserver: %w", err)
		}
	}
	if opts.ModelsDir == "" {
		opts.ModelsDir = filepath.Join(s.tmp, "models")
	}
	if opts.Home == "" {
		opts.Home = filepath.Join(s.tmp, "home")
	}
	if opts.LogPath == "" {
		opts.LogPath = filepath.Join(s.tmp, "serve.log")
	}
	s.ModelsDir, s.LogPath = opts.ModelsDir, opts.LogPath
	for _, d := range []string{opts.ModelsDir, opts.Home, filepath.Dir(opts.LogPath)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			s.cleanupTmp()
			return nil, fmt.Errorf("ollamaserver: %w", err)
		}
	}
	s.logf, err = os.OpenFile(opts.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.cleanupTmp()
		return nil, fmt.Errorf("ollamaserver: log: %w", err)
	}

	s.env = append(cleanEnv(os.Environ()),
		"HOME="+opts.Home,
		"OLLAMA_HOST="+opts.Addr,
		"OLLAMA_MODELS="+opts.ModelsDir,
		"OLLAMA_NOPRUNE=1",
		"OLLAMA_KEEP_ALIVE=5m",
	)
	s.env = append(s.env, opts.Env...)
	s.cmd = exec.Command(opts.Bin, "serve")
	s.cmd.Env = s.env
	s.cmd.Stdout = s.logf
	s.cmd.Stderr = s.logf
	setGroup(s.cmd)
	if err := s.cmd.Start(); err != nil {
		s.logf.Close()
		s.cleanupTmp()
		return nil, fmt.Errorf("ollamaserver: start %s: %w", opts.Bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()

	timeout := opts.ReadyTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if err := s.waitReady(ctx, timeout); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// cleanEnv drops the caller's OLLAMA_* variables and HOME.
func cleanEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if strings.HasPrefix(kv, "OLLAMA_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var firstOK time.Time
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/version", nil)
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if firstOK.IsZero() {
					firstOK = time.Now()
				}
				if s.listening(time.Since(firstOK)) {
					return nil
				}
			}
		}
		select {
		case <-s.exited:
			tail := s.LogTail(40)
			err := fmt.Errorf("ollamaserver: %s serve on %s exited before answering (%v); log %s:\n%s", s.Bin, s.Addr, s.waitErr, s.LogPath, tail)
			if strings.Contains(tail, "address already in use") {
				err = fmt.Errorf("%w: %w", errPortTaken, err)
			}
			return err
		case <-ctx.Done():
			return fmt.Errorf("ollamaserver: %s serve on %s did not answer /api/version within %v: %w; log %s:\n%s", s.Bin, s.Addr, timeout, ctx.Err(), s.LogPath, s.LogTail(40))
		case <-tick.C:
		}
	}
}

// listening reports whether the server that answered /api/version is this
// one: Ollama logs "Listening on ADDR" once it has bound its port, so an
// answer without that line may come from another process that took the
// port. A binary that never logs the line is believed after two seconds of
// answers.
func (s *Server) listening(answering time.Duration) bool {
	select {
	case <-s.exited:
		return false
	default:
	}
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return false
	}
	if bytes.Contains(b, []byte("Listening on "+s.Addr)) {
		return true
	}
	return !bytes.Contains(b, []byte("Listening on ")) && answering >= 2*time.Second
}

// Stop sends SIGTERM, waits up to the grace period, then kills the server
// and every process it started (its runners). It removes the temporary
// directory Launch made. It returns nil when the server exited on SIGTERM.
// Calling it again returns the first result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		terminate(s.cmd)
		t := time.NewTimer(s.grace)
		select {
		case <-s.exited:
		case <-t.C:
			s.stopErr = fmt.Errorf("ollamaserver: %s did not exit %v after SIGTERM; killed", s.Addr, s.grace)
			kill(s.cmd)
			<-s.exited
		}
		t.Stop()
		kill(s.cmd) // runners left in the process group
		s.logf.Close()
		s.cleanupTmp()
	})
	return s.stopErr
}

func (s *Server) cleanupTmp() {
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
}

// LogTail returns the last n lines of the server's log.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	b = bytes.TrimRight(b, "\n")
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// TinyModel is the name [CreateTiny] registers.
const TinyModel = "tiny"

// Modelfile returns the Modelfile [CreateTiny] uses for the GGUF at path:
// one CPU thread (two threads on a busy two-core machine spin in ggml's
// barriers and run ~100 times slower), a small context, and a strong
// repeat penalty. Random weights fall into one-word loops ("so so so …")
// in most generations at Ollama's default penalty of 1.1, and Ollama ends
// a stream without a done message once a token repeats more than 30 times;
// at 3 the tiny model runs to num_predict (measured here: 6 of 6 prompts
// at 256 tokens, against 2 of 6 at 1.1). Requests that set repeat_penalty
// themselves still override it.
func Modelfile(path string) string {
	return "FROM " + path + "\nPARAMETER num_thread 1\nPARAMETER num_ctx 2048\nPARAMETER repeat_penalty 3\n"
}

// CreateTiny writes the tiny model into dir (see tinymodel.Ensure) and runs
// `ollama create tiny` against s. Servers sharing s's models directory see
// the model too.
func CreateTiny(ctx context.Context, s *Server, dir string) error {
	path, err := tinymodel.Ensure(dir, tinymodel.Config{})
	if err != nil {
		return fmt.Errorf("ollamaserver: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("ollamaserver: %w", err)
	}
	mf := filepath.Join(dir, "Modelfile")
	if err := os.WriteFile(mf, []byte(Modelfile(abs)), 0o644); err != nil {
		return fmt.Errorf("ollamaserver: %w", err)
	}
	cmd := exec.CommandContext(ctx, s.Bin, "create", TinyModel, "-f", mf)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ollamaserver: ollama create %s on %s: %w: %s", TinyModel, s.Addr, err, lastLine(out))
	}
	return nil
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexAny(s, "\r\n"); i >= 0 {
		s = s[i+1:]
	}
	return s
}
