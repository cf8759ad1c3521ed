package telemetry_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tr117/profiler"
	"tr117/telemetry"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// A collector that is down fails no request: the failures are counted,
// and Shutdown reports them.
func TestPipelineCollectorDown(t *testing.T) {
	for _, proto := range []string{telemetry.ProtocolHTTP, telemetry.ProtocolGRPC} {
		t.Run(proto, func(t *testing.T) {
			srv := newHeaderServer(t)
			reg := prometheus.NewRegistry()
			p, err := telemetry.NewPipeline(context.Background(), telemetry.PipelineConfig{
				Name:       "tr117-test",
				OTLP:       telemetry.ExportConfig{Endpoint: "http://" + closedPort(t), Protocol: proto, Timeout: 2 * time.Second},
				Prometheus: reg,
			})
			if err != nil {
				t.Fatal(err)
			}
			rec, err := telemetry.New(p.Config())
			if err != nil {
				t.Fatal(err)
			}
			c := profiler.NewClient(profiler.ClientConfig{})
			defer c.CloseIdleConnections()
			res, err := rec.Wrap(profiler.Agent{}, c).Stream(context.Background(),
				&profiler.Request{URL: srv.URL, Model: "gemma3:latest", Prompt: "hi", Options: map[string]any{"num_predict": 4}},
				func(*profiler.Message) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			if res.TraceID == "" {
				t.Error("no trace id with OTLP on")
			}
			// The Prometheus registry holds the same metrics.
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, mf := range mfs {
				if mf.GetName() == "gen_ai_client_operation_duration_seconds" {
					found = mf.GetMetric()[0].GetHistogram().GetSampleCount() == 1
				}
			}
			if !found {
				t.Error("no gen_ai_client_operation_duration_seconds with one sample in the registry")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := p.Shutdown(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.MetricFailures != 1 || st.SpanFailures != 1 || st.MetricExports != 1 || st.SpanExports != 1 {
				t.Errorf("stats %+v, want one failed export of each", st)
			}
			if e := st.Err(); e == nil || !strings.Contains(e.Error(), "1 of 1 metric exports and 1 of 1 span exports failed") {
				t.Errorf("Err() = %v", e)
			}
		})
	}
}

func TestPipelineOff(t *testing.T) {
	p, err := telemetry.NewPipeline(context.Background(), telemetry.PipelineConfig{Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if c := p.Config(); c.MeterProvider != nil || c.TracerProvider != nil {
		t.Errorf("providers %+v with nothing to export to", c)
	}
	if st, err := p.Shutdown(context.Background()); err != nil || st != (telemetry.ExportStats{}) {
		t.Errorf("Shutdown: %+v, %v", st, err)
	}
}

// A collector that accepts connections and never answers holds up only
// Shutdown, which ctx bounds; the request itself is not held, and the
// exports that timed out are counted.
func TestPipelineCollectorSlow(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // read nothing, answer nothing
		}
	}()
	srv := newHeaderServer(t)
	p, err := telemetry.NewPipeline(context.Background(), telemetry.PipelineConfig{
		Name: "tr117-test",
		OTLP: telemetry.ExportConfig{Endpoint: "http://" + ln.Addr().String(), Timeout: 300 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := telemetry.New(p.Config())
	if err != nil {
		t.Fatal(err)
	}
	c := profiler.NewClient(profiler.ClientConfig{})
	defer c.CloseIdleConnections()
	if _, err := rec.Wrap(profiler.Agent{}, c).Stream(context.Background(),
		&profiler.Request{URL: srv.URL, Model: "gemma3:latest", Prompt: "hi", Options: map[string]any{"num_predict": 4}},
		func(*profiler.Message) error { return nil }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := p.Shutdown(ctx)
	if err != nil {
		t.Fatalf("Shutdown: %v (stats %+v)", err, st)
	}
	if st.MetricFailures != 1 || st.SpanFailures != 1 || !strings.Contains(st.LastError, "deadline") {
		t.Errorf("stats %+v, want one timed-out export of each", st)
	}
	ln.Close()
	<-accepted
	for _, c := range conns {
		c.Close()
	}
}

// A collector that refuses the data (HTTP 400, as for a malformed or
// unauthorised export) is counted like one that is down.
func TestPipelineCollectorRefuses(t *testing.T) {
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "refused", http.StatusBadRequest)
	}))
	defer refuse.Close()
	srv := newHeaderServer(t)
	p, err := telemetry.NewPipeline(context.Background(), telemetry.PipelineConfig{Name: "tr117-test", OTLP: telemetry.ExportConfig{Endpoint: refuse.URL}})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := telemetry.New(p.Config())
	if err != nil {
		t.Fatal(err)
	}
	c := profiler.NewClient(profiler.ClientConfig{})
	defer c.CloseIdleConnections()
	if _, err := rec.Wrap(profiler.Agent{}, c).Stream(context.Background(),
		&profiler.Request{URL: srv.URL, Model: "gemma3:latest", Prompt: "hi", Options: map[string]any{"num_predict": 4}},
		func(*profiler.Message) error { return nil }); err != nil {
		t.Fatal(err)
	}
	st, err := p.Shutdown(context.Background())
	if err != nil || st.MetricFailures != 1 || st.SpanFailures != 1 || !strings.Contains(st.FirstError, "400") {
		t.Errorf("Shutdown: %+v, %v; want one refused export of each", st, err)
	}
}

// OTEL_TRACES_EXPORTER=none leaves the metrics: no TracerProvider, so no
// span and no traceparent, and nothing left running.
func TestPipelineNoTraces(t *testing.T) {
	for _, proto := range []string{telemetry.ProtocolHTTP, telemetry.ProtocolGRPC} {
		p, err := telemetry.NewPipeline(context.Background(), telemetry.PipelineConfig{Name: "x",
			OTLP: telemetry.ExportConfig{Endpoint: "http://" + closedPort(t), Protocol: proto, NoTraces: true}})
		if err != nil {
			t.Fatal(err)
		}
		if c := p.Config(); c.TracerProvider != nil || c.MeterProvider == nil {
			t.Errorf("%s: providers %+v, want metrics only", proto, c)
		}
		if _, err := p.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	}
}
