package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"tr117/examples/internal/cmdtest"
	"tr117/load"
	"tr117/profiler/ollamatest"
)

type sent struct {
	id        int
	scheduled float64
	tokens    int
}

func sentOf(t *testing.T, dir string) []sent {
	t.Helper()
	var out []sent
	for _, r := range readRecords(t, dir) {
		if !r.OK() {
			t.Errorf("%s: request %d: %s", dir, r.ID, r.Error)
		}
		out = append(out, sent{r.ID, r.ScheduledMS, r.TokensGenerated})
	}
	slices.SortFunc(out, func(a, b sent) int { return a.id - b.id })
	return out
}

// TestSegmentsMergeEqualsOneRun runs three worker processes on segments 0/3,
// 1/3 and 2/3 of one seeded schedule, starting together, merges them, and
// checks that the merge sent exactly the requests of one unsegmented run
// with the same seed, each at the same scheduled offset.
func TestSegmentsMergeEqualsOneRun(t *testing.T) {
	url := sim(t, ollamatest.Config{TTFT: time.Millisecond, TokensPerSecond: 2000})
	root := t.TempDir()
	common := []string{"--url", url, "--model", "tiny", "--rate", "40", "--requests", "30", "--seed", "11", "--output-tokens", "4", "--input-tokens", "8"}
	start := time.Now().Add(4 * time.Second).UTC().Format(time.RFC3339Nano)
	var dirs []string
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for i := range 3 {
		dir := filepath.Join(root, "worker-"+strconv.Itoa(i))
		dirs = append(dirs, dir)
		cmd := cmdtest.Command(envRunMain, append(common, "--segment", fmt.Sprintf("%d/3", i), "--start-at", start, "--output-dir", dir)...)
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &b)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("worker %d: %v\n%s", i, err, outs[i])
		}
	}
	whole := filepath.Join(root, "whole")
	if code, o, e := runCmd(t, append(common, "--output-dir", whole)...); code != 0 {
		t.Fatalf("unsegmented run: exit %d\n%s%s", code, o, e)
	}
	merged := filepath.Join(root, "merged")
	if code, o, e := runCmd(t, append([]string{"merge", "--output-dir", merged}, dirs...)...); code != 0 {
		t.Fatalf("merge: exit %d\n%s%s", code, o, e)
	}
	got, want := sentOf(t, merged), sentOf(t, whole)
	if !slices.Equal(got, want) {
		t.Errorf("merged segments sent\n%v\none run sent\n%v", got, want)
	}
	for i, d := range dirs {
		for _, s := range sentOf(t, d) {
			if s.id%3 != i {
				t.Errorf("worker %d sent request %d", i, s.id)
			}
		}
	}
	sum := readJSON(t, filepath.Join(merged, load.SummaryFile))
	if sum["requests"] != 30.0 || sum["requested_rate"] != 40.0 {
		t.Errorf("merged summary: %v requests at %v req/s", sum["requests"], sum["requested_rate"])
	}
	// A merge of workers that ran one segment twice is refused.
	if code, _, e := runCmd(t, "merge", "--output-dir", filepath.Join(root, "twice"), dirs[0], dirs[0]); code != 1 || !bytes.Contains([]byte(e), []byte("the same segment")) {
		t.Errorf("merging one segment twice: exit %d, %s", code, e)
	}
}

// TestSIGINT sends a real SIGINT while three requests stall mid-stream: the
// command exits 130 with the three recorded as interrupted and the summary
// written.
func TestSIGINT(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("os.Process.Signal cannot send SIGINT on Windows")
	}
	var wg sync.WaitGroup
	wg.Add(3)
	h := ollamatest.NewHandler(ollamatest.Config{TTFT: -1, Unpaced: true,
		Faults: map[string]ollamatest.Fault{"tiny": {Kind: ollamatest.FaultStall, After: 2}}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var once sync.Once
		h.ServeHTTP(&cmdtest.CountingWriter{ResponseWriter: w, At: 2, Reached: func() { once.Do(wg.Done) }}, r)
	}))
	defer srv.Close()
	defer h.Close()
	dir := t.TempDir()
	cmd := cmdtest.Command(envRunMain, "--url", srv.URL, "--model", "tiny", "--rate", "100", "--requests", "3", "--output-dir", dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ready := make(chan struct{})
	go func() { wg.Wait(); close(ready) }()
	wait := cmdtest.Start(t, cmd, ready)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	if err := wait(); !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	recs := readRecords(t, dir)
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	for _, r := range recs {
		if r.ErrorKind != "interrupted" || r.TokensGenerated > 2 {
			t.Errorf("request %d: %q (%s), %d tokens", r.ID, r.ErrorKind, r.Error, r.TokensGenerated)
		}
	}
	sum := readJSON(t, filepath.Join(dir, load.SummaryFile))
	if errs := sum["errors"].(map[string]any); errs["interrupted"] != 3.0 {
		t.Errorf("summary errors %v", errs)
	}
}

// TestServerRefusesMidRun: the server goes away after some requests; the
// command exits 1, names the failures, and keeps every request.
func TestServerRefusesMidRun(t *testing.T) {
	srv := ollamatest.NewServer(ollamatest.Config{TTFT: time.Millisecond, TokensPerSecond: 2000})
	defer srv.Close()
	go func() {
		time.Sleep(300 * time.Millisecond) // the schedule runs 0.5 s: stop in its middle
		srv.Close()
	}()
	dir := t.TempDir()
	code, stdout, stderr := runCmd(t, "--url", srv.URL, "--model", "tiny", "--rate", "20", "--arrival", "constant", "--requests", "10",
		"--output-tokens", "3", "--output-dir", dir)
	if code != 1 || !bytes.Contains([]byte(stderr), []byte("requests failed")) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	recs := readRecords(t, dir)
	ok, refused := 0, 0
	for _, r := range recs {
		switch {
		case r.OK():
			ok++
		case r.ErrorKind == "connection_refused":
			refused++
		}
	}
	if len(recs) != 10 || ok == 0 || refused == 0 {
		t.Errorf("%d records: %d ok, %d refused", len(recs), ok, refused)
	}
}
