package telemetry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"tr117/profiler"
	"tr117/sink"
)

// ScopeName is the instrumentation scope of tr117's meter and tracer.
const ScopeName = "tr117/telemetry"

// Metric names. The gen_ai.* names, units and bucket boundaries are the
// OpenTelemetry GenAI semantic conventions' client metrics
// (gen_ai_latest_experimental); the tr117.* metrics have no name there.
const (
	MetricOperationDuration  = "gen_ai.client.operation.duration"
	MetricTokenUsage         = "gen_ai.client.token.usage"
	MetricTimeToFirstChunk   = "gen_ai.client.operation.time_to_first_chunk"
	MetricTimePerOutputChunk = "gen_ai.client.operation.time_per_output_chunk"
	MetricClientOverhead     = "tr117.client.overhead"
	MetricChunkGap           = "tr117.chunk.gap"
	MetricSchedulerLag       = "tr117.scheduler.lag"
	MetricScheduleDelay      = "tr117.schedule.delay"
)

// Bucket boundaries. DurationBuckets and TokenBuckets are the GenAI
// conventions' advice for the gen_ai.client.* histograms (seconds and
// tokens); FineBuckets, for tr117's sub-millisecond metrics, are seconds
// from 50 µs to 10 s.
var (
	DurationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
	TokenBuckets    = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}
	FineBuckets     = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
)

const (
	descTPOC     = "Time per output chunk, recorded for each chunk received after the first one."
	descChunkGap = "Time between consecutive transport reads of a response body."
)

// Config configures a [Recorder]. The zero value records nothing.
type Config struct {
	// MeterProvider receives the metrics; nil records none.
	MeterProvider metric.MeterProvider `json:"-"`
	// TracerProvider receives one client span per request; nil makes
	// none, and no traceparent is sent.
	TracerProvider trace.TracerProvider `json:"-"`
	// ProviderName is the gen_ai.provider.name attribute. Default
	// DefaultProviderName.
	ProviderName string `json:"provider_name,omitempty"`
	// Producer, when set, aggregates the per-chunk metrics instead of
	// the MeterProvider; it must be registered on the provider's readers.
	Producer *Producer `json:"-"`
}

// DefaultProviderName is gen_ai.provider.name for Ollama.
const DefaultProviderName = "ollama"

// Recorder records per-request measurements as OpenTelemetry metrics and
// spans.
type Recorder struct {
	providerName string
	prod         *Producer
	tracer       trace.Tracer
	tracing      bool

	duration, ttfc, tpoc metric.Float64Histogram
	overhead, chunkGap   metric.Float64Histogram
	lag, scheduleDelay   metric.Float64Histogram
	tokens               metric.Int64Histogram
}

// New returns a Recorder whose instruments come from cfg's providers.
func New(cfg Config) (*Recorder, error) {
	mp, tp := cfg.MeterProvider, cfg.TracerProvider
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	r := &Recorder{providerName: cfg.ProviderName, prod: cfg.Producer, tracing: tp != nil}
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	if r.providerName == "" {
		r.providerName = DefaultProviderName
	}
	r.tracer = tp.Tracer(ScopeName)
	m := mp.Meter(ScopeName)
	var errs []error
	hist := func(name, unit, desc string, buckets []float64) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit(unit), metric.WithDescription(desc), metric.WithExplicitBucketBoundaries(buckets...))
		errs = append(errs, err)
		return h
	}
	r.duration = hist(MetricOperationDuration, "s", "GenAI operation duration.", DurationBuckets)
	r.ttfc = hist(MetricTimeToFirstChunk, "s", "Time to receive the first chunk, from when the client issues the generation request.", DurationBuckets)
	r.tpoc = hist(MetricTimePerOutputChunk, "s", descTPOC, DurationBuckets)
	r.overhead = hist(MetricClientOverhead, "s", "Client total time minus the server's reported total duration.", FineBuckets)
	r.chunkGap = hist(MetricChunkGap, "s", descChunkGap, FineBuckets)
	r.lag = hist(MetricSchedulerLag, "s", "How late the Go scheduler woke a periodic probe.", FineBuckets)
	r.scheduleDelay = hist(MetricScheduleDelay, "s", "How much later than scheduled a request was sent.", FineBuckets)
	var err error
	r.tokens, err = m.Int64Histogram(MetricTokenUsage, metric.WithUnit("{token}"), metric.WithDescription("Number of input and output tokens used."), metric.WithExplicitBucketBoundaries(TokenBuckets...))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("telemetry: creating instruments: %w", err)
	}
	return r, nil
}

// LagSink returns a sink that records each sample's lag into
// tr117.scheduler.lag and passes it on to next (which may be nil). Set it
// as profiler.Sinks.Lag.
func (r *Recorder) LagSink(next sink.Sink[profiler.LagSample]) sink.Sink[profiler.LagSample] {
	return sink.Func[profiler.LagSample](func(s profiler.LagSample) error {
		r.lag.Record(context.Background(), s.Lag.Seconds())
		if next == nil {
			return nil
		}
		return next.Write(s)
	})
}

// RecordScheduleDelay records how much later than scheduled a request was
// sent (an open-loop load generator's lateness) into tr117.schedule.delay,
// with the attributes of opts.
func (r *Recorder) RecordScheduleDelay(ctx context.Context, d time.Duration, opts ...metric.RecordOption) {
	r.scheduleDelay.Record(ctx, d.Seconds(), opts...)
}
