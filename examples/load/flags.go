package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"tr117/examples/internal/agentcmd"
	"tr117/load"
	"tr117/profiler"
	"tr117/tokbench"
)

// options is the parsed command line of a run.
type options struct {
	cfg       load.Config
	items     []load.Item
	approx    bool
	sweep     *load.SweepConfig
	slo       load.SLO
	outDir    string
	overwrite bool
	timeout   time.Duration
	resamples int
}

// parse parses a run's flags. It returns flag.ErrHelp for -h, or an error
// that names the flag.
func parse(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", profiler.DefaultCollectorURL, "server base URL")
	model := fs.String("model", profiler.DefaultModel, "model to ask for")
	apiFlag := fs.String("api", string(profiler.APIGenerate), "endpoint: "+apiNames())
	outDir := fs.String("output-dir", "tr117-results/load", "directory for requests.jsonl, summary.json, vllm_result.json, report.md and plots")
	overwrite := fs.Bool("overwrite", false, "replace the results of an earlier run in --output-dir (else refused)")
	arrival := fs.String("arrival", string(load.Poisson), "arrival process: constant, poisson or gamma")
	rate := fs.Float64("rate", 0, "requests per second of an open loop")
	burst := fs.Float64("burstiness", 1, "gamma shape of --arrival gamma (1: Poisson; below 1 burstier)")
	conc := fs.Int("concurrency", 0, "closed loop: this many requests in flight, each sent when one ends")
	maxConc := fs.Int("max-concurrency", 0, "cap on an open loop's requests in flight (0: none); due requests wait for a slot")
	ramp := fs.Duration("ramp-up", 0, "raise the rate linearly from 0 over this time")
	requests := fs.Int("requests", 0, "requests to send (default 100 when --duration is not given)")
	duration := fs.Duration("duration", 0, "send requests due before this time")
	seed := fs.Uint64("seed", 0, "seed of the schedule and the synthetic prompts")
	inTok := fs.Int("input-tokens", 512, "synthetic prompt length in tokens (measured with --tokenizer, else approximated as words)")
	tokSrc := fs.String("tokenizer", "", "tokenizer that measures synthetic prompts: a tokbench source (tokenizer.json, a GGUF, an Ollama model name, http://HOST:PORT/MODEL) or auto (the model in the local Ollama store, else at --url); none: approximate")
	inSpread := fs.Float64("input-spread", 0, "uniform spread of --input-tokens, a fraction of it")
	outTok := fs.Int("output-tokens", 128, "response length in tokens, sent as num_predict (0: not sent)")
	outSpread := fs.Float64("output-spread", 0, "uniform spread of --output-tokens, a fraction of it")
	dataset := fs.String("dataset", "", "JSONL prompts ({\"prompt\": …} or {\"messages\": […]}, optional max_tokens) instead of synthetic ones")
	turns := fs.Int("turns", 1, "turns per session: each turn sends the conversation so far plus a new prompt")
	optJSON := fs.String("options", "", "model options as a JSON object, sent as they are, e.g. '{\"num_thread\":1}'")
	goodput := fs.String("goodput", "", "goodput limits, e.g. ttft:500ms,tpot:50ms,e2e:10s")
	sweep := fs.String("sweep", "", "rates (or concurrencies with --concurrency) to run in turn, e.g. 1,2,4,8; or auto")
	sweepTTFT := fs.Duration("sweep-ttft-p99", 10*time.Second, "--sweep auto: a point whose TTFT p99 passes this has saturated")
	sweepMax := fs.Int("sweep-max-points", 10, "--sweep auto: most points to run")
	segment := fs.String("segment", "", "run only share i/n of the schedule (requests k with k mod n = i)")
	startAt := fs.String("start-at", "", "RFC 3339 time at which the schedule starts (for workers on several machines)")
	timeout := fs.Duration("timeout", profiler.DefaultTimeout, "longest time for one request (0: none)")
	resamples := fs.Int("bootstrap-resamples", load.DefaultResamples, "bootstrap resamples of the percentiles' intervals")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: load [flags]\n       load merge [--output-dir DIR] [--goodput LIMITS] [--overwrite] WORKER-DIR...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("load: unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	o := &options{outDir: *outDir, overwrite: *overwrite, timeout: *timeout, resamples: *resamples}
	api, err := profiler.ParseAPI(*apiFlag)
	if err != nil {
		return nil, fmt.Errorf("load: --api: %w", err)
	}
	if err := agentcmd.CheckURLFlag("load", "url", *url); err != nil {
		return nil, err
	}
	arr, err := load.ParseArrival(*arrival)
	if err != nil {
		return nil, fmt.Errorf("load: --arrival: %w", err)
	}
	if *requests == 0 && *duration == 0 {
		*requests = 100
	}
	o.cfg = load.Config{
		Request:        profiler.Request{URL: *url, API: api, Model: *model},
		Schedule:       load.Schedule{Arrival: arr, Rate: *rate, Burstiness: *burst, RampUp: *ramp, Requests: *requests, Duration: *duration, Seed: *seed},
		Concurrency:    *conc,
		MaxConcurrency: *maxConc,
		Turns:          *turns,
	}
	if arr != load.Gamma && set["burstiness"] {
		return nil, errors.New("load: --burstiness needs --arrival gamma")
	}
	if o.cfg.Segment, err = load.ParseSegment(*segment); err != nil {
		return nil, fmt.Errorf("load: --segment: %w", err)
	}
	if *startAt != "" {
		if o.cfg.StartAt, err = time.Parse(time.RFC3339Nano, *startAt); err != nil {
			return nil, fmt.Errorf("load: --start-at %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", *startAt)
		}
	}
	if *optJSON != "" {
		if err := json.Unmarshal([]byte(*optJSON), &o.cfg.Request.Options); err != nil {
			return nil, fmt.Errorf("load: --options: not a JSON object: %w", err)
		}
	}
	if *goodput != "" {
		if o.slo, err = load.ParseSLO(*goodput); err != nil {
			return nil, fmt.Errorf("load: --goodput: %w", err)
		}
	}
	if err := o.parseSweep(*sweep, *conc, *rate, *sweepTTFT, *sweepMax); err != nil {
		return nil, err
	}
	if err := o.checkNumbers(*rate, *conc, *maxConc, *turns, *timeout, *resamples, set); err != nil {
		return nil, err
	}
	if *dataset != "" {
		if set["input-tokens"] || set["input-spread"] {
			return nil, errors.New("load: --input-tokens and --input-spread describe synthetic prompts, not a --dataset")
		}
		if o.items, err = load.ReadDatasetFile(*dataset); err != nil {
			return nil, err
		}
		if set["output-tokens"] {
			for i := range o.items {
				if o.items[i].MaxTokens == 0 {
					o.items[i].MaxTokens = *outTok
				}
			}
		}
	} else {
		syn := load.Synthetic{Input: load.Lengths{Mean: *inTok, Spread: *inSpread}, Output: load.Lengths{Mean: *outTok, Spread: *outSpread}, Seed: *seed}
		if syn.Tokenizer, err = loadTokenizer(*tokSrc, *url, *model, stderr); err != nil {
			return nil, err
		}
		if o.items, err = syn.Items(); err != nil {
			return nil, err
		}
		o.approx = syn.Approximate()
	}
	return o, nil
}

func (o *options) parseSweep(s string, conc int, rate float64, ttft time.Duration, maxPoints int) error {
	if s == "" {
		return nil
	}
	sw, err := load.ParseSweep(s)
	if err != nil {
		return fmt.Errorf("load: --sweep: %w", err)
	}
	sw.Concurrency = conc > 0
	if sw.Auto && sw.Concurrency {
		return errors.New("load: --sweep auto raises the rate of an open loop; give --concurrency a list instead")
	}
	if sw.Auto && rate > 0 {
		sw.Start = rate
	}
	sw.TTFTP99, sw.MaxPoints = ttft, maxPoints
	if o.cfg.Segment.Count > 1 || !o.cfg.StartAt.IsZero() {
		return errors.New("load: --sweep runs on one machine: it cannot be combined with --segment or --start-at")
	}
	o.sweep = &sw
	return nil
}

func (o *options) checkNumbers(rate float64, conc, maxConc, turns int, timeout time.Duration, resamples int, set map[string]bool) error {
	switch {
	case o.sweep == nil && conc == 0 && !(rate > 0):
		if set["rate"] {
			return fmt.Errorf("load: --rate %v: must be positive", rate)
		}
		return errors.New("load: give --rate (an open loop), --concurrency (a closed loop) or --sweep")
	case set["rate"] && !(rate > 0):
		return fmt.Errorf("load: --rate %v: must be positive", rate)
	case conc < 0 || maxConc < 0 || turns < 1 || timeout < 0 || resamples < 1:
		return errors.New("load: --concurrency, --max-concurrency and --timeout must not be negative; --turns and --bootstrap-resamples must be at least 1")
	case conc > 0 && set["rate"]:
		return errors.New("load: --rate sets an open loop and --concurrency a closed one: give one")
	case conc > 0 && maxConc > 0:
		return errors.New("load: --max-concurrency caps an open loop; a closed loop's cap is --concurrency")
	case o.cfg.Schedule.Requests < 0 || o.cfg.Schedule.Duration < 0:
		return errors.New("load: --requests and --duration must not be negative")
	}
	if o.sweep == nil && conc == 0 {
		if _, err := o.cfg.Schedule.Offsets(); err != nil {
			return err
		}
	}
	return nil
}

func apiNames() string {
	return "generate or chat (Ollama), or any other API the profiler accepts"
}

// loadTokenizer loads the tokenizer named by src ("" for none). "auto"
// tries the model in the local Ollama store and then at url, and falls back
// to approximated lengths with a note on stderr.
func loadTokenizer(src, url, model string, stderr io.Writer) (load.Encoder, error) {
	if src == "" {
		return nil, nil
	}
	sources := []string{src}
	if src == "auto" {
		sources = []string{"ollama:" + model, strings.TrimRight(url, "/") + "/" + model}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, _, err := tokbench.Load(ctx, tokbench.LoadConfig{}, sources...)
	if err != nil {
		if src == "auto" {
			fmt.Fprintf(stderr, "load: --tokenizer auto: no tokenizer for %s (%v); prompt lengths are approximated\n", model, err)
			return nil, nil
		}
		return nil, fmt.Errorf("load: --tokenizer: %w", err)
	}
	return tok, nil
}
