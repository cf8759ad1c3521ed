package telemetry_test

import (
	"strings"
	"testing"
	"time"

	"tr117/telemetry"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestExportConfigFromEnv(t *testing.T) {
	c, err := telemetry.ExportConfigFromEnv(envOf(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		"OTEL_EXPORTER_OTLP_TIMEOUT":  "2500",
		"OTEL_METRIC_EXPORT_INTERVAL": "1000",
		"OTEL_EXPORTER_OTLP_HEADERS":  "api-key=a%20b, x=1",
		"OTEL_SERVICE_NAME":           "bench",
		"OTEL_TRACES_EXPORTER":        "none",
		"OTEL_METRICS_EXPORTER":       "otlp",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Enabled() || c.Endpoint != "http://127.0.0.1:4318" || c.Protocol != "grpc" || c.Timeout != 2500*time.Millisecond ||
		c.MetricInterval != time.Second || c.Headers["api-key"] != "a b" || c.Headers["x"] != "1" || c.ServiceName != "bench" || !c.NoTraces || c.NoMetrics {
		t.Errorf("got %+v", c)
	}
	if c, err := telemetry.ExportConfigFromEnv(envOf(nil)); err != nil || c.Enabled() {
		t.Errorf("empty environment: %+v, %v", c, err)
	}
	c, err = telemetry.ExportConfigFromEnv(envOf(map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:1"}))
	if err != nil || c.Enabled() {
		t.Errorf("OTEL_SDK_DISABLED: %+v, %v", c, err)
	}
}

func TestExportConfigFromEnvRejects(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "127.0.0.1:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://:4318"}, "no host"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:99999"}, "port"},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "ftp://h"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "not supported"},
		{map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "udp"}, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf"}, "one protocol"},
		{map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "10s"}, "OTEL_EXPORTER_OTLP_TIMEOUT"},
		{map[string]string{"OTEL_METRIC_EXPORT_INTERVAL": "-5"}, "OTEL_METRIC_EXPORT_INTERVAL"},
		{map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "novalue"}, "OTEL_EXPORTER_OTLP_HEADERS"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"},
	} {
		_, err := telemetry.ExportConfigFromEnv(envOf(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one that mentions %q", tc.env, err, tc.want)
		}
	}
}
