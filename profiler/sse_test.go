package profiler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

type sseEvent struct{ name, data string }

// frameAll frames body, read step bytes at a time, into events.
func frameAll(body []byte, step int) []sseEvent {
	var r bodyReader
	r.reset(&stepBody{b: body, step: step}, 16, false)
	var f sseFramer
	var out []sseEvent
	for {
		_, err := r.read()
		for {
			msg, _, ok := f.next(&r)
			if !ok {
				break
			}
			out = append(out, sseEvent{string(f.eventName), string(msg)})
		}
		if err != nil {
			return out
		}
	}
}

func TestSSEFramer(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []sseEvent
	}{
		{"one", "data: {\"a\":1}\n\n", []sseEvent{{"", `{"a":1}`}}},
		{"crlf", "data: x\r\n\r\ndata: y\r\n\r\n", []sseEvent{{"", "x"}, {"", "y"}}},
		{"no space", "data:x\n\n", []sseEvent{{"", "x"}}},
		{"two spaces keep one", "data:  x\n\n", []sseEvent{{"", " x"}}},
		{"comments and pings", ": ping\n\n: keep-alive\ndata: x\n\n", []sseEvent{{"", "x"}}},
		{"fields", "id: 7\nretry: 1000\nevent: message\ndata: x\n\n", []sseEvent{{"message", "x"}}},
		{"event name resets", "event: error\ndata: e\n\ndata: x\n\n", []sseEvent{{"error", "e"}, {"", "x"}}},
		{"multi-line data", "data: a\ndata: b\ndata:\n\n", []sseEvent{{"", "a\nb\n"}}},
		{"bare data field", "data\n\n", []sseEvent{{"", ""}}},
		{"no data, no event", "event: x\nid: 1\n\ndata: y\n\n", []sseEvent{{"", "y"}}},
		{"unknown field", "foo: bar\ndata: y\n\n", []sseEvent{{"", "y"}}},
		{"unterminated at end", "data: x\n\ndata: y\n", []sseEvent{{"", "x"}}},
		{"done", "data: [DONE]\n\n", []sseEvent{{"", "[DONE]"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, step := range []int{1, 2, 3, 7, len(tc.body)} {
				got := frameAll([]byte(tc.body), step)
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("%d-byte reads: %q, want %q", step, got, tc.want)
				}
			}
		})
	}
}

// recordedSSE is an OpenAI chat stream as Ollama v0.6.5 writes it, with a
// keep-alive comment and a CRLF event added.
func recordedSSE() []byte {
	var b bytes.Buffer
	b.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"tiny","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n")
	b.WriteString(": ping\n\n")
	for i, w := range []string{"Hello", ",", " wörld", "\\n", " 😀"} {
		sep := "\n\n"
		if i == 2 {
			sep = "\r\n\r\n"
		}
		fmt.Fprintf(&b, `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"tiny","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"%s"},"finish_reason":null}]}`+sep, w)
	}
	b.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"tiny","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"length"}]}` + "\n\n")
	b.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"tiny","system_fingerprint":"fp_ollama","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

// FuzzSSEFramer splits a recorded body (or a fuzzed one) at random places:
// the events must be the same as from one read, and nothing may panic.
func FuzzSSEFramer(f *testing.F) {
	f.Add(recordedSSE(), uint8(1))
	f.Add([]byte("data: a\r\ndata: b\r\n\r\n: c\n\nevent: e\ndata\n\n"), uint8(2))
	f.Fuzz(func(t *testing.T, body []byte, step uint8) {
		whole := frameAll(body, len(body)+1)
		split := frameAll(body, int(step%32)+1)
		if fmt.Sprint(whole) != fmt.Sprint(split) {
			t.Fatalf("whole: %q\n%d-byte reads: %q", whole, step%32+1, split)
		}
	})
}

// sseBody is a response body that returns its events one per read and then
// either ends or, with hold set, blocks until the request is cancelled, as
// a server that keeps the connection open after [DONE] does.
type sseBody struct {
	msgs [][]byte
	i    int
	hold <-chan struct{}
}

func (b *sseBody) Read(p []byte) (int, error) {
	if b.i < len(b.msgs) {
		n := copy(p, b.msgs[b.i])
		if n < len(b.msgs[b.i]) {
			b.msgs[b.i] = b.msgs[b.i][n:]
		} else {
			b.i++
		}
		return n, nil
	}
	if b.hold != nil {
		<-b.hold
		return 0, context.Canceled
	}
	return 0, io.EOF
}

func (b *sseBody) Close() error { return nil }

// sseServer answers in process: respond returns status, content type and
// body for each request (and may look at the request's body).
func sseServer(respond func(r *http.Request, body []byte) (int, string, io.ReadCloser)) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		status, ct, rb := respond(r, body)
		return &http.Response{
			StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {ct}}, Body: rb, Request: r,
		}, nil
	})}
}

// events renders data payloads as SSE events.
func events(data ...string) [][]byte {
	out := make([][]byte, len(data))
	for i, d := range data {
		out[i] = []byte("data: " + d + "\n\n")
	}
	return out
}

func chatChunk(delta string) string {
	return `{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":` + delta + `,"finish_reason":null}]}`
}

func streamSSE(t *testing.T, api API, msgs [][]byte) (*Result, error) {
	t.Helper()
	c := NewClient(ClientConfig{HTTPClient: sseServer(func(*http.Request, []byte) (int, string, io.ReadCloser) {
		return 200, "text/event-stream; charset=utf-8", &sseBody{msgs: msgs}
	})})
	return c.Stream(context.Background(), &Request{Agent: "collector", URL: "http://oai.invalid", API: api, Model: "m", Prompt: "p"}, func(*Message) error { return nil })
}

func TestOpenAIChunkSemantics(t *testing.T) {
	final := `{"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":%d,"total_tokens":20}}`
	for _, tc := range []struct {
		name        string
		api         API
		msgs        [][]byte
		tokens      int
		response    string
		evalCount   int
		source      string
		ttftIsTTFC  bool
		perChunk    float64
		doneReason  string
		hasDuration bool
	}{
		{name: "role-only first chunk is not a token", api: APIOpenAIChat,
			msgs:   events(chatChunk(`{"role":"assistant","content":""}`), chatChunk(`{"content":"Hi"}`), chatChunk(`{"content":" you"}`), fmt.Sprintf(final, 2), "[DONE]"),
			tokens: 2, response: "Hi you", evalCount: 2, source: "usage", ttftIsTTFC: true, perChunk: 1},
		{name: "null content", api: APIOpenAIChat,
			msgs:   events(chatChunk(`{"role":"assistant","content":null}`), chatChunk(`{"content":"Hi"}`), "[DONE]"),
			tokens: 1, response: "Hi", ttftIsTTFC: true, perChunk: 1},
		{name: "reasoning_content then content", api: APIOpenAIChat,
			msgs:   events(chatChunk(`{"reasoning_content":"Let me"}`), chatChunk(`{"reasoning":" see"}`), chatChunk(`{"content":"Hi"}`), fmt.Sprintf(final, 3), "[DONE]"),
			tokens: 3, response: "Hi", evalCount: 3, source: "usage", perChunk: 1},
		{name: "zero usage on every chunk is not the count", api: APIOpenAICompletions,
			msgs: events(`{"choices":[{"text":"a","index":0,"finish_reason":null}],"usage":{"prompt_tokens":0,"completion_tokens":0}}`,
				`{"choices":[{"text":"b","index":0,"finish_reason":"stop"}],"usage":{"prompt_tokens":0,"completion_tokens":0}}`, "[DONE]"),
			tokens: 2, response: "ab", ttftIsTTFC: true, perChunk: 1, doneReason: "stop"},
		{name: "multi-token chunks", api: APIOpenAIChat,
			msgs:   events(chatChunk(`{"content":"abc"}`), chatChunk(`{"content":"def"}`), chatChunk(`{"content":"ghi"}`), fmt.Sprintf(final, 9), "[DONE]"),
			tokens: 3, response: "abcdefghi", evalCount: 9, source: "usage", ttftIsTTFC: true, perChunk: 3},
		{name: "llama.cpp timings", api: APIOpenAIChat,
			msgs: events(chatChunk(`{"content":"a"}`), chatChunk(`{"content":"b"}`),
				`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"timings":{"prompt_n":4,"prompt_ms":12.5,"predicted_n":3,"predicted_ms":30,"cache_n":1}}`, "[DONE]"),
			tokens: 2, response: "ab", evalCount: 3, source: "timings", ttftIsTTFC: true, perChunk: 1, doneReason: "stop", hasDuration: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := streamSSE(t, tc.api, tc.msgs)
			if err != nil {
				t.Fatal(err)
			}
			if res.Tokens != tc.tokens || res.Response != tc.response {
				t.Errorf("%d tokens %q, want %d %q", res.Tokens, res.Response, tc.tokens, tc.response)
			}
			if !res.HasTTFT || (res.TTFT == res.TTFC) != tc.ttftIsTTFC || res.TTFT > res.TTFC || res.TTFC > res.Total {
				t.Errorf("TTFT %v, TTFC %v, total %v", res.TTFT, res.TTFC, res.Total)
			}
			if got := res.Final.HasEvalCount(); got != (tc.source != "") || (got && (res.Final.EvalCount != tc.evalCount || res.Final.CountSource != tc.source)) {
				t.Errorf("final %+v, want eval_count %d from %q", res.Final, tc.evalCount, tc.source)
			}
			if res.TokensPerChunk != tc.perChunk {
				t.Errorf("%v tokens per chunk, want %v", res.TokensPerChunk, tc.perChunk)
			}
			if tc.doneReason != "" && res.Final.DoneReason != tc.doneReason {
				t.Errorf("done reason %q", res.Final.DoneReason)
			}
			if res.Final.HasDurations() != tc.hasDuration {
				t.Errorf("durations %v, want %v", res.Final.HasDurations(), tc.hasDuration)
			}
			if _, ok := res.ClientOverhead(); ok {
				t.Error("client overhead without a server total")
			}
			if tc.perChunk > 1 {
				if tpot, ok := res.TPOT(); !ok || tpot != time.Duration(float64(res.Total-res.TTFT)/float64(tc.evalCount-1)) {
					t.Errorf("TPOT %v not per token", tpot)
				}
			}
		})
	}
}

// "data: [DONE]" ends the stream at once, though the server keeps the
// connection open.
func TestOpenAIDoneEndsAtOnce(t *testing.T) {
	hold := make(chan struct{})
	defer close(hold)
	c := NewClient(ClientConfig{HTTPClient: sseServer(func(*http.Request, []byte) (int, string, io.ReadCloser) {
		return 200, "text/event-stream", &sseBody{msgs: events(chatChunk(`{"content":"a"}`), "[DONE]"), hold: hold}
	})})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.Stream(ctx, &Request{URL: "http://oai.invalid", API: APIOpenAIChat, Model: "m"}, func(*Message) error { return nil })
	if err != nil || res.Tokens != 1 {
		t.Fatalf("%v, %d tokens", err, res.Tokens)
	}
}

func TestOpenAIFaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		ctype   string
		msgs    [][]byte
		want    string
		wantErr error
	}{
		{name: "error event", status: 200, ctype: "text/event-stream", msgs: events(chatChunk(`{"content":"a"}`), `{"error":{"message":"out of memory","type":"api_error"}}`),
			want: "line 3: server error: out of memory"},
		{name: "named error event", status: 200, ctype: "text/event-stream", msgs: [][]byte{[]byte("event: error\ndata: {\"message\":\"boom\"}\n\n")},
			want: `server error: {"message":"boom"}`},
		{name: "http error", status: 404, ctype: "application/json", msgs: [][]byte{[]byte(`{"error":{"message":"model \"m\" not found, try pulling it first","type":"api_error"}}`)},
			want: `HTTP 404 Not Found: model "m" not found, try pulling it first`},
		{name: "not sse", status: 200, ctype: "application/json", msgs: [][]byte{[]byte(`{"choices":[]}`)},
			want: `response is not an event stream (Content-Type "application/json")`},
		{name: "cut before done", status: 200, ctype: "text/event-stream", msgs: events(chatChunk(`{"content":"a"}`)),
			wantErr: ErrNoDone, want: "line 2: stream ended before its [DONE] event"},
		{name: "malformed", status: 200, ctype: "text/event-stream", msgs: events(`{"choices":[`),
			want: "line 1: malformed event data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClient(ClientConfig{HTTPClient: sseServer(func(*http.Request, []byte) (int, string, io.ReadCloser) {
				return tc.status, tc.ctype, &sseBody{msgs: tc.msgs}
			})})
			_, err := c.Stream(context.Background(), &Request{Agent: "insight", URL: "http://oai.invalid", API: APIOpenAIChat, Model: "m"}, func(*Message) error { return nil })
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "profiler: agent insight: http://oai.invalid/v1/chat/completions: ") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want agent, endpoint and %q", msg, tc.want)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %q is not %v", msg, tc.wantErr)
			}
		})
	}
}

// A server that rejects stream_options is asked again without it, and the
// result says the count is the client's. The API key goes out as a bearer
// token.
func TestOpenAIStreamOptionsRetry(t *testing.T) {
	var bodies []string
	var auth []string
	c := NewClient(ClientConfig{APIKey: "sk-test", HTTPClient: sseServer(func(r *http.Request, body []byte) (int, string, io.ReadCloser) {
		bodies = append(bodies, string(body))
		auth = append(auth, r.Header.Get("Authorization"))
		if bytes.Contains(body, []byte("stream_options")) {
			return 400, "application/json", io.NopCloser(strings.NewReader(`{"object":"error","message":"Unrecognized request argument supplied: stream_options"}`))
		}
		return 200, "text/event-stream", &sseBody{msgs: events(chatChunk(`{"content":"a"}`), "[DONE]")}
	})})
	res, err := c.Stream(context.Background(), &Request{URL: "http://oai.invalid", API: APIOpenAIChat, Model: "m", Prompt: "p", Options: map[string]any{"num_predict": 5, "num_ctx": 512}}, func(*Message) error { return nil })
	if err != nil || !res.ClientCounted || res.Final.HasEvalCount() || res.Tokens != 1 {
		t.Fatalf("%v; client counted %v, final %+v", err, res.ClientCounted, res.Final)
	}
	if len(bodies) != 2 || !strings.Contains(bodies[0], `"include_usage":true`) || !strings.Contains(bodies[1], `"max_tokens":5`) || strings.Contains(bodies[1], "num_ctx") {
		t.Errorf("request bodies %q", bodies)
	}
	if auth[0] != "Bearer sk-test" || auth[1] != "Bearer sk-test" {
		t.Errorf("Authorization %q", auth)
	}
}

// An OpenAI base URL given with its /v1, as OpenAI clients take it, names
// the same endpoint as the server root.
func TestOpenAIBaseURLWithV1(t *testing.T) {
	var paths []string
	c := NewClient(ClientConfig{HTTPClient: sseServer(func(r *http.Request, _ []byte) (int, string, io.ReadCloser) {
		paths = append(paths, r.URL.Path)
		return 200, "text/event-stream", &sseBody{msgs: events(`{"choices":[{"text":"a"}]}`, "[DONE]")}
	})})
	for _, u := range []string{"http://oai.invalid", "http://oai.invalid/v1", "http://oai.invalid/v1/"} {
		if _, err := c.Stream(context.Background(), &Request{URL: u, API: APIOpenAICompletions, Model: "m"}, func(*Message) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(paths) != "[/v1/completions /v1/completions /v1/completions]" {
		t.Errorf("paths %v", paths)
	}
}
