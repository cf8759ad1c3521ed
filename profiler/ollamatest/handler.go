package ollamatest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"tr117/internal/simmark"
)

// Handler is an http.Handler that speaks Ollama's API. Streams it is serving end when the client goes away or
// when [Handler.Close] is called.
type Handler struct {
	cfg    Config
	models map[string]*simModel // by canonical name
	seq    atomic.Int64
	active atomic.Int64 // streams generating

	mu sync.Mutex

	// base is cancelled by Close; every job's context follows it.
	base   context.Context
	cancel context.CancelFunc
}

type simModel struct {
	name    string // as configured, canonical
	details modelDetails
	size    int64
	digest  string
	slots   chan struct{} // nil: no limit
	rate    float64       // tokens per second

	// guarded by Handler.mu
	loaded    bool
	loading   chan struct{} // non-nil while a request is loading it
	refs      int           // requests using it; it does not expire while > 0
	keep      time.Duration // keep_alive of the latest request
	expiresAt time.Time     // set when the last request using it ends
}

// NewHandler returns a Handler serving cfg. Zero fields of cfg take their
// documented defaults.
func NewHandler(cfg Config) *Handler {
	cfg = cfg.withDefaults()
	h := &Handler{
		cfg:    cfg,
		models: make(map[string]*simModel, len(cfg.Models)),
	}
	h.base, h.cancel = context.WithCancel(context.Background())
	for _, name := range cfg.Models {
		c := canonical(name)
		m := newSimModel(c)
		m.rate = cfg.TokensPerSecond
		for name, r := range cfg.Rates {
			if canonical(name) == c && r > 0 {
				m.rate = r
			}
		}
		if cfg.Parallel > 0 {
			m.slots = make(chan struct{}, cfg.Parallel)
		}
		h.models[c] = m
	}
	return h
}

// Config returns the configuration in effect, defaults filled in.
func (h *Handler) Config() Config { return h.cfg }

// Close ends every stream in flight (they end as if cut, without a done
// message) and makes later streams end at once. It does not wait.
func (h *Handler) Close() { h.cancel() }

// canonical maps a model name to the form Ollama compares: lower case, with
// ":latest" added when there is no tag.
func canonical(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if i := strings.LastIndexByte(name, ':'); i < 0 || strings.Contains(name[i:], "/") {
		name += ":latest"
	}
	return name
}

var paramRE = regexp.MustCompile(`(\d+(?:\.\d+)?)b`)

func newSimModel(name string) *simModel {
	base, tag, _ := strings.Cut(name, ":")
	if i := strings.LastIndexByte(base, '/'); i >= 0 {
		base = base[i+1:]
	}
	family := strings.TrimRight(strings.SplitN(base, ".", 2)[0], "0123456789")
	switch {
	case strings.HasPrefix(base, "qwen2"):
		family = "qwen2"
	case strings.HasPrefix(base, "gemma3"):
		family = "gemma3"
	case family == "":
		family = "llama"
	}
	params := 4.0
	if m := paramRE.FindStringSubmatch(tag); m != nil {
		params, _ = strconv.ParseFloat(m[1], 64)
	}
	quant := "Q4_K_M"
	if strings.Contains(tag, "q4_0") {
		quant = "Q4_0"
	}
	if base == "tiny" {
		family, params, quant = "llama", 0.0005, "F32"
	}
	sum := sha256.Sum256([]byte(name))
	return &simModel{
		name: name,
		details: modelDetails{
			Format:            "gguf",
			Family:            family,
			Families:          []string{family},
			ParameterSize:     formatParams(params),
			QuantizationLevel: quant,
		},
		size:   int64(params * 0.6e9),
		digest: hex.EncodeToString(sum[:]),
	}
}

func formatParams(b float64) string {
	if b < 1 {
		return strconv.FormatFloat(b*1000, 'f', -1, 64) + "M"
	}
	return strconv.FormatFloat(b, 'f', -1, 64) + "B"
}

// modifiedAt is the fixed modification time the simulator reports for its
// models, so that /api/tags is repeatable.
var modifiedAt = time.Date(2025, 4, 1, 12, 0, 0, 0, time.UTC)

// ServeHTTP answers Ollama API requests.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Marks every answer as simulated: real Ollama never sends this header.
	w.Header().Set(simmark.Header, simmark.Name)
	switch {
	case r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Ollama is running")
	case r.URL.Path == "/api/version" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		writeJSON(w, http.StatusOK, versionResponse{Version: h.cfg.Version})
	case r.URL.Path == "/api/tags" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		h.tags(w)
	case r.URL.Path == "/api/ps" && r.Method == http.MethodGet:
		h.ps(w)
	case r.URL.Path == "/api/show" && r.Method == http.MethodPost:
		h.show(w, r)
	case r.URL.Path == "/api/generate" && r.Method == http.MethodPost:
		h.generate(w, r)
	case r.URL.Path == "/api/chat" && r.Method == http.MethodPost:
		h.chat(w, r)
	case r.URL.Path == "/v1/chat/completions" && r.Method == http.MethodPost:
		h.openai(w, r, true)
	case r.URL.Path == "/v1/completions" && r.Method == http.MethodPost:
		h.openai(w, r, false)
	default:
		// What gin answers for an unknown route or method.
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "404 page not found")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the simulator's own types are marshalled here.
		panic(fmt.Sprintf("ollamatest: marshal %T: %v", v, err))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorResponse{Error: msg})
}

// decode reads a JSON request body the way gin's ShouldBindJSON does for
// Ollama: an empty body is "missing request body".
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	err := json.NewDecoder(r.Body).Decode(v)
	switch {
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, "missing request body")
		return false
	case err != nil:
		writeError(w, http.StatusBadRequest, err.Error())
		return false
	}
	return true
}

func (h *Handler) lookup(name string) *simModel {
	return h.models[canonical(name)]
}

func (h *Handler) tags(w http.ResponseWriter) {
	resp := listResponse{Models: make([]listModel, 0, len(h.models))}
	for _, name := range h.cfg.Models {
		m := h.models[canonical(name)]
		resp.Models = append(resp.Models, listModel{
			Name: m.name, Model: m.name, ModifiedAt: modifiedAt,
			Size: m.size, Digest: m.digest, Details: m.details,
		})
	}
	writeJSON(w, http.StatusOK, resp)
}

func (h *Handler) ps(w http.ResponseWriter) {
	now := h.cfg.Now()
	resp := processResponse{Models: []processModel{}}
	h.mu.Lock()
	for _, name := range h.cfg.Models {
		m := h.models[canonical(name)]
		if !m.live(now) {
			continue
		}
		exp := m.expiresAt
		if m.refs > 0 {
			exp = expiry(now, m.keep) // as Ollama shows a model in use
		}
		resp.Models = append(resp.Models, processModel{
			Name: m.name, Model: m.name, Size: m.size, Digest: m.digest,
			Details: m.details, ExpiresAt: exp, SizeVRAM: m.size,
		})
	}
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

func (h *Handler) show(w http.ResponseWriter, r *http.Request) {
	var req showRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Model == "" {
		req.Model = req.Name
	}
	if req.Model == "" {
		writeError(w, http.StatusBadRequest, "model is required")
		return
	}
	m := h.lookup(req.Model)
	if m == nil {
		writeError(w, http.StatusNotFound, notFoundText(req.Model))
		return
	}
	writeJSON(w, http.StatusOK, showResponse{
		Modelfile: "# Modelfile generated by \"ollama show\"\n# To build a new Modelfile based on this, replace FROM with:\n# FROM " + m.name +
			"\n\nFROM " + m.name + "\nTEMPLATE {{ .Prompt }}\nPARAMETER num_ctx 2048\n",
		Parameters: fmt.Sprintf("%-*s %#v", 30, "num_ctx", 2048),
		Template:   "{{ .Prompt }}",
		Details:    m.details,
		ModelInfo: map[string]any{
			"general.architecture":    m.details.Family,
			"general.parameter_count": m.size * 10 / 6,
		},
		Tensors:      []tensorInfo{{Name: "token_embd.weight", Type: m.details.QuantizationLevel, Shape: []uint64{4096, 32000}}},
		Capabilities: []string{"completion"},
		ModifiedAt:   modifiedAt,
	})
}

// keepAlive interprets Ollama's keep_alive: a number of seconds or a
// duration string; negative means forever. ok is false when absent.
func keepAlive(v any) (d time.Duration, ok bool) {
	switch t := v.(type) {
	case float64:
		return time.Duration(t * float64(time.Second)), true
	case string:
		if d, err := time.ParseDuration(t); err == nil {
			return d, true
		}
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			return time.Duration(f * float64(time.Second)), true
		}
	}
	return 0, false
}

// job is one generate or chat request being answered.
type job struct {
	h        *Handler
	model    *simModel
	chat     bool
	name     string // model name as sent
	prompt   string
	load     bool // a request without a prompt or messages: load the model only
	stream   bool
	keep     time.Duration
	nPredict int
	stops    []string // options.stop
	fault    Fault
	gen      *textGen
	nameJSON []byte // name, JSON-encoded
	ctxToks  []int  // generate: prompt token ids for "context"

	w  http.ResponseWriter
	rc *http.ResponseController

	buf     bytes.Buffer // messages not yet written
	pending int          // messages in buf
}

func (h *Handler) generate(w http.ResponseWriter, r *http.Request) {
	var req generateRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Model == "" {
		writeError(w, http.StatusNotFound, notFoundText(req.Model))
		return
	}
	m := h.lookup(req.Model)
	if m == nil {
		writeError(w, http.StatusNotFound, notFoundText(req.Model))
		return
	}
	if req.Raw && (req.System != "" || len(req.Context) > 0) {
		writeError(w, http.StatusBadRequest, "raw mode does not support template, system, or context")
		return
	}
	ka, hasKA := keepAlive(req.KeepAlive)
	if req.Prompt == "" && hasKA && ka == 0 {
		h.unload(m)
		writeJSON(w, http.StatusOK, generateResponse{Model: req.Model, CreatedAt: h.now(), Done: true, DoneReason: "unload"})
		return
	}
	j := h.newJob(w, r, m, req.Model, req.Prompt, req.System+req.Prompt, req.Stream, req.Options, ka, hasKA, "/api/generate")
	if j == nil {
		return
	}
	j.load = req.Prompt == ""
	j.serve(r.Context())
}

func (h *Handler) chat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if !decode(w, r, &req) {
		return
	}
	m := h.lookup(req.Model)
	if req.Model == "" {
		writeError(w, http.StatusBadRequest, "model is required")
		return
	}
	ka, hasKA := keepAlive(req.KeepAlive)
	if len(req.Messages) == 0 && hasKA && ka == 0 {
		if m == nil {
			writeError(w, http.StatusNotFound, notFoundText(req.Model))
			return
		}
		h.unload(m)
		writeJSON(w, http.StatusOK, chatResponse{Model: req.Model, CreatedAt: h.now(), Message: message{Role: "assistant"}, Done: true, DoneReason: "unload"})
		return
	}
	if m == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model %q not found, try pulling it first", req.Model))
		return
	}
	var all strings.Builder
	last := ""
	for _, msg := range req.Messages {
		all.WriteString(msg.Role)
		all.WriteString(": ")
		all.WriteString(msg.Content)
		all.WriteByte('\n')
		last = msg.Content
	}
	j := h.newJob(w, r, m, req.Model, last, all.String(), req.Stream, req.Options, ka, hasKA, "/api/chat")
	if j == nil {
		return
	}
	j.chat = true
	j.load = len(req.Messages) == 0
	j.serve(r.Context())
}

func (h *Handler) now() time.Time { return h.cfg.Now().UTC() }

func (h *Handler) unload(m *simModel) {
	h.mu.Lock()
	m.loaded = false
	h.mu.Unlock()
}

// newJob builds the job of a request, or answers it with an injected HTTP
// error and returns nil.
func (h *Handler) newJob(w http.ResponseWriter, r *http.Request, m *simModel, name, prompt, fullPrompt string, stream *bool, opts *options, ka time.Duration, hasKA bool, endpoint string) *job {
	req := Request{Endpoint: endpoint, Model: name, Prompt: prompt, Seq: h.seq.Add(1), Header: r.Header}
	var f Fault
	if h.cfg.FaultFunc != nil {
		f = h.cfg.FaultFunc(req)
	} else if h.cfg.Faults != nil {
		f = h.cfg.Faults[name]
	}
	if f.Kind == FaultHTTPError {
		writeError(w, f.status(), f.message(name))
		return nil
	}
	if !hasKA {
		ka = 5 * time.Minute
	}
	var optSeed int64
	nPredict := -1
	if opts != nil {
		if opts.NumPredict != nil {
			nPredict = int(*opts.NumPredict)
		}
		if opts.Seed != nil {
			optSeed = int64(*opts.Seed)
		}
	}
	var stops []string
	if opts != nil {
		stops = opts.Stop
	}
	j := &job{
		h: h, model: m, name: name, prompt: prompt,
		stream: stream == nil || *stream, keep: ka, nPredict: nPredict, stops: stops, fault: f,
		gen: newTextGen(h.cfg.Seed, m.name, fullPrompt, optSeed, h.cfg.SplitChars),
		w:   w, rc: http.NewResponseController(w),
	}
	n := promptTokens(fullPrompt)
	j.ctxToks = make([]int, n)
	for i := range j.ctxToks {
		j.ctxToks[i] = 300 + i%len(words)
	}
	return j
}

// errAbort ends a job by dropping the connection.
var errAbort = errors.New("abort")

// stopIndex returns where the first of stops (in their order, as Ollama's
// runner checks them) occurs in s, or -1.
func stopIndex(s string, stops []string) int {
	for _, stop := range stops {
		if stop == "" {
			continue
		}
		if k := strings.Index(s, stop); k >= 0 {
			return k
		}
	}
	return -1
}

// incompleteUTF8 reports whether s ends inside a UTF-8 character, in which
// case Ollama holds it back until the character is complete.
func incompleteUTF8(s string) bool {
	for i := 1; i < utf8.UTFMax && i <= len(s); i++ {
		c := s[len(s)-i]
		if c&0xc0 == 0x80 {
			continue // a continuation byte: look further back
		}
		if c < 0x80 {
			return false
		}
		// A leading byte: does the character need more bytes than are here?
		need := 2
		switch {
		case c&0xf0 == 0xe0:
			need = 3
		case c&0xf8 == 0xf0:
			need = 4
		}
		return need > i
	}
	return false
}

// holdsStopPrefix reports whether s ends with the beginning of a stop
// sequence, in which case Ollama holds the text back.
func holdsStopPrefix(s string, stops []string) bool {
	for _, stop := range stops {
		for i := 1; i <= len(stop); i++ {
			if strings.HasSuffix(s, stop[:i]) {
				return true
			}
		}
	}
	return false
}

// minDuration is the least a reported duration can be, so that the timing
// keys are always present in the final message, as in Ollama (which
// measures them and never gets zero).
const minDuration = time.Microsecond

// serve answers the request. It returns when the response is complete, the
// client has gone away or the handler is closed.
func (j *job) serve(rctx context.Context) {
	ctx, cancel := context.WithCancel(rctx)
	defer cancel()
	stop := context.AfterFunc(j.h.base, cancel)
	defer stop()

	err := j.run(ctx)
	if errors.Is(err, errAbort) {
		panic(http.ErrAbortHandler)
	}
}

// errRepeatAbort ends a job that Ollama's repetition abort has ended; the
// response is complete.
var errRepeatAbort = errors.New("token repeat limit reached")

// repeatAbort ends the response as Ollama does when its repetition abort
// fires: a stream ends cleanly after what was queued; "stream": false gets
// the text so far in a message with "done": false and no metrics.
func (j *job) repeatAbort(text string) error {
	if j.stream {
		if err := j.flush(); err != nil {
			return err
		}
		return errRepeatAbort
	}
	if j.chat {
		writeJSON(j.w, http.StatusOK, chatResponse{Model: j.name, CreatedAt: j.h.now(), Message: message{Role: "assistant", Content: text}})
	} else {
		writeJSON(j.w, http.StatusOK, generateResponse{Model: j.name, CreatedAt: j.h.now(), Response: text})
	}
	return errRepeatAbort
}

// sleepUntil sleeps until the clock reads t. Streams are paced against
// such deadlines (start + TTFT + the intervals so far), so that the time
// spent writing does not add up into a rate below the configured one, and a
// client that blocked the stream for a while gets the tokens generated
// meanwhile in a burst, as from a server that kept generating.
func (j *job) sleepUntil(ctx context.Context, t time.Time) error {
	return j.sleep(ctx, t.Sub(j.h.cfg.Now()))
}

func (j *job) sleep(ctx context.Context, d time.Duration) error {
	if j.h.cfg.Unpaced || d <= 0 {
		return ctx.Err()
	}
	return j.h.cfg.Sleep(ctx, d)
}

// loadModel makes sure the model is loaded and returns the time spent.
func (j *job) loadModel(ctx context.Context) (time.Duration, error) {
	h, m := j.h, j.model
	var waited time.Duration
	for {
		h.mu.Lock()
		now := h.cfg.Now()
		if m.live(now) {
			m.refs++
			m.keep = j.keep
			h.mu.Unlock()
			return waited, nil
		}
		if ch := m.loading; ch != nil {
			h.mu.Unlock()
			select {
			case <-ch:
				waited = j.h.cfg.LoadDelay
				continue
			case <-ctx.Done():
				return waited, ctx.Err()
			}
		}
		ch := make(chan struct{})
		m.loading = ch
		m.loaded = false
		h.mu.Unlock()

		err := j.sleep(ctx, h.cfg.LoadDelay)

		h.mu.Lock()
		m.loading = nil
		if err == nil {
			m.loaded = true
			m.refs++
			m.keep = j.keep
		}
		h.mu.Unlock()
		close(ch)
		return h.cfg.LoadDelay, err
	}
}

// live reports whether m is loaded at now. Handler.mu must be held.
func (m *simModel) live(now time.Time) bool {
	return m.loaded && (m.refs > 0 || !now.After(m.expiresAt))
}

// release ends a request's use of its model; the keep-alive timer starts
// when the last one ends, as in Ollama's scheduler.
func (j *job) release() {
	h, m := j.h, j.model
	h.mu.Lock()
	m.refs--
	if m.refs == 0 {
		m.expiresAt = expiry(h.cfg.Now(), j.keep)
	}
	h.mu.Unlock()
}

func expiry(now time.Time, keep time.Duration) time.Time {
	if keep < 0 {
		return now.Add(math.MaxInt64)
	}
	return now.Add(keep)
}

// run answers the job: it waits for a slot and for the model, then
// answers a load request or generates the response.
func (j *job) run(ctx context.Context) error {
	queued := j.h.cfg.Now()
	if slots := j.model.slots; slots != nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-slots }()
	}
	queueWait := max(j.h.cfg.Now().Sub(queued), 0)
	loadDur, err := j.loadModel(ctx)
	if err != nil {
		return err
	}
	defer j.release()
	loadDur = max(queueWait+loadDur, minDuration)
	if j.load {
		// A load request: Ollama answers it without generating.
		if j.chat {
			writeJSON(j.w, http.StatusOK, chatResponse{Model: j.name, CreatedAt: j.h.now(), Message: message{Role: "assistant"}, Done: true, DoneReason: "load"})
		} else {
			writeJSON(j.w, http.StatusOK, generateResponse{Model: j.name, CreatedAt: j.h.now(), Done: true, DoneReason: "load"})
		}
		return nil
	}
	return j.respond(ctx, loadDur)
}

// decoding is the state of one response being generated.
type decoding struct {
	j        *job
	n        int     // tokens to generate at most
	reason   string  // done_reason
	interval float64 // nanoseconds per token at the model's rate
	deadline time.Time

	text     strings.Builder // what the client is sent
	pending  string          // text held back: it may begin a stop sequence
	sampled  int             // tokens generated: eval_count
	evalDur  time.Duration
	stallDur time.Duration
	respToks []int
	loopTok  string // FaultRepeat: the token the model loops on
	loopID   int

	// lastPiece and repeats track Ollama's repetition abort
	// (llm/server.go): the text of each piece from the runner, spaces
	// trimmed, against the previous one, which starts out "".
	lastPiece string
	repeats   int
}

// respond generates the response after the model is loaded: the wait for
// the first token, the tokens, the end-of-sequence step, any fault, and the
// final message with Ollama's metrics.
func (j *job) respond(ctx context.Context, loadDur time.Duration) error {
	cfg := &j.h.cfg
	d := &decoding{j: j, n: cfg.ResponseTokens, reason: "stop"}
	if j.nPredict > 0 && j.nPredict <= d.n {
		d.n, d.reason = j.nPredict, "length"
	}
	if j.stream {
		j.w.Header().Set("Content-Type", "application/x-ndjson")
		j.w.WriteHeader(http.StatusOK)
	}
	ttft := cfg.TTFT
	if cfg.Unpaced {
		ttft = 0
	}
	j.h.active.Add(1)
	defer j.h.active.Add(-1)
	d.deadline = cfg.Now().Add(ttft)
	if err := j.sleepUntil(ctx, d.deadline); err != nil {
		return err
	}
	d.interval = float64(time.Second) / j.model.rate
	if done, err := d.tokens(ctx); done || err != nil {
		return err
	}
	if done, err := d.end(ctx); done || err != nil {
		return err
	}
	return j.writeFinal(d.final(loadDur, ttft))
}

// looping reports whether piece s trips Ollama's repetition abort.
func (d *decoding) looping(s string) bool {
	if d.j.h.cfg.NoRepeatAbort {
		return false
	}
	if t := strings.TrimSpace(s); t == d.lastPiece {
		d.repeats++
	} else {
		d.lastPiece, d.repeats = t, 0
	}
	return d.repeats > repeatLimit
}

// send passes text to the client, as Ollama's runner flushes its pending
// pieces: one message however many tokens they came from.
func (d *decoding) send(s string) error {
	if s == "" {
		return nil
	}
	if d.looping(s) {
		return d.j.repeatAbort(d.text.String())
	}
	d.text.WriteString(s)
	if !d.j.stream {
		return nil
	}
	return d.j.emitToken(s)
}

// step paces one sampled token (slow scales the interval under
// contention) and counts it in eval_count and eval_duration.
func (d *decoding) step(ctx context.Context, slow float64) error {
	cfg := &d.j.h.cfg
	dur := time.Duration(d.interval * slow * d.j.gen.jitter(cfg.Jitter))
	if cfg.Unpaced {
		dur = 0
	}
	d.deadline = d.deadline.Add(dur)
	if err := d.j.sleepUntil(ctx, d.deadline); err != nil {
		return err
	}
	d.evalDur += dur
	d.sampled++
	return nil
}

// tokens generates up to n tokens, stopping at a stop sequence. done
// reports that the response is over (a fault ended it).
func (d *decoding) tokens(ctx context.Context) (done bool, err error) {
	j, cfg := d.j, &d.j.h.cfg
	for i := 0; i < d.n; i++ {
		if i == j.fault.After {
			if done, err := j.midStreamFault(ctx, &d.deadline, &d.stallDur); done || err != nil {
				return true, err
			}
		}
		slow := 1.0
		if cfg.Contention > 0 {
			slow += cfg.Contention * float64(j.h.active.Load()-1)
		}
		if err := d.step(ctx, slow); err != nil {
			return true, err
		}
		tok, id := j.gen.next()
		if j.fault.Kind == FaultRepeat && i >= j.fault.After {
			if i == j.fault.After {
				d.loopTok, d.loopID = tok, id
			}
			tok, id = d.loopTok, d.loopID
		}
		d.respToks = append(d.respToks, id)
		if j.stream && j.fault.Kind == FaultMalformed && i == j.fault.After {
			d.text.WriteString(tok)
			j.queue([]byte(`{"model":"` + j.name + `","created_at":`))
			if err := j.flush(); err != nil {
				return true, err
			}
			continue
		}
		d.pending += tok
		if k := stopIndex(d.pending, j.stops); k >= 0 {
			if err := d.send(d.pending[:k]); err != nil {
				return true, err
			}
			d.pending, d.reason = "", "stop"
			break
		}
		if holdsStopPrefix(d.pending, j.stops) || incompleteUTF8(d.pending) {
			continue
		}
		if err := d.send(d.pending); err != nil {
			return true, err
		}
		d.pending = ""
	}
	return false, nil
}

// end sends the text held back, takes the end-of-sequence step and fires a
// fault set to fire after the last token. done reports that the response
// is over.
func (d *decoding) end(ctx context.Context) (done bool, err error) {
	j := d.j
	// What is left is sent, less a character the limit cut in two.
	for !utf8.ValidString(d.pending) {
		d.pending = d.pending[:len(d.pending)-1]
	}
	if err := d.send(d.pending); err != nil {
		return true, err
	}
	if d.reason == "stop" && d.sampled == d.n {
		// The response ended on its own: the model sampled an end-of-sequence
		// token, which costs a decode step and counts in eval_count but is
		// not sent, as in Ollama's runner.
		if err := d.step(ctx, 1); err != nil {
			return true, err
		}
	}
	if d.sampled <= j.fault.After && j.fault.Kind != FaultNone {
		// A fault set to fire after the last token fires before the final message.
		if done, err := j.midStreamFault(ctx, &d.deadline, &d.stallDur); done || err != nil {
			return true, err
		}
	}
	// The final message, whose text is "", passes the same check.
	if d.looping("") {
		return true, j.repeatAbort(d.text.String())
	}
	return false, nil
}

// final returns the response's final message, with Ollama's metrics.
func (d *decoding) final(loadDur, ttft time.Duration) any {
	j := d.j
	ttftR := max(ttft, minDuration)
	evalR := max(d.evalDur, minDuration)
	mt := metrics{
		TotalDuration:      loadDur + ttftR + evalR + d.stallDur,
		LoadDuration:       loadDur,
		PromptEvalCount:    len(j.ctxToks),
		PromptEvalDuration: ttftR,
		EvalCount:          d.sampled,
		EvalDuration:       evalR,
	}
	text := ""
	if !j.stream {
		text = d.text.String()
	}
	if j.chat {
		if j.fault.Kind == FaultHugeFinal {
			text += hugeContent(j.fault.size())
		}
		return chatResponse{Model: j.name, CreatedAt: j.h.now(), Message: message{Role: "assistant", Content: text}, DoneReason: d.reason, Done: true, metrics: mt}
	}
	ctxIDs := append(append([]int(nil), j.ctxToks...), d.respToks...)
	if j.fault.Kind == FaultHugeFinal {
		ctxIDs = padContext(ctxIDs, j.fault.size())
	}
	return generateResponse{Model: j.name, CreatedAt: j.h.now(), Response: text, Done: true, DoneReason: d.reason, Context: ctxIDs, metrics: mt}
}

// writeFinal writes the final message: the whole response when not
// streaming, the last line of the stream otherwise.
func (j *job) writeFinal(final any) error {
	if !j.stream {
		if j.fault.Kind == FaultMalformed {
			j.w.Header().Set("Content-Type", "application/json; charset=utf-8")
			j.w.WriteHeader(http.StatusOK)
			io.WriteString(j.w, `{"model":"`+j.name+`","created_at":`)
			return nil
		}
		writeJSON(j.w, http.StatusOK, final)
		return nil
	}
	b, err := json.Marshal(final)
	if err != nil {
		return err
	}
	if err := j.emit(b); err != nil {
		return err
	}
	return j.flush()
}

// midStreamFault fires the job's mid-stream fault. done reports that the
// response is over.
func (j *job) midStreamFault(ctx context.Context, deadline *time.Time, stallDur *time.Duration) (done bool, err error) {
	switch j.fault.Kind {
	case FaultErrorLine:
		msg := j.fault.Message
		if msg == "" {
			msg = runnerFailedText
		}
		if !j.stream {
			writeError(j.w, http.StatusInternalServerError, msg)
			return true, nil
		}
		b, _ := json.Marshal(errorResponse{Error: msg})
		if err := j.emit(b); err != nil {
			return true, err
		}
		return true, j.flush()
	case FaultCut:
		if j.stream {
			return true, j.flush()
		}
		return true, errAbort // a non-streamed body cannot be cut short cleanly
	case FaultAbort:
		if j.stream {
			if err := j.flush(); err != nil {
				return true, err
			}
		}
		return true, errAbort
	case FaultStall:
		if j.stream {
			if err := j.flush(); err != nil {
				return true, err
			}
		}
		if j.fault.Duration <= 0 {
			<-ctx.Done()
			return true, ctx.Err()
		}
		// Paced or not, a stall is slept.
		*deadline = deadline.Add(j.fault.Duration)
		if err := j.h.cfg.Sleep(ctx, deadline.Sub(j.h.cfg.Now())); err != nil {
			return true, err
		}
		*stallDur += j.fault.Duration
	}
	return false, nil
}

func (f Fault) size() int {
	if f.Size <= 0 {
		return DefaultHugeFinalSize
	}
	return f.Size
}

// padContext lengthens ids so that the JSON array is about size bytes.
func padContext(ids []int, size int) []int {
	const per = 6 // "12345,"
	for i := len(ids); i < size/per; i++ {
		ids = append(ids, 10000+i%90000)
	}
	return ids
}

func hugeContent(size int) string {
	return strings.Repeat(" the", size/4)
}

// appendToken appends the token message of tok to b: the bytes
// encoding/json writes for Ollama's GenerateResponse or ChatResponse, built
// without reflection or allocation.
func (j *job) appendToken(b []byte, tok string) []byte {
	if j.nameJSON == nil {
		j.nameJSON, _ = json.Marshal(j.name) // a string always marshals
	}
	b = append(b, `{"model":`...)
	b = append(b, j.nameJSON...)
	b = append(b, `,"created_at":"`...)
	b = j.h.now().AppendFormat(b, time.RFC3339Nano)
	if j.chat {
		b = append(b, `","message":{"role":"assistant","content":`...)
		b = appendString(b, tok)
		return append(b, `},"done":false}`...)
	}
	b = append(b, `","response":`...)
	b = appendString(b, tok)
	return append(b, `,"done":false}`...)
}

// emitToken queues the token message of tok.
func (j *job) emitToken(tok string) error {
	b := j.appendToken(j.buf.AvailableBuffer(), tok)
	j.buf.Write(b)
	return j.emitted()
}

// emit queues one message (a newline is added) and writes the queue when it
// holds Coalesce messages.
func (j *job) emit(b []byte) error {
	j.buf.Write(b)
	return j.emitted()
}

// emitted ends the message just queued with a newline and writes the queue
// when it holds Coalesce messages.
func (j *job) emitted() error {
	j.buf.WriteByte('\n')
	j.pending++
	if j.pending >= j.h.cfg.Coalesce {
		return j.flush()
	}
	return nil
}

func (j *job) queue(b []byte) {
	j.buf.Write(b)
	j.buf.WriteByte('\n')
	j.pending++
}

// flush writes what is queued and flushes it to the client.
func (j *job) flush() error {
	if j.buf.Len() == 0 {
		return nil
	}
	b := j.buf.Bytes()
	if j.h.cfg.SplitLines && len(b) > 1 {
		half := len(b) / 2
		if err := j.write(b[:half]); err != nil {
			return err
		}
		b = b[half:]
	}
	err := j.write(b)
	j.buf.Reset()
	j.pending = 0
	return err
}

func (j *job) write(b []byte) error {
	if _, err := j.w.Write(b); err != nil {
		return err
	}
	if err := j.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}
