package gpumon

import (
	"context"
	"fmt"
)

// SystemInfo describes the driver and the GPUs a sampler reads, for a
// result's manifest. It is JSON-safe (what a sampler could not learn is
// left out) and plain data, safe to copy.
type SystemInfo struct {
	// Sampler is the sampler's Name ("nvml", "nvidia-smi").
	Sampler string `json:"sampler"`
	// DriverVersion is the NVIDIA display driver's version ("550.54.15").
	DriverVersion string `json:"driver_version,omitempty"`
	// NVMLVersion is NVML's version ("12.550.54.15"); NVML only.
	NVMLVersion string `json:"nvml_version,omitempty"`
	// CUDADriverVersion is the newest CUDA version the driver supports
	// ("12.4"), as nvidia-smi prints it in its banner.
	CUDADriverVersion string `json:"cuda_driver_version,omitempty"`
	// GPUs holds one entry per GPU, by index.
	GPUs []GPUInfo `json:"gpus"`
}

// GPUInfo describes one GPU. Zero and empty fields were not reported.
type GPUInfo struct {
	Index int    `json:"index"`
	UUID  string `json:"uuid,omitempty"`
	Name  string `json:"name,omitempty"`
	// PCIBusID is the PCI address ("00000000:18:00.0").
	PCIBusID string `json:"pci_bus_id,omitempty"`
	// ComputeCapability is the CUDA compute capability ("9.0"); NVML only
	// (nvidia-smi has compute_cap from driver 510 on).
	ComputeCapability string `json:"compute_capability,omitempty"`
	// VBIOSVersion is the video BIOS version.
	VBIOSVersion string `json:"vbios_version,omitempty"`
	// MemoryTotalMiB is the device memory in MiB; MemoryReservedMiB the part
	// the driver and firmware keep for themselves (NVML 510+ only), which
	// memory.used does not count.
	MemoryTotalMiB    float64 `json:"memory_total_mib,omitempty"`
	MemoryReservedMiB float64 `json:"memory_reserved_mib,omitempty"`
	// PCIe link generation and width, current and maximum. An idle GPU may
	// drop its current link generation to save power, so read the current
	// values under load.
	PCIeLinkGen      int `json:"pcie_link_gen_current,omitempty"`
	PCIeLinkGenMax   int `json:"pcie_link_gen_max,omitempty"`
	PCIeLinkWidth    int `json:"pcie_link_width_current,omitempty"`
	PCIeLinkWidthMax int `json:"pcie_link_width_max,omitempty"`
	// PowerLimitW is the power management limit in effect, in watts.
	PowerLimitW float64 `json:"power_limit_w,omitempty"`
}

// InfoSampler is a Sampler that can describe the system it reads. Both of
// this package's samplers implement it; use [Info] to ask any Sampler.
type InfoSampler interface {
	Sampler
	// Info reads the driver and GPU descriptions. It may take a moment
	// (the nvidia-smi sampler runs nvidia-smi twice), so call it once, not
	// per sample. It is not safe to call concurrently with Sample.
	Info(ctx context.Context) (SystemInfo, error)
}

// Info returns s's SystemInfo if s implements [InfoSampler], and an error
// otherwise.
func Info(ctx context.Context, s Sampler) (SystemInfo, error) {
	is, ok := s.(InfoSampler)
	if !ok {
		return SystemInfo{}, fmt.Errorf("gpumon: sampler %q cannot describe the system", s.Name())
	}
	return is.Info(ctx)
}

// cudaVersion formats NVML's CUDA driver version (12040) as "12.4".
func cudaVersion(v int) string {
	if v <= 0 {
		return ""
	}
	return fmt.Sprintf("%d.%d", v/1000, v%1000/10)
}
