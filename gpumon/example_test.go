package gpumon_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"tr117/gpumon"
	"tr117/sink"
)

// A service embeds the monitor: metrics on its own Prometheus registry and
// the latest readings as JSON on its own mux. On a machine without a GPU
// Open says so and the service runs without GPU metrics.
func Example_embed() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := gpumon.Open(ctx, gpumon.OpenConfig{})
	if err != nil {
		fmt.Println("no GPU monitoring:", err != nil)
		return
	}
	defer s.Close()
	m := gpumon.NewMonitor(s, nil, gpumon.Config{})
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collector())
	mux := http.NewServeMux()
	mux.Handle("GET /gpu", m.Handler())
	go m.Run(ctx) // stopped by cancel
	_ = mux       // http.ListenAndServe(addr, mux)
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
