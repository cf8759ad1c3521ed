package layout

// patterns lists the base names of every file tr117 writes, as patterns of
// Match. It is a function, not a variable, so that no caller can change it.
func patterns() []string {
	return []string{
		// A run's files (profiler, throttle, suite).
		"run_#.json", "run_#_*.csv", "run_#_gpu_summary.json", "run_#.log",
		ChunkMetricsCSV, LoopLagCSV, GPUMetricsCSV, Summary, GPUSummary,
		// The suite's root files.
		Manifest, ReportMarkdown, ReportJSON, ReportHTML,
		// The tokenizer race.
		TokenizerBenchTable, TokenizerBenchJSON, TokenizerBenchfmt, TokenizerReport, TokenizerMissing,
		// A load run.
		LoadRecords, LoadVLLM, LoadSweep,
		// Plots.
		PlotEfficiency, PlotCeiling + "_*.png", PlotLag + "_*.png", PlotChunkGapCDF + "_*.png", PlotGPU + "_*.png",
		PlotLatencyVsRate, PlotTTFTCDF, PlotITLCDF, PlotInFlight, PlotPareto,
		// Temporary files of an interrupted atomic write or write probe.
		".*" + tempSuffix, ".*" + tempSuffix + "#", ".tokbench-probe-#",
	}
}

// Known reports whether name, a file's base name, is one that some part of
// tr117 writes (see the constants and functions of this package, and the
// temporary files of TempPattern). A user's file ("notes.txt",
// "my_plot.png") is not known.
func Known(name string) bool {
	for _, p := range patterns() {
		if Match(p, name) {
			return true
		}
	}
	return false
}

// IsRunFile reports whether name is a run's result, run_<i>.json, and
// returns i.
func IsRunFile(name string) (int, bool) {
	if !Match("run_#.json", name) {
		return 0, false
	}
	i := 0
	for _, c := range name[len("run_") : len(name)-len(".json")] {
		i = i*10 + int(c-'0')
		if i > 1<<30 {
			return 0, false
		}
	}
	return i, true
}

// Match reports whether name matches pattern, in which '#' stands for one
// or more ASCII digits, '*' for one or more characters of a file-name word
// (ASCII letters, digits, '.', '_' and '-'), and every other byte for
// itself. Unlike path.Match it has no character classes or escapes, and
// '*' never matches a path separator.
func Match(pattern, name string) bool {
	for len(pattern) > 0 {
		switch c := pattern[0]; c {
		case '#', '*':
			n := 0
			for n < len(name) && accepts(c, name[n]) {
				n++
			}
			// Longest first, so that "run_#_*.csv" finds its ".csv".
			for ; n > 0; n-- {
				if Match(pattern[1:], name[n:]) {
					return true
				}
			}
			return false
		default:
			if len(name) == 0 || name[0] != c {
				return false
			}
			pattern, name = pattern[1:], name[1:]
		}
	}
	return len(name) == 0
}

// accepts reports whether wildcard w ('#' or '*') may match byte b.
func accepts(w, b byte) bool {
	digit := '0' <= b && b <= '9'
	if w == '#' {
		return digit
	}
	return digit || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || b == '.' || b == '_' || b == '-'
}
