//go:build !cgo

package gpumon

// OpenNVML fails with [ErrNoCgo]: this binary was built with
// CGO_ENABLED=0, and NVML needs cgo. [Open] with [KindAuto] then falls
// back to nvidia-smi.
func OpenNVML(cfg OpenConfig) (Sampler, error) { return nil, ErrNoCgo }
