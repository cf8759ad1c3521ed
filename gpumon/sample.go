package gpumon

import (
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"tr117/sink"
)

// Sample is one reading of one GPU. Values that were not measured (a field
// the GPU or the sampler does not support, or a failed read) are NaN, never
// 0; they are written as an empty CSV field and left out of JSON.
//
// What each field means when sampled every 100 ms depends on the sampler:
// see [OpenNVML] and [OpenSMI]. A Sample is a plain value; it is safe to copy
// and to read from several goroutines.
type Sample struct {
	// Time is when the reading was taken, from time.Now (wall clock plus
	// the monotonic reading, the clock the profiler uses).
	Time time.Time
	// Index is the GPU's index as NVML and nvidia-smi number it.
	Index int
	// UUID and Name identify the GPU ("GPU-…", "NVIDIA H100 80GB HBM3").
	UUID, Name string

	// PowerW is the board power draw in watts.
	PowerW float64
	// EnergyJ is the GPU's total energy counter in joules, counted since the
	// driver was loaded. Only its differences are meaningful.
	EnergyJ float64
	// UtilGPU is the percentage of time one or more kernels ran, 0–100.
	UtilGPU float64
	// UtilMem is the percentage of time device memory was read or written.
	UtilMem float64
	// MemUsedMiB and MemTotalMiB are device memory in MiB.
	MemUsedMiB, MemTotalMiB float64
	// PCIeRxMBps and PCIeTxMBps are PCIe receive (host to GPU) and transmit
	// throughput in MB/s (10^6 bytes). Only NVML reports them.
	PCIeRxMBps, PCIeTxMBps float64
	// ClockSMMHz and ClockMemMHz are the current SM and memory clocks.
	ClockSMMHz, ClockMemMHz float64
	// TempC is the GPU core temperature in degrees Celsius.
	TempC float64
	// PState is the performance state, 0 (maximum) to 15; -1 when unknown.
	PState int
	// ClockReasons is the bit mask of NVML's clock event (throttle) reasons
	// (nvmlClocksEventReason*); valid only when ClockReasonsOK is true.
	ClockReasons   uint64
	ClockReasonsOK bool

	// Err is set when the reading failed, in whole (the row is a gap: every
	// value is NaN, e.g. [ErrGPULost]) or in part (some fields failed with
	// an error other than "not supported"; those are NaN).
	Err error
}

// Gap reports whether the sample is a gap: its reading failed and it holds
// no measured value.
func (s *Sample) Gap() bool {
	return s.Err != nil && math.IsNaN(s.PowerW) && math.IsNaN(s.UtilGPU) && math.IsNaN(s.MemUsedMiB)
}

// Missing returns a Sample for the given GPU with every value NaN, ready to
// be filled in.
func Missing(t time.Time, index int, uuid, name string) Sample {
	nan := math.NaN()
	return Sample{
		Time: t, Index: index, UUID: uuid, Name: name,
		PowerW: nan, EnergyJ: nan, UtilGPU: nan, UtilMem: nan,
		MemUsedMiB: nan, MemTotalMiB: nan, PCIeRxMBps: nan, PCIeTxMBps: nan,
		ClockSMMHz: nan, ClockMemMHz: nan, TempC: nan, PState: -1,
	}
}

// csvHeader is the gpu_metrics.csv header. The first four columns are the
// original study's, exactly.
var csvHeader = []string{
	"timestamp", "power.draw [W]", "utilization.gpu [%]", "memory.used [MiB]",
	"index", "uuid", "name",
	"utilization.memory [%]", "memory.total [MiB]", "energy [J]",
	"pcie.rx [MB/s]", "pcie.tx [MB/s]",
	"clocks.sm [MHz]", "clocks.mem [MHz]", "temperature.gpu [C]",
	"pstate", "clocks_event_reasons", "error",
}

// CSVHeader returns the gpu_metrics.csv columns. It implements [sink.Record].
func (Sample) CSVHeader() []string { return csvHeader }

// AppendCSV appends the sample as one gpu_metrics.csv line. It does not
// allocate unless Err is set. It implements [sink.Record].
func (s Sample) AppendCSV(dst []byte) []byte {
	dst = sink.AppendTime(dst, s.Time)
	dst = append(dst, ',')
	dst = sink.AppendFloat(dst, s.PowerW, 3)
	dst = append(dst, ',')
	dst = sink.AppendFloat(dst, s.UtilGPU, 1)
	dst = append(dst, ',')
	dst = sink.AppendFloat(dst, s.MemUsedMiB, 1)
	dst = append(dst, ',')
	dst = sink.AppendInt(dst, int64(s.Index))
	dst = append(dst, ',')
	dst = sink.AppendString(dst, s.UUID)
	dst = append(dst, ',')
	dst = sink.AppendString(dst, s.Name)
	for _, v := range [...]struct {
		v    float64
		prec int
	}{
		{s.UtilMem, 1}, {s.MemTotalMiB, 1}, {s.EnergyJ, 3},
		{s.PCIeRxMBps, 3}, {s.PCIeTxMBps, 3},
		{s.ClockSMMHz, 0}, {s.ClockMemMHz, 0}, {s.TempC, 0},
	} {
		dst = append(dst, ',')
		dst = sink.AppendFloat(dst, v.v, v.prec)
	}
	dst = append(dst, ',')
	if s.PState >= 0 {
		dst = append(dst, 'P')
		dst = strconv.AppendInt(dst, int64(s.PState), 10)
	}
	dst = append(dst, ',')
	if s.ClockReasonsOK {
		dst = appendHex64(dst, s.ClockReasons)
	}
	dst = append(dst, ',')
	if s.Err != nil {
		dst = sink.AppendString(dst, s.Err.Error())
	}
	return dst
}

func appendHex64(dst []byte, v uint64) []byte {
	const digits = "0123456789ABCDEF"
	dst = append(dst, '0', 'x')
	for shift := 60; shift >= 0; shift -= 4 {
		dst = append(dst, digits[(v>>uint(shift))&0xF])
	}
	return dst
}

// sampleJSON is the JSON form of a Sample: missing values are omitted.
type sampleJSON struct {
	Time         time.Time `json:"time"`
	Index        int       `json:"index"`
	UUID         string    `json:"uuid,omitempty"`
	Name         string    `json:"name,omitempty"`
	PowerW       *float64  `json:"power_watts,omitempty"`
	EnergyJ      *float64  `json:"energy_joules,omitempty"`
	UtilGPU      *float64  `json:"utilization_gpu_percent,omitempty"`
	UtilMem      *float64  `json:"utilization_memory_percent,omitempty"`
	MemUsedMiB   *float64  `json:"memory_used_mib,omitempty"`
	MemTotalMiB  *float64  `json:"memory_total_mib,omitempty"`
	PCIeRxMBps   *float64  `json:"pcie_rx_mbps,omitempty"`
	PCIeTxMBps   *float64  `json:"pcie_tx_mbps,omitempty"`
	ClockSMMHz   *float64  `json:"clock_sm_mhz,omitempty"`
	ClockMemMHz  *float64  `json:"clock_mem_mhz,omitempty"`
	TempC        *float64  `json:"temperature_celsius,omitempty"`
	PState       *int      `json:"pstate,omitempty"`
	ClockReasons *string   `json:"clock_event_reasons,omitempty"`
	Error        string    `json:"error,omitempty"`
}

func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// MarshalJSON writes the sample with snake_case names that carry their
// unit; missing values are left out and Err becomes "error".
func (s Sample) MarshalJSON() ([]byte, error) {
	j := sampleJSON{
		Time: s.Time.UTC(), Index: s.Index, UUID: s.UUID, Name: s.Name,
		PowerW: ptr(s.PowerW), EnergyJ: ptr(s.EnergyJ), UtilGPU: ptr(s.UtilGPU), UtilMem: ptr(s.UtilMem),
		MemUsedMiB: ptr(s.MemUsedMiB), MemTotalMiB: ptr(s.MemTotalMiB),
		PCIeRxMBps: ptr(s.PCIeRxMBps), PCIeTxMBps: ptr(s.PCIeTxMBps),
		ClockSMMHz: ptr(s.ClockSMMHz), ClockMemMHz: ptr(s.ClockMemMHz), TempC: ptr(s.TempC),
	}
	if s.PState >= 0 {
		p := s.PState
		j.PState = &p
	}
	if s.ClockReasonsOK {
		h := string(appendHex64(nil, s.ClockReasons))
		j.ClockReasons = &h
	}
	if s.Err != nil {
		j.Error = s.Err.Error()
	}
	return json.Marshal(j)
}

// Errors a sampler reports. Test with errors.Is.
var (
	// ErrNoGPU means no sampler could be opened: the NVML library did not
	// load (or found no GPU) and nvidia-smi is not on PATH (or failed).
	// [Open] returns it as a [*NoGPUError] that says why each failed.
	ErrNoGPU = errors.New("gpumon: no NVIDIA GPU found")
	// ErrNotSupported marks a field the GPU does not support. Samplers
	// record such a field as missing; it never reaches a Sample's Err.
	ErrNotSupported = errors.New("gpumon: not supported")
	// ErrGPULost means the GPU fell off the bus or stopped responding. Every
	// later sample of that GPU is a gap.
	ErrGPULost = errors.New("gpumon: GPU is lost")
	// ErrSamplerClosed is what Sample returns once Close has been called,
	// including a Sample that was waiting when Close ran. A [Monitor]
	// treats it as the end of sampling, not as a GPU failure.
	ErrSamplerClosed = errors.New("gpumon: sampler closed")
	// ErrNoCgo is returned by [OpenNVML] in a binary built with
	// CGO_ENABLED=0: NVML needs cgo.
	ErrNoCgo = errors.New("gpumon: nvml: built without cgo")
)

// NoGPUError is what [Open] returns when neither NVML nor nvidia-smi could
// be opened. errors.Is(err, ErrNoGPU) is true; NVML and SMI hold the two
// causes, which errors.Is and errors.As reach as well. Its message is one
// short line:
//
//	gpumon: no NVIDIA GPU found (NVML: libnvidia-ml.so.1 not found; nvidia-smi: not on PATH)
type NoGPUError struct {
	NVML, SMI error
}

func (e *NoGPUError) Error() string {
	return ErrNoGPU.Error() + " (NVML: " + shortReason(e.NVML) + "; nvidia-smi: " + shortReason(e.SMI) + ")"
}

// Is makes errors.Is(err, ErrNoGPU) true.
func (e *NoGPUError) Is(target error) bool { return target == ErrNoGPU }

// Unwrap returns the two causes.
func (e *NoGPUError) Unwrap() []error { return []error{e.NVML, e.SMI} }

// prefixError is err under a prefix that already names the package and
// the part ("gpumon: nvidia-smi: "), with err's own "gpumon: " (and the
// same part) left out of the message so that each is said once.
type prefixError struct {
	msg string
	err error
}

func (e *prefixError) Error() string { return e.msg }
func (e *prefixError) Unwrap() error { return e.err }

// withPrefix wraps err after prefix ("gpumon: nvml: GPU 0: power").
func withPrefix(prefix string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "gpumon: ")
	if part, _, ok := strings.Cut(strings.TrimPrefix(prefix, "gpumon: "), ": "); ok {
		msg = strings.TrimPrefix(msg, part+": ")
	} else {
		msg = strings.TrimPrefix(msg, strings.TrimPrefix(prefix, "gpumon: ")+": ")
	}
	return &prefixError{prefix + ": " + msg, err}
}

// briefError is an error with a short form for [NoGPUError]'s message.
type briefError struct {
	brief string
	err   error
}

func (e *briefError) Error() string { return e.err.Error() }
func (e *briefError) Unwrap() error { return e.err }

// shortReason says in a few words why a sampler did not open.
func shortReason(err error) string {
	var b *briefError
	switch {
	case err == nil:
		return "no error"
	case errors.As(err, &b):
		return b.brief
	case errors.Is(err, ErrNoCgo):
		return "built without cgo"
	case errors.Is(err, exec.ErrNotFound):
		return "not on PATH"
	case errors.Is(err, fs.ErrNotExist):
		return "not found"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	for _, p := range []string{"gpumon: nvml: ", "gpumon: nvidia-smi: ", "gpumon: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	if r := []rune(msg); len(r) > 100 {
		msg = string(r[:100]) + "…"
	}
	return msg
}
