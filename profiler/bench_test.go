package profiler

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/ollama/ollama/api"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"tr117/sink"
)

// benchMessages renders n generate messages the way Ollama writes them,
// the last one final with metrics and a context array.
func benchMessages(n int) [][]byte {
	words := []string{" the", " model", " streams", " one", " token", " per", " message", ",", " ü", "\\n"}
	msgs := make([][]byte, 0, n)
	for i := 0; i < n-1; i++ {
		msgs = append(msgs, fmt.Appendf(nil, `{"model":"gemma3:latest","created_at":"2026-11-26T16:00:%02d.%06dZ","response":"%s","done":false}`+"\n", i%60, i%1000000, words[i%len(words)]))
	}
	var ctx strings.Builder
	for i := 0; i < 512; i++ {
		if i > 0 {
			ctx.WriteByte(',')
		}
		fmt.Fprint(&ctx, 1000+i)
	}
	msgs = append(msgs, fmt.Appendf(nil, `{"model":"gemma3:latest","created_at":"2026-11-26T16:01:00.000000Z","response":"","done":true,"done_reason":"stop","context":[%s],"total_duration":5000000000,"load_duration":10000000,"prompt_eval_count":40,"prompt_eval_duration":50000000,"eval_count":%d,"eval_duration":4900000000}`+"\n", ctx.String(), n-1))
	return msgs
}

// flushBody returns one message per Read, as the body of a server that
// writes and flushes each message does when its reader keeps up.
type flushBody struct {
	msgs [][]byte
	i    int
	off  int
}

func (b *flushBody) Read(p []byte) (int, error) {
	if b.i >= len(b.msgs) {
		return 0, io.EOF
	}
	n := copy(p, b.msgs[b.i][b.off:])
	b.off += n
	if b.off == len(b.msgs[b.i]) {
		b.i++
		b.off = 0
	}
	return n, nil
}

func (b *flushBody) Close() error { return nil }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// inProcessClient is an *http.Client whose every request is answered in
// process with msgs, one message per read.
func inProcessClient(msgs [][]byte) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return &http.Response{
			StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:  http.Header{"Content-Type": {"application/x-ndjson"}},
			Body:    &flushBody{msgs: msgs},
			Request: r,
		}, nil
	})}
}

// BenchmarkStreamOverhead compares the client-side cost per streamed
// message of this package's Client (with chunk records going to a CSV
// sink, every message timed and the response kept) with ollama/api's
// Client.Generate, both draining the same in-process stream of 10,000
// messages delivered one per read. One iteration is one whole stream.
func BenchmarkStreamOverhead(b *testing.B) {
	const n = 10000
	msgs := benchMessages(n)
	ctx := context.Background()

	b.Run("tr117", func(b *testing.B) {
		c := NewClient(ClientConfig{HTTPClient: inProcessClient(msgs)})
		chunks := sink.NewCSV[Chunk](io.Discard)
		req := &Request{Agent: "collector", URL: "http://ollama.invalid", Model: "gemma3:latest", Prompt: "hi"}
		ctx := WithHooks(ctx, &Hooks{Chunks: chunks})
		tokens := 0
		fn := func(m *Message) error { tokens += m.Tokens; return nil }
		b.ReportAllocs()
		a0 := mallocs()
		for b.Loop() {
			res, err := c.Stream(ctx, req, fn)
			if err != nil {
				b.Fatal(err)
			}
			if res.Messages != n || res.Final == nil {
				b.Fatalf("got %d messages, final %v", res.Messages, res.Final)
			}
		}
		reportPerMsg(b, n, mallocs()-a0)
	})

	b.Run("ollamaapi", func(b *testing.B) {
		u, _ := url.Parse("http://ollama.invalid")
		c := api.NewClient(u, inProcessClient(msgs))
		stream := true
		req := &api.GenerateRequest{Model: "gemma3:latest", Prompt: "hi", Stream: &stream}
		var count int
		var text strings.Builder
		fn := func(r api.GenerateResponse) error {
			if r.Response != "" {
				count++
				text.WriteString(r.Response)
			}
			return nil
		}
		b.ReportAllocs()
		a0 := mallocs()
		for b.Loop() {
			count = 0
			text.Reset()
			if err := c.Generate(ctx, req, fn); err != nil {
				b.Fatal(err)
			}
			if count != n-1 {
				b.Fatalf("got %d tokens", count)
			}
		}
		reportPerMsg(b, n, mallocs()-a0)
	})
}

// reportPerMsg reports ns/msg and allocs/msg for a benchmark whose
// iterations each stream n messages.
func reportPerMsg(b *testing.B, n int, allocs uint64) {
	b.Helper()
	msgs := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/msgs, "ns/msg")
	b.ReportMetric(float64(allocs)/msgs, "allocs/msg")
}

// mallocs returns the number of heap objects allocated so far.
func mallocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// benchSSE renders n OpenAI chat chunks the way Ollama's /v1 writes them
// (role on every delta), then the finish chunk, the usage chunk and
// [DONE], one event per element.
func benchSSE(n int) [][]byte {
	words := []string{" the", " model", " streams", " one", " token", " per", " message", ",", " ü", "\\n"}
	msgs := make([][]byte, 0, n+3)
	for i := 0; i < n; i++ {
		msgs = append(msgs, fmt.Appendf(nil, `data: {"id":"chatcmpl-417","object":"chat.completion.chunk","created":1764547200,"model":"gemma3:latest","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"%s"},"finish_reason":null}]}`+"\n\n", words[i%len(words)]))
	}
	msgs = append(msgs,
		[]byte(`data: {"id":"chatcmpl-417","object":"chat.completion.chunk","created":1764547200,"model":"gemma3:latest","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"length"}]}`+"\n\n"),
		fmt.Appendf(nil, `data: {"id":"chatcmpl-417","object":"chat.completion.chunk","created":1764547200,"model":"gemma3:latest","system_fingerprint":"fp_ollama","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":%d,"total_tokens":%d}}`+"\n\n", n, n+40),
		[]byte("data: [DONE]\n\n"))
	return msgs
}

// sseClient is inProcessClient for an event stream.
func sseClient(msgs [][]byte) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return &http.Response{
			StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:  http.Header{"Content-Type": {"text/event-stream"}},
			Body:    &flushBody{msgs: msgs},
			Request: r,
		}, nil
	})}
}

// BenchmarkSSEOverhead compares the client-side cost per streamed chunk of
// this package's Client on /v1/chat/completions (chunk records to a CSV
// sink, every message timed, the response kept) with openai-go's streaming
// chat completions, both draining the same in-process event stream of
// 10,000 chunks delivered one per read. One iteration is one whole stream.
func BenchmarkSSEOverhead(b *testing.B) {
	const n = 10000
	msgs := benchSSE(n)
	ctx := context.Background()

	b.Run("tr117", func(b *testing.B) {
		c := NewClient(ClientConfig{HTTPClient: sseClient(msgs)})
		req := &Request{Agent: "collector", URL: "http://oai.invalid", API: APIOpenAIChat, Model: "gemma3:latest", Prompt: "hi"}
		ctx := WithHooks(ctx, &Hooks{Chunks: sink.NewCSV[Chunk](io.Discard)})
		fn := func(m *Message) error { return nil }
		b.ReportAllocs()
		a0 := mallocs()
		for b.Loop() {
			res, err := c.Stream(ctx, req, fn)
			if err != nil {
				b.Fatal(err)
			}
			if res.Tokens != n || res.Final == nil || res.Final.EvalCount != n {
				b.Fatalf("got %d tokens, final %+v", res.Tokens, res.Final)
			}
		}
		reportPerMsg(b, len(msgs), mallocs()-a0)
	})

	b.Run("openaigo", func(b *testing.B) {
		client := openai.NewClient(option.WithBaseURL("http://oai.invalid/v1/"), option.WithHTTPClient(sseClient(msgs)), option.WithAPIKey("none"), option.WithMaxRetries(0))
		params := openai.ChatCompletionNewParams{Model: "gemma3:latest", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}
		var text strings.Builder
		b.ReportAllocs()
		a0 := mallocs()
		for b.Loop() {
			text.Reset()
			count := 0
			stream := client.Chat.Completions.NewStreaming(ctx, params)
			for stream.Next() {
				if ch := stream.Current(); len(ch.Choices) > 0 && ch.Choices[0].Delta.Content != "" {
					count++
					text.WriteString(ch.Choices[0].Delta.Content)
				}
			}
			if err := stream.Err(); err != nil {
				b.Fatal(err)
			}
			stream.Close()
			if count != n {
				b.Fatalf("got %d tokens", count)
			}
		}
		reportPerMsg(b, len(msgs), mallocs()-a0)
	})
}
