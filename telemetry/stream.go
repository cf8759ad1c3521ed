package telemetry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"tr117/profiler"
	"tr117/sink"
)

// Attribute keys of the GenAI conventions, and tr117's agent label.
const (
	keyOperation     = attribute.Key("gen_ai.operation.name")
	keyProvider      = attribute.Key("gen_ai.provider.name")
	keyRequestModel  = attribute.Key("gen_ai.request.model")
	keyServerAddress = attribute.Key("server.address")
	keyServerPort    = attribute.Key("server.port")
	keyTokenType     = attribute.Key("gen_ai.token.type")
	keyErrorType     = attribute.Key("error.type")
	keyInputTokens   = attribute.Key("gen_ai.usage.input_tokens")
	keyOutputTokens  = attribute.Key("gen_ai.usage.output_tokens")
	keyFinishReasons = attribute.Key("gen_ai.response.finish_reasons")
	keyTTFC          = attribute.Key("gen_ai.response.time_to_first_chunk")
	keyAgent         = attribute.Key("tr117.agent")
)

// requestOptions maps Ollama's options to the conventions' request
// attributes, set on spans.
var requestOptions = []struct {
	option string
	key    attribute.Key
	isInt  bool
}{
	{"num_predict", "gen_ai.request.max_tokens", true},
	{"temperature", "gen_ai.request.temperature", false},
	{"top_p", "gen_ai.request.top_p", false},
	{"top_k", "gen_ai.request.top_k", false},
	{"seed", "gen_ai.request.seed", true},
	{"repeat_penalty", "tr117.request.repeat_penalty", false},
}

// optionAttrs returns the request attributes of the options that are set
// to numbers.
func optionAttrs(opts map[string]any) []attribute.KeyValue {
	var kv []attribute.KeyValue
	for _, o := range requestOptions {
		var f float64
		switch v := opts[o.option].(type) {
		case int:
			f = float64(v)
		case int64:
			f = float64(v)
		case float64:
			f = v
		default:
			continue
		}
		if o.isInt {
			kv = append(kv, o.key.Int64(int64(f)))
		} else {
			kv = append(kv, o.key.Float64(f))
		}
	}
	return kv
}

// Span event names: the first message carrying a token (content or
// thinking text), and the first carrying content (TTFT).
const (
	EventFirstToken        = "tr117.first_token"
	EventFirstContentToken = "tr117.first_content_token"
)

// OperationName is gen_ai.operation.name for an Ollama endpoint: "chat"
// for /api/chat, "text_completion" for /api/generate.
func OperationName(api profiler.API) string {
	if api == profiler.APIChat {
		return "chat"
	}
	return "text_completion"
}

// attrs are one agent's pre-built attribute sets, so that recording does
// not build them again.
type attrs struct {
	api                 profiler.API
	model, url, agent   string
	base, input, output []metric.RecordOption
	kv                  []attribute.KeyValue // the base set's attributes, for spans
	spanName            string
	chunks              *chunkSeries // nil without a Producer
}

func (r *Recorder) newAttrs(req *profiler.Request, api profiler.API) *attrs {
	a := &attrs{api: api, model: req.Model, url: req.URL, agent: req.Agent}
	op := OperationName(api)
	kv := []attribute.KeyValue{keyOperation.String(op), keyProvider.String(r.providerName), keyRequestModel.String(req.Model)}
	if host, port, ok := hostPort(req.URL); ok {
		kv = append(kv, keyServerAddress.String(host), keyServerPort.Int(port))
	}
	if req.Agent != "" {
		kv = append(kv, keyAgent.String(req.Agent))
	}
	a.kv = kv
	set := func(extra ...attribute.KeyValue) []metric.RecordOption {
		all := append(append([]attribute.KeyValue(nil), kv...), extra...)
		return []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(all...))}
	}
	a.base = set()
	if r.prod != nil {
		a.chunks = r.prod.seriesFor(attribute.NewSet(kv...))
	}
	a.input = set(keyTokenType.String("input"))
	a.output = set(keyTokenType.String("output"))
	a.spanName = op + " " + req.Model
	return a
}

// errorSet returns the attribute set with error.type t. It is built on
// the failure path only.
func (a *attrs) errorSet(t string) []metric.RecordOption {
	all := append(append([]attribute.KeyValue(nil), a.kv...), keyErrorType.String(t))
	return []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(all...))}
}

// hostPort splits a base URL into server.address and server.port, with
// the scheme's default port.
func hostPort(raw string) (string, int, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", 0, false
	}
	host, portStr := u.Hostname(), u.Port()
	if portStr == "" {
		portStr = "80"
		if u.Scheme == "https" {
			portStr = "443"
		}
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || host == "" {
		return "", 0, false
	}
	return host, port, true
}

// Wrap returns s with each request traced and recorded. It has the
// signature of profiler.Config.Wrap; compose it outermost, so that the span
// covers what other wrappers add.
func (r *Recorder) Wrap(_ profiler.Agent, s profiler.Streamer) profiler.Streamer {
	return &streamer{r: r, next: s}
}

// streamer is one agent's traced Streamer. Its attribute sets are rebuilt
// only when a request's endpoint, model or agent differs from the last.
type streamer struct {
	r    *Recorder
	next profiler.Streamer
	cur  atomic.Pointer[attrs]
}

func (s *streamer) attrsFor(req *profiler.Request) *attrs {
	api := req.API
	if api == "" {
		api = profiler.APIGenerate
	}
	if a := s.cur.Load(); a != nil && a.api == api && a.model == req.Model && a.url == req.URL && a.agent == req.Agent {
		return a
	}
	a := s.r.newAttrs(req, api)
	s.cur.Store(a)
	return a
}

// firsts notes when the first message, the first token (content or
// thinking text) and the first content arrived.
type firsts struct {
	msg, token, content          time.Duration
	hasMsg, hasToken, hasContent bool
}

func (f *firsts) note(m *profiler.Message) {
	if !f.hasMsg {
		f.msg, f.hasMsg = m.Arrival, true
	}
	if !f.hasToken && m.Tokens > 0 {
		f.token, f.hasToken = m.Arrival, true
	}
	if !f.hasContent && len(m.Content) > 0 {
		f.content, f.hasContent = m.Arrival, true
	}
}

// Stream traces one request: a client span around the inner Stream, the
// traceparent in the request's headers, and the Result recorded at the end.
func (s *streamer) Stream(ctx context.Context, req *profiler.Request, fn func(*profiler.Message) error) (*profiler.Result, error) {
	a := s.attrsFor(req)
	r := s.r
	ctx, span := r.tracer.Start(ctx, a.spanName, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(a.kv...))
	if span.IsRecording() && len(req.Options) > 0 {
		span.SetAttributes(optionAttrs(req.Options)...)
	}
	sent := *req
	if r.tracing {
		h := make(http.Header, len(req.Header)+1)
		for k, v := range req.Header {
			h[k] = v
		}
		propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(h))
		sent.Header = h
	}
	var hooks profiler.Hooks
	if h := profiler.ContextHooks(ctx); h != nil {
		hooks = *h
	}
	tap := &chunkTap{gap: r.chunkGap, opts: a.base, next: hooks.Chunks}
	if a.chunks != nil {
		tap.local = &localHist{h: &a.chunks.chunkGap}
	}
	hooks.Chunks = tap
	ctx = profiler.WithHooks(ctx, &hooks)
	var f firsts
	res, err := s.next.Stream(ctx, &sent, func(m *profiler.Message) error {
		f.note(m)
		return fn(m)
	})
	if tap.local != nil {
		tap.local.merge()
	}
	if res == nil { // a Streamer that broke its contract
		span.End()
		return res, err
	}
	if sc := span.SpanContext(); sc.HasTraceID() {
		res.TraceID = sc.TraceID().String()
	}
	r.record(ctx, a, res, err, f)
	r.endSpan(span, res, err, f)
	return res, err
}

// chunkTap records each chunk's gap, into a local histogram merged into
// the Producer's series at the end when there is a Producer, and passes the
// chunk on.
type chunkTap struct {
	gap   metric.Float64Histogram
	opts  []metric.RecordOption
	local *localHist
	next  sink.Sink[profiler.Chunk]
}

func (t *chunkTap) Write(c profiler.Chunk) error {
	switch {
	case !c.HasGap():
	case t.local != nil:
		t.local.record(c.Gap)
	default:
		t.gap.Record(context.Background(), c.Gap.Seconds(), t.opts...)
	}
	if t.next == nil {
		return nil
	}
	return t.next.Write(c)
}

// record records a finished request's Result into the metrics.
func (r *Recorder) record(ctx context.Context, a *attrs, res *profiler.Result, err error, f firsts) {
	opts := a.base
	if err != nil {
		opts = a.errorSet(ErrorType(err))
	}
	r.duration.Record(ctx, res.Total.Seconds(), opts...)
	if fin := res.Final; fin != nil {
		r.tokens.Record(ctx, int64(fin.PromptEvalCount), a.input...)
		r.tokens.Record(ctx, int64(fin.EvalCount), a.output...)
	}
	if err != nil {
		return
	}
	bg := context.Background()
	if f.hasMsg {
		r.ttfc.Record(bg, f.msg.Seconds(), a.base...)
	}
	if a.chunks != nil {
		l := localHist{h: &a.chunks.tpoc}
		for _, d := range res.ITL {
			l.record(d)
		}
		l.merge()
	} else {
		for _, d := range res.ITL {
			r.tpoc.Record(bg, d.Seconds(), a.base...)
		}
	}
	if d, ok := res.ClientOverhead(); ok && d >= 0 {
		r.overhead.Record(bg, d.Seconds(), a.base...)
	}
}

// endSpan sets the span's result attributes and events and ends it when
// the request ended.
func (r *Recorder) endSpan(span trace.Span, res *profiler.Result, err error, f firsts) {
	if !span.IsRecording() {
		span.End()
		return
	}
	start := res.Start
	if start.IsZero() {
		start = time.Now().Add(-res.Total)
	}
	if f.hasMsg {
		span.SetAttributes(keyTTFC.Float64(f.msg.Seconds()))
	}
	if f.hasToken {
		span.AddEvent(EventFirstToken, trace.WithTimestamp(start.Add(f.token)))
	}
	if f.hasContent {
		span.AddEvent(EventFirstContentToken, trace.WithTimestamp(start.Add(f.content)))
	}
	if fin := res.Final; fin != nil {
		span.SetAttributes(keyInputTokens.Int(fin.PromptEvalCount), keyOutputTokens.Int(fin.EvalCount))
		if fin.DoneReason != "" {
			span.SetAttributes(keyFinishReasons.StringSlice([]string{fin.DoneReason}))
		}
	}
	if err != nil {
		span.SetAttributes(keyErrorType.String(ErrorType(err)))
		span.SetStatus(codes.Error, err.Error())
	}
	span.End(trace.WithTimestamp(start.Add(res.Total)))
}

// ErrorType is the error.type attribute for a failed request: the HTTP
// status code for an *HTTPError, else a short name of the failure
// ("timeout", "idle_timeout", "truncated", "server_error", "canceled",
// "malformed"), or "_OTHER".
func ErrorType(err error) string {
	var he *profiler.HTTPError
	var se *profiler.ServerError
	switch {
	case errors.As(err, &he):
		return strconv.Itoa(he.StatusCode)
	case errors.As(err, &se):
		return "server_error"
	case errors.Is(err, profiler.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, profiler.ErrIdleTimeout):
		return "idle_timeout"
	case errors.Is(err, profiler.ErrTruncated):
		return "truncated"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return "connection"
	}
	return "_OTHER"
}
