package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"tr117/examples/internal/cli"
	"tr117/load"
	"tr117/sink"
	"tr117/stats"
)

func bootstrap(resamples int) stats.BootstrapConfig {
	return stats.BootstrapConfig{Resamples: resamples}
}

// merge is "load merge": it combines workers' requests.jsonl into one
// summary, from the raw records (exact percentiles).
func merge(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outDir := fs.String("output-dir", "tr117-results/load-merged", "directory for the merged requests.jsonl, summary.json, vllm_result.json, report.md and plots")
	overwrite := fs.Bool("overwrite", false, "replace the results of an earlier merge in --output-dir (else refused)")
	goodput := fs.String("goodput", "", "goodput limits, e.g. ttft:500ms,tpot:50ms,e2e:10s")
	resamples := fs.Int("bootstrap-resamples", load.DefaultResamples, "bootstrap resamples of the percentiles' intervals")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: load merge [flags] WORKER-DIR...")
		fs.PrintDefaults()
	}
	if code, ok := cli.Parse(fs, args, stderr); !ok {
		return code
	}
	var slo load.SLO
	var err error
	if *goodput != "" {
		if slo, err = load.ParseSLO(*goodput); err != nil {
			err = fmt.Errorf("load merge: --goodput: %s", strings.TrimPrefix(err.Error(), "load: "))
		}
	}
	switch {
	case err != nil:
	case fs.NArg() == 0:
		err = errors.New("load merge: name at least one worker's output directory")
	case *resamples < 1:
		err = errors.New("load merge: --bootstrap-resamples must be at least 1")
	default:
		err = prepareDir(*outDir, *overwrite)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if err := mergeDirs(fs.Args(), *outDir, slo, *resamples, stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func mergeDirs(dirs []string, outDir string, slo load.SLO, resamples int, stdout io.Writer) error {
	var recs []load.Record
	var cfgs []manifest
	for _, d := range dirs {
		rs, err := load.ReadRecordsFile(filepath.Join(d, load.RecordsFile))
		if err != nil {
			return err
		}
		recs = append(recs, rs...)
		m, err := readManifest(d)
		if err != nil {
			return err
		}
		cfgs = append(cfgs, m)
	}
	cfg, err := checkWorkers(dirs, cfgs)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return errors.New("load merge: the workers recorded no requests")
	}
	slices.SortFunc(recs, func(a, b load.Record) int { return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Turn, b.Turn)) })
	rate := cfg.Schedule.Rate
	if cfg.Concurrency > 0 {
		rate = 0
	}
	sum, err := load.Summarize(recs, load.SummaryConfig{RequestedRate: rate, SLO: slo, Bootstrap: bootstrap(resamples)})
	if err != nil {
		return err
	}
	out, err := load.CreateRecords(outDir)
	if err != nil {
		return err
	}
	for _, r := range recs {
		err = errors.Join(err, out.Write(r))
	}
	err = errors.Join(err, out.Close())
	cfg.Segment = load.Segment{}
	meta := load.VLLMMeta{Date: cfgs[0].Start, Backend: string(cfg.Request.API), Model: cfg.Request.Model, RequestRate: rate,
		Burstiness: cfg.Schedule.Burstiness, MaxConcurrency: cfg.MaxConcurrency, Goodput: !slo.IsZero()}
	err = errors.Join(err,
		sink.WriteJSONFile(filepath.Join(outDir, load.SummaryFile), mergedFile{Summary: sum, Config: cfg, Workers: dirs}),
		sink.WriteJSONFile(filepath.Join(outDir, load.VLLMFile), load.VLLMResult(meta, recs, sum)))
	p := load.SweepPoint{Label: "merged", Summary: sum, Records: recs}
	printPoint(stdout, &p)
	res := load.SweepResult{Points: []load.SweepPoint{p}, Saturation: -1}
	return errors.Join(err, writeReport(outDir, fmt.Sprintf("Load run merged from %d workers", len(dirs)), &res))
}

// mergedFile is a merge's summary.json.
type mergedFile struct {
	load.Summary
	Config  load.Config `json:"config"`
	Workers []string    `json:"workers"`
}

func readManifest(dir string) (manifest, error) {
	var f struct {
		Config manifest `json:"config"`
	}
	path := filepath.Join(dir, load.SummaryFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return manifest{}, fmt.Errorf("load merge: %w (each worker's directory needs the summary.json it wrote, for its schedule)", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return manifest{}, fmt.Errorf("load merge: %s: %w", path, err)
	}
	return f.Config, nil
}

// checkWorkers checks that the workers ran shares of one schedule: the
// same schedule and start, distinct segments of one count.
func checkWorkers(dirs []string, cfgs []manifest) (load.Config, error) {
	first := cfgs[0]
	seen := map[int]string{}
	for i, c := range cfgs {
		if c.Schedule != first.Schedule || c.Concurrency != first.Concurrency || c.Turns != first.Turns {
			return load.Config{}, fmt.Errorf("load merge: %s ran another schedule than %s", dirs[i], dirs[0])
		}
		if c.Segment.Count != first.Segment.Count {
			return load.Config{}, fmt.Errorf("load merge: %s ran segment %s, %s segment %s: not shares of one split", dirs[i], c.Segment, dirs[0], first.Segment)
		}
		if len(cfgs) > 1 && !c.Start.Equal(first.Start) {
			return load.Config{}, fmt.Errorf("load merge: %s started at %s, %s at %s: give the workers one --start-at", dirs[i], c.Start.Format(time.RFC3339Nano), dirs[0], first.Start.Format(time.RFC3339Nano))
		}
		if d, ok := seen[c.Segment.Index]; ok {
			return load.Config{}, fmt.Errorf("load merge: %s and %s ran the same segment %s", d, dirs[i], c.Segment)
		}
		seen[c.Segment.Index] = dirs[i]
	}
	return first.Config, nil
}
