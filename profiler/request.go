package profiler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"time"

	"tr117/internal/simmark"
)

// stream is the state of one Client.Stream call, pooled between calls so
// that its buffers are reused.
type stream struct {
	c        *Client
	ctx      context.Context // the caller's
	rctx     context.Context // the request's: ctx plus the idle watchdog
	req      *Request
	api      API
	endpoint string
	hooks    *Hooks
	res      *Result
	start    time.Time
	lastRead atomic.Int64 // since start, for the idle watchdog

	rd     bodyReader
	lines  lineFramer
	events sseFramer
	fr     framer
	od     ollamaDecoder
	oa     openaiDecoder
	dec    decoder
	m      meter

	prevChunk time.Duration
	done      bool
}

func (s *stream) reset(c *Client, ctx context.Context, req *Request) {
	s.c, s.ctx, s.req, s.hooks = c, ctx, req, ContextHooks(ctx)
	s.api = req.API
	if s.api == "" {
		s.api = APIGenerate
	}
	root := strings.TrimRight(req.URL, "/")
	if s.api.OpenAI() {
		// "http://host:8000/v1", as OpenAI clients take it, is the root too.
		root = strings.TrimSuffix(root, "/v1")
	}
	s.endpoint = root + s.api.Path()
	s.res = &Result{Agent: req.Agent, URL: req.URL, API: s.api, Model: req.Model}
	s.prevChunk, s.done = 0, false
	s.lastRead.Store(0)
	if s.api.OpenAI() {
		s.events = sseFramer{joined: s.events.joined[:0], nameBuf: s.events.nameBuf[:0], eventName: s.events.eventName[:0]}
		s.oa.reset()
		s.fr, s.dec = &s.events, &s.oa
	} else {
		s.lines = lineFramer{}
		s.od.reset(s.api == APIChat)
		s.fr, s.dec = &s.lines, &s.od
	}
	s.start = time.Now()
	s.res.Start = s.start
}

// send posts the request and checks the response's status (and, for the
// OpenAI APIs, that it is an event stream). An OpenAI server that rejects
// stream_options is asked again without it.
func (s *stream) send() (*http.Response, error) {
	resp, err := s.post(false)
	if err == nil && s.api.OpenAI() && resp.StatusCode >= http.StatusBadRequest {
		herr := readHTTPError(resp)
		resp.Body.Close()
		if !rejectsStreamOptions(herr) {
			return nil, herr
		}
		s.res.ClientCounted = true
		resp, err = s.post(true)
	}
	if err != nil {
		return nil, transportError(err, s.api)
	}
	s.res.Simulated = simmark.Is(resp.Header, "")
	if resp.StatusCode >= http.StatusBadRequest {
		defer resp.Body.Close()
		return nil, readHTTPError(resp)
	}
	if s.api.OpenAI() {
		if err := notEventStream(resp); err != nil {
			resp.Body.Close()
			return nil, err
		}
	}
	return resp, nil
}

func (s *stream) post(noUsage bool) (*http.Response, error) {
	body, err := requestBody(s.req, noUsage)
	if err != nil {
		return nil, err
	}
	var tt traceTimes
	hreq, err := http.NewRequestWithContext(httptrace.WithClientTrace(s.rctx, tt.clientTrace(s.start)), http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	if s.api.OpenAI() {
		hreq.Header.Set("Accept", "text/event-stream")
	} else {
		hreq.Header.Set("Accept", "application/x-ndjson")
	}
	if k := s.c.cfg.APIKey; k != "" {
		hreq.Header.Set("Authorization", "Bearer "+k)
	}
	for k, v := range s.req.Header {
		hreq.Header[k] = v
	}
	resp, err := s.c.http.Do(hreq)
	s.res.Trace = tt.result()
	return resp, err
}

// read reads the body chunk by chunk until the final message and the end
// of the body (Ollama), or until "data: [DONE]" (OpenAI: the server may
// keep the connection open after it).
func (s *stream) read(body io.Reader, fn func(*Message) error) (*Result, error) {
	last := s.rd.last
	s.rd.reset(body, s.c.readSize(), s.c.cfg.ReadMode == ReadExact && s.c.cfg.ReadBufferSize > 0)
	s.rd.last, s.rd.start = last, s.start
	for {
		n, rerr := s.rd.read()
		if n > 0 {
			if err := s.chunk(n, fn); err != nil {
				return s.end(err)
			}
			if s.done && s.api.OpenAI() {
				s.m.finish()
				return s.res, nil
			}
		}
		if rerr != nil {
			return s.eof(rerr, fn)
		}
	}
}

// chunk frames, decodes and meters the messages that a chunk of n bytes
// completed, and records the chunk. Parse time excludes the callback: the
// clock restarts after each message, but only when another one follows.
func (s *stream) chunk(n int, fn func(*Message) error) error {
	now := time.Now()
	since := now.Sub(s.start)
	s.res.Chunks++
	s.res.Bytes += int64(n)
	var parse time.Duration
	lines := 0
	t0 := now
	for !s.done || !s.api.OpenAI() {
		msg, line, ok := s.fr.next(&s.rd)
		if !ok {
			break
		}
		if lines > 0 {
			t0 = time.Now()
		}
		lines++
		p, err := s.message(msg, line, since, t0, fn)
		parse += p
		if err != nil {
			s.emit(now, n, since, parse, lines)
			return err
		}
	}
	if lines == 0 {
		parse = time.Since(t0)
	}
	s.emit(now, n, since, parse, lines)
	s.prevChunk = since
	return nil
}

// message decodes and meters one message and hands it to fn.
func (s *stream) message(b []byte, line int, arrival time.Duration, t0 time.Time, fn func(*Message) error) (time.Duration, error) {
	if s.api.OpenAI() {
		s.oa.errName = s.events.eventName
	}
	f, skip, err := s.dec.decode(b)
	if err != nil {
		return 0, &StreamError{Agent: s.req.Agent, URL: s.endpoint, Line: line, Err: err}
	}
	if skip {
		return time.Since(t0), nil
	}
	msg := s.m.observe(f, line, arrival)
	if f.done {
		s.done = true
		s.res.Final = s.dec.final()
		msg.Final = s.res.Final
	}
	parse := time.Since(t0)
	if err := fn(msg); err != nil {
		return parse, err
	}
	if s.done {
		s.res.Total = time.Since(s.start)
	}
	return parse, nil
}

// eof ends the stream at the body's end or a read error.
func (s *stream) eof(rerr error, fn func(*Message) error) (*Result, error) {
	if rerr == io.EOF && !s.done {
		if msg, line, ok := s.fr.atEOF(&s.rd); ok {
			now := time.Now()
			if _, err := s.message(msg, line, now.Sub(s.start), now, fn); err != nil {
				return s.end(err)
			}
		}
	}
	s.m.finish()
	switch {
	case s.done:
		// The final message arrived; a failure reading what follows it
		// does not change the result.
		return s.res, nil
	case rerr == io.EOF:
		s.res.Total = time.Since(s.start)
		return s.fail(s.fr.seen(), s.dec.cut())
	}
	what := "the final message"
	if s.api.OpenAI() {
		what = "[DONE]"
	}
	return s.failure(s.fr.seen(), fmt.Errorf("connection lost before %s (did the server crash or run out of memory?): %w", what, rerr))
}

func (s *stream) fail(line int, err error) (*Result, error) {
	return s.res, &StreamError{Agent: s.req.Agent, URL: s.endpoint, Line: line, Err: err}
}

// failure maps an error seen while the request was live to what Stream
// returns: the caller's context's error or cause, the idle watchdog's
// cause, or the error.
func (s *stream) failure(line int, err error) (*Result, error) {
	s.res.Total = time.Since(s.start)
	if s.ctx.Err() != nil {
		return s.ctxErr()
	}
	if cause := context.Cause(s.rctx); cause != nil && s.rctx.Err() != nil {
		err = cause
	}
	return s.fail(line, err)
}

// ctxErr is the caller's context's error as is, or its own cause (a
// request timeout) as a StreamError.
func (s *stream) ctxErr() (*Result, error) {
	err, cause := s.ctx.Err(), context.Cause(s.ctx)
	if cause == nil || errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		return s.res, err
	}
	return s.fail(0, cause)
}

// end returns a stream that a message's handling ended: a callback error
// (as is), a message error, or the request's cancellation.
func (s *stream) end(err error) (*Result, error) {
	s.m.finish()
	if s.res.Total == 0 {
		s.res.Total = time.Since(s.start)
	}
	if s.ctx.Err() != nil && errors.Is(err, s.ctx.Err()) {
		return s.ctxErr()
	}
	if s.rctx.Err() != nil && errors.Is(err, s.rctx.Err()) {
		// A callback that waited on Message.Context ran into the idle
		// watchdog: report that, not a bare "context canceled".
		if cause := context.Cause(s.rctx); cause != nil {
			return s.fail(0, cause)
		}
	}
	return s.res, err
}

// emit sends a chunk record to the hooks' sink. A sink error must not end
// the measurement; sinks report their own errors on Flush/Close.
func (s *stream) emit(now time.Time, n int, since, parse time.Duration, lines int) {
	h := s.hooks
	if h == nil || h.Chunks == nil {
		return
	}
	idx := s.res.Chunks - 1
	gap := since - s.prevChunk
	if idx == 0 {
		gap = 0 // no previous chunk
	}
	_ = h.Chunks.Write(Chunk{Time: now, Agent: s.req.Agent, Index: idx, Bytes: n, Gap: gap, Parse: parse, Run: h.Run, Lines: lines, Since: since})
}
