//go:build cgo

package gpumon

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
)

// h100Telemetry fills in the telemetry queries go-nvml's DGX H100 mock
// leaves unset, as an H100 answers them; lost makes every query fail with
// ERROR_GPU_IS_LOST from the moment it is set.
func h100Telemetry(d *server.Device, lost *bool) {
	ret := func(r nvml.Return) nvml.Return {
		if *lost {
			return nvml.ERROR_GPU_IS_LOST
		}
		return r
	}
	d.GetSamplesFunc = func(t nvml.SamplingType, since uint64) (nvml.ValueType, []nvml.Sample, nvml.Return) {
		if since >= 200000 {
			// NVML answers NOT_FOUND when nothing is newer than since.
			return nvml.VALUE_TYPE_UNSIGNED_INT, nil, ret(nvml.ERROR_NOT_FOUND)
		}
		var s nvml.Sample
		s.TimeStamp = since + 100000
		v := uint32(350000) // mW
		if t == nvml.GPU_UTILIZATION_SAMPLES {
			v = 97
		}
		binary.NativeEndian.PutUint32(s.SampleValue[:4], v)
		return nvml.VALUE_TYPE_UNSIGNED_INT, []nvml.Sample{s}, ret(nvml.SUCCESS)
	}
	d.GetPowerUsageFunc = func() (uint32, nvml.Return) { return 350000, ret(nvml.SUCCESS) }
	d.GetTotalEnergyConsumptionFunc = func() (uint64, nvml.Return) { return 123456789, ret(nvml.SUCCESS) }
	d.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
		return nvml.Utilization{Gpu: 97, Memory: 40}, ret(nvml.SUCCESS)
	}
	d.GetPcieThroughputFunc = func(nvml.PcieUtilCounter) (uint32, nvml.Return) { return 0, ret(nvml.ERROR_NOT_SUPPORTED) }
	d.GetClockInfoFunc = func(c nvml.ClockType) (uint32, nvml.Return) {
		if c == nvml.CLOCK_MEM {
			return 2619, ret(nvml.SUCCESS)
		}
		return 1980, ret(nvml.SUCCESS)
	}
	d.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return 61, ret(nvml.SUCCESS) }
	d.GetPerformanceStateFunc = func() (nvml.Pstates, nvml.Return) { return nvml.PSTATE_0, ret(nvml.SUCCESS) }
	// GetCurrentClocksEventReasons is left unset: the test library lacks
	// the symbol, and calling it would panic as it crashes a real process.
	d.GetCurrentClocksThrottleReasonsFunc = func() (uint64, nvml.Return) { return 0x4, ret(nvml.SUCCESS) }
	memInfo := d.GetMemoryInfoFunc
	d.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) {
		m, r := memInfo()
		return m, ret(r)
	}
	// An H100 with driver 550: 80 GiB, 512 MiB reserved, 1000 MiB allocated.
	d.GetMemoryInfo_v2Func = func() (nvml.Memory_v2, nvml.Return) {
		m, r := memInfo()
		return nvml.Memory_v2{Version: 2, Total: m.Total, Reserved: 512 << 20, Used: 1000 << 20, Free: m.Total - 1512<<20}, ret(r)
	}
	d.GetCurrPcieLinkGenerationFunc = func() (int, nvml.Return) { return 5, ret(nvml.SUCCESS) }
	d.GetMaxPcieLinkGenerationFunc = func() (int, nvml.Return) { return 5, ret(nvml.SUCCESS) }
	d.GetCurrPcieLinkWidthFunc = func() (int, nvml.Return) { return 16, ret(nvml.SUCCESS) }
	d.GetMaxPcieLinkWidthFunc = func() (int, nvml.Return) { return 16, ret(nvml.SUCCESS) }
	d.GetEnforcedPowerLimitFunc = func() (uint32, nvml.Return) { return 700000, ret(nvml.SUCCESS) }
	d.GetPciInfoFunc = func() (nvml.PciInfo, nvml.Return) {
		var p nvml.PciInfo
		for i, c := range d.PciBusID {
			p.BusId[i] = int8(c)
		}
		return p, ret(nvml.SUCCESS)
	}
	d.GetVbiosVersionFunc = func() (string, nvml.Return) { return "96.00.74.00.01", ret(nvml.SUCCESS) }
}

// withoutSymbols makes the mock library lack the named functions, as an
// older driver does.
func withoutSymbols(srv *server.Server, names ...string) {
	srv.LookupSymbolFunc = func(sym string) error {
		for _, n := range names {
			if sym == n {
				return fmt.Errorf("undefined symbol: %s", sym)
			}
		}
		return nil
	}
}

func TestNVMLAdapterOnGoNVMLMock(t *testing.T) {
	srv := dgxh100.New()
	lost := make([]bool, len(srv.Devices))
	for i, d := range srv.Devices {
		h100Telemetry(d.(*server.Device), &lost[i])
	}
	withoutSymbols(srv, "nvmlDeviceGetCurrentClocksEventReasons") // a driver older than 535
	s, err := openNVMLLib(srv, OpenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.Sample(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 8 {
		t.Fatalf("%d rows, want 8 (a DGX H100)", len(rows))
	}
	r := rows[3]
	if r.Index != 3 || r.Name != "NVIDIA H100 80GB HBM3" || r.UUID == "" {
		t.Errorf("identity = %d %q %q", r.Index, r.Name, r.UUID)
	}
	if r.PowerW != 350 || r.UtilGPU != 97 || r.UtilMem != 40 || r.EnergyJ != 123456.789 || r.TempC != 61 || r.PState != 0 {
		t.Errorf("values = %+v", r)
	}
	if !r.ClockReasonsOK || r.ClockReasons != 4 {
		t.Errorf("clock reasons %#x (ok %v), want the throttle-reasons fallback 0x4", r.ClockReasons, r.ClockReasonsOK)
	}
	if !math.IsNaN(r.PCIeRxMBps) || r.Err != nil {
		t.Errorf("ERROR_NOT_SUPPORTED PCIe: rx=%v err=%v, want NaN and no error", r.PCIeRxMBps, r.Err)
	}
	if r.MemTotalMiB < 80000 || r.MemUsedMiB != 1000 {
		t.Errorf("memory %v of %v MiB, want v2's used (1000 MiB, without the reserved 512)", r.MemUsedMiB, r.MemTotalMiB)
	}

	// Third read: the buffers have nothing new (ERROR_NOT_FOUND); the
	// newest value is carried and the row has no error.
	for range 2 {
		if rows, err = s.Sample(context.Background(), rows[:0]); err != nil {
			t.Fatal(err)
		}
	}
	if r := rows[3]; r.Err != nil || r.PowerW != 350 || r.UtilGPU != 97 {
		t.Errorf("read with empty sample buffers: power %v util %v err %v", r.PowerW, r.UtilGPU, r.Err)
	}

	lost[5] = true
	rows, err = s.Sample(context.Background(), rows[:0])
	if err != nil {
		t.Fatal(err)
	}
	if !rows[5].Gap() || !errors.Is(rows[5].Err, ErrGPULost) {
		t.Errorf("GPU 5 after ERROR_GPU_IS_LOST: %+v", rows[5])
	}
	if rows[4].Gap() {
		t.Errorf("GPU 4 became a gap")
	}
}

func TestNVMLErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		ret  nvml.Return
		want error
	}{
		{nvml.SUCCESS, nil},
		{nvml.ERROR_NOT_SUPPORTED, ErrNotSupported},
		{nvml.ERROR_FUNCTION_NOT_FOUND, ErrNotSupported},
		{nvml.ERROR_GPU_IS_LOST, ErrGPULost},
	} {
		if got := nvmlError(tc.ret); !errors.Is(got, tc.want) || (tc.want == nil) != (got == nil) {
			t.Errorf("nvmlError(%d) = %v, want %v", tc.ret, got, tc.want)
		}
	}
	if err := nvmlError(nvml.ERROR_NO_PERMISSION); err == nil || errors.Is(err, ErrNotSupported) {
		t.Errorf("NO_PERMISSION mapped to %v", err)
	}
}

func TestOpenNVMLWithoutLibrary(t *testing.T) {
	_, err := OpenNVML(OpenConfig{NVMLLibrary: "/nonexistent/libnvidia-ml.so.1"})
	if err == nil {
		t.Fatal("OpenNVML succeeded without a library")
	}
}

// A library that lacks newer functions (an old driver) must not have them
// called: go-nvml would crash the process with "undefined symbol". The
// mock panics instead when an unset function is called.
func TestNVMLOldDriverSymbols(t *testing.T) {
	srv := dgxh100.New()
	lost := make([]bool, len(srv.Devices))
	for i, d := range srv.Devices {
		dev := d.(*server.Device)
		h100Telemetry(dev, &lost[i])
		dev.GetMemoryInfo_v2Func = nil
		dev.GetTotalEnergyConsumptionFunc = nil
		dev.GetCurrentClocksThrottleReasonsFunc = nil
	}
	withoutSymbols(srv, "nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons",
		"nvmlDeviceGetMemoryInfo_v2", "nvmlDeviceGetTotalEnergyConsumption", "nvmlSystemGetCudaDriverVersion")
	s, err := openNVMLLib(srv, OpenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.Sample(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	if r.Err != nil || !math.IsNaN(r.EnergyJ) || r.ClockReasonsOK || r.PowerW != 350 {
		t.Errorf("row %+v: want energy and clock reasons missing, no error", r)
	}
	if r.MemTotalMiB < 80000 {
		t.Errorf("v1 memory fallback: total %v MiB", r.MemTotalMiB)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.CUDADriverVersion != "" || info.DriverVersion == "" || info.GPUs[0].MemoryReservedMiB != 0 || info.GPUs[0].MemoryTotalMiB < 80000 {
		t.Errorf("info %+v", info)
	}
}

func TestNVMLInfo(t *testing.T) {
	srv := dgxh100.New()
	lost := make([]bool, len(srv.Devices))
	for i, d := range srv.Devices {
		h100Telemetry(d.(*server.Device), &lost[i])
	}
	s, err := openNVMLLib(srv, OpenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	info, err := Info(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if info.Sampler != "nvml" || info.DriverVersion != "550.54.15" || info.CUDADriverVersion != "12.4" || info.NVMLVersion == "" {
		t.Errorf("system %+v", info)
	}
	if len(info.GPUs) != 8 {
		t.Fatalf("%d GPUs, want 8", len(info.GPUs))
	}
	g := info.GPUs[2]
	want := GPUInfo{Index: 2, UUID: g.UUID, Name: "NVIDIA H100 80GB HBM3", PCIBusID: "0000:02:00.0", ComputeCapability: "9.0",
		VBIOSVersion: "96.00.74.00.01", MemoryTotalMiB: g.MemoryTotalMiB, MemoryReservedMiB: 512,
		PCIeLinkGen: 5, PCIeLinkGenMax: 5, PCIeLinkWidth: 16, PCIeLinkWidthMax: 16, PowerLimitW: 700}
	if g != want || g.UUID == "" || g.MemoryTotalMiB < 80000 {
		t.Errorf("GPU 2 = %+v\nwant   %+v", g, want)
	}
	if _, err := json.Marshal(info); err != nil {
		t.Error(err)
	}
	s.Close()
	if _, err := s.Info(context.Background()); err == nil {
		t.Error("Info after Close succeeded")
	}
}
