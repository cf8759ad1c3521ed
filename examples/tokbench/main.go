// Command tokbench races tokenizers on the same text, the TR117 question
// "is Qwen's tokenizer CPU cost enough to explain its slowdown?" (more than
// 2× slower than Gemma's flags a CPU bottleneck).
//
// By default it benchmarks the tokenizers Ollama runs for gemma3:latest,
// qwen2.5:7b and llama3.1:8b-instruct-q4_0 from the local Ollama store
// (falling back to Hugging Face repo ids in the local Hugging Face cache).
// When none of them is found it benchmarks the real tokenizer files that
// ship in the Go module cache (Llama 3, Gemma 2, BERT) and says so. With
// --ollama-url it also asks that Ollama server (POST /api/show) for the
// tokenizers of the models it serves, local or remote; a source
// "http://HOST:PORT/MODEL" does the same for one model.
//
//	go run ./examples/tokbench
//	go run ./examples/tokbench --ollama-url http://127.0.0.1:11434
//	go run ./examples/tokbench --tokenizer gemma=http://gpu-box:11434/gemma3:latest
//	go run ./examples/tokbench --tokenizer qwen=/models/qwen/tokenizer.json --corpus war-and-peace
//	go run ./examples/tokbench --qwen-tokenizer Qwen/Qwen2.5-7B-Instruct --allow-download
//	go run ./examples/tokbench --corpus war-and-peace --tokenizer llama3=T.json \
//	    --tokenizer llama3-exact@exact=T.json --tokenizer llama3-hf@hf-node=T.json
//
// The last races Ollama's Go tokenizer, tr117's exact backend and Hugging
// Face's own library (backend hf-node: the npm package in a child node
// process; scripts/install-hf-tokenizers.sh installs it) on one file and
// corpus, gives each one's speed ratio to Hugging Face's library, and
// checks their ids against it on the whole corpus (--parity).
//
// It writes, into --output-dir (default tr117-results/tokbench),
// tokenizer_bench.txt (Model | Tokens/Sec | Latency (ms)),
// tokenizer_bench.json, tokenizer_report.json and tokenizer_bench.bench
// (Go benchmark format: compare two runs with benchstat). It refuses (exit
// 2), before loading anything, a corpus file that cannot be read, a
// tokenizer whose every source is a file that does not exist, and an
// output directory it cannot write in or that already holds those files
// (unless --overwrite is given). If writing the files still fails after
// the bench, the table has been printed; the exit code is 1. Ctrl-C (or SIGTERM) stops it
// after the pass in flight, writes nothing and exits 130; a second Ctrl-C
// quits at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"tr117/tokbench"
	"tr117/tokenizer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// Ctrl-C ends the run after the pass in flight (an encode cannot be
	// cut short); a second one, with the default handler back, quits at once.
	go func() { <-ctx.Done(); stop() }()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type specsFlag []tokbench.Spec

func (s *specsFlag) String() string { return "" }
func (s *specsFlag) Set(v string) error {
	sp, err := tokbench.ParseSpec(v)
	if err != nil {
		return err
	}
	*s = append(*s, sp)
	return nil
}

// Defaults of the per-model flags: the three default models (tokbench.SeedSpecs).
var (
	defaultGemma = strings.Join(tokbench.SeedSpecs()[0].Sources, ",")
	defaultQwen  = strings.Join(tokbench.SeedSpecs()[1].Sources, ",")
	defaultLlama = strings.Join(tokbench.SeedSpecs()[2].Sources, ",")
)

// options are the parsed flags.
type options struct {
	nbytes, iterations, parallel int
	corpusFile, outDir           string
	overwrite, parity, paras     bool
	ollamaURL                    string
	hfNodeTimeout                time.Duration
	cfg                          tokenizer.LoadConfig
	want                         []tokbench.Spec
	explicit                     bool // a tokenizer was named: no fallback
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code := parseFlags(args, stderr)
	if o == nil {
		return code
	}
	// Everything that can be checked is checked before any work: the
	// corpus, then the output directory.
	corpus, what, err := loadCorpus(o.corpusFile, o.nbytes)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if err := tokbench.CheckOutputDir(o.outDir, o.overwrite); err != nil {
		if errors.Is(err, os.ErrExist) {
			fmt.Fprintf(stderr, "%v; pass --overwrite to replace them\n", err)
			return 2
		}
		fmt.Fprintln(stderr, err)
		return 1 // as every command: a directory that cannot be written is a failure, not bad usage
	}
	toks, failed := loadTokenizers(ctx, o, stderr)
	defer func() {
		for _, t := range toks {
			tokenizer.Close(t.Tokenizer)
		}
	}()
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "tokbench: interrupted; nothing written")
		return exitInterrupted
	}
	if len(toks) == 0 {
		fmt.Fprint(stderr, howToSupply)
		return 1
	}
	pieces := "one call per shard"
	if o.paras {
		pieces = fmt.Sprintf("%d paragraphs, one call each", len(tokbench.Paragraphs(corpus)))
	}
	fmt.Fprintf(stderr, "corpus: %s (%d bytes); %d passes after a warm-up, %d shard(s), %s\n", what, len(corpus), o.iterations, o.parallel, pieces)
	rep, runErr := tokbench.Run(ctx, corpus, toks, tokbench.Config{
		Iterations: o.iterations,
		Parallel:   o.parallel,
		Paragraphs: o.paras,
		Progress:   progress(stderr),
	})
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "tokbench: interrupted; nothing written")
		return exitInterrupted
	}
	if runErr != nil {
		// The tokenizers that failed are listed in the report; the
		// others' results stand.
		fmt.Fprintln(stderr, runErr)
	}
	if o.parity {
		rep.Parity = tokbench.CheckParity(corpus, toks)
	}
	if err := writeReport(stdout, o.outDir, rep, o.overwrite); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if runErr != nil || o.explicit && len(failed) > 0 {
		return 1 // a tokenizer asked for was not benchmarked
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (*options, int) {
	fs := flag.NewFlagSet("tokbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.IntVar(&o.nbytes, "bytes", tokbench.DefaultBytes, "corpus size in bytes: a fixed English sentence repeated (ignored with --corpus)")
	fs.StringVar(&o.corpusFile, "corpus", "", "benchmark this file instead (\"war-and-peace\": the novel from the Go module cache)")
	fs.IntVar(&o.iterations, "iterations", 3, "timed passes per tokenizer, after one warm-up")
	fs.IntVar(&o.parallel, "parallel", 1, "encode the corpus as N shards at once (multi-core throughput; hf-node: one batch encode on N threads)")
	fs.StringVar(&o.outDir, "output-dir", "tr117-results/tokbench", "directory for tokenizer_bench.{txt,json,bench} and tokenizer_report.json")
	fs.BoolVar(&o.overwrite, "overwrite", false, "replace outputs already in --output-dir")
	fs.BoolVar(&o.paras, "paragraphs", false, "encode the corpus paragraph by paragraph (one call each; hf-node: one batch) instead of in one call per shard")
	fs.BoolVar(&o.parity, "parity", true, "check every tokenizer's ids against the hf-node tokenizer of the same file, on the whole corpus")
	allowDL := fs.Bool("allow-download", false, "fetch tokenizer.json from the Hugging Face Hub for repo ids not in a local cache (honours HF_TOKEN)")
	gemma := fs.String("gemma-tokenizer", defaultGemma, "Gemma tokenizer: comma-separated fallbacks (path, Ollama model, http://HOST:PORT/MODEL on an Ollama server, HF repo id)")
	qwen := fs.String("qwen-tokenizer", defaultQwen, "Qwen tokenizer: comma-separated fallbacks")
	llama := fs.String("llama-tokenizer", defaultLlama, "Llama tokenizer: comma-separated fallbacks")
	backend := fs.String("backend", tokenizer.BackendOllama, "ollama (Ollama's own Go tokenizers), exact (BPE in Hugging Face's merge order), hf-node (Hugging Face's own library in a child node process; scripts/install-hf-tokenizers.sh) or huggingface (Rust library; needs -tags hftokenizers)")
	fs.DurationVar(&o.hfNodeTimeout, "hf-node-timeout", 5*time.Minute, "hf-node: longest wait for the child node process to load or encode, before it is killed and its tokenizer fails (e.g. 30s, 10m)")
	hfNodeDir := fs.String("hf-node-dir", "", "directory of Hugging Face's tokenizers for Node.js (default $TR117_HF_NODE_DIR, then what scripts/install-hf-tokenizers.sh prints)")
	pre := fs.String("pretokenizer", "", "split pattern for encoder.json+vocab.bpe: gpt2, llama3, qwen2 or a regex (default: that of a recognised GPT-2 or Llama 3 vocabulary; any other needs this flag)")
	ollamaStore := fs.String("ollama-models", "", "Ollama model store (default $OLLAMA_MODELS or ~/.ollama/models)")
	fs.StringVar(&o.ollamaURL, "ollama-url", "", "also ask the Ollama server at this URL (POST /api/show) for the three default models' tokenizers not in the local store")
	var specs specsFlag
	fs.Var(&specs, "tokenizer", "NAME[@BACKEND]=SOURCE[,SOURCE...] to benchmark (repeatable; replaces the three default models unless their flags are given too); BACKEND is one of "+strings.Join(tokenizer.Backends(), ", "))
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: tokbench [flags]

Races tokenizers on the same text and says whether one takes more than 2×
as long as another (the study's sign of a CPU bottleneck in the client).
By default it looks for the tokenizers of gemma3:latest, qwen2.5:7b and
llama3.1:8b-instruct-q4_0 in the local Ollama store and Hugging Face cache,
and races the tokenizer files of the Go module cache when none is found.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0
		}
		return nil, 2
	}
	if err := checkFlags(fs, o, *backend); err != nil {
		fmt.Fprintln(stderr, err)
		return nil, 2
	}
	o.cfg = tokenizer.LoadConfig{
		Store:        tokenizer.StoreConfig{Dir: *ollamaStore},
		Hub:          tokenizer.HubConfig{AllowDownload: *allowDL},
		Pretokenizer: *pre,
		Backend:      *backend,
		HFNode:       tokenizer.HFNodeConfig{Dir: *hfNodeDir, Threads: o.parallel, Timeout: o.hfNodeTimeout},
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.want = seedSpecs(o.ollamaURL, set, len(specs) > 0, *gemma, *qwen, *llama)
	o.want = append(o.want, specs...)
	names := map[string]bool{}
	for _, sp := range o.want {
		if names[sp.Name] {
			fmt.Fprintf(stderr, "tokbench: tokenizer name %q given twice\n", sp.Name)
			return nil, 2
		}
		names[sp.Name] = true
	}
	o.explicit = len(specs) > 0 || set["gemma-tokenizer"] || set["qwen-tokenizer"] || set["llama-tokenizer"]
	if err := checkPaths(o.want); err != nil {
		fmt.Fprintln(stderr, err)
		return nil, 2
	}
	return o, 0
}

// checkPaths refuses a tokenizer whose every source is a file path that
// does not exist: a typo is a usage error, found before anything loads.
func checkPaths(want []tokbench.Spec) error {
	for _, sp := range want {
		var errs []error
		for _, src := range sp.Sources {
			if !tokenizer.IsPath(src) {
				break
			}
			if _, err := os.Stat(src); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) == len(sp.Sources) {
			return fmt.Errorf("tokbench: tokenizer %s: %w", sp.Name, errors.Join(errs...))
		}
	}
	return nil
}

func checkFlags(fs *flag.FlagSet, o *options, backend string) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("tokbench: unexpected arguments %q", fs.Args())
	}
	if o.iterations < 1 || o.parallel < 1 || o.nbytes < 1 || o.hfNodeTimeout <= 0 {
		return errors.New("tokbench: --iterations, --parallel and --bytes must be at least 1, --hf-node-timeout above 0")
	}
	if !slices.Contains(tokenizer.Backends(), backend) {
		return fmt.Errorf("tokbench: --backend %q: want one of %s", backend, strings.Join(tokenizer.Backends(), ", "))
	}
	if o.ollamaURL != "" {
		if _, _, err := tokenizer.ParseServerSource(tokenizer.ServerSource(o.ollamaURL, "m")); err != nil {
			return fmt.Errorf("tokbench: --ollama-url %q: want http(s)://HOST[:PORT]", o.ollamaURL)
		}
	}
	return nil
}

// seedSpecs returns the three default models, unless --tokenizer replaces
// them (a model whose own flag is set stays).
func seedSpecs(ollamaURL string, set map[string]bool, named bool, gemma, qwen, llama string) []tokbench.Spec {
	var want []tokbench.Spec
	for i, m := range []struct{ name, flag, val string }{
		{"gemma", "gemma-tokenizer", gemma},
		{"qwen", "qwen-tokenizer", qwen},
		{"llama", "llama-tokenizer", llama},
	} {
		if named && !set[m.flag] {
			continue
		}
		sources := tokbench.SplitSources(m.val)
		if ollamaURL != "" && !set[m.flag] {
			// After the local store, the server's copy of the same model.
			model := tokbench.SeedSpecs()[i].Sources[0]
			sources = slices.Insert(sources, 1, tokenizer.ServerSource(ollamaURL, model))
		}
		want = append(want, tokbench.Spec{Name: m.name, Sources: sources})
	}
	return want
}

// loadTokenizers loads what o asks for. In the default run (no tokenizer
// named) tokenizers that are simply not on this machine make one line,
// and the module-cache fixtures stand in; a source that is there but
// fails (a server's error, an unsupported file) is still reported.
func loadTokenizers(ctx context.Context, o *options, stderr io.Writer) ([]tokbench.Named, []tokbench.Failure) {
	toks, failed := tokbench.LoadAll(ctx, o.cfg, o.want)
	if ctx.Err() != nil {
		return toks, failed
	}
	hubOff := false
	for _, f := range failed {
		hubOff = hubOff || errors.Is(f.Err, tokenizer.ErrDownloadDisabled)
		if o.explicit {
			fmt.Fprintf(stderr, "%s: not loaded: %v\n", f.Spec.Name, f.Err)
			continue
		}
		for _, a := range f.Problems() {
			fmt.Fprintf(stderr, "%s: %s\n", f.Spec.Name, a)
		}
	}
	if hubOff {
		fmt.Fprintln(stderr, "(pass --allow-download to fetch those from the Hugging Face Hub)")
	}
	if len(toks) == 0 && !o.explicit {
		fmt.Fprintf(stderr, "Not found: %s. Benchmarking the module-cache fixtures instead (real tokenizer files from Go modules' test data in the Go module cache, not these models; name your own with --tokenizer).\n", notFound(failed, o.cfg.Store, o.cfg.Hub.AllowDownload))
		var errs []error
		toks, errs = tokbench.LoadFixtures()
		for _, err := range errs {
			fmt.Fprintf(stderr, "module cache: %v\n", err)
		}
	}
	for _, t := range toks {
		info := t.Tokenizer.Info()
		fmt.Fprintf(stderr, "%s: %s %s from %s\n", t.Name, info.Backend, info.Model, info.Source)
		if info.Library != "" {
			fmt.Fprintf(stderr, "  library: %s\n", info.Library)
		}
		for _, n := range info.Notes {
			fmt.Fprintf(stderr, "  note: %s\n", n)
		}
	}
	return toks, failed
}

// notFound says in one line which sources were not found where, grouped by
// place: "gemma3:latest, qwen2.5:7b in the Ollama store /root/.ollama/models;
// google/gemma-3-4b-it in the Hugging Face caches (downloads off)".
func notFound(failed []tokbench.Failure, store tokenizer.StoreConfig, allowDownload bool) string {
	var places []string
	bySource := map[string][]string{}
	add := func(place, src string) {
		if !slices.Contains(places, place) {
			places = append(places, place)
		}
		if !slices.Contains(bySource[place], src) {
			bySource[place] = append(bySource[place], src)
		}
	}
	storeDir, err := store.StoreDir()
	if err != nil {
		storeDir = "(" + err.Error() + ")"
	}
	dl := " (downloads off)"
	if allowDownload {
		dl = " or on the Hub"
	}
	for _, f := range failed {
		var le *tokenizer.LoadError
		if !errors.As(f.Err, &le) {
			add("any place ("+f.Err.Error()+")", f.Spec.Name)
			continue
		}
		for _, a := range le.Attempts {
			switch {
			case strings.HasPrefix(a.Where, "ollama store: "):
				add("the Ollama store "+storeDir, a.Source)
			case strings.HasPrefix(a.Where, "POST "):
				base, _, _ := strings.Cut(strings.TrimPrefix(a.Where, "POST "), "/api/show")
				add("the Ollama server at "+base, a.Source)
			case !filepath.IsAbs(a.Source) && !strings.HasPrefix(a.Source, "."):
				// A repo id: the Hugging Face cache, tr117's download
				// cache and, with downloads on, the Hub.
				add("the Hugging Face caches"+dl, a.Source)
			default:
				add(a.Where, a.Source)
			}
		}
	}
	parts := make([]string, len(places))
	for i, p := range places {
		parts[i] = strings.Join(bySource[p], ", ") + " in " + p
	}
	return strings.Join(parts, "; ")
}

func progress(w io.Writer) func(tokbench.Pass) {
	return func(p tokbench.Pass) {
		label := fmt.Sprintf("pass %d", p.Index+1)
		if p.Index < 0 {
			label = "warm-up"
		}
		fmt.Fprintf(w, "  %s %s: %d tokens in %s\n", p.Model, label, p.Tokens, p.Duration.Round(time.Millisecond))
	}
}

// writeReport prints the tables, then writes the files: a directory that
// fails now (it was checked before the bench) still leaves the table on
// the screen.
func writeReport(stdout io.Writer, dir string, rep *tokbench.Report, overwrite bool) error {
	if err := tokbench.WriteTable(stdout, rep); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if err := tokbench.WriteDetails(stdout, rep); err != nil {
		return err
	}
	if err := tokbench.WriteFiles(dir, rep, overwrite); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s/{%s}\n", dir, strings.Join(tokbench.OutputFiles(), ","))
	return nil
}

// exitInterrupted is the exit code after Ctrl-C or SIGTERM: 128+SIGINT,
// as a shell reports a command that Ctrl-C ended (dmon and profiler agree).
const exitInterrupted = 130

func loadCorpus(file string, n int) (string, string, error) {
	switch file {
	case "":
		return tokbench.SeedCorpus(n), fmt.Sprintf("%q repeated", tokbench.SeedSentence), nil
	case "war-and-peace":
		p, err := tokenizer.WarAndPeace()
		if err != nil {
			return "", "", err
		}
		file = p
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", "", fmt.Errorf("tokbench: corpus: %w", err)
	}
	if len(b) == 0 {
		return "", "", fmt.Errorf("tokbench: corpus %s is empty", file)
	}
	return string(b), file, nil
}

const howToSupply = `tokbench: no tokenizer to benchmark.
Supply one of:
  --tokenizer NAME=PATH       a tokenizer.json, tokenizer.model, encoder.json (vocab.bpe beside it),
                              a GGUF model, or a directory holding one
  --tokenizer NAME=MODEL      an Ollama model in the local store (--ollama-models, $OLLAMA_MODELS,
                              ~/.ollama/models), e.g. qwen=qwen2.5:7b after "ollama pull qwen2.5:7b"
  --tokenizer NAME=http://HOST:PORT/MODEL
                              the model as the Ollama server there serves it (POST /api/show), local
                              or remote; --ollama-url URL does this for the three default models
  --tokenizer NAME=ORG/REPO   a Hugging Face repo in the local Hugging Face cache ($HF_HUB_CACHE,
                              $HF_HOME/hub, ~/.cache/huggingface/hub), or with --allow-download
                              fetched from the Hub (set HF_TOKEN for gated repos)
or "go mod download github.com/ollama/ollama github.com/daulet/tokenizers" for the module-cache fixtures.
`
