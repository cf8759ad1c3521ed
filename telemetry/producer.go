package telemetry

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Producer aggregates the two metrics recorded once per streamed chunk,
// gen_ai.client.operation.time_per_output_chunk and tr117.chunk.gap, in
// fixed buckets updated with atomic adds (a few ns a value, where the SDK's
// Record with an attribute set costs a few hundred) and hands them to the
// SDK's readers as an [go.opentelemetry.io/otel/sdk/metric.Producer]. Set
// it in [Config].Producer and register it on every reader of the
// MeterProvider (sdkmetric.WithProducer; the Prometheus exporter's
// WithProducer); [NewPipeline] does both. Without a Producer those two
// metrics go through the MeterProvider like the others.
//
// Its zero value is not usable; call NewProducer.
type Producer struct {
	start  time.Time
	mu     sync.Mutex
	series map[attribute.Distinct]*chunkSeries
	order  []*chunkSeries
}

// NewProducer returns an empty Producer whose cumulative series start now.
func NewProducer() *Producer {
	return &Producer{start: time.Now(), series: map[attribute.Distinct]*chunkSeries{}}
}

// chunkSeries is one attribute set's per-chunk histograms.
type chunkSeries struct {
	attrs    attribute.Set
	tpoc     durHist
	chunkGap durHist
}

func (p *Producer) seriesFor(set attribute.Set) *chunkSeries {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.series[set.Equivalent()]; ok {
		return s
	}
	s := &chunkSeries{attrs: set}
	s.tpoc.init(DurationBuckets)
	s.chunkGap.init(FineBuckets)
	p.series[set.Equivalent()] = s
	p.order = append(p.order, s)
	return s
}

// Produce returns the cumulative histograms of every attribute set.
func (p *Producer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	p.mu.Lock()
	series := append([]*chunkSeries(nil), p.order...)
	p.mu.Unlock()
	if len(series) == 0 {
		return nil, nil
	}
	now := time.Now()
	tpoc := make([]metricdata.HistogramDataPoint[float64], 0, len(series))
	gap := make([]metricdata.HistogramDataPoint[float64], 0, len(series))
	for _, s := range series {
		tpoc = append(tpoc, s.tpoc.point(s.attrs, p.start, now))
		gap = append(gap, s.chunkGap.point(s.attrs, p.start, now))
	}
	return []metricdata.ScopeMetrics{{
		Scope: instrumentation.Scope{Name: ScopeName},
		Metrics: []metricdata.Metrics{
			{Name: MetricTimePerOutputChunk, Unit: "s", Description: descTPOC,
				Data: metricdata.Histogram[float64]{Temporality: metricdata.CumulativeTemporality, DataPoints: tpoc}},
			{Name: MetricChunkGap, Unit: "s", Description: descChunkGap,
				Data: metricdata.Histogram[float64]{Temporality: metricdata.CumulativeTemporality, DataPoints: gap}},
		},
	}}, nil
}

// durHist is a histogram of durations with fixed bounds, safe for
// concurrent use without locks (values arrive through a localHist). A value v falls in the first bucket whose
// bound is >= v, as in OpenTelemetry's explicit-bucket histograms.
type durHist struct {
	secs   []float64
	bounds []time.Duration
	counts []atomic.Uint64 // len(bounds)+1
	sum    atomic.Int64    // ns
}

func (h *durHist) init(secs []float64) {
	if len(secs)+1 > maxBuckets {
		panic("telemetry: too many buckets for a durHist")
	}
	h.secs = secs
	h.bounds = make([]time.Duration, len(secs))
	for i, s := range secs {
		h.bounds[i] = time.Duration(s * float64(time.Second))
	}
	h.counts = make([]atomic.Uint64, len(secs)+1)
}

// bucket returns the index of the bucket d falls in.
func (h *durHist) bucket(d time.Duration) int {
	lo, hi := 0, len(h.bounds)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if h.bounds[m] < d {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// localHist counts one request's values for h without atomics; merge adds
// them to h at the request's end, a few atomic adds instead of two a
// value. It belongs to one goroutine.
type localHist struct {
	h      *durHist
	counts [maxBuckets]uint64
	sum    int64
}

// maxBuckets bounds the buckets of a durHist (FineBuckets has 17 bounds).
const maxBuckets = 24

func (l *localHist) record(d time.Duration) {
	l.counts[l.h.bucket(d)]++
	l.sum += int64(d)
}

func (l *localHist) merge() {
	for i, n := range l.counts[:len(l.h.counts)] {
		if n > 0 {
			l.h.counts[i].Add(n)
		}
	}
	l.h.sum.Add(l.sum)
}

func (h *durHist) point(set attribute.Set, start, now time.Time) metricdata.HistogramDataPoint[float64] {
	dp := metricdata.HistogramDataPoint[float64]{Attributes: set, StartTime: start, Time: now,
		Bounds: h.secs, BucketCounts: make([]uint64, len(h.counts))}
	for i := range h.counts {
		dp.BucketCounts[i] = h.counts[i].Load()
		dp.Count += dp.BucketCounts[i]
	}
	dp.Sum = time.Duration(h.sum.Load()).Seconds()
	return dp
}
