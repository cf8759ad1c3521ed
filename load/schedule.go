package load

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Arrival is how an open loop spaces its requests.
//
// It is an immutable value, safe for concurrent use.
type Arrival string

// The arrival processes.
const (
	// Constant spaces requests exactly 1/Rate apart.
	Constant Arrival = "constant"
	// Poisson draws exponential gaps with mean 1/Rate (inter-arrival CV 1).
	Poisson Arrival = "poisson"
	// Gamma draws gamma gaps with shape Burstiness and mean 1/Rate
	// (inter-arrival CV 1/√Burstiness): below 1 burstier than Poisson,
	// above 1 steadier. Burstiness 1 is Poisson.
	Gamma Arrival = "gamma"
)

// ParseArrival accepts "constant", "poisson", "gamma" and "" (poisson).
func ParseArrival(s string) (Arrival, error) {
	switch a := Arrival(s); a {
	case "":
		return Poisson, nil
	case Constant, Poisson, Gamma:
		return a, nil
	}
	return "", fmt.Errorf("load: unknown arrival %q (want constant, poisson or gamma)", s)
}

// ErrBadSchedule is wrapped by every error of [Schedule.Offsets] and
// [ParseSegment] about a value out of range.
var ErrBadSchedule = errors.New("bad schedule")

// Schedule describes an open-loop schedule: when each request is due,
// drawn from Seed before the run, so that two runs with one Seed send at
// the same offsets. It can be written into a manifest as JSON.
//
// It is plain data: safe to read from several goroutines, not to modify
// while others read it.
type Schedule struct {
	// Arrival is the arrival process. Default Poisson.
	Arrival Arrival `json:"arrival"`
	// Rate is the requested rate in requests per second; it must be
	// positive.
	Rate float64 `json:"rate"`
	// Burstiness is the gamma shape of Gamma arrivals. Default 1.
	Burstiness float64 `json:"burstiness,omitempty"`
	// RampUp, when positive, raises the rate linearly from 0 to Rate over
	// that time (the expected count by time t is Rate·t²/(2·RampUp)).
	RampUp time.Duration `json:"ramp_up_ns,omitempty"`
	// Requests, when positive, is how many requests the schedule holds.
	Requests int `json:"requests,omitempty"`
	// Duration, when positive, ends the schedule: no request is due at or
	// after it. At least one of Requests and Duration must be set.
	Duration time.Duration `json:"duration_ns,omitempty"`
	// Seed seeds the gaps; 0 is a seed like any other.
	Seed uint64 `json:"seed"`
}

// MaxScheduled bounds the requests a schedule may hold.
const MaxScheduled = 10_000_000

// Offsets draws the schedule: each request's due time from the start of
// the run, the first at 0. It returns an error wrapping [ErrBadSchedule]
// for a rate that is not positive, a negative count or duration, or a
// schedule with neither.
func (s Schedule) Offsets() ([]time.Duration, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	n := s.Requests
	if n <= 0 || n > MaxScheduled {
		n = MaxScheduled
	}
	r := rand.New(rand.NewPCG(s.Seed, 0x6c6f61645f736368)) // "load_sch"
	shape := s.Burstiness
	if shape == 0 {
		shape = 1
	}
	var out []time.Duration
	if s.Requests > 0 {
		out = make([]time.Duration, 0, s.Requests)
	}
	u := 0.0 // expected arrivals so far: time in units of 1/Rate at full rate
	for len(out) < n {
		t := s.at(u)
		if s.Duration > 0 && t >= s.Duration {
			break
		}
		out = append(out, t)
		u += gap(r, s.Arrival, shape)
	}
	return out, nil
}

func (s Schedule) check() error {
	switch {
	case !(s.Rate > 0) || math.IsInf(s.Rate, 0):
		return fmt.Errorf("load: rate %v req/s: must be positive: %w", s.Rate, ErrBadSchedule)
	case s.Arrival != "" && s.Arrival != Constant && s.Arrival != Poisson && s.Arrival != Gamma:
		return fmt.Errorf("load: unknown arrival %q: %w", s.Arrival, ErrBadSchedule)
	case s.Burstiness < 0 || math.IsNaN(s.Burstiness) || math.IsInf(s.Burstiness, 0):
		return fmt.Errorf("load: burstiness %v: must be positive: %w", s.Burstiness, ErrBadSchedule)
	case s.Requests < 0 || s.Duration < 0 || s.RampUp < 0:
		return fmt.Errorf("load: requests %d, duration %v, ramp-up %v: must not be negative: %w", s.Requests, s.Duration, s.RampUp, ErrBadSchedule)
	case s.Requests == 0 && s.Duration == 0:
		return fmt.Errorf("load: a schedule needs a request count or a duration: %w", ErrBadSchedule)
	case s.Requests == 0 && s.Rate*s.Duration.Seconds() > MaxScheduled:
		return fmt.Errorf("load: %v req/s for %v is more than %d requests: %w", s.Rate, s.Duration, MaxScheduled, ErrBadSchedule)
	}
	return nil
}

// at maps u expected arrivals to a time, inverting the ramp.
func (s Schedule) at(u float64) time.Duration {
	ramp := s.RampUp.Seconds()
	var sec float64
	if ramp > 0 && u < s.Rate*ramp/2 {
		sec = math.Sqrt(2 * ramp * u / s.Rate)
	} else {
		sec = u/s.Rate + ramp/2
	}
	return time.Duration(sec * float64(time.Second))
}

// gap draws one inter-arrival gap with mean 1.
func gap(r *rand.Rand, a Arrival, shape float64) float64 {
	switch a {
	case Constant:
		return 1
	case Gamma:
		if shape != 1 {
			return gammaVariate(r, shape) / shape
		}
	}
	return r.ExpFloat64()
}

// gammaVariate draws from Gamma(shape, 1) by Marsaglia and Tsang's method.
func gammaVariate(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gammaVariate(r, shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// Segment is the Index-th of Count disjoint shares of one schedule, in the
// spirit of k6's execution segments: request k belongs to segment k mod
// Count, so n workers running segments 0/n … (n-1)/n of one seeded schedule
// together send exactly the requests of the whole schedule, each at its
// offset. The zero value is the whole schedule.
//
// It is an immutable value, safe for concurrent use.
type Segment struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// ParseSegment parses "i/n" with 0 ≤ i < n; "" is the whole schedule.
func ParseSegment(s string) (Segment, error) {
	if s == "" {
		return Segment{}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return Segment{}, fmt.Errorf("load: segment %q: want i/n, such as 0/4", s)
	}
	seg := Segment{Index: i, Count: n}
	if n < 1 {
		return Segment{}, fmt.Errorf("load: segment %q: the count must be at least 1: %w", s, ErrBadSchedule)
	}
	return seg, seg.check()
}

func (g Segment) check() error {
	if g.Count == 0 && g.Index == 0 {
		return nil
	}
	if g.Count < 1 || g.Index < 0 || g.Index >= g.Count {
		return fmt.Errorf("load: segment %d/%d: the index must be at least 0 and below the count: %w", g.Index, g.Count, ErrBadSchedule)
	}
	return nil
}

// Owns reports whether request k of the schedule belongs to the segment.
func (g Segment) Owns(k int) bool { return g.Count <= 1 || k%g.Count == g.Index }

// String is "i/n", or "" for the whole schedule.
func (g Segment) String() string {
	if g.Count <= 1 {
		return ""
	}
	return strconv.Itoa(g.Index) + "/" + strconv.Itoa(g.Count)
}
