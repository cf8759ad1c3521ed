package profiler

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"tr117/internal/simmark"
	"tr117/profiler/ollamatest"
	"tr117/sink"
)

// twoSims starts one simulator per default agent.
func twoSims(t *testing.T, collector, insight ollamatest.Config) (string, string) {
	t.Helper()
	return simServer(t, collector).URL, simServer(t, insight).URL
}

func TestRunnerTwoAgents(t *testing.T) {
	sim := ollamatest.Config{TokensPerSecond: 400, TTFT: 20 * time.Millisecond, ResponseTokens: 40}
	cu, iu := twoSims(t, sim, sim)
	dir := t.TempDir()
	chunks, err := sink.CreateCSV[Chunk](filepath.Join(dir, "chunk_metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lags, err := sink.CreateCSV[LagSample](filepath.Join(dir, "loop_lag.csv"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Agents:   DefaultAgents("gemma3:latest", cu, iu, ChimeraHomo, DefaultOptions(), DefaultOptions()),
		Scenario: ChimeraHomo,
		Warmup:   true,
		Lag:      LagConfig{Interval: 5 * time.Millisecond},
	}
	r, err := NewRunner(cfg, Sinks{Chunks: chunks, Lag: lags})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if err := r.Warmup(ctx); err != nil {
		t.Fatal(err)
	}
	var runs []*RunResult
	for i := 1; i <= 2; i++ {
		rr, err := r.Run(ctx, i)
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if err := rr.WriteFile(dir); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, rr)
	}
	chunks.Close()
	lags.Close()

	for _, rr := range runs {
		if len(rr.Agents) != 2 || rr.Agents[0].ID != "collector" || rr.Agents[1].ID != "insight" {
			t.Fatalf("agents %+v", rr.Agents)
		}
		var seq float64
		for _, a := range rr.Agents {
			m := a.Metrics
			if a.Error != "" || m.TokensGenerated != 40 || !evalCountMatches(a.Stream) || m.TTFTMS == nil || *m.TTFTMS > m.TotalDurationMS {
				t.Errorf("agent %s: error %q metrics %+v", a.ID, a.Error, m)
			}
			if !m.ConnReused {
				t.Errorf("agent %s: measured run did not reuse the warm-up's connection", a.ID)
			}
			if want := float64(m.TokensGenerated) / (m.TotalDurationMS / 1000); math.Abs(m.ThroughputTokensPerSec-want) > 1e-6*want {
				t.Errorf("throughput %v, want %v", m.ThroughputTokensPerSec, want)
			}
			if a.Options["num_ctx"] != 512 || a.Options["num_gpu"] != 80 {
				t.Errorf("options %v", a.Options)
			}
			seq += m.TotalDurationMS
		}
		if math.Abs(rr.SequentialEstimateMS-seq) > 1e-9 {
			t.Errorf("sequential estimate %v, want %v", rr.SequentialEstimateMS, seq)
		}
		if rr.ConcurrencySpeedup == nil || rr.EfficiencyPercent == nil {
			t.Fatalf("run %d without failures has no speedup or efficiency", rr.Run)
		}
		speedup, eff := *rr.ConcurrencySpeedup, *rr.EfficiencyPercent
		if got := rr.SequentialEstimateMS / rr.ConcurrentWallTimeMS; math.Abs(speedup-got) > 1e-9 {
			t.Errorf("speedup %v, want %v", speedup, got)
		}
		if math.Abs(eff-speedup/2*100) > 1e-9 {
			t.Errorf("efficiency %v, speedup %v", eff, speedup)
		}
		if rr.ConcurrentWallTimeMS < 100 || eff <= 50 || eff > 100.5 {
			t.Errorf("wall %v ms, efficiency %v%%", rr.ConcurrentWallTimeMS, eff)
		}
		if rr.LoopLag.Samples == 0 {
			t.Errorf("no lag samples")
		}
	}

	// run_1.json carries the seed's fields.
	b, err := os.ReadFile(filepath.Join(dir, "run_1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"scenario", "agents", "concurrent_wall_time_ms", "concurrency_speedup", "efficiency_percent", "read_buffer_size", "sequential_estimate_ms", "loop_lag"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("run_1.json lacks %q", k)
		}
	}
	agent := doc["agents"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "base_url", "options", "response", "metrics"} {
		if _, ok := agent[k]; !ok {
			t.Errorf("agent lacks %q", k)
		}
	}
	for _, k := range []string{"tokens_generated", "throughput_tokens_per_sec", "ttft_ms", "total_duration_ms", "eval_count", "eval_duration", "prompt_eval_duration"} {
		if _, ok := agent["metrics"].(map[string]any)[k]; !ok {
			t.Errorf("agent metrics lack %q", k)
		}
	}

	// The CSVs parse, with the seed's columns first, and account for
	// every chunk of both runs (the warm-up is not recorded).
	rows := readCSV(t, filepath.Join(dir, "chunk_metrics.csv"))
	if strings.Join(rows[0][:6], ",") != "timestamp,agent_id,chunk_index,bytes,gap_ms,parse_ms" {
		t.Errorf("chunk header %v", rows[0])
	}
	want := 0
	for _, rr := range runs {
		for _, a := range rr.Agents {
			want += a.Metrics.Chunks
		}
	}
	if len(rows)-1 != want {
		t.Errorf("%d chunk rows, want %d", len(rows)-1, want)
	}
	// gap_ms is empty exactly for each stream's first chunk: its time to
	// first byte is no gap between chunks.
	for _, row := range rows[1:] {
		if first := row[2] == "0"; first != (row[4] == "") {
			t.Errorf("chunk %s of %s has gap_ms %q", row[2], row[1], row[4])
		}
	}
	lrows := readCSV(t, filepath.Join(dir, "loop_lag.csv"))
	if strings.Join(lrows[0][:2], ",") != "timestamp,lag_ms" || len(lrows)-1 != runs[0].LoopLag.Samples+runs[1].LoopLag.Samples {
		t.Errorf("loop_lag.csv: header %v, %d rows", lrows[0], len(lrows)-1)
	}

	rep := NewReport(runs)
	if rep.Runs != 2 || len(rep.Agents) != 2 || rep.Agents[0].TTFTMS.N != 2 || rep.Agents[0].ITLMS.N != 2*39 {
		t.Errorf("report %+v", rep)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil || !strings.Contains(text.String(), "efficiency") {
		t.Errorf("report text %q, %v", text.String(), err)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func TestRunnerOneAgentFails(t *testing.T) {
	for _, fault := range []ollamatest.Fault{
		{Kind: ollamatest.FaultHTTPError, Status: 404},
		{Kind: ollamatest.FaultErrorLine, After: 3},
		{Kind: ollamatest.FaultCut, After: 3},
		{Kind: ollamatest.FaultMalformed, After: 3},
		{Kind: ollamatest.FaultStall, After: 3},
		{Kind: ollamatest.FaultAbort, After: 3},
		{Kind: ollamatest.FaultRepeat, After: 3},
	} {
		t.Run(string(fault.Kind), func(t *testing.T) {
			ok := ollamatest.Config{Unpaced: true, ResponseTokens: 20}
			bad := ok
			bad.ResponseTokens = 60 // room for a loop that trips the repetition abort
			bad.Faults = map[string]ollamatest.Fault{"gemma3:latest": fault}
			cu, iu := twoSims(t, ok, bad)
			servers := goleak.IgnoreCurrent()
			var chunks sink.Memory[Chunk]
			r, err := NewRunner(Config{
				Agents:      DefaultAgents("gemma3:latest", cu, iu, BaselineVsChimera, DefaultOptions(), Options{}),
				IdleTimeout: 100 * time.Millisecond,
			}, Sinks{Chunks: &chunks})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			rr, err := r.Run(context.Background(), 1)
			if err == nil {
				t.Fatal("no error")
			}
			var se *StreamError
			if !errors.As(err, &se) || se.Agent != "insight" || !strings.Contains(err.Error(), "agent insight: "+iu) {
				t.Errorf("error %v does not name the insight agent and %s", err, iu)
			}
			co, in := rr.Agents[0], rr.Agents[1]
			if co.Error != "" || !evalCountMatches(co.Stream) || co.Metrics.TokensGenerated != 20 {
				t.Errorf("collector: %q %+v", co.Error, co.Metrics)
			}
			if co.Options != nil {
				t.Errorf("baseline collector sent options %v", co.Options)
			}
			if in.Error == "" || in.Error != in.Err.Error() || rr.Failed != 1 {
				t.Errorf("insight error %q, failed %d", in.Error, rr.Failed)
			}
			if fault.After > 0 && in.Metrics.TokensGenerated < fault.After {
				t.Errorf("insight kept %d tokens", in.Metrics.TokensGenerated)
			}
			// A run with a failed agent has no speedup or efficiency: JSON
			// null, so that no one averages the time of a failure. Its wall
			// time is still measured.
			b, err := json.Marshal(rr)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"concurrency_speedup", "efficiency_percent"} {
				if v, ok := doc[k]; !ok || v != nil {
					t.Errorf("run with a failed agent: %s = %v (present %v), want null", k, v, ok)
				}
			}
			if w, _ := doc["concurrent_wall_time_ms"].(float64); w <= 0 {
				t.Errorf("concurrent_wall_time_ms %v", doc["concurrent_wall_time_ms"])
			}
			// Nothing the run started outlives it but the kept-alive
			// connections, which Close ends.
			r.Close()
			goleak.VerifyNone(t, servers)
		})
	}
}

func TestRunnerCancel(t *testing.T) {
	sim := ollamatest.Config{TokensPerSecond: 200, TTFT: -1, ResponseTokens: 10000}
	cu, iu := twoSims(t, sim, sim)
	servers := goleak.IgnoreCurrent()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Ctrl-C arrives while the insight agent is streaming.
	wrap := func(a Agent, s Streamer) Streamer {
		return StreamerFunc(func(ctx context.Context, req *Request, fn func(*Message) error) (*Result, error) {
			return s.Stream(ctx, req, func(m *Message) error {
				if a.ID == InsightID && m.Index == 10 {
					cancel()
				}
				return fn(m)
			})
		})
	}
	r, err := NewRunner(Config{Agents: DefaultAgents("gemma3:latest", cu, iu, ChimeraHomo, DefaultOptions(), DefaultOptions()), Wrap: wrap}, Sinks{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rr, err := r.Run(ctx, 1)
	if err != context.Canceled {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	for _, a := range rr.Agents {
		if !errors.Is(a.Err, context.Canceled) || !strings.Contains(a.Error, "agent "+a.ID+": "+a.BaseURL) {
			t.Errorf("agent %s error %q", a.ID, a.Error)
		}
	}
	if rr.Agents[1].Metrics.TokensGenerated < 10 {
		t.Errorf("insight kept %d tokens", rr.Agents[1].Metrics.TokensGenerated)
	}
	r.Close()
	goleak.VerifyNone(t, servers)
}

func TestRunnerConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Agents: []Agent{{ID: "a", URL: "http://x", Model: "m"}, {ID: "a", URL: "http://y", Model: "m"}}},
		{Agents: []Agent{{ID: "a", Model: "m"}}},
		{Agents: []Agent{{ID: "a", URL: "http://x", Model: "m"}}, API: "completions"},
		{Agents: []Agent{{ID: "a", URL: "http://x", Model: "m"}}, ReadBufferSize: -1},
		{Agents: []Agent{{ID: "a", URL: "http://x", Model: "m"}}, ReadBufferSize: MaxReadBufferSize + 1},
	} {
		if _, err := NewRunner(cfg, Sinks{}); err == nil || !strings.HasPrefix(err.Error(), "profiler: ") {
			t.Errorf("NewRunner(%+v) error %v", cfg, err)
		}
	}
}

func TestRunnerConcurrencyLimit(t *testing.T) {
	// With one permit the agents take turns, so the wall time is the sum
	// of their times: speedup about 1, efficiency about 50%.
	sim := ollamatest.Config{TokensPerSecond: 500, TTFT: 10 * time.Millisecond, ResponseTokens: 25}
	cu, iu := twoSims(t, sim, sim)
	r, err := NewRunner(Config{
		Agents:      DefaultAgents("gemma3:latest", cu, iu, ChimeraHomo, DefaultOptions(), DefaultOptions()),
		Concurrency: 1,
	}, Sinks{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rr, err := r.Run(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Concurrency != 1 || *rr.ConcurrencySpeedup > 1.0001 || *rr.EfficiencyPercent > 50.01 {
		t.Errorf("one permit: speedup %.3f, efficiency %.1f%%", *rr.ConcurrencySpeedup, *rr.EfficiencyPercent)
	}
	a, b := rr.Agents[0].Stream, rr.Agents[1].Stream
	first, second := a, b
	if b.Start.Before(a.Start) {
		first, second = b, a
	}
	if second.Start.Before(first.Start.Add(first.Total)) {
		t.Errorf("second agent started %v after the first, which took %v", second.Start.Sub(first.Start), first.Total)
	}
}

func TestRunnerWarmupFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	up := simServer(t, ollamatest.Config{Unpaced: true}).URL
	r, err := NewRunner(Config{Agents: DefaultAgents("gemma3:latest", down, up, ChimeraHomo, DefaultOptions(), DefaultOptions()), Warmup: true}, Sinks{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err = r.Warmup(context.Background())
	var se *StreamError
	if !errors.As(err, &se) || se.Agent != CollectorID || !strings.HasPrefix(err.Error(), "profiler: agent collector: "+down+"/api/generate: warm-up: dial tcp ") {
		t.Errorf("warm-up error %v", err)
	}
}

// TestRunnerMarksSimulated checks that a run against tr117's simulator says
// so in every agent, the run file and the report, and that a server without
// the simulator's mark (real Ollama, as far as the client can tell) does not.
func TestRunnerMarksSimulated(t *testing.T) {
	sim := ollamatest.Config{TokensPerSecond: 2000, ResponseTokens: 4}
	cu := simServer(t, sim).URL
	// The same simulator behind a proxy that drops the mark.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		ollamatest.NewHandler(sim).ServeHTTP(rec, r)
		rec.Result().Header.Del(simmark.Header)
		for k, v := range rec.Result().Header {
			if k != simmark.Header {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(plain.Close)
	cfg := Config{Agents: DefaultAgents("tiny", cu, plain.URL, ChimeraHomo, DefaultOptions(), DefaultOptions()), Scenario: ChimeraHomo}
	r, err := NewRunner(cfg, Sinks{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rr, err := r.Run(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !rr.Agents[0].Simulated || rr.Agents[1].Simulated || !rr.Simulated {
		t.Errorf("simulated: run %v, collector %v, insight %v; want true, true, false", rr.Simulated, rr.Agents[0].Simulated, rr.Agents[1].Simulated)
	}
	dir := t.TempDir()
	if err := rr.WriteFile(dir); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "run_1.json"))
	if !strings.Contains(string(b), `"simulated": true`) {
		t.Errorf("run_1.json does not say simulated:\n%s", b)
	}
	// The real server's agent says so too: a file read alone tells real
	// from simulated without relying on a missing key.
	var doc struct {
		Insight map[string]any `json:"insight"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if v, ok := doc.Insight["simulated"]; !ok || v != false {
		t.Errorf("run_1.json insight agent: simulated = %v (present %v), want false", v, ok)
	}
	var text strings.Builder
	rep := NewReport([]*RunResult{rr})
	rep.WriteText(&text)
	if !rep.Simulated || !strings.HasPrefix(text.String(), "SIMULATED") {
		t.Errorf("report: simulated %v, text:\n%s", rep.Simulated, text.String())
	}
}
