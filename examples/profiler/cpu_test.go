package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"tr117/examples/internal/cmdtest"
	"tr117/internal/ollamaserver"
	"tr117/profiler"
)

// BenchmarkProcessCPU measures the whole profiler process's CPU per
// streamed message against two real tiny Ollama servers: 5 runs × 2 agents
// × 1,500 tokens per iteration, the command run as a child process and its
// user and sys time read from getrusage (the child's rusage). It reports
// user-us/msg, sys-us/msg and cpu-us/msg. TR117_PROFILER_BIN, when set,
// is the command to measure instead of this build (to compare another
// build, e.g. an older commit, on the same servers).
func BenchmarkProcessCPU(b *testing.B) {
	insts := ollamaserver.Start(b, 2)
	for _, api := range []string{"generate", "openai-chat"} {
		b.Run(api, func(b *testing.B) {
			var user, sys time.Duration
			msgs := 0
			for b.Loop() {
				dir := b.TempDir()
				args := []string{"--runs", "5", "--output-dir", filepath.Join(dir, "out"), "--model", insts[0].Model,
					"--collector-ollama-url", insts[0].URL, "--insight-ollama-url", insts[1].URL, "--num-predict", "1500"}
				if api != "generate" {
					args = append(args, "--api", api)
				}
				cmd := cmdtest.Command(envRunMain, args...)
				if bin := os.Getenv("TR117_PROFILER_BIN"); bin != "" {
					cmd = exec.Command(bin, args...)
				}
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
				ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				user += time.Duration(ru.Utime.Nano())
				sys += time.Duration(ru.Stime.Nano())
				msgs += countMessages(b, filepath.Join(dir, "out"))
			}
			per := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(msgs) }
			b.ReportMetric(per(user), "user-us/msg")
			b.ReportMetric(per(sys), "sys-us/msg")
			b.ReportMetric(per(user+sys), "cpu-us/msg")
		})
	}
}

// countMessages sums the streamed messages of every agent of every run in
// dir.
func countMessages(b *testing.B, dir string) int {
	b.Helper()
	n := 0
	for i := 1; ; i++ {
		raw, err := os.ReadFile(filepath.Join(dir, "run_"+strconv.Itoa(i)+".json"))
		if os.IsNotExist(err) {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		var rr profiler.RunResult
		if err := json.Unmarshal(raw, &rr); err != nil {
			b.Fatal(err)
		}
		for _, a := range rr.Agents {
			n += a.Metrics.Messages
		}
	}
}
