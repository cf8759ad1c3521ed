package gpumon_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tr117/gpumon"
	"tr117/sink"
)

// oneGPU is a stand-in Sampler for the examples: one GPU drawing 312.5 W.
// In a service, use the Sampler returned by gpumon.Open.
type oneGPU struct{}

func (oneGPU) Name() string { return "example" }
func (oneGPU) Close() error { return nil }
func (oneGPU) Sample(ctx context.Context, dst []gpumon.Sample) ([]gpumon.Sample, error) {
	s := gpumon.Missing(time.Now(), 0, "GPU-example", "Example GPU")
	s.PowerW, s.UtilGPU, s.MemUsedMiB = 312.5, 97, 40960
	return append(dst, s), nil
}

// A service embeds the monitor: metrics on its own Prometheus registry and
// the latest readings as JSON, both on its own mux.
func Example_embed() {
	ctx := context.Background()
	var s gpumon.Sampler = oneGPU{} // gpumon.Open(ctx, gpumon.OpenConfig{}) on a GPU machine
	m := gpumon.NewMonitor(s, nil, gpumon.Config{})
	stop := m.Start(ctx) // or: go m.Run(ctx) for the life of the service
	defer stop()

	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collector())
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("GET /gpu", m.Handler())
	srv := httptest.NewServer(mux) // http.ListenAndServe(addr, mux) in a service
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		fmt.Println(err)
		return
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range strings.Split(string(metrics), "\n") {
		if strings.HasPrefix(line, "gpu_power_watts") || strings.HasPrefix(line, "gpu_utilization_ratio") {
			fmt.Println(line)
		}
	}

	resp, err = http.Get(srv.URL + "/gpu")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var latest struct {
		Sampler string
		GPUs    []struct {
			Name  string
			Power float64 `json:"power_watts"`
		}
	}
	json.NewDecoder(resp.Body).Decode(&latest)
	fmt.Println(latest.Sampler, latest.GPUs[0].Name, latest.GPUs[0].Power)
	// Output:
	// gpu_power_watts{gpu="0",name="Example GPU",uuid="GPU-example"} 312.5
	// gpu_utilization_ratio{gpu="0",name="Example GPU",uuid="GPU-example"} 0.97
	// example Example GPU 312.5
}

// A service keeps /metrics and /gpu serving on a machine without a GPU:
// Open's error becomes an Unavailable sampler, the collector exports
// gpu_up 0 and the handler answers 503 with the reason.
func Example_noGPU() {
	ctx := context.Background()
	s, err := gpumon.Open(ctx, gpumon.OpenConfig{NVMLLibrary: "/nonexistent/libnvidia-ml.so.1", SMIPath: "/nonexistent/nvidia-smi"})
	if err != nil {
		s = gpumon.Unavailable(err) // errors.Is(err, gpumon.ErrNoGPU)
	}
	defer s.Close()
	m := gpumon.NewMonitor(s, nil, gpumon.Config{})
	go m.Run(ctx) // returns the reason at once without a GPU; log it if you like

	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collector())
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("GET /gpu", m.Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		fmt.Println(err)
		return
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range strings.Split(string(metrics), "\n") {
		if strings.HasPrefix(line, "gpu_") {
			fmt.Println(line)
		}
	}
	resp, err = http.Get(srv.URL + "/gpu")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var body struct{ Sampler, Error string }
	json.NewDecoder(resp.Body).Decode(&body)
	fmt.Println(resp.StatusCode, body.Sampler, strings.HasPrefix(body.Error, "gpumon: no NVIDIA GPU found ("))
	// Output:
	// gpu_up 0
	// 503 none true
}

// Watch samples around a piece of work and writes gpu_metrics.csv.
func ExampleWatch() {
	ctx := context.Background()
	s, err := gpumon.Open(ctx, gpumon.OpenConfig{Kind: gpumon.KindAuto})
	if err != nil {
		return // gpumon.ErrNoGPU on a machine without one
	}
	defer s.Close()
	csv, err := sink.CreateCSV[gpumon.Sample](filepath.Join(os.TempDir(), "gpu_metrics.csv"))
	if err != nil {
		return
	}
	defer csv.Close()
	report, err := gpumon.Watch(ctx, s, csv, gpumon.Config{}, func(ctx context.Context, m *gpumon.Monitor) error {
		// ... run the benchmark ...
		m.AddTokens(512)
		return nil
	})
	if err == nil {
		sink.WriteJSONFile(filepath.Join(os.TempDir(), "gpu_summary.json"), report)
	}
}

func ExampleSample_AppendCSV() {
	var s gpumon.Sample
	fmt.Println(s.CSVHeader()[:4])
	s = gpumon.Missing(s.Time, 0, "GPU-1", "NVIDIA H100 80GB HBM3")
	s.PowerW, s.UtilGPU = 312.5, 97
	fmt.Println(string(s.AppendCSV(nil)))
	// Output:
	// [timestamp power.draw [W] utilization.gpu [%] memory.used [MiB]]
	// ,312.500,97.0,,0,GPU-1,NVIDIA H100 80GB HBM3,,,,,,,,,,,
}

// Open with KindAuto on a machine without an NVIDIA GPU fails with one short
// line; the causes stay available to errors.Is and errors.As.
func ExampleNoGPUError() {
	err := error(&gpumon.NoGPUError{
		NVML: errors.New("gpumon: nvml: init: Driver Not Loaded"),
		SMI:  &exec.Error{Name: "nvidia-smi", Err: exec.ErrNotFound},
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, gpumon.ErrNoGPU), errors.Is(err, exec.ErrNotFound))
	// Output:
	// gpumon: no NVIDIA GPU found (NVML: init: Driver Not Loaded; nvidia-smi: not on PATH)
	// true true
}
