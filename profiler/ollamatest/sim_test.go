package ollamatest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"

	"tr117/internal/simmark"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// virtualClock is a clock whose Sleep returns at once and advances Now by d.
type virtualClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newVirtualClock() *virtualClock {
	return &virtualClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *virtualClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	return nil
}

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *virtualClock) total() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var t time.Duration
	for _, d := range c.sleeps {
		t += d
	}
	return t
}

func virtualConfig(c *virtualClock) Config {
	return Config{Sleep: c.Sleep, Now: c.Now}
}

// post sends body to path on h and returns the recorded response.
func post(t *testing.T, h http.Handler, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// lines splits an NDJSON body into decoded objects.
func lines(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d %q: %v", len(out)+1, sc.Text(), err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGenerateStream(t *testing.T) {
	clk := newVirtualClock()
	cfg := virtualConfig(clk)
	cfg.ResponseTokens = 20
	h := NewHandler(cfg)
	rec := post(t, h, "/api/generate", `{"model":"tiny","prompt":"why is the sky blue?","options":{"num_predict":8}}`)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("status %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	msgs := lines(t, rec.Body.Bytes())
	if len(msgs) != 9 {
		t.Fatalf("got %d messages, want 8 tokens and a final one", len(msgs))
	}
	var text strings.Builder
	for i, m := range msgs[:8] {
		if m["done"] != false || m["model"] != "tiny" || m["response"] == "" {
			t.Errorf("message %d: %v", i, m)
		}
		if _, ok := m["eval_count"]; ok {
			t.Errorf("message %d has metrics: %v", i, m)
		}
		text.WriteString(m["response"].(string))
	}
	final := msgs[8]
	if final["done"] != true || final["done_reason"] != "length" || final["response"] != "" {
		t.Errorf("final: %v", final)
	}
	if got := final["eval_count"]; got != float64(8) {
		t.Errorf("eval_count = %v, want 8", got)
	}
	if ctx, ok := final["context"].([]any); !ok || len(ctx) < 8 {
		t.Errorf("context = %v", final["context"])
	}
	interval := time.Second / time.Duration(DefaultTokensPerSecond)
	if got, want := time.Duration(final["eval_duration"].(float64)), 8*interval; got != want {
		t.Errorf("eval_duration = %v, want %v", got, want)
	}
	if got, want := time.Duration(final["prompt_eval_duration"].(float64)), DefaultTTFT; got != want {
		t.Errorf("prompt_eval_duration = %v, want %v", got, want)
	}
	if got, want := clk.total(), DefaultTTFT+8*interval; got != want {
		t.Errorf("slept %v, want %v", got, want)
	}

	// The same request gives the same text; stream:false gives it whole.
	rec = post(t, h, "/api/generate", `{"model":"tiny","prompt":"why is the sky blue?","stream":false,"options":{"num_predict":8}}`)
	var whole map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &whole); err != nil {
		t.Fatal(err)
	}
	if whole["response"] != text.String() || whole["done"] != true {
		t.Errorf("stream:false response %q, streamed %q", whole["response"], text.String())
	}
}

func TestChatStream(t *testing.T) {
	clk := newVirtualClock()
	cfg := virtualConfig(clk)
	cfg.ResponseTokens = 5
	h := NewHandler(cfg)
	rec := post(t, h, "/api/chat", `{"model":"qwen2.5:7b","messages":[{"role":"user","content":"hi"}],"options":{"num_predict":64}}`)
	msgs := lines(t, rec.Body.Bytes())
	if len(msgs) != 6 {
		t.Fatalf("got %d messages, want 6", len(msgs))
	}
	final := msgs[5]
	// Five tokens sent and the end-of-sequence token, counted but not sent.
	if final["done_reason"] != "stop" || final["eval_count"] != float64(6) {
		t.Errorf("final: %v", final)
	}
	if _, ok := final["context"]; ok {
		t.Error("chat final message has a context")
	}
	msg := msgs[0]["message"].(map[string]any)
	if msg["role"] != "assistant" || msg["content"] == "" {
		t.Errorf("first message: %v", msgs[0])
	}
}

func TestUnknownModel(t *testing.T) {
	h := NewHandler(Config{Unpaced: true})
	for _, tc := range []struct{ path, body, want string }{
		{"/api/generate", `{"model":"nope:1b","prompt":"x"}`, `{"error":"model 'nope:1b' not found"}`},
		{"/api/chat", `{"model":"nope","messages":[{"role":"user","content":"x"}]}`, `{"error":"model \"nope\" not found, try pulling it first"}`},
		{"/api/show", `{"model":"nope"}`, `{"error":"model 'nope' not found"}`},
	} {
		rec := post(t, h, tc.path, tc.body)
		if rec.Code != 404 || rec.Body.String() != tc.want {
			t.Errorf("%s: %d %s, want 404 %s", tc.path, rec.Code, rec.Body, tc.want)
		}
	}
}

func TestTagsVersionServer(t *testing.T) {
	srv := NewServer(Config{Models: []string{"a:1b", "B"}})
	defer srv.Close()
	get := func(path string) string {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := get("/api/version"); got != `{"version":"0.6.5-ollamatest"}` {
		t.Errorf("version: %s", got)
	}
	var tags listResponse
	if err := json.Unmarshal([]byte(get("/api/tags")), &tags); err != nil {
		t.Fatal(err)
	}
	if len(tags.Models) != 2 || tags.Models[0].Name != "a:1b" || tags.Models[1].Name != "b:latest" {
		t.Errorf("tags: %+v", tags)
	}
}

// streamText posts a streaming generate request and returns the messages'
// texts and the final message.
func streamText(t *testing.T, h http.Handler, body string) ([]string, map[string]any) {
	t.Helper()
	msgs := lines(t, post(t, h, "/api/generate", body).Body.Bytes())
	var texts []string
	for _, m := range msgs[:len(msgs)-1] {
		texts = append(texts, m["response"].(string))
	}
	return texts, msgs[len(msgs)-1]
}

func TestStopSequences(t *testing.T) {
	h := NewHandler(Config{Unpaced: true})
	const n = 30
	tokens, final := streamText(t, h, `{"model":"tiny","prompt":"p","options":{"num_predict":30}}`)
	if len(tokens) != n || final["eval_count"] != float64(n) {
		t.Fatalf("%d tokens, eval_count %v", len(tokens), final["eval_count"])
	}
	full := strings.Join(tokens, "")

	t.Run("stop cuts", func(t *testing.T) {
		// Stop at the middle of token 10: the text before it is sent, the
		// token that completes the stop sequence counts in eval_count.
		stop := strings.TrimSpace(tokens[10])[:2]
		k := strings.Index(full, stop)
		body, _ := json.Marshal(map[string]any{"model": "tiny", "prompt": "p", "options": map[string]any{"num_predict": n, "stop": []string{"never", stop}}})
		got, final := streamText(t, h, string(body))
		if strings.Join(got, "") != full[:k] {
			t.Errorf("sent %q, want %q", strings.Join(got, ""), full[:k])
		}
		at := 0 // the token in which the stop sequence ends
		for i, l := 0, 0; i < len(tokens); i++ {
			l += len(tokens[i])
			if l >= k+len(stop) {
				at = i
				break
			}
		}
		if final["done_reason"] != "stop" || final["eval_count"] != float64(at+1) {
			t.Errorf("done_reason %v eval_count %v, want stop %d", final["done_reason"], final["eval_count"], at+1)
		}
	})
	t.Run("held text merges", func(t *testing.T) {
		// "e\x01" never completes, but every token ending in "e" may begin
		// it, so Ollama holds it back and sends it with the next token.
		got, final := streamText(t, h, `{"model":"tiny","prompt":"p","options":{"num_predict":30,"stop":["e\u0001"]}}`)
		if strings.Join(got, "") != full || final["done_reason"] != "length" || final["eval_count"] != float64(n) {
			t.Fatalf("sent %q (%v, %v), want %q", strings.Join(got, ""), final["done_reason"], final["eval_count"], full)
		}
		held := 0
		for _, tok := range tokens[:n-1] {
			if strings.HasSuffix(tok, "e") {
				held++
			}
		}
		if held == 0 || len(got) >= n {
			t.Fatalf("no token ends in e: %q", tokens)
		}
		for _, m := range got[:len(got)-1] {
			if strings.HasSuffix(m, "e") {
				t.Errorf("message %q ends with held text", m)
			}
		}
	})
}

func TestSplitCharsMergeIntoOneMessage(t *testing.T) {
	h := NewHandler(Config{Unpaced: true, SplitChars: 0.4, Seed: 3})
	texts, final := streamText(t, h, `{"model":"tiny","prompt":"p","options":{"num_predict":40}}`)
	if final["eval_count"] != float64(40) || final["done_reason"] != "length" {
		t.Fatalf("final %v", final)
	}
	merged := 0
	for _, s := range texts {
		if !utf8.ValidString(s) {
			t.Errorf("message %q is not valid UTF-8", s)
		}
		if strings.IndexFunc(s, func(r rune) bool { return r >= 0x80 }) >= 0 {
			merged++
		}
	}
	// Every split word is two tokens in one message.
	if merged == 0 || len(texts)+merged != 40 {
		t.Errorf("%d messages, %d of them two tokens; want %d tokens in all", len(texts), merged, 40)
	}

	// A limit that falls inside a character drops the half character.
	h = NewHandler(Config{Unpaced: true, SplitChars: 1})
	rec := post(t, h, "/api/generate", `{"model":"tiny","prompt":"p","stream":false,"options":{"num_predict":5}}`)
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	resp := m["response"].(string)
	if !utf8.ValidString(resp) || m["eval_count"] != float64(5) {
		t.Errorf("response %q, eval_count %v", resp, m["eval_count"])
	}
}

func TestIncompleteUTF8(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"", false}, {"abc", false}, {"café", false}, {"caf\xc3", true},
		{" \xe6", true}, {" \xe6\x9d", true}, {" 東", false}, {" \xf0\x9f\x98", true}, {" 😀", false},
		{"\xa9", false}, // a stray continuation byte is invalid, not incomplete
	} {
		if got := incompleteUTF8(tc.s); got != tc.want {
			t.Errorf("incompleteUTF8(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// TestConfigJSON checks that a Config, funcs and all, goes into a manifest.
func TestConfigJSON(t *testing.T) {
	cfg := Config{
		TokensPerSecond: 60, TTFT: time.Second, Rates: map[string]float64{"qwen2.5:7b": 40},
		Faults:    map[string]Fault{"tiny": {Kind: FaultStall, After: 3, Duration: time.Second}},
		FaultFunc: func(Request) Fault { return Fault{} },
		Sleep:     func(context.Context, time.Duration) error { return nil },
		Now:       time.Now,
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.TTFT != time.Second || back.Faults["tiny"].Kind != FaultStall || back.Rates["qwen2.5:7b"] != 40 {
		t.Errorf("round trip: %s -> %+v", b, back)
	}
}

// TestMarkedAsSimulator checks that every answer, an error and an unknown
// path included, says it came from the simulator, even with a configured
// version that looks real.
func TestMarkedAsSimulator(t *testing.T) {
	h := NewHandler(Config{Version: "0.6.5"})
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/api/version", ""},
		{"GET", "/api/tags", ""},
		{"POST", "/api/generate", `{"model":"nope","prompt":"x"}`},
		{"POST", "/api/generate", `{"model":"tiny","prompt":"x","options":{"num_predict":1}}`},
		{"GET", "/nowhere", ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
		if !simmark.Is(rec.Result().Header, "") {
			t.Errorf("%s %s: no %s header: %v", tc.method, tc.path, simmark.Header, rec.Result().Header)
		}
	}
}
