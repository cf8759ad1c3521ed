package telemetry_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"tr117/profiler"
	"tr117/profiler/ollamatest"
	"tr117/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// headerServer is a simulated Ollama that keeps each request's
// traceparent header.
type headerServer struct {
	*httptest.Server
	mu     sync.Mutex
	parent []string
}

func newHeaderServer(t *testing.T) *headerServer {
	t.Helper()
	h := ollamatest.NewHandler(ollamatest.Config{TokensPerSecond: 1000, TTFT: -1, Seed: 1})
	s := &headerServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.parent = append(s.parent, r.Header.Get("traceparent"))
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { s.Close(); h.Close() })
	return s
}

// setup returns a Recorder with an in-memory reader and span recorder.
func setup(t *testing.T) (*telemetry.Recorder, *sdkmetric.ManualReader, *tracetest.SpanRecorder) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { mp.Shutdown(context.Background()); tp.Shutdown(context.Background()) })
	rec, err := telemetry.New(telemetry.Config{MeterProvider: mp, TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	return rec, reader, spans
}

func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func attrString(set attribute.Set, key string) string {
	v, ok := set.Value(attribute.Key(key))
	if !ok {
		return "<missing>"
	}
	return v.Emit()
}

func TestWrapTracesAndRecords(t *testing.T) {
	srv := newHeaderServer(t)
	rec, reader, spans := setup(t)
	c := profiler.NewClient(profiler.ClientConfig{})
	defer c.CloseIdleConnections()
	s := rec.Wrap(profiler.Agent{ID: "collector"}, c)
	var chunks []profiler.Chunk
	req := &profiler.Request{Agent: "collector", URL: srv.URL, API: profiler.APIChat, Model: "gemma3:latest", Prompt: "hi",
		Options: map[string]any{"num_predict": 8, "temperature": 0.5, "top_k": "x"}}
	hctx := profiler.WithHooks(context.Background(), &profiler.Hooks{Chunks: sinkFunc(func(c profiler.Chunk) error { chunks = append(chunks, c); return nil })})
	res, err := s.Stream(hctx, req, func(*profiler.Message) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) == 0 {
		t.Error("the request's own chunk sink got no chunks")
	}
	if req.Header != nil {
		t.Error("Stream modified the caller's Request")
	}

	ended := spans.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans, want 1", len(ended))
	}
	sp := ended[0]
	tid := sp.SpanContext().TraceID().String()
	if res.TraceID != tid {
		t.Errorf("Result.TraceID %q, span's %q", res.TraceID, tid)
	}
	want := fmt.Sprintf("00-%s-%s-01", tid, sp.SpanContext().SpanID())
	if len(srv.parent) != 1 || srv.parent[0] != want {
		t.Errorf("server got traceparent %q, want %q", srv.parent, want)
	}
	if sp.Name() != "chat gemma3:latest" || sp.SpanKind() != trace.SpanKindClient {
		t.Errorf("span %q kind %v", sp.Name(), sp.SpanKind())
	}
	if got := sp.EndTime().Sub(sp.StartTime()); got < res.Total {
		t.Errorf("span lasts %v, shorter than the request's %v", got, res.Total)
	}
	var events []string
	for _, e := range sp.Events() {
		events = append(events, e.Name)
	}
	if fmt.Sprint(events) != fmt.Sprint([]string{telemetry.EventFirstToken, telemetry.EventFirstContentToken}) {
		t.Errorf("events %v", events)
	}
	sattrs := attribute.NewSet(sp.Attributes()...)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for k, v := range map[string]string{
		"gen_ai.operation.name": "chat", "gen_ai.provider.name": "ollama", "gen_ai.request.model": "gemma3:latest",
		"server.address": "127.0.0.1", "server.port": port, "gen_ai.usage.output_tokens": strconv.Itoa(res.Final.EvalCount),
		"gen_ai.response.finish_reasons": `["length"]`, "gen_ai.request.max_tokens": "8", "gen_ai.request.temperature": "0.5",
		"gen_ai.request.top_k": "<missing>",
	} {
		if got := attrString(sattrs, k); got != v {
			t.Errorf("span attribute %s = %s, want %s", k, got, v)
		}
	}

	ms := collect(t, reader)
	for name, unit := range map[string]string{
		telemetry.MetricOperationDuration: "s", telemetry.MetricTokenUsage: "{token}",
		telemetry.MetricTimeToFirstChunk: "s", telemetry.MetricTimePerOutputChunk: "s",
		telemetry.MetricClientOverhead: "s", telemetry.MetricChunkGap: "s",
	} {
		m, ok := ms[name]
		if !ok {
			t.Errorf("no %s", name)
			continue
		}
		if m.Unit != unit {
			t.Errorf("%s unit %q, want %q", name, m.Unit, unit)
		}
	}
	dur := ms[telemetry.MetricOperationDuration].Data.(metricdata.Histogram[float64]).DataPoints
	if len(dur) != 1 || dur[0].Count != 1 || fmt.Sprint(dur[0].Bounds) != fmt.Sprint(telemetry.DurationBuckets) {
		t.Fatalf("duration points %+v", dur)
	}
	if got := attrString(dur[0].Attributes, "gen_ai.operation.name"); got != "chat" {
		t.Errorf("duration's gen_ai.operation.name %s", got)
	}
	if got := attrString(dur[0].Attributes, "tr117.agent"); got != "collector" {
		t.Errorf("duration's tr117.agent %s", got)
	}
	tpoc := ms[telemetry.MetricTimePerOutputChunk].Data.(metricdata.Histogram[float64]).DataPoints
	if len(tpoc) != 1 || int(tpoc[0].Count) != len(res.ITL) {
		t.Errorf("time_per_output_chunk %d points, want one with %d values", len(tpoc), len(res.ITL))
	}
	byType := map[string]int64{}
	for _, dp := range ms[telemetry.MetricTokenUsage].Data.(metricdata.Histogram[int64]).DataPoints {
		byType[attrString(dp.Attributes, "gen_ai.token.type")] = dp.Sum
	}
	if byType["output"] != int64(res.Final.EvalCount) || byType["input"] != int64(res.Final.PromptEvalCount) {
		t.Errorf("token usage %v, want input %d output %d", byType, res.Final.PromptEvalCount, res.Final.EvalCount)
	}
}

type sinkFunc func(profiler.Chunk) error

func (f sinkFunc) Write(c profiler.Chunk) error { return f(c) }

func TestWrapRecordsErrorType(t *testing.T) {
	srv := newHeaderServer(t)
	rec, reader, spans := setup(t)
	c := profiler.NewClient(profiler.ClientConfig{})
	defer c.CloseIdleConnections()
	s := rec.Wrap(profiler.Agent{}, c)
	_, err := s.Stream(context.Background(), &profiler.Request{URL: srv.URL, Model: "nosuch:latest", Prompt: "hi"}, func(*profiler.Message) error { return nil })
	if err == nil {
		t.Fatal("no error for an unknown model")
	}
	dur := collect(t, reader)[telemetry.MetricOperationDuration].Data.(metricdata.Histogram[float64]).DataPoints
	if len(dur) != 1 || attrString(dur[0].Attributes, "error.type") != "404" {
		t.Errorf("duration points %+v, want one with error.type 404", dur)
	}
	if sp := spans.Ended(); len(sp) != 1 || sp[0].Status().Code.String() != "Error" {
		t.Errorf("spans %v, want one with status Error", sp)
	}
}

func TestNoProvidersSendsNoTraceparent(t *testing.T) {
	srv := newHeaderServer(t)
	rec, err := telemetry.New(telemetry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := profiler.NewClient(profiler.ClientConfig{})
	defer c.CloseIdleConnections()
	res, err := rec.Wrap(profiler.Agent{}, c).Stream(context.Background(),
		&profiler.Request{URL: srv.URL, Model: "gemma3:latest", Prompt: "hi", Options: map[string]any{"num_predict": 2}},
		func(*profiler.Message) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if res.TraceID != "" || srv.parent[0] != "" {
		t.Errorf("trace id %q, traceparent %q without a TracerProvider", res.TraceID, srv.parent[0])
	}
}

func TestErrorType(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&profiler.StreamError{Err: &profiler.HTTPError{StatusCode: 404}}, "404"},
		{&profiler.StreamError{Err: &profiler.ServerError{Message: "x"}}, "server_error"},
		{&profiler.StreamError{Err: profiler.ErrTimeout}, "timeout"},
		{&profiler.StreamError{Err: profiler.ErrIdleTimeout}, "idle_timeout"},
		{&profiler.StreamError{Err: fmt.Errorf("%w; why", profiler.ErrTruncated)}, "truncated"},
		{context.Canceled, "canceled"},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, "connection"},
		{errors.New("x"), "_OTHER"},
	} {
		if got := telemetry.ErrorType(tc.err); got != tc.want {
			t.Errorf("ErrorType(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestLagSinkAndScheduleDelay(t *testing.T) {
	rec, reader, _ := setup(t)
	var got []profiler.LagSample
	s := rec.LagSink(sinkFuncLag(func(l profiler.LagSample) error { got = append(got, l); return nil }))
	for _, ms := range []int{1, 3} {
		if err := s.Write(profiler.LagSample{Lag: msDur(ms)}); err != nil {
			t.Fatal(err)
		}
	}
	rec.RecordScheduleDelay(context.Background(), msDur(2))
	m := collect(t, reader)
	lag := m[telemetry.MetricSchedulerLag].Data.(metricdata.Histogram[float64]).DataPoints
	if len(got) != 2 || len(lag) != 1 || lag[0].Count != 2 || lag[0].Sum != 0.004 {
		t.Errorf("passed on %d samples; lag points %+v", len(got), lag)
	}
	sd := m[telemetry.MetricScheduleDelay].Data.(metricdata.Histogram[float64]).DataPoints
	if len(sd) != 1 || sd[0].Sum != 0.002 {
		t.Errorf("schedule delay points %+v", sd)
	}
	if err := rec.LagSink(nil).Write(profiler.LagSample{}); err != nil {
		t.Errorf("nil next: %v", err)
	}
}

type sinkFuncLag func(profiler.LagSample) error

func (f sinkFuncLag) Write(l profiler.LagSample) error { return f(l) }

// With a Producer, the per-chunk metrics come from it, with the same
// attributes and bucket boundaries, and not from the MeterProvider twice.
func TestProducerAggregatesPerChunkMetrics(t *testing.T) {
	srv := newHeaderServer(t)
	prod := telemetry.NewProducer()
	reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(prod))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	rec, err := telemetry.New(telemetry.Config{MeterProvider: mp, Producer: prod})
	if err != nil {
		t.Fatal(err)
	}
	c := profiler.NewClient(profiler.ClientConfig{})
	defer c.CloseIdleConnections()
	s := rec.Wrap(profiler.Agent{}, c)
	var itl, gaps int
	for range 2 {
		res, err := s.Stream(context.Background(), &profiler.Request{Agent: "a", URL: srv.URL, Model: "gemma3:latest", Prompt: "hi", Options: map[string]any{"num_predict": 6}},
			func(*profiler.Message) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		itl += len(res.ITL)
		gaps += res.Chunks - 1
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			seen[m.Name]++
			if m.Name != telemetry.MetricTimePerOutputChunk && m.Name != telemetry.MetricChunkGap {
				continue
			}
			dps := m.Data.(metricdata.Histogram[float64]).DataPoints
			want := map[string]int{telemetry.MetricTimePerOutputChunk: itl, telemetry.MetricChunkGap: gaps}[m.Name]
			if len(dps) != 1 || int(dps[0].Count) != want || m.Unit != "s" {
				t.Errorf("%s: %d points, unit %q; want one with %d values", m.Name, len(dps), m.Unit, want)
				continue
			}
			if got := attrString(dps[0].Attributes, "gen_ai.provider.name"); got != "ollama" {
				t.Errorf("%s: gen_ai.provider.name %s", m.Name, got)
			}
			var sum uint64
			for _, n := range dps[0].BucketCounts {
				sum += n
			}
			if sum != dps[0].Count || len(dps[0].BucketCounts) != len(dps[0].Bounds)+1 || dps[0].Sum <= 0 {
				t.Errorf("%s: inconsistent point %+v", m.Name, dps[0])
			}
		}
	}
	if seen[telemetry.MetricTimePerOutputChunk] != 1 || seen[telemetry.MetricChunkGap] != 1 || seen[telemetry.MetricOperationDuration] != 1 {
		t.Errorf("metrics seen %v", seen)
	}
}
