// Package backend decides what serves the two endpoints of the suite, the
// profiler and the throttle command: the real Ollama servers at the
// configured URLs, or two embedded simulators (tr117/profiler/ollamatest)
// when neither answers, and where each kind of result goes by default.
package backend

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"tr117/profiler/ollamatest"
	"tr117/suite"
)

// Modes of --backend.
const (
	Auto   = "auto"
	Ollama = "ollama"
	Sim    = "sim"
)

// SimConfig is how the embedded simulators behave: a realistic pace by
// default (100 tok/s per stream, 50 ms to the first token, ±10% jitter),
// about what gemma3 does on a laptop RTX 4080, with qwen2.5:7b at 70% of
// that rate, as a 7B model is slower than a 4B one on the same GPU.
type SimConfig struct {
	TokensPerSecond float64
	TTFT            time.Duration
	Jitter          float64
}

// QwenShare is qwen2.5:7b's simulated rate as a share of TokensPerSecond.
const QwenShare = 0.7

// Backend is the chosen backend. Close stops the simulators, if any.
type Backend struct {
	Name         string // suite.BackendOllama or suite.BackendSim
	CollectorURL string
	InsightURL   string
	// Reason says why the simulator is used, for the screen.
	Reason string
	// Simulated is true for the sim backend, and for the ollama backend
	// when simulators answer at its URLs (scripts/ollama-dev.sh start --sim).
	Simulated bool
	// Endpoints are what the real servers answered (version, models); nil
	// for the embedded simulators.
	Endpoints []suite.Endpoint
	// Sim is the simulators' configurations by role (for the manifest),
	// nil for real servers.
	Sim  map[string]ollamatest.Config
	sims []*ollamatest.Server
}

// Close stops the simulators.
func (b *Backend) Close() {
	for _, s := range b.sims {
		s.Close()
	}
	b.sims = nil
}

// Choose picks the backend for mode given the plan's endpoints. With Auto it
// probes both URLs and falls back to simulators only when neither answers:
// when one answers and the other does not (a typo in one URL), simulating
// would silently drop a real server, so that is an error naming the silent
// URL, as is any silent endpoint with Ollama.
func Choose(ctx context.Context, mode, collectorURL, insightURL string, sim SimConfig) (*Backend, error) {
	switch mode {
	case Sim:
		return startSims(sim, "--backend sim"), nil
	case Auto, Ollama:
	default:
		return nil, fmt.Errorf("--backend %q: want auto, ollama or sim", mode)
	}
	hc := &http.Client{Timeout: 3 * time.Second}
	var down []error
	var silent []string
	simulated := false
	var eps []suite.Endpoint
	for _, ep := range []struct{ role, url string }{{"collector", collectorURL}, {"insight", insightURL}} {
		e, err := suite.ProbeEndpoint(ctx, hc, ep.role, ep.url)
		simulated = simulated || e.Simulated
		eps = append(eps, e)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			down = append(down, err)
			silent = append(silent, ep.role+" "+ep.url)
		}
	}
	if len(down) == 0 {
		return &Backend{Name: suite.BackendOllama, CollectorURL: collectorURL, InsightURL: insightURL, Simulated: simulated, Endpoints: eps}, nil
	}
	if mode == Ollama || len(down) < 2 {
		var hint []string
		for _, s := range silent {
			_, u, _ := strings.Cut(s, " ")
			if pu, err := url.Parse(u); err == nil && pu.Host != "" {
				hint = append(hint, "OLLAMA_HOST="+pu.Host+" ollama serve")
			}
		}
		need := "--backend ollama needs both servers answering"
		if mode == Auto {
			need = "the other endpoint answers, so this is not a machine without Ollama: tr117 falls back to simulators only when neither answers"
		}
		start := "start it"
		if len(down) > 1 {
			start = "start them"
		}
		return nil, fmt.Errorf("%w\n%s: %s (%s), point --collector-url/--insight-url at running servers, or use --backend sim", errors.Join(down...), need, start, strings.Join(hint, "; "))
	}
	return startSims(sim, "no Ollama answered at "+strings.Join(silent, " and ")), nil
}

// Root is the default results directory for results of a backend:
// "tr117-results" for real servers, "tr117-results-sim" for simulated
// ones, so that a simulated study and a real one never meet in one
// directory.
func Root(simulated bool) string {
	if simulated {
		return "tr117-results-sim"
	}
	return "tr117-results"
}

func startSims(sim SimConfig, reason string) *Backend {
	b := &Backend{Name: suite.BackendSim, Reason: reason, Simulated: true}
	cfg := ollamatest.Config{
		TokensPerSecond: sim.TokensPerSecond,
		Rates:           map[string]float64{"qwen2.5:7b": QwenShare * sim.TokensPerSecond},
		TTFT:            sim.TTFT,
		Jitter:          sim.Jitter,
	}
	b.Sim = map[string]ollamatest.Config{}
	for i, role := range []string{"collector", "insight"} {
		c := cfg
		c.Seed = uint64(i + 1)
		b.Sim[role] = c
		b.sims = append(b.sims, ollamatest.NewServer(c))
	}
	b.CollectorURL, b.InsightURL = b.sims[0].URL, b.sims[1].URL
	return b
}
