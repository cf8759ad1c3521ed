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
)

// runData is what the report needs from one finished run, read back from
// the files the run wrote. Reading from disk (rather than from memory)
// lets a resumed suite report on runs of earlier sessions, and lets
// [BuildReport] be pointed at any results directory.
type runData struct {
	Run Run
	// From run_<i>.json.
	Efficiency float64 // percent; NaN when not recorded
	WallMs     float64
	Agents     []agentData
	// From run_<i>_chunk_metrics.csv. ChunkParseMs, ChunkT and
	// ChunkAgent have one value per chunk; ChunkGapMs one per chunk that
	// has a gap (not a stream's first).
	ChunkGapMs, ChunkParseMs []float64
	ChunkT                   []float64 // seconds since the run's first chunk
	ChunkAgent               []string
	// From run_<i>_loop_lag.csv.
	LagMs []float64
	LagT  []float64 // seconds since the run's first lag sample
	// From run_<i>_gpu_metrics.csv and run_<i>_gpu_summary.json.
	GPU        []gpuRow
	GPUSummary *gpumon.Report
}

type agentData struct {
	ID              string  `json:"id"`
	TokensGenerated float64 `json:"tokens_generated"`
	ClientTokPerSec float64 `json:"throughput_tokens_per_sec"`
	TTFTms          float64 `json:"ttft_ms"`
	TotalMs         float64 `json:"total_duration_ms"`
	EvalCount       float64 `json:"eval_count"`
	EvalDurationNs  float64 `json:"eval_duration"`
	ServerTotalNs   float64 `json:"server_total_duration"`
	Error           string  `json:"error"`
}

// ServerTokPerSec is eval_count / eval_duration, NaN when not reported.
func (a agentData) ServerTokPerSec() float64 {
	if a.EvalDurationNs <= 0 {
		return math.NaN()
	}
	return a.EvalCount / (a.EvalDurationNs / 1e9)
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

// runSummaryJSON is the part of run_<i>.json the report reads: the seed's
// field names, which the profiler and throttle packages keep.
type runSummaryJSON struct {
	EfficiencyPercent    *float64 `json:"efficiency_percent"`
	ConcurrentWallTimeMs *float64 `json:"concurrent_wall_time_ms"`
	Agents               []struct {
		ID      string    `json:"id"`
		Error   string    `json:"error"`
		Metrics agentData `json:"metrics"`
	} `json:"agents"`
}

// loadRun reads the files of a finished run. Missing trace files are not
// errors (a template command writes no chunks; a machine without a GPU no
// gpu_metrics); an unreadable or malformed file is.
func loadRun(root string, r Run) (*runData, error) {
	dir, err := r.Dir(root)
	if err != nil {
		return nil, err
	}
	d := &runData{Run: r, Efficiency: math.NaN(), WallMs: math.NaN()}
	if b, err := os.ReadFile(filepath.Join(dir, RunFile(r.Index, ""))); err == nil {
		var s runSummaryJSON
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("suite: report: %s: %w", filepath.Join(dir, RunFile(r.Index, "")), err)
		}
		if s.EfficiencyPercent != nil {
			d.Efficiency = *s.EfficiencyPercent
		}
		if s.ConcurrentWallTimeMs != nil {
			d.WallMs = *s.ConcurrentWallTimeMs
		}
		for _, a := range s.Agents {
			m := a.Metrics
			if m.ID == "" {
				m.ID = a.ID
			}
			if m.Error == "" {
				m.Error = a.Error
			}
			d.Agents = append(d.Agents, m)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("suite: report: %w", err)
	}
	var firstChunk time.Time
	if err := readCSV(filepath.Join(dir, RunFile(r.Index, ChunkMetrics)), func(col map[string]int, rec []string) error {
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
		if g := field(rec, col, "gap_ms"); g != "" {
			gap, err := parseFloat(g)
			if err != nil {
				return err
			}
			d.ChunkGapMs = append(d.ChunkGapMs, gap)
		}
		d.ChunkT = append(d.ChunkT, secondsSince(ts, &firstChunk))
		d.ChunkParseMs = append(d.ChunkParseMs, parse)
		d.ChunkAgent = append(d.ChunkAgent, field(rec, col, "agent_id"))
		return nil
	}); err != nil {
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
