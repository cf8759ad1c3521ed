package gpumon

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector returns a prometheus.Collector that reports the Monitor's
// latest reading of each GPU. Register it on your own Registerer:
//
//	reg.MustRegister(m.Collector())
//
// Metrics (labels gpu, uuid, name): gpu_power_watts,
// gpu_utilization_ratio and gpu_memory_utilization_ratio (0–1),
// gpu_memory_used_bytes, gpu_memory_total_bytes, gpu_temperature_celsius,
// gpu_sm_clock_hertz, gpu_memory_clock_hertz,
// gpu_pcie_rx_bytes_per_second, gpu_pcie_tx_bytes_per_second (gauges);
// gpu_energy_joules_total (energy since the Monitor started: counter
// difference or power integral, see GPUSummary.EnergyJ), gpu_samples_total
// and gpu_sample_gaps_total (counters). A value the GPU does not report is
// left out, not reported as 0. gpu_up (no labels) is 1 while the latest
// sample succeeded and 0 before the first, after a sample that failed as
// a whole, and always for a Monitor without a GPU (then the only metric),
// so an alert can tell "no GPU" from "idle GPU".
func (m *Monitor) Collector() prometheus.Collector { return &collector{m: m} }

type collector struct{ m *Monitor }

var gpuLabels = []string{"gpu", "uuid", "name"}

var (
	descPower    = prometheus.NewDesc("gpu_power_watts", "Board power draw.", gpuLabels, nil)
	descUtil     = prometheus.NewDesc("gpu_utilization_ratio", "Fraction of time one or more kernels ran.", gpuLabels, nil)
	descMemUtil  = prometheus.NewDesc("gpu_memory_utilization_ratio", "Fraction of time device memory was read or written.", gpuLabels, nil)
	descMemUsed  = prometheus.NewDesc("gpu_memory_used_bytes", "Device memory in use.", gpuLabels, nil)
	descMemTotal = prometheus.NewDesc("gpu_memory_total_bytes", "Device memory installed.", gpuLabels, nil)
	descTemp     = prometheus.NewDesc("gpu_temperature_celsius", "GPU core temperature.", gpuLabels, nil)
	descSMClock  = prometheus.NewDesc("gpu_sm_clock_hertz", "Current SM clock.", gpuLabels, nil)
	descMemClock = prometheus.NewDesc("gpu_memory_clock_hertz", "Current memory clock.", gpuLabels, nil)
	descPCIeRx   = prometheus.NewDesc("gpu_pcie_rx_bytes_per_second", "PCIe receive (host to GPU) throughput.", gpuLabels, nil)
	descPCIeTx   = prometheus.NewDesc("gpu_pcie_tx_bytes_per_second", "PCIe transmit (GPU to host) throughput.", gpuLabels, nil)
	descEnergy   = prometheus.NewDesc("gpu_energy_joules_total", "Energy used since the monitor started.", gpuLabels, nil)
	descSamples  = prometheus.NewDesc("gpu_samples_total", "Rows sampled.", gpuLabels, nil)
	descGaps     = prometheus.NewDesc("gpu_sample_gaps_total", "Rows whose sampling failed.", gpuLabels, nil)
	descUp       = prometheus.NewDesc("gpu_up", "Whether the GPU monitor reads its GPUs: 1 if its last sample succeeded, 0 without a GPU or after a failed sample.", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPower, descUtil, descMemUtil, descMemUsed, descMemTotal,
		descTemp, descSMClock, descMemClock, descPCIeRx, descPCIeTx, descEnergy, descSamples, descGaps, descUp} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	type counts struct {
		n, gaps int
		energy  float64
		ok      bool
		rx, tx  float64
	}
	m := c.m
	m.mu.Lock()
	latest := append([]Sample(nil), m.latest...)
	byIndex := make(map[int]counts, len(m.gpus))
	for _, g := range m.gpus {
		e, _, ok := g.energy()
		byIndex[g.index] = counts{g.n, g.gaps, e, ok, g.lastRx, g.lastTx}
	}
	up := 0.0
	if m.lastOK {
		up = 1
	}
	m.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up)
	for _, s := range latest {
		labels := []string{strconv.Itoa(s.Index), s.UUID, s.Name}
		gauge := func(d *prometheus.Desc, v, scale float64) {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v*scale, labels...)
			}
		}
		gauge(descPower, s.PowerW, 1)
		gauge(descUtil, s.UtilGPU, 0.01)
		gauge(descMemUtil, s.UtilMem, 0.01)
		gauge(descMemUsed, s.MemUsedMiB, 1<<20)
		gauge(descMemTotal, s.MemTotalMiB, 1<<20)
		gauge(descTemp, s.TempC, 1)
		gauge(descSMClock, s.ClockSMMHz, 1e6)
		gauge(descMemClock, s.ClockMemMHz, 1e6)
		cnt := byIndex[s.Index]
		gauge(descPCIeRx, cnt.rx, 1e6) // the newest reading: NVML gives one per PCIeInterval
		gauge(descPCIeTx, cnt.tx, 1e6)
		if cnt.ok {
			ch <- prometheus.MustNewConstMetric(descEnergy, prometheus.CounterValue, cnt.energy, labels...)
		}
		ch <- prometheus.MustNewConstMetric(descSamples, prometheus.CounterValue, float64(cnt.n), labels...)
		ch <- prometheus.MustNewConstMetric(descGaps, prometheus.CounterValue, float64(cnt.gaps), labels...)
	}
}

// Handler returns an http.Handler that serves the latest reading of each
// GPU as JSON:
//
//	{"sampler":"nvml","time":"…","gpus":[{"time":"…","index":0,"power_watts":71.2,…}]}
//
// With ?report=1 it serves the [Report] so far instead. Missing values are
// left out. A Monitor without a GPU answers 503 Service Unavailable with
// {"sampler":"none","error":"gpumon: no NVIDIA GPU found (…)"}. It answers
// GET and HEAD only.
func (m *Monitor) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var v any
		status := http.StatusOK
		if m.noGPU != nil {
			status = http.StatusServiceUnavailable
			v = struct {
				Sampler string `json:"sampler"`
				Error   string `json:"error"`
			}{m.s.Name(), m.noGPU.Error()}
		} else if r.URL.Query().Get("report") != "" {
			v = m.Report()
		} else {
			gpus := m.Latest(nil)
			if gpus == nil {
				gpus = []Sample{}
			}
			v = struct {
				Sampler string    `json:"sampler"`
				Time    time.Time `json:"time"`
				GPUs    []Sample  `json:"gpus"`
			}{m.s.Name(), time.Now().UTC(), gpus}
		}
		b, err := json.Marshal(v)
		if err != nil {
			http.Error(w, "gpumon: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		w.Write(append(b, '\n'))
	})
}
