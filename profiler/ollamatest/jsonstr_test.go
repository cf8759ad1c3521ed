package ollamatest

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzAppendString checks appendString against encoding/json byte for byte.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", ` "quoted" \ back`, "<b>&</b>", "\n\r\t\b\f\x00\x1f\x7f", "café 東京 😀", "\u2028\u2029", "bad \xff\xc3 utf8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, encoding/json %s", s, got, want)
		}
	})
}

// TestAppendTokenMatchesMarshal checks the hand-built token messages against
// encoding/json on the mirrored Ollama types.
func TestAppendTokenMatchesMarshal(t *testing.T) {
	now := time.Date(2026, 11, 26, 16, 43, 35, 691844000, time.UTC)
	h := NewHandler(Config{Now: func() time.Time { return now }})
	for _, chat := range []bool{false, true} {
		for _, name := range []string{"gemma3:latest", `we"ird<&>`} {
			for _, tok := range []string{" the", "", "<|end|>", "\n", " 😀"} {
				j := &job{h: h, name: name, chat: chat}
				var want []byte
				if chat {
					want, _ = json.Marshal(chatResponse{Model: name, CreatedAt: now, Message: message{Role: "assistant", Content: tok}})
				} else {
					want, _ = json.Marshal(generateResponse{Model: name, CreatedAt: now, Response: tok})
				}
				if got := j.appendToken(nil, tok); string(got) != string(want) {
					t.Errorf("chat %v: got  %s\nwant %s", chat, got, want)
				}
			}
		}
	}
}

func BenchmarkAppendToken(b *testing.B) {
	h := NewHandler(Config{})
	j := &job{h: h, name: "gemma3:latest"}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = j.appendToken(buf[:0], " throughput")
	}
}
