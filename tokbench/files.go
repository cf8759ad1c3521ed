package tokbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"tr117/sink"
	"tr117/tokenizer"
)

// Output file names, in the directory given to WriteFiles.
const (
	TableFile    = "tokenizer_bench.txt"   // the Model | Tokens/Sec | Latency (ms) table
	JSONFile     = "tokenizer_bench.json"  // one object per tokenizer
	ReportFile   = "tokenizer_report.json" // the whole Report: config, comparisons
	BenchfmtFile = "tokenizer_bench.bench" // Go benchmark format, for benchstat
)

// OutputFiles returns the names of the files WriteFiles writes.
func OutputFiles() []string {
	return []string{TableFile, JSONFile, ReportFile, BenchfmtFile}
}

// CheckOutputDir says whether WriteFiles could write into dir, so that a
// command can refuse before spending minutes on a bench: dir must be a
// directory this process can create files in, or not exist yet under one
// it can create it in, and unless overwrite is set it must not hold any of
// OutputFiles (the error then wraps fs.ErrExist and names them).
func CheckOutputDir(dir string, overwrite bool) error {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return checkCreatable(dir)
	}
	if err != nil {
		return fmt.Errorf("tokbench: output directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("tokbench: output directory %s is not a directory", dir)
	}
	if err := probeWrite(dir); err != nil {
		return fmt.Errorf("tokbench: output directory %s: %w", dir, err)
	}
	if overwrite {
		return nil
	}
	var found []string
	for _, f := range OutputFiles() {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			found = append(found, f)
		}
	}
	if len(found) > 0 {
		return fmt.Errorf("tokbench: output directory %s already holds results (%s): %w", dir, strings.Join(found, ", "), fs.ErrExist)
	}
	return nil
}

// checkCreatable says whether the missing directory dir could be created:
// its nearest existing ancestor must be a directory this process can
// create files in.
func checkCreatable(dir string) error {
	parent := filepath.Clean(dir)
	for {
		next := filepath.Dir(parent)
		if next == parent {
			return nil
		}
		parent = next
		st, err := os.Stat(parent)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("tokbench: output directory %s: %w", dir, err)
		}
		if !st.IsDir() {
			return fmt.Errorf("tokbench: output directory %s: %s is not a directory", dir, parent)
		}
		if err := probeWrite(parent); err != nil {
			return fmt.Errorf("tokbench: output directory %s cannot be created: %w", dir, err)
		}
		return nil
	}
}

// probeWrite creates and removes a file in dir.
func probeWrite(dir string) error {
	f, err := os.CreateTemp(dir, ".tokbench-probe-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// WriteFiles writes rep into dir (created if needed): TableFile,
// JSONFile (an array of Result), ReportFile and BenchfmtFile, each
// atomically. Unless overwrite is set it refuses to replace any of them
// (see CheckOutputDir).
func WriteFiles(dir string, rep *Report, overwrite bool) error {
	if err := CheckOutputDir(dir, overwrite); err != nil {
		return err
	}
	var table, bench bytes.Buffer
	if err := WriteTable(&table, rep); err != nil {
		return err
	}
	if err := WriteBenchfmt(&bench, rep); err != nil {
		return err
	}
	results, err := json.MarshalIndent(rep.Results, "", "  ")
	if err != nil {
		return fmt.Errorf("tokbench: %w", err)
	}
	report, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("tokbench: %w", err)
	}
	for name, data := range map[string][]byte{
		TableFile:    table.Bytes(),
		BenchfmtFile: bench.Bytes(),
		JSONFile:     append(results, '\n'),
		ReportFile:   append(report, '\n'),
	} {
		if err := sink.WriteFileAtomic(filepath.Join(dir, name), data); err != nil {
			return fmt.Errorf("tokbench: %w", err)
		}
	}
	return nil
}

// Spec asks for one tokenizer under a report name, with fallbacks tried in
// order (see Load).
type Spec struct {
	Name    string   `json:"name"`
	Sources []string `json:"sources"`
	// Backend, if set, overrides LoadConfig.Backend for this spec, so one
	// run can race Ollama's BPE against the exact or Hugging Face one.
	Backend string `json:"backend,omitempty"`
}

// SeedSpecs returns the tokenizers of the three models the TR117 study runs
// (gemma, qwen, llama), each
// first as the Ollama model the TR117 suite runs and then as its Hugging
// Face repo: gemma3:latest or google/gemma-3-4b-it, qwen2.5:7b or
// Qwen/Qwen2.5-7B-Instruct, llama3.1:8b-instruct-q4_0 or
// meta-llama/Llama-3.1-8B-Instruct.
func SeedSpecs() []Spec {
	return []Spec{
		{Name: "gemma", Sources: []string{"gemma3:latest", "google/gemma-3-4b-it"}},
		{Name: "qwen", Sources: []string{"qwen2.5:7b", "Qwen/Qwen2.5-7B-Instruct"}},
		{Name: "llama", Sources: []string{"llama3.1:8b-instruct-q4_0", "meta-llama/Llama-3.1-8B-Instruct"}},
	}
}

// ParseSpec parses "NAME=SOURCE[,SOURCE...]" or
// "NAME@BACKEND=SOURCE[,SOURCE...]".
func ParseSpec(s string) (Spec, error) {
	name, srcs, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.TrimSpace(srcs) == "" {
		return Spec{}, fmt.Errorf("tokbench: %q: want NAME[@BACKEND]=SOURCE[,SOURCE...]", s)
	}
	sp := Spec{Name: name, Sources: SplitSources(srcs)}
	if n, b, ok := strings.Cut(name, "@"); ok {
		if !slices.Contains(tokenizer.Backends(), b) || n == "" {
			return Spec{}, fmt.Errorf("tokbench: %q: want NAME@BACKEND with BACKEND one of %s", s, strings.Join(tokenizer.Backends(), ", "))
		}
		sp.Backend = b
	}
	return sp, nil
}

// SplitSources splits comma-separated fallback sources, dropping empty ones.
func SplitSources(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Failure is a Spec that did not load.
type Failure struct {
	Spec Spec
	Err  error // a *tokenizer.LoadError listing where Load looked, or ctx.Err()
}

// Problems returns the places Load looked at for f that hold something
// that failed (a server's error, an unsupported file, a backend that is
// not installed), leaving out those that simply hold nothing (an error
// wrapping fs.ErrNotExist or tokenizer.ErrDownloadDisabled).
func (f Failure) Problems() []tokenizer.Attempt {
	var le *tokenizer.LoadError
	if !errors.As(f.Err, &le) {
		return []tokenizer.Attempt{{Where: strings.Join(f.Spec.Sources, ","), Err: f.Err}}
	}
	var out []tokenizer.Attempt
	for _, a := range le.Attempts {
		if a.Err != nil && !errors.Is(a.Err, fs.ErrNotExist) && !errors.Is(a.Err, tokenizer.ErrDownloadDisabled) {
			out = append(out, a)
		}
	}
	return out
}

// LoadAll loads every spec, returning those that loaded (in order) and
// those that did not. It returns early only if ctx ends.
func LoadAll(ctx context.Context, cfg tokenizer.LoadConfig, specs []Spec) ([]Named, []Failure) {
	var ok []Named
	var failed []Failure
	for _, s := range specs {
		if ctx.Err() != nil {
			failed = append(failed, Failure{s, ctx.Err()})
			continue
		}
		c := cfg
		if s.Backend != "" {
			c.Backend = s.Backend
		}
		t, _, err := tokenizer.Load(ctx, c, s.Sources...)
		if err != nil {
			failed = append(failed, Failure{s, err})
			continue
		}
		ok = append(ok, Named{Name: s.Name, Tokenizer: t})
	}
	return ok, failed
}

// LoadFixtures loads the module-cache fixtures (see tokenizer.Fixtures), returning
// those that loaded and the errors of those that did not.
func LoadFixtures() ([]Named, []error) {
	var ok []Named
	var errs []error
	for _, f := range tokenizer.Fixtures() {
		t, err := f.Load()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.Name, err))
			continue
		}
		ok = append(ok, Named{Name: f.Name, Tokenizer: t})
	}
	return ok, errs
}
