// Command load sends open-loop or closed-loop traffic to an Ollama (or,
// with --api, any API the profiler speaks) server and measures every
// request, the client's own lateness included.
//
//	go run ./examples/load --url http://localhost:11434 --model gemma3:latest \
//	    --rate 4 --arrival poisson --requests 200 --output-tokens 128
//	go run ./examples/load --model gemma3:latest --sweep auto --duration 60s
//	go run ./examples/load --model gemma3:latest --concurrency 1 --sweep 1,2,4,8 --requests 64
//	go run ./examples/load merge --output-dir merged worker-0 worker-1 worker-2
//
// A run writes OUTPUT-DIR/requests.jsonl (one line per request, as it
// ends), summary.json, vllm_result.json (vllm bench serve --save-result's
// keys), report.md, report.html and plots/ (default OUTPUT-DIR:
// tr117-results/load); a sweep writes each point's files under
// OUTPUT-DIR/rate-R (or concurrency-C) and sweep.json, report.md,
// report.html and plots/ across the points.
// It refuses (exit 2) an OUTPUT-DIR that already holds results unless
// --overwrite is given, which removes them (and no other files) first.
//
// Many machines share one schedule with --segment i/n (each sends the
// requests k with k mod n = i) and --start-at (all start at one wall-clock
// time); "load merge DIR…" combines their requests.jsonl into one summary
// with exact percentiles.
//
// --otlp (or the OTEL_EXPORTER_OTLP_* environment) exports each request's
// span and the GenAI metrics, tr117.schedule.delay among them, over OTLP;
// --metrics-addr serves them to Prometheus while the run goes on. Each
// requests.jsonl row holds its span's trace_id. Export failures are
// reported at the end and in summary.json (a sweep's sweep.json) and do
// not change the exit status.
//
// Before the first request it asks --url whether it answers and has
// --model (Ollama's /api/version and /api/tags; GET /v1/models for the
// OpenAI APIs): a failed check is one message naming the URL, exit 1, and
// nothing is written. tr117's simulator is recognised wherever it listens:
// the screen, the files, the report and the plots say SIMULATED, and the
// results go under tr117-results-sim/load unless --output-dir is given.
// Requests that Ctrl-C ended are counted as interrupted, not failed.
//
// It exits 0 when every request succeeded, 1 when some failed (their
// records say why), the server check failed or a file could not be
// written, 2 for bad usage, and 130
// after Ctrl-C or SIGTERM, which stops sending, ends the requests in
// flight and writes what was measured; a second Ctrl-C kills the process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
