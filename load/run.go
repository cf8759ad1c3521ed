package load

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"tr117/internal/layout"
	"tr117/profiler"
	"tr117/sink"
)

// Config is one load run. It can be written into a manifest as JSON.
//
// It is plain data: safe to read from several goroutines, not to modify
// while others read it.
type Config struct {
	// Request is the template of every request: URL, API, Model and
	// Options. Prompt and System come from the workload; an item's
	// MaxTokens is sent as options.num_predict.
	Request profiler.Request `json:"request"`
	// Schedule is the open-loop schedule. With Concurrency set only its
	// Requests and Duration are used, as the closed loop's end.
	Schedule Schedule `json:"schedule"`
	// Concurrency, when positive, runs a closed loop instead: that many
	// workers, each sending its next request when the last one ends.
	Concurrency int `json:"concurrency,omitempty"`
	// MaxConcurrency, when positive, caps the requests in flight of an
	// open loop: a due request waits for a slot (its queue time).
	MaxConcurrency int `json:"max_concurrency,omitempty"`
	// Segment selects this worker's share of the schedule (open loop only).
	Segment Segment `json:"segment"`
	// StartAt, when set, is the wall-clock time the schedule starts at, so
	// that workers on several machines start together; Run waits for it.
	StartAt time.Time `json:"start_at,omitzero"`
	// Timeout, when positive, bounds each request from its send to its
	// final message; a request past it fails with profiler.ErrTimeout.
	Timeout time.Duration `json:"timeout_ms,omitempty"`
	// Turns, when above 1, makes every scheduled request a session of that
	// many turns, each sent when the previous one ends, its prompt the
	// conversation so far (the previous prompt and response) followed by
	// the next workload item.
	Turns int `json:"turns,omitempty"`
}

// MaxStartLate is how long after Config.StartAt a run may still begin.
const MaxStartLate = time.Second

// Outcome is what a run measured.
//
// It is plain data: safe to read from several goroutines once Run has
// returned.
type Outcome struct {
	// Start is when the schedule started (StartAt when set).
	Start time.Time `json:"start"`
	// Due is how many requests (sessions) of the schedule this worker
	// owned; Records may hold fewer after an interruption.
	Due int `json:"due"`
	// Records are the measured requests, in the order they ended.
	Records []Record `json:"-"`
}

// runner is the state of one Run.
type runner struct {
	cfg   Config
	s     profiler.Streamer
	items []Item
	start time.Time
	sem   chan struct{}
	seg   string

	mu      sync.Mutex
	records []Record
	out     sink.Sink[Record]
	outErr  error
}

// Run sends cfg's requests through s, items cycled by request id, and
// returns what was measured; each record is also written to out (nil: none)
// as its request ends. It returns ctx.Err() as is when ctx ends the run,
// with the requests measured so far (those in flight recorded as
// interrupted), a configuration error before sending anything, or the
// first error of out. A failed request is not an error of Run: its record
// says why. Every goroutine Run starts has ended when it returns.
//
// An open loop's dispatcher starts each request on its own goroutine at
// its due time; it sleeps on Go's timers, and on Linux the last 2 ms before
// a due time on a timerfd (one descriptor per Run), which wakes on time
// where a timer would wake an idle process up to a millisecond late.
func Run(ctx context.Context, s profiler.Streamer, items []Item, cfg Config, out sink.Sink[Record]) (*Outcome, error) {
	offsets, err := cfg.plan(items)
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, s: s, items: items, out: out, seg: cfg.Segment.String()}
	if cfg.MaxConcurrency > 0 && cfg.Concurrency == 0 {
		r.sem = make(chan struct{}, cfg.MaxConcurrency)
	}
	if r.start, err = waitStart(ctx, cfg.StartAt); err != nil {
		return &Outcome{}, err
	}
	o := &Outcome{Start: r.start}
	if cfg.Concurrency > 0 {
		o.Due = r.closed(ctx)
	} else {
		for k := range offsets {
			if cfg.Segment.Owns(k) {
				o.Due++
			}
		}
		r.open(ctx, offsets)
	}
	o.Records = r.records
	if ctx.Err() != nil {
		return o, ctx.Err()
	}
	return o, r.outErr
}

// plan checks cfg and draws the open loop's offsets.
func (cfg Config) plan(items []Item) ([]time.Duration, error) {
	if len(items) == 0 {
		return nil, errors.New("load: no workload items")
	}
	if err := cfg.Segment.check(); err != nil {
		return nil, err
	}
	if cfg.Concurrency < 0 || cfg.MaxConcurrency < 0 || cfg.Turns < 0 {
		return nil, fmt.Errorf("load: concurrency %d, max concurrency %d, turns %d: must not be negative: %w", cfg.Concurrency, cfg.MaxConcurrency, cfg.Turns, ErrBadSchedule)
	}
	if cfg.Concurrency > 0 {
		if cfg.Segment.Count > 1 {
			return nil, fmt.Errorf("load: segment %s: segments share an open-loop schedule, not a closed loop: %w", cfg.Segment, ErrBadSchedule)
		}
		s := cfg.Schedule
		if s.Requests < 0 || s.Duration < 0 || (s.Requests == 0 && s.Duration == 0) {
			return nil, fmt.Errorf("load: a closed loop needs a request count or a duration: %w", ErrBadSchedule)
		}
		return nil, nil
	}
	return cfg.Schedule.Offsets()
}

// waitStart waits until at (when set) and returns the schedule's start,
// carrying the monotonic clock reading of now.
func waitStart(ctx context.Context, at time.Time) (time.Time, error) {
	now := time.Now()
	if at.IsZero() {
		return now, nil
	}
	if late := now.Sub(at); late > MaxStartLate {
		return now, fmt.Errorf("load: start time %s passed %v ago", at.Format(time.RFC3339Nano), late.Round(time.Millisecond))
	}
	base := now.Add(at.Sub(now)) // at, on the monotonic clock
	sl := newSleeper()
	defer sl.close()
	if err := sl.until(ctx, base); err != nil {
		return base, err
	}
	return base, nil
}

// fineSleep is the part of a wait below which the dispatcher stops using
// Go's timers: an otherwise idle process wakes from a timer up to a
// millisecond late (the netpoller sleeps in whole milliseconds), so the
// last stretch is slept on a fineTimer.
const fineSleep = 2 * time.Millisecond

// sleeper waits for the dispatcher.
type sleeper struct {
	tm   *time.Timer
	fine *fineTimer
}

// until waits until t on the monotonic clock, or until ctx ends. Long
// waits sleep on a Go timer until fineSleep before t; the rest on the
// fine timer (not interrupted by ctx: it is short).
func (s *sleeper) until(ctx context.Context, t time.Time) error {
	for {
		d := time.Until(t)
		if d <= 0 {
			return ctx.Err()
		}
		if d <= fineSleep && s.fine != nil {
			s.fine.sleep(d)
			continue
		}
		if s.tm == nil {
			s.tm = time.NewTimer(max(d-fineSleep, 0))
		} else {
			s.tm.Reset(max(d-fineSleep, 0))
		}
		select {
		case <-s.tm.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *sleeper) close() {
	if s.tm != nil {
		s.tm.Stop()
	}
	if s.fine != nil {
		s.fine.close()
	}
}

// newSleeper returns a sleeper, with a fine timer where one can be made.
func newSleeper() *sleeper {
	fine, err := newFineTimer()
	if err != nil {
		return &sleeper{} // Go's timers alone: up to a millisecond late
	}
	return &sleeper{fine: fine}
}

// open dispatches the owned offsets, each request on its own goroutine.
func (r *runner) open(ctx context.Context, offsets []time.Duration) {
	var wg sync.WaitGroup
	defer wg.Wait()
	sl := newSleeper()
	defer sl.close()
	for k, off := range offsets {
		if !r.cfg.Segment.Owns(k) {
			continue
		}
		if sl.until(ctx, r.start.Add(off)) != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.session(ctx, k, off, time.Since(r.start))
		}()
	}
}

// closed runs the closed loop and returns how many sessions it started.
func (r *runner) closed(ctx context.Context) int {
	var next atomic.Int64
	limit, dur := int64(r.cfg.Schedule.Requests), r.cfg.Schedule.Duration
	var wg sync.WaitGroup
	for range r.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				now := time.Since(r.start)
				if dur > 0 && now >= dur {
					return
				}
				k := next.Add(1) - 1
				if limit > 0 && k >= limit {
					return
				}
				r.session(ctx, int(k), now, now)
			}
		}()
	}
	wg.Wait()
	n := int(next.Load())
	if limit > 0 {
		n = min(n, int(limit))
	}
	return n
}

// session sends request k's turns, due at off and dispatched at dispatch.
func (r *runner) session(ctx context.Context, k int, off, dispatch time.Duration) {
	turns := max(r.cfg.Turns, 1)
	var conv string
	for t := range turns {
		it := r.items[(k*turns+t)%len(r.items)]
		prompt := it.Prompt
		if t > 0 {
			prompt = conv + "\n" + it.Prompt
			off = time.Since(r.start)
			dispatch = off
		}
		rec := Record{ID: k, Turn: t, Segment: r.seg, InputTokens: it.InputTokens, MaxTokens: it.MaxTokens,
			ScheduledMS: ms(off), ScheduleDelayMS: ms(dispatch - off)}
		resp, ok := r.one(ctx, &rec, it, prompt)
		r.collect(rec)
		if !ok || ctx.Err() != nil {
			return
		}
		conv = prompt + "\n" + resp
	}
}

// one sends one request and fills rec. It reports whether it succeeded,
// with the response text.
func (r *runner) one(ctx context.Context, rec *Record, it Item, prompt string) (string, bool) {
	if r.sem != nil {
		q0 := time.Now()
		select {
		case r.sem <- struct{}{}:
		case <-ctx.Done():
			rec.QueueMS = ms(time.Since(q0))
			rec.SentMS = rec.ScheduledMS + rec.ScheduleDelayMS + rec.QueueMS
			rec.EndMS = rec.SentMS
			rec.Error, rec.ErrorKind = "load: interrupted while waiting for a concurrency slot: "+ctx.Err().Error(), KindInterrupted
			return "", false
		}
		defer func() { <-r.sem }()
		rec.QueueMS = ms(time.Since(q0))
	}
	req := r.cfg.Request
	req.Agent = "request " + strconv.Itoa(rec.ID)
	req.Prompt, req.System = prompt, it.System
	if it.MaxTokens > 0 {
		req.Options = maps.Clone(req.Options)
		if req.Options == nil {
			req.Options = make(map[string]any, 1)
		}
		req.Options["num_predict"] = it.MaxTokens
	}
	var ttfc time.Duration
	var hasTTFC bool
	rctx, cancel := r.requestContext(ctx)
	defer cancel()
	sent := time.Now()
	rec.SentMS = ms(sent.Sub(r.start))
	res, err := r.s.Stream(rctx, &req, func(m *profiler.Message) error {
		if !hasTTFC && len(m.Content) > 0 {
			hasTTFC, ttfc = true, m.Arrival
		}
		return nil
	})
	if res == nil {
		res = &profiler.Result{Total: time.Since(sent)}
	}
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(rctx), profiler.ErrTimeout) {
		err = fmt.Errorf("load: %s: %s: %w after %v", req.Agent, req.URL, profiler.ErrTimeout, r.cfg.Timeout)
	}
	rec.fill(res, ttfc, hasTTFC, err)
	return res.Response, err == nil
}

// requestContext applies the request timeout.
func (r *runner) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.cfg.Timeout > 0 {
		return context.WithTimeoutCause(ctx, r.cfg.Timeout, profiler.ErrTimeout)
	}
	return ctx, func() {}
}

func (r *runner) collect(rec Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
	if r.out != nil && r.outErr == nil {
		r.outErr = r.out.Write(rec)
	}
}

// DefaultReadBufferSize is the read buffer a load client should use, as
// the transport's buffer and the profiler client's read size: an Ollama or
// OpenAI stream message is a few hundred bytes, and every stream in flight
// holds two read buffers.
const DefaultReadBufferSize = 4 << 10

// HTTPClient returns an HTTP client for conns streams in flight to one
// server: it keeps up to conns connections alive between requests (the
// profiler client's own keeps 8, so a run with more in flight would open a
// new connection for most requests) and reads through readBuf-byte
// buffers (0: Go's 4 KiB).
func HTTPClient(conns, readBuf int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: max(conns, 8),
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ReadBufferSize:      readBuf,
	}}
}

// MarshalJSON writes Config's durations as float milliseconds ("_ms").
func (c Config) MarshalJSON() ([]byte, error) { return layout.MarshalMillis(c) }

// UnmarshalJSON reads what MarshalJSON writes, and the "_ns" spellings of
// older files.
func (c *Config) UnmarshalJSON(b []byte) error { return layout.UnmarshalMillis(b, c) }
