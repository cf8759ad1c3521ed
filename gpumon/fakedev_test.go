package gpumon

import (
	"errors"
	"sync"
)

var errNoPermission = errors.New("Insufficient Permissions")

// fakeDev is a GPU that behaves like a real one through the device
// interface: NVML keeps power and utilization samples in a ring buffer
// stamped in microseconds, a consumer board answers ErrNotSupported for
// the energy counter, PCIe throughput and the sample buffers, and a GPU can
// fall off the bus (ErrGPULost from then on, for every query).
type fakeDev struct {
	mu sync.Mutex

	powerMW       uint32
	energyMJ      uint64
	util, memUtil uint32
	used, total   uint64
	rxKB, txKB    uint32
	smMHz, memMHz uint32
	tempC         uint32
	pState        int
	reasons       uint64
	unsupported   map[string]bool  // query name → ErrNotSupported
	failing       map[string]error // query name → other error
	lost          bool
	calls         map[string]int
	clockUS       uint64
	powerBuf      []rawSample
	utilBuf       []rawSample
}

func newFakeDev() *fakeDev {
	return &fakeDev{
		powerMW: 250000, energyMJ: 1_000_000, util: 80, memUtil: 30,
		used: 10 << 30, total: 80 << 30, rxKB: 5000, txKB: 1000,
		smMHz: 1980, memMHz: 2619, tempC: 55, pState: 0, reasons: 0x4,
		unsupported: map[string]bool{}, failing: map[string]error{}, calls: map[string]int{},
	}
}

// consumer returns a board like a GeForce card: no energy counter, no
// sample buffers, no PCIe counters, no clock reasons.
func consumerDev() *fakeDev {
	d := newFakeDev()
	for _, q := range []string{"energy", "power samples", "utilization samples", "pcie", "reasons"} {
		d.unsupported[q] = true
	}
	return d
}

// tick advances the GPU's clock by us microseconds and records one power
// and one utilization sample, as the driver does in the background.
func (d *fakeDev) tick(us uint64, powerW float64, util float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clockUS += us
	d.powerMW = uint32(powerW * 1000)
	d.util = uint32(util)
	d.energyMJ += uint64(powerW * float64(us) / 1000)
	d.powerBuf = append(d.powerBuf, rawSample{d.clockUS, powerW * 1000})
	d.utilBuf = append(d.utilBuf, rawSample{d.clockUS, util})
}

func (d *fakeDev) enter(q string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls[q]++
	switch {
	case d.lost:
		return ErrGPULost
	case d.unsupported[q]:
		return ErrNotSupported
	}
	return d.failing[q]
}

func (d *fakeDev) powerUsage() (uint32, error) {
	if err := d.enter("power"); err != nil {
		return 0, err
	}
	return d.powerMW, nil
}

func (d *fakeDev) totalEnergy() (uint64, error) {
	if err := d.enter("energy"); err != nil {
		return 0, err
	}
	return d.energyMJ, nil
}

func (d *fakeDev) utilization() (uint32, uint32, error) {
	if err := d.enter("utilization"); err != nil {
		return 0, 0, err
	}
	return d.util, d.memUtil, nil
}

func (d *fakeDev) samples(kind sampleKind, since uint64, dst []rawSample) ([]rawSample, error) {
	if err := d.enter(kind.String()); err != nil {
		return dst, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	buf := d.powerBuf
	if kind == sampleUtil {
		buf = d.utilBuf
	}
	for _, s := range buf {
		if s.ts > since {
			dst = append(dst, s)
		}
	}
	return dst, nil
}

func (d *fakeDev) memory() (uint64, uint64, error) {
	if err := d.enter("memory"); err != nil {
		return 0, 0, err
	}
	return d.used, d.total, nil
}

func (d *fakeDev) pcie(rx bool) (uint32, error) {
	if err := d.enter("pcie"); err != nil {
		return 0, err
	}
	if rx {
		return d.rxKB, nil
	}
	return d.txKB, nil
}

func (d *fakeDev) clock(mem bool) (uint32, error) {
	if err := d.enter("clock"); err != nil {
		return 0, err
	}
	if mem {
		return d.memMHz, nil
	}
	return d.smMHz, nil
}

func (d *fakeDev) temperature() (uint32, error) {
	if err := d.enter("temperature"); err != nil {
		return 0, err
	}
	return d.tempC, nil
}

func (d *fakeDev) pstate() (int, error) {
	if err := d.enter("pstate"); err != nil {
		return 0, err
	}
	return d.pState, nil
}

func (d *fakeDev) clockReasons() (uint64, error) {
	if err := d.enter("reasons"); err != nil {
		return 0, err
	}
	return d.reasons, nil
}

func fakeNVML(devs ...*fakeDev) *nvmlSampler {
	gpus := make([]*gpu, len(devs))
	for i, d := range devs {
		gpus[i] = &gpu{d: d, index: i, uuid: "GPU-fake-" + string(rune('a'+i)), name: "Fake GPU"}
	}
	return newNVMLSampler(gpus, OpenConfig{}, nil)
}
