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

// Thresholds the report applies. They are the seed's criteria.
const (
	// StallThresholdMs: a scheduler-lag sample above it is a stall event.
	StallThresholdMs = 10.0
	// CorrelationCriterion: the seed's r > 0.8 between lag p99 and
	// efficiency loss.
	CorrelationCriterion = 0.8
	// ThrottleCriterionPP: the seed's ≥ 2 percentage points of efficiency
	// gained by throttling.
	ThrottleCriterionPP = 2.0
	// TokenizerRule: a tokenizer more than 2× slower than another flags a
	// CPU (tokenizer) bottleneck.
	TokenizerRule = 2.0
	// Alpha is the significance level of the A/B tests.
	Alpha = 0.05
)

// ReportOptions configures [BuildReport]. The zero value writes report.md,
// report.json and no plots, with the current time.
type ReportOptions struct {
	// Plots writes PNG plots under <root>/plots.
	Plots bool
	// MinN is the number of runs per condition below which a verdict warns
	// that n is too small. Default 5.
	MinN int
	// Now is the report's timestamp. Default time.Now.
	Now func() time.Time
	// Bootstrap configures the confidence intervals (default: 10,000
	// resamples, 95%, seed 0, so a report is reproducible).
	Bootstrap stats.BootstrapConfig
}

// Report is report.json: the answers to the study's questions, with the
// numbers behind them. It is JSON-safe (no NaN: missing values are null).
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
	Plots         []string           `json:"plots,omitempty"`
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

// Verdict is one answer: what the numbers say, n, and caveats.
type Verdict struct {
	Text     string   `json:"text"`
	N        int      `json:"n"`
	Warnings []string `json:"warnings,omitempty"`
}

// CeilingModel is the client-ceiling answer for one model (phase 1).
type CeilingModel struct {
	Model       string             `json:"model"`
	Conditions  []BufferCondition  `json:"conditions"`
	Comparisons []BufferComparison `json:"comparisons,omitempty"`
	// LagVsLoss correlates per-run scheduler-lag p99 with the seed's
	// efficiency loss (100 − efficiency %), over all the model's MRI runs;
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
	// ParseMs, GapMs and Chunks count the seed's chunks: transport reads
	// that completed at least one line (gaps between such reads).
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
	Warnings  []string        `json:"warnings,omitempty"`
	Detail    json.RawMessage `json:"stats,omitempty"` // stats' own result
	Different bool            `json:"different"`       // p < Alpha and the CI excludes 0
}

// Correlation is Pearson's r and Spearman's ρ with p-values.
type Correlation struct {
	N         int      `json:"n"`
	Pearson   float64  `json:"pearson_r"`
	PearsonP  float64  `json:"pearson_p"`
	Spearman  float64  `json:"spearman_rho"`
	SpearmanP float64  `json:"spearman_p"`
	Warnings  []string `json:"warnings,omitempty"`
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

// BuildReport reads the results under root (manifest.json and the run
// files it lists as finished) and writes report.md, report.json,
// report.html and, with opts.Plots, PNG plots (embedded in report.html).
// Only runs recorded as ok are analysed; failed ones are listed.
func BuildReport(root string, opts ReportOptions) (*Report, error) {
	if opts.MinN == 0 {
		opts.MinN = 5
	}
	if opts.Now == nil {
		opts.Now = time.Now
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
		Generated: opts.Now().UTC(),
		Version:   man.Version,
		Backend:   man.Backend,
		Simulated: man.Simulated,
	}
	if man.Simulated {
		rep.Banner = "SIMULATED: these results come from tr117's Ollama simulator (tr117/profiler/ollamatest), not from real Ollama servers on a GPU. They exercise the pipeline; they say nothing about real hardware."
	}
	planned := Runs(plan)
	rep.Runs.Planned = len(planned)
	var data []*runData
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
			data = append(data, d)
		default:
			rep.Runs.Failed++
			rep.Failed = append(rep.Failed, RunFailed{Key: rec.Key, Error: rec.Error})
			failed = append(failed, run)
		}
	}
	a := analyzer{opts: opts, plan: plan, man: man, data: data, failed: failed}
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
	if opts.Plots {
		files, err := writePlots(root, plan, data, man.Simulated)
		if err != nil {
			return nil, err
		}
		rep.Plots = files
	}
	if err := sink.WriteJSONFile(filepath.Join(root, ReportJSON), rep); err != nil {
		return nil, err
	}
	md := renderMarkdown(rep, man)
	if err := sink.WriteFileAtomic(filepath.Join(root, ReportMarkdown), []byte(md)); err != nil {
		return nil, err
	}
	if err := writeHTML(root, rep, man); err != nil {
		return nil, err
	}
	return rep, nil
}

type analyzer struct {
	opts ReportOptions
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

func (a *analyzer) smallN(n int, what string) []string {
	if n < a.opts.MinN {
		return []string{fmt.Sprintf("n = %d %s is below %d: treat this as indicative only", n, what, a.opts.MinN)}
	}
	return nil
}

// abWarnings is an A/B verdict's caveats: stats' (in plain words), and
// the report's own small-n warning when stats has no sample-size caveat.
// Of the sample-size caveats only the strongest is kept: "no difference
// can be significant" implies "the interval is not reliable", which
// implies "n is small".
func (a *analyzer) abWarnings(e *AB, what string) []string {
	var out, size []string
	for _, w := range e.Warnings {
		if strings.HasPrefix(w, tooFewPrefix) || strings.HasPrefix(w, fewerThanPrefix) {
			size = append(size, w)
			continue
		}
		out = append(out, w)
	}
	switch {
	case len(size) == 0:
		size = a.smallN(min(e.NA, e.NB), what)
	case len(size) > 1:
		for _, w := range size {
			if strings.HasPrefix(w, tooFewPrefix) {
				size = []string{w}
				break
			}
		}
	}
	return append(size, out...)
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
			if iv, err := stats.BootstrapMean(eff, a.opts.Bootstrap); err == nil && len(eff) >= 2 {
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
			cmp.Efficiency = a.compare(efficiencies(base), efficiencies(byBuf[b]), "default", b.String(), "runs")
			// Chunks within a run are not independent: compare the runs'
			// median parse times (n = runs), not the pooled chunks.
			cmp.ParseMs = a.compare(perRunMedian(base, parseOf), perRunMedian(byBuf[b], parseOf), "default", b.String(), "runs")
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

// parseOf returns the parse times of the run's seed chunks.
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

func (a *analyzer) bufferVerdict(model string, b BufferSize, cmp BufferComparison, nA, nB int) Verdict {
	e := cmp.Efficiency
	if e == nil {
		return Verdict{N: nA + nB, Text: fmt.Sprintf("%s, read buffer %s vs default: not enough finished runs to compare efficiency (%d vs %d).", model, b, nA, nB), Warnings: []string{"each side needs at least two runs"}}
	}
	v := Verdict{N: e.NA + e.NB}
	if e.Different {
		v.Text = fmt.Sprintf("%s: read buffer %s changes the seed efficiency by %s pp (%.2f%% → %.2f%%; %s; Mann-Whitney p %s).", model, b, diffText(e.Diff), e.MeanA, e.MeanB, ciText(e.Diff, "pp"), pv(e.PValue))
	} else {
		v.Text = fmt.Sprintf("%s: no evidence that read buffer %s changes the seed efficiency: %s pp (%s; Mann-Whitney p %s).", model, b, diffText(e.Diff), ciText(e.Diff, "pp"), pv(e.PValue))
	}
	if p := cmp.ParseMs; p != nil {
		v.Text += fmt.Sprintf(" Median chunk parse time per run: %.4f ms → %.4f ms (%s; p %s; %d vs %d runs).", p.MeanA, p.MeanB, ciText(p.Diff, "ms"), pv(p.PValue), p.NA, p.NB)
	}
	v.Warnings = append(v.Warnings, a.abWarnings(e, "runs per buffer")...)
	return v
}

func (a *analyzer) lagVerdict(cm CeilingModel) Verdict {
	c := cm.LagVsLoss
	runs, without := 0, 0
	minS, maxS := math.MaxInt, 0
	for _, bc := range cm.Conditions {
		for _, n := range bc.LagSamples {
			runs++
			if n == 0 {
				without++
				continue
			}
			minS, maxS = min(minS, n), max(maxS, n)
		}
	}
	interval := a.plan.LagInterval.D()
	samples := fmt.Sprintf(" Lag samples per run (every %v): none.", interval)
	if maxS > 0 {
		samples = fmt.Sprintf(" Lag samples per run (every %v): %d to %d.", interval, minS, maxS)
		if minS == maxS {
			samples = fmt.Sprintf(" Lag samples per run (every %v): %d.", interval, minS)
		}
	}
	var warns []string
	if without > 0 {
		warns = append(warns, fmt.Sprintf("%d of %d runs ended before the first lag sample (every %v) and are left out of the correlation: use a shorter lag interval (--lag-interval)", without, runs, interval))
	}
	if maxS > 0 && minS < 10 {
		warns = append(warns, fmt.Sprintf("the shortest runs have only %d lag sample(s): their p99 is about their maximum", minS))
	}
	if c == nil && cm.LagVsTrueLoss == nil {
		return Verdict{N: runs - without, Warnings: warns, Text: fmt.Sprintf("%s: lag p99 vs efficiency loss: not computed: it needs at least 3 runs with both measured and some spread in each (%d of %d runs have lag samples).%s", cm.Model, runs-without, runs, samples)}
	}
	v := Verdict{Warnings: warns}
	if t := cm.LagVsTrueLoss; t != nil {
		word := "not met"
		if t.Pearson > CorrelationCriterion {
			word = "met"
		}
		v.N = t.N
		v.Warnings = append(v.Warnings, t.Warnings...)
		v.Text = fmt.Sprintf("%s: scheduler-lag p99 vs true-efficiency loss across runs: Pearson r = %.3f (p %s), Spearman ρ = %.3f (p %s); the criterion r > %.1f (client lag explains the loss) is %s.",
			cm.Model, t.Pearson, pv(t.PearsonP), t.Spearman, pv(t.SpearmanP), CorrelationCriterion, word)
	} else {
		v.Text = fmt.Sprintf("%s: no true efficiency (no solo baselines): lag cannot be set against the real loss.", cm.Model)
	}
	if c != nil {
		v.N = max(v.N, c.N)
		v.Text += fmt.Sprintf(" Against the seed's efficiency loss instead (which contention does not move): Pearson r = %.3f (p %s), Spearman ρ = %.3f (p %s).",
			c.Pearson, pv(c.PearsonP), c.Spearman, pv(c.SpearmanP))
		if cm.LagVsTrueLoss == nil {
			v.Warnings = append(v.Warnings, c.Warnings...)
		}
	}
	stalls := 0
	for _, bc := range cm.Conditions {
		stalls += bc.Stalls
	}
	v.Text += fmt.Sprintf(" Stall events (lag > %.0f ms): %d.", StallThresholdMs, stalls) + samples
	v.Warnings = append(v.Warnings, a.smallN(v.N, "runs for a correlation")...)
	return v
}

// ceilingVerdict answers from the true efficiency, and says when the
// seed's efficiency is explained by the agents' length difference.
func (a *analyzer) ceilingVerdict(cm CeilingModel) Verdict {
	var ds []*runData
	for _, b := range a.plan.MRI.Buffers {
		ds = append(ds, a.runs(PhaseMRI, cm.Model, func(r Run) bool { return r.Buffer == b })...)
	}
	seed, trueE, bound := efficiencies(ds), values(ds, (*runData).TrueEfficiency), values(ds, (*runData).BalanceBound)
	ss, ts, bs := summarize(seed), summarize(trueE), summarize(bound)
	if ss == nil {
		return Verdict{Text: fmt.Sprintf("%s: no finished MRI run: the client ceiling is unmeasured.", cm.Model)}
	}
	v := Verdict{N: ss.N, Warnings: a.smallN(ss.N, "runs")}
	if ts != nil {
		v.Text = fmt.Sprintf("%s: running the agents together was %.2f× as fast as running them one after the other (true efficiency %.1f%% mean, min %.1f%%, max %.1f%%, over %d runs).",
			cm.Model, ts.Mean/100*float64(a.agentsPerRun(ds)), ts.Mean, ts.Min, ts.Max, ts.N)
	} else {
		v.Text = fmt.Sprintf("%s: no solo baselines, so the true speed-up is unmeasured; the seed's efficiency below cannot tell contention from client cost.", cm.Model)
	}
	v.Text += fmt.Sprintf(" The seed's efficiency reads %.1f%% (min %.1f%%, max %.1f%%)", ss.Mean, ss.Min, ss.Max)
	if bs != nil {
		v.Text += fmt.Sprintf(" against a balance bound of %.1f%%", bs.Mean)
		if bs.Mean-ss.Mean <= BalanceNearPP && bs.Mean <= 100-BalanceNearPP {
			v.Text += fmt.Sprintf(": within %.0f points of it, so its shortfall from 100%% is the agents' length difference, not the client", BalanceNearPP)
		}
	}
	v.Text += "."
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
		ds := a.runs(PhaseHardware, model, nil)
		hm := HardwareModel{Model: model, Runs: len(ds), Failed: a.failedRuns(PhaseHardware, model, nil)}
		var power, util, mem, rx, tx, energy, srv []float64
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
				if hs.Sampler == "" {
					hs.Sampler = gs.Sampler
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
		hs.Verdicts = append(hs.Verdicts, Verdict{N: runs, Text: fmt.Sprintf("No GPU: %s. The %d hardware runs ran without GPU telemetry, so power, utilisation, memory, PCIe and energy per token are unmeasured on this machine.", shortGPUReason(hs.Reason), runs)})
	} else {
		for _, hm := range hs.Models {
			hs.Verdicts = append(hs.Verdicts, a.hardwareVerdict(hm))
		}
	}
	if len(evalRates) >= 2 {
		m := a.plan.Hardware.Models
		hs.EvalRate = a.compare(evalRates[0], evalRates[1], m[0], m[1], "runs")
		if e := hs.EvalRate; e != nil {
			v := Verdict{N: e.NA + e.NB, Warnings: a.abWarnings(e, "runs per model")}
			v.Text = fmt.Sprintf("Server eval rate: %s %.1f tok/s vs %s %.1f tok/s (difference %s; Mann-Whitney p %s).", m[0], e.MeanA, m[1], e.MeanB, ciText(e.Diff, "tok/s"), pv(e.PValue))
			hs.Verdicts = append(hs.Verdicts, v)
		}
	}
	return hs
}

func (a *analyzer) hardwareVerdict(hm HardwareModel) Verdict {
	v := Verdict{N: hm.Runs, Warnings: a.smallN(hm.Runs, "runs")}
	if hm.Samples == 0 {
		v.Text = fmt.Sprintf("%s: no GPU samples.", hm.Model)
		return v
	}
	var parts []string
	if hm.PowerW != nil {
		parts = append(parts, fmt.Sprintf("power mean %.1f W (max %.1f W)", hm.PowerW.Mean, hm.PowerW.Max))
	}
	if hm.UtilGPU != nil {
		parts = append(parts, fmt.Sprintf("GPU utilisation mean %.1f%% (max %.1f%%)", hm.UtilGPU.Mean, hm.UtilGPU.Max))
	}
	if hm.MemMiB != nil {
		parts = append(parts, fmt.Sprintf("memory max %.0f MiB", hm.MemMiB.Max))
	}
	if hm.PCIeRx != nil && hm.PCIeTx != nil {
		parts = append(parts, fmt.Sprintf("PCIe RX/TX mean %.1f/%.1f MB/s", hm.PCIeRx.Mean, hm.PCIeTx.Mean))
	} else {
		parts = append(parts, "PCIe unmeasured (only NVML reports it)")
	}
	if hm.JPerToken != nil {
		parts = append(parts, fmt.Sprintf("%.3f J per token", *hm.JPerToken))
	}
	red := "not redlining"
	if hm.RedlineRuns > 0 {
		red = fmt.Sprintf("redlining (≥ %.0f%% utilisation for ≥ %gs) in %d of %d runs", hm.RedlineUtil, hm.RedlineWindowS, hm.RedlineRuns, hm.Runs)
	}
	v.Text = fmt.Sprintf("%s: %s; %s.", hm.Model, strings.Join(parts, ", "), red)
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
			fm.Efficiency = a.compare(efficiencies(base), efficiencies(ds), baseName, rateDir(rate), "runs")
			fm.TrueEfficiency = a.compare(values(base, (*runData).TrueEfficiency), values(ds, (*runData).TrueEfficiency), baseName, rateDir(rate), "runs")
			fm.ServerRate = a.compare(serverRates(base), serverRates(ds), baseName, rateDir(rate), "runs")
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
	var vs []Verdict
	e := fm.Efficiency
	if e == nil {
		vs = append(vs, Verdict{N: nBase + nThr, Text: fmt.Sprintf("%s at %s: not enough finished runs to compare efficiency with %s (%d throttled vs %d baseline runs).", fm.Model, rateDir(fm.Rate), fm.Baseline, nThr, nBase), Warnings: []string{"each side needs at least two runs"}})
	} else {
		met := e.Diff.Estimate >= ThrottleCriterionPP && e.Different
		word := "not met"
		switch {
		case met:
			word = "met"
		case e.Diff.Estimate >= ThrottleCriterionPP:
			word = "not established: the gain is large enough but not significant"
		}
		v := Verdict{N: e.NA + e.NB, Warnings: a.abWarnings(e, "runs per condition")}
		v.Text = fmt.Sprintf("%s: throttled to %g tok/s, seed efficiency %.2f%% vs %.2f%% unthrottled (%s): %s pp (%s; Mann-Whitney p %s). The seed's criterion (throttling gains ≥ %.0f pp) is %s.",
			fm.Model, fm.Rate, e.MeanB, e.MeanA, fm.Baseline, diffText(e.Diff), ciText(e.Diff, "pp"), pv(e.PValue), ThrottleCriterionPP, word)
		vs = append(vs, v)
	}
	if t := fm.TrueEfficiency; t != nil {
		v := Verdict{N: t.NA + t.NB, Warnings: a.abWarnings(t, "runs per condition")}
		v.Text = fmt.Sprintf("%s: true efficiency throttled %.2f%% vs %.2f%% unthrottled: %s pp (%s; Mann-Whitney p %s).", fm.Model, t.MeanB, t.MeanA, diffText(t.Diff), ciText(t.Diff, "pp"), pv(t.PValue))
		vs = append(vs, v)
	}
	if s := fm.ServerRate; s != nil {
		v := Verdict{N: s.NA + s.NB, Warnings: a.abWarnings(s, "runs per condition")}
		change := 0.0
		if s.MeanA != 0 {
			change = 100 * (s.MeanB - s.MeanA) / s.MeanA
		}
		what := fmt.Sprintf("the server's eval rate changed by %+.1f%%, which is not significant: no evidence that back-pressure slowed generation", change)
		if s.Different {
			what = fmt.Sprintf("the server's eval rate changed by %+.1f%%: back-pressure from the reader reached the GPU", change)
		}
		v.Text = fmt.Sprintf("%s under back-pressure: server eval rate %.1f tok/s throttled vs %.1f tok/s unthrottled (p %s); %s.", fm.Model, s.MeanB, s.MeanA, pv(s.PValue), what)
		if fm.CapRate != nil {
			v.Text += fmt.Sprintf(" Achieved reader rate after the first token, (tokens − 1) / (total − TTFT): %.1f tok/s per agent (cap %g)", fm.CapRate.Mean, fm.Rate)
			if fm.ClientRate != nil {
				v.Text += fmt.Sprintf("; plain tokens / total: %.1f tok/s (its window includes the TTFT)", fm.ClientRate.Mean)
			}
			v.Text += "."
		} else if fm.ClientRate != nil {
			v.Text += fmt.Sprintf(" Achieved client rate, plain tokens / total: %.1f tok/s per agent (cap %g).", fm.ClientRate.Mean, fm.Rate)
		}
		if fm.ServerShare != nil {
			v.Text += fmt.Sprintf(" The server's total_duration was %.0f%% of the client's total time", 100**fm.ServerShare)
			if *fm.ServerShare < 0.9 {
				v.Text += ": the server finished early and socket buffers held the rest"
			}
			v.Text += "."
		}
		vs = append(vs, v)
	}
	return vs
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
		tr.Verdicts = append(tr.Verdicts, Verdict{Text: "Tokenizer race: no results: " + tr.Error + "."})
		return tr
	}
	var rep tokbench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		tr.Error = fmt.Sprintf("%s: %v", path, err)
		tr.Verdicts = append(tr.Verdicts, Verdict{Text: "Tokenizer race: unreadable results: " + tr.Error + "."})
		return tr
	}
	for _, r := range rep.Results {
		tr.Fixtures = tr.Fixtures || strings.HasPrefix(r.Model, FixturePrefix)
		tr.Results = append(tr.Results, TokenizerResult{Model: r.Model, Source: r.Source, Tokens: float64(r.Tokens), TokensPerSec: r.TokensPerSec, LatencyMs: r.LatencyMs})
	}
	tr.Comparisons = rep.Comparisons
	if len(rep.Comparisons) == 0 {
		tr.Verdicts = append(tr.Verdicts, Verdict{N: len(rep.Results), Text: fmt.Sprintf("Tokenizer race: %d tokenizer(s) measured; the 2× rule needs two.", len(rep.Results))})
		return tr
	}
	// Comparisons come ordered by descending time ratio: the first is the
	// widest gap.
	c := rep.Comparisons[0]
	v := Verdict{N: len(rep.Results)}
	switch {
	case c.Fixture:
		v.Text = fmt.Sprintf("Tokenizers: the widest gap is %s at %.2f× the time of %s, but module-cache fixtures stand in for the plan's models here, so the seed's 2× rule says nothing about them: not a finding.", c.Slower, c.TimeRatio, c.Faster)
	case c.Flagged:
		v.Text = fmt.Sprintf("Tokenizers: %s takes %.2f× as long as %s to encode the same corpus (%.2f× fewer tokens/s): more than %g×, so by the seed's rule its tokenizer is a CPU bottleneck candidate.", c.Slower, c.TimeRatio, c.Faster, c.TokensPerSecRatio, c.Factor)
	default:
		v.Text = fmt.Sprintf("Tokenizers: the widest gap is %s at %.2f× the time of %s: within %g×, so by the seed's rule tokenization does not explain a slowdown.", c.Slower, c.TimeRatio, c.Faster, c.Factor)
	}
	if it := rep.Config.Iterations; it > 0 && it < 3 {
		v.Warnings = append(v.Warnings, fmt.Sprintf("%d timed passes per tokenizer: too few to trust the ratio", it))
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

// pv writes a p-value for a sentence: "= 0.0159", or "< 0.001" below
// that (report.json keeps the exact value).
func pv(p float64) string {
	if p < 0.001 {
		return "< 0.001"
	}
	return fmt.Sprintf("= %.3g", p)
}

func ciText(iv stats.Interval, unit string) string {
	prec := ivPrec(iv)
	return fmt.Sprintf("%g%% CI [%+.*f, %+.*f] %s", 100*iv.Level, prec, iv.Lo, prec, iv.Hi, unit)
}

// ivPrec is 2 decimals, or 4 when the interval lies within ±0.1 and would
// print as ±0.00.
func ivPrec(iv stats.Interval) int {
	if w := math.Max(math.Abs(iv.Lo), math.Abs(iv.Hi)); w > 0 && w < 0.1 {
		return 4
	}
	return 2
}

// diffText formats an interval's estimate with ciText's precision, so a
// verdict's difference agrees with its interval and the table.
func diffText(iv stats.Interval) string {
	return fmt.Sprintf("%+.*f", ivPrec(iv), iv.Estimate)
}
