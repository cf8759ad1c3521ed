package ollamatest

import (
	"fmt"
	"net/http"
	"time"
)

// FaultKind names a way a request can fail. The zero value is no fault.
type FaultKind string

// The fault kinds. Mid-stream kinds fire after [Fault.After] token messages
// have been written; with "stream": false they shape the one response body
// the same way (an error line becomes Ollama's 500 error JSON).
const (
	// FaultNone: the request succeeds.
	FaultNone FaultKind = ""
	// FaultHTTPError answers with [Fault.Status] and Ollama's error JSON
	// {"error":"…"} instead of a stream, before any model load.
	FaultHTTPError FaultKind = "http_error"
	// FaultErrorLine writes {"error":"…"} as a stream line and ends the
	// stream, which is what Ollama does when its runner fails mid-generation.
	FaultErrorLine FaultKind = "error_line"
	// FaultCut ends the response cleanly (a well-formed end of the chunked
	// body) without a done message.
	FaultCut FaultKind = "cut"
	// FaultAbort drops the connection mid-body, as a crashed server would:
	// the client sees an unexpected EOF or a reset.
	FaultAbort FaultKind = "abort"
	// FaultStall stops writing for [Fault.Duration], or until the client goes
	// away (or the server closes) when Duration is 0, then carries on.
	FaultStall FaultKind = "stall"
	// FaultMalformed writes a line that is not JSON in place of one token
	// message and then carries on.
	FaultMalformed FaultKind = "malformed"
	// FaultHugeFinal makes the final message [Fault.Size] bytes long by
	// padding the generate "context" array (chat, which has no context,
	// gets a long content in its final message).
	FaultHugeFinal FaultKind = "huge_final"
	// FaultRepeat makes the model loop, as a small model at temperature 0
	// (or with repeat_penalty 0) does: from token [Fault.After] on, every
	// token is the same word. Ollama's repetition abort (see
	// [Config.NoRepeatAbort]) then ends the stream after 31
	// identical messages without a done message; with the abort turned
	// off the loop runs to the end of the response.
	FaultRepeat FaultKind = "repeat"
)

// DefaultHugeFinalSize is the length of a [FaultHugeFinal] final line when
// [Fault.Size] is 0.
const DefaultHugeFinalSize = 4 << 20

// Fault is a failure the simulator injects into one request. The zero value
// is no fault.
type Fault struct {
	Kind FaultKind `json:"kind,omitempty"`
	// After is the number of token messages written before a mid-stream
	// fault fires. Default 0.
	After int `json:"after,omitempty"`
	// Status is the HTTP status of FaultHTTPError. Default 500.
	Status int `json:"status,omitempty"`
	// Message is the error text of FaultHTTPError and FaultErrorLine.
	// Default: the text Ollama sends for that status, or a runner failure.
	Message string `json:"message,omitempty"`
	// Duration is how long FaultStall stalls; 0 means until the client goes
	// away.
	Duration time.Duration `json:"duration_ns,omitempty"`
	// Size is the length in bytes of the FaultHugeFinal line. Default 4 MiB.
	Size int `json:"size,omitempty"`
}

// Error texts Ollama v0.6.5 sends.
const (
	runnerFailedText = "an error was encountered while running the model: unexpected EOF"
	serverBusyText   = "server busy, please try again.  maximum pending requests exceeded"
)

func (f Fault) status() int {
	if f.Status == 0 {
		return http.StatusInternalServerError
	}
	return f.Status
}

func (f Fault) message(model string) string {
	if f.Message != "" {
		return f.Message
	}
	switch f.status() {
	case http.StatusNotFound:
		return notFoundText(model)
	case http.StatusServiceUnavailable:
		return serverBusyText
	case http.StatusBadRequest:
		return "model is required"
	default:
		return runnerFailedText
	}
}

func notFoundText(model string) string {
	return fmt.Sprintf("model '%s' not found", model)
}
