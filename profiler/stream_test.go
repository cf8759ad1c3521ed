package profiler

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"go.uber.org/goleak"

	"tr117/profiler/ollamatest"
	"tr117/sink"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// simServer starts a simulator for the test and closes it at cleanup.
func simServer(t *testing.T, cfg ollamatest.Config) *ollamatest.Server {
	t.Helper()
	srv := ollamatest.NewServer(cfg)
	t.Cleanup(func() { srv.Close() })
	return srv
}

// streamOnce streams req with a fresh client and returns the result, the
// error, the chunk records and the messages' text as the callback saw it.
func streamOnce(t *testing.T, cfg ClientConfig, req Request) (*Result, error, []Chunk, string) {
	t.Helper()
	return streamOnceCtx(t, context.Background(), cfg, req)
}

// streamOnceCtx is streamOnce with the caller's context.
func streamOnceCtx(t *testing.T, ctx context.Context, cfg ClientConfig, req Request) (*Result, error, []Chunk, string) {
	t.Helper()
	c := NewClient(cfg)
	defer c.CloseIdleConnections()
	var chunks sink.Memory[Chunk]
	ctx = WithHooks(ctx, &Hooks{Run: 3, Chunks: &chunks})
	var seen strings.Builder
	tokens := 0
	res, err := c.Stream(ctx, &req, func(m *Message) error {
		seen.Write(m.Content)
		tokens += m.Tokens
		return nil
	})
	if res == nil {
		t.Fatal("Stream returned a nil Result")
	}
	if tokens != res.Tokens {
		t.Errorf("callback saw %d tokens, result says %d", tokens, res.Tokens)
	}
	return res, err, chunks.Records(), seen.String()
}

// evalCountMatches reports whether the client's token count agrees with
// Ollama's eval_count, which on a natural stop also counts the
// end-of-sequence token that is never streamed.
func evalCountMatches(res *Result) bool {
	if res.Final == nil {
		return false
	}
	want := res.Tokens
	if res.Final.DoneReason == "stop" {
		want++
	}
	return res.Final.EvalCount == want
}

// checkChunks verifies that chunk records account for the result.
func checkChunks(t *testing.T, res *Result, chunks []Chunk, maxBytes int) {
	t.Helper()
	if len(chunks) != res.Chunks {
		t.Errorf("%d chunk records, result counts %d", len(chunks), res.Chunks)
	}
	var total int64
	var prevSince time.Duration
	for i, c := range chunks {
		total += int64(c.Bytes)
		if c.Index != i {
			t.Errorf("chunk %d has index %d", i, c.Index)
		}
		if c.Bytes <= 0 || (maxBytes > 0 && c.Bytes > maxBytes) {
			t.Errorf("chunk %d has %d bytes (limit %d)", i, c.Bytes, maxBytes)
		}
		// The first chunk has no previous chunk, so no gap (its time
		// from the request's start is Since: the time to first byte).
		wantGap := c.Since - prevSince
		if i == 0 {
			wantGap = 0
		}
		if c.Gap < 0 || c.Parse < 0 || c.Since < prevSince || c.Gap != wantGap {
			t.Errorf("chunk %d: gap %v parse %v since %v (previous %v)", i, c.Gap, c.Parse, c.Since, prevSince)
		}
		prevSince = c.Since
	}
	if total != res.Bytes {
		t.Errorf("chunks hold %d bytes, result counts %d", total, res.Bytes)
	}
}

// reference fetches the same completion with ollama/api's client.
func reference(t *testing.T, base string, req Request) (string, api.Metrics) {
	t.Helper()
	u, _ := url.Parse(base)
	c := api.NewClient(u, &http.Client{})
	var text strings.Builder
	var m api.Metrics
	var err error
	if req.API == APIChat {
		err = c.Chat(context.Background(), &api.ChatRequest{Model: req.Model, Messages: []api.Message{{Role: "user", Content: req.Prompt}}, Options: req.Options}, func(r api.ChatResponse) error {
			text.WriteString(r.Message.Content)
			m = r.Metrics
			return nil
		})
	} else {
		err = c.Generate(context.Background(), &api.GenerateRequest{Model: req.Model, Prompt: req.Prompt, Options: req.Options}, func(r api.GenerateResponse) error {
			text.WriteString(r.Response)
			m = r.Metrics
			return nil
		})
	}
	if err != nil {
		t.Fatalf("reference request: %v", err)
	}
	return text.String(), m
}

func TestStreamMatchesOllamaAPI(t *testing.T) {
	for _, tc := range []struct {
		name string
		sim  ollamatest.Config
		cfg  ClientConfig
		api  API
	}{
		{"generate/default", ollamatest.Config{Unpaced: true, ResponseTokens: 60}, ClientConfig{}, APIGenerate},
		{"chat/default", ollamatest.Config{Unpaced: true, ResponseTokens: 60}, ClientConfig{}, APIChat},
		{"generate/8192", ollamatest.Config{Unpaced: true, ResponseTokens: 60, Coalesce: 7}, ClientConfig{ReadBufferSize: 8192}, APIGenerate},
		{"generate/split-lines", ollamatest.Config{Unpaced: true, ResponseTokens: 40, SplitLines: true}, ClientConfig{ReadBufferSize: 64 << 10}, APIGenerate},
		// One byte per read splits every line and every multi-byte rune
		// (SplitChars puts "café", "東京", "😀"... in the text).
		{"generate/1-byte-reads", ollamatest.Config{Unpaced: true, ResponseTokens: 40, SplitChars: 0.5}, ClientConfig{ReadBufferSize: 1}, APIGenerate},
		{"chat/3-byte-reads", ollamatest.Config{Unpaced: true, ResponseTokens: 40, Coalesce: 3, SplitChars: 0.5}, ClientConfig{ReadBufferSize: 3}, APIChat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := simServer(t, tc.sim)
			req := Request{Agent: "collector", URL: srv.URL, API: tc.api, Model: "gemma3:latest", Prompt: "Describe the benchmark. ü→✓ 😀"}
			res, err, chunks, seen := streamOnce(t, tc.cfg, req)
			if err != nil {
				t.Fatal(err)
			}
			want, wantM := reference(t, srv.URL, req)
			if tc.sim.SplitChars > 0 && !strings.ContainsFunc(want, func(r rune) bool { return r >= 0x80 }) {
				t.Fatalf("no multi-byte character in %q", want)
			}
			if res.Response != want || seen != want {
				t.Errorf("response differs from ollama/api's:\n got %q\nsaw %q\nwant %q", res.Response, seen, want)
			}
			if res.Final == nil {
				t.Fatal("no final message")
			}
			// A split character costs two tokens in one message, so
			// eval_count exceeds the client's count by one per such word.
			if res.Final.EvalCount != wantM.EvalCount || (tc.sim.SplitChars == 0 && !evalCountMatches(res)) {
				t.Errorf("tokens %d, eval_count %d, ollama/api eval_count %d", res.Tokens, res.Final.EvalCount, wantM.EvalCount)
			}
			if !res.HasTTFT || res.TTFT <= 0 || res.TTFT > res.Total {
				t.Errorf("TTFT %v (has %v), total %v", res.TTFT, res.HasTTFT, res.Total)
			}
			if len(res.ITL) != res.Tokens-1 {
				t.Errorf("%d ITLs for %d tokens", len(res.ITL), res.Tokens)
			}
			checkChunks(t, res, chunks, tc.cfg.ReadBufferSize)
			lines := 0
			for _, c := range chunks {
				lines += c.Lines
				if c.Agent != "collector" || c.Run != 3 {
					t.Fatalf("chunk labels %q run %d", c.Agent, c.Run)
				}
			}
			if lines != res.Messages {
				t.Errorf("chunks completed %d lines, %d messages", lines, res.Messages)
			}
			if tc.cfg.ReadBufferSize == 0 && res.Trace.FirstByte <= 0 {
				t.Errorf("no first-byte milestone: %+v", res.Trace)
			}
		})
	}
}

func TestStreamHugeFinalLine(t *testing.T) {
	srv := simServer(t, ollamatest.Config{Unpaced: true, ResponseTokens: 20, Faults: map[string]ollamatest.Fault{
		"gemma3:latest": {Kind: ollamatest.FaultHugeFinal, Size: 6 << 20},
	}})
	res, err, chunks, _ := streamOnce(t, ClientConfig{ReadBufferSize: 8192}, Request{URL: srv.URL, Model: "gemma3:latest", Prompt: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Final == nil || !evalCountMatches(res) {
		t.Fatalf("final %+v, tokens %d", res.Final, res.Tokens)
	}
	if res.Bytes < 6<<20 {
		t.Errorf("only %d bytes", res.Bytes)
	}
	checkChunks(t, res, chunks, 8192)
}

func TestStreamFaults(t *testing.T) {
	model := "gemma3:latest"
	for _, tc := range []struct {
		name      string
		fault     ollamatest.Fault
		model     string
		cfg       ClientConfig
		timeout   time.Duration
		want      string // in the error text
		wantErr   error  // errors.Is
		wantLine  int
		minTokens int
	}{
		{name: "unknown-model", model: "nosuch:7b", want: "model 'nosuch:7b' not found"},
		{name: "http-500", fault: ollamatest.Fault{Kind: ollamatest.FaultHTTPError, Status: 500, Message: "boom"}, want: "500 Internal Server Error: boom"},
		{name: "error-line", fault: ollamatest.Fault{Kind: ollamatest.FaultErrorLine, After: 5}, want: "server error: ", wantLine: 6, minTokens: 5},
		{name: "cut", fault: ollamatest.Fault{Kind: ollamatest.FaultCut, After: 7}, wantErr: ErrTruncated, wantLine: 7, minTokens: 7,
			want: "line 7: server closed the stream before its final (done) message; known causes: Ollama aborts a generation once one token repeats more than 30 times in a row, or the server was stopped or ran out of memory"},
		{name: "repetition-abort", fault: ollamatest.Fault{Kind: ollamatest.FaultRepeat, After: 2}, cfg: ClientConfig{}, wantErr: ErrTruncated, wantLine: 33, minTokens: 33,
			want: "line 33: server closed the stream before its final (done) message, after 31 messages in a row of "},
		{name: "abort", fault: ollamatest.Fault{Kind: ollamatest.FaultAbort, After: 4}, want: "line 4: connection lost before the final message (did the server crash or run out of memory?): unexpected EOF", minTokens: 4},
		{name: "malformed", fault: ollamatest.Fault{Kind: ollamatest.FaultMalformed, After: 3}, want: "malformed message", wantLine: 4, minTokens: 3},
		{name: "idle", fault: ollamatest.Fault{Kind: ollamatest.FaultStall, After: 2}, cfg: ClientConfig{IdleTimeout: 150 * time.Millisecond}, wantErr: ErrIdleTimeout, minTokens: 2},
		{name: "timeout", fault: ollamatest.Fault{Kind: ollamatest.FaultStall, After: 2}, timeout: 200 * time.Millisecond, wantErr: ErrTimeout, minTokens: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := ollamatest.Config{Unpaced: true, ResponseTokens: 60}
			if tc.fault.Kind != "" {
				sim.Faults = map[string]ollamatest.Fault{model: tc.fault}
			}
			srv := simServer(t, sim)
			m := model
			if tc.model != "" {
				m = tc.model
			}
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeoutCause(ctx, tc.timeout, ErrTimeout)
				defer cancel()
			}
			res, err, chunks, _ := streamOnceCtx(t, ctx, tc.cfg, Request{Agent: "insight", URL: srv.URL, Model: m, Prompt: "hi"})
			var se *StreamError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a *StreamError", err, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "profiler: agent insight: "+srv.URL+"/api/generate") {
				t.Errorf("error %q does not name agent and endpoint", msg)
			}
			if tc.want != "" && !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not contain %q", msg, tc.want)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %q is not %v", msg, tc.wantErr)
			}
			if tc.wantLine != 0 && se.Line != tc.wantLine {
				t.Errorf("line %d, want %d", se.Line, tc.wantLine)
			}
			if res.Tokens < tc.minTokens || (tc.minTokens > 0 && !res.HasTTFT) {
				t.Errorf("kept %d tokens, want at least %d", res.Tokens, tc.minTokens)
			}
			if res.Total <= 0 {
				t.Errorf("total %v", res.Total)
			}
			checkChunks(t, res, chunks, 0)
		})
	}
}

func TestStreamEndpointDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close()
	res, err, _, _ := streamOnce(t, ClientConfig{}, Request{Agent: "collector", URL: base, Model: "gemma3:latest", Prompt: "hi"})
	if err == nil || !strings.HasPrefix(err.Error(), "profiler: agent collector: "+base+"/api/generate: dial tcp ") ||
		!strings.HasSuffix(err.Error(), "connection refused (is Ollama running there?)") || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("error %v", err)
	}
	if res.Tokens != 0 || res.Chunks != 0 {
		t.Errorf("result %+v", res)
	}
}

func TestStreamCancel(t *testing.T) {
	srv := simServer(t, ollamatest.Config{TokensPerSecond: 200, TTFT: -1, ResponseTokens: 10000})
	c := NewClient(ClientConfig{})
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := c.Stream(ctx, &Request{URL: srv.URL, Model: "gemma3:latest", Prompt: "hi"}, func(m *Message) error {
		if m.Index == 5 {
			cancel()
		}
		return nil
	})
	if err != context.Canceled {
		t.Fatalf("error %v, want context.Canceled as is", err)
	}
	if res.Tokens < 6 {
		t.Errorf("kept %d tokens", res.Tokens)
	}
}

func TestStreamCallbackErrorStops(t *testing.T) {
	srv := simServer(t, ollamatest.Config{Unpaced: true, ResponseTokens: 50})
	c := NewClient(ClientConfig{})
	defer c.CloseIdleConnections()
	stop := errors.New("enough")
	n := 0
	res, err := c.Stream(context.Background(), &Request{URL: srv.URL, API: APIChat, Model: "gemma3:latest", Prompt: "hi"}, func(m *Message) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Fatalf("error %v, want the callback's as is", err)
	}
	if n != 3 || res.Messages != 3 {
		t.Errorf("callback ran %d times, %d messages", n, res.Messages)
	}
}

func TestStreamRequestBody(t *testing.T) {
	var got []byte
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		buf.ReadFrom(r.Body)
		got = buf.Bytes()
		w.Write([]byte(`{"message":{"role":"assistant","content":""},"done":false}` + "\n" +
			`{"message":{"role":"assistant","content":"hi"},"done":false}` + "\n" +
			`{"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":1,"eval_duration":1000,"total_duration":2000}` + "\n"))
	})
	srv := &http.Server{Handler: h}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()
	res, err, _, _ := streamOnce(t, ClientConfig{}, Request{URL: "http://" + ln.Addr().String() + "/", API: APIChat, Model: "m", Prompt: "p", System: "s", Options: map[string]any{"num_ctx": 512}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"p"}],"stream":true,"options":{"num_ctx":512}}`
	if string(got) != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	// The role-only first message does not count as the first token.
	if res.Messages != 3 || res.Tokens != 1 || !res.HasTTFT || res.Response != "hi" {
		t.Errorf("result %+v", res)
	}
	if tpot, ok := res.TPOT(); ok {
		t.Errorf("TPOT %v with one token", tpot)
	}
}

// bodyClient serves body for every request, at most step bytes per read.
func bodyClient(body []byte, step int) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Body.Close()
		return &http.Response{
			StatusCode: 200, Status: "200 OK", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Body: &stepBody{b: body, step: step}, Request: r,
		}, nil
	})}
}

type stepBody struct {
	b    []byte
	step int
}

func (s *stepBody) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), s.step, len(s.b))
	copy(p, s.b[:n])
	s.b = s.b[n:]
	return n, nil
}

func (s *stepBody) Close() error { return nil }

// FuzzStreamBody streams arbitrary bodies in reads of different sizes and
// checks that the outcome does not depend on how the body was split, and
// that chunks account for every byte.
func FuzzStreamBody(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s+"\n"), uint8(3), false)
	}
	f.Add(bytes.Join(benchMessages(5), nil), uint8(1), false)
	f.Add([]byte("{\"message\":{\"content\":\"h\xc3\xa9\"},\"done\":false}\n{\"done\":true}"), uint8(2), true)
	f.Fuzz(func(t *testing.T, body []byte, step uint8, chat bool) {
		which := APIGenerate
		if chat {
			which = APIChat
		}
		run := func(step, readSize int) (*Result, string, []Chunk) {
			c := NewClient(ClientConfig{HTTPClient: bodyClient(body, step), ReadBufferSize: readSize})
			var chunks sink.Memory[Chunk]
			var seen []byte
			ctx := WithHooks(context.Background(), &Hooks{Chunks: &chunks})
			res, err := c.Stream(ctx, &Request{URL: "http://fuzz.invalid", API: which, Model: "m", Prompt: "p"}, func(m *Message) error {
				seen = append(seen, m.Content...)
				return nil
			})
			if string(seen) != res.Response {
				t.Fatalf("callback saw %q, result %q", seen, res.Response)
			}
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			return res, msg, chunks.Records()
		}
		whole, werr, wchunks := run(len(body)+1, 0)
		split, serr, schunks := run(int(step%16)+1, 0)
		if werr != serr || whole.Response != split.Response || whole.Tokens != split.Tokens || whole.Messages != split.Messages || (whole.Final == nil) != (split.Final == nil) {
			t.Fatalf("whole body: %d tokens %q err %q; split in %d-byte reads: %d tokens %q err %q", whole.Tokens, whole.Response, werr, step%16+1, split.Tokens, split.Response, serr)
		}
		for _, tc := range []struct {
			res    *Result
			chunks []Chunk
		}{{whole, wchunks}, {split, schunks}} {
			var n int64
			for _, c := range tc.chunks {
				n += int64(c.Bytes)
			}
			if n != tc.res.Bytes || len(tc.chunks) != tc.res.Chunks {
				t.Fatalf("chunks hold %d bytes in %d records, result %d in %d", n, len(tc.chunks), tc.res.Bytes, tc.res.Chunks)
			}
		}
	})
}

func TestStreamTimings(t *testing.T) {
	// Real time: 40 ms to the first token, then 200 tok/s for 30 tokens.
	srv := simServer(t, ollamatest.Config{TTFT: 40 * time.Millisecond, TokensPerSecond: 200})
	res, err, chunks, _ := streamOnce(t, ClientConfig{}, Request{URL: srv.URL, Model: "gemma3:latest", Prompt: "hi", Options: map[string]any{"num_predict": 30}})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Final
	// The client cannot see a token before the server produced it.
	if res.TTFT < f.PromptEvalDuration || res.Total < f.TotalDuration {
		t.Errorf("client TTFT %v total %v, server prompt eval %v total %v", res.TTFT, res.Total, f.PromptEvalDuration, f.TotalDuration)
	}
	if o, ok := res.ClientOverhead(); !ok || o != res.Total-f.TotalDuration || o < 0 {
		t.Errorf("client overhead %v %v", o, ok)
	}
	// The inter-token latencies add up to the time from the first token to
	// the last, and TPOT spreads the rest of the stream over the tokens.
	var sum time.Duration
	for _, d := range res.ITL {
		sum += d
	}
	last := chunks[len(chunks)-1].Since
	if res.Tokens != 30 || sum > last-res.TTFT || sum < f.EvalDuration/2 {
		t.Errorf("%d tokens, ITLs sum to %v, last chunk at %v, TTFT %v, eval %v", res.Tokens, sum, last, res.TTFT, f.EvalDuration)
	}
	if tpot, ok := res.TPOT(); !ok || tpot != (res.Total-res.TTFT)/29 {
		t.Errorf("TPOT %v", tpot)
	}
	if r := res.TokensPerSecond(); r <= 0 || r > 200 {
		t.Errorf("client rate %.1f tok/s above the server's 200", r)
	}
	if s := f.ServerTokensPerSecond(); s < 150 || s > 250 {
		t.Errorf("server rate %.1f tok/s", s)
	}
}

func TestTruncatedExplains(t *testing.T) {
	for _, tc := range []struct {
		repeats int
		last    string
		want    string
	}{
		{30, "the", `after 31 messages in a row of "the": Ollama aborts`},
		// Ollama's previous text starts out "", so 30 blank messages trip it.
		{30, "", `after 30 messages in a row of "": Ollama aborts`},
		{29, "the", "; known causes: Ollama aborts a generation once one token repeats more than 30 times in a row, or the server was stopped or ran out of memory"},
	} {
		err := truncated(tc.repeats, []byte(tc.last))
		if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("truncated(%d, %q) = %v, want %q", tc.repeats, tc.last, err, tc.want)
		}
	}
}

// TestErrorTexts: an error names what it has, with no doubled or dangling
// separators when a part is missing.
func TestErrorTexts(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&StreamError{Agent: "collector", URL: "http://h:1/api/generate", Line: 3, Err: ErrTruncated},
			"profiler: agent collector: http://h:1/api/generate: line 3: " + ErrTruncated.Error()},
		{&StreamError{Agent: "collector", Err: ErrIdleTimeout}, "profiler: agent collector: idle timeout"},
		{&StreamError{URL: "http://h:1/api/chat", Err: ErrTimeout}, "profiler: http://h:1/api/chat: request timeout"},
		{&StreamError{Agent: "a", Line: 2, Err: errors.New("x")}, "profiler: agent a: line 2: x"},
		{&StreamError{Agent: "a"}, "profiler: agent a: failed"},
		{&ServerError{Message: "out of memory"}, "server error: out of memory"},
		{&ServerError{}, "server error (no message)"},
		{&HTTPError{StatusCode: 404, Status: "404 Not Found", Message: "model 'x' not found"}, "HTTP 404 Not Found: model 'x' not found"},
		{&HTTPError{StatusCode: 502}, "HTTP 502"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
