package profiler

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestConfigJSON: Config embeds ClientConfig, writes durations as float
// milliseconds, never writes the API key, and reads the _ns spelling of
// files written before.
func TestConfigJSON(t *testing.T) {
	cfg := Config{
		Agents:       []Agent{{ID: "a", URL: "http://x", Model: "m"}},
		ClientConfig: ClientConfig{ReadBufferSize: 8192, IdleTimeout: 2 * time.Second, APIKey: "sk-secret"},
		Timeout:      time.Minute,
		Lag:          LagConfig{Interval: 5 * time.Millisecond},
		Consumer:     ConsumerConfig{Cost: 50 * time.Microsecond},
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"read_buffer_size":8192`, `"idle_timeout_ms":2000`, `"timeout_ms":60000`, `"lag":{"interval_ms":5}`, `"cost_ms":0.05`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config JSON lacks %s:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "sk-secret") || strings.Contains(string(b), "_ns") {
		t.Errorf("config JSON: %s", b)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.ReadBufferSize != 8192 || back.IdleTimeout != 2*time.Second || back.Timeout != time.Minute || back.Lag.Interval != 5*time.Millisecond || back.Consumer.Cost != 50*time.Microsecond {
		t.Errorf("round trip: %+v", back)
	}
	old := `{"agents":[],"read_buffer_size":4096,"timeout_ns":120000000000,"idle_timeout_ns":1000000,"lag":{"interval_ns":10000000,"stall_threshold_ns":10000000},"consumer":{"single_loop":false,"cost_ns":50000}}`
	var o Config
	if err := json.Unmarshal([]byte(old), &o); err != nil {
		t.Fatal(err)
	}
	if o.ReadBufferSize != 4096 || o.Timeout != 2*time.Minute || o.IdleTimeout != time.Millisecond || o.Lag.Interval != 10*time.Millisecond || o.Lag.StallThreshold != 10*time.Millisecond || o.Consumer.Cost != 50*time.Microsecond {
		t.Errorf("old spelling: %+v", o)
	}
}

// TestOldRunFileDurations reads a run_<i>.json as earlier versions wrote
// it (durations in integer nanoseconds), as the suite does when it
// resumes an existing output root and reports on it.
func TestOldRunFileDurations(t *testing.T) {
	old := `{"run":2,"agent_ids":["collector"],"consumer":{"single_loop":true,"cost_ns":100000},` +
		`"loop_lag":{"interval_ns":10000000,"stall_threshold_ns":10000000,"samples":3},` +
		`"collector":{"id":"collector"}}`
	var rr RunResult
	if err := json.Unmarshal([]byte(old), &rr); err != nil {
		t.Fatal(err)
	}
	if rr.Run != 2 || rr.LoopLag.Interval != 10*time.Millisecond || rr.LoopLag.Samples != 3 || rr.Consumer.Cost != 100*time.Microsecond || !rr.Consumer.SingleLoop || len(rr.Agents) != 1 {
		t.Errorf("old run file read as %+v", rr)
	}
	b, err := json.Marshal(rr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"interval_ms":10`) || !strings.Contains(string(b), `"cost_ms":0.1`) || strings.Contains(string(b), "_ns") {
		t.Errorf("rewritten run file: %s", b)
	}
}
