package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	promexporter "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// PipelineConfig configures a [Pipeline].
type PipelineConfig struct {
	// Name is the default service.name ("tr117-profiler").
	Name string
	// OTLP is where metrics and spans are exported; off unless an
	// endpoint is set.
	OTLP ExportConfig
	// Prometheus, when set, receives the metrics as a Prometheus collector,
	// for a scrape endpoint.
	Prometheus prometheus.Registerer
}

// ExportStats counts a pipeline's OTLP exports. A failed export loses that
// batch from the live view only: the run's files hold every measurement.
type ExportStats struct {
	MetricExports  int64 `json:"metric_exports"`
	MetricFailures int64 `json:"metric_failures"`
	SpanExports    int64 `json:"span_exports"`
	SpanFailures   int64 `json:"span_failures"`
	// FirstError and LastError are the first and the last failure's text.
	FirstError string `json:"first_error,omitempty"`
	LastError  string `json:"last_error,omitempty"`
}

// Failures is the number of failed exports.
func (s ExportStats) Failures() int64 { return s.MetricFailures + s.SpanFailures }

// Err is nil without failures, else an error that says how many exports
// failed and why.
func (s ExportStats) Err() error {
	if s.Failures() == 0 {
		return nil
	}
	return fmt.Errorf("telemetry: %d of %d metric exports and %d of %d span exports failed (first: %s; last: %s); the run's files are complete",
		s.MetricFailures, s.MetricExports, s.SpanFailures, s.SpanExports, s.FirstError, s.LastError)
}

// Pipeline is the OpenTelemetry SDK set up for one command's run: a
// MeterProvider with an OTLP and/or a Prometheus reader and, when OTLP is
// on, a TracerProvider with a batching OTLP exporter. Exports run on the
// SDK's own goroutines, which end at Shutdown; a failed export is counted
// and never reaches the run or the OpenTelemetry global error handler.
type Pipeline struct {
	prod  *Producer
	mp    *metric.MeterProvider
	tp    *sdktrace.TracerProvider
	count counts
}

type counts struct {
	metricN, metricF, spanN, spanF atomic.Int64
	mu                             sync.Mutex
	first, last                    string
}

func (c *counts) note(n, f *atomic.Int64, err error) {
	n.Add(1)
	if err == nil {
		return
	}
	f.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.first == "" {
		c.first = err.Error()
	}
	c.last = err.Error()
}

// NewPipeline builds the providers for cfg. With neither OTLP nor
// Prometheus it returns a Pipeline whose Config records nothing.
func NewPipeline(ctx context.Context, cfg PipelineConfig) (*Pipeline, error) {
	p := &Pipeline{prod: NewProducer()}
	var readers []metric.Option
	o := cfg.OTLP
	if cfg.Prometheus != nil {
		exp, err := promexporter.New(promexporter.WithRegisterer(cfg.Prometheus), promexporter.WithProducer(p.prod),
			promexporter.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes))
		if err != nil {
			return nil, fmt.Errorf("telemetry: Prometheus exporter: %w", err)
		}
		readers = append(readers, metric.WithReader(exp))
	}
	svc := o.ServiceName
	if svc == "" {
		svc = cfg.Name
	}
	res := resource.NewSchemaless(attribute.String("service.name", svc))
	if o.Enabled() {
		if o.Timeout <= 0 {
			o.Timeout = DefaultExportTimeout
		}
		if o.MetricInterval <= 0 {
			o.MetricInterval = DefaultMetricInterval
		}
		me, se, err := newExporters(ctx, o)
		if err != nil {
			return nil, err
		}
		// An exporter of a signal turned off is closed at once (a gRPC one
		// holds a connection).
		if o.NoMetrics {
			_ = me.Shutdown(ctx)
		}
		if o.NoTraces {
			_ = se.Shutdown(ctx)
		}
		if !o.NoMetrics {
			readers = append(readers, metric.WithReader(metric.NewPeriodicReader(&countedMetrics{me, &p.count},
				metric.WithInterval(o.MetricInterval), metric.WithTimeout(o.Timeout), metric.WithProducer(p.prod))))
		}
		if !o.NoTraces {
			p.tp = sdktrace.NewTracerProvider(sdktrace.WithResource(res),
				sdktrace.WithBatcher(&countedSpans{se, &p.count}, sdktrace.WithExportTimeout(o.Timeout)))
		}
	}
	if len(readers) > 0 {
		p.mp = metric.NewMeterProvider(append(readers, metric.WithResource(res))...)
	}
	return p, nil
}

// Config returns a recorder configuration with the pipeline's providers
// (nil where the pipeline has none).
func (p *Pipeline) Config() Config {
	var c Config
	if p.mp != nil {
		c.MeterProvider, c.Producer = p.mp, p.prod
	}
	if p.tp != nil {
		c.TracerProvider = p.tp
	}
	return c
}

// Stats returns the export counts so far.
func (p *Pipeline) Stats() ExportStats {
	c := &p.count
	c.mu.Lock()
	defer c.mu.Unlock()
	return ExportStats{MetricExports: c.metricN.Load(), MetricFailures: c.metricF.Load(),
		SpanExports: c.spanN.Load(), SpanFailures: c.spanF.Load(), FirstError: c.first, LastError: c.last}
}

// Shutdown exports what is pending (bounded by ctx) and stops the SDK's
// goroutines. It returns the export counts and an error for a shutdown
// that failed (ctx ended first); failed exports are in the counts only.
func (p *Pipeline) Shutdown(ctx context.Context) (ExportStats, error) {
	var errs []error
	if p.tp != nil {
		errs = append(errs, p.tp.Shutdown(ctx))
	}
	if p.mp != nil {
		errs = append(errs, p.mp.Shutdown(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		return p.Stats(), fmt.Errorf("telemetry: shutting down the exporters: %w", err)
	}
	return p.Stats(), nil
}

// newExporters returns the OTLP metric and span exporters for o, without
// retries: a collector that is down costs one failed export per batch.
func newExporters(ctx context.Context, o ExportConfig) (metric.Exporter, sdktrace.SpanExporter, error) {
	metricsURL, tracesURL := o.MetricsEndpoint, o.TracesEndpoint
	base := strings.TrimRight(o.Endpoint, "/")
	if o.Protocol == ProtocolGRPC {
		if metricsURL == "" {
			metricsURL = base
		}
		if tracesURL == "" {
			tracesURL = base
		}
		me, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpointURL(metricsURL), otlpmetricgrpc.WithHeaders(o.Headers),
			otlpmetricgrpc.WithTimeout(o.Timeout), otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: false}))
		if err != nil {
			return nil, nil, fmt.Errorf("telemetry: OTLP metrics exporter for %s: %w", metricsURL, err)
		}
		se, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(tracesURL), otlptracegrpc.WithHeaders(o.Headers),
			otlptracegrpc.WithTimeout(o.Timeout), otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
		if err != nil {
			return nil, nil, fmt.Errorf("telemetry: OTLP trace exporter for %s: %w", tracesURL, err)
		}
		return me, se, nil
	}
	if metricsURL == "" {
		metricsURL = base + "/v1/metrics"
	}
	if tracesURL == "" {
		tracesURL = base + "/v1/traces"
	}
	me, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(metricsURL), otlpmetrichttp.WithHeaders(o.Headers),
		otlpmetrichttp.WithTimeout(o.Timeout), otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: false}))
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: OTLP metrics exporter for %s: %w", metricsURL, err)
	}
	se, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(tracesURL), otlptracehttp.WithHeaders(o.Headers),
		otlptracehttp.WithTimeout(o.Timeout), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: OTLP trace exporter for %s: %w", tracesURL, err)
	}
	return me, se, nil
}

// countedMetrics counts exports and swallows their errors, so the SDK
// does not hand them to the global error handler (which logs to stderr).
type countedMetrics struct {
	metric.Exporter
	c *counts
}

func (e *countedMetrics) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	e.c.note(&e.c.metricN, &e.c.metricF, e.Exporter.Export(ctx, rm))
	return nil
}

// countedSpans is countedMetrics for spans.
type countedSpans struct {
	sdktrace.SpanExporter
	c *counts
}

func (e *countedSpans) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.c.note(&e.c.spanN, &e.c.spanF, e.SpanExporter.ExportSpans(ctx, spans))
	return nil
}
