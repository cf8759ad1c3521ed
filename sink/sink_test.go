package sink_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tr117/sink"
)

// row is a record with every kind of field a pathway writes.
type row struct {
	At    time.Time
	Agent string
	N     int64
	Ms    time.Duration
	V     float64
}

func (row) CSVHeader() []string { return []string{"timestamp", "agent_id", "n", "gap_ms", "value"} }

func (r row) AppendCSV(b []byte) []byte {
	b = sink.AppendTime(b, r.At)
	b = append(b, ',')
	b = sink.AppendString(b, r.Agent)
	b = append(b, ',')
	b = sink.AppendInt(b, r.N)
	b = append(b, ',')
	b = sink.AppendMillis(b, r.Ms)
	b = append(b, ',')
	return sink.AppendFloat(b, r.V, 3)
}

func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("output is not well-formed CSV: %v\n%s", err, data)
	}
	return recs
}

func TestCSVFields(t *testing.T) {
	var buf bytes.Buffer
	s := sink.NewCSV[row](&buf)
	at := time.Date(2026, 11, 26, 16, 34, 46, 123456789, time.FixedZone("X", 3600))
	tests := []struct {
		in   row
		want []string
	}{
		{row{at, "collector", 7, 1500 * time.Microsecond, 2.5}, []string{"2026-11-26T15:34:46.123456Z", "collector", "7", "1.500000", "2.500"}},
		{row{time.Time{}, `a,"b"`, -1, 0, math.NaN()}, []string{"", `a,"b"`, "-1", "0.000000", ""}},
		{row{at, "line\nbreak", 0, time.Second, math.Inf(1)}, []string{"2026-11-26T15:34:46.123456Z", "line\nbreak", "0", "1000.000000", ""}},
		{row{at, " padded ", 0, 0, 0}, []string{"2026-11-26T15:34:46.123456Z", " padded ", "0", "0.000000", "0.000"}},
	}
	for _, tt := range tests {
		if err := s.Write(tt.in); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, buf.Bytes())
	if got, want := strings.Join(recs[0], ","), "timestamp,agent_id,n,gap_ms,value"; got != want {
		t.Errorf("header = %q, want %q", got, want)
	}
	if len(recs) != len(tests)+1 {
		t.Fatalf("got %d lines, want %d", len(recs), len(tests)+1)
	}
	for i, tt := range tests {
		if got := recs[i+1]; strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("row %d = %q, want %q", i, got, tt.want)
		}
	}
	if err := s.Write(row{}); err == nil {
		t.Error("Write after Close succeeded")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestCreateCSVWellFormedWithoutClose is the interrupt case: a process that
// dies without Close leaves a file whose every line is whole.
func TestCreateCSVWellFormedWithoutClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "chunk_metrics.csv")
	s, err := sink.CreateCSV[row](path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "timestamp,agent_id,n,gap_ms,value\n" {
		t.Fatalf("header not on disk at creation: %q", b)
	}
	long := strings.Repeat("x", 1000)
	for i := range 500 { // ~500 KB: many write-throughs, none at a line boundary by luck
		if err := s.Write(row{Agent: long, N: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	b, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("file does not end at a line boundary (%d bytes)", len(b))
	}
	recs := readCSV(t, b)
	if len(recs) < 2 || len(recs) > 501 {
		t.Fatalf("got %d lines before Close", len(recs))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	if got := len(readCSV(t, b)); got != 501 {
		t.Fatalf("after Close: %d lines, want 501", got)
	}
}

func TestCreateCSVBadPath(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := sink.CreateCSV[row](filepath.Join(file, "x.csv"))
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("error %v does not name the path", err)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

func TestCSVStickyError(t *testing.T) {
	fw := &failWriter{}
	s := sink.NewCSV[row](fw)
	if err := s.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Flush = %v, want disk full", err)
	}
	if err := s.Write(row{}); err == nil {
		t.Fatal("Write after a failed flush succeeded")
	}
	if err := s.Close(); err == nil {
		t.Fatal("Close after a failed flush succeeded")
	}
	if fw.n != 1 {
		t.Errorf("writer called %d times after failing, want 1", fw.n)
	}
}

func TestCSVConcurrentWriters(t *testing.T) {
	var buf bytes.Buffer
	s := sink.NewCSV[row](&buf)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				s.Write(row{Agent: strings.Repeat("a", g+1), N: int64(i)})
			}
		}()
	}
	wg.Wait()
	s.Close()
	recs := readCSV(t, buf.Bytes())
	if len(recs) != 4001 {
		t.Fatalf("got %d lines, want 4001", len(recs))
	}
}

func TestJSONL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	s, err := sink.CreateJSONL[map[string]int](path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Write(map[string]int{"run": i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 3 || lines[2] != `{"run":2}` {
		t.Fatalf("got %q", b)
	}
	bad := sink.NewJSONL[float64](&bytes.Buffer{})
	if err := bad.Write(math.NaN()); err == nil {
		t.Error("NaN marshalled without error")
	}
}

func TestMemoryAndTee(t *testing.T) {
	var a, b sink.Memory[int]
	var seen []int
	errBoom := errors.New("boom")
	tee := sink.Tee[int](&a, nil, sink.Func[int](func(v int) error { seen = append(seen, v); return errBoom }), &b)
	for i := range 3 {
		if err := tee.Write(i); !errors.Is(err, errBoom) {
			t.Fatalf("Tee.Write = %v, want boom", err)
		}
	}
	if a.Len() != 3 || b.Len() != 3 || len(seen) != 3 {
		t.Fatalf("a=%d b=%d func=%d, want 3 each (a failing sink must not stop the others)", a.Len(), b.Len(), len(seen))
	}
	recs := a.Records()
	recs[0] = 99
	if a.Records()[0] != 0 {
		t.Error("Records returned the internal slice")
	}
	a.Reset()
	if a.Len() != 0 {
		t.Error("Reset kept records")
	}
}

func TestWriteJSONFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "phase1", "run_1.json")
	if err := sink.WriteJSONFile(path, map[string]any{"efficiency_percent": 91.5}); err != nil {
		t.Fatal(err)
	}
	if err := sink.WriteJSONFile(path, map[string]any{"efficiency_percent": 92.5}); err != nil {
		t.Fatal(err)
	}
	var got map[string]float64
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &got); err != nil || got["efficiency_percent"] != 92.5 {
		t.Fatalf("got %s (%v)", b, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := sink.WriteJSONFile(path, math.Inf(1)); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("unmarshalable value: err = %v, want one naming %s", err, path)
	}
	b2, _ := os.ReadFile(path)
	if !bytes.Equal(b, b2) {
		t.Error("a failed write changed the file")
	}
}

func BenchmarkCSVWrite(b *testing.B) {
	s := sink.NewCSV[row](discard{})
	r := row{At: time.Now(), Agent: "collector", N: 42, Ms: 23 * time.Millisecond, V: 0.125}
	b.ReportAllocs()
	for b.Loop() {
		s.Write(r)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestAppendTimeMatchesLayout(t *testing.T) {
	base := time.Date(2026, 11, 26, 16, 34, 46, 123456789, time.UTC)
	times := []time.Time{
		base,
		base.In(time.FixedZone("UTC-9:30", -9*3600-1800)),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, 0),
		time.Now(),
	}
	for i := range 1000 {
		times = append(times, base.Add(time.Duration(i)*7919*time.Hour+time.Duration(i)*1_000_003))
	}
	for _, tm := range times {
		got := string(sink.AppendTime(nil, tm))
		want := tm.UTC().Format(sink.TimeLayout)
		if got != want {
			t.Fatalf("AppendTime(%v) = %q, want %q", tm, got, want)
		}
	}
}

func BenchmarkAppendTime(b *testing.B) {
	buf := make([]byte, 0, 64)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		buf = sink.AppendTime(buf[:0], now)
	}
}

func TestAppendMillis(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0.000000"},
		{1, "0.000001"},
		{1500 * time.Microsecond, "1.500000"},
		{23*time.Millisecond + 456789, "23.456789"},
		{-2 * time.Microsecond, "-0.002000"},
		{time.Hour, "3600000.000000"},
		{math.MaxInt64, "9223372036854.775807"},
		{math.MinInt64, "-9223372036854.775808"},
	}
	for _, tt := range tests {
		if got := string(sink.AppendMillis(nil, tt.d)); got != tt.want {
			t.Errorf("AppendMillis(%d) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// A line written once the last write-through is older than the flush
// interval reaches the file with the lines before it, whole.
func TestCSVFlushInterval(t *testing.T) {
	var out bytes.Buffer
	s := sink.NewCSV[flushRec](&out)
	s.Write(flushRec{1})
	if out.Len() != 0 {
		t.Fatalf("wrote through %q without an interval", out.String())
	}
	s.SetFlushInterval(time.Nanosecond)
	s.Write(flushRec{2})
	if got := out.String(); got != "n\n1\n2\n" {
		t.Errorf("file holds %q", got)
	}
	s.SetFlushInterval(time.Hour)
	s.Write(flushRec{3})
	if got := out.String(); got != "n\n1\n2\n" {
		t.Errorf("wrote through before the interval: %q", got)
	}
	s.Close()
	if got := out.String(); got != "n\n1\n2\n3\n" {
		t.Errorf("after Close: %q", got)
	}
}

type flushRec struct{ n int64 }

func (flushRec) CSVHeader() []string           { return []string{"n"} }
func (r flushRec) AppendCSV(dst []byte) []byte { return sink.AppendInt(dst, r.n) }
