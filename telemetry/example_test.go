package telemetry_test

import (
	"context"
	"fmt"
	"sort"
	"strings"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"tr117/profiler"
	"tr117/profiler/ollamatest"
	"tr117/telemetry"
)

// A Recorder built on the caller's providers wraps a profiler Streamer:
// the request becomes a span, its Result the GenAI metrics, and the span's
// trace id lands in Result.TraceID (and so in the run file).
func Example() {
	srv := ollamatest.NewServer(ollamatest.Config{Unpaced: true, Seed: 1})
	defer srv.Close()

	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer mp.Shutdown(context.Background())
	defer tp.Shutdown(context.Background())
	rec, err := telemetry.New(telemetry.Config{MeterProvider: mp, TracerProvider: tp})
	if err != nil {
		fmt.Println(err)
		return
	}

	c := profiler.NewClient(profiler.ClientConfig{})
	defer c.CloseIdleConnections()
	s := rec.Wrap(profiler.Agent{ID: "collector"}, c)
	res, err := s.Stream(context.Background(), &profiler.Request{Agent: "collector", URL: srv.URL, Model: "gemma3:latest",
		Prompt: "Why is the sky blue?", Options: map[string]any{"num_predict": 6}}, func(*profiler.Message) error { return nil })
	if err != nil {
		fmt.Println(err)
		return
	}

	span := spans.Ended()[0]
	fmt.Println("span:", span.Name(), span.SpanKind())
	fmt.Println("trace id in the result:", res.TraceID == span.SpanContext().TraceID().String())
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Println(err)
		return
	}
	var names []string
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if strings.HasPrefix(m.Name, "gen_ai.") { // tr117.chunk.gap depends on how the reads fell
			names = append(names, m.Name+" ["+m.Unit+"]")
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Println(n)
	}
	// Output:
	// span: text_completion gemma3:latest client
	// trace id in the result: true
	// gen_ai.client.operation.duration [s]
	// gen_ai.client.operation.time_per_output_chunk [s]
	// gen_ai.client.operation.time_to_first_chunk [s]
	// gen_ai.client.token.usage [{token}]
}
