package ollamatest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"tr117/internal/ollamaserver"
)

// shape describes a JSON value by its keys, their order and their JSON
// types, recursively; the values of keys in opaque are described only as
// "object". Arrays are described by their first element.
func shape(v any, opaque map[string]bool) string {
	switch t := v.(type) {
	case orderedObject:
		var b strings.Builder
		b.WriteByte('{')
		for i, kv := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(kv.key)
			b.WriteByte(':')
			if opaque[kv.key] {
				b.WriteString("object")
				continue
			}
			b.WriteString(shape(kv.val, opaque))
		}
		b.WriteByte('}')
		return b.String()
	case []any:
		if len(t) == 0 {
			return "[]"
		}
		return "[" + shape(t[0], opaque) + "]"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("?%T", v)
}

type orderedObject []struct {
	key string
	val any
}

// decodeOrdered decodes one JSON value keeping the order of object keys.
func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		var obj orderedObject
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			obj = append(obj, struct {
				key string
				val any
			}{k.(string), v})
		}
		_, err := dec.Token()
		return obj, err
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token()
		return arr, err
	}
	return tok, nil
}

func parseLine(line []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	return decodeOrdered(dec)
}

// observed is what a request got back, reduced to what must agree.
type observed struct {
	status      int
	contentType string
	shapes      []string
	values      []string // done, done_reason and error of each line
}

func observe(t *testing.T, base, method, path, body string) observed {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, base, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, base, path, err)
	}
	o := observed{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type")}
	if o.contentType == "text/event-stream" {
		observeSSE(t, &o, raw)
		return o
	}
	if !strings.HasPrefix(o.contentType, "application/") {
		o.shapes = []string{string(raw)}
		return o
	}
	opaque := map[string]bool{"model_info": true}
	for _, line := range bytes.Split(bytes.TrimRight(raw, "\n"), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		v, err := parseLine(line)
		if err != nil {
			t.Fatalf("%s %s%s: line %q: %v", method, base, path, line, err)
		}
		o.shapes = append(o.shapes, shape(v, opaque))
		var m map[string]any
		json.Unmarshal(line, &m)
		if ts, ok := m["created_at"].(string); ok {
			if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.HasSuffix(ts, "Z") {
				t.Errorf("%s %s%s: created_at %q is not UTC RFC 3339", method, base, path, ts)
			}
		}
		o.values = append(o.values, fmt.Sprintf("done=%v done_reason=%v eval_count=%v error=%v", m["done"], m["done_reason"], m["eval_count"], m["error"]))
	}
	return o
}

// observeSSE reduces an OpenAI event stream: the shape of each event's
// data, and its finish_reason, usage and object values.
func observeSSE(t *testing.T, o *observed, raw []byte) {
	t.Helper()
	for _, ev := range bytes.Split(bytes.TrimRight(raw, "\n"), []byte("\n\n")) {
		data, ok := bytes.CutPrefix(ev, []byte("data: "))
		if !ok {
			t.Fatalf("event %q is not one data line", ev)
		}
		if string(data) == "[DONE]" {
			o.shapes, o.values = append(o.shapes, "[DONE]"), append(o.values, "[DONE]")
			continue
		}
		v, err := parseLine(data)
		if err != nil {
			t.Fatalf("event %q: %v", ev, err)
		}
		o.shapes = append(o.shapes, shape(v, nil))
		var m struct {
			Object  string `json:"object"`
			Choices []struct {
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *struct {
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		json.Unmarshal(data, &m)
		val := "object=" + m.Object
		for _, c := range m.Choices {
			if c.FinishReason != nil {
				val += " finish_reason=" + *c.FinishReason
			}
		}
		if m.Usage != nil {
			val += fmt.Sprintf(" completion_tokens=%d", m.Usage.CompletionTokens)
		}
		o.values = append(o.values, val)
	}
}

// TestParity sends the same requests to a real Ollama v0.6.5 serving the
// tiny model and to the simulator, and checks that status codes, content
// types, the number of messages, the keys of every message with their order
// and JSON types, and the done, done_reason, eval_count and error values
// agree.
func TestParity(t *testing.T) {
	real := ollamaserver.Start(t, 1)[0]
	// A prompt of "loop" with repeat_penalty 0 makes the tiny model repeat
	// one token, which Ollama's repetition abort cuts after 31 messages;
	// the simulator loops on that prompt by FaultRepeat.
	sim := NewServer(Config{Models: []string{real.Model}, TokensPerSecond: 2000, TTFT: time.Millisecond,
		FaultFunc: func(r Request) Fault {
			if r.Prompt == "loop" {
				return Fault{Kind: FaultRepeat}
			}
			return Fault{}
		}})
	defer sim.Close()

	cases := []struct{ name, method, path, body string }{
		{"generate stream", "POST", "/api/generate", `{"model":"tiny","prompt":"why is the sky blue?","options":{"num_predict":8}}`},
		{"generate stream again", "POST", "/api/generate", `{"model":"tiny","prompt":"why is the sky blue?","options":{"num_predict":3}}`},
		{"generate stop at once", "POST", "/api/generate", `{"model":"tiny","prompt":"hi","options":{"num_predict":8,"stop":[" "]}}`},
		{"chat stop at once", "POST", "/api/chat", `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"options":{"num_predict":8,"stop":[" "]}}`},
		{"generate no stream", "POST", "/api/generate", `{"model":"tiny","prompt":"hello <world> & you","stream":false,"options":{"num_predict":5}}`},
		{"generate repetition abort", "POST", "/api/generate", `{"model":"tiny","prompt":"loop","options":{"temperature":0,"repeat_penalty":0,"num_predict":60}}`},
		{"chat repetition abort", "POST", "/api/chat", `{"model":"tiny","messages":[{"role":"user","content":"loop"}],"options":{"temperature":0,"repeat_penalty":0,"num_predict":60}}`},
		{"generate repetition abort no stream", "POST", "/api/generate", `{"model":"tiny","prompt":"loop","stream":false,"options":{"temperature":0,"repeat_penalty":0,"num_predict":60}}`},
		{"v1 chat stream usage", "POST", "/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":5}`},
		{"v1 chat stream", "POST", "/v1/chat/completions", `{"model":"tiny","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}],"stream":true,"max_tokens":3}`},
		{"v1 completions stream usage", "POST", "/v1/completions", `{"model":"tiny","prompt":"why is the sky blue?","stream":true,"stream_options":{"include_usage":true},"max_tokens":5}`},
		{"v1 completions stream", "POST", "/v1/completions", `{"model":"tiny","prompt":"why","stream":true,"max_tokens":2}`},
		{"v1 chat no stream", "POST", "/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":3}`},
		{"v1 completions no stream", "POST", "/v1/completions", `{"model":"tiny","prompt":"hi","max_tokens":3}`},
		{"v1 chat unknown", "POST", "/v1/chat/completions", `{"model":"nope","messages":[{"role":"user","content":"x"}],"stream":true}`},
		{"v1 completions unknown", "POST", "/v1/completions", `{"model":"nope","prompt":"x","stream":true}`},
		{"chat stream", "POST", "/api/chat", `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"options":{"num_predict":4}}`},
		{"chat empty message", "POST", "/api/chat", `{"model":"tiny","messages":[{"role":"user","content":""}],"options":{"num_predict":2}}`},
		{"chat no stream", "POST", "/api/chat", `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"stream":false,"options":{"num_predict":3}}`},
		{"generate load", "POST", "/api/generate", `{"model":"tiny"}`},
		{"chat load", "POST", "/api/chat", `{"model":"tiny"}`},
		{"ps", "GET", "/api/ps", ``},
		{"tags", "GET", "/api/tags", ``},
		{"show", "POST", "/api/show", `{"model":"tiny"}`},
		{"version", "GET", "/api/version", ``},
		{"root", "GET", "/", ``},
		{"generate unload", "POST", "/api/generate", `{"model":"tiny","keep_alive":0}`},
		{"chat unload", "POST", "/api/chat", `{"model":"tiny","keep_alive":0}`},
		{"ps empty", "GET", "/api/ps", ``},
		{"generate unknown", "POST", "/api/generate", `{"model":"nope:1b","prompt":"x"}`},
		{"generate unknown no stream", "POST", "/api/generate", `{"model":"nope","prompt":"x","stream":false}`},
		{"generate no model", "POST", "/api/generate", `{"prompt":"x"}`},
		{"chat unknown", "POST", "/api/chat", `{"model":"nope","messages":[{"role":"user","content":"x"}]}`},
		{"chat no model", "POST", "/api/chat", `{"messages":[]}`},
		{"show unknown", "POST", "/api/show", `{"model":"nope"}`},
		{"generate empty body", "POST", "/api/generate", ``},
		{"generate bad json", "POST", "/api/generate", `{bad`},
		{"generate raw with system", "POST", "/api/generate", `{"model":"tiny","prompt":"x","raw":true,"system":"s"}`},
		{"unknown path", "GET", "/api/nope", ``},
		{"wrong method", "GET", "/api/generate", ``},
	}
	for _, tc := range cases {
		if tc.name == "ps empty" {
			// Ollama answers a keep_alive:0 request before its scheduler has
			// removed the runner, so /api/ps can list the model for a
			// moment longer. Wait (bounded) for the state, not a time.
			waitPSEmpty(t, real.URL, 10*time.Second)
		}
		want := observe(t, real.URL, tc.method, tc.path, tc.body)
		got := observe(t, sim.URL, tc.method, tc.path, tc.body)
		if got.status != want.status || got.contentType != want.contentType {
			t.Errorf("%s: simulator %d %q, Ollama %d %q", tc.name, got.status, got.contentType, want.status, want.contentType)
		}
		if len(got.shapes) != len(want.shapes) {
			t.Errorf("%s: simulator sent %d messages, Ollama %d:\n sim %q\n ollama %q", tc.name, len(got.shapes), len(want.shapes), got.shapes, want.shapes)
			continue
		}
		t.Logf("%s: %d %q %d msgs: %s | %v", tc.name, want.status, want.contentType, len(want.shapes), want.shapes[len(want.shapes)-1], want.values[max(0, len(want.values)-1):])
		for i := range want.shapes {
			if got.shapes[i] != want.shapes[i] {
				t.Errorf("%s: message %d:\n sim    %s\n ollama %s", tc.name, i, got.shapes[i], want.shapes[i])
			}
		}
		for i := range want.values {
			if got.values[i] != want.values[i] {
				t.Errorf("%s: message %d:\n sim    %s\n ollama %s", tc.name, i, got.values[i], want.values[i])
			}
		}
	}
}

// waitPSEmpty polls base's /api/ps until it lists no model or the deadline
// passes; the comparison that follows reports a model still listed.
func waitPSEmpty(t *testing.T, base string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/api/ps")
		if err != nil {
			t.Fatalf("ps: %v", err)
		}
		var ps struct {
			Models []json.RawMessage `json:"models"`
		}
		err = json.NewDecoder(resp.Body).Decode(&ps)
		resp.Body.Close()
		if err == nil && len(ps.Models) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
