package ollamatest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// openaiRequest is what Ollama v0.6.5's OpenAI middleware reads from a
// /v1/chat/completions or /v1/completions request.
type openaiRequest struct {
	Model         string    `json:"model"`
	Messages      []message `json:"messages"`
	Prompt        string    `json:"prompt"`
	Stream        bool      `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens   *float64 `json:"max_tokens"`
	Seed        *float64 `json:"seed"`
	Stop        any      `json:"stop"`
	Temperature *float64 `json:"temperature"`
	TopP        *float64 `json:"top_p"`
}

// native translates r into the body of Ollama's own request, as the
// middleware does (max_tokens → num_predict, stop as a list).
func (r *openaiRequest) native(chat bool) ([]byte, error) {
	opts := map[string]any{}
	if r.MaxTokens != nil {
		opts["num_predict"] = *r.MaxTokens
	}
	if r.Seed != nil {
		opts["seed"] = *r.Seed
	}
	switch s := r.Stop.(type) {
	case string:
		opts["stop"] = []string{s}
	case []any:
		var stops []string
		for _, v := range s {
			if str, ok := v.(string); ok {
				stops = append(stops, str)
			}
		}
		opts["stop"] = stops
	}
	body := map[string]any{"model": r.Model, "stream": r.Stream, "options": opts}
	if chat {
		body["messages"] = r.Messages
	} else {
		body["prompt"] = r.Prompt
	}
	return json.Marshal(body)
}

// openai serves /v1/chat/completions (chat) or /v1/completions as Ollama
// v0.6.5 does: its middleware turns the request into a native one and each
// NDJSON message of the native response into a server-sent event, so
// every knob and fault of the native endpoints applies.
func (h *Handler) openai(w http.ResponseWriter, r *http.Request, chat bool) {
	var req openaiRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeOpenAIError(w, http.StatusBadRequest, err.Error())
		return
	}
	if chat && len(req.Messages) == 0 {
		writeOpenAIError(w, http.StatusBadRequest, "[] is too short - 'messages'")
		return
	}
	body, err := req.native(chat)
	if err != nil {
		writeOpenAIError(w, http.StatusBadRequest, err.Error())
		return
	}
	ow := &openaiWriter{w: w, chat: chat, stream: req.Stream, id: "chatcmpl-" + strconv.FormatInt(h.seq.Load()+1, 10),
		usage: req.StreamOptions != nil && req.StreamOptions.IncludeUsage, status: http.StatusOK}
	if !chat {
		ow.id = "cmpl-" + ow.id[len("chatcmpl-"):]
	}
	nr := r.Clone(r.Context())
	nr.Body = io.NopCloser(bytes.NewReader(body))
	if chat {
		h.chat(ow, nr)
	} else {
		h.generate(ow, nr)
	}
	ow.finish()
}

// writeOpenAIError writes OpenAI's error JSON as the middleware does:
// "application/json", encoded with a trailing newline.
func writeOpenAIError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(openaiErrorBody(msg))
}

func openaiErrorBody(msg string) any {
	type e struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   any     `json:"param"`
		Code    *string `json:"code"`
	}
	return struct {
		Error e `json:"error"`
	}{e{Message: msg, Type: "api_error"}}
}

// openaiWriter is the middleware's ResponseWriter: it converts the native
// NDJSON stream, line by line, into OpenAI chunks as server-sent events;
// an error response into OpenAI's error JSON; and a non-streamed response
// into a completion object.
type openaiWriter struct {
	w             http.ResponseWriter
	chat, stream  bool
	usage         bool
	id            string
	status        int
	wroteHeader   bool
	pending, body []byte
}

func (o *openaiWriter) Header() http.Header { return o.w.Header() }

func (o *openaiWriter) WriteHeader(code int) {
	o.status = code
	if code == http.StatusOK && o.stream {
		o.w.Header().Set("Content-Type", "text/event-stream")
		o.w.WriteHeader(code)
		o.wroteHeader = true
	}
}

// Unwrap lets http.ResponseController reach the Flusher underneath.
func (o *openaiWriter) Unwrap() http.ResponseWriter { return o.w }

func (o *openaiWriter) Write(b []byte) (int, error) {
	if !o.wroteHeader {
		o.body = append(o.body, b...) // an error or a whole response
		return len(b), nil
	}
	o.pending = append(o.pending, b...)
	var out []byte
	for {
		i := bytes.IndexByte(o.pending, '\n')
		if i < 0 {
			break
		}
		ev, err := o.event(o.pending[:i])
		if err != nil {
			return 0, err
		}
		out = append(out, ev...)
		o.pending = o.pending[i+1:]
	}
	if len(out) > 0 {
		if _, err := o.w.Write(out); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// nativeMessage is a native response line as the middleware reads it.
type nativeMessage struct {
	Model           string  `json:"model"`
	Response        string  `json:"response"`
	Message         message `json:"message"`
	Done            bool    `json:"done"`
	DoneReason      string  `json:"done_reason"`
	PromptEvalCount int     `json:"prompt_eval_count"`
	EvalCount       int     `json:"eval_count"`
	Error           string  `json:"error"`
}

type openaiUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// The middleware's types, their members in its order.
type (
	chunkChoice struct {
		Index        int     `json:"index"`
		Delta        message `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	}
	chatChunk struct {
		ID                string        `json:"id"`
		Object            string        `json:"object"`
		Created           int64         `json:"created"`
		Model             string        `json:"model"`
		SystemFingerprint string        `json:"system_fingerprint"`
		Choices           []chunkChoice `json:"choices"`
		Usage             *openaiUsage  `json:"usage,omitempty"`
	}
	textChoice struct {
		Text         string  `json:"text"`
		Index        int     `json:"index"`
		FinishReason *string `json:"finish_reason"`
	}
	textChunk struct {
		ID                string       `json:"id"`
		Object            string       `json:"object"`
		Created           int64        `json:"created"`
		Choices           []textChoice `json:"choices"`
		Model             string       `json:"model"`
		SystemFingerprint string       `json:"system_fingerprint"`
		Usage             *openaiUsage `json:"usage,omitempty"`
	}
	messageChoice struct {
		Index        int     `json:"index"`
		Message      message `json:"message"`
		FinishReason *string `json:"finish_reason"`
	}
	chatCompletion struct {
		ID                string          `json:"id"`
		Object            string          `json:"object"`
		Created           int64           `json:"created"`
		Model             string          `json:"model"`
		SystemFingerprint string          `json:"system_fingerprint"`
		Choices           []messageChoice `json:"choices"`
		Usage             openaiUsage     `json:"usage"`
	}
	textCompletion struct {
		ID                string       `json:"id"`
		Object            string       `json:"object"`
		Created           int64        `json:"created"`
		Model             string       `json:"model"`
		SystemFingerprint string       `json:"system_fingerprint"`
		Choices           []textChoice `json:"choices"`
		Usage             openaiUsage  `json:"usage"`
	}
)

// event converts one native line into its events: a chunk, and after the
// final message the usage chunk (when asked for) and [DONE]. A line that
// is not a native message fails, as the middleware's Write does.
func (o *openaiWriter) event(line []byte) ([]byte, error) {
	var m nativeMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, err
	}
	out, err := appendEvent(nil, o.chunk(&m, false))
	if err != nil || !m.Done {
		return out, err
	}
	if o.usage {
		if out, err = appendEvent(out, o.chunk(&m, true)); err != nil {
			return nil, err
		}
	}
	return append(out, "data: [DONE]\n\n"...), nil
}

// chunk is the middleware's chunk for a native message: chat chunks carry
// the role on every delta; completion chunks carry zero usage when usage
// was asked for.
// With usage set, it is the final usage chunk (no choices).
func (o *openaiWriter) chunk(m *nativeMessage, usage bool) any {
	var fr *string
	if m.DoneReason != "" {
		fr = &m.DoneReason
	}
	var u *openaiUsage
	if usage {
		u = &openaiUsage{m.PromptEvalCount, m.EvalCount, m.PromptEvalCount + m.EvalCount}
	}
	now := time.Now().Unix()
	if o.chat {
		c := &chatChunk{ID: o.id, Object: "chat.completion.chunk", Created: now, Model: m.Model, SystemFingerprint: "fp_ollama", Usage: u,
			Choices: []chunkChoice{{Delta: message{Role: "assistant", Content: m.Message.Content}, FinishReason: fr}}}
		if usage {
			c.Choices = []chunkChoice{}
		}
		return c
	}
	c := &textChunk{ID: o.id, Object: "text_completion", Created: now, Model: m.Model, SystemFingerprint: "fp_ollama", Usage: u,
		Choices: []textChoice{{Text: m.Response, FinishReason: fr}}}
	if usage {
		c.Choices = []textChoice{}
	} else if o.usage {
		c.Usage = &openaiUsage{}
	}
	return c
}

func appendEvent(dst []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dst = append(dst, "data: "...)
	dst = append(dst, b...)
	return append(dst, "\n\n"...), nil
}

// finish writes a response that was held back: an error as OpenAI's error
// JSON, or a non-streamed response as a completion object.
func (o *openaiWriter) finish() {
	if o.wroteHeader {
		return
	}
	var m nativeMessage
	if err := json.Unmarshal(o.body, &m); err != nil || o.status != http.StatusOK || m.Error != "" {
		msg := m.Error
		if msg == "" {
			msg = string(o.body)
		}
		writeOpenAIError(o.w, o.status, msg)
		return
	}
	o.w.Header().Set("Content-Type", "application/json")
	o.w.WriteHeader(http.StatusOK)
	json.NewEncoder(o.w).Encode(o.completion(&m))
}

// completion is the non-streamed response object.
func (o *openaiWriter) completion(m *nativeMessage) any {
	usage := openaiUsage{m.PromptEvalCount, m.EvalCount, m.PromptEvalCount + m.EvalCount}
	var fr *string
	if m.DoneReason != "" {
		fr = &m.DoneReason
	}
	now := time.Now().Unix()
	if o.chat {
		return chatCompletion{ID: o.id, Object: "chat.completion", Created: now, Model: m.Model, SystemFingerprint: "fp_ollama",
			Choices: []messageChoice{{Message: message{Role: "assistant", Content: m.Message.Content}, FinishReason: fr}}, Usage: usage}
	}
	return textCompletion{ID: o.id, Object: "text_completion", Created: now, Model: m.Model, SystemFingerprint: "fp_ollama",
		Choices: []textChoice{{Text: m.Response, FinishReason: fr}}, Usage: usage}
}
