package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// StoreConfig says where the local Ollama model store is.
type StoreConfig struct {
	// Dir is the store root, holding manifests/ and blobs/. Default:
	// $OLLAMA_MODELS, else ~/.ollama/models.
	Dir string `json:"dir,omitempty"`
}

// StoreDir returns the store root c names, resolving the default.
func (c StoreConfig) StoreDir() (string, error) {
	if c.Dir != "" {
		return c.Dir, nil
	}
	if d := os.Getenv("OLLAMA_MODELS"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("tokenizer: ollama store: %w", err)
	}
	return filepath.Join(home, ".ollama", "models"), nil
}

// ModelName is a parsed Ollama model reference, host/namespace/model:tag.
type ModelName struct {
	Host, Namespace, Model, Tag string
}

// String returns the full name.
func (n ModelName) String() string {
	return n.Host + "/" + n.Namespace + "/" + n.Model + ":" + n.Tag
}

// ErrNotModelName is wrapped by ParseModelName's errors.
var ErrNotModelName = errors.New("not an Ollama model name")

// ParseModelName parses "gemma3", "gemma3:latest", "user/model:tag" or
// "host/namespace/model:tag" the way Ollama does, with the defaults
// registry.ollama.ai, library and latest. Each part must be letters,
// digits, '_', '-' or '.' (and not "." or ".."), so that a name cannot
// address a path outside the store.
func ParseModelName(s string) (ModelName, error) {
	n := ModelName{Host: "registry.ollama.ai", Namespace: "library", Tag: "latest"}
	rest := s
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i+1:], "/") {
		n.Tag, rest = rest[i+1:], rest[:i]
	}
	parts := strings.Split(rest, "/")
	switch len(parts) {
	case 1:
		n.Model = parts[0]
	case 2:
		n.Namespace, n.Model = parts[0], parts[1]
	case 3:
		n.Host, n.Namespace, n.Model = parts[0], parts[1], parts[2]
	default:
		return ModelName{}, fmt.Errorf("tokenizer: %q: %w: too many '/'", s, ErrNotModelName)
	}
	for _, p := range []string{n.Host, n.Namespace, n.Model, n.Tag} {
		if !validNamePart(p) {
			return ModelName{}, fmt.Errorf("tokenizer: %q: %w: bad part %q", s, ErrNotModelName, p)
		}
	}
	return n, nil
}

func validNamePart(p string) bool {
	if p == "" || p == "." || p == ".." || len(p) > 128 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// mediaTypeModel is the manifest layer that holds the GGUF weights.
const mediaTypeModel = "application/vnd.ollama.image.model"

type manifest struct {
	SchemaVersion int     `json:"schemaVersion"`
	Layers        []layer `json:"layers"`
}

type layer struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

// parseManifest returns the digest ("sha256:<64 hex>") of the model layer
// of an Ollama manifest.
func parseManifest(data []byte) (string, error) {
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return "", fmt.Errorf("tokenizer: manifest: %w", err)
	}
	for _, l := range m.Layers {
		if l.MediaType != mediaTypeModel {
			continue
		}
		hex, ok := strings.CutPrefix(l.Digest, "sha256:")
		if !ok || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
			return "", fmt.Errorf("tokenizer: manifest: model layer digest %q is not sha256:<64 hex>", l.Digest)
		}
		return l.Digest, nil
	}
	return "", fmt.Errorf("tokenizer: manifest: no %s layer", mediaTypeModel)
}

// ResolveModel finds the GGUF blob of an Ollama model in the store:
// manifests/<host>/<namespace>/<model>/<tag> → its model layer →
// blobs/sha256-<hex>.
func ResolveModel(name string, cfg StoreConfig) (string, error) {
	n, err := ParseModelName(name)
	if err != nil {
		return "", err
	}
	dir, err := cfg.StoreDir()
	if err != nil {
		return "", err
	}
	mpath := filepath.Join(dir, "manifests", n.Host, n.Namespace, n.Model, n.Tag)
	data, err := os.ReadFile(mpath)
	if err != nil {
		return "", fmt.Errorf("tokenizer: ollama model %s: %w", name, err)
	}
	digest, err := parseManifest(data)
	if err != nil {
		return "", fmt.Errorf("tokenizer: ollama model %s: %s: %w", name, mpath, err)
	}
	blob := filepath.Join(dir, "blobs", strings.Replace(digest, ":", "-", 1))
	if _, err := os.Stat(blob); err != nil {
		return "", fmt.Errorf("tokenizer: ollama model %s: %w", name, err)
	}
	return blob, nil
}

// LoadOllamaModel loads the tokenizer of an Ollama model from the local
// store (see ResolveModel and LoadGGUF): exactly the vocabulary Ollama
// runs for that name.
func LoadOllamaModel(name string, cfg StoreConfig) (Tokenizer, error) {
	return loadOllamaModel(name, cfg, BackendOllama)
}

func loadOllamaModel(name string, cfg StoreConfig, backend string) (Tokenizer, error) {
	blob, err := ResolveModel(name, cfg)
	if err != nil {
		return nil, err
	}
	t, err := loadGGUF(blob, backend)
	if err != nil {
		return nil, err
	}
	o := t.(*ollamaTok)
	o.info.Source = "ollama:" + name + " (" + blob + ")"
	o.info.Format = "ollama-store"
	return o, nil
}
