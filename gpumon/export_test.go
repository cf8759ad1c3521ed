package gpumon

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCollectorAndHandler(t *testing.T) {
	m := NewMonitor(fakeNVML(newFakeDev(), consumerDev()), nil, Config{Interval: MinInterval})
	stop := m.Start(context.Background())
	rep, err := stop()
	if err != nil || rep.Samples < 1 {
		t.Fatal(rep, err)
	}

	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(m.Collector()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, mf := range mfs {
		got[mf.GetName()] = len(mf.GetMetric())
	}
	for name, want := range map[string]int{
		"gpu_power_watts": 2, "gpu_utilization_ratio": 2, "gpu_memory_used_bytes": 2,
		"gpu_energy_joules_total": 1, // the consumer card has no counter, but the integral needs 2 samples
		"gpu_samples_total":       2,
	} {
		if name == "gpu_energy_joules_total" {
			if got[name] < 1 {
				t.Errorf("%s: %d series, want at least the DC GPU's", name, got[name])
			}
			continue
		}
		if got[name] != want {
			t.Errorf("%s: %d series, want %d", name, got[name], want)
		}
	}
	if got["gpu_pcie_rx_bytes_per_second"] != 1 {
		t.Errorf("PCIe series %d, want 1: the consumer card's missing value must be left out", got["gpu_pcie_rx_bytes_per_second"])
	}

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/gpu", nil))
	var body struct {
		Sampler string
		GPUs    []map[string]any
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	if body.Sampler != "nvml" || len(body.GPUs) != 2 || body.GPUs[0]["power_watts"] != 250.0 {
		t.Errorf("body %s", rec.Body)
	}
	if _, ok := body.GPUs[1]["energy_joules"]; ok {
		t.Errorf("missing energy served as a value: %s", rec.Body)
	}
	rec = httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/gpu?report=1", nil))
	if !strings.Contains(rec.Body.String(), `"gpus":[{"index":0`) {
		t.Errorf("report body %s", rec.Body)
	}
	rec = httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/gpu", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}
