// Package telcmd holds the commands' telemetry plumbing: the --otlp and
// --metrics-addr flags, checked with the OTEL_* environment before a run;
// the tr117/telemetry pipeline and recorder; the Prometheus endpoint,
// which also serves gpumon's collector; and the closing report of export
// failures.
package telcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tr117/gpumon"
	"tr117/profiler"
	"tr117/telemetry"
)

// Flags are a command's telemetry flags.
type Flags struct {
	// OTLP is --otlp: the collector's base URL; it overrides
	// OTEL_EXPORTER_OTLP_ENDPOINT.
	OTLP string
	// MetricsAddr is --metrics-addr: where to serve Prometheus metrics.
	MetricsAddr string
}

// Register adds --otlp, and --metrics-addr when metricsAddr is set, to fs.
func (f *Flags) Register(fs *flag.FlagSet, metricsAddr bool) {
	fs.StringVar(&f.OTLP, "otlp", "", "export OpenTelemetry metrics and traces to this OTLP endpoint, http://HOST:4318 (default: $OTEL_EXPORTER_OTLP_ENDPOINT; off when neither is set)")
	if metricsAddr {
		fs.StringVar(&f.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics (GenAI client metrics and the GPUs') at http://ADDR/metrics while running, :9464 for example (default: off)")
	}
}

// Export returns the OTLP configuration from the environment and --otlp,
// or an error naming the flag or variable that is wrong.
func (f Flags) Export(cmd string, getenv func(string) string) (telemetry.ExportConfig, error) {
	c, err := telemetry.ExportConfigFromEnv(getenv)
	if err != nil {
		return c, fmt.Errorf("%s: %w", cmd, err)
	}
	if f.OTLP != "" {
		if err := telemetry.CheckEndpoint(f.OTLP); err != nil {
			return c, fmt.Errorf("%s: --otlp: %w", cmd, err)
		}
		c.Endpoint = f.OTLP
	}
	return c, nil
}

// Session is a command's telemetry for one invocation. Its zero value is
// not usable; Start makes one.
type Session struct {
	cmd      string
	pipe     *telemetry.Pipeline
	rec      *telemetry.Recorder
	ln       net.Listener
	srv      *http.Server
	wg       sync.WaitGroup
	stopGPU  func() (gpumon.Report, error)
	closeGPU func() error
	// Export is the OTLP configuration in effect (for the manifest).
	Export telemetry.ExportConfig
}

// Start checks the flags and environment, listens on --metrics-addr and
// builds the pipeline. gpu, when not nil, is the command's own GPU monitor,
// whose collector the endpoint serves; when nil and --metrics-addr is set,
// Start opens the GPUs itself (any sampler) and samples them until Close.
// With neither OTLP nor --metrics-addr the session records nothing and
// Wrap returns the streamer as it is.
func Start(ctx context.Context, cmd string, f Flags, getenv func(string) string, gpu *gpumon.Monitor) (*Session, error) {
	exp, err := f.Export(cmd, getenv)
	if err != nil {
		return nil, err
	}
	s := &Session{cmd: cmd, Export: exp}
	var reg *prometheus.Registry
	if f.MetricsAddr != "" {
		s.ln, err = net.Listen("tcp", f.MetricsAddr)
		if err != nil {
			return nil, fmt.Errorf("%s: --metrics-addr: %w", cmd, err)
		}
		reg = prometheus.NewRegistry()
	}
	if exp.Enabled() || reg != nil {
		pc := telemetry.PipelineConfig{Name: "tr117-" + cmd, OTLP: exp}
		if reg != nil { // not a typed nil in the interface
			pc.Prometheus = reg
		}
		s.pipe, err = telemetry.NewPipeline(ctx, pc)
		if err == nil {
			s.rec, err = telemetry.New(s.pipe.Config())
		}
		if err != nil {
			s.closeListener()
			return nil, fmt.Errorf("%s: %w", cmd, err)
		}
	}
	if reg != nil {
		if gpu == nil {
			gpu = s.openGPU(ctx)
		}
		if err := reg.Register(gpu.Collector()); err != nil {
			s.Close(ctx)
			return nil, fmt.Errorf("%s: registering the GPU collector: %w", cmd, err)
		}
		s.serve(reg)
	}
	return s, nil
}

// openGPU opens any GPU sampler and starts a monitor that keeps no
// samples, for the collector; without a GPU the collector says gpu_up 0.
func (s *Session) openGPU(ctx context.Context) *gpumon.Monitor {
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	sampler, err := gpumon.Open(octx, gpumon.OpenConfig{})
	cancel()
	if err != nil {
		return gpumon.NewMonitor(gpumon.Unavailable(err), nil, gpumon.Config{})
	}
	m := gpumon.NewMonitor(sampler, nil, gpumon.Config{})
	s.stopGPU, s.closeGPU = m.Start(ctx), sampler.Close
	return m
}

func (s *Session) serve(g prometheus.Gatherer) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Go(func() { _ = s.srv.Serve(s.ln) })
}

func (s *Session) closeListener() {
	if s.ln != nil {
		s.ln.Close()
	}
}

// MetricsAddr is the address the Prometheus endpoint listens on ("" when
// off): with --metrics-addr 127.0.0.1:0, the port chosen.
func (s *Session) MetricsAddr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Recorder returns the session's recorder, nil when telemetry is off.
func (s *Session) Recorder() *telemetry.Recorder { return s.rec }

// Wrap returns a profiler.Config.Wrap that puts the recorder outermost
// around inner (which may be nil).
func (s *Session) Wrap(inner func(profiler.Agent, profiler.Streamer) profiler.Streamer) func(profiler.Agent, profiler.Streamer) profiler.Streamer {
	if s.rec == nil {
		return inner
	}
	return func(a profiler.Agent, st profiler.Streamer) profiler.Streamer {
		if inner != nil {
			st = inner(a, st)
		}
		return s.rec.Wrap(a, st)
	}
}

// Sinks adds the scheduler-lag recording to sinks.
func (s *Session) Sinks(sinks profiler.Sinks) profiler.Sinks {
	if s.rec != nil {
		sinks.Lag = s.rec.LagSink(sinks.Lag)
	}
	return sinks
}

// Close stops the endpoint and the GPU sampling, flushes the exporters
// (waiting at most 5 s for a slow collector) and returns the export counts
// and an error that says how many exports failed, if any did.
func (s *Session) Close(ctx context.Context) (telemetry.ExportStats, error) {
	var errs []error
	if s.srv != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		errs = append(errs, s.srv.Shutdown(sctx))
		cancel()
		s.wg.Wait()
	} else {
		s.closeListener()
	}
	if s.stopGPU != nil {
		_, err := s.stopGPU()
		errs = append(errs, err, s.closeGPU())
	}
	var st telemetry.ExportStats
	if s.pipe != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		var err error
		st, err = s.pipe.Shutdown(sctx)
		cancel()
		errs = append(errs, err, st.Err())
	}
	if err := errors.Join(errs...); err != nil {
		return st, fmt.Errorf("%s: %w", s.cmd, err)
	}
	return st, nil
}

// Summary is what a run's summary file says about its telemetry.
type Summary struct {
	OTLP        *telemetry.ExportConfig `json:"otlp,omitempty"`
	MetricsAddr string                  `json:"metrics_addr,omitempty"`
	Export      telemetry.ExportStats   `json:"export"`
	// Error is Close's error: failed exports, a shutdown that timed out.
	Error string `json:"error,omitempty"`
}

// Summary returns the session's summary with the counts and error Close
// returned; nil when telemetry was off.
func (s *Session) Summary(st telemetry.ExportStats, closeErr error) *Summary {
	if s.rec == nil {
		return nil
	}
	sum := &Summary{MetricsAddr: s.MetricsAddr(), Export: st}
	if s.Export.Enabled() {
		exp := s.Export
		sum.OTLP = &exp
	}
	if closeErr != nil {
		sum.Error = closeErr.Error()
	}
	return sum
}
