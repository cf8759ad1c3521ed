package load

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func gaps(t *testing.T, offs []time.Duration) []float64 {
	t.Helper()
	g := make([]float64, len(offs)-1)
	for i := range g {
		g[i] = (offs[i+1] - offs[i]).Seconds()
	}
	return g
}

func meanCV(xs []float64) (mean, cv float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss/float64(len(xs)-1)) / mean
}

func TestScheduleStatistics(t *testing.T) {
	const n, rate = 20000, 50.0
	for _, tc := range []struct {
		name   string
		s      Schedule
		wantCV float64
		tolCV  float64
	}{
		{"constant", Schedule{Arrival: Constant}, 0, 1e-4},
		{"poisson", Schedule{Arrival: Poisson}, 1, 0.03},
		{"gamma B=1 is poisson", Schedule{Arrival: Gamma, Burstiness: 1}, 1, 0.03},
		{"gamma B=4", Schedule{Arrival: Gamma, Burstiness: 4}, 0.5, 0.02},
		{"gamma B=0.25", Schedule{Arrival: Gamma, Burstiness: 0.25}, 2, 0.08},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			s.Rate, s.Requests, s.Seed = rate, n, 7
			offs, err := s.Offsets()
			if err != nil {
				t.Fatal(err)
			}
			if len(offs) != n || offs[0] != 0 || !slices.IsSorted(offs) {
				t.Fatalf("%d offsets, first %v, sorted %v", len(offs), offs[0], slices.IsSorted(offs))
			}
			mean, cv := meanCV(gaps(t, offs))
			if got := 1 / mean; math.Abs(got-rate)/rate > 0.03 {
				t.Errorf("mean rate %.3f, want %v ±3%%", got, rate)
			}
			if math.Abs(cv-tc.wantCV) > tc.tolCV {
				t.Errorf("inter-arrival CV %.4f, want %v ±%v", cv, tc.wantCV, tc.tolCV)
			}
		})
	}
}

func TestScheduleSeeded(t *testing.T) {
	s := Schedule{Arrival: Poisson, Rate: 10, Requests: 100, Seed: 3}
	a, _ := s.Offsets()
	b, _ := s.Offsets()
	if !slices.Equal(a, b) {
		t.Error("one seed drew two schedules")
	}
	s.Seed = 4
	c, _ := s.Offsets()
	if slices.Equal(a, c) {
		t.Error("two seeds drew one schedule")
	}
}

func TestScheduleDurationAndRamp(t *testing.T) {
	s := Schedule{Arrival: Constant, Rate: 100, Duration: 2 * time.Second, RampUp: time.Second}
	offs, err := s.Offsets()
	if err != nil {
		t.Fatal(err)
	}
	// Expected count: 100·1/2 during the ramp, then 100 in the last second.
	if len(offs) != 150 {
		t.Errorf("%d requests, want 150", len(offs))
	}
	if last := offs[len(offs)-1]; last >= 2*time.Second {
		t.Errorf("last offset %v, at or past the duration", last)
	}
	// During the ramp the gaps shrink; after it they are 10 ms.
	g := gaps(t, offs)
	if !(g[1] > g[40]) {
		t.Errorf("ramp gaps %v then %v do not shrink", g[1], g[40])
	}
	if d := g[len(g)-1]; math.Abs(d-0.01) > 1e-6 {
		t.Errorf("gap after the ramp %v, want 10ms", d)
	}
}

func TestScheduleBadInput(t *testing.T) {
	for _, s := range []Schedule{
		{Rate: 0, Requests: 1},
		{Rate: -1, Requests: 1},
		{Rate: math.Inf(1), Requests: 1},
		{Rate: 1},
		{Rate: 1, Requests: -1},
		{Rate: 1, Requests: 1, Arrival: "uniform"},
		{Rate: 1, Requests: 1, Burstiness: -1},
	} {
		if _, err := s.Offsets(); !errors.Is(err, ErrBadSchedule) {
			t.Errorf("%+v: %v, want ErrBadSchedule", s, err)
		}
	}
}

func TestParseSegment(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Segment
		ok   bool
	}{
		{"", Segment{}, true},
		{"0/1", Segment{0, 1}, true},
		{"2/4", Segment{2, 4}, true},
		{"3/2", Segment{}, false},
		{"2/2", Segment{}, false},
		{"-1/2", Segment{}, false},
		{"0/0", Segment{}, false},
		{"1", Segment{}, false},
		{"a/b", Segment{}, false},
	} {
		got, err := ParseSegment(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseSegment(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestSegmentsPartition(t *testing.T) {
	const n = 4
	seen := make([]int, 103)
	for i := range n {
		g := Segment{i, n}
		for k := range seen {
			if g.Owns(k) {
				seen[k]++
			}
		}
	}
	for k, c := range seen {
		if c != 1 {
			t.Fatalf("request %d owned by %d segments", k, c)
		}
	}
}

// wordEncoder counts a token per word, two for words of 5 letters or more.
type wordEncoder struct{}

func (wordEncoder) Encode(s string) ([]int32, error) {
	var ids []int32
	for _, w := range strings.Fields(s) {
		ids = append(ids, 1)
		if len(w) >= 5 {
			ids = append(ids, 2)
		}
	}
	return ids, nil
}

func TestSyntheticMeasuredLengths(t *testing.T) {
	s := Synthetic{Input: Lengths{Mean: 40, Spread: 0.5}, Output: Lengths{Mean: 8}, Count: 50, Seed: 2, Tokenizer: wordEncoder{}}
	if s.Approximate() {
		t.Fatal("lengths measured by a tokenizer are said to be approximated")
	}
	items, err := s.Items()
	if err != nil {
		t.Fatal(err)
	}
	exact := 0
	for _, it := range items {
		ids, _ := wordEncoder{}.Encode(it.Prompt)
		if it.InputTokens != len(ids) {
			t.Fatalf("item says %d tokens, encodes to %d", it.InputTokens, len(ids))
		}
		if it.InputTokens >= 20 && it.InputTokens <= 60 {
			exact++
		}
	}
	if exact != len(items) {
		t.Errorf("%d of %d prompts within the drawn range 20-60", exact, len(items))
	}
	// A fixed length: each prompt encodes to it, or to one under when the
	// word that would reach it is a two-token word.
	fixed, _ := Synthetic{Input: Lengths{Mean: 40}, Count: 50, Seed: 3, Tokenizer: wordEncoder{}}.Items()
	hit := 0
	for _, it := range fixed {
		if it.InputTokens != 40 && it.InputTokens != 39 {
			t.Errorf("fixed length 40: a prompt of %d tokens", it.InputTokens)
		}
		if it.InputTokens == 40 {
			hit++
		}
	}
	if hit < len(fixed)/2 {
		t.Errorf("only %d of %d prompts hit 40 tokens exactly", hit, len(fixed))
	}
	// Without a tokenizer the words are the same draw: one seed, one text.
	a, _ := Synthetic{Input: Lengths{Mean: 40}, Seed: 2, Count: 3}.Items()
	b, _ := Synthetic{Input: Lengths{Mean: 40}, Seed: 2, Count: 3}.Items()
	if a[2].Prompt != b[2].Prompt || len(strings.Fields(a[2].Prompt)) != 40 {
		t.Errorf("approximated prompts %q / %q", a[2].Prompt, b[2].Prompt)
	}
}

// TestFineTimerSleeps: the fine timer sleeps at least as long as asked.
func TestFineTimerSleeps(t *testing.T) {
	ft, err := newFineTimer()
	if err != nil {
		t.Fatal(err)
	}
	defer ft.close()
	for _, d := range []time.Duration{50 * time.Microsecond, time.Millisecond, 2 * time.Millisecond} {
		t0 := time.Now()
		ft.sleep(d)
		if got := time.Since(t0); got < d {
			t.Errorf("slept %v, asked for %v", got, d)
		}
	}
}
