package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"tr117/examples/internal/agentcmd"
	"tr117/examples/internal/cli"
	"tr117/examples/internal/telcmd"
	"tr117/load"
	"tr117/profiler"
	"tr117/tokenizer"
)

// options is the parsed command line of a run.
type options struct {
	cfg    load.Config
	items  []load.Item
	approx bool
	sweep  *load.SweepConfig
	slo    load.SLO
	outDir string
	// outDirGiven is whether --output-dir was given (else a simulated
	// run's results go under tr117-results-sim).
	outDirGiven bool
	// sim is --backend sim: an embedded simulator serves the run.
	sim       bool
	overwrite bool
	resamples int
	tel       telcmd.Flags
}

// flagValues holds what the flags set, before it is checked.
type flagValues struct {
	url, model, api, outDir, arrival, dataset, optJSON string
	backend                                            string
	goodput, sweep, segment, startAt, tokenizer        string
	overwrite                                          bool
	rate, burst, inSpread, outSpread                   float64
	conc, maxConc, requests, inTok, outTok, turns      int
	sweepMax, resamples                                int
	ramp, duration, sweepTTFT, timeout                 time.Duration
	seed                                               uint64
	set                                                map[string]bool
	tel                                                telcmd.Flags
}

func defineFlags(fs *flag.FlagSet, v *flagValues) {
	fs.StringVar(&v.url, "url", profiler.DefaultCollectorURL, "server base URL")
	fs.StringVar(&v.backend, "backend", "url", "url: the server at --url; sim: an embedded Ollama simulator (100 tok/s per stream, 4 at once) serving --model, to try the command without a server")
	fs.StringVar(&v.model, "model", profiler.DefaultModel, "model to ask for")
	fs.StringVar(&v.api, "api", string(profiler.APIGenerate), "endpoint, as the profiler's --api")
	fs.StringVar(&v.outDir, "output-dir", defaultOutDir, "directory for requests.jsonl, summary.json, vllm_result.json, report.md and plots (simulated runs: tr117-results-sim/load)")
	fs.BoolVar(&v.overwrite, "overwrite", false, "replace the results of an earlier run in --output-dir (else refused)")
	fs.StringVar(&v.arrival, "arrival", string(load.Poisson), "arrival process: constant, poisson or gamma")
	fs.Float64Var(&v.rate, "rate", 0, "requests per second of an open loop")
	fs.Float64Var(&v.burst, "burstiness", 1, "gamma shape of --arrival gamma (1: Poisson; below 1 burstier)")
	fs.IntVar(&v.conc, "concurrency", 0, "closed loop: this many requests in flight, each sent when one ends")
	fs.IntVar(&v.maxConc, "max-concurrency", 0, "cap on an open loop's requests in flight (0: none); due requests wait for a slot")
	fs.DurationVar(&v.ramp, "ramp-up", 0, "raise the rate linearly from 0 over this time")
	fs.IntVar(&v.requests, "requests", 0, "requests to send (default 100 when --duration is not given)")
	fs.DurationVar(&v.duration, "duration", 0, "send requests due before this time")
	fs.Uint64Var(&v.seed, "seed", 0, "seed of the schedule and the synthetic prompts")
	fs.IntVar(&v.inTok, "input-tokens", 512, "synthetic prompt length in tokens (measured with --tokenizer, else approximated as words)")
	fs.Float64Var(&v.inSpread, "input-spread", 0, "uniform spread of --input-tokens, a fraction of it")
	fs.StringVar(&v.tokenizer, "tokenizer", "", "tokenizer that measures synthetic prompts: a tr117/tokenizer source (tokenizer.json, a GGUF, an Ollama model name, http://HOST:PORT/MODEL) or auto (the model in the local Ollama store, else at --url); none: approximate")
	fs.IntVar(&v.outTok, "output-tokens", 128, "response length in tokens, sent as num_predict (0: not sent)")
	fs.Float64Var(&v.outSpread, "output-spread", 0, "uniform spread of --output-tokens, a fraction of it")
	fs.StringVar(&v.dataset, "dataset", "", "JSONL prompts ({\"prompt\": …} or {\"messages\": […]}, optional max_tokens) instead of synthetic ones")
	fs.IntVar(&v.turns, "turns", 1, "turns per session: each turn sends the conversation so far plus a new prompt")
	fs.StringVar(&v.optJSON, "options", "", "model options as a JSON object, sent as they are, e.g. '{\"num_thread\":1}'")
	fs.StringVar(&v.goodput, "goodput", "", "goodput limits, e.g. ttft:500ms,tpot:50ms,e2e:10s")
	fs.StringVar(&v.sweep, "sweep", "", "rates (or concurrencies with --concurrency) to run in turn, e.g. 1,2,4,8; or auto")
	fs.DurationVar(&v.sweepTTFT, "sweep-ttft-p99", 10*time.Second, "--sweep auto: a point whose TTFT p99 passes this has saturated")
	fs.IntVar(&v.sweepMax, "sweep-max-points", 10, "--sweep auto: most points to run")
	fs.StringVar(&v.segment, "segment", "", "run only share i/n of the schedule (requests k with k mod n = i)")
	fs.StringVar(&v.startAt, "start-at", "", "RFC 3339 time at which the schedule starts (for workers on several machines)")
	fs.DurationVar(&v.timeout, "timeout", profiler.DefaultTimeout, "longest time for one request (0: none)")
	fs.IntVar(&v.resamples, "bootstrap-resamples", load.DefaultResamples, "bootstrap resamples of the percentiles' intervals")
	v.tel.Register(fs, true)
}

// exitCode is parse's error when cli.Parse has said all there is to say
// (after -h or a bad flag value): the command exits with it.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit %d", int(c)) }

// parse parses a run's flags. It returns an exitCode after -h or a value
// that is not of the flag's type (cli.Parse said why), else an error that
// names the flag.
func parse(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var v flagValues
	defineFlags(fs, &v)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: load [flags]
       load merge [--output-dir DIR] [--goodput LIMITS] [--overwrite] WORKER-DIR...

Sends requests to one server on an open-loop schedule (--rate, --arrival)
or a closed loop (--concurrency), and reports throughput, TTFT, ITL, TPOT,
end-to-end latency and goodput; --sweep steps the load up to find where
the server saturates. "load merge" joins the result directories of
several workers (one schedule split with --segment) into one report.

Flags:
`)
		fs.PrintDefaults()
	}
	if code, ok := cli.Parse(fs, args, stderr); !ok {
		return nil, exitCode(code)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("load: unexpected arguments %q", fs.Args())
	}
	v.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { v.set[f.Name] = true })
	o := &options{outDir: v.outDir, outDirGiven: v.set["output-dir"], overwrite: v.overwrite, resamples: v.resamples, tel: v.tel}
	switch {
	case v.backend != "url" && v.backend != "sim":
		return nil, fmt.Errorf("load: --backend %q: want url or sim", v.backend)
	case v.backend == "sim" && v.set["url"]:
		return nil, errors.New("load: --backend sim starts its own server: drop --url")
	}
	o.sim = v.backend == "sim"
	if _, err := v.tel.Export("load", os.Getenv); err != nil {
		return nil, err
	}
	for _, step := range []func(*flagValues) error{o.config, o.extras, o.parseSweep, o.checkNumbers, o.workload} {
		if err := step(&v); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// config builds the run's load.Config.
func (o *options) config(v *flagValues) error {
	api, err := profiler.ParseAPI(v.api)
	if err != nil {
		return flagError("api", err)
	}
	if err := agentcmd.CheckURLFlag("load", "url", v.url); err != nil {
		return err
	}
	arr, err := load.ParseArrival(v.arrival)
	if err != nil {
		return flagError("arrival", err)
	}
	if arr != load.Gamma && v.set["burstiness"] {
		return errors.New("load: --burstiness needs --arrival gamma")
	}
	if v.requests == 0 && v.duration == 0 {
		v.requests = 100
	}
	o.cfg = load.Config{
		Request:        profiler.Request{URL: v.url, API: api, Model: v.model},
		Schedule:       load.Schedule{Arrival: arr, Rate: v.rate, Burstiness: v.burst, RampUp: v.ramp, Requests: v.requests, Duration: v.duration, Seed: v.seed},
		Concurrency:    v.conc,
		MaxConcurrency: v.maxConc,
		Turns:          v.turns,
		Timeout:        v.timeout,
	}
	if o.cfg.Segment, err = load.ParseSegment(v.segment); err != nil {
		return flagError("segment", err)
	}
	if v.startAt != "" {
		if o.cfg.StartAt, err = time.Parse(time.RFC3339Nano, v.startAt); err != nil {
			return fmt.Errorf("load: --start-at %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", v.startAt)
		}
	}
	return nil
}

// extras parses --options and --goodput.
func (o *options) extras(v *flagValues) error {
	if v.optJSON != "" {
		if err := json.Unmarshal([]byte(v.optJSON), &o.cfg.Request.Options); err != nil {
			return fmt.Errorf("load: --options: not a JSON object: %w", err)
		}
	}
	if v.goodput != "" {
		var err error
		if o.slo, err = load.ParseSLO(v.goodput); err != nil {
			return flagError("goodput", err)
		}
	}
	return nil
}

func (o *options) parseSweep(v *flagValues) error {
	if v.sweep == "" {
		return nil
	}
	sw, err := load.ParseSweep(v.sweep)
	if err != nil {
		return flagError("sweep", err)
	}
	sw.Concurrency = v.conc > 0
	if sw.Auto && sw.Concurrency {
		return errors.New("load: --sweep auto raises the rate of an open loop; give --concurrency a list instead")
	}
	for _, p := range sw.Points {
		if sw.Concurrency && p != math.Trunc(p) {
			return fmt.Errorf("load: --sweep: concurrency %v is not a whole number", p)
		}
	}
	if sw.Auto && v.rate > 0 {
		sw.Start = v.rate
	}
	sw.TTFTP99, sw.MaxPoints = v.sweepTTFT, v.sweepMax
	if o.cfg.Segment.Count > 1 || !o.cfg.StartAt.IsZero() {
		return errors.New("load: --sweep runs on one machine: it cannot be combined with --segment or --start-at")
	}
	o.sweep = &sw
	return nil
}

func (o *options) checkNumbers(v *flagValues) error {
	switch {
	case o.sweep == nil && v.conc == 0 && !(v.rate > 0):
		if v.set["rate"] {
			return fmt.Errorf("load: --rate %v: must be positive", v.rate)
		}
		return errors.New("load: give --rate (an open loop), --concurrency (a closed loop) or --sweep")
	case v.set["rate"] && !(v.rate > 0):
		return fmt.Errorf("load: --rate %v: must be positive", v.rate)
	case v.conc < 0 || v.maxConc < 0 || v.turns < 1 || v.timeout < 0 || v.resamples < 1 || v.sweepMax < 1:
		return errors.New("load: --concurrency, --max-concurrency and --timeout must not be negative; --turns, --sweep-max-points and --bootstrap-resamples must be at least 1")
	case v.conc > 0 && v.set["rate"]:
		return errors.New("load: --rate sets an open loop and --concurrency a closed one: give one")
	case v.conc > 0 && v.maxConc > 0:
		return errors.New("load: --max-concurrency caps an open loop; a closed loop's cap is --concurrency")
	case v.requests < 0 || v.duration < 0 || v.ramp < 0:
		return errors.New("load: --requests, --duration and --ramp-up must not be negative")
	case v.inTok < 1 || v.outTok < 0 || v.inSpread < 0 || v.inSpread >= 1 || v.outSpread < 0 || v.outSpread >= 1:
		return errors.New("load: --input-tokens must be at least 1, --output-tokens not negative, and the spreads in [0, 1)")
	}
	if o.sweep == nil && v.conc == 0 {
		if _, err := o.cfg.Schedule.Offsets(); err != nil {
			return err
		}
	}
	return nil
}

// workload reads the dataset or makes the synthetic prompts.
func (o *options) workload(v *flagValues) error {
	var err error
	if v.dataset == "" {
		syn := load.Synthetic{Input: load.Lengths{Mean: v.inTok, Spread: v.inSpread}, Output: load.Lengths{Mean: v.outTok, Spread: v.outSpread}, Seed: v.seed}
		if syn.Tokenizer, err = loadTokenizer(v.tokenizer, v.url, v.model); err != nil {
			return err
		}
		if o.items, err = syn.Items(); err != nil {
			return err
		}
		o.approx = syn.Approximate()
		return nil
	}
	if v.set["input-tokens"] || v.set["input-spread"] || v.set["tokenizer"] {
		return errors.New("load: --input-tokens, --input-spread and --tokenizer describe synthetic prompts, not a --dataset")
	}
	if o.items, err = load.ReadDatasetFile(v.dataset); err != nil {
		return err
	}
	if v.set["output-tokens"] {
		for i := range o.items {
			if o.items[i].MaxTokens == 0 {
				o.items[i].MaxTokens = v.outTok
			}
		}
	}
	return nil
}

// loadTokenizer loads the tokenizer named by src ("" for none); "auto"
// tries the model in the local Ollama store and then at url.
func loadTokenizer(src, url, model string) (load.Encoder, error) {
	if src == "" {
		return nil, nil
	}
	sources := []string{src}
	if src == "auto" {
		sources = []string{"ollama:" + model, strings.TrimRight(url, "/") + "/" + model}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, _, err := tokenizer.Load(ctx, tokenizer.LoadConfig{}, sources...)
	if err != nil {
		return nil, fmt.Errorf("load: --tokenizer %s: %w (leave --tokenizer out to approximate the lengths)", src, err)
	}
	return tok, nil
}
