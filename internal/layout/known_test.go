package layout

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestKnown(t *testing.T) {
	known := []string{
		RunFile(1), RunFile(12), RunTrace(3, ChunkMetrics), RunTrace(3, LoopLag), RunTrace(3, GPUMetrics),
		RunGPUSummary(2), RunLog(4), ChunkMetricsCSV, LoopLagCSV, GPUMetricsCSV, Summary, GPUSummary,
		Manifest, ReportMarkdown, ReportJSON, ReportHTML,
		TokenizerBenchTable, TokenizerBenchJSON, TokenizerBenchfmt, TokenizerReport, TokenizerMissing,
		LoadRecords, LoadVLLM, LoadSweep,
		PlotEfficiency, PlotFor(PlotLag, "gemma3:latest"), PlotFor(PlotChunkGapCDF, "qwen2.5:7b"),
		PlotFor(PlotGPU, "m"), PlotFor(PlotCeiling, "hf.co/org/Model-GGUF:Q4_K_M"),
		PlotLatencyVsRate, PlotTTFTCDF, PlotITLCDF, PlotInFlight, PlotPareto,
		".run_1.json.tmp", ".manifest.json.tmp2981234", ".tokbench-probe-77",
	}
	for _, name := range known {
		if !Known(name) {
			t.Errorf("Known(%q) = false, want true", name)
		}
	}
	user := []string{
		"notes.txt", "analysis.ipynb", "mine.log", "my_plot.png", "run_1.txt", "run_.json", "run_x.json",
		"run_1_notes.txt", "run_1.json.bak", "lag_.png", "lag_a/b.png", "manifest.json~", ".hidden", "run_1.jsonl",
		"efficiency.png.orig", "tokenizer_bench.csv", "", "plots",
	}
	for _, name := range user {
		if Known(name) {
			t.Errorf("Known(%q) = true, want false", name)
		}
	}
}

// TestTempPatternKnown creates temporary files the way an atomic write
// does and checks that their real names are recognised.
func TestTempPatternKnown(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{RunFile(1), Manifest, RunTrace(2, ChunkMetrics)} {
		f, err := os.CreateTemp(dir, TempPattern(name))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if base := filepath.Base(f.Name()); !Known(base) {
			t.Errorf("temp file %q of %s is not Known", base, name)
		}
	}
	f, err := os.CreateTemp(dir, TokenizerProbePattern)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if base := filepath.Base(f.Name()); !Known(base) {
		t.Errorf("probe file %q is not Known", base)
	}
}

func TestIsRunFile(t *testing.T) {
	tests := []struct {
		name string
		i    int
		ok   bool
	}{
		{"run_1.json", 1, true}, {"run_120.json", 120, true}, {"run_.json", 0, false},
		{"run_1_chunk_metrics.csv", 0, false}, {"run_1a.json", 0, false}, {"run_99999999999999999999.json", 0, false},
	}
	for _, tt := range tests {
		if i, ok := IsRunFile(tt.name); i != tt.i || ok != tt.ok {
			t.Errorf("IsRunFile(%q) = %d, %v; want %d, %v", tt.name, i, ok, tt.i, tt.ok)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"run_#.json", "run_7.json", true},
		{"run_#_*.csv", "run_7_chunk_metrics.csv", true},
		{"run_#_*.csv", "run_7_.csv", false},
		{"run_#_*.csv", "run_7_a.b.csv", true},
		{"*.png", "a/b.png", false},
		{"#", "", false},
		{"abc", "abcd", false},
		{"", "", true},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("run_#_*.csv", "run_1_x.csv")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if len(pattern) > 32 || len(name) > 64 {
			return // the matcher backtracks; file names are short
		}
		Match(pattern, name)
	})
}

func ExampleKnown() {
	fmt.Println(Known(RunTrace(3, ChunkMetrics)), Known("notes.txt"))
	// Output: true false
}
