package tr117_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tr117/internal/ollamaserver"
)

// The README's sections whose shell blocks TestREADMECommands runs.
const (
	twoCommands = "## Two commands on a fresh machine"
	tryReal     = "## Try it against real Ollama"
)

// TestREADMECommands runs the README's "Two commands" and "Try it against
// real Ollama" blocks as written, read from README.md itself (so a README
// that drifts from the commands fails), in a copy of the module, within a
// bounded time: the default suite on the embedded simulators, then the
// real-server demo (two real Ollama servers with the tiny model on the
// study's ports) into the same directory. `go test ./...` is CI's own step
// and is not run again from inside it.
//
// It needs the Ollama binary (see tr117/internal/ollamaserver) and the
// study's ports 11434 and 11435 free; without them it skips, like the other
// real-server tests, and fails under TR117_REQUIRE_OLLAMA=1 or CI.
func TestREADMECommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the README's commands (about four minutes)")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	first, demo := shBlock(t, string(readme), twoCommands), shBlock(t, string(readme), tryReal)
	bin, binErr := ollamaserver.Find()
	if binErr != nil {
		// Like every real-server test; without Ollama the minutes of
		// this test would be half of it.
		skipOrFail(t, binErr.Error()+": the README's real-server demo needs Ollama ("+ollamaserver.EnvBin+", PATH or scripts/install-ollama.sh)")
	}
	for _, port := range []string{"11434", "11435"} {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			c.Close()
			skipOrFail(t, "port "+port+" is in use: the README's commands need the study's ports free")
		}
	}
	dir := copyModule(t)
	env := append(os.Environ(), "TR117_OLLAMA_DEV_DIR="+t.TempDir())
	env = append(env, ollamaserver.EnvBin+"="+bin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	for _, line := range first {
		if strings.HasPrefix(line, "go test ./...") {
			t.Logf("not run from inside the tests: %s", line)
			continue
		}
		// The default plan on the simulators takes about 3 minutes (its
		// streams' pace, with solo baselines), plus the build.
		out := sh(ctx, t, dir, env, line, 6*time.Minute)
		if !strings.HasPrefix(out, "SIMULATED: no real Ollama used") {
			t.Errorf("%s: not announced as simulated:\n%.400s", line, out)
		}
	}
	checkManifest(t, filepath.Join(dir, "tr117-results-sim"), true)

	t.Cleanup(func() { exec.Command("bash", filepath.Join(dir, "scripts", "ollama-dev.sh"), "stop").Run() })
	for _, line := range demo {
		start := time.Now()
		out := sh(ctx, t, dir, env, line, 4*time.Minute)
		if strings.Contains(line, "examples/suite") {
			if d := time.Since(start); d > 2*time.Minute {
				t.Errorf("the real-server demo took %v, want well under 2 minutes", d)
			}
			if !strings.Contains(out, "Using Ollama at") || strings.Contains(out, "SIMULATED") {
				t.Errorf("%s: not announced as real Ollama:\n%.400s", line, out)
			}
		}
	}
	checkManifest(t, filepath.Join(dir, "tr117-results"), false)
}

// shBlock returns the command lines of the first ```sh block after the
// heading.
func shBlock(t *testing.T, readme, heading string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no %q section", heading)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	block, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatalf("README.md's %q section has no ```sh block", heading)
	}
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		t.Fatalf("README.md's %q block is empty", heading)
	}
	return lines
}

// sh runs one README line with bash in dir and returns its stdout; a
// non-zero exit or a timeout fails the test.
func sh(ctx context.Context, t *testing.T, dir string, env []string, line string, limit time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", line)
	cmd.Dir, cmd.Env, cmd.WaitDelay = dir, env, 10*time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	t.Logf("%s: %v in %v", line, err, time.Since(start).Round(time.Second))
	if err != nil {
		t.Fatalf("%s: %v (limit %v)\nstdout:\n%s\nstderr:\n%s", line, err, limit, tail(string(out)), tail(stderr.String()))
	}
	return string(out)
}

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}

func checkManifest(t *testing.T, root string, simulated bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Simulated bool `json:"simulated"`
		Runs      []struct {
			Status string `json:"status"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for i, r := range m.Runs {
		if r.Status != "ok" {
			t.Errorf("%s: run %d %s", root, i, r.Status)
		}
	}
	if m.Simulated != simulated || len(m.Runs) == 0 {
		t.Errorf("%s: simulated %v with %d runs, want %v", root, m.Simulated, len(m.Runs), simulated)
	}
	if _, err := os.Stat(filepath.Join(root, "report.md")); err != nil {
		t.Error(err)
	}
}

// copyModule copies the module's files, without results, builds or
// version control, into a temporary directory.
func copyModule(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(name, ".") && name != ".ci" || strings.HasPrefix(name, "tr117-results") || name == "bin") {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, p), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, p), b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// skipOrFail skips the test, or fails it when real servers are required.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if ollamaserver.Required() || os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// TestREADMEWarnsFirst: a new user reads, before the first command's
// output surprises them, that the first build prints go-nvml's C warnings
// and how to silence them; and where the exit codes are documented, that
// go run hides them and how to see them.
func TestREADMEWarnsFirst(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	first, _, _ := strings.Cut(readme[strings.Index(readme, twoCommands):], "\n## ")
	for _, want := range []string{"first build prints", `CGO_CFLAGS="-O2 -w"`, "CGO_ENABLED=0"} {
		if !strings.Contains(first, want) {
			t.Errorf("README's %q section does not say %q", twoCommands, want)
		}
	}
	_, codes, ok := strings.Cut(readme, "exit 0 on success; 1 on a failure")
	if para, _, _ := strings.Cut(codes, "\n\n"); !ok || !strings.Contains(para, "`go run` does not pass") || !strings.Contains(para, "go build -o bin/ ./examples/...") {
		t.Errorf("the README's exit codes paragraph does not say how to get them past go run:\n%s", para)
	}
}
