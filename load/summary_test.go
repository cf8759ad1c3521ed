package load

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func f(v float64) *float64 { return &v }

func TestParseSLO(t *testing.T) {
	got, err := ParseSLO("ttft:500ms, tpot:50ms,e2e:10s")
	if err != nil {
		t.Fatal(err)
	}
	if want := (SLO{TTFT: 500 * time.Millisecond, TPOT: 50 * time.Millisecond, E2E: 10 * time.Second}); got != want {
		t.Errorf("%+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "ttft", "ttft:fast", "ttft:-1s", "itl:5ms", "ttft:0s"} {
		if _, err := ParseSLO(bad); err == nil {
			t.Errorf("ParseSLO(%q) accepted", bad)
		}
	}
}

// TestGoodputHandComputed: five requests over 2 s (sent at 0, end of the
// last at 2000 ms), limits ttft 100 ms and tpot 10 ms:
//
//	0: ttft 50, tpot 5   good
//	1: ttft 150, tpot 5  too slow to first token
//	2: ttft 80, tpot 12  too slow per token
//	3: ttft 90, no tpot  (one token) — a limit on a missing value is not met
//	4: failed            not good
//
// so 1 good of 5: share 0.2, rate 1/2 s = 0.5 req/s.
func TestGoodputHandComputed(t *testing.T) {
	recs := []Record{
		{ID: 0, SentMS: 0, E2EMS: 500, EndMS: 500, TTFTMS: f(50), TPOTMS: f(5)},
		{ID: 1, SentMS: 100, E2EMS: 600, EndMS: 700, TTFTMS: f(150), TPOTMS: f(5)},
		{ID: 2, SentMS: 200, E2EMS: 1000, EndMS: 1200, TTFTMS: f(80), TPOTMS: f(12)},
		{ID: 3, SentMS: 300, E2EMS: 90, EndMS: 390, TTFTMS: f(90)},
		{ID: 4, SentMS: 400, E2EMS: 1600, EndMS: 2000, Error: "boom", ErrorKind: "other"},
	}
	s, err := Summarize(recs, SummaryConfig{SLO: SLO{TTFT: 100 * time.Millisecond, TPOT: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	g := s.Goodput
	if g == nil || g.Good != 1 || g.Share != 0.2 || math.Abs(g.Rate-0.5) > 1e-12 {
		t.Fatalf("goodput %+v, want 1 good, share 0.2, 0.5 req/s", g)
	}
	if s.DurationS != 2 || s.Completed != 4 || s.Failed != 1 || s.Errors["other"] != 1 {
		t.Errorf("summary %+v", s)
	}
	// Requests 0 and 1 meet e2e ≤ 600 ms; 2 is slower, 3 has no TPOT but no
	// TPOT limit now; 4 failed: 3 good.
	s, _ = Summarize(recs, SummaryConfig{SLO: SLO{E2E: 600 * time.Millisecond}})
	if s.Goodput.Good != 3 {
		t.Errorf("e2e-only goodput %d, want 3", s.Goodput.Good)
	}
}

func TestSummaryRatesAndWarnings(t *testing.T) {
	// Scheduled every 100 ms (10 req/s); the client sent each 30 ms late
	// and the last 200 ms late: achieved (5−1)/0.57 s.
	var recs []Record
	for i := range 5 {
		late := 30.0
		if i == 4 {
			late = 200
		}
		sched := float64(i) * 100
		recs = append(recs, Record{ID: i, ScheduledMS: sched, ScheduleDelayMS: late, SentMS: sched + late, E2EMS: 10, EndMS: sched + late + 10})
	}
	s, err := Summarize(recs, SummaryConfig{RequestedRate: 10})
	if err != nil {
		t.Fatal(err)
	}
	if *s.ScheduleRate != 10 || math.Abs(*s.AchievedRate-4/0.57) > 1e-9 {
		t.Errorf("schedule rate %v, achieved %v", *s.ScheduleRate, *s.AchievedRate)
	}
	if s.ScheduleDelayMS.P50 != 30 || s.ScheduleDelayMS.Max != 200 {
		t.Errorf("delay %+v", s.ScheduleDelayMS)
	}
	if len(s.Warnings) != 2 {
		t.Errorf("warnings %q, want lateness and rate", s.Warnings)
	}
	if s.MaxInFlight != 1 {
		t.Errorf("max in flight %d", s.MaxInFlight)
	}
}

func TestSummaryPercentilesHaveIntervals(t *testing.T) {
	var recs []Record
	for i := range 200 {
		v := float64(i + 1)
		recs = append(recs, Record{ID: i, SentMS: v, E2EMS: v, EndMS: 2 * v, TTFTMS: f(v)})
	}
	s, err := Summarize(recs, SummaryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	l := s.TTFTMS
	// numpy.percentile(range(1, 201), [50, 99]) = 100.5, 198.01
	if l.P50.Estimate != 100.5 || math.Abs(l.P99.Estimate-198.01) > 1e-9 {
		t.Errorf("p50 %v p99 %v", l.P50.Estimate, l.P99.Estimate)
	}
	for _, iv := range []struct {
		name        string
		lo, est, hi float64
	}{{"p50", l.P50.Lo, l.P50.Estimate, l.P50.Hi}, {"p99.9", l.P999.Lo, l.P999.Estimate, l.P999.Hi}} {
		if !(iv.lo <= iv.est && iv.est <= iv.hi && iv.lo < iv.hi) {
			t.Errorf("%s interval [%v %v %v]", iv.name, iv.lo, iv.est, iv.hi)
		}
	}
	if s.ITLMS != nil || s.TPOTMS != nil {
		t.Error("metrics with no values are not null")
	}
}

// TestVLLMResultOneInstant: a run whose requests all ended at once (no
// duration) still gives JSON: no Inf or NaN.
func TestVLLMResultOneInstant(t *testing.T) {
	recs := []Record{{ID: 0, InputTokens: 5, Error: "refused", ErrorKind: "connection_refused"}}
	s, err := Summarize(recs, SummaryConfig{RequestedRate: 3})
	if err != nil {
		t.Fatal(err)
	}
	v := VLLMResult(VLLMMeta{Model: "m", RequestRate: 3}, recs, s)
	if _, err := json.Marshal(v); err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(s); err != nil {
		t.Fatal(err)
	}
	if v["request_rate"] != 3.0 || v["failed"] != 1 || v["errors"].([]string)[0] != "refused" {
		t.Errorf("%v", v)
	}
}
