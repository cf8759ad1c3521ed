package tokenizer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ollama/ollama/fs/ggml"
	"go.uber.org/goleak"

	"tr117/internal/ollamaserver"
	"tr117/internal/tinymodel"
)

// testClient returns a client whose idle connections are closed when the
// test ends, so goleak sees no keep-alive goroutines.
func testClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// sameTokenizer fails the test unless a and b hold the same vocabulary and
// encode text to the same ids.
func sameTokenizer(t *testing.T, a, b Tokenizer, text string) {
	t.Helper()
	if ai, bi := a.Info(), b.Info(); ai.Model != bi.Model || ai.VocabSize != bi.VocabSize || ai.Backend != bi.Backend {
		t.Errorf("info %+v\nwant %+v", ai, bi)
	}
	if ao, ok := a.(*ollamaTok); ok && ao.tok != nil {
		av, bv := ao.tok.Vocabulary(), b.(*ollamaTok).tok.Vocabulary()
		if !slices.Equal(av.Values, bv.Values) || !slices.Equal(av.Types, bv.Types) ||
			!slices.Equal(av.Scores, bv.Scores) || !slices.Equal(av.Merges, bv.Merges) {
			t.Errorf("vocabularies differ: %d/%d values, %d/%d scores, %d/%d merges",
				len(av.Values), len(bv.Values), len(av.Scores), len(bv.Scores), len(av.Merges), len(bv.Merges))
		}
	}
	got, want := encode(t, a, text), encode(t, b, text)
	if !slices.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Errorf("ids differ at %d: %d ids, LoadGGUF gives %d", i, len(got), len(want))
	}
	if len(want) == 0 {
		t.Error("no ids")
	}
}

// TestLoadFromRealServer asks a real Ollama for the tiny model's tokenizer
// and checks it is the one LoadGGUF builds from the same file.
func TestLoadFromRealServer(t *testing.T) {
	inst := ollamaserver.Start(t, 1)[0]
	path, err := tinymodel.Ensure(t.TempDir(), tinymodel.Config{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := LoadGGUF(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The default client leaves no connection (and no goroutine) behind.
	running := goleak.IgnoreCurrent()
	got, err := LoadFromServer(ctx, inst.URL, inst.Model, LoadConfig{})
	if err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, running)
	text := strings.Join(tinymodel.Words(), " ") + " Zürich 1984, naïve ☃ words\n\tnot in it"
	sameTokenizer(t, got, want, text)
	if info := got.Info(); info.Format != "ollama-api" || info.Source != inst.URL+"/tiny" {
		t.Errorf("info %+v", info)
	}

	// Through Load, after a source that is not there.
	cfg := LoadConfig{Server: ServerConfig{Client: testClient(t)}}
	src := ServerSource(inst.URL, "tiny:latest")
	tok, tried, err := Load(ctx, cfg, "ollama:not-pulled-here", src)
	if err != nil {
		t.Fatal(err)
	}
	sameTokenizer(t, tok, want, text)
	if len(tried) != 2 || tried[1].Where != "POST "+inst.URL+"/api/show tiny:latest" || tried[1].Err != nil {
		t.Errorf("attempts %v", tried)
	}

	// A model the server lacks is a 404 ServerError.
	_, err = LoadFromServer(ctx, inst.URL, "absent", cfg)
	var se *ServerError
	if !errors.As(err, &se) || se.StatusCode != http.StatusNotFound || !strings.Contains(err.Error(), "absent") {
		t.Errorf("absent model: %v", err)
	}
}

// showServer answers /api/show the way Ollama's server does: it decodes the
// GGUF of the model asked for with every array when "verbose" is true and
// with arrays capped at 1024 entries otherwise, drops general.name and
// tokenizer.chat_template, and writes the metadata as model_info.
func showServer(t *testing.T, models map[string]string) *httptest.Server {
	t.Helper()
	// Answers are kept: they depend only on the file and verbose, and
	// encoding a vocabulary again for every request is slow under -race.
	var mu sync.Mutex
	answers := map[string][]byte{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model   string `json:"model"`
			Verbose bool   `json:"verbose"`
		}
		if r.Method != http.MethodPost || r.URL.Path != "/api/show" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		path, ok := models[req.Model]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]string{"error": "model '" + req.Model + "' not found"})
			return
		}
		key := fmt.Sprint(path, req.Verbose)
		mu.Lock()
		defer mu.Unlock()
		if a, ok := answers[key]; ok {
			w.Write(a)
			return
		}
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		max := 0
		if req.Verbose {
			max = -1
		}
		g, err := ggml.Decode(f, max)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		kv := g.KV()
		delete(kv, "general.name")
		delete(kv, "tokenizer.chat_template")
		a, err := json.Marshal(map[string]any{"model_info": kv, "details": map[string]any{"format": "gguf"}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		answers[key] = a
		w.Write(a)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestLoadFromServerFixture(t *testing.T) {
	llama := cachedGGUF(t, "llama3-bpe", llama3BPEKV)
	gemma := cachedGGUF(t, "gemma2-spm", gemma2KV)
	srv := showServer(t, map[string]string{"llama3:8b": llama, "gemma2:2b": gemma})
	ctx := context.Background()
	cfg := LoadConfig{Server: ServerConfig{Client: testClient(t)}}
	text := warAndPeace(t)[:100000]
	if raceEnabled {
		text = text[:10000]
	}
	text += "<|begin_of_text|> !!!!!!!! aaaa"

	for _, tc := range []struct {
		model, path, backend string
	}{
		{"llama3:8b", llama, BackendOllama},
		{"llama3:8b", llama, BackendExact},
		{"gemma2:2b", gemma, BackendOllama},
	} {
		t.Run(tc.model+"/"+tc.backend, func(t *testing.T) {
			if raceEnabled && tc.backend != BackendOllama {
				// Single-goroutine decoding, slow under -race; the plain
				// run covers it.
				t.Skip("race detector")
			}
			want, err := loadGGUF(tc.path, tc.backend)
			if err != nil {
				t.Fatal(err)
			}
			c := cfg
			c.Backend = tc.backend
			got, err := LoadFromServer(ctx, srv.URL+"/", tc.model, c)
			if err != nil {
				t.Fatal(err)
			}
			sameTokenizer(t, got, want, text)
			if got.Info().Source != srv.URL+"/"+tc.model {
				t.Errorf("source %q", got.Info().Source)
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name, base, model, backend, want string
		}{
			{"huggingface backend", srv.URL, "llama3:8b", BackendHuggingFace, "reads only tokenizer.json, not a GGUF"},
			{"unknown backend", srv.URL, "llama3:8b", "rust", "unknown backend"},
			{"no model", srv.URL, "", "", "no model name"},
			{"not http", "ftp://x", "m", "", "not http(s)"},
			{"not found", srv.URL, "qwen", "", "404 Not Found: model 'qwen' not found"},
			{"wrong path", srv.URL + "/v1", "llama3:8b", "", "400"},
		} {
			c := cfg
			c.Backend = tc.backend
			if _, err := LoadFromServer(ctx, tc.base, tc.model, c); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
			}
		}
		c := cfg
		c.Server.MaxBytes = 1000
		if _, err := LoadFromServer(ctx, srv.URL, "llama3:8b", c); err == nil || !strings.Contains(err.Error(), "larger than 1000 bytes") {
			t.Errorf("cap: %v", err)
		}
		// A server that leaves large arrays out (as Ollama does without
		// "verbose") gives an error, not a partial vocabulary.
		resp, err := cfg.Server.Client.Post(srv.URL+"/api/show", "application/json", strings.NewReader(`{"model":"llama3:8b"}`))
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), `"tokenizer.ggml.tokens":null`) {
			t.Fatalf("fixture: tokens not left out without verbose: %.200s", data)
		}
		if _, err := parseShow(data, "http://h/m", ""); err == nil || !strings.Contains(err.Error(), "verbose") {
			t.Errorf("without verbose: err = %v, want one that names verbose", err)
		}
		if _, err := parseShow([]byte(`{"license":"x"}`), "http://h/m", ""); err == nil || !strings.Contains(err.Error(), "no model_info") {
			t.Errorf("no model_info: err = %v", err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := LoadFromServer(cctx, srv.URL, "llama3:8b", cfg); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v", err)
		}
	})
}

func TestParseServerSource(t *testing.T) {
	for _, tc := range []struct {
		src, base, model string
	}{
		{"http://127.0.0.1:11434/gemma3:latest", "http://127.0.0.1:11434", "gemma3:latest"},
		{"https://ollama.example.com/qwen2.5:7b", "https://ollama.example.com", "qwen2.5:7b"},
		{"http://[::1]:11434/hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", "http://[::1]:11434", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"},
		{"http://h:1/", "", ""},
		{"http://h:1", "", ""},
		{"http://h:1/a/b/c/d", "", ""},
		{"http://h:1/m?x=1", "", ""},
		{"http://u:p@h:1/m", "", ""},
		{"file:///m", "", ""},
		{"http:///m", "", ""},
	} {
		base, model, err := ParseServerSource(tc.src)
		if tc.base == "" {
			if !errors.Is(err, ErrNotServerSource) {
				t.Errorf("%q: %q %q %v; want ErrNotServerSource", tc.src, base, model, err)
			}
			continue
		}
		if err != nil || base != tc.base || model != tc.model {
			t.Errorf("%q: %q %q %v; want %q %q", tc.src, base, model, err, tc.base, tc.model)
		}
		if s := ServerSource(base+"/", model); s != tc.src {
			t.Errorf("ServerSource round trip: %q", s)
		}
	}
}

func TestLoadServerSourceListed(t *testing.T) {
	_, tried, err := Load(context.Background(), LoadConfig{}, "http://h:1/")
	var le *LoadError
	if !errors.As(err, &le) || !errors.Is(err, ErrNotServerSource) || len(tried) != 1 {
		t.Errorf("err = %v, attempts %v", err, tried)
	}
}
