// Command ollama-dev is the Go half of scripts/ollama-dev.sh.
//
//	ollama-dev model [-dir DIR]
//	    writes the tiny test model (tr117/internal/tinymodel) and a Modelfile
//	    for it into DIR and prints the Modelfile's path, for `ollama create`.
//	ollama-dev sim [-addr HOST:PORT] [-tps N] [-ttft D] [-jitter F] [-seed N] [-load D] [-split F]
//	    serves the Ollama simulator (tr117/profiler/ollamatest) on addr until
//	    interrupted, for working without a real Ollama.
//
// Exit status: 0 success, 1 failure, 2 bad usage.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"tr117/internal/ollamaserver"
	"tr117/internal/tinymodel"
	"tr117/profiler/ollamatest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  ollama-dev model [-dir DIR]
  ollama-dev sim [-addr HOST:PORT] [-tps N] [-ttft D] [-jitter F] [-seed N] [-load D] [-split F]
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "model":
		return runModel(args[1:], stdout, stderr)
	case "sim":
		return runSim(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "ollama-dev: unknown command %q\n%s", args[0], usage)
	return 2
}

func runModel(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("model", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory for the GGUF and the Modelfile (default: a tr117 cache directory)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ollama-dev model: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			fmt.Fprintf(stderr, "ollama-dev model: %v\n", err)
			return 1
		}
		*dir = filepath.Join(cache, "tr117", "tinymodel")
	}
	path, err := tinymodel.Ensure(*dir, tinymodel.Config{})
	if err == nil {
		path, err = filepath.Abs(path)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ollama-dev model: %v\n", err)
		return 1
	}
	mf := filepath.Join(filepath.Dir(path), "Modelfile")
	if err := os.WriteFile(mf, []byte(ollamaserver.Modelfile(path)), 0o644); err != nil {
		fmt.Fprintf(stderr, "ollama-dev model: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, mf)
	return 0
}

func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:11434", "address to listen on")
	tps := fs.Float64("tps", ollamatest.DefaultTokensPerSecond, "tokens per second per stream")
	ttft := fs.Duration("ttft", ollamatest.DefaultTTFT, "prompt evaluation time before the first token")
	jitter := fs.Float64("jitter", 0.1, "relative spread of token intervals, in [0, 1)")
	seed := fs.Uint64("seed", 0, "seed of the generated text")
	load := fs.Duration("load", 0, "time the first request to a model spends loading it")
	split := fs.Float64("split", 0, "fraction of words whose multi-byte character spans two tokens, in [0, 1]")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *jitter < 0 || *jitter >= 1 || *tps <= 0 || *split < 0 || *split > 1 {
		fmt.Fprintln(stderr, "ollama-dev sim: -tps must be > 0, -jitter in [0, 1), -split in [0, 1], no arguments")
		return 2
	}
	srv, err := ollamatest.Listen(*addr, ollamatest.Config{
		TokensPerSecond: *tps, TTFT: *ttft, Jitter: *jitter, Seed: *seed, LoadDelay: *load, SplitChars: *split,
	})
	if err != nil {
		fmt.Fprintf(stderr, "ollama-dev sim: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "ollama simulator on %s\n", srv.URL)
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "ollama-dev sim: %v\n", err)
		return 1
	}
	return 0
}
