package suite

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tr117/sink"
	"tr117/stats"
	"tr117/tokbench"
)

// Report file names under the output root.
const (
	ReportMarkdown = "report.md"
	ReportJSON     = "report.json"
	PlotsDir       = "plots"
)

// Thresholds the report applies: the study's criteria.
const (
	// StallThresholdMs: a scheduler-lag sample above it is a stall event.
	StallThresholdMs = 10.0
	// CorrelationCriterion: lag p99 explains the efficiency loss when
	// Pearson's r between them exceeds it.
	CorrelationCriterion = 0.8
	// ThrottleCriterionPP: throttling the reader helps when it gains at
	// least this many percentage points of efficiency.
	ThrottleCriterionPP = 2.0
	// TokenizerRule: a tokenizer more than 2× slower than another flags a
	// CPU (tokenizer) bottleneck.
	TokenizerRule = 2.0
	// Alpha is the significance level of the A/B tests.
	Alpha = 0.05
)

// ReportConfig configures [Analyze]. The zero value gives the defaults.
type ReportConfig struct {
	// MinN is the number of runs per condition below which a verdict warns
	// that n is too small. Default 5.
	MinN int
	// Now is the report's timestamp. Default time.Now.
	Now func() time.Time
	// Bootstrap configures the confidence intervals (default: 10,000
	// resamples, 95%, seed 0, so a report is reproducible).
	Bootstrap stats.BootstrapConfig
}

// Report is the answers to the study's questions, with the numbers behind
// them: [Analyze] computes it, [WriteReport] writes it as report.json and
// report.md. Its JSON field names are stable; values are JSON-safe (no
// NaN: missing values are null). Verdicts are data ([Verdict]); their
// sentences come from [Verdict.Sentence]. A Report is not safe for
// concurrent modification.
type Report struct {
	Generated time.Time `json:"generated"`
	Version   string    `json:"tr117_version"`
	Backend   string    `json:"backend"`
	Simulated bool      `json:"simulated"`
	// Banner is the warning printed atop report.md, if any (simulated
	// endpoints).
	Banner string      `json:"banner,omitempty"`
	Runs   RunCounts   `json:"runs"`
	Failed []RunFailed `json:"failed,omitempty"`

	ClientCeiling []CeilingModel     `json:"client_ceiling"`
	Sweep         *CeilingSweep      `json:"ceiling_sweep,omitempty"`
	Latency       []ConditionLatency `json:"latency"`
	Hardware      HardwareSection    `json:"hardware"`
	Flow          []FlowModel        `json:"flow_dynamics"`
	Tokenizers    *TokenizerReport   `json:"tokenizers,omitempty"`
	// Plots lists the plot files (relative to the root) that WriteReport
	// wrote.
	Plots []string `json:"plots,omitempty"`

	// Manifest is the results directory's manifest.json, which the
	// report's setup section describes. It is not part of report.json.
	Manifest *Manifest `json:"-"`
	// data holds the runs the numbers come from, for the plots.
	data []*runData
}

// RunCounts counts the plan's runs by outcome.
type RunCounts struct {
	Planned int `json:"planned"`
	OK      int `json:"ok"`
	Failed  int `json:"failed"`
	Missing int `json:"missing"` // not run (interrupted before them)
}

// RunFailed is a failed run and its error.
type RunFailed struct {
	Key   string `json:"key"`
	Error string `json:"error"`
}

// CeilingModel is the client-ceiling answer for one model (phase 1).
type CeilingModel struct {
	Model       string             `json:"model"`
	Conditions  []BufferCondition  `json:"conditions"`
	Comparisons []BufferComparison `json:"comparisons,omitempty"`
	// LagVsLoss correlates per-run scheduler-lag p99 with the
	// efficiency_percent loss (100 − efficiency %), over all the model's MRI runs;
	// LagVsTrueLoss with the true-efficiency loss.
	LagVsLoss     *Correlation `json:"lag_p99_vs_efficiency_loss,omitempty"`
	LagVsTrueLoss *Correlation `json:"lag_p99_vs_true_efficiency_loss,omitempty"`
	Verdicts      []Verdict    `json:"verdicts"`
}

// BufferCondition is one read-buffer size of one model.
type BufferCondition struct {
	Buffer BufferSize `json:"buffer"`
	// Runs counts the finished (ok) runs the numbers come from; Failed
	// the condition's failed runs, left out of every number: an agent
	// that failed or was interrupted leaves the run no efficiency (null
	// in its run_<i>.json).
	Runs         int             `json:"runs"`
	Failed       int             `json:"failed_runs"`
	Efficiency   *stats.Summary  `json:"efficiency_percent"`
	EfficiencyCI *stats.Interval `json:"efficiency_ci,omitempty"`
	// TrueEfficiency summarises the runs' true efficiency (solo baselines
	// taken); BalanceBound the runs' balance bounds.
	TrueEfficiency *stats.Summary `json:"true_efficiency_percent"`
	BalanceBound   *stats.Summary `json:"balance_bound_percent"`
	// ParseMs, GapMs and Chunks count chunks: transport reads that
	// completed at least one line (gaps between such reads).
	// AllParseMs, AllGapMs and AllChunks count every transport read.
	ParseMs    *stats.Summary `json:"chunk_parse_ms"`
	GapMs      *stats.Summary `json:"chunk_gap_ms"`
	AllParseMs *stats.Summary `json:"all_reads_parse_ms"`
	AllGapMs   *stats.Summary `json:"all_reads_gap_ms"`
	AllChunks  int            `json:"all_reads"`
	LagMs      *stats.Summary `json:"lag_ms"`
	// LagSamples is the number of scheduler-lag samples of each run, in
	// run order: a run with none has no lag p99 and is left out of the
	// lag-vs-efficiency correlation.
	LagSamples []int `json:"lag_samples_per_run"`
	Chunks     int   `json:"chunks"`
	Stalls     int   `json:"stalls"`
}

// BufferComparison is one buffer size against the default.
type BufferComparison struct {
	Buffer     BufferSize `json:"buffer"`
	Efficiency *AB        `json:"efficiency_percent,omitempty"`
	ParseMs    *AB        `json:"chunk_parse_ms,omitempty"`
}

// AB is an A/B comparison: B − A with its interval and Mann-Whitney p.
type AB struct {
	A         string          `json:"a"` // baseline label
	B         string          `json:"b"` // candidate label
	NA        int             `json:"n_a"`
	NB        int             `json:"n_b"`
	MeanA     float64         `json:"mean_a"`
	MeanB     float64         `json:"mean_b"`
	Diff      stats.Interval  `json:"diff"` // mean(B) − mean(A)
	PValue    float64         `json:"mann_whitney_p"`
	WelchP    *float64        `json:"welch_p,omitempty"`
	Effect    *float64        `json:"effect_size,omitempty"`
	Warnings  stats.Warnings  `json:"warnings,omitempty"`
	Detail    json.RawMessage `json:"stats,omitempty"` // stats' own result
	Different bool            `json:"different"`       // p < Alpha and the CI excludes 0
}

// Correlation is Pearson's r and Spearman's ρ with p-values.
type Correlation struct {
	N         int            `json:"n"`
	Pearson   float64        `json:"pearson_r"`
	PearsonP  float64        `json:"pearson_p"`
	Spearman  float64        `json:"spearman_rho"`
	SpearmanP float64        `json:"spearman_p"`
	Warnings  stats.Warnings `json:"warnings,omitempty"`
}

// HardwareSection is the hardware answer (phase 2).
type HardwareSection struct {
	// NoGPU is true when no GPU sample exists; Reason says why.
	NoGPU   bool            `json:"no_gpu"`
	Reason  string          `json:"reason,omitempty"`
	Sampler string          `json:"sampler,omitempty"`
	Models  []HardwareModel `json:"models"`
	// EvalRate compares the server's eval rate between the first two
	// models, the evidence for "is the slower model slower on the GPU".
	EvalRate *AB       `json:"eval_rate,omitempty"`
	Verdicts []Verdict `json:"verdicts"`
}

// HardwareModel is one model's hardware picture.
type HardwareModel struct {
	Model string `json:"model"`
	// Runs counts the finished runs the numbers come from; Failed the
	// failed runs left out.
	Runs         int            `json:"runs"`
	Failed       int            `json:"failed_runs"`
	Samples      int            `json:"samples"`
	PowerW       *stats.Summary `json:"power_w"`
	UtilGPU      *stats.Summary `json:"utilization_gpu_percent"`
	MemMiB       *stats.Summary `json:"memory_used_mib"`
	PCIeRx       *stats.Summary `json:"pcie_rx_mbps"`
	PCIeTx       *stats.Summary `json:"pcie_tx_mbps"`
	EnergyJ      *stats.Summary `json:"energy_per_run_j"`
	JPerToken    *float64       `json:"energy_per_token_j,omitempty"`
	Tokens       float64        `json:"tokens"`
	RedlineShare *float64       `json:"redline_share,omitempty"` // of sampled time
	RedlineRuns  int            `json:"redline_runs"`            // runs with a sustained redline window
	// RedlineUtil and RedlineWindowS are gpumon's redline criterion.
	RedlineUtil    float64        `json:"redline_util_percent,omitempty"`
	RedlineWindowS float64        `json:"redline_window_s,omitempty"`
	ServerTokSec   *stats.Summary `json:"server_eval_tokens_per_sec"`
}

// FlowModel is the flow-dynamics answer for one model and rate (phase 3).
type FlowModel struct {
	Model string  `json:"model"`
	Rate  float64 `json:"rate_tps"`
	// Baseline names the unthrottled runs compared against: "0tps" when
	// the plan had unlimited throttle runs, else "phase1 default".
	Baseline string `json:"baseline"`
	// Failed and BaselineFailed count the failed throttled and baseline
	// runs, left out of the comparisons (they have no efficiency).
	Failed         int `json:"failed_runs"`
	BaselineFailed int `json:"baseline_failed_runs"`
	Efficiency     *AB `json:"efficiency_percent,omitempty"`
	TrueEfficiency *AB `json:"true_efficiency_percent,omitempty"`
	ServerRate     *AB `json:"server_eval_tokens_per_sec,omitempty"`
	// ClientRate is the plain rate tokens / total per agent (its window
	// includes the TTFT and the bucket's first fill); CapRate is (tokens −
	// 1) / (total − TTFT), the rate the reader held after its first token:
	// the measure of the cap.
	ClientRate *stats.Summary `json:"client_tokens_per_sec"`
	CapRate    *stats.Summary `json:"cap_tokens_per_sec"`
	// ServerShare is the mean of the server's total_duration over the
	// client's total time, per throttled agent (nil when not reported).
	ServerShare *float64  `json:"server_total_share,omitempty"`
	Verdicts    []Verdict `json:"verdicts"`
}

// TokenizerReport is the tokenizer race, from tokenizer_bench.json.
type TokenizerReport struct {
	Results     []TokenizerResult     `json:"results"`
	Comparisons []tokbench.Comparison `json:"comparisons,omitempty"`
	// Missing maps a model whose tokenizer was not found to where the
	// search looked.
	Missing map[string]string `json:"missing,omitempty"`
	// Fixtures is true when the race ran module-cache fixtures (named
	// FixturePrefix+name) in place of the plan's models' tokenizers.
	Fixtures bool      `json:"fixtures,omitempty"`
	Verdicts []Verdict `json:"verdicts"`
	Error    string    `json:"error,omitempty"`
}

// TokenizerResult is one tokenizer's speed.
type TokenizerResult struct {
	Model        string  `json:"model"`
	Source       string  `json:"source,omitempty"`
	Tokens       float64 `json:"tokens"`
	TokensPerSec float64 `json:"tokens_per_sec"`
	LatencyMs    float64 `json:"latency_ms"`
}

// Analyze reads the results under root (manifest.json and the run files
// it lists as finished) and answers the study's questions. It writes
// nothing. Only runs recorded as ok are analysed; failed ones are listed.
func Analyze(root string, cfg ReportConfig) (*Report, error) {
	if cfg.MinN == 0 {
		cfg.MinN = 5
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	man, err := ReadManifest(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("suite: report: no %s in %s", ManifestFile, root)
	}
	if err != nil {
		return nil, err
	}
	plan := man.Plan.WithDefaults()
	rep := &Report{
		Generated: cfg.Now().UTC(),
		Version:   man.Version,
		Backend:   man.Backend,
		Simulated: man.Simulated,
		Manifest:  man,
	}
	if man.Simulated {
		rep.Banner = "SIMULATED: these results come from tr117's Ollama simulator (tr117/profiler/ollamatest), not from real Ollama servers on a GPU. They exercise the pipeline; they say nothing about real hardware."
	}
	failed, err := rep.load(root, plan, man)
	if err != nil {
		return nil, err
	}
	a := analyzer{cfg: cfg, plan: plan, man: man, data: rep.data, failed: failed}
	if !plan.MRI.Skip {
		rep.ClientCeiling = a.ceiling()
	}
	if plan.Ceiling.Run {
		rep.Sweep = a.sweep()
	}
	rep.Latency = a.latencies()
	if !plan.Hardware.Skip {
		rep.Hardware = a.hardware()
	}
	if !plan.Throttle.Skip {
		rep.Flow = a.flow()
	}
	if plan.Tokenizers.Run {
		rep.Tokenizers = a.tokenizers(root)
	}
	return rep, nil
}

// load counts the plan's runs by outcome and reads the finished ones into
// rep.data; it returns the failed runs.
func (rep *Report) load(root string, plan Plan, man *Manifest) ([]Run, error) {
	planned := Runs(plan)
	rep.Runs.Planned = len(planned)
	var failed []Run
	for _, run := range planned {
		rec := man.record(run.Key())
		switch {
		case rec == nil:
			rep.Runs.Missing++
		case rec.Status == StatusOK:
			rep.Runs.OK++
			if run.Phase == PhaseTokenizers {
				continue
			}
			d, err := loadRun(root, run)
			if err != nil {
				return nil, err
			}
			rep.data = append(rep.data, d)
		default:
			rep.Runs.Failed++
			rep.Failed = append(rep.Failed, RunFailed{Key: rec.Key, Error: rec.Error})
			failed = append(failed, run)
		}
	}
	return failed, nil
}

// WriteReport writes rep under root: with plots, PNG plots under plots/
// (listed in rep.Plots; they need the runs [Analyze] read), then
// report.json, report.md and report.html (the plots embedded).
func WriteReport(root string, rep *Report, plots bool) error {
	if rep.Manifest == nil {
		return fmt.Errorf("suite: report for %s: no manifest (a Report comes from Analyze)", root)
	}
	if plots {
		files, err := writePlots(root, rep.Manifest.Plan.WithDefaults(), rep.data, rep.Simulated)
		if err != nil {
			return err
		}
		rep.Plots = files
	}
	if err := sink.WriteJSONFile(filepath.Join(root, ReportJSON), rep); err != nil {
		return err
	}
	if err := sink.WriteFileAtomic(filepath.Join(root, ReportMarkdown), []byte(renderMarkdown(rep))); err != nil {
		return err
	}
	return writeHTML(root, rep)
}

type analyzer struct {
	cfg  ReportConfig
	plan Plan
	man  *Manifest
	data []*runData
	// failed holds the failed runs of the plan, left out of data.
	failed []Run
}

// failedRuns counts the failed runs of phase and model that keep accepts.
func (a *analyzer) failedRuns(phase Phase, model string, keep func(Run) bool) int {
	n := 0
	for _, r := range a.failed {
		if r.Phase == phase && r.Model == model && (keep == nil || keep(r)) {
			n++
		}
	}
	return n
}

func (a *analyzer) runs(phase Phase, model string, keep func(Run) bool) []*runData {
	var out []*runData
	for _, d := range a.data {
		if d.Run.Phase == phase && d.Run.Model == model && (keep == nil || keep(d.Run)) {
			out = append(out, d)
		}
	}
	return out
}

func (a *analyzer) smallN(n int, what string) stats.Warnings {
	if n < a.cfg.MinN {
		return stats.Warnings{SmallSampleWarning{N: n, Min: a.cfg.MinN, What: what}}
	}
	return nil
}

func summarize(xs []float64) *stats.Summary {
	s, err := stats.Summarize(xs)
	if err != nil {
		return nil
	}
	return &s
}

func efficiencies(ds []*runData) []float64 {
	var out []float64
	for _, d := range ds {
		if !math.IsNaN(d.Efficiency()) {
			out = append(out, d.Efficiency())
		}
	}
	return out
}

func (a *analyzer) ceiling() []CeilingModel {
	var out []CeilingModel
	for _, model := range a.plan.MRI.Models {
		cm := CeilingModel{Model: model}
		byBuf := map[BufferSize][]*runData{}
		var lagP99, loss, lagP99t, trueLoss []float64
		for _, b := range a.plan.MRI.Buffers {
			ds := a.runs(PhaseMRI, model, func(r Run) bool { return r.Buffer == b })
			byBuf[b] = ds
			isB := func(r Run) bool { return r.Buffer == b }
			bc := BufferCondition{Buffer: b, Runs: len(ds), Failed: a.failedRuns(PhaseMRI, model, isB)}
			var parse, gap, allParse, allGap, lag []float64
			for _, d := range ds {
				bc.LagSamples = append(bc.LagSamples, len(d.LagMs))
				p, g := d.seedChunks()
				parse, gap = append(parse, p...), append(gap, g...)
				p, g = d.allChunks()
				allParse, allGap = append(allParse, p...), append(allGap, g...)
				lag = append(lag, d.LagMs...)
				for _, l := range d.LagMs {
					if l > StallThresholdMs {
						bc.Stalls++
					}
				}
				if p, err := stats.Percentile(d.LagMs, 99); err == nil && !math.IsNaN(d.Efficiency()) {
					lagP99 = append(lagP99, p)
					loss = append(loss, 100-d.Efficiency())
				}
				if p, err := stats.Percentile(d.LagMs, 99); err == nil && !math.IsNaN(d.TrueEfficiency()) {
					lagP99t = append(lagP99t, p)
					trueLoss = append(trueLoss, 100-d.TrueEfficiency())
				}
			}
			eff := efficiencies(ds)
			bc.Efficiency = summarize(eff)
			bc.TrueEfficiency = summarize(values(ds, (*runData).TrueEfficiency))
			bc.BalanceBound = summarize(values(ds, (*runData).BalanceBound))
			if iv, err := stats.BootstrapMean(eff, a.cfg.Bootstrap); err == nil && len(eff) >= 2 {
				bc.EfficiencyCI = &iv
			}
			bc.ParseMs, bc.GapMs, bc.LagMs = summarize(parse), summarize(gap), summarize(lag)
			bc.AllParseMs, bc.AllGapMs = summarize(allParse), summarize(allGap)
			bc.Chunks, bc.AllChunks = len(parse), len(allParse)
			cm.Conditions = append(cm.Conditions, bc)
		}
		base := byBuf[0]
		hasDefault := false
		for _, b := range a.plan.MRI.Buffers {
			hasDefault = hasDefault || b == 0
		}
		for _, b := range a.plan.MRI.Buffers {
			if b == 0 || !hasDefault {
				continue
			}
			cmp := BufferComparison{Buffer: b}
			cmp.Efficiency = a.compare(efficiencies(base), efficiencies(byBuf[b]), "default", b.String())
			// Chunks within a run are not independent: compare the runs'
			// median parse times (n = runs), not the pooled chunks.
			cmp.ParseMs = a.compare(perRunMedian(base, parseOf), perRunMedian(byBuf[b], parseOf), "default", b.String())
			cm.Comparisons = append(cm.Comparisons, cmp)
			cm.Verdicts = append(cm.Verdicts, a.bufferVerdict(model, b, cmp, len(efficiencies(base)), len(efficiencies(byBuf[b]))))
		}
		cm.LagVsLoss = a.correlate(lagP99, loss)
		cm.LagVsTrueLoss = a.correlate(lagP99t, trueLoss)
		cm.Verdicts = append(cm.Verdicts, a.lagVerdict(cm))
		cm.Verdicts = append(cm.Verdicts, a.ceilingVerdict(cm))
		out = append(out, cm)
	}
	return out
}

// parseOf returns the parse times of the run's chunks (reads that
// completed a line).
func parseOf(d *runData) []float64 {
	p, _ := d.seedChunks()
	return p
}

func perRunMedian(ds []*runData, f func(*runData) []float64) []float64 {
	var out []float64
	for _, d := range ds {
		if m, err := stats.Percentile(f(d), 50); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// abVerdict fills v's value, interval, p and n from e, and the facts
// mean_a, mean_b, n_a and n_b.
func abVerdict(v Verdict, e *AB) Verdict {
	v.Value, v.Interval, v.P = ptr(e.Diff.Estimate), ptr(e.Diff), ptr(e.PValue)
	v.N = e.NA + e.NB
	v.set("mean_a", e.MeanA)
	v.set("mean_b", e.MeanB)
	v.set("n_a", float64(e.NA))
	v.set("n_b", float64(e.NB))
	return v
}

// tooFew is the verdict of a comparison not made: a side has fewer than
// two runs.
func tooFew(v Verdict, nA, nB int) Verdict {
	v.N = nA + nB
	v.set("n_a", float64(nA))
	v.set("n_b", float64(nB))
	v.Outcome = NoEvidence
	v.Warnings = stats.Warnings{TooFewRunsWarning{NA: nA, NB: nB, Need: 2}}
	return v
}

func (a *analyzer) bufferVerdict(model string, b BufferSize, cmp BufferComparison, nA, nB int) Verdict {
	v := Verdict{Question: QBufferEfficiency, Model: model, A: "default", B: b.String()}
	e := cmp.Efficiency
	if e == nil {
		return tooFew(v, nA, nB)
	}
	v = abVerdict(v, e)
	v.Outcome = NoEvidence
	if e.Different {
		v.Outcome = Met
	}
	if p := cmp.ParseMs; p != nil {
		v.set("parse_mean_a_ms", p.MeanA)
		v.set("parse_mean_b_ms", p.MeanB)
		v.set("parse_lo_ms", p.Diff.Lo)
		v.set("parse_hi_ms", p.Diff.Hi)
		v.set("parse_level", p.Diff.Level)
		v.set("parse_p", p.PValue)
		v.set("parse_n_a", float64(p.NA))
		v.set("parse_n_b", float64(p.NB))
	}
	v.Warnings = a.abWarnings(e, "runs per buffer")
	return v
}

func (a *analyzer) lagVerdict(cm CeilingModel) Verdict {
	v := Verdict{Question: QLagVsLoss, Model: cm.Model}
	runs, without, stalls := 0, 0, 0
	minS, maxS := math.MaxInt, 0
	for _, bc := range cm.Conditions {
		stalls += bc.Stalls
		for _, n := range bc.LagSamples {
			runs++
			if n == 0 {
				without++
				continue
			}
			minS, maxS = min(minS, n), max(maxS, n)
		}
	}
	interval := float64(a.plan.LagInterval.D()) / 1e6
	v.set("runs", float64(runs))
	v.set("runs_with_lag", float64(runs-without))
	v.set("lag_interval_ms", interval)
	v.set("stalls", float64(stalls))
	v.set("stall_threshold_ms", StallThresholdMs)
	if maxS > 0 {
		v.set("lag_samples_min", float64(minS))
		v.set("lag_samples_max", float64(maxS))
	}
	if without > 0 {
		v.Warnings = append(v.Warnings, LagCoverageWarning{Without: without, Runs: runs, IntervalMs: interval})
	}
	if maxS > 0 && minS < 10 {
		v.Warnings = append(v.Warnings, FewLagSamplesWarning{Min: minS})
	}
	if cm.LagVsLoss == nil && cm.LagVsTrueLoss == nil {
		v.N = runs - without
		v.Reason = "it needs at least 3 runs with both measured and some spread in each"
		return v
	}
	if t := cm.LagVsTrueLoss; t != nil {
		v.Criterion, v.Value, v.P, v.N = ptr(CorrelationCriterion), ptr(t.Pearson), ptr(t.PearsonP), t.N
		v.Outcome = NotMet
		if t.Pearson > CorrelationCriterion {
			v.Outcome = Met
		}
		setCorrelation(&v, "true_", t)
		v.Warnings = append(v.Warnings, t.Warnings...)
	}
	if c := cm.LagVsLoss; c != nil {
		v.N = max(v.N, c.N)
		setCorrelation(&v, "seed_", c)
		if cm.LagVsTrueLoss == nil {
			v.Warnings = append(v.Warnings, c.Warnings...)
		}
	}
	v.Warnings = append(v.Warnings, a.smallN(v.N, "runs for a correlation")...)
	return v
}

// setCorrelation sets the facts prefix+pearson_r, _p, spearman_rho and _p.
func setCorrelation(v *Verdict, prefix string, c *Correlation) {
	v.set(prefix+"pearson_r", c.Pearson)
	v.set(prefix+"pearson_p", c.PearsonP)
	v.set(prefix+"spearman_rho", c.Spearman)
	v.set(prefix+"spearman_p", c.SpearmanP)
}

// ceilingVerdict answers from the true efficiency, and says when the
// efficiency_percent is explained by the agents' length difference.
func (a *analyzer) ceilingVerdict(cm CeilingModel) Verdict {
	var ds []*runData
	for _, b := range a.plan.MRI.Buffers {
		ds = append(ds, a.runs(PhaseMRI, cm.Model, func(r Run) bool { return r.Buffer == b })...)
	}
	seed, trueE, bound := efficiencies(ds), values(ds, (*runData).TrueEfficiency), values(ds, (*runData).BalanceBound)
	ss, ts, bs := summarize(seed), summarize(trueE), summarize(bound)
	v := Verdict{Question: QTrueSpeedup, Model: cm.Model}
	if ss == nil {
		v.Reason = "no finished MRI run"
		return v
	}
	v.N, v.Warnings = ss.N, a.smallN(ss.N, "runs")
	if ts != nil {
		v.Value = ptr(ts.Mean / 100 * float64(a.agentsPerRun(ds)))
		v.set("true_mean", ts.Mean)
		v.set("true_min", ts.Min)
		v.set("true_max", ts.Max)
		v.set("true_n", float64(ts.N))
	}
	v.set("seed_mean", ss.Mean)
	v.set("seed_min", ss.Min)
	v.set("seed_max", ss.Max)
	if bs != nil {
		v.set("balance_mean", bs.Mean)
	}
	return v
}

// agentsPerRun is the number of agents of the first run with a result (2
// when none has).
func (a *analyzer) agentsPerRun(ds []*runData) int {
	for _, d := range ds {
		if n := len(d.Agents()); n > 0 {
			return n
		}
	}
	return 2
}

func (a *analyzer) hardware() HardwareSection {
	hs := HardwareSection{Sampler: a.man.GPU.Sampler}
	total := 0
	var evalRates [][]float64
	for _, model := range a.plan.Hardware.Models {
		hm, srv, sampler := a.hardwareModel(model)
		if hs.Sampler == "" {
			hs.Sampler = sampler
		}
		evalRates = append(evalRates, srv)
		hs.Models = append(hs.Models, hm)
		total += hm.Samples
	}
	if total == 0 {
		hs.NoGPU = true
		hs.Reason = a.man.GPU.Error
		if hs.Reason == "" {
			hs.Reason = "no GPU samples were recorded"
		}
		runs := 0
		for _, hm := range hs.Models {
			runs += hm.Runs
		}
		v := Verdict{Question: QNoGPU, N: runs, Reason: shortGPUReason(hs.Reason)}
		v.set("runs", float64(runs))
		hs.Verdicts = append(hs.Verdicts, v)
	} else {
		for _, hm := range hs.Models {
			hs.Verdicts = append(hs.Verdicts, a.hardwareVerdict(hm))
		}
	}
	if len(evalRates) >= 2 {
		m := a.plan.Hardware.Models
		hs.EvalRate = a.compare(evalRates[0], evalRates[1], m[0], m[1])
		if e := hs.EvalRate; e != nil {
			v := abVerdict(Verdict{Question: QEvalRate, A: m[0], B: m[1]}, e)
			v.Warnings = a.abWarnings(e, "runs per model")
			hs.Verdicts = append(hs.Verdicts, v)
		}
	}
	return hs
}

// hardwareModel summarises the hardware runs of model; srv holds each
// run's server eval rate and sampler names the GPU sampler of its
// summaries.
func (a *analyzer) hardwareModel(model string) (hm HardwareModel, srv []float64, sampler string) {
	ds := a.runs(PhaseHardware, model, nil)
	hm = HardwareModel{Model: model, Runs: len(ds), Failed: a.failedRuns(PhaseHardware, model, nil)}
	var power, util, mem, rx, tx, energy []float64
	var redS, durS, energyTokens float64
	for _, d := range ds {
		tokens := 0.0
		for _, ag := range d.Agents() {
			tokens += float64(ag.Metrics.EvalCount)
		}
		if r := runServerRate(d); !math.IsNaN(r) {
			srv = append(srv, r)
		}
		hm.Tokens += tokens
		hm.Samples += len(d.GPU)
		for _, g := range d.GPU {
			if g.PowerOK {
				power = append(power, g.PowerW)
			}
			if g.UtilOK {
				util = append(util, g.UtilGPU)
			}
			if g.MemOK {
				mem = append(mem, g.MemMiB)
			}
			if g.PCIeRxOK {
				rx = append(rx, g.PCIeRx)
			}
			if g.TxOK {
				tx = append(tx, g.PCIeTx)
			}
		}
		// Energy and redlining come from gpumon's own summary of the
		// run (energy counter or power integral; sustained windows).
		if gs := d.GPUSummary; gs != nil {
			if sampler == "" {
				sampler = gs.Sampler
			}
			e, haveE, sustained := 0.0, false, false
			for _, g := range gs.GPUs {
				if g.EnergyJ != nil {
					e += *g.EnergyJ
					haveE = true
				}
				if g.Redline.Episodes > 0 {
					sustained = true
				}
				redS += g.Redline.Seconds
				durS += gs.DurationS
				hm.RedlineUtil, hm.RedlineWindowS = g.Redline.ThresholdPct, g.Redline.WindowS
			}
			if haveE {
				energy = append(energy, e)
				energyTokens += tokens
			}
			if sustained {
				hm.RedlineRuns++
			}
		}
	}
	hm.PowerW, hm.UtilGPU, hm.MemMiB = summarize(power), summarize(util), summarize(mem)
	hm.PCIeRx, hm.PCIeTx, hm.EnergyJ = summarize(rx), summarize(tx), summarize(energy)
	hm.ServerTokSec = summarize(srv)
	if hm.EnergyJ != nil && energyTokens > 0 {
		j := hm.EnergyJ.Mean * float64(len(energy)) / energyTokens
		hm.JPerToken = &j
	}
	if durS > 0 {
		share := redS / durS
		hm.RedlineShare = &share
	}
	return hm, srv, sampler
}

func (a *analyzer) hardwareVerdict(hm HardwareModel) Verdict {
	v := Verdict{Question: QGPU, Model: hm.Model, N: hm.Runs, Warnings: a.smallN(hm.Runs, "runs")}
	v.set("samples", float64(hm.Samples))
	v.set("runs", float64(hm.Runs))
	if hm.Samples == 0 {
		return v
	}
	if hm.PowerW != nil {
		v.set("power_mean_w", hm.PowerW.Mean)
		v.set("power_max_w", hm.PowerW.Max)
	}
	if hm.UtilGPU != nil {
		v.set("util_mean", hm.UtilGPU.Mean)
		v.set("util_max", hm.UtilGPU.Max)
	}
	if hm.MemMiB != nil {
		v.set("memory_max_mib", hm.MemMiB.Max)
	}
	if hm.PCIeRx != nil && hm.PCIeTx != nil {
		v.set("pcie_rx_mbps", hm.PCIeRx.Mean)
		v.set("pcie_tx_mbps", hm.PCIeTx.Mean)
	}
	if hm.JPerToken != nil {
		v.set("j_per_token", *hm.JPerToken)
	}
	v.set("redline_runs", float64(hm.RedlineRuns))
	v.set("redline_util", hm.RedlineUtil)
	v.set("redline_window_s", hm.RedlineWindowS)
	return v
}

func (a *analyzer) flow() []FlowModel {
	var out []FlowModel
	for _, model := range a.plan.Throttle.Models {
		hasZero := false
		for _, r := range a.plan.Throttle.Rates {
			hasZero = hasZero || r == 0
		}
		var base []*runData
		baseName := "phase1 default"
		baseFailed := 0
		if hasZero {
			isBase := func(r Run) bool { return r.Rate == 0 }
			base = a.runs(PhaseThrottle, model, isBase)
			baseFailed = a.failedRuns(PhaseThrottle, model, isBase)
			baseName = "0tps"
		} else {
			isBase := func(r Run) bool { return r.Buffer == 0 }
			base = a.runs(PhaseMRI, model, isBase)
			baseFailed = a.failedRuns(PhaseMRI, model, isBase)
		}
		for _, rate := range a.plan.Throttle.Rates {
			if rate == 0 {
				continue
			}
			isRate := func(r Run) bool { return r.Rate == rate }
			ds := a.runs(PhaseThrottle, model, isRate)
			fm := FlowModel{Model: model, Rate: rate, Baseline: baseName, Failed: a.failedRuns(PhaseThrottle, model, isRate), BaselineFailed: baseFailed}
			fm.Efficiency = a.compare(efficiencies(base), efficiencies(ds), baseName, rateDir(rate))
			fm.TrueEfficiency = a.compare(values(base, (*runData).TrueEfficiency), values(ds, (*runData).TrueEfficiency), baseName, rateDir(rate))
			fm.ServerRate = a.compare(serverRates(base), serverRates(ds), baseName, rateDir(rate))
			fm.ClientRate = summarize(clientRates(ds))
			fm.CapRate = summarize(capRates(ds))
			var shares []float64
			for _, d := range ds {
				for _, ag := range d.Agents() {
					if m := ag.Metrics; m.ServerTotalDuration > 0 && m.TotalDurationMS > 0 {
						shares = append(shares, float64(m.ServerTotalDuration)/1e6/m.TotalDurationMS)
					}
				}
			}
			if s := summarize(shares); s != nil {
				fm.ServerShare = &s.Mean
			}
			fm.Verdicts = a.flowVerdicts(fm, len(base), len(ds))
			out = append(out, fm)
		}
	}
	return out
}

// runServerRate is the mean server eval rate of a run's agents (NaN when
// none reported one): one value per run, since the agents of one run share
// its conditions and are not independent samples.
func runServerRate(d *runData) float64 {
	var sum float64
	n := 0
	for _, ag := range d.Agents() {
		if r := serverRate(ag); !math.IsNaN(r) {
			sum += r
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// serverRates returns each run's mean server eval rate (see runServerRate).
func serverRates(ds []*runData) []float64 {
	var out []float64
	for _, d := range ds {
		if r := runServerRate(d); !math.IsNaN(r) {
			out = append(out, r)
		}
	}
	return out
}

func clientRates(ds []*runData) []float64 {
	var out []float64
	for _, d := range ds {
		for _, ag := range d.Agents() {
			if r := ag.Metrics.ThroughputTokensPerSec; r > 0 {
				out = append(out, r)
			}
		}
	}
	return out
}

// capRates are the agents' (tokens − 1) / (total − TTFT) in tok/s.
func capRates(ds []*runData) []float64 {
	var out []float64
	for _, d := range ds {
		for _, ag := range d.Agents() {
			m := ag.Metrics
			if m.TTFTMS == nil || m.TokensGenerated < 2 || m.TotalDurationMS <= *m.TTFTMS {
				continue
			}
			out = append(out, float64(m.TokensGenerated-1)/((m.TotalDurationMS-*m.TTFTMS)/1000))
		}
	}
	return out
}

func (a *analyzer) flowVerdicts(fm FlowModel, nBase, nThr int) []Verdict {
	base := Verdict{Model: fm.Model, A: fm.Baseline, B: rateDir(fm.Rate)}
	base.set("rate_tps", fm.Rate)
	var vs []Verdict
	if e := fm.Efficiency; e == nil {
		vs = append(vs, tooFew(withQuestion(base, QThrottleEfficiency), nBase, nThr))
	} else {
		v := abVerdict(withQuestion(base, QThrottleEfficiency), e)
		v.Criterion = ptr(ThrottleCriterionPP)
		switch {
		case e.Diff.Estimate >= ThrottleCriterionPP && e.Different:
			v.Outcome = Met
		case e.Diff.Estimate >= ThrottleCriterionPP:
			v.Outcome = NoEvidence
		default:
			v.Outcome = NotMet
		}
		v.Warnings = a.abWarnings(e, "runs per condition")
		vs = append(vs, v)
	}
	if t := fm.TrueEfficiency; t != nil {
		v := abVerdict(withQuestion(base, QThrottleTrueEfficiency), t)
		v.Warnings = a.abWarnings(t, "runs per condition")
		vs = append(vs, v)
	}
	if s := fm.ServerRate; s != nil {
		v := withQuestion(base, QBackPressure)
		v.N, v.P = s.NA+s.NB, ptr(s.PValue)
		v.Value = ptr(0.0)
		if s.MeanA != 0 {
			v.Value = ptr(100 * (s.MeanB - s.MeanA) / s.MeanA)
		}
		v.Outcome = NoEvidence
		if s.Different {
			v.Outcome = Met
		}
		v.set("mean_a", s.MeanA)
		v.set("mean_b", s.MeanB)
		if fm.CapRate != nil {
			v.set("cap_rate", fm.CapRate.Mean)
		}
		if fm.ClientRate != nil {
			v.set("client_rate", fm.ClientRate.Mean)
		}
		if fm.ServerShare != nil {
			v.set("server_share", *fm.ServerShare)
		}
		v.Warnings = a.abWarnings(s, "runs per condition")
		vs = append(vs, v)
	}
	return vs
}

// withQuestion returns a copy of v (with its own Facts) asking q.
func withQuestion(v Verdict, q Question) Verdict {
	v.Question = q
	facts := v.Facts
	v.Facts = nil
	for k, x := range facts {
		v.set(k, x)
	}
	return v
}

// tokenizers reads tokbench's tokenizer_bench.json under phase2/tokenizers.
func (a *analyzer) tokenizers(root string) *TokenizerReport {
	tr := &TokenizerReport{}
	dir := filepath.Join(root, "phase2", "tokenizers")
	if b, err := os.ReadFile(filepath.Join(dir, tokenizerMissing)); err == nil {
		json.Unmarshal(b, &tr.Missing)
	}
	path := filepath.Join(dir, TokenizerBenchJSON)
	b, err := os.ReadFile(path)
	if err != nil {
		tr.Error = err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			tr.Error = "no " + TokenizerBenchJSON + " (the tokenizer race failed or did not run)"
		}
		tr.Verdicts = append(tr.Verdicts, Verdict{Question: QTokenizerGap, Reason: "no results: " + tr.Error})
		return tr
	}
	var rep tokbench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		tr.Error = fmt.Sprintf("%s: %v", path, err)
		tr.Verdicts = append(tr.Verdicts, Verdict{Question: QTokenizerGap, Reason: "unreadable results: " + tr.Error})
		return tr
	}
	for _, r := range rep.Results {
		tr.Fixtures = tr.Fixtures || strings.HasPrefix(r.Model, FixturePrefix)
		tr.Results = append(tr.Results, TokenizerResult{Model: r.Model, Source: r.Source, Tokens: float64(r.Tokens), TokensPerSec: r.TokensPerSec, LatencyMs: r.LatencyMs})
	}
	tr.Comparisons = rep.Comparisons
	v := Verdict{Question: QTokenizerGap, N: len(rep.Results)}
	v.set("tokenizers", float64(len(rep.Results)))
	if len(rep.Comparisons) == 0 {
		tr.Verdicts = append(tr.Verdicts, v)
		return tr
	}
	// Comparisons come ordered by descending time ratio: the first is the
	// widest gap.
	c := rep.Comparisons[0]
	v.A, v.B, v.Value, v.Criterion = c.Faster, c.Slower, ptr(c.TimeRatio), ptr(c.Factor)
	v.set("tokens_per_sec_ratio", c.TokensPerSecRatio)
	switch {
	case c.Fixture:
		v.set("fixtures", 1)
		v.Outcome = NoEvidence
	case c.Flagged:
		v.Outcome = Met
	default:
		v.Outcome = NotMet
	}
	if it := rep.Config.Iterations; it > 0 && it < 3 {
		v.Warnings = append(v.Warnings, FewPassesWarning{Passes: it})
	}
	tr.Verdicts = append(tr.Verdicts, v)
	return tr
}

// shortGPUReason is the first clause of gpumon's error for the report
// ("no NVIDIA GPU found (…)"); the whole chain is in manifest.json.
func shortGPUReason(s string) string {
	s = strings.TrimPrefix(s, "gpumon: ")
	if i := strings.Index(s, ": gpumon: "); i > 0 {
		s = s[:i]
	}
	return s
}
