package telemetry_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime/metrics"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"tr117/profiler"
	"tr117/sink"
	"tr117/telemetry"
)

// benchMessages renders n generate messages as Ollama writes them, the
// last one final.
func benchMessages(n int) [][]byte {
	words := []string{" the", " model", " streams", " one", " token", " per", " message", ","}
	msgs := make([][]byte, 0, n)
	for i := 0; i < n-1; i++ {
		msgs = append(msgs, fmt.Appendf(nil, `{"model":"gemma3:latest","created_at":"2026-11-26T16:00:%02d.%06dZ","response":"%s","done":false}`+"\n", i%60, i%1000000, words[i%len(words)]))
	}
	return append(msgs, fmt.Appendf(nil, `{"model":"gemma3:latest","created_at":"2026-11-26T16:01:00.000000Z","response":"","done":true,"done_reason":"stop","total_duration":5000000000,"load_duration":10000000,"prompt_eval_count":40,"prompt_eval_duration":50000000,"eval_count":%d,"eval_duration":4900000000}`+"\n", n-1))
}

// flushBody returns one message per Read.
type flushBody struct {
	msgs   [][]byte
	i, off int
}

func (b *flushBody) Read(p []byte) (int, error) {
	if b.i >= len(b.msgs) {
		return 0, io.EOF
	}
	n := copy(p, b.msgs[b.i][b.off:])
	if b.off += n; b.off == len(b.msgs[b.i]) {
		b.i, b.off = b.i+1, 0
	}
	return n, nil
}

func (b *flushBody) Close() error { return nil }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func inProcessClient(msgs [][]byte) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return &http.Response{StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {"application/x-ndjson"}}, Body: &flushBody{msgs: msgs}, Request: r}, nil
	})}
}

type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }

// BenchmarkStreamOverhead is profiler's BenchmarkStreamOverhead (10,000
// messages, one per read, chunk records to a CSV sink) with telemetry off
// (the bare Client) and on (the Client wrapped by a Recorder on the real
// SDK: every metric aggregated, the per-chunk ones by a Producer as
// NewPipeline sets up, one span per stream batched to an exporter that
// drops it), and on without the Producer for comparison. One iteration is
// one whole stream.
func BenchmarkStreamOverhead(b *testing.B) {
	const n = 10000
	msgs := benchMessages(n)
	ctx := context.Background()
	c := profiler.NewClient(profiler.ClientConfig{HTTPClient: inProcessClient(msgs)})
	prod := telemetry.NewProducer()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader(sdkmetric.WithProducer(prod))))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardSpans{}))
	defer mp.Shutdown(ctx)
	defer tp.Shutdown(ctx)
	rec, err := telemetry.New(telemetry.Config{MeterProvider: mp, TracerProvider: tp, Producer: prod})
	if err != nil {
		b.Fatal(err)
	}
	slow, err := telemetry.New(telemetry.Config{MeterProvider: mp, TracerProvider: tp})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		s    profiler.Streamer
	}{{"off", c}, {"on", rec.Wrap(profiler.Agent{ID: "collector"}, c)}, {"on-without-producer", slow.Wrap(profiler.Agent{ID: "collector"}, c)}} {
		b.Run(bc.name, func(b *testing.B) {
			req := &profiler.Request{Agent: "collector", URL: "http://ollama.invalid", Model: "gemma3:latest", Prompt: "hi"}
			hctx := profiler.WithHooks(ctx, &profiler.Hooks{Chunks: sink.NewCSV[profiler.Chunk](io.Discard)})
			fn := func(*profiler.Message) error { return nil }
			b.ReportAllocs()
			a0 := mallocs()
			for b.Loop() {
				res, err := bc.s.Stream(hctx, req, fn)
				if err != nil || res.Messages != n {
					b.Fatalf("%d messages, %v", res.Messages, err)
				}
			}
			msgs := float64(b.N) * n
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/msgs, "ns/msg")
			b.ReportMetric(float64(mallocs()-a0)/msgs, "allocs/msg")
		})
	}
}

// BenchmarkStreamOverheadRatio streams the same 10,000 messages with
// telemetry off and on in alternation, one stream each per iteration, and
// reports the ratio of the two times: alternating every few milliseconds
// cancels most of a shared machine's drifting load, which swamps separate
// sub-benchmarks.
func BenchmarkStreamOverheadRatio(b *testing.B) {
	const n = 10000
	ctx := context.Background()
	c := profiler.NewClient(profiler.ClientConfig{HTTPClient: inProcessClient(benchMessages(n))})
	prod := telemetry.NewProducer()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader(sdkmetric.WithProducer(prod))))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardSpans{}))
	defer mp.Shutdown(ctx)
	defer tp.Shutdown(ctx)
	rec, err := telemetry.New(telemetry.Config{MeterProvider: mp, TracerProvider: tp, Producer: prod})
	if err != nil {
		b.Fatal(err)
	}
	on := rec.Wrap(profiler.Agent{ID: "collector"}, c)
	req := &profiler.Request{Agent: "collector", URL: "http://ollama.invalid", Model: "gemma3:latest", Prompt: "hi"}
	hctx := profiler.WithHooks(ctx, &profiler.Hooks{Chunks: sink.NewCSV[profiler.Chunk](io.Discard)})
	fn := func(*profiler.Message) error { return nil }
	var offT, onT time.Duration
	stream := func(s profiler.Streamer) time.Duration {
		t0 := time.Now()
		if _, err := s.Stream(hctx, req, fn); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 { // alternate which goes first
			offT += stream(c)
			onT += stream(on)
		} else {
			onT += stream(on)
			offT += stream(c)
		}
	}
	b.ReportMetric(float64(onT)/float64(offT), "on/off")
	b.ReportMetric(float64(offT.Nanoseconds())/float64(b.N)/n, "off-ns/msg")
	b.ReportMetric(float64(onT.Nanoseconds())/float64(b.N)/n, "on-ns/msg")
}

func mallocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// Telemetry allocates per request (the span, its headers, the chunk tap),
// never per message: the extra allocations of a traced stream are the same
// for 100 messages and for 5,000.
func TestWrapAllocatesPerRequestOnly(t *testing.T) {
	ctx := context.Background()
	prod := telemetry.NewProducer()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader(sdkmetric.WithProducer(prod))))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(discardSpans{}))
	defer mp.Shutdown(ctx)
	defer tp.Shutdown(ctx)
	rec, err := telemetry.New(telemetry.Config{MeterProvider: mp, TracerProvider: tp, Producer: prod})
	if err != nil {
		t.Fatal(err)
	}
	extra := func(n int) float64 {
		c := profiler.NewClient(profiler.ClientConfig{HTTPClient: inProcessClient(benchMessages(n))})
		req := &profiler.Request{Agent: "collector", URL: "http://ollama.invalid", Model: "gemma3:latest", Prompt: "hi"}
		hctx := profiler.WithHooks(ctx, &profiler.Hooks{Chunks: sink.NewCSV[profiler.Chunk](io.Discard)})
		fn := func(*profiler.Message) error { return nil }
		on := rec.Wrap(profiler.Agent{}, c)
		allocs := func(s profiler.Streamer) float64 {
			return testing.AllocsPerRun(20, func() {
				if _, err := s.Stream(hctx, req, fn); err != nil {
					t.Fatal(err)
				}
			})
		}
		return allocs(on) - allocs(c)
	}
	small, large := extra(100), extra(5000)
	t.Logf("extra allocations per stream: %.1f for 100 messages, %.1f for 5,000", small, large)
	if large-small > 5 {
		t.Errorf("telemetry allocates per message: %.1f extra allocations for 100 messages, %.1f for 5,000", small, large)
	}
}
