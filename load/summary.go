package load

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"tr117/stats"
)

// SLO holds goodput limits: a request is good when it succeeded and meets
// every limit that is set (zero: no limit). It can be written into a
// manifest as JSON.
//
// It is plain data, safe for concurrent use.
type SLO struct {
	TTFT time.Duration `json:"ttft_ns,omitempty"`
	TPOT time.Duration `json:"tpot_ns,omitempty"`
	E2E  time.Duration `json:"e2e_ns,omitempty"`
}

// IsZero reports whether no limit is set.
func (s SLO) IsZero() bool { return s == SLO{} }

// ParseSLO parses "ttft:500ms,tpot:50ms,e2e:10s" (any subset, in any order).
func ParseSLO(s string) (SLO, error) {
	var slo SLO
	for part := range strings.SplitSeq(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), ":")
		d, err := time.ParseDuration(strings.TrimSpace(val))
		if !ok || err != nil || d <= 0 {
			return SLO{}, fmt.Errorf("load: goodput limit %q: want NAME:DURATION with a positive duration, such as ttft:500ms", part)
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "ttft":
			slo.TTFT = d
		case "tpot":
			slo.TPOT = d
		case "e2e", "e2el":
			slo.E2E = d
		default:
			return SLO{}, fmt.Errorf("load: goodput limit %q: unknown metric %q (want ttft, tpot or e2e)", part, name)
		}
	}
	return slo, nil
}

// Good reports whether rec meets every limit of s. A limit on a value the
// request lacks (no TTFT, or one token and so no TPOT) is not met.
func (s SLO) Good(rec *Record) bool {
	if !rec.OK() {
		return false
	}
	within := func(v *float64, lim time.Duration) bool {
		return lim == 0 || (v != nil && *v <= ms(lim))
	}
	return within(rec.TTFTMS, s.TTFT) && within(rec.TPOTMS, s.TPOT) && (s.E2E == 0 || rec.E2EMS <= ms(s.E2E))
}

// Goodput is how many requests met an SLO.
//
// It is plain data, safe for concurrent reads.
type Goodput struct {
	Limits SLO `json:"limits"`
	// Good is the number of good requests; Share = Good / requests.
	Good  int     `json:"good"`
	Share float64 `json:"share"`
	// Rate is good requests per second of the run's duration.
	Rate float64 `json:"rate"`
}

// Delay is a delay's median, 99th percentile and maximum, in ms.
//
// It is plain data, safe for concurrent reads.
type Delay struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Latency describes one latency metric, in ms: the mean and the
// percentiles every report prints, each with a bootstrap confidence
// interval (nil when the sample is too small to draw one).
//
// It is plain data, safe for concurrent reads.
type Latency struct {
	N    int            `json:"n"`
	Mean float64        `json:"mean"`
	Std  float64        `json:"std"`
	P50  stats.Interval `json:"p50"`
	P90  stats.Interval `json:"p90"`
	P95  stats.Interval `json:"p95"`
	P99  stats.Interval `json:"p99"`
	P999 stats.Interval `json:"p99_9"`
}

// TurnStat is the server's prompt evaluation on one turn of the sessions.
//
// It is plain data, safe for concurrent reads.
type TurnStat struct {
	Turn            int      `json:"turn"`
	N               int      `json:"n"`
	PromptEvalMS    *float64 `json:"prompt_eval_ms_mean"`
	PromptEvalCount *float64 `json:"prompt_eval_count_mean"`
	TTFTMS          *float64 `json:"ttft_ms_mean"`
}

// Summary is what summary.json holds about a set of requests. Rates are per
// second; a value that could not be computed is null, never 0 or NaN.
//
// It is plain data, safe for concurrent reads.
type Summary struct {
	// Requests = Completed + Failed + Interrupted: a request that Ctrl-C
	// (the run's context) ended is interrupted, not failed.
	Requests    int `json:"requests"`
	Completed   int `json:"completed"`
	Failed      int `json:"failed"`
	Interrupted int `json:"interrupted"`
	// Simulated is true when tr117's Ollama simulator answered any of the
	// requests: the numbers then describe the simulator, not a server.
	Simulated bool `json:"simulated"`
	// RequestedRate is the rate asked for (null for a closed loop).
	RequestedRate *float64 `json:"requested_rate"`
	// ScheduleRate is the drawn schedule's own rate: (requests − 1) over
	// the span of their scheduled times (below RequestedRate during a
	// ramp-up, and off it by chance for Poisson and gamma arrivals).
	// DispatchRate is the same over the times the client started the
	// requests: when it falls short of ScheduleRate, the client fell
	// behind. AchievedRate is the same over the times the requests were
	// sent, after any wait for a concurrency slot: the rate the server was
	// offered.
	ScheduleRate *float64 `json:"schedule_rate"`
	DispatchRate *float64 `json:"dispatch_rate"`
	AchievedRate *float64 `json:"achieved_rate"`
	// DurationS runs from the first send to the last end.
	DurationS float64 `json:"duration_s"`
	// RequestThroughput is completed requests per second of DurationS;
	// OutputTokensPerSecond the client-counted tokens of all requests per
	// second, and ServerOutputTokensPerSecond the server's eval_count.
	RequestThroughput           float64 `json:"request_throughput"`
	OutputTokensPerSecond       float64 `json:"output_tokens_per_second"`
	ServerOutputTokensPerSecond float64 `json:"server_output_tokens_per_second"`
	TotalOutputTokens           int     `json:"total_output_tokens"`
	TotalInputTokens            int     `json:"total_input_tokens"`
	// InputTokensApproximated says that TotalInputTokens and the records'
	// input_tokens are the workload's approximations (see
	// Synthetic.Approximate), not a tokenizer's counts.
	InputTokensApproximated bool `json:"input_tokens_approximated"`
	// ScheduleDelayMS is the client's lateness, QueueMS the wait for a
	// concurrency slot, MaxInFlight the most requests in flight at once.
	ScheduleDelayMS Delay `json:"schedule_delay_ms"`
	QueueMS         Delay `json:"queue_ms"`
	MaxInFlight     int   `json:"max_in_flight"`
	// Latencies of the successful requests (ITL over all their tokens).
	TTFTMS *Latency `json:"ttft_ms"`
	TTFCMS *Latency `json:"ttfc_ms"`
	ITLMS  *Latency `json:"itl_ms"`
	TPOTMS *Latency `json:"tpot_ms"`
	E2EMS  *Latency `json:"e2e_ms"`
	// Errors counts the failed requests by ErrorKind.
	Errors map[string]int `json:"errors"`
	// Goodput is set when limits were given.
	Goodput *Goodput `json:"goodput,omitempty"`
	// Turns holds prompt evaluation per turn of multi-turn sessions.
	Turns []TurnStat `json:"turns,omitempty"`
	// Warnings are caveats about the measurement itself, such as a client
	// that fell behind its schedule.
	Warnings []string `json:"warnings"`
}

// SummaryConfig configures [Summarize]. The zero value gives a summary
// without a requested rate or goodput, with the default bootstrap.
//
// It is plain data, safe for concurrent use.
type SummaryConfig struct {
	// RequestedRate is the open loop's rate; 0 for a closed loop.
	RequestedRate float64 `json:"requested_rate,omitempty"`
	// SLO, when set, adds Goodput.
	SLO SLO `json:"goodput,omitzero"`
	// Bootstrap configures the percentiles' confidence intervals; its
	// Resamples default to DefaultResamples here.
	Bootstrap stats.BootstrapConfig `json:"bootstrap"`
	// InputTokensApproximated is copied into the summary.
	InputTokensApproximated bool `json:"input_tokens_approximated,omitempty"`
}

// DefaultResamples is the bootstrap resamples of a summary's intervals:
// fewer than the stats package's 10,000, since a run has tens of thousands
// of inter-token latencies.
const DefaultResamples = 1000

// LagWarning is the schedule-delay p99 above which a summary warns that the
// client fell behind.
const LagWarning = 10 * time.Millisecond

// Summarize describes recs. It reads but does not modify them.
func Summarize(recs []Record, cfg SummaryConfig) (Summary, error) {
	if cfg.Bootstrap.Resamples == 0 {
		cfg.Bootstrap.Resamples = DefaultResamples
	}
	s := Summary{Requests: len(recs), Errors: map[string]int{}, Warnings: []string{}, InputTokensApproximated: cfg.InputTokensApproximated}
	if len(recs) == 0 {
		return s, errors.New("load: summary: no requests")
	}
	if cfg.RequestedRate > 0 {
		s.RequestedRate = &cfg.RequestedRate
	}
	s.counts(recs)
	s.rates(recs, cfg.RequestedRate > 0)
	var err error
	lat := func(dst **Latency, xs []float64) {
		if len(xs) == 0 || err != nil {
			return
		}
		*dst, err = latency(xs, cfg.Bootstrap)
	}
	ttft, ttfc, itl, tpot, e2e := collectLatencies(recs)
	lat(&s.TTFTMS, ttft)
	lat(&s.TTFCMS, ttfc)
	lat(&s.ITLMS, itl)
	lat(&s.TPOTMS, tpot)
	lat(&s.E2EMS, e2e)
	if err != nil {
		return s, err
	}
	if !cfg.SLO.IsZero() {
		g := &Goodput{Limits: cfg.SLO}
		for i := range recs {
			if cfg.SLO.Good(&recs[i]) {
				g.Good++
			}
		}
		g.Share = float64(g.Good) / float64(len(recs))
		if s.DurationS > 0 {
			g.Rate = float64(g.Good) / s.DurationS
		}
		s.Goodput = g
	}
	s.Turns = turnStats(recs)
	s.warn()
	return s, nil
}

func (s *Summary) counts(recs []Record) {
	var evals int
	for i := range recs {
		r := &recs[i]
		s.Simulated = s.Simulated || r.Simulated
		switch {
		case r.OK():
			s.Completed++
		case r.ErrorKind == KindInterrupted:
			s.Interrupted++
			s.Errors[r.ErrorKind]++
		default:
			s.Failed++
			s.Errors[r.ErrorKind]++
		}
		s.TotalOutputTokens += r.TokensGenerated
		s.TotalInputTokens += r.InputTokens
		if r.EvalCount != nil {
			evals += *r.EvalCount
		}
	}
	first, last := math.Inf(1), math.Inf(-1)
	for i := range recs {
		first, last = min(first, recs[i].SentMS), max(last, recs[i].EndMS)
	}
	s.DurationS = (last - first) / 1000
	if s.DurationS > 0 {
		s.RequestThroughput = float64(s.Completed) / s.DurationS
		s.OutputTokensPerSecond = float64(s.TotalOutputTokens) / s.DurationS
		s.ServerOutputTokensPerSecond = float64(evals) / s.DurationS
	}
}

// rates sets the schedule and achieved rates (open loop), the delays and
// the most requests in flight.
func (s *Summary) rates(recs []Record, open bool) {
	sched := make([]float64, 0, len(recs))
	disp := make([]float64, 0, len(recs))
	sent := make([]float64, 0, len(recs))
	delay := make([]float64, 0, len(recs))
	queue := make([]float64, 0, len(recs))
	for i := range recs {
		if recs[i].Turn > 0 {
			continue // later turns follow their session, not the schedule
		}
		sched = append(sched, recs[i].ScheduledMS)
		disp = append(disp, recs[i].ScheduledMS+recs[i].ScheduleDelayMS)
		sent = append(sent, recs[i].SentMS)
		delay = append(delay, recs[i].ScheduleDelayMS)
		queue = append(queue, recs[i].QueueMS)
	}
	if open {
		s.ScheduleRate, s.DispatchRate, s.AchievedRate = spanRate(sched), spanRate(disp), spanRate(sent)
	}
	s.ScheduleDelayMS, s.QueueMS = delayOf(delay), delayOf(queue)
	s.MaxInFlight = maxInFlight(recs)
}

func spanRate(ts []float64) *float64 {
	if len(ts) < 2 {
		return nil
	}
	lo, hi := slices.Min(ts), slices.Max(ts)
	if hi <= lo {
		return nil
	}
	v := float64(len(ts)-1) / ((hi - lo) / 1000)
	return &v
}

func delayOf(xs []float64) Delay {
	if len(xs) == 0 {
		return Delay{}
	}
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	return Delay{P50: stats.PercentileSorted(sorted, 50), P99: stats.PercentileSorted(sorted, 99), Max: sorted[len(sorted)-1]}
}

// maxInFlight sweeps the requests' [sent, end) intervals.
func maxInFlight(recs []Record) int {
	type ev struct {
		t float64
		d int
	}
	evs := make([]ev, 0, 2*len(recs))
	for i := range recs {
		evs = append(evs, ev{recs[i].SentMS, 1}, ev{recs[i].EndMS, -1})
	}
	slices.SortFunc(evs, func(a, b ev) int {
		if a.t != b.t {
			if a.t < b.t {
				return -1
			}
			return 1
		}
		return a.d - b.d // ends before starts at one instant
	})
	n, most := 0, 0
	for _, e := range evs {
		n += e.d
		most = max(most, n)
	}
	return most
}

func collectLatencies(recs []Record) (ttft, ttfc, itl, tpot, e2e []float64) {
	for i := range recs {
		r := &recs[i]
		if !r.OK() {
			continue
		}
		if r.TTFTMS != nil {
			ttft = append(ttft, *r.TTFTMS)
		}
		if r.TTFCMS != nil {
			ttfc = append(ttfc, *r.TTFCMS)
		}
		if r.TPOTMS != nil {
			tpot = append(tpot, *r.TPOTMS)
		}
		itl = append(itl, r.ITLMS...)
		e2e = append(e2e, r.E2EMS)
	}
	return
}

// latency summarises xs with percentile-bootstrap intervals. One bootstrap
// pass serves all five percentiles: each resample is summarised once and
// every percentile's interval is the central Level share of its values.
func latency(xs []float64, bc stats.BootstrapConfig) (*Latency, error) {
	sum, err := stats.Summarize(xs)
	if err != nil {
		return nil, fmt.Errorf("load: summary: %w", err)
	}
	reps := make([][5]float64, 0, bc.Resamples)
	_, err = stats.Bootstrap(xs, func(b []float64) float64 {
		rs, err := stats.Summarize(b)
		if err != nil {
			return math.NaN() // Bootstrap reports it
		}
		reps = append(reps, [5]float64{rs.P50, rs.P90, rs.P95, rs.P99, rs.P999})
		return rs.P50
	}, bc)
	if err != nil {
		return nil, fmt.Errorf("load: summary: %w", err)
	}
	reps = reps[1:] // the first call was on the sample itself
	level := bc.Level
	if level == 0 {
		level = 0.95
	}
	l := &Latency{N: sum.N, Mean: sum.Mean, Std: sum.StdDev}
	est := [5]float64{sum.P50, sum.P90, sum.P95, sum.P99, sum.P999}
	dst := [5]*stats.Interval{&l.P50, &l.P90, &l.P95, &l.P99, &l.P999}
	col := make([]float64, len(reps))
	for k := range dst {
		for i := range reps {
			col[i] = reps[i][k]
		}
		lo, _ := stats.Percentile(col, 100*(1-level)/2)
		hi, _ := stats.Percentile(col, 100*(1+level)/2)
		*dst[k] = stats.Interval{Estimate: est[k], Lo: lo, Hi: hi, Level: level}
	}
	return l, nil
}

func turnStats(recs []Record) []TurnStat {
	turns := 0
	for i := range recs {
		turns = max(turns, recs[i].Turn+1)
	}
	if turns < 2 {
		return nil
	}
	out := make([]TurnStat, turns)
	for t := range out {
		var pe, pc, tt []float64
		for i := range recs {
			r := &recs[i]
			if r.Turn != t || !r.OK() {
				continue
			}
			if r.PromptEvalMS != nil {
				pe = append(pe, *r.PromptEvalMS)
			}
			if r.PromptEvalCount != nil {
				pc = append(pc, float64(*r.PromptEvalCount))
			}
			if r.TTFTMS != nil {
				tt = append(tt, *r.TTFTMS)
			}
		}
		out[t] = TurnStat{Turn: t, N: len(tt), PromptEvalMS: meanOf(pe), PromptEvalCount: meanOf(pc), TTFTMS: meanOf(tt)}
	}
	return out
}

func meanOf(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	v := s / float64(len(xs))
	return &v
}

func (s *Summary) warn() {
	if s.ScheduleDelayMS.P99 > ms(LagWarning) && !s.negligibleDelay() {
		s.Warnings = append(s.Warnings, fmt.Sprintf("the client fell behind its schedule: schedule delay p99 %.2f ms, max %.2f ms (above %v); the latencies are not the server's alone", s.ScheduleDelayMS.P99, s.ScheduleDelayMS.Max, LagWarning))
	}
	if s.ScheduleRate != nil && s.DispatchRate != nil && *s.DispatchRate < 0.99**s.ScheduleRate && s.dispatchLag() > ms(LagWarning) {
		s.Warnings = append(s.Warnings, fmt.Sprintf("the client started requests at %.4g req/s, short of its schedule's %.4g req/s", *s.DispatchRate, *s.ScheduleRate))
	}
}

// dispatchLag is how many ms longer the client took to start the
// requests than its schedule spanned: (n − 1) gaps at the dispatch rate
// against the same gaps at the schedule's. With 3 requests a 4 % shortfall
// is 6 ms, no sign of a client falling behind.
func (s *Summary) dispatchLag() float64 {
	gaps := float64(s.Requests - 1)
	if gaps <= 0 || *s.DispatchRate <= 0 || *s.ScheduleRate <= 0 {
		return 0
	}
	return 1000 * gaps * (1 / *s.DispatchRate - 1 / *s.ScheduleRate)
}

// negligibleDelay reports whether the client's schedule delay p99 is below
// 1 % of the median end-to-end latency: 12 ms late against 13 s requests
// changes no latency the report shows.
func (s *Summary) negligibleDelay() bool {
	return s.E2EMS != nil && s.ScheduleDelayMS.P99 < 0.01*s.E2EMS.P50.Estimate
}
