package profiler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ollama/ollama/api"
)

// Defaults of a [ClientConfig].
const (
	// DefaultTimeout is the request timeout a [Runner] applies (through
	// the request's context) unless configured otherwise.
	DefaultTimeout = 120 * time.Second
	// DefaultNumPredict is the commands' and the suite's default cap on a
	// response (Ollama's num_predict option; see [CapTokens]): a model
	// that never emits its end-of-sequence token, such as a random-weight
	// test model, would otherwise stream until the request timeout.
	DefaultNumPredict = 256
	// DefaultReadSize is the size of each body read when ReadBufferSize is
	// zero (io.Copy's buffer size).
	DefaultReadSize = 32 << 10
	// MaxReadBufferSize is the largest ReadBufferSize: a client holds two
	// read buffers per stream, and a transport buffer per connection.
	MaxReadBufferSize = 16 << 20
)

// ClientConfig configures a [Client]. The zero value is usable: Go's
// transport defaults, bounded reads and no idle timeout. The request
// timeout is the caller's: a deadline on the context passed to Stream.
type ClientConfig struct {
	// ReadBufferSize, when positive, bounds every transport read: it is the
	// transport's ReadBufferSize and the size of each read of the body, so
	// no chunk is larger. Zero means Go's defaults (a 4 KiB transport
	// buffer; body reads of up to DefaultReadSize bytes). Values above
	// MaxReadBufferSize are lowered to it.
	ReadBufferSize int `json:"read_buffer_size,omitempty"`
	// ReadMode says how the body is cut into chunks. Default ReadBound.
	ReadMode ReadMode `json:"read_mode,omitempty"`
	// IdleTimeout, when positive, abandons a stream when no bytes arrive
	// for that long (a stalled server). Default 0: no idle timeout.
	IdleTimeout time.Duration `json:"idle_timeout_ns,omitempty"`
	// APIKey, when set, is sent as a bearer token (the OpenAI APIs'
	// Authorization header). It is never written out: not to JSON, not
	// into errors.
	APIKey string `json:"-"`
	// HTTPClient, when set, is used instead of the client's own, which is
	// built for ReadBufferSize. Trace milestones and read sizes then depend
	// on its transport.
	HTTPClient *http.Client `json:"-"`
}

// Client is the [Streamer] for Ollama's native APIs (NDJSON) and the
// OpenAI-compatible ones (server-sent events). It reads the response body
// itself, one chunk at a time (see ReadMode), timing every chunk and every
// message, through four parts: a reader that cuts the body into chunks, a
// framer (NDJSON lines or SSE events), a per-protocol decoder, and one
// meter that turns messages into a [Result]. The decoders' hot paths are
// small scanners that do not allocate; final messages and anything unusual
// go through encoding/json.
//
// A Client keeps its own transport (and so its own kept-alive connections)
// unless ClientConfig.HTTPClient is set.
type Client struct {
	cfg     ClientConfig
	http    *http.Client
	streams sync.Pool // *stream
}

// NewClient returns a Client for cfg.
func NewClient(cfg ClientConfig) *Client {
	cfg.ReadBufferSize = min(cfg.ReadBufferSize, MaxReadBufferSize)
	if cfg.ReadMode == "" {
		cfg.ReadMode = ReadBound
	}
	c := &Client{cfg: cfg, http: cfg.HTTPClient}
	if c.http == nil {
		c.http = &http.Client{Transport: &http.Transport{
			DialContext: (&net.Dialer{
				Timeout:   30 * time.Second,
				KeepAlive: 30 * time.Second,
			}).DialContext,
			MaxIdleConnsPerHost: 8,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ReadBufferSize:      cfg.ReadBufferSize,
		}}
	}
	return c
}

// Config returns the client's configuration with defaults applied.
func (c *Client) Config() ClientConfig { return c.cfg }

// CloseIdleConnections closes the client's kept-alive connections.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

func (c *Client) readSize() int {
	if c.cfg.ReadBufferSize > 0 {
		return c.cfg.ReadBufferSize
	}
	return DefaultReadSize
}

// Stream posts req and streams the response, calling fn for each message.
// See [Streamer] for the contract. The request ends with ctx: give ctx a
// deadline for a request timeout. When ctx ends with a cause of its own
// (context.WithTimeoutCause(ctx, d, ErrTimeout)), the error is a
// *StreamError wrapping that cause; otherwise ctx.Err() as is. Chunk
// records go to the [Hooks] that ctx carries.
func (c *Client) Stream(ctx context.Context, req *Request, fn func(*Message) error) (*Result, error) {
	s, _ := c.streams.Get().(*stream)
	if s == nil {
		s = &stream{}
	}
	defer c.release(s)
	s.reset(c, ctx, req)
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.rctx = rctx
	s.m.reset(s.res, rctx, s.m.resp)
	// The idle watchdog is armed before the request is sent, so a server
	// that never answers is caught too.
	if idle := c.cfg.IdleTimeout; idle > 0 {
		w := newWatchdog(idle, s.start, &s.lastRead, cancel)
		defer w.stop()
		s.rd.last = &s.lastRead
	}
	resp, err := s.send()
	if err != nil {
		return s.failure(0, err)
	}
	defer resp.Body.Close()
	return s.read(resp.Body, fn)
}

// maxPooledBuf is the largest buffer kept for reuse between streams.
const maxPooledBuf = 1 << 20

// release returns s to the pool; a multi-megabyte final line must not stay
// pinned there.
func (c *Client) release(s *stream) {
	if cap(s.rd.buf) > maxPooledBuf {
		s.rd.buf = nil
	}
	if cap(s.m.resp) > maxPooledBuf {
		s.m.resp = nil
	}
	if cap(s.od.last) > maxPooledBuf {
		s.od.last = nil
	}
	s.ctx, s.rctx, s.req, s.res, s.hooks = nil, nil, nil, nil, nil
	s.rd.body, s.rd.last = nil, nil
	s.m.reset(nil, nil, s.m.resp)
	c.streams.Put(s)
}

// readHTTPError reads an error response: the server's error text (Ollama's
// {"error": "..."} or OpenAI's {"error": {"message": "..."}}), or the start
// of the body when it is neither.
func readHTTPError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status}
	var se api.StatusError
	var oe struct {
		Error json.RawMessage `json:"error"`
	}
	switch {
	case json.Unmarshal(b, &se) == nil && se.ErrorMessage != "":
		e.Message = se.ErrorMessage
	case json.Unmarshal(b, &oe) == nil && len(errorText(oe.Error)) > 0:
		e.Message = string(errorText(oe.Error))
	default:
		e.Message = strings.TrimSpace(string(b))
	}
	return e
}

// transportError strips what a StreamError says already from a transport
// error: *url.Error repeats the endpoint ("Post \"http://…\": dial tcp …").
func transportError(err error, which API) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		server := "Ollama"
		if which.OpenAI() {
			server = "the server"
		}
		err = fmt.Errorf("%w (is %s running there?)", err, server)
	}
	return err
}

// notEventStream checks that an OpenAI response is an event stream.
func notEventStream(resp *http.Response) error {
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "text/event-stream" {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	return fmt.Errorf("response is not an event stream (Content-Type %q), it begins %q", ct, b)
}

// traceTimes records a request's connection milestones. The trace
// callbacks may run on transport goroutines.
type traceTimes struct {
	connect, gotConn, wrote, first atomic.Int64
	reused                         atomic.Bool
}

func (t *traceTimes) clientTrace(start time.Time) *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				t.connect.Store(int64(time.Since(start)))
			}
		},
		GotConn: func(info httptrace.GotConnInfo) {
			t.gotConn.Store(int64(time.Since(start)))
			t.reused.Store(info.Reused)
		},
		WroteRequest:         func(httptrace.WroteRequestInfo) { t.wrote.Store(int64(time.Since(start))) },
		GotFirstResponseByte: func() { t.first.Store(int64(time.Since(start))) },
	}
}

func (t *traceTimes) result() Trace {
	return Trace{
		ConnReused:   t.reused.Load(),
		Connect:      time.Duration(t.connect.Load()),
		GotConn:      time.Duration(t.gotConn.Load()),
		WroteRequest: time.Duration(t.wrote.Load()),
		FirstByte:    time.Duration(t.first.Load()),
	}
}

// watchdog cancels a request when no read has happened for idle. It checks
// the last read's time instead of being reset on every read, so the read
// loop pays one atomic store per read.
type watchdog struct {
	mu      sync.Mutex
	t       *time.Timer
	stopped bool
}

func newWatchdog(idle time.Duration, start time.Time, last *atomic.Int64, cancel context.CancelCauseFunc) *watchdog {
	w := &watchdog{}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t = time.AfterFunc(idle, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.stopped {
			return
		}
		silent := time.Since(start) - time.Duration(last.Load())
		if silent >= idle {
			cancel(ErrIdleTimeout)
			return
		}
		w.t.Reset(idle - silent)
	})
	return w
}

func (w *watchdog) stop() {
	w.mu.Lock()
	w.stopped = true
	w.t.Stop()
	w.mu.Unlock()
}

// requestBody marshals req as ollama/api's request type, or as an OpenAI
// request (with stream_options unless noUsage).
func requestBody(req *Request, noUsage bool) ([]byte, error) {
	stream := true
	switch req.API {
	case APIOpenAIChat, APIOpenAICompletions:
		return openaiBody(req, noUsage)
	case APIChat:
		var msgs []api.Message
		if req.System != "" {
			msgs = append(msgs, api.Message{Role: "system", Content: req.System})
		}
		msgs = append(msgs, api.Message{Role: "user", Content: req.Prompt})
		return json.Marshal(&api.ChatRequest{Model: req.Model, Messages: msgs, Stream: &stream, Options: req.Options})
	}
	return json.Marshal(&api.GenerateRequest{Model: req.Model, Prompt: req.Prompt, System: req.System, Stream: &stream, Options: req.Options})
}
