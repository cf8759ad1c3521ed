package gpumon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os/exec"
	"time"
)

// Sampler reads every GPU it watches, once per call.
//
// Sample appends one [Sample] per GPU to dst and returns the extended slice,
// so a caller that passes the previous result back as dst[:0] reads without
// allocating (the runtime/metrics pattern). Each call gives the newest
// reading: a sampler that measures on its own schedule (the nvidia-smi
// -lms stream) returns its latest complete round and drops the rounds no
// call asked for, so the caller's schedule decides how many rows there
// are. A GPU whose reading failed still
// gets a row, with Err set; the error return is for the sampler as a whole
// (its nvidia-smi process died, ctx was cancelled). Name says which sampler
// it is ("nvml", "nvidia-smi"). Close releases the library or ends the
// process; it is idempotent.
//
// The samplers in this package are not safe for concurrent use: one
// goroutine calls Sample at a time (a [Monitor] does).
type Sampler interface {
	Sample(ctx context.Context, dst []Sample) ([]Sample, error)
	Name() string
	Close() error
}

// Kind selects a sampler.
type Kind string

// Sampler kinds accepted by [Open].
const (
	// KindAuto picks NVML if the library loads and sees a GPU, else
	// nvidia-smi if it is on PATH, else fails with [ErrNoGPU].
	KindAuto Kind = "auto"
	// KindNVML reads NVML directly (needs cgo and libnvidia-ml.so.1).
	KindNVML Kind = "nvml"
	// KindSMI runs nvidia-smi.
	KindSMI Kind = "nvidia-smi"
)

// ParseKind checks a --sampler flag value.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case "", KindAuto:
		return KindAuto, nil
	case KindNVML, KindSMI:
		return k, nil
	}
	return "", fmt.Errorf("gpumon: unknown sampler %q (want auto, nvml or nvidia-smi)", s)
}

// OpenConfig configures [Open]. The zero value picks a sampler automatically
// with the defaults below. It can be written into a manifest as JSON, with
// durations in milliseconds under names that say so ("interval_ms",
// "pcie_interval_ms"); it is plain data, safe to copy.
type OpenConfig struct {
	// Kind is the sampler to open; "" means [KindAuto].
	Kind Kind `json:"kind,omitempty"`
	// Interval is the interval the nvidia-smi sampler asks for with -lms
	// (NVML needs none). Default 100 ms; values under 10 ms are raised to
	// 10 ms.
	Interval time.Duration `json:"-"` // JSON: interval_ms
	// NVMLLibrary is the path of libnvidia-ml; "" means
	// "libnvidia-ml.so.1" found by the dynamic loader.
	NVMLLibrary string `json:"nvml_library,omitempty"`
	// SMIPath is the nvidia-smi executable; "" means "nvidia-smi" on PATH.
	SMIPath string `json:"smi_path,omitempty"`
	// SMIFields are the --query-gpu fields to ask nvidia-smi for, in
	// nvidia-smi's names; nil means [DefaultSMIFields].
	SMIFields []string `json:"smi_fields,omitempty"`
	// PCIeInterval is how often the NVML sampler reads PCIe throughput.
	// NVML measures it by counting for 20 ms inside the call, per
	// direction, so reading it every 10 ms or 100 ms would stall sampling;
	// rows between reads leave it missing. Default 1 s; negative: never.
	// Even once a second, the sample that reads it takes ~40 ms, which at a
	// 10 ms interval skips ticks and shows in the interval p99: set it
	// negative where 10 ms jitter matters more than PCIe traffic.
	PCIeInterval time.Duration `json:"-"` // JSON: pcie_interval_ms
	// SMINoStream skips the -lms stream and polls nvidia-smi once per Sample.
	SMINoStream bool `json:"smi_no_stream,omitempty"`
	// Logger receives warnings (a field nvidia-smi rejected, a fallback).
	// nil discards them.
	Logger *slog.Logger `json:"-"`
}

// Interval limits for [Config.Interval] and [OpenConfig.Interval].
const (
	DefaultInterval = 100 * time.Millisecond
	MinInterval     = 10 * time.Millisecond
)

// openConfigJSON is OpenConfig's JSON form.
type openConfigJSON struct {
	Kind           Kind     `json:"kind,omitempty"`
	IntervalMS     float64  `json:"interval_ms,omitempty"`
	NVMLLibrary    string   `json:"nvml_library,omitempty"`
	SMIPath        string   `json:"smi_path,omitempty"`
	SMIFields      []string `json:"smi_fields,omitempty"`
	PCIeIntervalMS float64  `json:"pcie_interval_ms,omitempty"`
	SMINoStream    bool     `json:"smi_no_stream,omitempty"`
}

// MarshalJSON writes the durations in milliseconds.
func (c OpenConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(openConfigJSON{c.Kind, ms(c.Interval), c.NVMLLibrary, c.SMIPath, c.SMIFields, ms(c.PCIeInterval), c.SMINoStream})
}

// UnmarshalJSON reads what MarshalJSON writes. Logger is left as it was.
func (c *OpenConfig) UnmarshalJSON(b []byte) error {
	var j openConfigJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("gpumon: OpenConfig: %w", err)
	}
	c.Kind, c.Interval, c.NVMLLibrary, c.SMIPath = j.Kind, fromMS(j.IntervalMS), j.NVMLLibrary, j.SMIPath
	c.SMIFields, c.PCIeInterval, c.SMINoStream = j.SMIFields, fromMS(j.PCIeIntervalMS), j.SMINoStream
	return nil
}

// ms is d in milliseconds, for JSON.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fromMS is the Duration of v milliseconds, to the nanosecond.
func fromMS(v float64) time.Duration { return time.Duration(math.Round(v * float64(time.Millisecond))) }

func (c OpenConfig) interval() time.Duration { return clampInterval(c.Interval) }

func clampInterval(d time.Duration) time.Duration {
	switch {
	case d <= 0:
		return DefaultInterval
	case d < MinInterval:
		return MinInterval
	}
	return d
}

func (c OpenConfig) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// Open opens the sampler cfg.Kind names. With [KindAuto] it tries NVML,
// then nvidia-smi, and fails with a [*NoGPUError] (errors.Is(err,
// ErrNoGPU) holds; it carries the reason each failed) when neither works; the returned Sampler's Name says
// which was chosen. The caller must Close the sampler.
func Open(ctx context.Context, cfg OpenConfig) (Sampler, error) {
	switch cfg.Kind {
	case KindNVML:
		return OpenNVML(cfg)
	case KindSMI:
		return OpenSMI(ctx, cfg)
	case "", KindAuto:
	default:
		return nil, fmt.Errorf("gpumon: unknown sampler %q", cfg.Kind)
	}
	s, nerr := OpenNVML(cfg)
	if nerr == nil {
		return s, nil
	}
	path := cfg.SMIPath
	if path == "" {
		path = "nvidia-smi"
	}
	if _, err := exec.LookPath(path); err != nil {
		return nil, &NoGPUError{NVML: nerr, SMI: err}
	}
	cfg.logger().Info("gpumon: NVML unavailable, using nvidia-smi", "reason", nerr.Error())
	s, serr := OpenSMI(ctx, cfg)
	if serr != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &NoGPUError{NVML: nerr, SMI: serr}
	}
	return s, nil
}

// Unavailable returns the Sampler of a machine without a usable GPU:
// reason (nil means [ErrNoGPU]) is why, typically the error [Open]
// returned. Its Name is "none" and its Sample returns reason. A [Monitor]
// over it keeps serving: its Run returns reason at once, its Handler
// answers 503 with reason, its Collector exports gpu_up 0 and its Report
// says why (Report.Unavailable).
func Unavailable(reason error) Sampler {
	if reason == nil {
		reason = ErrNoGPU
	}
	return &unavailable{reason}
}

type unavailable struct{ err error }

// KindNone is the Name of an [Unavailable] sampler.
const KindNone Kind = "none"

func (u *unavailable) Name() string { return string(KindNone) }
func (u *unavailable) Close() error { return nil }
func (u *unavailable) Sample(ctx context.Context, dst []Sample) ([]Sample, error) {
	return dst, u.err
}

// joinErr adds err to the errors of a sample's row.
func joinErr(old, err error) error {
	if old == nil {
		return err
	}
	return errors.Join(old, err)
}
