package suite

import (
	"fmt"
	"strconv"

	"tr117/internal/layout"
)

// Phase names one part of the study.
type Phase string

// The phases, in the order the suite runs them.
const (
	PhaseMRI        Phase = "mri"        // phase1: client ceiling
	PhaseCeiling    Phase = "ceiling"    // ceiling: consumer-cost sweep
	PhaseThrottle   Phase = "throttle"   // phase3: flow dynamics
	PhaseHardware   Phase = "hardware"   // phase2: GPU telemetry
	PhaseTokenizers Phase = "tokenizers" // phase2/tokenizers
)

// Run is one unit of work of a plan: one dual-agent run of one condition
// (or the whole tokenizer race). Its Key identifies it across restarts.
type Run struct {
	Phase Phase  `json:"phase"`
	Model string `json:"model,omitempty"`
	// Buffer is the MRI read-buffer size; Rate the throttle rate in tok/s
	// (0 = unlimited).
	Buffer BufferSize `json:"buffer,omitempty"`
	Rate   float64    `json:"rate,omitempty"`
	// Cost is the ceiling phase's consumer cost per message.
	Cost Duration `json:"cost,omitempty"`
	// Index is the run number within its condition, from 1.
	Index int `json:"index,omitempty"`
}

// Condition returns the run's condition directory: "default"/"bufN" for
// MRI, "60tps"/"0tps" for throttle, "" otherwise.
func (r Run) Condition() string {
	switch r.Phase {
	case PhaseMRI:
		return r.Buffer.Dir()
	case PhaseThrottle:
		return rateDir(r.Rate)
	case PhaseCeiling:
		return costDir(r.Cost)
	}
	return ""
}

// Key identifies the run in manifest.json: its directory relative to the
// output root and its file stem, "phase1/gemma3_latest/default/run_1".
func (r Run) Key() string {
	if r.Phase == PhaseTokenizers {
		return layout.TokenizersDir
	}
	return r.relDir() + "/run_" + strconv.Itoa(r.Index)
}

func (r Run) relDir() string {
	slug := layout.Slug(r.Model)
	switch r.Phase {
	case PhaseMRI:
		return layout.MRIDir + "/" + slug + "/" + r.Condition()
	case PhaseThrottle:
		return layout.ThrottleDir + "/" + slug + "/" + r.Condition()
	case PhaseCeiling:
		return layout.CeilingDir + "/" + slug + "/" + r.Condition()
	case PhaseHardware:
		return layout.HardwareDir + "/" + slug
	case PhaseTokenizers:
		return layout.TokenizersDir
	}
	return "unknown/" + slug
}

// Dir returns the directory the run writes into under root, following the
// seed's layout: <root>/phase1/<slug>/<default|bufN>/,
// <root>/phase3/<slug>/<rate>tps/, <root>/phase2/<slug>/ and
// <root>/phase2/tokenizers/; the ceiling sweep, which the seed did not
// have, writes <root>/ceiling/<slug>/<cost>us/.
func (r Run) Dir(root string) (string, error) {
	return layout.Join(root, r.relDir())
}

// String describes the run for progress lines.
func (r Run) String() string {
	switch r.Phase {
	case PhaseTokenizers:
		return "tokenizers"
	case PhaseHardware:
		return fmt.Sprintf("hardware %s run %d", r.Model, r.Index)
	}
	return fmt.Sprintf("%s %s %s run %d", r.Phase, r.Model, r.Condition(), r.Index)
}

// Runs lists every run of p (after defaults), in the order the suite runs
// them: MRI, the ceiling sweep, throttle, hardware, then the tokenizer
// race.
func Runs(p Plan) []Run {
	p = p.WithDefaults()
	var out []Run
	if !p.MRI.Skip {
		for _, m := range p.MRI.Models {
			for _, b := range p.MRI.Buffers {
				for i := 1; i <= p.MRI.Runs; i++ {
					out = append(out, Run{Phase: PhaseMRI, Model: m, Buffer: b, Index: i})
				}
			}
		}
	}
	if p.Ceiling.Run {
		for _, c := range p.Ceiling.Costs {
			for i := 1; i <= p.Ceiling.Runs; i++ {
				out = append(out, Run{Phase: PhaseCeiling, Model: p.Ceiling.Model, Cost: c, Index: i})
			}
		}
	}
	if !p.Throttle.Skip {
		for _, m := range p.Throttle.Models {
			for _, r := range p.Throttle.Rates {
				for i := 1; i <= p.Throttle.Runs; i++ {
					out = append(out, Run{Phase: PhaseThrottle, Model: m, Rate: r, Index: i})
				}
			}
		}
	}
	if !p.Hardware.Skip {
		for _, m := range p.Hardware.Models {
			for i := 1; i <= p.Hardware.Runs; i++ {
				out = append(out, Run{Phase: PhaseHardware, Model: m, Index: i})
			}
		}
	}
	if p.Tokenizers.Run {
		out = append(out, Run{Phase: PhaseTokenizers})
	}
	return out
}
