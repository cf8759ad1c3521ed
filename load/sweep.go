package load

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SweepConfig configures a [Sweep]: a fixed list of points, or an automatic
// search that raises the rate until the server saturates. It can be written
// into a manifest as JSON.
//
// It is plain data, safe for concurrent use.
type SweepConfig struct {
	// Points are the rates (req/s), or with Concurrency the closed loop's
	// concurrencies, to run in order. Empty with Auto.
	Points []float64 `json:"points,omitempty"`
	// Concurrency says that the points are concurrencies.
	Concurrency bool `json:"concurrency,omitempty"`
	// Auto raises the rate from Start by Factor until a point saturates
	// or MaxPoints have run.
	Auto bool `json:"auto,omitempty"`
	// Start is the first rate of an automatic sweep. Default 1.
	Start float64 `json:"start,omitempty"`
	// Factor multiplies the rate between points. Default 2.
	Factor float64 `json:"factor,omitempty"`
	// MaxPoints bounds an automatic sweep. Default 10.
	MaxPoints int `json:"max_points,omitempty"`
	// Shortfall: a point saturates when its request throughput falls
	// below (1 − Shortfall) times its schedule's rate. Default 0.1. Each
	// point must run many times longer than one request takes, or the
	// requests still in flight at the end lower its throughput.
	Shortfall float64 `json:"shortfall,omitempty"`
	// TTFTP99 saturates a point whose TTFT p99 is above it. Default 10 s.
	TTFTP99 time.Duration `json:"ttft_p99_ns,omitempty"`
}

// ParseSweep parses "1,2,4,8" or "auto".
func ParseSweep(s string) (SweepConfig, error) {
	if strings.TrimSpace(s) == "auto" {
		return SweepConfig{Auto: true}, nil
	}
	var c SweepConfig
	for part := range strings.SplitSeq(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || !(v > 0) || v > 1e9 {
			return SweepConfig{}, fmt.Errorf("load: sweep point %q: want a positive number, or the sweep \"auto\"", part)
		}
		c.Points = append(c.Points, v)
	}
	return c, nil
}

func (c SweepConfig) withDefaults() SweepConfig {
	if c.Start <= 0 {
		c.Start = 1
	}
	if c.Factor <= 1 {
		c.Factor = 2
	}
	if c.MaxPoints <= 0 {
		c.MaxPoints = 10
	}
	if c.Shortfall <= 0 || c.Shortfall >= 1 {
		c.Shortfall = 0.1
	}
	if c.TTFTP99 <= 0 {
		c.TTFTP99 = 10 * time.Second
	}
	return c
}

// Label names a point's directory: "rate-4", "rate-0.5", "concurrency-8".
func (c SweepConfig) Label(v float64) string {
	kind := "rate-"
	if c.Concurrency {
		kind = "concurrency-"
	}
	return kind + strconv.FormatFloat(v, 'f', -1, 64)
}

// SweepPoint is one run of a sweep.
//
// It is plain data: safe to read from several goroutines, not to modify
// while others read it.
type SweepPoint struct {
	// Value is the rate or concurrency; Label its directory name.
	Value float64 `json:"value"`
	Label string  `json:"label"`
	// Summary describes the point's requests, Records are them.
	Summary Summary  `json:"summary"`
	Records []Record `json:"-"`
	// Short and Slow say why the point saturated: its throughput fell
	// short of its rate, or its TTFT p99 passed the bound (or no request
	// produced a token).
	Short bool `json:"short,omitempty"`
	Slow  bool `json:"slow,omitempty"`
}

// Saturated reports whether the point saturated.
func (p *SweepPoint) Saturated() bool { return p.Short || p.Slow }

// SweepResult is a whole sweep.
//
// It is plain data: safe to read from several goroutines, not to modify
// while others read it.
type SweepResult struct {
	Config SweepConfig  `json:"config"`
	Points []SweepPoint `json:"points"`
	// Saturation is the index of the first saturated point, -1 when none
	// saturated; the point before it, if any, is the highest that kept up.
	Saturation int `json:"saturation"`
}

// Simulated reports whether tr117's Ollama simulator answered any
// point's requests.
func (r *SweepResult) Simulated() bool {
	for i := range r.Points {
		if r.Points[i].Summary.Simulated {
			return true
		}
	}
	return false
}

// RunPoint runs one point of a sweep: the rate or concurrency value, into
// a directory named label. [Sweep] calls it from its own goroutine, one
// point at a time.
type RunPoint func(ctx context.Context, value float64, label string) (SweepPoint, error)

// Sweep runs c's points through run and judges each against c's
// saturation bounds. An automatic sweep stops at the first saturated
// point; a fixed one runs every point. It stops at the first error of run
// (ctx.Err() included), returning the points run so far, the failed one
// included when it measured any requests.
func Sweep(ctx context.Context, c SweepConfig, run RunPoint) (SweepResult, error) {
	c = c.withDefaults()
	res := SweepResult{Config: c, Saturation: -1}
	if c.Auto && c.Concurrency {
		return res, errors.New("load: an automatic sweep raises a rate, not a concurrency")
	}
	if !c.Auto && len(c.Points) == 0 {
		return res, errors.New("load: a sweep needs points or auto")
	}
	for i := 0; ; i++ {
		var v float64
		switch {
		case c.Auto && i >= c.MaxPoints, !c.Auto && i >= len(c.Points):
			return res, nil
		case c.Auto:
			v = c.Start
			for range i {
				v *= c.Factor
			}
		default:
			v = c.Points[i]
		}
		p, err := run(ctx, v, c.Label(v))
		if err != nil && len(p.Records) == 0 {
			return res, err
		}
		p.Value, p.Label = v, c.Label(v)
		p.Short, p.Slow = c.judge(&p.Summary)
		res.Points = append(res.Points, p)
		if err != nil {
			return res, err
		}
		if p.Saturated() && res.Saturation < 0 {
			res.Saturation = len(res.Points) - 1
			if c.Auto {
				return res, nil
			}
		}
	}
}

func (c SweepConfig) judge(s *Summary) (short, slow bool) {
	if s.TTFTMS == nil {
		return false, true
	}
	slow = s.TTFTMS.P99.Estimate > ms(c.TTFTP99)
	if !c.Concurrency && s.ScheduleRate != nil {
		short = s.RequestThroughput < (1-c.Shortfall)**s.ScheduleRate
	}
	return short, slow
}
