package profiler

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// A decoder turns one framed message into lineFields. skip reports a
// message that is not one (a blank line, anything after the final
// message). Once a decoder has returned a message with done set, final
// returns the server's report.
type decoder interface {
	decode(b []byte) (f *lineFields, skip bool, err error)
	final() *Final
	// cut explains a stream that ended before its final message.
	cut() error
}

// ollamaDecoder decodes Ollama's NDJSON messages: the hot path with the
// non-allocating lineScanner, the final message with encoding/json. It
// also follows Ollama's repetition abort, to explain a cut stream.
type ollamaDecoder struct {
	sc      lineScanner
	done    bool
	fin     *Final
	repeats int
	last    []byte // the previous message's content, spaces trimmed
}

func (d *ollamaDecoder) reset(chat bool) {
	d.sc.chat = chat
	d.done, d.fin, d.repeats = false, nil, 0
	d.last = d.last[:0]
}

func (d *ollamaDecoder) decode(b []byte) (*lineFields, bool, error) {
	if d.done || len(bytes.TrimSpace(b)) == 0 {
		// Ollama writes nothing after the final message; ignore it.
		return nil, true, nil
	}
	sc := &d.sc
	if !sc.scan(b) {
		if err := decodeLine(b, sc.chat, &sc.f); err != nil {
			return nil, false, fmt.Errorf("malformed message: %w", err)
		}
	}
	f := &sc.f
	if len(f.errMsg) > 0 {
		return nil, false, &ServerError{Message: string(f.errMsg)}
	}
	if !f.done {
		if t := bytes.TrimSpace(f.content); bytes.Equal(t, d.last) {
			d.repeats++
		} else {
			d.last, d.repeats = append(d.last[:0], t...), 0
		}
		return f, false, nil
	}
	var fl finalLine
	if err := json.Unmarshal(b, &fl); err != nil {
		return nil, false, fmt.Errorf("malformed final message: %w", err)
	}
	d.fin = &Final{DoneReason: fl.DoneReason, Metrics: fl.Metrics, CountSource: "ollama"}
	d.done = true
	return f, false, nil
}

func (d *ollamaDecoder) final() *Final { return d.fin }

func (d *ollamaDecoder) cut() error { return truncated(d.repeats, d.last) }

// repeatLimit is Ollama v0.6.5's repetition abort (llm/server.go): it ends
// a stream, without a done message, once the model's text repeats more
// than repeatLimit times in a row.
const repeatLimit = 30

// truncated explains a stream that ended without its final message: by
// Ollama's repetition abort when the last messages were one token repeated
// repeatLimit+1 times, else by one of the known causes.
//
// repeats mirrors Ollama's counter: how often the last message's trimmed
// text repeated the one before, where the text before the first message
// counts as "" (so whitespace-only messages repeat from the start).
func truncated(repeats int, last []byte) error {
	if repeats >= repeatLimit {
		n := repeats
		if len(last) > 0 {
			n++ // the first of the run
		}
		return fmt.Errorf("%w, after %d messages in a row of %q: Ollama aborts a generation once one token repeats more than %d times (the model is looping; a repeat_penalty above 1 or a higher temperature helps)",
			ErrTruncated, n, last, repeatLimit)
	}
	return fmt.Errorf("%w; known causes: Ollama aborts a generation once one token repeats more than %d times in a row, or the server was stopped or ran out of memory",
		ErrTruncated, repeatLimit)
}
