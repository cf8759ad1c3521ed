package ollamatest_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"tr117/profiler/ollamatest"
)

// A simulated Ollama streams a deterministic completion; Unpaced makes it
// go as fast as the client reads.
func Example() {
	srv := ollamatest.NewServer(ollamatest.Config{Unpaced: true, Seed: 1})
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/api/generate", "application/json",
		strings.NewReader(`{"model":"gemma3:latest","prompt":"Why is the sky blue?","options":{"num_predict":6}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var msg struct {
			Response   string `json:"response"`
			Done       bool   `json:"done"`
			DoneReason string `json:"done_reason"`
			EvalCount  int    `json:"eval_count"`
		}
		if err := json.Unmarshal(sc.Bytes(), &msg); err != nil {
			fmt.Println(err)
			return
		}
		if msg.Done {
			fmt.Printf("done: %s after %d tokens\n", msg.DoneReason, msg.EvalCount)
			break
		}
		fmt.Printf("%q\n", msg.Response)
	}
	// Output:
	// " come"
	// " see"
	// " benchmark"
	// " kernel"
	// " three"
	// " very"
	// done: length after 6 tokens
}

// Faults are chosen per request: here every request for one model fails
// mid-stream while the other model's requests succeed.
func ExampleConfig_faults() {
	srv := ollamatest.NewServer(ollamatest.Config{
		Unpaced: true,
		Faults: map[string]ollamatest.Fault{
			"qwen2.5:7b": {Kind: ollamatest.FaultErrorLine, After: 2, Message: "runner crashed"},
		},
	})
	defer srv.Close()

	for _, model := range []string{"gemma3:latest", "qwen2.5:7b", "mistral:7b"} {
		resp, err := http.Post(srv.URL+"/api/generate", "application/json",
			strings.NewReader(`{"model":"`+model+`","prompt":"hi","options":{"num_predict":4}}`))
		if err != nil {
			fmt.Println(err)
			return
		}
		sc := bufio.NewScanner(resp.Body)
		n, last := 0, ""
		for sc.Scan() {
			n++
			last = sc.Text()
		}
		resp.Body.Close()
		if i := strings.Index(last, `"done_reason"`); i >= 0 {
			last = last[i : i+len(`"done_reason":"length"`)]
		}
		fmt.Printf("%s: %d %d lines, last %s\n", model, resp.StatusCode, n, last)
	}
	// Output:
	// gemma3:latest: 200 5 lines, last "done_reason":"length"
	// qwen2.5:7b: 200 3 lines, last {"error":"runner crashed"}
	// mistral:7b: 404 1 lines, last {"error":"model 'mistral:7b' not found"}
}
