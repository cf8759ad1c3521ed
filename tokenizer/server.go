package tokenizer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// ServerConfig says how LoadFromServer (and Load's http:// sources) ask a
// running Ollama server for a model's tokenizer.
type ServerConfig struct {
	// Client makes the request. Default: a client of the call's own, on a
	// clone of http.DefaultTransport (proxy settings included), whose
	// connection is closed before the call returns, so that no goroutine
	// outlives it.
	Client *http.Client `json:"-"`
	// MaxBytes caps the /api/show response, which carries the whole
	// vocabulary (5.6 MB for Llama 3's 128k tokens and 280k merges).
	// Default 512 MiB.
	MaxBytes int64 `json:"max_bytes,omitempty"`
}

// withDefaults fills in the defaults; done closes the connections of a
// default client.
func (c ServerConfig) withDefaults() (_ ServerConfig, done func()) {
	done = func() {}
	if c.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		c.Client, done = &http.Client{Transport: tr}, tr.CloseIdleConnections
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 512 << 20
	}
	return c, done
}

// ServerError is a non-200 answer of a server's /api/show, such as 404 for
// a model the server does not have.
type ServerError struct {
	URL        string // the /api/show URL
	Model      string // the model asked for
	StatusCode int    // the HTTP status
	Message    string // the server's "error" text, or the start of its body
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("tokenizer: ollama %s: POST %s: %d %s: %s", e.Model, e.URL, e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// showResponse is the part of /api/show's answer a tokenizer needs.
type showResponse struct {
	ModelInfo *struct {
		Arch   string    `json:"general.architecture"`
		Model  string    `json:"tokenizer.ggml.model"`
		Pre    string    `json:"tokenizer.ggml.pre"`
		Tokens []string  `json:"tokenizer.ggml.tokens"`
		Types  []int32   `json:"tokenizer.ggml.token_type"`
		Scores []float32 `json:"tokenizer.ggml.scores"`
		Merges []string  `json:"tokenizer.ggml.merges"`
	} `json:"model_info"`
}

// LoadFromServer loads the tokenizer of model as the Ollama server at
// baseURL ("http://127.0.0.1:11434") serves it, local or remote, without
// its model store: it asks POST /api/show with "verbose": true, whose
// model_info carries the model's GGUF metadata, arrays in full, and builds
// from its tokenizer.ggml.* keys exactly the tokenizer LoadGGUF builds from
// the model's file. cfg.Server sets the client; cfg.Backend may be
// BackendOllama (default) or BackendExact (BackendHuggingFace needs a
// tokenizer.json, which a GGUF does not hold). Info.Format is "ollama-api"
// and Info.Source is ServerSource(baseURL, model).
//
// A non-200 answer is a *ServerError. A server that ignores "verbose"
// leaves arrays over 1024 entries out of model_info (null), which gives an
// error naming the missing key, never a partial vocabulary. ctx bounds the
// request and is returned as is when it ends.
func LoadFromServer(ctx context.Context, baseURL, model string, cfg LoadConfig) (Tokenizer, error) {
	if err := checkBackend(cfg.Backend); err != nil {
		return nil, err
	}
	if model == "" {
		return nil, fmt.Errorf("tokenizer: ollama %s: no model name", baseURL)
	}
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("tokenizer: ollama %s: base URL %q is not http(s)://HOST[:PORT]", model, baseURL)
	}
	c, done := cfg.Server.withDefaults()
	defer done()
	showURL := u.String() + "/api/show"
	source := ServerSource(u.String(), model)
	body, _ := json.Marshal(map[string]any{"model": model, "verbose": true})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, showURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: ollama %s: %w", model, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("tokenizer: ollama %s: POST %s: %w", model, showURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		msg := strings.TrimSpace(string(data))
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return nil, &ServerError{URL: showURL, Model: model, StatusCode: resp.StatusCode, Message: msg}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.MaxBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("tokenizer: ollama %s: POST %s: %w", model, showURL, err)
	}
	if int64(len(data)) > c.MaxBytes {
		return nil, fmt.Errorf("tokenizer: ollama %s: POST %s: answer larger than %d bytes (ServerConfig.MaxBytes)", model, showURL, c.MaxBytes)
	}
	t, err := parseShow(data, source, cfg.Backend)
	if err != nil {
		return nil, err
	}
	o := t.(*ollamaTok)
	o.info.Format = "ollama-api"
	o.info.Notes = append(o.info.Notes, "GGUF metadata from POST "+showURL+` {"verbose":true}`)
	return o, nil
}

// parseShow builds a tokenizer from an /api/show answer.
func parseShow(data []byte, source, backend string) (Tokenizer, error) {
	var r showResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: /api/show: %w", source, err)
	}
	mi := r.ModelInfo
	if mi == nil {
		return nil, fmt.Errorf("tokenizer: %s: /api/show answer has no model_info", source)
	}
	if len(mi.Tokens) == 0 {
		return nil, fmt.Errorf("tokenizer: %s: /api/show model_info has no tokenizer.ggml.tokens (a server that ignores \"verbose\" leaves out arrays over 1024 entries)", source)
	}
	g := ggufVocab{Arch: mi.Arch, Model: mi.Model, Pre: mi.Pre, Tokens: mi.Tokens, Types: mi.Types, Scores: mi.Scores, Merges: mi.Merges}
	if g.Arch == "" {
		g.Arch = "unknown" // what ggml.KV.Architecture says of a file without one
	}
	return fromGGUF(g, source, backend)
}

// ErrNotServerSource is wrapped by ParseServerSource's errors.
var ErrNotServerSource = errors.New("not an Ollama server source (want http://HOST:PORT/MODEL)")

// ServerSource returns the Load source that names model on the Ollama
// server at baseURL: "http://HOST:PORT/MODEL", for example
// "http://127.0.0.1:11434/gemma3:latest". baseURL's trailing slashes are
// dropped; a base URL with a path of its own (a server behind a path
// prefix) cannot be told from the model name in a source, so reach such a
// server with LoadFromServer.
func ServerSource(baseURL, model string) string {
	return strings.TrimRight(baseURL, "/") + "/" + model
}

// ParseServerSource splits a source "http(s)://HOST[:PORT]/MODEL" into the
// server's base URL and the model name (which may hold '/', as
// "hf.co/org/repo:tag" does, and must be a valid Ollama model name).
func ParseServerSource(src string) (baseURL, model string, err error) {
	u, err := url.Parse(src)
	if err != nil {
		return "", "", fmt.Errorf("tokenizer: %q: %w: %w", src, ErrNotServerSource, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("tokenizer: %q: %w", src, ErrNotServerSource)
	}
	model = strings.TrimPrefix(u.Path, "/")
	if model == "" {
		return "", "", fmt.Errorf("tokenizer: %q: %w: no model name after the host", src, ErrNotServerSource)
	}
	if _, err := ParseModelName(model); err != nil {
		return "", "", fmt.Errorf("tokenizer: %q: %w: %q is not an Ollama model name", src, ErrNotServerSource, model)
	}
	return u.Scheme + "://" + u.Host, model, nil
}
