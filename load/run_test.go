package load

import (
	"context"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"tr117/profiler"
	"tr117/profiler/ollamatest"
	"tr117/sink"
	"tr117/stats"
)

func TestMain(m *testing.M) {
	switch os.Getenv(envBenchServer) {
	case "stall":
		serveBench(true)
	case "fast":
		serveBench(false)
	}
	goleak.VerifyTestMain(m)
}

var bootstrap1 = stats.BootstrapConfig{Resamples: 1}

// simulator starts a simulated Ollama for the test and returns a request
// template for it and a streamer.
func simulator(t testing.TB, cfg ollamatest.Config) (*ollamatest.Server, profiler.Request, profiler.Streamer) {
	t.Helper()
	srv := ollamatest.NewServer(cfg)
	c := benchClient(64)
	t.Cleanup(func() {
		c.CloseIdleConnections()
		srv.Close()
	})
	return srv, profiler.Request{URL: srv.URL, Model: "tiny"}, c
}

func fastSim() ollamatest.Config {
	return ollamatest.Config{TTFT: time.Millisecond, TokensPerSecond: 2000}
}

func fiveTokens(n int) []Item {
	items, err := Synthetic{Input: Lengths{Mean: 8}, Output: Lengths{Mean: 5}, Count: n}.Items()
	if err != nil {
		panic(err) // no tokenizer, no error
	}
	return items
}

func TestRunOpenLoop(t *testing.T) {
	_, req, s := simulator(t, fastSim())
	cfg := Config{Request: req, Schedule: Schedule{Arrival: Poisson, Rate: 200, Requests: 40, Seed: 1}}
	var mem sink.Memory[Record]
	o, err := Run(context.Background(), s, fiveTokens(7), cfg, &mem)
	if err != nil {
		t.Fatal(err)
	}
	if o.Due != 40 || len(o.Records) != 40 || mem.Len() != 40 {
		t.Fatalf("due %d, %d records, %d written; want 40", o.Due, len(o.Records), mem.Len())
	}
	offs, _ := cfg.Schedule.Offsets()
	ids := make([]int, 0, 40)
	for _, r := range o.Records {
		if !r.OK() {
			t.Fatalf("request %d: %s", r.ID, r.Error)
		}
		ids = append(ids, r.ID)
		if r.ScheduledMS != ms(offs[r.ID]) {
			t.Errorf("request %d scheduled at %v ms, want %v", r.ID, r.ScheduledMS, ms(offs[r.ID]))
		}
		if r.ScheduleDelayMS < 0 || r.QueueMS != 0 {
			t.Errorf("request %d: delay %v, queue %v", r.ID, r.ScheduleDelayMS, r.QueueMS)
		}
		if d := r.SentMS - (r.ScheduledMS + r.ScheduleDelayMS + r.QueueMS); d < 0 || d > 5 {
			t.Errorf("request %d: sent %v is not scheduled+delay+queue (off by %v ms)", r.ID, r.SentMS, d)
		}
		if r.TokensGenerated != 5 || r.EvalCount == nil || *r.EvalCount != 5 || r.MaxTokens != 5 {
			t.Errorf("request %d: %d tokens, eval_count %v, max %d; want 5", r.ID, r.TokensGenerated, r.EvalCount, r.MaxTokens)
		}
		if r.TTFTMS == nil || r.TTFCMS == nil || r.TPOTMS == nil || r.ITL == nil || r.ITL.N != 4 || len(r.ITLMS) != 4 {
			t.Fatalf("request %d: missing timings %+v", r.ID, r)
		}
		if *r.TTFCMS != *r.TTFTMS { // a model that does not think: its first token is content
			t.Errorf("request %d: TTFC %v, TTFT %v", r.ID, *r.TTFCMS, *r.TTFTMS)
		}
		if math.Abs(r.EndMS-(r.SentMS+r.E2EMS)) > 1e-6 {
			t.Errorf("request %d: end %v != sent %v + e2e %v", r.ID, r.EndMS, r.SentMS, r.E2EMS)
		}
	}
	slices.Sort(ids)
	for i, id := range ids {
		if id != i {
			t.Fatalf("ids %v", ids)
		}
	}
}

func TestRunMaxConcurrencyQueues(t *testing.T) {
	_, req, s := simulator(t, ollamatest.Config{TTFT: 20 * time.Millisecond, TokensPerSecond: 1000})
	cfg := Config{Request: req, MaxConcurrency: 2,
		Schedule: Schedule{Arrival: Constant, Rate: 1000, Requests: 8}}
	o, err := Run(context.Background(), s, fiveTokens(1), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Summarize(o.Records, SummaryConfig{RequestedRate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if sum.MaxInFlight > 2 {
		t.Errorf("%d in flight, cap 2", sum.MaxInFlight)
	}
	// Eight requests due within 7 ms, two slots, each ~25 ms: the last
	// waits for three rounds.
	if sum.QueueMS.Max < 50 {
		t.Errorf("queue wait max %.1f ms, want the wait for a slot recorded", sum.QueueMS.Max)
	}
	// The cap, not the client, held the requests back: they were started
	// on schedule and offered to the server at a lower rate.
	if *sum.AchievedRate >= *sum.DispatchRate {
		t.Errorf("achieved %v req/s, dispatched %v: the slot wait does not show", *sum.AchievedRate, *sum.DispatchRate)
	}
	if sum.ScheduleDelayMS.Max > sum.QueueMS.Max {
		t.Errorf("schedule delay %+v holds the slot wait %+v", sum.ScheduleDelayMS, sum.QueueMS)
	}
}

func TestRunClosedLoop(t *testing.T) {
	_, req, s := simulator(t, fastSim())
	cfg := Config{Request: req, Concurrency: 3, Schedule: Schedule{Requests: 10}}
	o, err := Run(context.Background(), s, fiveTokens(3), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Records) != 10 || o.Due != 10 {
		t.Fatalf("%d records, due %d", len(o.Records), o.Due)
	}
	sum, _ := Summarize(o.Records, SummaryConfig{})
	if sum.MaxInFlight > 3 || sum.Completed != 10 || sum.RequestedRate != nil || sum.AchievedRate != nil {
		t.Errorf("summary %+v", sum)
	}
}

func TestRunSessions(t *testing.T) {
	_, req, s := simulator(t, fastSim())
	cfg := Config{Request: req, Turns: 3, Schedule: Schedule{Arrival: Constant, Rate: 100, Requests: 4}}
	o, err := Run(context.Background(), s, fiveTokens(5), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Records) != 12 {
		t.Fatalf("%d records, want 4 sessions × 3 turns", len(o.Records))
	}
	byKey := map[[2]int]Record{}
	for _, r := range o.Records {
		byKey[[2]int{r.ID, r.Turn}] = r
	}
	for id := range 4 {
		for turn := 1; turn < 3; turn++ {
			prev, cur := byKey[[2]int{id, turn - 1}], byKey[[2]int{id, turn}]
			if cur.PromptEvalCount == nil || prev.PromptEvalCount == nil || *cur.PromptEvalCount <= *prev.PromptEvalCount {
				t.Errorf("session %d turn %d: prompt_eval_count %v after %v; want the conversation to grow", id, turn, cur.PromptEvalCount, prev.PromptEvalCount)
			}
			if cur.ScheduledMS < prev.EndMS {
				t.Errorf("session %d turn %d sent before the previous turn ended", id, turn)
			}
		}
	}
	sum, _ := Summarize(o.Records, SummaryConfig{})
	if len(sum.Turns) != 3 || sum.Turns[2].PromptEvalMS == nil {
		t.Errorf("turns %+v", sum.Turns)
	}
}

// TestRunInterrupted: ctx ends while requests stall mid-stream; the run
// returns context.Canceled with every started request recorded.
func TestRunInterrupted(t *testing.T) {
	_, req, s := simulator(t, ollamatest.Config{TTFT: -1, Unpaced: true,
		Faults: map[string]ollamatest.Fault{"tiny": {Kind: ollamatest.FaultStall, After: 2}}})
	ctx, cancel := context.WithCancel(context.Background())
	var msgs atomic.Int64
	stream := profiler.StreamerFunc(func(ctx context.Context, r *profiler.Request, fn func(*profiler.Message) error) (*profiler.Result, error) {
		return s.Stream(ctx, r, func(m *profiler.Message) error {
			if m.Tokens > 0 && msgs.Add(1) == 6 { // three requests two tokens in
				cancel()
			}
			return fn(m)
		})
	})
	cfg := Config{Request: req, Schedule: Schedule{Arrival: Constant, Rate: 1000, Requests: 3}}
	o, err := Run(ctx, stream, fiveTokens(1), cfg, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if len(o.Records) != 3 {
		t.Fatalf("%d records, want 3", len(o.Records))
	}
	for _, r := range o.Records {
		if r.ErrorKind != "interrupted" || r.TokensGenerated != 2 {
			t.Errorf("request %d: kind %q, %d tokens; want interrupted after 2", r.ID, r.ErrorKind, r.TokensGenerated)
		}
	}
}

// TestRunServerGoesAway: the server stops listening after the third
// request ended; the later requests fail as refused and all are kept.
func TestRunServerGoesAway(t *testing.T) {
	srv, req, s := simulator(t, fastSim())
	var once sync.Once
	var n atomic.Int64
	out := sink.Func[Record](func(Record) error {
		if n.Add(1) == 3 {
			once.Do(func() { srv.Close() })
		}
		return nil
	})
	cfg := Config{Request: req, MaxConcurrency: 1, Schedule: Schedule{Arrival: Constant, Rate: 50, Requests: 8}}
	o, err := Run(context.Background(), s, fiveTokens(1), cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := Summarize(o.Records, SummaryConfig{RequestedRate: 50})
	if sum.Requests != 8 || sum.Completed < 3 || sum.Errors["connection_refused"] == 0 || sum.Completed+sum.Errors["connection_refused"] != 8 {
		t.Errorf("summary: %d requests, %d completed, errors %v", sum.Requests, sum.Completed, sum.Errors)
	}
	for _, r := range o.Records {
		if r.ErrorKind == "connection_refused" && !strings.Contains(r.Error, req.URL) {
			t.Errorf("error %q does not name the endpoint", r.Error)
		}
	}
}

func TestRunStartAt(t *testing.T) {
	_, req, s := simulator(t, fastSim())
	cfg := Config{Request: req, Schedule: Schedule{Arrival: Constant, Rate: 100, Requests: 2}}
	cfg.StartAt = time.Now().Add(-2 * MaxStartLate)
	if _, err := Run(context.Background(), s, fiveTokens(1), cfg, nil); err == nil {
		t.Error("a start time long past was accepted")
	}
	cfg.StartAt = time.Now().Add(50 * time.Millisecond)
	o, err := Run(context.Background(), s, fiveTokens(1), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Start.Equal(cfg.StartAt) || time.Now().Before(cfg.StartAt) {
		t.Errorf("started %v, want %v", o.Start, cfg.StartAt)
	}
}

func TestRunBadConfig(t *testing.T) {
	s := profiler.StreamerFunc(func(context.Context, *profiler.Request, func(*profiler.Message) error) (*profiler.Result, error) {
		t.Fatal("a request was sent")
		return nil, nil
	})
	for _, cfg := range []Config{
		{Schedule: Schedule{Rate: 0, Requests: 3}},
		{Schedule: Schedule{Rate: 1, Requests: 3}, Segment: Segment{3, 2}},
		{Concurrency: 2, Segment: Segment{0, 2}, Schedule: Schedule{Requests: 3}},
		{Concurrency: 2},
		{Concurrency: -1, Schedule: Schedule{Rate: 1, Requests: 3}},
	} {
		if _, err := Run(context.Background(), s, fiveTokens(1), cfg, nil); !errors.Is(err, ErrBadSchedule) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
	if _, err := Run(context.Background(), s, nil, Config{Schedule: Schedule{Rate: 1, Requests: 1}}, nil); err == nil {
		t.Error("no items accepted")
	}
}

// TestNoAllocationPerMessage: a request of 10,000 messages allocates no
// more than one of 100, apart from the one list of its ITLs.
func TestNoAllocationPerMessage(t *testing.T) {
	allocs := func(n int) float64 {
		s := messageStreamer(n)
		cfg := Config{Concurrency: 1, Schedule: Schedule{Requests: 1}}
		items := []Item{{Prompt: "hi"}}
		return testing.AllocsPerRun(5, func() {
			if _, err := Run(context.Background(), s, items, cfg, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocs(100), allocs(10000)
	if large > small+2 {
		t.Errorf("%v allocations for 10,000 messages, %v for 100", large, small)
	}
}

// TestRunRequestTimeout: a stream that stalls past Config.Timeout fails as
// a timeout that names the endpoint; the run goes on.
func TestRunRequestTimeout(t *testing.T) {
	_, req, s := simulator(t, ollamatest.Config{TTFT: -1, Unpaced: true,
		Faults: map[string]ollamatest.Fault{"tiny": {Kind: ollamatest.FaultStall, After: 1}}})
	cfg := Config{Request: req, Timeout: 100 * time.Millisecond, Schedule: Schedule{Arrival: Constant, Rate: 100, Requests: 2}}
	o, err := Run(context.Background(), s, fiveTokens(1), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range o.Records {
		if r.ErrorKind != "timeout" || !strings.Contains(r.Error, req.URL) || r.TokensGenerated != 1 || r.E2EMS < 100 {
			t.Errorf("request %d: %q (%s), %d tokens, %v ms", r.ID, r.ErrorKind, r.Error, r.TokensGenerated, r.E2EMS)
		}
	}
}
