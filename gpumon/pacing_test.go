package gpumon

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"tr117/sink"
)

// waitRounds waits until the sampler's -lms stream has published n more
// rounds than it had when called (a sync point, not a timing assertion)
// and returns the time of the first row of the latest round.
func waitRounds(t *testing.T, s *smiSampler, n uint64) time.Time {
	t.Helper()
	s.mu.Lock()
	st := s.st
	s.mu.Unlock()
	st.mu.Lock()
	target := st.seq + n
	st.mu.Unlock()
	for {
		st.mu.Lock()
		seq, t0 := st.seq, st.batch[0].Time
		st.mu.Unlock()
		if seq >= target {
			return t0
		}
		select {
		case <-st.done:
			t.Fatal("the stream ended")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// The Monitor's ticker, not the nvidia-smi stream, decides how many rows
// are written: rounds the stream printed between two samples are not
// queued, Sample returns the latest.
func TestMonitorPacesAFasterSMIStream(t *testing.T) {
	path := fakeSMI(t)
	s, err := OpenSMI(context.Background(), OpenConfig{SMIPath: path, Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var buf bytes.Buffer
	csv := sink.NewCSV[Sample](&buf)
	// An hour between ticks: the first sample and the last, at stop, are
	// all the Monitor may take.
	m := NewMonitor(s, csv, Config{Interval: time.Hour})
	stop := m.Start(context.Background())
	after := waitRounds(t, s.(*smiSampler), 5)
	rep, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	csv.Close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if rep.Samples != 2 || len(lines) != 1+2*2 {
		t.Fatalf("%d samples, %d CSV lines; want 2 samples of 2 GPUs:\n%s", rep.Samples, len(lines), buf.String())
	}
	if last := m.Latest(nil)[0]; last.Time.Before(after) {
		t.Errorf("the last row (%v) is older than the round published before stop (%v): rows were queued", last.Time, after)
	}
}

// A Monitor asking for rows faster than its nvidia-smi stream prints them
// says so: the stream, not its ticker, paces the rows.
func TestMonitorWarnsWhenTheSamplerIsSlower(t *testing.T) {
	path := fakeSMI(t, "FAKESMI_GPUS=1")
	s, err := OpenSMI(context.Background(), OpenConfig{SMIPath: path, Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var log bytes.Buffer
	m := NewMonitor(s, nil, Config{Interval: 10 * time.Millisecond, Logger: logTo(&log)})
	if _, err := m.Start(context.Background())(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "sampler_interval=50ms") || !strings.Contains(log.String(), "interval=10ms") {
		t.Errorf("no warning naming both intervals; log: %s", log.String())
	}

	log.Reset()
	m = NewMonitor(s, nil, Config{Interval: 50 * time.Millisecond, Logger: logTo(&log)})
	if _, err := m.Start(context.Background())(); err != nil {
		t.Fatal(err)
	}
	if log.Len() != 0 {
		t.Errorf("logged with matching intervals: %s", log.String())
	}
}
