package suite

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestSeedChunks: chunk statistics count, as the seed did, only reads
// that completed a line, with gaps between such reads; every read stays
// available.
func TestSeedChunks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chunks.csv")
	csv := "timestamp,agent_id,chunk_index,bytes,gap_ms,parse_ms,run,lines,since_start_ms\n" +
		"2026-11-26T12:00:00.000Z,collector,0,80,,0.010,1,1,20.000\n" +
		"2026-11-26T12:00:00.005Z,collector,1,40,5.000,0.001,1,0,25.000\n" + // half a line
		"2026-11-26T12:00:00.010Z,collector,2,40,5.000,0.020,1,1,30.000\n" +
		"2026-11-26T12:00:00.011Z,insight,0,80,,0.030,1,2,31.000\n" +
		"2026-11-26T12:00:00.020Z,collector,3,80,10.000,0.040,1,1,40.000\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	var d runData
	if err := d.readChunks(path); err != nil {
		t.Fatal(err)
	}
	parse, gap := d.seedChunks()
	if want := []float64{0.010, 0.020, 0.030, 0.040}; !slices.Equal(parse, want) {
		t.Errorf("seed parse %v, want %v", parse, want)
	}
	// collector: 30 − 20 and 40 − 30 (the half-line read is no chunk).
	if want := []float64{10, 10}; !slices.EqualFunc(gap, want, func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }) {
		t.Errorf("seed gaps %v, want %v", gap, want)
	}
	allParse, allGap := d.allChunks()
	if len(allParse) != 5 || !slices.Equal(allGap, []float64{5, 5, 10}) {
		t.Errorf("all reads: parse %v gaps %v", allParse, allGap)
	}
}
