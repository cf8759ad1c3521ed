package profiler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	// DefaultTimeout bounds a whole request.
	DefaultTimeout = 120 * time.Second
	// DefaultReadSize is the size of each body read when ReadBufferSize is
	// zero (io.Copy's buffer size).
	DefaultReadSize = 32 << 10
	// MaxReadBufferSize is the largest ReadBufferSize: a client holds two
	// read buffers per stream, and a transport buffer per connection.
	MaxReadBufferSize = 16 << 20
)

// ClientConfig configures a [Client]. The zero value is usable: Go's
// transport defaults, a 120 s request timeout and no idle timeout.
//
// It is plain data: safe to read from several goroutines, not to modify while
// others read it.
type ClientConfig struct {
	// ReadBufferSize, when positive, bounds every transport read: it is the
	// transport's ReadBufferSize and the size of each read of the body, so
	// no chunk is larger. Zero means Go's defaults (a 4 KiB transport
	// buffer; body reads of up to DefaultReadSize bytes). The seed's A/B
	// compared the default with 65536 and 8192. Values above
	// MaxReadBufferSize are lowered to it.
	ReadBufferSize int `json:"read_buffer_size,omitempty"`
	// Timeout bounds each request from start to the final message.
	// Default DefaultTimeout; negative means none.
	Timeout time.Duration `json:"timeout_ns,omitempty"`
	// IdleTimeout, when positive, abandons a stream when no bytes arrive
	// for that long (a stalled server). Default 0: no idle timeout.
	IdleTimeout time.Duration `json:"idle_timeout_ns,omitempty"`
	// HTTPClient, when set, is used instead of the client's own, which is
	// built for ReadBufferSize. Trace milestones and read sizes then depend
	// on its transport.
	HTTPClient *http.Client `json:"-"`
}

// Client is the Ollama [Streamer]: it posts ollama/api's GenerateRequest
// or ChatRequest and reads the NDJSON response itself, one bounded read at
// a time, timing every read and every message. Non-final messages are
// decoded by a small scanner that does not allocate; the final message and
// anything unusual go through encoding/json.
//
// A Client keeps its own transport (and so its own kept-alive connections)
// unless ClientConfig.HTTPClient is set. It is safe for concurrent use.
type Client struct {
	cfg  ClientConfig
	http *http.Client
	own  *http.Transport
	bufs sync.Pool // *streamBuf
}

// NewClient returns a Client for cfg.
func NewClient(cfg ClientConfig) *Client {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	cfg.ReadBufferSize = min(cfg.ReadBufferSize, MaxReadBufferSize)
	c := &Client{cfg: cfg}
	if cfg.HTTPClient != nil {
		c.http = cfg.HTTPClient
	} else {
		c.own = &http.Transport{
			DialContext: (&net.Dialer{
				Timeout:   30 * time.Second,
				KeepAlive: 30 * time.Second,
			}).DialContext,
			MaxIdleConnsPerHost: 8,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ReadBufferSize:      cfg.ReadBufferSize,
		}
		c.http = &http.Client{Transport: c.own}
	}
	return c
}

// Config returns the client's configuration with defaults applied.
func (c *Client) Config() ClientConfig { return c.cfg }

// CloseIdleConnections closes the client's kept-alive connections.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// maxPooledBuf is the largest buffer kept for reuse between streams.
const maxPooledBuf = 1 << 20

// streamBuf is the per-stream state reused between streams.
type streamBuf struct {
	buf  []byte
	sc   lineScanner
	resp []byte
	msg  Message
	last []byte // the previous message's content, spaces trimmed
}

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

func (c *Client) readSize() int {
	if c.cfg.ReadBufferSize > 0 {
		return c.cfg.ReadBufferSize
	}
	return DefaultReadSize
}

// requestBody marshals req as ollama/api's request type.
func requestBody(req *Request) ([]byte, error) {
	stream := true
	if req.API == APIChat {
		var msgs []api.Message
		if req.System != "" {
			msgs = append(msgs, api.Message{Role: "system", Content: req.System})
		}
		msgs = append(msgs, api.Message{Role: "user", Content: req.Prompt})
		return json.Marshal(&api.ChatRequest{Model: req.Model, Messages: msgs, Stream: &stream, Options: req.Options})
	}
	return json.Marshal(&api.GenerateRequest{Model: req.Model, Prompt: req.Prompt, System: req.System, Stream: &stream, Options: req.Options})
}

// Stream posts req and streams the response, calling fn for each message.
// See [Streamer] for the contract.
func (c *Client) Stream(ctx context.Context, req *Request, fn func(*Message) error) (*Result, error) {
	which := req.API
	if which == "" {
		which = APIGenerate
	}
	endpoint := strings.TrimRight(req.URL, "/") + which.Path()
	res := &Result{Agent: req.Agent, URL: req.URL, API: which, Model: req.Model}
	fail := func(line int, err error) (*Result, error) {
		return res, &StreamError{Agent: req.Agent, URL: endpoint, Line: line, Err: err}
	}
	body, err := requestBody(req)
	if err != nil {
		return fail(0, err)
	}

	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if c.cfg.Timeout > 0 {
		var stop context.CancelFunc
		rctx, stop = context.WithTimeoutCause(rctx, c.cfg.Timeout, ErrTimeout)
		defer stop()
	}
	start := time.Now()
	res.Start = start
	// The trace callbacks may run on transport goroutines; the result's
	// Trace is filled from these atomics when the response arrives.
	var connect, gotConn, wrote, first atomic.Int64
	var reused atomic.Bool
	trace := &httptrace.ClientTrace{
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				connect.Store(int64(time.Since(start)))
			}
		},
		GotConn: func(info httptrace.GotConnInfo) {
			gotConn.Store(int64(time.Since(start)))
			reused.Store(info.Reused)
		},
		WroteRequest:         func(httptrace.WroteRequestInfo) { wrote.Store(int64(time.Since(start))) },
		GotFirstResponseByte: func() { first.Store(int64(time.Since(start))) },
	}
	hreq, err := http.NewRequestWithContext(httptrace.WithClientTrace(rctx, trace), http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fail(0, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/x-ndjson")
	for k, v := range req.Header {
		hreq.Header[k] = v
	}

	// The idle watchdog is armed before the request is sent, so a server
	// that never answers is caught too.
	var lastRead atomic.Int64 // since start
	if idle := c.cfg.IdleTimeout; idle > 0 {
		w := newWatchdog(idle, start, &lastRead, cancel)
		defer w.stop()
	}
	// failure maps an error seen while the request was live to what Stream
	// returns: ctx.Err() as is, the idle/timeout cause, or the error.
	failure := func(line int, err error) (*Result, error) {
		res.Total = time.Since(start)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if cause := context.Cause(rctx); cause != nil && rctx.Err() != nil {
			err = cause
		}
		return fail(line, err)
	}

	resp, err := c.http.Do(hreq)
	res.Trace = Trace{
		ConnReused:   reused.Load(),
		Connect:      time.Duration(connect.Load()),
		GotConn:      time.Duration(gotConn.Load()),
		WroteRequest: time.Duration(wrote.Load()),
		FirstByte:    time.Duration(first.Load()),
	}
	if err != nil {
		// The StreamError names the endpoint already; *url.Error would
		// repeat it ("Post \"http://…\": dial tcp …").
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			err = fmt.Errorf("%w (is Ollama running there?)", err)
		}
		return failure(0, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= http.StatusBadRequest {
		return failure(0, readHTTPError(resp))
	}

	sb, _ := c.bufs.Get().(*streamBuf)
	if sb == nil {
		sb = &streamBuf{}
	}
	defer func() {
		// A multi-megabyte final line must not stay pinned in the pool.
		if cap(sb.buf) > maxPooledBuf {
			sb.buf = nil
		}
		if cap(sb.resp) > maxPooledBuf {
			sb.resp = nil
		}
		if cap(sb.last) > maxPooledBuf {
			sb.last = nil
		}
		sb.msg = Message{}
		c.bufs.Put(sb)
	}()
	sb.sc.chat = which == APIChat
	sb.resp = sb.resp[:0]
	sb.last = sb.last[:0]
	repeats := 0
	readSize := c.readSize()
	if cap(sb.buf) < 2*readSize {
		sb.buf = make([]byte, 2*readSize)
	}
	buf := sb.buf[:cap(sb.buf)]
	msg := &sb.msg
	var (
		lo, hi    int // buf[lo:hi] holds bytes not yet split into lines
		scanned   int // buf[lo:scanned] is known to hold no newline
		line      int // lines seen so far
		prevChunk time.Duration
		prevToken time.Duration
		done      bool
	)
	// handle processes one complete line (without its newline). It
	// returns the error that ends the stream, if any.
	handle := func(b []byte, arrival time.Duration, parseStart time.Time) (time.Duration, error) {
		line++
		if len(bytes.TrimSpace(b)) == 0 {
			return time.Since(parseStart), nil
		}
		if done {
			// Ollama writes nothing after the final message; ignore it.
			return time.Since(parseStart), nil
		}
		sc := &sb.sc
		if !sc.scan(b) {
			if err := decodeLine(b, sc.chat, &sc.f); err != nil {
				return 0, &StreamError{Agent: req.Agent, URL: endpoint, Line: line, Err: fmt.Errorf("malformed message: %w", err)}
			}
		}
		f := &sc.f
		if len(f.errMsg) > 0 {
			return 0, &StreamError{Agent: req.Agent, URL: endpoint, Line: line, Err: &ServerError{Message: string(f.errMsg)}}
		}
		*msg = Message{Index: res.Messages, Line: line, Arrival: arrival, Content: f.content, Thinking: f.thinking, Done: f.done, ctx: rctx}
		if !f.done {
			if t := bytes.TrimSpace(f.content); bytes.Equal(t, sb.last) {
				repeats++
			} else {
				sb.last, repeats = append(sb.last[:0], t...), 0
			}
		}
		res.Messages++
		if len(f.content) > 0 || len(f.thinking) > 0 {
			msg.Tokens = 1
			res.Tokens++
			if res.Tokens > 1 {
				res.ITL = append(res.ITL, arrival-prevToken)
			}
			prevToken = arrival
		}
		if len(f.content) > 0 {
			if !res.HasTTFT {
				res.HasTTFT, res.TTFT = true, arrival
			}
			sb.resp = append(sb.resp, f.content...)
		}
		if f.done {
			var fl finalLine
			if err := json.Unmarshal(b, &fl); err != nil {
				return 0, &StreamError{Agent: req.Agent, URL: endpoint, Line: line, Err: fmt.Errorf("malformed final message: %w", err)}
			}
			res.Final = &Final{DoneReason: fl.DoneReason, Metrics: fl.Metrics}
			msg.Final = res.Final
			done = true
		}
		parse := time.Since(parseStart)
		if err := fn(msg); err != nil {
			return parse, err
		}
		if done {
			res.Total = time.Since(start)
		}
		return parse, nil
	}
	for {
		if len(buf)-hi < readSize {
			// Make room: move the partial line to the front, or grow.
			if lo > 0 {
				n := copy(buf, buf[lo:hi])
				scanned -= lo
				lo, hi = 0, n
			}
			if len(buf)-hi < readSize {
				nb := make([]byte, 2*len(buf)+readSize)
				copy(nb, buf[:hi])
				buf = nb
				sb.buf = nb
			}
		}
		n, rerr := resp.Body.Read(buf[hi : hi+readSize])
		if n > 0 {
			now := time.Now()
			since := now.Sub(start)
			lastRead.Store(int64(since))
			hi += n
			res.Chunks++
			res.Bytes += int64(n)
			var parse time.Duration
			lines := 0
			// Parse time excludes the callback: the clock restarts after
			// each line, but only when another line follows.
			t0 := now
			for {
				i := bytes.IndexByte(buf[scanned:hi], '\n')
				if i < 0 {
					scanned = hi
					break
				}
				if lines > 0 {
					t0 = time.Now()
				}
				end := scanned + i
				lines++
				p, err := handle(buf[lo:end], since, t0)
				parse += p
				lo, scanned = end+1, end+1
				if err != nil {
					emitChunk(req, res.Chunks-1, now, n, since-prevChunk, parse, lines, since)
					return c.endStream(ctx, rctx, res, sb, start, err, fail)
				}
			}
			if lines == 0 {
				parse = time.Since(t0)
			}
			emitChunk(req, res.Chunks-1, now, n, since-prevChunk, parse, lines, since)
			prevChunk = since
		}
		if rerr == nil {
			continue
		}
		if rerr == io.EOF {
			if lo < hi && len(bytes.TrimSpace(buf[lo:hi])) > 0 && !done {
				// A last line without its newline.
				now := time.Now()
				if _, err := handle(buf[lo:hi], now.Sub(start), now); err != nil {
					return c.endStream(ctx, rctx, res, sb, start, err, fail)
				}
			}
			if !done {
				res.Total = time.Since(start)
				c.finish(res, sb)
				return fail(line, truncated(repeats, sb.last))
			}
			c.finish(res, sb)
			return res, nil
		}
		c.finish(res, sb)
		if done {
			// The final message arrived; a failure reading what follows
			// it does not change the result.
			return res, nil
		}
		return failure(line, fmt.Errorf("connection lost before the final message (did the server crash or run out of memory?): %w", rerr))
	}
}

// endStream returns a stream that a line's handling ended: a callback
// error (as is), a line error, or the request's cancellation.
func (c *Client) endStream(ctx, rctx context.Context, res *Result, sb *streamBuf, start time.Time, err error, fail func(int, error) (*Result, error)) (*Result, error) {
	c.finish(res, sb)
	if res.Total == 0 {
		res.Total = time.Since(start)
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return res, ctx.Err()
	}
	if rctx.Err() != nil && errors.Is(err, rctx.Err()) {
		// A callback that waited on Message.Context ran into the request's
		// own deadline or idle watchdog: report that, not a bare
		// "context deadline exceeded".
		if cause := context.Cause(rctx); cause != nil {
			return fail(0, cause)
		}
	}
	return res, err
}

func (c *Client) finish(res *Result, sb *streamBuf) {
	res.Response = string(sb.resp)
}

func emitChunk(req *Request, idx int, now time.Time, n int, gap, parse time.Duration, lines int, since time.Duration) {
	if req.Chunks == nil {
		return
	}
	// A sink error must not end the measurement; sinks report their own
	// errors on Flush/Close.
	if idx == 0 {
		gap = 0 // no previous chunk
	}
	_ = req.Chunks.Write(Chunk{Time: now, Agent: req.Agent, Index: idx, Bytes: n, Gap: gap, Parse: parse, Run: req.Run, Lines: lines, Since: since})
}

// readHTTPError reads an error response: Ollama's {"error": "..."} text, or
// the start of the body when it is not that.
func readHTTPError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status}
	var se api.StatusError
	if json.Unmarshal(b, &se) == nil && se.ErrorMessage != "" {
		e.Message = se.ErrorMessage
	} else {
		e.Message = strings.TrimSpace(string(b))
	}
	return e
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
