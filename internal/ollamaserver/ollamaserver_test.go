package ollamaserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

type streamResult struct {
	tokens int
	text   string
	final  map[string]any
	err    error
}

func generate(url, model, prompt string, numPredict int) streamResult {
	body, _ := json.Marshal(map[string]any{"model": model, "prompt": prompt, "options": map[string]any{"num_predict": numPredict}})
	resp, err := http.Post(url+"/api/generate", "application/json", bytes.NewReader(body))
	if err != nil {
		return streamResult{err: err}
	}
	defer resp.Body.Close()
	var r streamResult
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			r.err = err
			return r
		}
		if m["done"] == true {
			r.final = m
			continue
		}
		r.tokens++
		r.text += m["response"].(string)
	}
	r.err = sc.Err()
	return r
}

// TestTwoInstancesStream streams from two instances at once, then twice from
// one, and checks that eval_count matches the number of token messages.
func TestTwoInstancesStream(t *testing.T) {
	start := time.Now()
	insts := Start(t, 2)
	t.Logf("two instances up with the tiny model in %v", time.Since(start))
	const n = 32
	var wg sync.WaitGroup
	res := make([]streamResult, len(insts))
	for i, in := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = generate(in.URL, in.Model, "why is the sky blue?", n)
		}()
	}
	wg.Wait()
	check(t, res, n)

	// Two streams on one instance at once (Ollama's default parallelism on
	// a CPU is above one, so they share the runner).
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = generate(insts[0].URL, insts[0].Model, "tell me a story", n)
		}()
	}
	wg.Wait()
	check(t, res, n)
	t.Logf("whole test %v", time.Since(start))
}

func check(t *testing.T, res []streamResult, n int) {
	t.Helper()
	for i, r := range res {
		if r.err != nil {
			t.Fatalf("stream %d: %v", i, r.err)
		}
		if r.final == nil {
			t.Fatalf("stream %d: no done message after %d tokens", i, r.tokens)
		}
		if got := r.final["eval_count"]; got != float64(r.tokens) {
			t.Errorf("stream %d: eval_count %v, token messages %d", i, got, r.tokens)
		}
		if r.tokens != n || r.final["done_reason"] != "length" {
			t.Errorf("stream %d: %d tokens, done_reason %v; want %d, length", i, r.tokens, r.final["done_reason"], n)
		}
		if len(strings.Fields(r.text)) != n {
			t.Errorf("stream %d: want one word per message, got %q", i, r.text)
		}
	}
}

func TestUnknownModel(t *testing.T) {
	in := Start(t, 1)[0]
	resp, err := http.Post(in.URL+"/api/generate", "application/json", strings.NewReader(`{"model":"no-such-model","prompt":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNotFound || string(b) != `{"error":"model 'no-such-model' not found"}` {
		t.Errorf("got %d %s", resp.StatusCode, b)
	}
}
