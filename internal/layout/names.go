package layout

import "strconv"

// Trace bases: a run writes run_<i>_<base>.csv (see RunTrace); the suite
// merges a condition's runs into <base>.csv.
const (
	ChunkMetrics = "chunk_metrics"
	LoopLag      = "loop_lag"
	GPUMetrics   = "gpu_metrics"
)

// Files a profiler or throttle run writes into its directory.
const (
	ChunkMetricsCSV = ChunkMetrics + ".csv"
	LoopLagCSV      = LoopLag + ".csv"
	GPUMetricsCSV   = GPUMetrics + ".csv"
	// Summary is the commands' summary of a series of runs (the load
	// command writes one too).
	Summary = "summary.json"
	// GPUSummary is the dmon command's summary of gpu_metrics.csv.
	GPUSummary = "gpu_summary.json"
)

// The suite's directories under its output root: one per phase, each
// holding <model slug>/<condition>/ (see suite.Run.Dir).
const (
	MRIDir        = "phase1"
	HardwareDir   = "phase2"
	ThrottleDir   = "phase3"
	CeilingDir    = "ceiling"
	TokenizersDir = HardwareDir + "/tokenizers"
)

// SuiteDirs lists the directories under the suite's output root that it
// writes into: the phases' and PlotsDir.
func SuiteDirs() []string {
	return []string{MRIDir, HardwareDir, ThrottleDir, CeilingDir, PlotsDir}
}

// Files the suite writes at its output root.
const (
	Manifest       = "manifest.json"
	ReportMarkdown = "report.md"
	ReportJSON     = "report.json"
	ReportHTML     = "report.html"
	// PlotsDir is the directory of the report's plots, under the suite's
	// root or a load run's directory.
	PlotsDir = "plots"
	// AgentOutputDir holds the hardware phase's command logs (RunLog).
	AgentOutputDir = "agent_output"
)

// Files of the tokenizer race (tokbench, and the suite's phase2/tokenizers).
const (
	TokenizerBenchTable = "tokenizer_bench.txt"
	TokenizerBenchJSON  = "tokenizer_bench.json"
	TokenizerBenchfmt   = "tokenizer_bench.bench"
	TokenizerReport     = "tokenizer_report.json"
	TokenizerMissing    = "tokenizer_missing.json"
	// TokenizerProbePattern is the os.CreateTemp pattern of the file
	// tokbench creates and removes to learn that it can write a directory.
	TokenizerProbePattern = ".tokbench-probe-*"
)

const tempSuffix = ".tmp"

// Files a load run writes into its directory (with Summary, ReportMarkdown
// and PlotsDir).
const (
	LoadRecords = "requests.jsonl"
	LoadVLLM    = "vllm_result.json"
	LoadSweep   = "sweep.json"
)

// Plots of the suite's report (under PlotsDir); the per-model ones are
// named by PlotFor.
const (
	PlotEfficiency  = "efficiency.png"
	PlotCeiling     = "ceiling"
	PlotLag         = "lag"
	PlotChunkGapCDF = "chunk_gap_cdf"
	PlotGPU         = "gpu"
)

// Plots of a load run's report (under PlotsDir).
const (
	PlotLatencyVsRate = "latency_vs_rate.png"
	PlotTTFTCDF       = "ttft_cdf.png"
	PlotITLCDF        = "itl_cdf.png"
	PlotInFlight      = "in_flight.png"
	PlotPareto        = "pareto.png"
)

// PlotFor names the plot kind (PlotLag, PlotCeiling, …) of one model:
// "lag_gemma3_latest.png".
func PlotFor(kind, model string) string { return kind + "_" + Slug(model) + ".png" }

// RunFile names run i's result, "run_<i>.json".
func RunFile(i int) string { return "run_" + strconv.Itoa(i) + ".json" }

// RunTrace names run i's trace of the given base (ChunkMetrics, LoopLag,
// GPUMetrics): "run_3_chunk_metrics.csv".
func RunTrace(i int, base string) string {
	return "run_" + strconv.Itoa(i) + "_" + base + ".csv"
}

// RunGPUSummary names run i's GPU summary, "run_3_gpu_summary.json".
func RunGPUSummary(i int) string { return "run_" + strconv.Itoa(i) + "_gpu_summary.json" }

// RunLog names run i's command log under AgentOutputDir, "run_3.log".
func RunLog(i int) string { return "run_" + strconv.Itoa(i) + ".log" }

// TempPattern is the os.CreateTemp pattern of the temporary file that an
// atomic write of name goes through (".run_1.json.tmp123"): hidden, so that
// a reader listing the directory never takes it for the file.
func TempPattern(name string) string { return "." + name + tempSuffix + "*" }
