package profiler

import (
	"context"
	"testing"
	"time"

	"tr117/sink"
)

// collect streams msgs (one per read) through a Client and returns the
// result, the callback's messages' arrivals and the chunk records.
func collect(t *testing.T, cfg ClientConfig, req Request, msgs [][]byte) (*Result, []Message, []Chunk) {
	t.Helper()
	cfg.HTTPClient = inProcessClient(msgs)
	c := NewClient(cfg)
	var chunks sink.Memory[Chunk]
	var seen []Message
	ctx := WithHooks(context.Background(), &Hooks{Chunks: &chunks})
	if req.URL == "" {
		req.URL = "http://test.invalid"
	}
	res, err := c.Stream(ctx, &req, func(m *Message) error {
		seen = append(seen, Message{Index: m.Index, Arrival: m.Arrival, Tokens: m.Tokens, Content: append([]byte(nil), m.Content...), Thinking: append([]byte(nil), m.Thinking...), Done: m.Done})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return res, seen, chunks.Records()
}

func lines(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s + "\n")
	}
	return out
}

// TTFT is the first token of any kind, reasoning included; TTFC the first
// content token; TPOT divides the time after TTFT by the tokens after the
// first, over the same token set.
func TestTTFTCountsReasoning(t *testing.T) {
	msgs := lines(
		`{"message":{"role":"assistant","content":""},"done":false}`,
		`{"message":{"role":"assistant","content":"","thinking":"Let"},"done":false}`,
		`{"message":{"role":"assistant","content":"","thinking":" me"},"done":false}`,
		`{"message":{"role":"assistant","content":"Hi"},"done":false}`,
		`{"message":{"role":"assistant","content":" there"},"done":false}`,
		`{"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":5,"eval_duration":1000}`,
	)
	res, seen, _ := collect(t, ClientConfig{}, Request{API: APIChat}, msgs)
	if res.Tokens != 4 || res.Response != "Hi there" {
		t.Fatalf("%d tokens, response %q", res.Tokens, res.Response)
	}
	if !res.HasTTFT || res.TTFT != seen[1].Arrival {
		t.Errorf("TTFT %v (has %v), want the first thinking message's arrival %v", res.TTFT, res.HasTTFT, seen[1].Arrival)
	}
	if !res.HasTTFC || res.TTFC != seen[3].Arrival {
		t.Errorf("TTFC %v (has %v), want the first content message's arrival %v", res.TTFC, res.HasTTFC, seen[3].Arrival)
	}
	if tpot, ok := res.TPOT(); !ok || tpot != (res.Total-res.TTFT)/3 {
		t.Errorf("TPOT %v, want (total − TTFT)/3 = %v", tpot, (res.Total-res.TTFT)/3)
	}
	if len(res.ITL) != 3 || res.ITL[0] != seen[2].Arrival-seen[1].Arrival {
		t.Errorf("ITL %v", res.ITL)
	}
}

// The exact read mode re-chunks the body into pieces of exactly
// ReadBufferSize bytes, as httpx's aiter_bytes(chunk_size=N) does, and a
// message arrives with the piece that completes it.
func TestReadModeExact(t *testing.T) {
	msgs := benchMessages(40)
	total := 0
	for _, m := range msgs {
		total += len(m)
	}
	const n = 300
	res, seen, chunks := collect(t, ClientConfig{ReadBufferSize: n, ReadMode: ReadExact}, Request{}, msgs)
	if want := (total + n - 1) / n; res.Chunks != want || len(chunks) != want {
		t.Fatalf("%d chunks (%d records), want %d", res.Chunks, len(chunks), want)
	}
	for i, c := range chunks {
		if want := min(n, total-i*n); c.Bytes != want {
			t.Errorf("chunk %d: %d bytes, want %d", i, c.Bytes, want)
		}
	}
	arrivals := map[time.Duration]bool{}
	for _, c := range chunks {
		arrivals[c.Since] = true
	}
	for _, m := range seen {
		if !arrivals[m.Arrival] {
			t.Fatalf("message %d arrived at %v, not with a chunk", m.Index, m.Arrival)
		}
	}
	// The bound mode hands on each read as it comes: one message per read,
	// in pieces of at most n bytes.
	res, _, _ = collect(t, ClientConfig{ReadBufferSize: n}, Request{}, msgs)
	want := 0
	for _, m := range msgs {
		want += (len(m) + n - 1) / n
	}
	if res.Chunks != want {
		t.Errorf("bound mode: %d chunks, want %d", res.Chunks, want)
	}
}

func TestParseReadMode(t *testing.T) {
	for in, want := range map[string]ReadMode{"": ReadBound, "bound": ReadBound, "exact": ReadExact} {
		if got, err := ParseReadMode(in); err != nil || got != want {
			t.Errorf("ParseReadMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseReadMode("lines"); err == nil {
		t.Error("ParseReadMode(lines) succeeded")
	}
}
