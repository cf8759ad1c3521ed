package profiler

import (
	"fmt"
	"testing"
)

var chunkSeeds = []string{
	`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}`,
	`{"choices":[{"index":0,"delta":{"role":"assistant","content":null},"finish_reason":null}]}`,
	`{"choices":[{"index":0,"delta":{"reasoning_content":"h\u00e9 \"x\"\n"},"finish_reason":null}]}`,
	`{"choices":[{"index":0,"delta":{"reasoning":"a","content":"b"}}]}`,
	`{"choices":[{"text":"t","index":0,"finish_reason":"length"}],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}`,
	`{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}`,
	`{"choices":[{"delta":{"content":"a"}},{"delta":{"content":"b"}}]}`,
	`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"timings":{"prompt_n":1,"prompt_ms":1.5,"predicted_n":2,"predicted_ms":3,"cache_n":0}}`,
	`{"error":{"message":"boom"}}`,
	`{"Choices":[{"Delta":{"Content":"x"}}]}`,
	`{"usage":null,"choices":[{"delta":{"content":"\ud83d\ude00"}}]}`,
	`{"usage":{"completion_tokens":1e2}}`,
	`{"choices":[{"delta":{"content":"a"},"text":"b"}]}`,
	`{"choices":[`,
	` {"choices":[]} `,
}

func fieldsString(f *openaiFields) string {
	return fmt.Sprintf("content=%q thinking=%q finish=%q usage=%v/%d/%d nochoices=%v timings=%v err=%q",
		f.content, f.thinking, f.finish, f.hasUsage, f.prompt, f.completion, f.noChoices, f.timings != nil, f.errMsg)
}

// FuzzChunkScanner checks that the fast scanner, whenever it accepts a
// chunk, reads exactly what encoding/json reads from it.
func FuzzChunkScanner(f *testing.F) {
	for _, s := range chunkSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast, slow chunkScanner
		if !fast.scan(b) {
			return
		}
		got := fieldsString(&fast.f)
		f, err := slow.decodeJSON(b)
		if err != nil {
			t.Fatalf("scanner accepted %q, encoding/json: %v", b, err)
		}
		if want := fieldsString(f); got != want {
			t.Fatalf("%q:\nscanner       %s\nencoding/json %s", b, got, want)
		}
	})
}

func TestChunkScannerSeeds(t *testing.T) {
	accepted := 0
	for _, s := range chunkSeeds {
		var sc chunkScanner
		if sc.scan([]byte(s)) {
			accepted++
		}
	}
	if accepted < 6 {
		t.Errorf("the scanner accepted only %d of the seeds", accepted)
	}
}
