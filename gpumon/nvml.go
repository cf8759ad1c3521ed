package gpumon

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// device is one GPU as the NVML sampler sees it: the few NVML queries gpumon
// makes, with nvml.Return already turned into errors (nil, ErrNotSupported,
// ErrGPULost or another error). The cgo adapter implements it over go-nvml;
// tests implement it with fakes that behave like real boards.
type device interface {
	powerUsage() (milliwatts uint32, err error)
	totalEnergy() (millijoules uint64, err error)
	utilization() (gpu, mem uint32, err error)
	// samples appends NVML's buffered samples of kind newer than since
	// (a microsecond timestamp from NVML's clock) to dst.
	samples(kind sampleKind, since uint64, dst []rawSample) ([]rawSample, error)
	memory() (used, total uint64, err error)
	pcie(rx bool) (kbps uint32, err error)
	clock(mem bool) (mhz uint32, err error)
	temperature() (celsius uint32, err error)
	pstate() (int, error)
	clockReasons() (uint64, error)
}

type sampleKind uint8

const (
	samplePower sampleKind = iota // milliwatts
	sampleUtil                    // percent
)

func (k sampleKind) String() string {
	if k == samplePower {
		return "power samples"
	}
	return "utilization samples"
}

// rawSample is one entry of an NVML sample buffer.
type rawSample struct {
	ts uint64 // µs
	v  float64
}

// field bits, for remembering which queries a GPU does not support.
const (
	fPowerSamples = 1 << iota
	fPower
	fEnergy
	fUtilSamples
	fUtil
	fMemory
	fPCIeRx
	fPCIeTx
	fClockSM
	fClockMem
	fTemp
	fPState
	fReasons
)

// gpu is the sampler's state for one device.
type gpu struct {
	d           device
	index       int
	uuid, name  string
	unsupported uint32
	pcieEvery   time.Duration // <0: never
	lastPCIe    time.Time
	lost        error // set once the GPU is lost; every later row is a gap

	// NVML sample buffers: the newest timestamp already reported, and the
	// newest value, carried forward when no new sample has arrived (for at
	// most staleSamples after the last new one, by our clock).
	last    [2]uint64
	carry   [2]float64
	lastNew [2]time.Time
	primed  [2]bool // the buffer has been read once
	buf     []rawSample
}

// nvmlSampler reads devices through NVML.
type nvmlSampler struct {
	gpus    []*gpu
	now     func() time.Time
	closeFn func() error
	// infoFn reads the system description (the cgo adapter sets it);
	// nil: Info reports each GPU's identity only.
	infoFn func() (SystemInfo, error)
	closed bool
}

func newNVMLSampler(gpus []*gpu, cfg OpenConfig, closeFn func() error) *nvmlSampler {
	every := cfg.PCIeInterval
	if every == 0 {
		every = time.Second
	}
	for _, g := range gpus {
		g.buf = make([]rawSample, 0, 128)
		g.pcieEvery = every
	}
	return &nvmlSampler{gpus: gpus, now: time.Now, closeFn: closeFn}
}

func (s *nvmlSampler) Name() string { return string(KindNVML) }

func (s *nvmlSampler) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.closeFn != nil {
		if err := s.closeFn(); err != nil {
			return fmt.Errorf("gpumon: nvml: shutdown: %w", err)
		}
	}
	return nil
}

// Info describes the driver and the GPUs. Fields a GPU does not report
// are left empty.
func (s *nvmlSampler) Info(ctx context.Context) (SystemInfo, error) {
	if s.closed {
		return SystemInfo{}, ErrSamplerClosed
	}
	if err := ctx.Err(); err != nil {
		return SystemInfo{}, err
	}
	if s.infoFn != nil {
		return s.infoFn()
	}
	info := SystemInfo{Sampler: s.Name(), GPUs: make([]GPUInfo, 0, len(s.gpus))}
	for _, g := range s.gpus {
		info.GPUs = append(info.GPUs, GPUInfo{Index: g.index, UUID: g.uuid, Name: g.name})
	}
	return info, nil
}

// Sample reads every GPU. It never fails as a whole except for a closed
// sampler or a cancelled ctx; per-GPU failures are in each row's Err.
func (s *nvmlSampler) Sample(ctx context.Context, dst []Sample) ([]Sample, error) {
	if s.closed {
		return dst, ErrSamplerClosed
	}
	if err := ctx.Err(); err != nil {
		return dst, err
	}
	// PCIe throughput blocks for ~40 ms per GPU, so at most one GPU reads
	// it per Sample: the stall stays bounded however many GPUs there are.
	pcieBudget := 1
	for _, g := range s.gpus {
		dst = append(dst, Sample{})
		g.read(s.now(), &dst[len(dst)-1], &pcieBudget)
	}
	return dst, nil
}

// ok classifies the error of one query: true means the value is good. A
// field that is not supported is remembered and never asked again; a lost
// GPU ends the row.
func (g *gpu) ok(err error, bit uint32, what string, out *Sample) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrNotSupported):
		g.unsupported |= bit
	case errors.Is(err, ErrGPULost):
		g.lost = withPrefix(fmt.Sprintf("gpumon: nvml: GPU %d (%s): %s", g.index, g.uuid, what), err)
	default:
		out.Err = joinErr(out.Err, withPrefix(fmt.Sprintf("gpumon: nvml: GPU %d (%s): %s", g.index, g.uuid, what), err))
	}
	return false
}

func (g *gpu) has(bit uint32) bool { return g.unsupported&bit == 0 && g.lost == nil }

// read fills out with one reading of g.
func (g *gpu) read(now time.Time, out *Sample, pcieBudget *int) {
	*out = Missing(now, g.index, g.uuid, g.name)
	if g.lost != nil {
		out.Err = g.lost
		return
	}
	g.readPowerUtil(now, out)
	g.readMemory(out)
	g.readPCIe(now, out, pcieBudget)
	g.readState(out)
	if g.lost != nil {
		*out = Missing(now, g.index, g.uuid, g.name)
		out.Err = g.lost
	}
}

// readPowerUtil fills power and utilization. It prefers the sample
// buffers, so that each row is the mean of the measurements NVML took since
// the previous row; without them (unsupported, or nothing buffered yet) it
// uses the instant API.
func (g *gpu) readPowerUtil(now time.Time, out *Sample) {
	d := g.d
	gotPower, gotUtil := false, false
	if g.has(fPowerSamples) {
		if v, ok := g.fromSamples(now, samplePower, fPowerSamples, out); ok {
			out.PowerW, gotPower = v/1000, true
		}
	}
	if !gotPower && g.has(fPower) {
		mw, err := d.powerUsage()
		if g.ok(err, fPower, "power", out) {
			out.PowerW = float64(mw) / 1000
		}
	}
	if g.has(fUtilSamples) {
		if v, ok := g.fromSamples(now, sampleUtil, fUtilSamples, out); ok {
			out.UtilGPU, gotUtil = v, true
		}
	}
	if g.has(fUtil) {
		gu, mu, err := d.utilization()
		if g.ok(err, fUtil, "utilization", out) {
			out.UtilMem = float64(mu)
			if !gotUtil {
				out.UtilGPU = float64(gu)
			}
		}
	}
}

// readMemory fills energy and memory.
func (g *gpu) readMemory(out *Sample) {
	d := g.d
	if g.has(fEnergy) {
		mj, err := d.totalEnergy()
		if g.ok(err, fEnergy, "energy", out) {
			out.EnergyJ = float64(mj) / 1000
		}
	}
	if g.has(fMemory) {
		used, total, err := d.memory()
		if g.ok(err, fMemory, "memory", out) {
			out.MemUsedMiB = float64(used) / (1 << 20)
			out.MemTotalMiB = float64(total) / (1 << 20)
		}
	}
}

// readPCIe fills PCIe throughput when it is g's turn (every pcieEvery, and
// only while pcieBudget allows another GPU's slow read in this Sample).
func (g *gpu) readPCIe(now time.Time, out *Sample, pcieBudget *int) {
	d := g.d
	readPCIe := *pcieBudget > 0 && g.pcieEvery >= 0 && (g.has(fPCIeRx) || g.has(fPCIeTx)) &&
		(g.lastPCIe.IsZero() || now.Sub(g.lastPCIe) >= g.pcieEvery)
	if readPCIe {
		g.lastPCIe = now
		*pcieBudget--
	}
	if readPCIe && g.has(fPCIeRx) {
		v, err := d.pcie(true)
		if g.ok(err, fPCIeRx, "pcie rx", out) {
			out.PCIeRxMBps = float64(v) / 1000
		}
	}
	if readPCIe && g.has(fPCIeTx) {
		v, err := d.pcie(false)
		if g.ok(err, fPCIeTx, "pcie tx", out) {
			out.PCIeTxMBps = float64(v) / 1000
		}
	}
	if readPCIe && g.unsupported&(fPCIeRx|fPCIeTx) == fPCIeRx|fPCIeTx {
		*pcieBudget++ // "not supported" answers at once: give the turn back
	}
}

// readState fills clocks, temperature, performance state and clock event
// reasons.
func (g *gpu) readState(out *Sample) {
	d := g.d
	if g.has(fClockSM) {
		v, err := d.clock(false)
		if g.ok(err, fClockSM, "sm clock", out) {
			out.ClockSMMHz = float64(v)
		}
	}
	if g.has(fClockMem) {
		v, err := d.clock(true)
		if g.ok(err, fClockMem, "memory clock", out) {
			out.ClockMemMHz = float64(v)
		}
	}
	if g.has(fTemp) {
		v, err := d.temperature()
		if g.ok(err, fTemp, "temperature", out) {
			out.TempC = float64(v)
		}
	}
	if g.has(fPState) {
		v, err := d.pstate()
		if g.ok(err, fPState, "pstate", out) && v >= 0 && v <= 15 {
			out.PState = v
		}
	}
	if g.has(fReasons) {
		v, err := d.clockReasons()
		if g.ok(err, fReasons, "clock event reasons", out) {
			out.ClockReasons, out.ClockReasonsOK = v, true
		}
	}
}

// staleSamples is how long a buffered value is carried forward without a
// new sample before the row falls back to the instant query: a buffer that
// stops filling (an idle GPU whose driver samples less often, or not at
// all) must not repeat a value from minutes ago.
const staleSamples = time.Second

// fromSamples returns the mean of the buffered samples of kind that are
// newer than the last one reported, or, when none has arrived since, the
// newest value seen (NVML refreshes some buffers more slowly than 10 Hz)
// as long as it is under staleSamples old. The first read uses none of
// the buffer's history: it only marks where new samples begin.
func (g *gpu) fromSamples(now time.Time, kind sampleKind, bit uint32, out *Sample) (float64, bool) {
	buf, err := g.d.samples(kind, g.last[kind], g.buf[:0])
	if len(buf) > cap(g.buf) {
		g.buf = buf[:0]
	}
	if err != nil {
		g.ok(err, bit, kind.String(), out)
		return 0, false
	}
	first := !g.primed[kind]
	g.primed[kind] = true
	var sum float64
	var n int
	newest := g.last[kind]
	for _, s := range buf {
		if s.ts <= g.last[kind] {
			continue
		}
		if s.ts > newest {
			newest = s.ts
			g.carry[kind] = s.v
		}
		sum += s.v
		n++
	}
	switch {
	case first:
		// The buffer's history is of unknown age (an idle GPU's newest
		// sample may be minutes old): remember where it ends, and take
		// this row from the instant query.
		g.last[kind] = newest
		return 0, false
	case n == 0 && now.Sub(g.lastNew[kind]) > staleSamples:
		return 0, false
	case n == 0:
		return g.carry[kind], true
	}
	g.last[kind] = newest
	g.lastNew[kind] = now
	return sum / float64(n), true
}
