package suite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"tr117/sink"
	"tr117/tokbench"
	"tr117/tokenizer"
)

// Tokenizer race outputs under phase2/tokenizers.
const (
	TokenizerBenchJSON  = "tokenizer_bench.json"
	TokenizerBenchTable = "tokenizer_bench.txt"
	TokenizerBenchfmt   = "tokenizer_bench.bench"
	tokenizerMissing    = "tokenizer_missing.json"
)

// FixturePrefix starts the name of a tokenizer the race used in place of
// the plan's models': on the simulated backend, when none of theirs is
// found, the race runs tokenizer.Fixtures (real tokenizers from the module
// cache) as "fixture:llama3", "fixture:gemma2", ….
const FixturePrefix = "fixture:"

// tokenizerSources lists where to look for model's tokenizer: the local
// Ollama store first (exactly what Ollama runs), then the collector endpoint
// being measured (the same tokenizer, from its /api/show, for a server on
// another machine or with a store of its own), then, for the seed's models,
// the Hugging Face repo tokbench.SeedSpecs names (found in the local
// Hugging Face cache, or downloaded only with TokenizerPlan.AllowDownload).
func tokenizerSources(model, serverURL string) []string {
	src := []string{"ollama:" + model}
	if serverURL != "" {
		src = append(src, tokenizer.ServerSource(serverURL, model))
	}
	family := func(m string) string { f, _, _ := strings.Cut(m, ":"); return f }
	for _, sp := range tokbench.SeedSpecs() {
		if len(sp.Sources) > 0 && (sp.Sources[0] == model || family(sp.Sources[0]) == family(model)) {
			src = append(src, sp.Sources[1:]...)
			break
		}
	}
	return src
}

// runTokenizers races the plan's models' tokenizers with tokbench. A model
// whose tokenizer cannot be found is listed in tokenizer_missing.json and
// left out; the run fails only when none is found.
func (r *runner) runTokenizers(ctx context.Context, run Run, dir string) ([]string, error) {
	cfg := tokenizer.LoadConfig{
		Store: tokenizer.StoreConfig{Dir: r.plan.Tokenizers.OllamaModels},
		Hub:   tokenizer.HubConfig{AllowDownload: r.plan.Tokenizers.AllowDownload},
	}
	var toks []tokbench.Named
	missing := map[string]string{}
	defer func() {
		for _, t := range toks {
			tokenizer.Close(t.Tokenizer)
		}
	}()
	for _, m := range r.plan.Tokenizers.Models {
		sources := tokenizerSources(m, r.plan.CollectorURL)
		if s, ok := r.plan.Tokenizers.Sources[m]; ok {
			sources = splitList(s)
		}
		tok, _, err := tokenizer.Load(ctx, cfg, sources...)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			missing[m] = err.Error()
			continue
		}
		toks = append(toks, tokbench.Named{Name: m, Tokenizer: tok})
	}
	var files []string
	if len(missing) > 0 {
		p := filepath.Join(dir, tokenizerMissing)
		if err := sink.WriteJSONFile(p, missing); err != nil {
			return nil, err
		}
		files = append(files, r.rel(p))
	}
	if len(toks) == 0 && r.cfg.Backend == BackendSim {
		// A simulated suite has no model files to read tokenizers from
		// (on a fresh machine, no Ollama store or Hugging Face cache
		// either): race the real tokenizers in the module cache,
		// labelled as fixtures, so the phase still runs end to end.
		fx, errs := tokbench.LoadFixtures()
		for _, t := range fx {
			toks = append(toks, tokbench.Named{Name: FixturePrefix + t.Name, Tokenizer: t.Tokenizer})
		}
		for _, err := range errs {
			r.log.Warn("tokenizer fixture", "err", err)
		}
	}
	if len(toks) == 0 {
		var errs []error
		for _, m := range r.plan.Tokenizers.Models {
			errs = append(errs, fmt.Errorf("%s: %s", m, missing[m]))
		}
		return files, fmt.Errorf("suite: tokenizers: none found (pull the models into the collector's Ollama, point --ollama-models at the Ollama model store that has them, or pass --allow-download-tokenizers to fetch from the Hugging Face Hub):\n%w", errors.Join(errs...))
	}
	rep, err := tokbench.Run(ctx, tokbench.SeedCorpus(r.plan.Tokenizers.Bytes), toks, tokbench.Config{Iterations: r.plan.Tokenizers.Iterations})
	if err != nil {
		return files, fmt.Errorf("suite: tokenizers: %w", err)
	}
	var table, bench bytes.Buffer
	if err := errors.Join(tokbench.WriteTable(&table, rep), tokbench.WriteBenchfmt(&bench, rep)); err != nil {
		return files, fmt.Errorf("suite: tokenizers: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{TokenizerBenchTable, table.Bytes()}, {TokenizerBenchfmt, bench.Bytes()}} {
		p := filepath.Join(dir, f.name)
		if err := sink.WriteFileAtomic(p, f.data); err != nil {
			return files, err
		}
		files = append(files, r.rel(p))
	}
	p := filepath.Join(dir, TokenizerBenchJSON)
	if err := sink.WriteJSONFile(p, rep); err != nil {
		return files, err
	}
	return append(files, r.rel(p)), nil
}
