package load

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tr117/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sweepFixture is a two-point sweep of hand-made records: the second point
// falls short of its rate and is slow to first token.
func sweepFixture(t *testing.T) *SweepResult {
	t.Helper()
	point := func(rate float64, n int, ttft, gap float64, failed int) SweepPoint {
		var recs []Record
		for i := range n {
			at := float64(i) * 1000 / rate
			r := Record{ID: i, ScheduledMS: at, ScheduleDelayMS: 0.1, SentMS: at + 0.1, InputTokens: 32, MaxTokens: 4,
				TTFTMS: f(ttft + float64(i%5)), TTFCMS: f(ttft + float64(i%5)), TPOTMS: f(gap), TokensGenerated: 4,
				ITLMS: []float64{gap, gap + 1, gap - 1}}
			r.E2EMS = *r.TTFTMS + 3*gap
			r.EndMS = r.SentMS + r.E2EMS
			if i < failed {
				r = Record{ID: i, ScheduledMS: at, SentMS: at, E2EMS: 1, EndMS: at + 1, Error: "profiler: refused", ErrorKind: "connection_refused"}
			}
			recs = append(recs, r)
		}
		s, err := Summarize(recs, SummaryConfig{RequestedRate: rate, SLO: SLO{TTFT: 100 * time.Millisecond}, Bootstrap: stats.BootstrapConfig{Resamples: 200}, InputTokensApproximated: true})
		if err != nil {
			t.Fatal(err)
		}
		return SweepPoint{Summary: s, Records: recs}
	}
	pts := []SweepPoint{point(2, 20, 50, 10, 0), point(4, 20, 400, 30, 2)}
	c := SweepConfig{Points: []float64{2, 4}, TTFTP99: 300 * time.Millisecond}.withDefaults()
	res := &SweepResult{Config: c, Saturation: -1}
	for i := range pts {
		pts[i].Value = c.Points[i]
		pts[i].Label = c.Label(c.Points[i])
		pts[i].Short, pts[i].Slow = c.judge(&pts[i].Summary)
		if pts[i].Saturated() && res.Saturation < 0 {
			res.Saturation = i
		}
	}
	res.Points = pts
	return res
}

func TestReportGolden(t *testing.T) {
	res := sweepFixture(t)
	dir := t.TempDir()
	plots, err := WritePlots(dir, res)
	if err != nil {
		t.Fatal(err)
	}
	if len(plots) != 5 {
		t.Errorf("plots %v, want 5", plots)
	}
	for _, p := range plots {
		if st, err := os.Stat(filepath.Join(dir, p)); err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v", p, err)
		}
	}
	var b strings.Builder
	if err := WriteReport(&b, "Load sweep", res, plots); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.golden.md")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("report.md differs from %s (go test -run ReportGolden -update rewrites it):\n%s", golden, b.String())
	}
}

// TestWritePlotsZeroLatencies draws the plots of an unpaced simulator's
// run: every ITL 0 and every TTFT 0, so each CDF's values are one point on
// the log axis, where gonum widens an empty range below zero and panics.
func TestWritePlotsZeroLatencies(t *testing.T) {
	var recs []Record
	for i := range 5 {
		recs = append(recs, Record{ID: i, SentMS: float64(i), TTFTMS: f(0), TTFCMS: f(0), TPOTMS: f(0),
			TokensGenerated: 3, ITLMS: []float64{0, 0}, EndMS: float64(i)})
	}
	s, err := Summarize(recs, SummaryConfig{RequestedRate: 1, Bootstrap: stats.BootstrapConfig{Resamples: 50}})
	if err != nil {
		t.Fatal(err)
	}
	res := &SweepResult{Points: []SweepPoint{{Summary: s, Records: recs, Label: "run"}}, Saturation: -1}
	plots, err := WritePlots(t.TempDir(), res)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"plots/ttft_cdf.png", "plots/itl_cdf.png"} {
		if !slices.Contains(plots, want) {
			t.Errorf("plots %v lack %s", plots, want)
		}
	}
}

// TestInterruptedAndSimulated: a request Ctrl-C ended is counted as
// interrupted, not failed, and a simulated server's run says SIMULATED in
// the report.
func TestInterruptedAndSimulated(t *testing.T) {
	recs := []Record{
		{ID: 0, SentMS: 0, EndMS: 10, E2EMS: 10, TTFTMS: f(2), TokensGenerated: 3, Simulated: true},
		{ID: 1, SentMS: 1, EndMS: 5, E2EMS: 4, Error: "refused", ErrorKind: "connection_refused", Simulated: true},
		{ID: 2, SentMS: 2, EndMS: 6, E2EMS: 4, Error: "context canceled", ErrorKind: KindInterrupted, Simulated: true},
	}
	s, err := Summarize(recs, SummaryConfig{Bootstrap: stats.BootstrapConfig{Resamples: 50}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Completed != 1 || s.Failed != 1 || s.Interrupted != 1 || !s.Simulated {
		t.Errorf("completed %d, failed %d, interrupted %d, simulated %v; want 1, 1, 1, true", s.Completed, s.Failed, s.Interrupted, s.Simulated)
	}
	var b strings.Builder
	if err := WriteReport(&b, "Load run", &SweepResult{Points: []SweepPoint{{Summary: s, Records: recs, Label: "run"}}, Saturation: -1}, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**SIMULATED**", "| 1 (+1 interrupted) |", "1 requests interrupted", "1 requests failed (connection_refused)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "failed (interrupted)") {
		t.Errorf("report counts the interrupted request as failed:\n%s", b.String())
	}
}

// A single run that fell short of its rate says so (a sweep's verdict does
// it for sweeps), and p99s from few requests are flagged; both renderers
// carry the notes and the terms.
func TestReportSingleRunNotes(t *testing.T) {
	sw := sweepFixture(t)
	res := &SweepResult{Points: sw.Points[1:], Saturation: -1}
	s := &res.Points[0].Summary
	s.RequestThroughput = 0.5 * *s.RequestedRate
	var md, page strings.Builder
	if err := WriteReport(&md, "Load run", res, nil); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&page, t.TempDir(), "Load run", res, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"the server did not keep up", "p99s come from 18 completed requests", "TTFT**: time to first token", "goodput**"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md.String())
		}
	}
	for _, want := range []string{"the server did not keep up", "p99s come from 18 completed requests", "time to first token", `id="terms"`} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	s.RequestThroughput = *s.RequestedRate
	md.Reset()
	WriteReport(&md, "Load run", res, nil)
	if strings.Contains(md.String(), "did not keep up") {
		t.Errorf("a run that kept up is said not to:\n%s", md.String())
	}
}

// The client's dispatch shortfall warns only when it adds up to real
// lateness: 3 requests 4 % short of a 14.7 req/s schedule are 6 ms late.
func TestDispatchShortfallNeedsRealLateness(t *testing.T) {
	for _, tc := range []struct {
		n                  int
		dispatch, schedule float64
		want               bool
	}{{3, 14.1, 14.7, false}, {1000, 80, 100, true}} {
		s := Summary{Requests: tc.n, ScheduleRate: f(tc.schedule), DispatchRate: f(tc.dispatch)}
		s.warn()
		got := slices.ContainsFunc(s.Warnings, func(w string) bool { return strings.Contains(w, "short of its schedule") })
		if got != tc.want {
			t.Errorf("%d requests at %v of %v req/s: warned %v, want %v (%q)", tc.n, tc.dispatch, tc.schedule, got, tc.want, s.Warnings)
		}
	}
}

// Client lateness that is negligible against the requests' own latency is
// not reported as contaminating them.
func TestLatenessWarningRelativeToLatency(t *testing.T) {
	for _, tc := range []struct {
		e2e  float64
		want bool
	}{{13000, false}, {200, true}} {
		s := Summary{ScheduleDelayMS: Delay{P99: 11.8, Max: 12}, E2EMS: &Latency{P50: stats.Interval{Estimate: tc.e2e}}}
		s.warn()
		got := slices.ContainsFunc(s.Warnings, func(w string) bool { return strings.Contains(w, "fell behind its schedule") })
		if got != tc.want {
			t.Errorf("11.8 ms late against E2E p50 %v ms: warned %v, want %v", tc.e2e, got, tc.want)
		}
	}
}
