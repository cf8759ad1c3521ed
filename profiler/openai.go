package profiler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrNoDone: an OpenAI stream ended (cleanly or not) before its
// "data: [DONE]" event.
var ErrNoDone = errors.New("stream ended before its [DONE] event")

// openaiOptions maps Ollama option names to the OpenAI request's members.
var openaiOptions = [...]struct{ ollama, openai string }{
	{"num_predict", "max_tokens"},
	{"temperature", "temperature"},
	{"top_p", "top_p"},
	{"top_k", "top_k"},
	{"seed", "seed"},
	{"stop", "stop"},
}

// openaiBody marshals req for /v1/chat/completions or /v1/completions,
// streamed, with stream_options.include_usage unless noUsage.
func openaiBody(req *Request, noUsage bool) ([]byte, error) {
	body := map[string]any{"model": req.Model, "stream": true}
	if !noUsage {
		body["stream_options"] = map[string]any{"include_usage": true}
	}
	if req.API == APIOpenAIChat {
		var msgs []map[string]string
		if req.System != "" {
			msgs = append(msgs, map[string]string{"role": "system", "content": req.System})
		}
		body["messages"] = append(msgs, map[string]string{"role": "user", "content": req.Prompt})
	} else {
		prompt := req.Prompt
		if req.System != "" {
			prompt = req.System + "\n\n" + req.Prompt
		}
		body["prompt"] = prompt
	}
	for _, o := range openaiOptions {
		if v, ok := req.Options[o.ollama]; ok {
			body[o.openai] = v
		}
	}
	return json.Marshal(body)
}

// rejectsStreamOptions reports whether an HTTP error says that the server
// does not accept stream_options (a 400 or 422 that names it).
func rejectsStreamOptions(err error) bool {
	var he *HTTPError
	return errors.As(err, &he) && (he.StatusCode == 400 || he.StatusCode == 422) &&
		bytes.Contains([]byte(he.Message), []byte("stream_options"))
}

// openaiFields are the members of one OpenAI stream chunk that the meter
// and the final report need.
type openaiFields struct {
	lineFields
	finish     []byte // choices[0].finish_reason
	hasUsage   bool
	noChoices  bool // "choices" absent or empty: the final usage chunk
	prompt     int  // usage.prompt_tokens
	completion int  // usage.completion_tokens
	timings    *Timings
}

// openaiDecoder decodes the data of OpenAI stream events.
type openaiDecoder struct {
	sc      chunkScanner
	done    bool
	finish  string
	usage   bool
	prompt  int
	compl   int
	timings *Timings
	fin     *Final
	errName []byte // the event's name; "error" marks an error event
}

func (d *openaiDecoder) reset() {
	*d = openaiDecoder{sc: d.sc}
}

var doneData = []byte("[DONE]")

func (d *openaiDecoder) decode(b []byte) (*lineFields, bool, error) {
	if d.done {
		return nil, true, nil
	}
	if bytes.Equal(b, doneData) {
		d.done = true
		d.fin = d.report()
		d.sc.f = openaiFields{}
		d.sc.f.done = true
		return &d.sc.f.lineFields, false, nil
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, true, nil
	}
	f, err := d.sc.decode(b)
	if err != nil {
		return nil, false, fmt.Errorf("malformed event data: %w", err)
	}
	if len(f.errMsg) > 0 || string(d.errName) == "error" {
		msg := string(f.errMsg)
		if msg == "" {
			msg = string(b)
		}
		return nil, false, &ServerError{Message: msg}
	}
	d.keep(f)
	return &f.lineFields, false, nil
}

// keep records what the end-of-stream report needs. Usage is the server's
// count only on the final usage chunk (no choices) or when non-zero: some
// servers put zero usage on every chunk.
func (d *openaiDecoder) keep(f *openaiFields) {
	if len(f.finish) > 0 {
		d.finish = string(f.finish)
	}
	if f.hasUsage && (f.noChoices || f.completion > 0) {
		d.usage, d.prompt, d.compl = true, f.prompt, f.completion
	}
	if f.timings != nil {
		d.timings = f.timings
	}
}

// report builds the server's report from the usage and timings seen.
func (d *openaiDecoder) report() *Final {
	if d.finish == "" && !d.usage && d.timings == nil {
		return nil
	}
	fin := &Final{DoneReason: d.finish}
	if t := d.timings; t != nil {
		fin.Timings = t
		fin.EvalCount, fin.PromptEvalCount, fin.CountSource = t.PredictedN, t.PromptN, "timings"
		fin.EvalDuration = time.Duration(t.PredictedMS * float64(time.Millisecond))
		fin.PromptEvalDuration = time.Duration(t.PromptMS * float64(time.Millisecond))
	}
	if d.usage {
		fin.EvalCount, fin.PromptEvalCount, fin.CountSource = d.compl, d.prompt, "usage"
	}
	return fin
}

func (d *openaiDecoder) final() *Final { return d.fin }

func (d *openaiDecoder) cut() error { return ErrNoDone }
