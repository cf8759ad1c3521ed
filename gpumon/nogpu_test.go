package gpumon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// A Monitor without a GPU (nil Sampler, or Unavailable(reason)) does not
// panic: Run returns the reason, the handler answers 503 with it, the
// collector exports gpu_up 0 and the report says why.
func TestMonitorWithoutGPU(t *testing.T) {
	reason := &NoGPUError{NVML: ErrNoCgo, SMI: errors.New("gpumon: nvidia-smi: exec: not found")}
	for _, tc := range []struct {
		name string
		s    Sampler
		want error
	}{
		{"nil", nil, ErrNoGPU},
		{"Unavailable", Unavailable(reason), reason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMonitor(tc.s, nil, Config{})
			if err := m.Run(context.Background()); !errors.Is(err, tc.want) {
				t.Errorf("Run = %v, want %v", err, tc.want)
			}
			rep, err := m.Start(context.Background())()
			if !errors.Is(err, tc.want) {
				t.Errorf("Start/stop = %v, want %v", err, tc.want)
			}
			if rep.Sampler != "none" || rep.Unavailable != tc.want.Error() || len(rep.GPUs) != 0 {
				t.Errorf("report %+v", rep)
			}

			rec := httptest.NewRecorder()
			m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/gpu", nil))
			var body struct {
				Sampler, Error string
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body.String(), err)
			}
			if rec.Code != http.StatusServiceUnavailable || body.Sampler != "none" || body.Error != tc.want.Error() {
				t.Errorf("handler: %d %s", rec.Code, rec.Body.String())
			}

			if got := gather(t, m); got != "gpu_up 0;" {
				t.Errorf("metrics %q, want gpu_up 0 alone", got)
			}
		})
	}
}

func TestGPUUpFollowsTheLastSample(t *testing.T) {
	m := NewMonitor(fakeNVML(newFakeDev()), nil, Config{Interval: MinInterval})
	if _, err := m.Start(context.Background())(); err != nil {
		t.Fatal(err)
	}
	if got := gather(t, m); !strings.Contains(got, "gpu_up 1;") {
		t.Errorf("metrics %q, want gpu_up 1 after good samples", got)
	}
	m = NewMonitor(failing{}, nil, Config{Interval: MinInterval})
	if rep, err := m.Start(context.Background())(); err != nil || rep.FailedSamples == 0 {
		t.Fatalf("report %+v, err %v", rep, err)
	}
	if got := gather(t, m); !strings.Contains(got, "gpu_up 0;") {
		t.Errorf("metrics %q, want gpu_up 0 after a failed sample", got)
	}
}

// failing is a sampler whose every sample fails as a whole.
type failing struct{}

func (failing) Name() string { return "failing" }
func (failing) Close() error { return nil }
func (failing) Sample(ctx context.Context, dst []Sample) ([]Sample, error) {
	return dst, errors.New("gpumon: test: driver gone")
}

// gather collects m's metrics on a pedantic registry and returns them as
// "name value; name value;" (gauges only, labels left out).
func gather(t *testing.T, m *Monitor) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, mf := range mfs {
		for _, x := range mf.GetMetric() {
			if g := x.GetGauge(); g != nil {
				parts = append(parts, fmt.Sprintf("%s %g", mf.GetName(), g.GetValue()))
			}
		}
	}
	return strings.Join(parts, "; ") + ";"
}
