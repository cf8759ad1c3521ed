package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tr117/examples/internal/agentcmd"
	"tr117/examples/internal/telcmd"
	"tr117/internal/layout"
	"tr117/load"
	"tr117/profiler"
	"tr117/profiler/ollamatest"
	"tr117/sink"
	"tr117/telemetry"
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "merge" {
		return merge(args[1:], stdout, stderr)
	}
	o, err := parse(args, stderr)
	if code, ok := err.(exitCode); ok {
		return int(code)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	// Telemetry's configuration is the command line's: refused (exit 2)
	// before the server is asked.
	sess, err := telcmd.Start(ctx, "load", o.tel, os.Getenv, nil)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if o.sim {
		sim := ollamatest.NewServer(ollamatest.Config{Models: []string{o.cfg.Request.Model}, TokensPerSecond: 100, TTFT: 50 * time.Millisecond, Parallel: 4})
		defer sim.Close()
		o.cfg.Request.URL = sim.URL
	}
	srv, err := checkServer(ctx, o.cfg.Request)
	if err != nil {
		sess.Close(ctx)
		fmt.Fprintln(stderr, err)
		if ctx.Err() != nil {
			return agentcmd.ExitInterrupted
		}
		return 1
	}
	o.outDir = outputDir(o, srv.simulated)
	if err := prepareDir(o.outDir, o.overwrite); err != nil {
		sess.Close(ctx)
		fmt.Fprintln(stderr, err)
		if errors.Is(err, fs.ErrExist) {
			return 2 // earlier results: the flag decides
		}
		return 1
	}
	if err := agentcmd.CheckWritable("load", o.outDir); err != nil {
		sess.Close(ctx)
		fmt.Fprintln(stderr, err)
		return 1
	}
	announce(stdout, o.cfg.Request.URL, srv)
	return finish(ctx, o, stdout, stderr, sess)
}

// finish executes o and words its end: where the results are, what
// failed, an interruption.
func finish(ctx context.Context, o *options, stdout, stderr io.Writer, sess *telcmd.Session) int {
	failed, err := execute(ctx, o, stdout, stderr, sess)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "load: interrupted: %v; what was measured is in %s\n", ctx.Err(), o.outDir)
		return agentcmd.ExitInterrupted
	case err != nil:
		fmt.Fprintln(stderr, err)
		return 1
	case failed > 0:
		fmt.Fprintf(stderr, "load: %d requests failed; %s says why\n", failed, filepath.Join(o.outDir, load.RecordsFile))
		return 1
	}
	fmt.Fprintf(stdout, "results in %s\n", o.outDir)
	return 0
}

// prepareDir refuses a directory with earlier results unless overwrite,
// naming the flag that allows it.
func prepareDir(dir string, overwrite bool) error {
	err := load.PrepareDir(dir, overwrite)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w; pass --overwrite to replace them", err)
	}
	return err
}

// newStreamer returns the streamer for o's API. Each request's timeout is
// load.Config.Timeout, through its context.
func newStreamer(o *options, conns int) *profiler.Client {
	return profiler.NewClient(profiler.ClientConfig{
		ReadBufferSize: load.DefaultReadBufferSize,
		HTTPClient:     load.HTTPClient(conns, load.DefaultReadBufferSize),
	})
}

// execute runs o (one point or a sweep), writes the report, and returns how
// many requests failed. It closes sess; telemetry's export failures are
// reported on stderr and in summary.json (a sweep's sweep.json), and do
// not fail the run.
func execute(ctx context.Context, o *options, stdout, stderr io.Writer, sess *telcmd.Session) (int, error) {
	conns := max(o.cfg.Concurrency, o.cfg.MaxConcurrency, 64)
	c := newStreamer(o, conns)
	defer c.CloseIdleConnections()
	var s profiler.Streamer = c
	if wrap := sess.Wrap(nil); wrap != nil {
		s = wrap(profiler.Agent{}, c)
	}
	rec := sess.Recorder()
	var last summaryFile
	failed := 0
	point := func(ctx context.Context, v float64, label string) (load.SweepPoint, error) {
		cfg, dir := o.cfg, o.outDir
		if o.sweep != nil {
			dir = filepath.Join(o.outDir, label)
			if o.sweep.Concurrency {
				cfg.Concurrency = int(v)
			} else {
				cfg.Schedule.Rate = v
			}
		}
		p, err := runPoint(ctx, s, rec, o, cfg, dir, &last)
		p.Value, p.Label = v, label
		failed += p.Summary.Failed
		printPoint(stdout, &p)
		return p, err
	}
	var res load.SweepResult
	var err error
	if o.sweep != nil {
		res, err = load.Sweep(ctx, *o.sweep, point)
	} else {
		v := o.cfg.Schedule.Rate
		if o.cfg.Concurrency > 0 {
			v = float64(o.cfg.Concurrency)
		}
		var p load.SweepPoint
		p, err = point(ctx, v, "run")
		res = load.SweepResult{Points: []load.SweepPoint{p}, Saturation: -1}
	}
	st, terr := sess.Close(ctx)
	if terr != nil {
		fmt.Fprintln(stderr, terr)
	}
	tel := sess.Summary(st, terr)
	if len(res.Points) == 0 {
		return failed, err
	}
	if o.sweep != nil {
		err = errors.Join(err, sink.WriteJSONFile(filepath.Join(o.outDir, load.SweepFile), sweepFile{SweepResult: res, Telemetry: tel}))
		printSaturation(stdout, &res)
	} else if tel != nil && last.Config.Due > 0 {
		last.Telemetry = tel
		err = errors.Join(err, sink.WriteJSONFile(filepath.Join(o.outDir, load.SummaryFile), last))
	}
	return failed, errors.Join(err, writeReport(o.outDir, reportTitle(o, time.Now()), &res))
}

// runPoint runs cfg into dir: requests.jsonl as requests end, then
// summary.json and vllm_result.json, also after an interruption; summary
// is set to what summary.json holds. rec (nil: none) records each
// request's schedule delay.
func runPoint(ctx context.Context, s profiler.Streamer, rec *telemetry.Recorder, o *options, cfg load.Config, dir string, summary *summaryFile) (load.SweepPoint, error) {
	out, err := load.CreateRecords(dir)
	if err != nil {
		return load.SweepPoint{}, err
	}
	started := time.Now()
	oc, runErr := load.Run(ctx, s, o.items, cfg, recordDelays(rec, out))
	err = errors.Join(runErr, out.Close())
	if oc == nil || len(oc.Records) == 0 {
		if err == nil {
			err = fmt.Errorf("load: %s: no requests were sent", dir)
		}
		return load.SweepPoint{}, err
	}
	rate := cfg.Schedule.Rate
	if cfg.Concurrency > 0 {
		rate = 0
	}
	sum, serr := load.Summarize(oc.Records, load.SummaryConfig{RequestedRate: rate, SLO: o.slo,
		Bootstrap: bootstrap(o.resamples), InputTokensApproximated: o.approx})
	p := load.SweepPoint{Summary: sum, Records: oc.Records}
	if serr != nil {
		return p, errors.Join(err, serr)
	}
	meta := load.VLLMMeta{Date: started, Backend: string(cfg.Request.API), Model: cfg.Request.Model, RequestRate: rate,
		Burstiness: cfg.Schedule.Burstiness, MaxConcurrency: cfg.MaxConcurrency, Goodput: !o.slo.IsZero()}
	if cfg.Concurrency > 0 {
		meta.MaxConcurrency = cfg.Concurrency
	}
	*summary = summaryFile{Summary: sum, Config: manifest{Config: cfg, Due: oc.Due, Start: oc.Start}}
	err = errors.Join(err,
		sink.WriteJSONFile(filepath.Join(dir, load.SummaryFile), *summary),
		sink.WriteJSONFile(filepath.Join(dir, load.VLLMFile), load.VLLMResult(meta, oc.Records, sum)))
	return p, err
}

// summaryFile is summary.json: the summary's fields, the run's
// configuration under "config", and what telemetry exported (when it was
// on) under "telemetry".
type summaryFile struct {
	load.Summary
	Config    manifest        `json:"config"`
	Telemetry *telcmd.Summary `json:"telemetry,omitempty"`
}

// sweepFile is sweep.json: the sweep's fields and, when telemetry was
// on, what it exported.
type sweepFile struct {
	load.SweepResult
	Telemetry *telcmd.Summary `json:"telemetry,omitempty"`
}

// recordDelays returns out, recording each scheduled request's schedule
// delay into rec first (tr117.schedule.delay; a session's later turns are
// sent when the previous one ends, not scheduled); out itself when rec is
// nil.
func recordDelays(rec *telemetry.Recorder, out sink.Sink[load.Record]) sink.Sink[load.Record] {
	if rec == nil {
		return out
	}
	return sink.Func[load.Record](func(r load.Record) error {
		if r.Turn == 0 {
			rec.RecordScheduleDelay(context.Background(), time.Duration(r.ScheduleDelayMS*float64(time.Millisecond)))
		}
		return out.Write(r)
	})
}

type manifest struct {
	load.Config
	Due   int       `json:"due"`
	Start time.Time `json:"start"`
}

// MarshalJSON writes the embedded Config's fields beside Due and Start
// (Config's own MarshalJSON, promoted, would drop them).
func (m manifest) MarshalJSON() ([]byte, error) { return layout.MarshalMillis(m) }

// UnmarshalJSON reads what MarshalJSON writes.
func (m *manifest) UnmarshalJSON(b []byte) error { return layout.UnmarshalMillis(b, m) }

func writeReport(dir, title string, res *load.SweepResult) error {
	plots, err := load.WritePlots(dir, res)
	var b strings.Builder
	if werr := load.WriteReport(&b, title, res, plots); werr != nil {
		return errors.Join(err, werr)
	}
	var h strings.Builder
	herr := load.WriteHTML(&h, dir, title, res, plots)
	if herr == nil {
		herr = sink.WriteFileAtomic(filepath.Join(dir, load.HTMLReportFile), []byte(h.String()))
	}
	return errors.Join(err, sink.WriteFileAtomic(filepath.Join(dir, load.ReportFile), []byte(b.String())), herr)
}

func printPoint(w io.Writer, p *load.SweepPoint) {
	s := &p.Summary
	fmt.Fprintf(w, "%s: %d requests, %d failed", p.Label, s.Requests, s.Failed)
	if s.Interrupted > 0 {
		fmt.Fprintf(w, ", %d interrupted", s.Interrupted)
	}
	if s.AchievedRate != nil && s.ScheduleRate != nil {
		fmt.Fprintf(w, ", sent %.4g req/s (schedule %.4g)", *s.AchievedRate, *s.ScheduleRate)
	}
	fmt.Fprintf(w, ", completed %.4g req/s, %.4g tok/s, schedule delay p99 %.3f ms", s.RequestThroughput, s.OutputTokensPerSecond, s.ScheduleDelayMS.P99)
	if s.TTFTMS != nil {
		fmt.Fprintf(w, ", TTFT p50 %.1f ms p99 %.1f ms", s.TTFTMS.P50.Estimate, s.TTFTMS.P99.Estimate)
	}
	if s.Goodput != nil {
		fmt.Fprintf(w, ", goodput %.1f%%", 100*s.Goodput.Share)
	}
	fmt.Fprintln(w)
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
}

func printSaturation(w io.Writer, res *load.SweepResult) {
	if res.Saturation < 0 {
		fmt.Fprintln(w, "no point saturated")
		return
	}
	fmt.Fprintf(w, "saturated at %s", res.Points[res.Saturation].Label)
	if res.Saturation > 0 {
		fmt.Fprintf(w, "; the highest point that kept up: %s", res.Points[res.Saturation-1].Label)
	}
	fmt.Fprintln(w)
}

// reportTitle names what was loaded, where and when: "Load run: tiny at
// http://127.0.0.1:11434 (generate API), 2026-12-01 12:00 UTC".
func reportTitle(o *options, now time.Time) string {
	r := o.cfg.Request
	return fmt.Sprintf("Load run: %s at %s (%s API), %s", r.Model, r.URL, r.API, now.UTC().Format("2006-01-02 15:04 UTC"))
}
