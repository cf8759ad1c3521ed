package tokenizer

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// Modules whose source in the Go module cache carries real tokenizer files
// (their test data): the fallback when no tokenizer is named.
const (
	OllamaModule       = "github.com/ollama/ollama"
	HFTokenizersModule = "github.com/daulet/tokenizers"
)

// ModuleDir returns the directory of module path, at the version this
// binary was built with, in the Go module cache ($GOMODCACHE, else
// $GOPATH/pkg/mod, else ~/go/pkg/mod). It fails if the binary carries no
// build information, does not depend on the module, or the directory is
// missing.
func ModuleDir(path string) (string, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", fmt.Errorf("tokenizer: module %s: no build information in this binary", path)
	}
	version := ""
	for _, d := range bi.Deps {
		if d.Path == path {
			version = d.Version
			if d.Replace != nil {
				if d.Replace.Version == "" {
					return d.Replace.Path, nil
				}
				path, version = d.Replace.Path, d.Replace.Version
			}
		}
	}
	if version == "" {
		// Not linked in (github.com/daulet/tokenizers is only imported
		// with the hftokenizers tag): take the newest version in the cache.
		return newestInCache(path)
	}
	return moduleCacheDir(path, version)
}

func modCache() (string, error) {
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("tokenizer: module cache: %w", err)
			}
			gopath = filepath.Join(home, "go")
		}
		cache = filepath.Join(filepath.SplitList(gopath)[0], "pkg", "mod")
	}
	return cache, nil
}

func newestInCache(path string) (string, error) {
	cache, err := modCache()
	if err != nil {
		return "", err
	}
	ep, err := module.EscapePath(path)
	if err != nil {
		return "", fmt.Errorf("tokenizer: module %s: %w", path, err)
	}
	matches, _ := filepath.Glob(filepath.Join(cache, ep+"@*"))
	best, bestV := "", ""
	for _, m := range matches {
		v, err := module.UnescapeVersion(strings.TrimPrefix(filepath.Base(m), filepath.Base(ep)+"@"))
		if err != nil || !semver.IsValid(v) {
			continue
		}
		if st, err := os.Stat(m); err != nil || !st.IsDir() {
			continue
		}
		if bestV == "" || semver.Compare(v, bestV) > 0 {
			best, bestV = m, v
		}
	}
	if best == "" {
		return "", fmt.Errorf("tokenizer: module %s: not in the module cache %s (go mod download %s)", path, cache, path)
	}
	return best, nil
}

func moduleCacheDir(path, version string) (string, error) {
	cache, err := modCache()
	if err != nil {
		return "", err
	}
	ep, err := module.EscapePath(path)
	if err != nil {
		return "", fmt.Errorf("tokenizer: module %s: %w", path, err)
	}
	ev, err := module.EscapeVersion(version)
	if err != nil {
		return "", fmt.Errorf("tokenizer: module %s: %w", path, err)
	}
	dir := filepath.Join(cache, ep+"@"+ev)
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("tokenizer: module %s@%s: %w", path, version, err)
	}
	return dir, nil
}

// Fixture is a real tokenizer file shipped in a module's test data.
type Fixture struct {
	Name   string // report name, e.g. "llama3-tokenizer.json"
	Module string // module path
	Path   string // file path relative to the module root
	// Pretokenizer is LoadConfig.Pretokenizer for encoder.json files
	// (empty: recognised from the vocabulary).
	Pretokenizer string
}

// Fixtures returns the real tokenizer files that the modules this binary
// is built with carry as test data (so they are in the module cache
// wherever it builds): Llama 3 (Hugging Face tokenizer.json, and Ollama's
// llama3.2 encoder.json+vocab.bpe test copy), Gemma 2 (SentencePiece
// tokenizer.model) and BERT base uncased (WordPiece tokenizer.json).
// Each call returns a new slice.
func Fixtures() []Fixture {
	return []Fixture{
		{Name: "llama3", Module: HFTokenizersModule, Path: "test/data/Meta-Llama-3-8B-Instruct.json"},
		{Name: "llama3.2-encoder", Module: OllamaModule, Path: "tokenizer/testdata/llama3.2/encoder.json"},
		{Name: "gemma2", Module: OllamaModule, Path: "tokenizer/testdata/gemma2/tokenizer.model"},
		{Name: "bert-base-uncased", Module: HFTokenizersModule, Path: "test/data/bert-base-uncased.json"},
	}
}

// FixturePath returns the absolute path of f in the module cache.
func (f Fixture) FixturePath() (string, error) {
	dir, err := ModuleDir(f.Module)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, filepath.FromSlash(f.Path))
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("tokenizer: %w", err)
	}
	return p, nil
}

// Load loads the fixture. Its Info has Fixture set.
func (f Fixture) Load() (Tokenizer, error) {
	p, err := f.FixturePath()
	if err != nil {
		return nil, err
	}
	t, err := LoadFile(p, LoadConfig{Pretokenizer: f.Pretokenizer})
	if err != nil {
		return nil, err
	}
	return fixtureTok{t}, nil
}

// fixtureTok marks a tokenizer as a module-cache fixture in its Info.
type fixtureTok struct{ Tokenizer }

func (f fixtureTok) Info() Info {
	info := f.Tokenizer.Info()
	info.Fixture = true
	return info
}

func (f fixtureTok) Close() error { return Close(f.Tokenizer) }

// WarAndPeace returns the path of the war-and-peace.txt corpus that Ollama's
// tokenizer tests use, from the module cache.
func WarAndPeace() (string, error) {
	dir, err := ModuleDir(OllamaModule)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "tokenizer", "testdata", "war-and-peace.txt")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("tokenizer: %w", err)
	}
	return p, nil
}
