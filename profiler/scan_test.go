package profiler

import (
	"bytes"
	"encoding/json"
	"testing"
)

var scanSeeds = []string{
	`{"model":"gemma3:latest","created_at":"2026-11-26T16:00:00.123Z","response":" the","done":false}`,
	`{"model":"gemma3:latest","created_at":"2026-11-26T16:00:00.123Z","response":"","done":true,"done_reason":"stop","context":[1,2,3],"total_duration":5000,"eval_count":3}`,
	`{"model":"m","created_at":"x","message":{"role":"assistant","content":"Hi \u00e9\n"},"done":false}`,
	`{"message":{"role":"assistant","content":"","thinking":"hmm"},"done":false}`,
	`{"error":"an error was encountered while running the model: unexpected EOF"}`,
	`{"response":"\ud83d\ude00 \ud83d x \udc00 \u0041","done":false}`,
	"{\"response\":\"caf\xc3\xa9 \xff\xfe bad\",\"done\":false}",
	`{"Response":"folded","done":false}`,
	`{"RESPONSE":"a","DONE":true}`,
	`{"response":"a","response":"b"}`,
	`{"response":null,"done":null}`,
	`{"response":5}`,
	`{"message":{"content":"a"},"message":{"role":"b"}}`,
	`{"message":null}`,
	`{"x":[1,-2.5e+3,0.1,{"y":[true,false,null,"s\"\\\/\b\f\n\r\t"]}],"response":"ok"}`,
	`{"x":01}`,
	`{"x":1.}`,
	`{"x":-}`,
	`{"response":"a",}`,
	`{"response":"a"} x`,
	`  {"response" : "a" , "done" : true }  `,
	`{}`,
	`[]`,
	`"s"`,
	`{"response":"tab	inside"}`,
	`{"résponse":"a"}`,
	`{"re\u0073ponse":"escaped key"}`,
	`{"thinking":"t","response":"r"}`,
	`{"message":{"Content":"c","THINKING":"t"}}`,
	`{"x":"\u12"}`,
	`{"x":"\q"}`,
}

// parseLine is what the client does with a line: the scanner, else
// encoding/json.
func parseLine(sc *lineScanner, line []byte) (lineFields, error) {
	if sc.scan(line) {
		return sc.f, nil
	}
	var f lineFields
	err := decodeLine(line, sc.chat, &f)
	return f, err
}

// reference decodes line with encoding/json alone.
func referenceLine(line []byte, chat bool) (lineFields, error) {
	var f lineFields
	err := decodeLine(line, chat, &f)
	return f, err
}

func sameFields(a, b lineFields) bool {
	return bytes.Equal(a.content, b.content) && bytes.Equal(a.thinking, b.thinking) &&
		bytes.Equal(a.errMsg, b.errMsg) && a.done == b.done
}

func checkScan(t *testing.T, line []byte, chat bool) {
	t.Helper()
	sc := &lineScanner{chat: chat}
	fast := sc.scan(line)
	got, gotErr := parseLine(sc, line)
	want, wantErr := referenceLine(line, chat)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("chat=%v %q: error %v, encoding/json %v (fast path %v)", chat, line, gotErr, wantErr, fast)
	}
	if fast && wantErr != nil {
		t.Fatalf("chat=%v %q: scanner accepted what encoding/json rejects: %v", chat, line, wantErr)
	}
	if wantErr == nil && !sameFields(got, want) {
		t.Fatalf("chat=%v %q: fields\n got content %q thinking %q error %q done %v\nwant content %q thinking %q error %q done %v",
			chat, line, got.content, got.thinking, got.errMsg, got.done, want.content, want.thinking, want.errMsg, want.done)
	}
}

func TestScanLineSeeds(t *testing.T) {
	for _, s := range scanSeeds {
		checkScan(t, []byte(s), false)
		checkScan(t, []byte(s), true)
	}
}

// FuzzScanLine checks that the fast scanner agrees with encoding/json on
// every field it reads, and never accepts a line encoding/json rejects.
func FuzzScanLine(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, line []byte, chat bool) {
		checkScan(t, line, chat)
	})
}

func TestScanLineFastPathDoesNotAllocate(t *testing.T) {
	for _, tc := range []struct {
		line string
		chat bool
	}{
		{`{"model":"gemma3:latest","created_at":"2026-11-26T16:00:00.123456789Z","response":" token","done":false}`, false},
		{`{"model":"gemma3:latest","created_at":"2026-11-26T16:00:00.123456789Z","response":"line\nbreak \u00fc","done":false}`, false},
		{`{"model":"gemma3:latest","created_at":"2026-11-26T16:00:00.123456789Z","message":{"role":"assistant","content":" token"},"done":false}`, true},
	} {
		sc := &lineScanner{chat: tc.chat}
		line := []byte(tc.line)
		if !sc.scan(line) {
			t.Fatalf("scanner declined %s", line)
		}
		if n := testing.AllocsPerRun(100, func() { sc.scan(line) }); n != 0 {
			t.Errorf("%d allocations scanning %s", int(n), line)
		}
	}
}

// TestScanLineMatchesWireFormat decodes a real-shaped final line both ways.
func TestScanLineMatchesWireFormat(t *testing.T) {
	line := []byte(`{"model":"gemma3:latest","created_at":"2026-11-26T16:01:00Z","response":"","done":true,"done_reason":"length","context":[1,2,3],"total_duration":5000000000,"load_duration":10,"prompt_eval_count":40,"prompt_eval_duration":50,"eval_count":7,"eval_duration":4900000000}`)
	sc := &lineScanner{}
	if !sc.scan(line) || !sc.f.done {
		t.Fatal("final line not scanned as done")
	}
	var fl finalLine
	if err := json.Unmarshal(line, &fl); err != nil {
		t.Fatal(err)
	}
	if fl.DoneReason != "length" || fl.EvalCount != 7 || fl.TotalDuration != 5000000000 || fl.PromptEvalCount != 40 {
		t.Errorf("final %+v", fl)
	}
}

func TestRecordsAppendCSVDoNotAllocate(t *testing.T) {
	c := Chunk{Agent: "collector", Index: 3, Bytes: 120, Gap: 1500000, Parse: 2000, Run: 1, Lines: 1, Since: 9000000}
	l := LagSample{Lag: 1234567, Run: 2}
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { buf = c.AppendCSV(buf[:0]); buf = l.AppendCSV(buf[:0]) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
	if got := string(c.AppendCSV(nil)); got != ",collector,3,120,1.500000,0.002000,1,1,9.000000" {
		t.Errorf("chunk row %q", got)
	}
	// The first chunk of a stream has no gap: an empty gap_ms field.
	first := Chunk{Agent: "collector", Index: 0, Bytes: 80, Parse: 2000, Run: 1, Lines: 1, Since: 9000000}
	if got := string(first.AppendCSV(nil)); got != ",collector,0,80,,0.002000,1,1,9.000000" {
		t.Errorf("first chunk row %q", got)
	}
	if got := string(l.AppendCSV(nil)); got != ",1.234567,2" {
		t.Errorf("lag row %q", got)
	}
}
