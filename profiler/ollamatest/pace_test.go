package ollamatest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeLog is a ResponseWriter that keeps every Write separately and counts
// flushes.
type writeLog struct {
	hdr     http.Header
	code    int
	writes  [][]byte
	flushes int
}

func (w *writeLog) Header() http.Header {
	if w.hdr == nil {
		w.hdr = http.Header{}
	}
	return w.hdr
}
func (w *writeLog) WriteHeader(code int) { w.code = code }
func (w *writeLog) Write(b []byte) (int, error) {
	w.writes = append(w.writes, append([]byte(nil), b...))
	return len(b), nil
}
func (w *writeLog) Flush() { w.flushes++ }

func TestFraming(t *testing.T) {
	const body = `{"model":"tiny","prompt":"p","options":{"num_predict":8}}` // 8 tokens + final = 9 messages
	cases := []struct {
		name       string
		cfg        Config
		writes     int
		linesPerWr []int
	}{
		{"one per write", Config{}, 9, []int{1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"coalesce 3", Config{Coalesce: 3}, 3, []int{3, 3, 3}},
		{"coalesce 4", Config{Coalesce: 4}, 3, []int{4, 4, 1}},
		{"split lines", Config{SplitLines: true}, 18, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Unpaced = true
			h := NewHandler(tc.cfg)
			w := &writeLog{}
			h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/api/generate", strings.NewReader(body)))
			if len(w.writes) != tc.writes || w.flushes != tc.writes {
				t.Fatalf("%d writes, %d flushes; want %d", len(w.writes), w.flushes, tc.writes)
			}
			for i, n := range tc.linesPerWr {
				if got := bytes.Count(w.writes[i], []byte("\n")); got != n || w.writes[i][len(w.writes[i])-1] != '\n' {
					t.Errorf("write %d: %d lines, want %d whole ones: %q", i, got, n, w.writes[i])
				}
			}
			if tc.cfg.SplitLines {
				for i := 0; i < len(w.writes); i += 2 {
					if bytes.IndexByte(w.writes[i], '\n') >= 0 || !json.Valid(bytes.TrimSpace(append(w.writes[i], w.writes[i+1]...))) {
						t.Errorf("writes %d and %d do not split one line: %q %q", i, i+1, w.writes[i], w.writes[i+1])
					}
				}
			}
			var all []byte
			for _, b := range w.writes {
				all = append(all, b...)
			}
			if msgs := lines(t, all); len(msgs) != 9 || msgs[8]["done"] != true {
				t.Errorf("reassembled %d messages", len(msgs))
			}
		})
	}
}

func TestJitterKeepsTextAndRate(t *testing.T) {
	run := func(jitter float64) (text string, evalDur time.Duration, clk *virtualClock) {
		clk = newVirtualClock()
		cfg := virtualConfig(clk)
		cfg.Jitter = jitter
		cfg.TokensPerSecond = 50
		rec := post(t, NewHandler(cfg), "/api/generate", `{"model":"tiny","prompt":"p","stream":false,"options":{"num_predict":40}}`)
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		return m["response"].(string), time.Duration(m["eval_duration"].(float64)), clk
	}
	steady, steadyDur, _ := run(0)
	jittered, jitDur, clk := run(0.5)
	if steady != jittered {
		t.Errorf("jitter changed the text:\n%q\n%q", steady, jittered)
	}
	if steadyDur != 40*20*time.Millisecond {
		t.Errorf("steady eval_duration %v, want 800ms", steadyDur)
	}
	clk.mu.Lock()
	tokenSleeps := clk.sleeps[1:] // after TTFT
	clk.mu.Unlock()
	var sum time.Duration
	distinct := map[time.Duration]bool{}
	for _, d := range tokenSleeps {
		if d < 10*time.Millisecond || d > 30*time.Millisecond {
			t.Errorf("interval %v outside [10ms, 30ms]", d)
		}
		sum += d
		distinct[d] = true
	}
	if sum != jitDur || len(distinct) < 10 {
		t.Errorf("eval_duration %v, sum of intervals %v, %d distinct", jitDur, sum, len(distinct))
	}
}

func TestDeterministicText(t *testing.T) {
	text := func(seed uint64, body string) string {
		rec := post(t, NewHandler(Config{Unpaced: true, Seed: seed}), "/api/generate", body)
		var m map[string]any
		json.Unmarshal(rec.Body.Bytes(), &m)
		return m["response"].(string)
	}
	const a = `{"model":"tiny","prompt":"p","stream":false,"options":{"num_predict":12}}`
	const b = `{"model":"tiny","prompt":"q","stream":false,"options":{"num_predict":12}}`
	const s = `{"model":"tiny","prompt":"p","stream":false,"options":{"num_predict":12,"seed":42}}`
	if text(1, a) != text(1, a) {
		t.Error("same seed and request, different text")
	}
	for _, other := range []string{text(2, a), text(1, b), text(1, s)} {
		if other == text(1, a) {
			t.Errorf("different seed, prompt or options.seed gave the same text %q", other)
		}
	}
	if n := len(strings.Fields(text(1, a))); n < 10 || n > 12 {
		t.Errorf("%d words in 12 tokens", n)
	}
}

func TestLoadKeepAliveAndPs(t *testing.T) {
	clk := newVirtualClock()
	cfg := virtualConfig(clk)
	cfg.LoadDelay = 3 * time.Second
	h := NewHandler(cfg)
	loadDur := func() time.Duration {
		t.Helper()
		rec := post(t, h, "/api/generate", `{"model":"llama3.1:8b-instruct-q4_0","prompt":"p","stream":false,"options":{"num_predict":2}}`)
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatal(err, rec.Body)
		}
		return time.Duration(m["load_duration"].(float64))
	}
	ps := func() []processModel {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/ps", nil))
		var r processResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		return r.Models
	}
	if len(ps()) != 0 {
		t.Error("a model is loaded before any request")
	}
	if d := loadDur(); d != 3*time.Second {
		t.Errorf("first load_duration %v, want 3s", d)
	}
	if d := loadDur(); d != minDuration {
		t.Errorf("second load_duration %v, want %v", d, minDuration)
	}
	models := ps()
	if len(models) != 1 || models[0].Name != "llama3.1:8b-instruct-q4_0" || !models[0].ExpiresAt.Equal(clk.Now().Add(5*time.Minute)) {
		t.Fatalf("ps: %+v", models)
	}
	// Five minutes idle: unloaded, the next request loads again.
	clk.Sleep(context.Background(), 5*time.Minute+time.Second)
	if len(ps()) != 0 {
		t.Error("still loaded after keep_alive")
	}
	if d := loadDur(); d != 3*time.Second {
		t.Errorf("load_duration after expiry %v, want 3s", d)
	}
	rec := post(t, h, "/api/generate", `{"model":"llama3.1:8b-instruct-q4_0","keep_alive":0}`)
	if !strings.Contains(rec.Body.String(), `"done_reason":"unload"`) || len(ps()) != 0 {
		t.Errorf("unload: %s, ps %v", rec.Body, ps())
	}
	rec = post(t, h, "/api/chat", `{"model":"llama3.1:8b-instruct-q4_0","keep_alive":"-1s"}`)
	if !strings.Contains(rec.Body.String(), `"done_reason":"load"`) {
		t.Errorf("load: %s", rec.Body)
	}
	if m := ps(); len(m) != 1 || m[0].ExpiresAt.Year() < 2200 {
		t.Errorf("keep_alive -1 should keep it forever: %+v", m)
	}
}

// lockstep is a Sleep for two streams that makes each wait for the other at
// every call, so both see the other generating for their whole run.
type lockstep struct {
	mu    sync.Mutex
	cond  *sync.Cond
	count int
	gen   int
	total time.Duration
}

func (l *lockstep) Sleep(ctx context.Context, d time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total += d
	g := l.gen
	l.count++
	if l.count == 2 {
		l.count = 0
		l.gen++
		l.cond.Broadcast()
		return nil
	}
	for g == l.gen {
		l.cond.Wait()
	}
	return nil
}

func TestContention(t *testing.T) {
	ls := &lockstep{}
	ls.cond = sync.NewCond(&ls.mu)
	h := NewHandler(Config{Sleep: ls.Sleep, Contention: 0.5, TokensPerSecond: 100})
	var wg sync.WaitGroup
	durs := make([]time.Duration, 2)
	for i := range durs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/generate", strings.NewReader(`{"model":"tiny","prompt":"p","stream":false,"options":{"num_predict":10}}`)))
			var m map[string]any
			json.Unmarshal(rec.Body.Bytes(), &m)
			durs[i] = time.Duration(m["eval_duration"].(float64))
		}()
	}
	wg.Wait()
	want := 10 * 15 * time.Millisecond // 10 tokens at 10ms × 1.5
	if durs[0] != want || durs[1] != want {
		t.Errorf("eval_duration %v, want %v each", durs, want)
	}
}

// TestParallelQueues checks that with Parallel 1 a second request does not
// start generating until the first has finished.
func TestParallelQueues(t *testing.T) {
	var mu sync.Mutex
	var order []string
	firstIn := make(chan struct{})
	release := make(chan struct{})
	secondSeen := make(chan struct{})
	sleep := func(ctx context.Context, d time.Duration) error {
		who := ctx.Value(whoKey{}).(string)
		mu.Lock()
		order = append(order, who)
		n := len(order)
		mu.Unlock()
		if who == "a" && n == 1 {
			close(firstIn)
			<-release
		}
		return nil
	}
	h := NewHandler(Config{Sleep: sleep, Parallel: 1, FaultFunc: func(r Request) Fault {
		if r.Seq == 2 {
			close(secondSeen)
		}
		return Fault{}
	}})
	do := func(who string, wg *sync.WaitGroup) {
		defer wg.Done()
		req := httptest.NewRequest(http.MethodPost, "/api/generate", strings.NewReader(`{"model":"tiny","prompt":"p","stream":false,"options":{"num_predict":3}}`))
		req = req.WithContext(context.WithValue(req.Context(), whoKey{}, who))
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go do("a", &wg)
	<-firstIn
	go do("b", &wg)
	<-secondSeen
	close(release)
	wg.Wait()
	want := "a a a a b b b b" // TTFT and three tokens each
	if got := strings.Join(order, " "); got != want {
		t.Errorf("sleep order %q, want %q", got, want)
	}
}

type whoKey struct{}

// slowWriter is a ResponseWriter whose every Write takes 4ms of virtual time.
type slowWriter struct {
	writeLog
	clk *virtualClock
}

func (w *slowWriter) Write(b []byte) (int, error) {
	w.clk.mu.Lock()
	w.clk.now = w.clk.now.Add(4 * time.Millisecond)
	w.clk.mu.Unlock()
	return w.writeLog.Write(b)
}

// TestPacingDoesNotDrift checks that time spent writing is taken out of the
// next sleep, so a stream keeps its configured rate.
func TestPacingDoesNotDrift(t *testing.T) {
	clk := newVirtualClock()
	cfg := virtualConfig(clk)
	cfg.TokensPerSecond = 100 // 10ms a token
	h := NewHandler(cfg)
	start := clk.Now()
	w := &slowWriter{clk: clk}
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/api/generate", strings.NewReader(`{"model":"tiny","prompt":"p","options":{"num_predict":20}}`)))
	clk.mu.Lock()
	sleeps := append([]time.Duration(nil), clk.sleeps...)
	clk.mu.Unlock()
	if len(sleeps) != 21 || sleeps[0] != DefaultTTFT || sleeps[1] != 10*time.Millisecond {
		t.Fatalf("sleeps %v", sleeps)
	}
	for i, d := range sleeps[2:] {
		if d != 6*time.Millisecond {
			t.Errorf("sleep %d: %v, want 6ms (10ms less the 4ms write)", i+2, d)
		}
	}
	// 20 tokens and the final message written, 4ms each, the last token due at 50ms + 200ms.
	if got, want := clk.Now().Sub(start), DefaultTTFT+200*time.Millisecond+2*4*time.Millisecond; got != want {
		t.Errorf("stream took %v of virtual time, want %v", got, want)
	}
}

func TestRates(t *testing.T) {
	clk := newVirtualClock()
	cfg := virtualConfig(clk)
	cfg.Rates = map[string]float64{"qwen2.5:7b": 40, "GEMMA3": 80}
	h := NewHandler(cfg)
	for model, want := range map[string]time.Duration{
		"qwen2.5:7b":                10 * 25 * time.Millisecond,
		"gemma3:latest":             10 * 12500 * time.Microsecond,
		"llama3.1:8b-instruct-q4_0": 10 * 10 * time.Millisecond, // TokensPerSecond
	} {
		rec := post(t, h, "/api/generate", `{"model":"`+model+`","prompt":"p","stream":false,"options":{"num_predict":10}}`)
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if got := time.Duration(m["eval_duration"].(float64)); got != want {
			t.Errorf("%s: eval_duration %v, want %v", model, got, want)
		}
	}
}
