package ollamatest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// streamLines posts body to url and returns the lines read before the body
// ended, and the error that ended it (nil for a clean end).
func streamLines(t *testing.T, ctx context.Context, url, body string) (*http.Response, []string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var out []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return resp, out, sc.Err()
}

func isDone(line string) bool {
	var m map[string]any
	return json.Unmarshal([]byte(line), &m) == nil && m["done"] == true
}

func TestFaults(t *testing.T) {
	const gen = `{"model":"tiny","prompt":"hi","options":{"num_predict":6}}`
	const genNoStream = `{"model":"tiny","prompt":"hi","stream":false,"options":{"num_predict":6}}`
	const chat = `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"options":{"num_predict":6}}`
	cases := []struct {
		name  string
		fault Fault
		path  string
		body  string
		check func(t *testing.T, resp *http.Response, lines []string, err error)
	}{
		{"http 503", Fault{Kind: FaultHTTPError, Status: 503}, "/api/generate", gen, func(t *testing.T, resp *http.Response, lines []string, err error) {
			if err != nil || resp.StatusCode != 503 || len(lines) != 1 || lines[0] != `{"error":"`+serverBusyText+`"}` {
				t.Errorf("got %v %v %v", resp.StatusCode, lines, err)
			}
		}},
		{"http 404", Fault{Kind: FaultHTTPError, Status: 404}, "/api/generate", gen, func(t *testing.T, resp *http.Response, lines []string, err error) {
			if resp.StatusCode != 404 || lines[0] != `{"error":"model 'tiny' not found"}` {
				t.Errorf("got %v %v", resp.StatusCode, lines)
			}
		}},
		{"error line", Fault{Kind: FaultErrorLine, After: 2, Message: "boom"}, "/api/generate", gen, func(t *testing.T, resp *http.Response, lines []string, err error) {
			if err != nil || resp.StatusCode != 200 || len(lines) != 3 || lines[2] != `{"error":"boom"}` {
				t.Errorf("got %v %q %v", resp.StatusCode, lines, err)
			}
		}},
		{"error line, no stream", Fault{Kind: FaultErrorLine, After: 2}, "/api/generate", genNoStream, func(t *testing.T, resp *http.Response, lines []string, err error) {
			if resp.StatusCode != 500 || len(lines) != 1 || lines[0] != `{"error":"`+runnerFailedText+`"}` {
				t.Errorf("got %v %q %v", resp.StatusCode, lines, err)
			}
		}},
		{"cut", Fault{Kind: FaultCut, After: 4}, "/api/chat", chat, func(t *testing.T, resp *http.Response, lines []string, err error) {
			if err != nil || len(lines) != 4 || isDone(lines[3]) {
				t.Errorf("want 4 token lines and a clean end, got %q %v", lines, err)
			}
		}},
		{"abort", Fault{Kind: FaultAbort, After: 3}, "/api/generate", gen, func(t *testing.T, resp *http.Response, lines []string, err error) {
			if err == nil || len(lines) != 3 {
				t.Errorf("want 3 lines and a transport error, got %q %v", lines, err)
			}
		}},
		{"abort, no stream", Fault{Kind: FaultAbort}, "/api/generate", genNoStream, func(t *testing.T, resp *http.Response, lines []string, err error) {
			if err == nil && resp != nil {
				t.Errorf("want a transport error, got %d %q", resp.StatusCode, lines)
			}
		}},
		{"malformed", Fault{Kind: FaultMalformed, After: 1}, "/api/generate", gen, func(t *testing.T, resp *http.Response, lines []string, err error) {
			if err != nil || len(lines) != 7 || !isDone(lines[6]) {
				t.Fatalf("got %q %v", lines, err)
			}
			if json.Valid([]byte(lines[1])) || !json.Valid([]byte(lines[0])) || !json.Valid([]byte(lines[2])) {
				t.Errorf("line 1 should be the only malformed one: %q", lines)
			}
		}},
		{"huge final", Fault{Kind: FaultHugeFinal, Size: 3 << 20}, "/api/generate", gen, func(t *testing.T, resp *http.Response, lines []string, err error) {
			if err != nil || len(lines) != 7 {
				t.Fatalf("got %d lines, %v", len(lines), err)
			}
			final := lines[6]
			var m generateResponse
			if len(final) < 3<<20-16 || json.Unmarshal([]byte(final), &m) != nil || !m.Done || m.EvalCount != 6 {
				t.Errorf("final line %d bytes, done %v eval_count %d", len(final), m.Done, m.EvalCount)
			}
		}},
		{"huge final chat", Fault{Kind: FaultHugeFinal, Size: 1 << 20}, "/api/chat", chat, func(t *testing.T, resp *http.Response, lines []string, err error) {
			if err != nil || len(lines) != 7 || len(lines[6]) < 1<<20 || !isDone(lines[6]) {
				t.Errorf("got %d lines, %v", len(lines), err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := NewServer(Config{Unpaced: true, Models: []string{"tiny"}, Faults: map[string]Fault{"tiny": tc.fault}})
			defer srv.Close()
			resp, lines, err := streamLines(t, context.Background(), srv.URL+tc.path, tc.body)
			tc.check(t, resp, lines, err)
		})
	}
}

// TestFaultPerRequest shows one agent of a pair failing while the other
// succeeds, chosen by FaultFunc.
func TestFaultPerRequest(t *testing.T) {
	var mu sync.Mutex
	var seen []Request
	srv := NewServer(Config{Unpaced: true, FaultFunc: func(r Request) Fault {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		if r.Header.Get("X-Agent") == "insight" {
			return Fault{Kind: FaultErrorLine, After: 1}
		}
		return Fault{}
	}})
	defer srv.Close()
	for _, agent := range []string{"collector", "insight"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/generate", strings.NewReader(`{"model":"gemma3","prompt":"p","options":{"num_predict":3}}`))
		req.Header.Set("X-Agent", agent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		last := lines[len(lines)-1]
		switch agent {
		case "collector":
			if len(lines) != 4 || !isDone(last) {
				t.Errorf("collector: %q", lines)
			}
		case "insight":
			if len(lines) != 2 || !strings.HasPrefix(last, `{"error":`) {
				t.Errorf("insight: %q", lines)
			}
		}
	}
	if len(seen) != 2 || seen[0].Seq != 1 || seen[1].Seq != 2 || seen[1].Model != "gemma3" || seen[1].Prompt != "p" || seen[1].Endpoint != "/api/generate" {
		t.Errorf("requests seen: %+v", seen)
	}
}

// TestStallUntilClientLeaves checks that a stall holds the stream until the
// client cancels, after exactly After token messages and without a done
// message.
func TestStallUntilClientLeaves(t *testing.T) {
	srv := NewServer(Config{Unpaced: true, Faults: map[string]Fault{"tiny": {Kind: FaultStall, After: 2}}})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/generate", strings.NewReader(`{"model":"tiny","prompt":"p","options":{"num_predict":5}}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for i := 0; i < 2; i++ {
		if !sc.Scan() || isDone(sc.Text()) {
			t.Fatalf("line %d: %q %v", i, sc.Text(), sc.Err())
		}
	}
	cancel()
	if sc.Scan() {
		t.Errorf("read %q after the stall point", sc.Text())
	}
	if err := sc.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("read ended with %v, want context.Canceled", err)
	}
}

// TestCloseEndsStalledStreams checks that Server.Close does not wait for a
// stalled client.
func TestCloseEndsStalledStreams(t *testing.T) {
	srv := NewServer(Config{Unpaced: true, Faults: map[string]Fault{"tiny": {Kind: FaultStall, After: 1}}})
	resp, err := http.Post(srv.URL+"/api/generate", "application/json", strings.NewReader(`{"model":"tiny","prompt":"p"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() {
		t.Fatal(sc.Err())
	}
	if err := srv.Close(); err != nil {
		t.Error(err)
	}
	for sc.Scan() {
		if isDone(sc.Text()) {
			t.Error("a done message after Close")
		}
	}
}

// TestStallForDuration uses the virtual clock: the stall is slept, counted in
// total_duration, and the stream then completes.
func TestStallForDuration(t *testing.T) {
	clk := newVirtualClock()
	cfg := virtualConfig(clk)
	cfg.Faults = map[string]Fault{"tiny": {Kind: FaultStall, After: 1, Duration: 7 * time.Second}}
	h := NewHandler(cfg)
	rec := post(t, h, "/api/generate", `{"model":"tiny","prompt":"p","options":{"num_predict":3}}`)
	msgs := lines(t, rec.Body.Bytes())
	if len(msgs) != 4 {
		t.Fatalf("%d messages", len(msgs))
	}
	final := msgs[3]
	total := time.Duration(final["total_duration"].(float64))
	if total < 7*time.Second || total != clk.total()+minDuration {
		t.Errorf("total_duration %v, slept %v", total, clk.total())
	}
}

// TestRepeatAbort checks Ollama's repetition abort: a model that loops on
// one token gets repeatLimit+1 identical messages and then a clean end of
// the body with no done message; stream:false gets the text so far with
// done false; NoRepeatAbort lets the loop run to num_predict.
func TestRepeatAbort(t *testing.T) {
	const np = 80
	gen := `{"model":"tiny","prompt":"hi","options":{"num_predict":80}}`
	chat := `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"options":{"num_predict":80}}`
	noStream := `{"model":"tiny","prompt":"hi","stream":false,"options":{"num_predict":80}}`
	tokens := func(t *testing.T, lines []string) []string {
		t.Helper()
		var out []string
		for _, l := range lines {
			var m struct {
				Response string
				Message  struct{ Content string }
				Done     bool
			}
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			if !m.Done {
				out = append(out, m.Response+m.Message.Content)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		cfg      Config
		after    int
		path     string
		body     string
		wantMsgs int // token messages
		wantDone bool
	}{
		{"generate", Config{}, 5, "/api/generate", gen, 5 + repeatLimit + 1, false},
		{"chat", Config{}, 0, "/api/chat", chat, repeatLimit + 1, false},
		{"coalesced", Config{Coalesce: 4}, 2, "/api/generate", gen, 2 + repeatLimit + 1, false},
		{"abort off", Config{NoRepeatAbort: true}, 5, "/api/generate", gen, np, true},
		{"loop too short", Config{}, np - repeatLimit - 1, "/api/generate", gen, np, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Unpaced, cfg.Models = true, []string{"tiny"}
			cfg.Faults = map[string]Fault{"tiny": {Kind: FaultRepeat, After: tc.after}}
			srv := NewServer(cfg)
			defer srv.Close()
			_, lines, err := streamLines(t, context.Background(), srv.URL+tc.path, tc.body)
			if err != nil {
				t.Fatalf("the body should end cleanly: %v", err)
			}
			toks := tokens(t, lines)
			if len(toks) != tc.wantMsgs || (len(lines) > 0 && isDone(lines[len(lines)-1])) != tc.wantDone {
				t.Fatalf("%d token messages (done %v), want %d (done %v)", len(toks), isDone(lines[len(lines)-1]), tc.wantMsgs, tc.wantDone)
			}
			loop := toks[tc.after]
			for i, tok := range toks[tc.after:] {
				if tok != loop {
					t.Fatalf("token %d is %q, want the loop's %q", tc.after+i, tok, loop)
				}
			}
		})
	}
	t.Run("no stream", func(t *testing.T) {
		srv := NewServer(Config{Unpaced: true, Models: []string{"tiny"}, Faults: map[string]Fault{"tiny": {Kind: FaultRepeat}}})
		defer srv.Close()
		resp, lines, err := streamLines(t, context.Background(), srv.URL+"/api/generate", noStream)
		if err != nil || resp.StatusCode != 200 || len(lines) != 1 {
			t.Fatalf("got %v %q %v", resp.StatusCode, lines, err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
			t.Fatal(err)
		}
		resp0, _ := m["response"].(string)
		if m["done"] != false || len(strings.Fields(resp0)) != repeatLimit+1 || m["eval_count"] != nil || len(m) != 4 {
			t.Errorf("got %s", lines[0])
		}
	})
}
