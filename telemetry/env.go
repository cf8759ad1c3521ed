package telemetry

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// OTLP protocols ([ExportConfig.Protocol]).
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// Defaults of an [ExportConfig], the OpenTelemetry specification's.
const (
	DefaultExportTimeout  = 10 * time.Second
	DefaultMetricInterval = 60 * time.Second
)

// ExportConfig says where and how a [Pipeline] exports over OTLP. Export is
// off while Endpoint, TracesEndpoint and MetricsEndpoint are all empty.
// It can be written into a manifest as JSON (Headers, which may carry
// credentials, is left out).
type ExportConfig struct {
	// Endpoint is the collector's base URL, "http://127.0.0.1:4318"
	// (OTEL_EXPORTER_OTLP_ENDPOINT). Over HTTP the signal paths
	// /v1/traces and /v1/metrics are appended.
	Endpoint string `json:"endpoint,omitempty"`
	// TracesEndpoint and MetricsEndpoint, when set, are the full URLs of
	// one signal (OTEL_EXPORTER_OTLP_{TRACES,METRICS}_ENDPOINT), used as
	// they are.
	TracesEndpoint  string `json:"traces_endpoint,omitempty"`
	MetricsEndpoint string `json:"metrics_endpoint,omitempty"`
	// Protocol is ProtocolHTTP (the default) or ProtocolGRPC, for both
	// signals (OTEL_EXPORTER_OTLP_PROTOCOL).
	Protocol string `json:"protocol,omitempty"`
	// Headers are sent with every export (OTEL_EXPORTER_OTLP_HEADERS).
	Headers map[string]string `json:"-"`
	// Timeout bounds each export (OTEL_EXPORTER_OTLP_TIMEOUT). Default
	// DefaultExportTimeout.
	Timeout time.Duration `json:"timeout_ns,omitempty"`
	// MetricInterval is the time between metric exports
	// (OTEL_METRIC_EXPORT_INTERVAL). Default DefaultMetricInterval; the
	// last export happens at shutdown whatever the interval.
	MetricInterval time.Duration `json:"metric_interval_ns,omitempty"`
	// ServiceName is the service.name resource attribute
	// (OTEL_SERVICE_NAME). Default: the name the pipeline is given.
	ServiceName string `json:"service_name,omitempty"`
	// NoTraces and NoMetrics turn one signal's export off
	// (OTEL_TRACES_EXPORTER=none, OTEL_METRICS_EXPORTER=none).
	NoTraces  bool `json:"no_traces,omitempty"`
	NoMetrics bool `json:"no_metrics,omitempty"`
}

// Enabled reports whether an endpoint is set.
func (c ExportConfig) Enabled() bool {
	return c.Endpoint != "" || c.TracesEndpoint != "" || c.MetricsEndpoint != ""
}

// ExportConfigFromEnv reads the standard OTEL_* variables through getenv
// (os.Getenv) and checks them, so that a bad value is an error naming the
// variable before anything runs. OTEL_SDK_DISABLED=true turns export off.
func ExportConfigFromEnv(getenv func(string) string) (ExportConfig, error) {
	var c ExportConfig
	if v := strings.TrimSpace(getenv("OTEL_SDK_DISABLED")); strings.EqualFold(v, "true") {
		return c, nil
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"OTEL_EXPORTER_OTLP_ENDPOINT", &c.Endpoint},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &c.TracesEndpoint},
		{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", &c.MetricsEndpoint},
	} {
		v := strings.TrimSpace(getenv(f.name))
		if v == "" {
			continue
		}
		if err := CheckEndpoint(v); err != nil {
			return c, fmt.Errorf("telemetry: %s: %w", f.name, err)
		}
		*f.dst = v
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"} {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			continue
		}
		p, err := ParseProtocol(v)
		if err != nil {
			return c, fmt.Errorf("telemetry: %s: %w", name, err)
		}
		if c.Protocol != "" && p != c.Protocol {
			return c, fmt.Errorf("telemetry: %s is %q but another OTLP protocol variable says %q; tr117 exports both signals with one protocol", name, v, c.Protocol)
		}
		c.Protocol = p
	}
	var err error
	if c.Timeout, err = envMillis(getenv, "OTEL_EXPORTER_OTLP_TIMEOUT"); err != nil {
		return c, err
	}
	if c.MetricInterval, err = envMillis(getenv, "OTEL_METRIC_EXPORT_INTERVAL"); err != nil {
		return c, err
	}
	if v := getenv("OTEL_EXPORTER_OTLP_HEADERS"); strings.TrimSpace(v) != "" {
		if c.Headers, err = parseHeaders(v); err != nil {
			return c, fmt.Errorf("telemetry: OTEL_EXPORTER_OTLP_HEADERS: %w", err)
		}
	}
	c.ServiceName = strings.TrimSpace(getenv("OTEL_SERVICE_NAME"))
	if c.NoTraces, err = envExporterNone(getenv, "OTEL_TRACES_EXPORTER"); err != nil {
		return c, err
	}
	if c.NoMetrics, err = envExporterNone(getenv, "OTEL_METRICS_EXPORTER"); err != nil {
		return c, err
	}
	return c, nil
}

// envExporterNone reads OTEL_{TRACES,METRICS}_EXPORTER: "otlp" (or
// unset) exports, "none" does not; other exporters are not built in.
func envExporterNone(getenv func(string) string, name string) (bool, error) {
	switch v := strings.TrimSpace(getenv(name)); v {
	case "", "otlp":
		return false, nil
	case "none":
		return true, nil
	default:
		return false, fmt.Errorf("telemetry: %s=%q: want otlp or none", name, v)
	}
}

// ParseProtocol accepts "http/protobuf" and "grpc". "http/json", which the
// Go exporters do not speak, is an error.
func ParseProtocol(s string) (string, error) {
	switch s {
	case ProtocolHTTP, ProtocolGRPC:
		return s, nil
	case "http/json":
		return "", fmt.Errorf("protocol %q is not supported (want %s or %s)", s, ProtocolHTTP, ProtocolGRPC)
	}
	return "", fmt.Errorf("unknown protocol %q (want %s or %s)", s, ProtocolHTTP, ProtocolGRPC)
}

// CheckEndpoint checks an OTLP endpoint: an http or https URL with a host.
func CheckEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("endpoint %q is not a URL: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("endpoint %q: want an http:// or https:// URL", s)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("endpoint %q has no host", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("endpoint %q: port %q is not in 1-65535", s, p)
		}
	}
	return nil
}

// envMillis reads a variable that holds whole milliseconds; 0 when unset.
func envMillis(getenv func(string) string, name string) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("telemetry: %s=%q: want a positive number of milliseconds", name, v)
	}
	return time.Duration(n) * time.Millisecond, nil
}

// parseHeaders parses the W3C-baggage-like "k1=v1,k2=v2" list with
// URL-encoded values.
func parseHeaders(s string) (map[string]string, error) {
	h := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key=value", strings.TrimSpace(kv))
		}
		val, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", k, err)
		}
		h[k] = val
	}
	return h, nil
}
