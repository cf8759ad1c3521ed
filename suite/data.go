package suite

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"tr117/gpumon"
	"tr117/profiler"
)

// runData is what the report needs from one finished run, read back from
// the files the run wrote. Reading from disk (rather than from memory)
// lets a resumed suite report on runs of earlier sessions, and lets
// [Analyze] be pointed at any results directory.
type runData struct {
	Run Run
	// Result is run_<i>.json, read through the profiler's own type; nil
	// when the run wrote none (a template command).
	Result *profiler.RunResult
	// From run_<i>_chunk_metrics.csv, one value per chunk (transport
	// read), in file order. Chunks with ChunkLines 0 completed no line; the
	// seed logged only the others (see seedChunks). ChunkGapMs is NaN for
	// a stream's first chunk (no gap); ChunkSeedGapMs is the time since
	// the agent's previous chunk that completed a line (NaN for the first
	// such chunk and for chunks that completed none).
	ChunkParseMs, ChunkGapMs, ChunkSeedGapMs []float64
	ChunkT                                   []float64 // seconds since the run's first chunk
	ChunkAgent                               []string
	ChunkLines                               []int
	// From run_<i>_loop_lag.csv.
	LagMs []float64
	LagT  []float64 // seconds since the run's first lag sample
	// From run_<i>_gpu_metrics.csv and run_<i>_gpu_summary.json.
	GPU        []gpuRow
	GPUSummary *gpumon.Report
}

// ptrOr returns *p, or NaN when p is nil.
func ptrOr(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// Efficiency is the seed's efficiency_percent, NaN when not recorded.
func (d *runData) Efficiency() float64 {
	if d.Result == nil {
		return math.NaN()
	}
	return ptrOr(d.Result.EfficiencyPercent)
}

// TrueEfficiency is true_efficiency_percent, NaN when not recorded.
func (d *runData) TrueEfficiency() float64 {
	if d.Result == nil {
		return math.NaN()
	}
	return ptrOr(d.Result.TrueEfficiencyPercent)
}

// BalanceBound is balance_bound_percent, NaN when not recorded.
func (d *runData) BalanceBound() float64 {
	if d.Result == nil {
		return math.NaN()
	}
	return ptrOr(d.Result.BalanceBoundPercent)
}

// Agents are the run's agents (none without a run file).
func (d *runData) Agents() []profiler.AgentResult {
	if d.Result == nil {
		return nil
	}
	return d.Result.Agents
}

// serverRate is an agent's eval_count / eval_duration, NaN when not
// reported. Files of the seed's shape carry only eval_count and
// eval_duration.
func serverRate(a profiler.AgentResult) float64 {
	m := a.Metrics
	if m.ServerTokensPerSec != nil {
		return *m.ServerTokensPerSec
	}
	if m.EvalDuration <= 0 {
		return math.NaN()
	}
	return float64(m.EvalCount) / (float64(m.EvalDuration) / 1e9)
}

type gpuRow struct {
	T               float64 // seconds since the run's first sample
	Index           int
	Name            string
	PowerW, UtilGPU float64
	MemMiB          float64
	EnergyJ         float64
	PCIeRx, PCIeTx  float64
	Timestamp       time.Time
	PowerOK, UtilOK bool
	MemOK, EnergyOK bool
	PCIeRxOK, TxOK  bool
}

// seedChunks returns the parse times and gaps of the chunks that completed
// at least one line, the seed's definition of a chunk (gaps measured from
// the agent's previous such chunk; a stream's first has none).
func (d *runData) seedChunks() (parse, gap []float64) {
	for i, n := range d.ChunkLines {
		if n == 0 {
			continue
		}
		parse = append(parse, d.ChunkParseMs[i])
		if g := d.ChunkSeedGapMs[i]; !math.IsNaN(g) {
			gap = append(gap, g)
		}
	}
	return parse, gap
}

// allChunks returns the parse times and gaps of every transport read.
func (d *runData) allChunks() (parse, gap []float64) {
	for _, g := range d.ChunkGapMs {
		if !math.IsNaN(g) {
			gap = append(gap, g)
		}
	}
	return d.ChunkParseMs, gap
}

// loadRun reads the files of a finished run. Missing trace files are not
// errors (a template command writes no chunks; a machine without a GPU no
// gpu_metrics); an unreadable or malformed file is.
func loadRun(root string, r Run) (*runData, error) {
	dir, err := r.Dir(root)
	if err != nil {
		return nil, err
	}
	d := &runData{Run: r}
	runPath := filepath.Join(dir, RunFile(r.Index, ""))
	if b, err := os.ReadFile(runPath); err == nil {
		var res profiler.RunResult
		if err := json.Unmarshal(b, &res); err != nil {
			return nil, fmt.Errorf("suite: report: %s: %w", runPath, err)
		}
		d.Result = &res
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("suite: report: %w", err)
	}
	if err := d.readChunks(filepath.Join(dir, RunFile(r.Index, ChunkMetrics))); err != nil {
		return nil, err
	}
	var firstLag time.Time
	if err := readCSV(filepath.Join(dir, RunFile(r.Index, LoopLag)), func(col map[string]int, rec []string) error {
		ts, err := parseTime(field(rec, col, "timestamp"))
		if err != nil {
			return err
		}
		lag, err := parseFloat(field(rec, col, "lag_ms"))
		if err != nil {
			return err
		}
		d.LagT = append(d.LagT, secondsSince(ts, &firstLag))
		d.LagMs = append(d.LagMs, lag)
		return nil
	}); err != nil {
		return nil, err
	}
	var firstGPU time.Time
	if err := readCSV(filepath.Join(dir, RunFile(r.Index, GPUMetrics)), func(col map[string]int, rec []string) error {
		ts, err := parseTime(field(rec, col, "timestamp"))
		if err != nil {
			return err
		}
		g := gpuRow{Timestamp: ts, T: secondsSince(ts, &firstGPU), Name: field(rec, col, "name")}
		g.Index, _ = strconv.Atoi(field(rec, col, "index"))
		var errs []error
		opt := func(name string, v *float64, ok *bool) {
			s := field(rec, col, name)
			if s == "" {
				*v = math.NaN()
				return
			}
			f, err := parseFloat(s)
			errs = append(errs, err)
			*v, *ok = f, err == nil
		}
		opt("power.draw [W]", &g.PowerW, &g.PowerOK)
		opt("utilization.gpu [%]", &g.UtilGPU, &g.UtilOK)
		opt("memory.used [MiB]", &g.MemMiB, &g.MemOK)
		opt("energy [J]", &g.EnergyJ, &g.EnergyOK)
		opt("pcie.rx [MB/s]", &g.PCIeRx, &g.PCIeRxOK)
		opt("pcie.tx [MB/s]", &g.PCIeTx, &g.TxOK)
		if err := errors.Join(errs...); err != nil {
			return err
		}
		d.GPU = append(d.GPU, g)
		return nil
	}); err != nil {
		return nil, err
	}
	sumPath := filepath.Join(dir, gpuSummaryFile(r.Index))
	if b, err := os.ReadFile(sumPath); err == nil {
		var rep gpumon.Report
		if err := json.Unmarshal(b, &rep); err != nil {
			return nil, fmt.Errorf("suite: report: %s: %w", sumPath, err)
		}
		d.GPUSummary = &rep
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("suite: report: %w", err)
	}
	return d, nil
}

// readChunks reads a run's chunk_metrics CSV (a missing file is none).
func (d *runData) readChunks(path string) error {
	var first time.Time
	lastLine := map[string]float64{} // agent → since_start_ms of its last chunk with a line
	return readCSV(path, func(col map[string]int, rec []string) error {
		ts, err := parseTime(field(rec, col, "timestamp"))
		if err != nil {
			return err
		}
		parse, err := parseFloat(field(rec, col, "parse_ms"))
		if err != nil {
			return err
		}
		// A stream's first chunk has no gap (an empty field): its wait
		// was the time to first byte, not an inter-read gap.
		gap := math.NaN()
		if g := field(rec, col, "gap_ms"); g != "" {
			if gap, err = parseFloat(g); err != nil {
				return err
			}
		}
		// Files without the lines column (older ones) count every chunk
		// as completing a line.
		lines := 1
		if l := field(rec, col, "lines"); l != "" {
			if lines, err = strconv.Atoi(l); err != nil {
				return fmt.Errorf("lines %q is not an integer", l)
			}
		}
		agent := field(rec, col, "agent_id")
		seedGap := math.NaN()
		if lines > 0 {
			if s := field(rec, col, "since_start_ms"); s != "" {
				since, err := parseFloat(s)
				if err != nil {
					return err
				}
				if prev, ok := lastLine[agent]; ok {
					seedGap = since - prev
				}
				lastLine[agent] = since
			} else {
				seedGap = gap
			}
		}
		d.ChunkT = append(d.ChunkT, secondsSince(ts, &first))
		d.ChunkParseMs = append(d.ChunkParseMs, parse)
		d.ChunkGapMs = append(d.ChunkGapMs, gap)
		d.ChunkSeedGapMs = append(d.ChunkSeedGapMs, seedGap)
		d.ChunkAgent = append(d.ChunkAgent, agent)
		d.ChunkLines = append(d.ChunkLines, lines)
		return nil
	})
}

func secondsSince(t time.Time, first *time.Time) float64 {
	if first.IsZero() {
		*first = t
	}
	return t.Sub(*first).Seconds()
}

func field(rec []string, col map[string]int, name string) string {
	if i, ok := col[name]; ok && i < len(rec) {
		return rec[i]
	}
	return ""
}

func parseFloat(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp", s)
	}
	return t, nil
}

// readCSV calls fn for each record of the CSV file at path with a map from
// column name to index. A missing file is not an error. Errors name the
// file and line.
func readCSV(path string, fn func(col map[string]int, rec []string) error) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("suite: report: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	hdr, err := cr.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("suite: report: %s: %w", path, err)
	}
	col := make(map[string]int, len(hdr))
	for i, h := range hdr {
		col[h] = i
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return fmt.Errorf("suite: report: %s: %w", path, err)
		}
		if err := fn(col, rec); err != nil {
			return fmt.Errorf("suite: report: %s:%d: %w", path, line, err)
		}
	}
}
