//go:build cgo

package gpumon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// OpenNVML loads libnvidia-ml with dlopen, initializes NVML and opens every
// GPU it sees. It fails when the library does not load, NVML does not
// initialize or there is no GPU. The caller must Close the sampler, which
// shuts NVML down.
//
// Fields at a 100 ms interval (see Sample for units):
//   - PowerW: the mean of the power samples NVML buffered since the
//     previous row (nvmlDeviceGetSamples, NVML_TOTAL_POWER_SAMPLES), so each
//     row is a fresh measurement (the first row, before there is a previous
//     one, comes from nvmlDeviceGetPowerUsage); when the GPU refreshes the buffer more
//     slowly than the interval, the newest sample is repeated (for up to 1 s
//     without a new one; then nvmlDeviceGetPowerUsage, so a buffer that
//     stops filling cannot hold a stale value). Without sample buffers,
//     nvmlDeviceGetPowerUsage: per nvml.h a 1 s average on Ampere (but
//     GA100) and newer, H100 included, instantaneous on older GPUs.
//   - UtilGPU: likewise from NVML_GPU_UTILIZATION_SAMPLES; each buffered
//     sample covers the GPU's own sampling period (1/6 s to 1 s), so at
//     100 ms consecutive rows can repeat a value. Without buffers,
//     nvmlDeviceGetUtilizationRates (averaged over that same period).
//   - UtilMem: nvmlDeviceGetUtilizationRates' memory figure.
//   - EnergyJ: the total energy counter (Volta and later), read each row;
//     its difference over a window is the most accurate energy figure.
//   - PCIeRxMBps/PCIeTxMBps: nvmlDeviceGetPcieThroughput, which NVML
//     measures over a 20 ms window inside the call (so each read costs
//     ~20 ms per direction on real hardware); KB/s divided by 1000. Read
//     once per cfg.PCIeInterval (default 1 s), and for at most one GPU per
//     sample; missing in the rows between.
//   - MemUsedMiB: nvmlDeviceGetMemoryInfo_v2's used (driver 510 and
//     later), which leaves out the memory the driver reserves for itself,
//     as nvidia-smi's memory.used does; older drivers, v1's used, which
//     includes it.
//   - Clocks, temperature, P-state and clock event reasons (the
//     nvmlClocksEventReason* bits; the deprecated throttle-reasons call
//     before driver 535, same bits): instantaneous values.
//
// A field the GPU does not support (NVML_ERROR_NOT_SUPPORTED), or whose
// function the installed driver's library does not export, is NaN in
// every row and not queried again. A GPU that is lost
// (NVML_ERROR_GPU_IS_LOST) yields gap rows from then on.
func OpenNVML(cfg OpenConfig) (Sampler, error) {
	var opts []nvml.LibraryOption
	if cfg.NVMLLibrary != "" {
		opts = append(opts, nvml.WithLibraryPath(cfg.NVMLLibrary))
	}
	s, err := openNVMLLib(nvml.New(opts...), cfg)
	if errors.Is(err, nvml.ERROR_LIBRARY_NOT_FOUND) {
		lib := cfg.NVMLLibrary
		if lib == "" {
			lib = "libnvidia-ml.so.1"
		}
		return nil, &briefError{lib + " not found",
			fmt.Errorf("gpumon: nvml: %s could not be loaded (is the NVIDIA driver installed?): %w", lib, nvml.ERROR_LIBRARY_NOT_FOUND)}
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// symbols are the NVML functions the sampler calls, with the fields that
// go missing when the loaded library lacks one. go-nvml resolves symbols
// lazily (RTLD_LAZY), so calling a function an older driver does not
// export kills the process with "undefined symbol" instead of returning
// ERROR_FUNCTION_NOT_FOUND: every call is checked with LookupSymbol first.
var symbols = []struct {
	name string
	bits uint32
}{
	{"nvmlDeviceGetSamples", fPowerSamples | fUtilSamples},
	{"nvmlDeviceGetPowerUsage", fPower},
	{"nvmlDeviceGetTotalEnergyConsumption", fEnergy},
	{"nvmlDeviceGetUtilizationRates", fUtil},
	{"nvmlDeviceGetMemoryInfo", fMemory},
	{"nvmlDeviceGetPcieThroughput", fPCIeRx | fPCIeTx},
	{"nvmlDeviceGetClockInfo", fClockSM | fClockMem},
	{"nvmlDeviceGetTemperature", fTemp},
	{"nvmlDeviceGetPerformanceState", fPState},
}

// openNVMLLib opens the sampler over any nvml.Interface (the real library
// or go-nvml's mock).
func openNVMLLib(lib nvml.Interface, cfg OpenConfig) (*nvmlSampler, error) {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return nil, fmt.Errorf("gpumon: nvml: init: %w", nvmlError(ret))
	}
	shutdown := func() error {
		if ret := lib.Shutdown(); ret != nvml.SUCCESS {
			return nvmlError(ret)
		}
		return nil
	}
	has := func(sym string) bool { return lib.Extensions().LookupSymbol(sym) == nil }
	var missing uint32
	for _, sym := range symbols {
		if !has(sym.name) {
			missing |= sym.bits
		}
	}
	reasons := reasonsEvent
	switch {
	case has("nvmlDeviceGetCurrentClocksEventReasons"): // driver 535 and later
	case has("nvmlDeviceGetCurrentClocksThrottleReasons"):
		reasons = reasonsThrottle
	default:
		missing |= fReasons
	}
	memV2 := has("nvmlDeviceGetMemoryInfo_v2") // driver 510 and later
	if memV2 {
		missing &^= fMemory
	}

	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		shutdown()
		return nil, fmt.Errorf("gpumon: nvml: device count: %w", nvmlError(ret))
	}
	if n == 0 {
		shutdown()
		return nil, &briefError{"no GPU", errors.New("gpumon: nvml: no GPU found")}
	}
	gpus := make([]*gpu, 0, n)
	devs := make([]*nvmlDevice, 0, n)
	for i := range n {
		h, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			shutdown()
			return nil, fmt.Errorf("gpumon: nvml: GPU %d: handle: %w", i, nvmlError(ret))
		}
		uuid, ret := h.GetUUID()
		if ret != nvml.SUCCESS {
			uuid = ""
		}
		name, ret := h.GetName()
		if ret != nvml.SUCCESS {
			name = ""
		}
		d := &nvmlDevice{h: h, reasons: reasons, memV2: memV2}
		devs = append(devs, d)
		gpus = append(gpus, &gpu{d: d, index: i, uuid: uuid, name: name, unsupported: missing})
	}
	s := newNVMLSampler(gpus, cfg, shutdown)
	s.infoFn = func() (SystemInfo, error) { return nvmlInfo(lib, has, gpus, devs), nil }
	return s, nil
}

// nvmlInfo reads the driver and GPU descriptions; a query that fails
// leaves its field empty.
func nvmlInfo(lib nvml.Interface, has func(string) bool, gpus []*gpu, devs []*nvmlDevice) SystemInfo {
	info := SystemInfo{Sampler: string(KindNVML), GPUs: make([]GPUInfo, 0, len(gpus))}
	if has("nvmlSystemGetDriverVersion") {
		if v, ret := lib.SystemGetDriverVersion(); ret == nvml.SUCCESS {
			info.DriverVersion = v
		}
	}
	if has("nvmlSystemGetNVMLVersion") {
		if v, ret := lib.SystemGetNVMLVersion(); ret == nvml.SUCCESS {
			info.NVMLVersion = v
		}
	}
	if has("nvmlSystemGetCudaDriverVersion") {
		if v, ret := lib.SystemGetCudaDriverVersion(); ret == nvml.SUCCESS {
			info.CUDADriverVersion = cudaVersion(v)
		}
	}
	for i, g := range gpus {
		gi := GPUInfo{Index: g.index, UUID: g.uuid, Name: g.name}
		h := devs[i].h
		if has("nvmlDeviceGetPciInfo_v3") || has("nvmlDeviceGetPciInfo_v2") || has("nvmlDeviceGetPciInfo") {
			if p, ret := h.GetPciInfo(); ret == nvml.SUCCESS {
				gi.PCIBusID = cString(p.BusId[:])
			}
		}
		if has("nvmlDeviceGetCudaComputeCapability") {
			if major, minor, ret := h.GetCudaComputeCapability(); ret == nvml.SUCCESS {
				gi.ComputeCapability = fmt.Sprintf("%d.%d", major, minor)
			}
		}
		if has("nvmlDeviceGetVbiosVersion") {
			if v, ret := h.GetVbiosVersion(); ret == nvml.SUCCESS {
				gi.VBIOSVersion = v
			}
		}
		if devs[i].memV2 {
			if m, ret := h.GetMemoryInfo_v2(); ret == nvml.SUCCESS {
				gi.MemoryTotalMiB = float64(m.Total) / (1 << 20)
				gi.MemoryReservedMiB = float64(m.Reserved) / (1 << 20)
			}
		}
		if gi.MemoryTotalMiB == 0 && has("nvmlDeviceGetMemoryInfo") {
			if m, ret := h.GetMemoryInfo(); ret == nvml.SUCCESS {
				gi.MemoryTotalMiB = float64(m.Total) / (1 << 20)
			}
		}
		for _, q := range []struct {
			sym string
			get func() (int, nvml.Return)
			dst *int
		}{
			{"nvmlDeviceGetCurrPcieLinkGeneration", h.GetCurrPcieLinkGeneration, &gi.PCIeLinkGen},
			{"nvmlDeviceGetMaxPcieLinkGeneration", h.GetMaxPcieLinkGeneration, &gi.PCIeLinkGenMax},
			{"nvmlDeviceGetCurrPcieLinkWidth", h.GetCurrPcieLinkWidth, &gi.PCIeLinkWidth},
			{"nvmlDeviceGetMaxPcieLinkWidth", h.GetMaxPcieLinkWidth, &gi.PCIeLinkWidthMax},
		} {
			if has(q.sym) {
				if v, ret := q.get(); ret == nvml.SUCCESS {
					*q.dst = v
				}
			}
		}
		if has("nvmlDeviceGetEnforcedPowerLimit") {
			if mw, ret := h.GetEnforcedPowerLimit(); ret == nvml.SUCCESS {
				gi.PowerLimitW = float64(mw) / 1000
			}
		}
		info.GPUs = append(info.GPUs, gi)
	}
	return info
}

// cString returns the bytes of a NUL-terminated C char array.
func cString(b []int8) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, byte(c))
	}
	return string(out)
}

// nvmlError turns an nvml.Return into an error: nil, ErrNotSupported,
// ErrGPULost or the library's description of the code.
func nvmlError(ret nvml.Return) error {
	switch ret {
	case nvml.SUCCESS:
		return nil
	case nvml.ERROR_NOT_SUPPORTED, nvml.ERROR_FUNCTION_NOT_FOUND:
		return ErrNotSupported
	case nvml.ERROR_GPU_IS_LOST:
		return ErrGPULost
	}
	return ret // nvml.Return implements error with NVML's own message
}

// Which clock event reasons call a device makes.
const (
	reasonsEvent    = iota // nvmlDeviceGetCurrentClocksEventReasons (535+)
	reasonsThrottle        // nvmlDeviceGetCurrentClocksThrottleReasons (deprecated)
)

// nvmlDevice adapts go-nvml's Device to device. It calls only functions
// the loaded library exports (see symbols).
type nvmlDevice struct {
	h       nvml.Device
	reasons int
	memV2   bool // nvmlDeviceGetMemoryInfo_v2: used excludes reserved memory
}

func (d *nvmlDevice) powerUsage() (uint32, error) {
	v, ret := d.h.GetPowerUsage()
	return v, nvmlError(ret)
}

func (d *nvmlDevice) totalEnergy() (uint64, error) {
	v, ret := d.h.GetTotalEnergyConsumption()
	return v, nvmlError(ret)
}

func (d *nvmlDevice) utilization() (uint32, uint32, error) {
	u, ret := d.h.GetUtilizationRates()
	return u.Gpu, u.Memory, nvmlError(ret)
}

func (d *nvmlDevice) samples(kind sampleKind, since uint64, dst []rawSample) ([]rawSample, error) {
	t := nvml.TOTAL_POWER_SAMPLES
	if kind == sampleUtil {
		t = nvml.GPU_UTILIZATION_SAMPLES
	}
	vt, ss, ret := d.h.GetSamples(t, since)
	if ret == nvml.ERROR_NOT_FOUND {
		return dst, nil // no sample newer than since: NVML's way of saying "none yet"
	}
	if err := nvmlError(ret); err != nil {
		return dst, err
	}
	for _, s := range ss {
		v, ok := sampleValue(vt, s.SampleValue)
		if ok {
			dst = append(dst, rawSample{ts: s.TimeStamp, v: v})
		}
	}
	return dst, nil
}

// sampleValue decodes an nvmlValue_t union held in host byte order.
func sampleValue(vt nvml.ValueType, b [8]byte) (float64, bool) {
	e := binary.NativeEndian
	switch vt {
	case nvml.VALUE_TYPE_DOUBLE:
		v := math.Float64frombits(e.Uint64(b[:]))
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	case nvml.VALUE_TYPE_UNSIGNED_INT:
		return float64(e.Uint32(b[:4])), true
	case nvml.VALUE_TYPE_UNSIGNED_LONG, nvml.VALUE_TYPE_UNSIGNED_LONG_LONG:
		return float64(e.Uint64(b[:])), true
	case nvml.VALUE_TYPE_SIGNED_LONG_LONG:
		return float64(int64(e.Uint64(b[:]))), true
	case nvml.VALUE_TYPE_SIGNED_INT:
		return float64(int32(e.Uint32(b[:4]))), true
	case nvml.VALUE_TYPE_UNSIGNED_SHORT:
		return float64(e.Uint16(b[:2])), true
	}
	return 0, false
}

// memory reads nvmlDeviceGetMemoryInfo_v2 where the driver has it: its
// used figure excludes the memory the driver reserves for itself, as
// nvidia-smi's memory.used does (v1's used includes it, some hundreds of
// MiB more on an H100). A driver that refuses the v2 struct falls back to
// v1 for good.
func (d *nvmlDevice) memory() (uint64, uint64, error) {
	if d.memV2 {
		m, ret := d.h.GetMemoryInfo_v2()
		switch ret {
		case nvml.ERROR_ARGUMENT_VERSION_MISMATCH, nvml.ERROR_FUNCTION_NOT_FOUND:
			d.memV2 = false
		default:
			return m.Used, m.Total, nvmlError(ret)
		}
	}
	m, ret := d.h.GetMemoryInfo()
	return m.Used, m.Total, nvmlError(ret)
}

func (d *nvmlDevice) pcie(rx bool) (uint32, error) {
	c := nvml.PCIE_UTIL_TX_BYTES
	if rx {
		c = nvml.PCIE_UTIL_RX_BYTES
	}
	v, ret := d.h.GetPcieThroughput(c)
	return v, nvmlError(ret)
}

func (d *nvmlDevice) clock(mem bool) (uint32, error) {
	c := nvml.CLOCK_SM
	if mem {
		c = nvml.CLOCK_MEM
	}
	v, ret := d.h.GetClockInfo(c)
	return v, nvmlError(ret)
}

func (d *nvmlDevice) temperature() (uint32, error) {
	v, ret := d.h.GetTemperature(nvml.TEMPERATURE_GPU)
	return v, nvmlError(ret)
}

func (d *nvmlDevice) pstate() (int, error) {
	v, ret := d.h.GetPerformanceState()
	if ret == nvml.SUCCESS && v == nvml.PSTATE_UNKNOWN {
		return -1, nil
	}
	return int(v), nvmlError(ret)
}

func (d *nvmlDevice) clockReasons() (uint64, error) {
	if d.reasons == reasonsEvent {
		v, ret := d.h.GetCurrentClocksEventReasons()
		return v, nvmlError(ret)
	}
	v, ret := d.h.GetCurrentClocksThrottleReasons()
	return v, nvmlError(ret)
}
