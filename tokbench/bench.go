package tokbench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"tr117/stats"
	"tr117/tokenizer"
)

// SeedSentence is the sentence the default corpus repeats: a fixed English
// pangram, so that runs are comparable with each other.
const SeedSentence = "The quick brown fox jumps over the lazy dog. "

// DefaultBytes is the default corpus size, 1 MiB.
const DefaultBytes = 1 << 20

// SeedCorpus returns SeedSentence repeated to exactly n bytes (the last
// repetition cut short at a character boundary; the sentence is ASCII).
func SeedCorpus(n int) string {
	if n <= 0 {
		return ""
	}
	s := strings.Repeat(SeedSentence, n/len(SeedSentence)+1)
	return s[:n]
}

// Config configures Run. The zero value is one warm-up pass, then 3 timed
// passes of the whole corpus in one call on one goroutine.
type Config struct {
	// Iterations is the number of timed passes per tokenizer. Default 3.
	Iterations int `json:"iterations"`
	// Parallel cuts the corpus into this many shards at whitespace and
	// encodes them at once, one goroutine each, so a pass measures
	// multi-core throughput. Default 1 (the whole corpus in one call).
	// Ollama's BPE allocates about 120 bytes per input byte: with one
	// shard the garbage collector runs on an otherwise idle core, with as
	// many shards as cores it competes with the encoders, so at GOGC=100
	// two shards on two cores gave 1.45× one shard, and 1.98× at GOGC=800.
	Parallel int `json:"parallel"`
	// Paragraphs encodes the corpus paragraph by paragraph (see
	// Paragraphs), one call each (a batch for a tokenizer that encodes in
	// another process), instead of each shard in one call: documents as
	// an application sends them. Counts are of the pieces, so they can
	// differ by a few tokens from one call's. Default false.
	Paragraphs bool `json:"paragraphs,omitempty"`
	// NoWarmUp skips the untimed first pass. Default false: one warm-up,
	// which also builds the backends' lazy tables.
	NoWarmUp bool `json:"no_warm_up,omitempty"`
	// RuleFactor is the pass-time ratio beyond which the slower of a pair
	// of tokenizers is flagged as a CPU bottleneck. Default 2.
	RuleFactor float64 `json:"rule_factor"`
	// Progress, when set, is called after each pass (warm-up included),
	// from the goroutine that called Run.
	Progress func(Pass) `json:"-"`
}

func (c Config) withDefaults() (Config, error) {
	if c.Iterations == 0 {
		c.Iterations = 3
	}
	if c.Parallel == 0 {
		c.Parallel = 1
	}
	if c.RuleFactor == 0 {
		c.RuleFactor = 2
	}
	switch {
	case c.Iterations < 0:
		return c, fmt.Errorf("tokbench: iterations %d < 1", c.Iterations)
	case c.Parallel < 0:
		return c, fmt.Errorf("tokbench: parallel %d < 1", c.Parallel)
	case !(c.RuleFactor > 1) || math.IsInf(c.RuleFactor, 0):
		return c, fmt.Errorf("tokbench: rule factor %v must be above 1", c.RuleFactor)
	}
	return c, nil
}

// Named is a tokenizer under the name the report gives it.
type Named struct {
	Name      string
	Tokenizer tokenizer.Tokenizer
}

// Pass is one encode of the whole corpus.
type Pass struct {
	Model    string
	Index    int // 0-based timed pass index; -1 for the warm-up
	Duration time.Duration
	Tokens   int
}

// Result is one tokenizer's measurements. Counts exclude special tokens:
// no BOS or EOS is added to any call.
type Result struct {
	Model  string         `json:"model"`
	Source string         `json:"source"`
	Info   tokenizer.Info `json:"info"`
	// Tokens is the number of ids one pass produces (every pass must
	// produce the same number; Run fails otherwise). With Parallel > 1
	// the shards are cut where a word starts (see cutShards), so the count
	// is that of one call (760,377 for war-and-peace with Llama 3 in any
	// number of shards).
	Tokens int `json:"tokens"`
	// Bytes is the corpus size.
	Bytes int `json:"bytes"`
	// TokensPerSec and BytesPerSec are Tokens and Bytes over the mean
	// pass time.
	TokensPerSec float64 `json:"tokens_per_sec"`
	BytesPerSec  float64 `json:"bytes_per_sec"`
	// LatencyMs is the mean pass time in milliseconds (the table's
	// "Latency (ms)"); LatencyP50Ms and LatencyP99Ms its percentiles.
	LatencyMs    float64 `json:"latency_ms"`
	LatencyP50Ms float64 `json:"latency_p50_ms"`
	LatencyP99Ms float64 `json:"latency_p99_ms"`
	// CV is the coefficient of variation of the pass times.
	CV float64 `json:"cv"`
	// PassesMs holds every timed pass, in order.
	PassesMs []float64 `json:"passes_ms"`
	// Parallel is the number of shards encoded at once.
	Parallel int `json:"parallel"`
}

// Comparison is the rule applied to one pair: does one tokenizer take more
// than RuleFactor times as long as the other to encode the same corpus?
// The answer is the pass-time ratio (CPU cost of the same text); the
// tokens/s ratio is given too, for the table's Tokens/Sec column, but it
// also depends on how many tokens each makes of the text.
type Comparison struct {
	Faster string `json:"faster"`
	Slower string `json:"slower"`
	// TimeRatio is the slower's mean pass time over the faster's.
	TimeRatio float64 `json:"time_ratio"`
	// TokensPerSecRatio is the faster's tokens/s over the slower's.
	TokensPerSecRatio float64 `json:"tokens_per_sec_ratio"`
	// Factor is the rule's threshold (Config.RuleFactor).
	Factor float64 `json:"factor"`
	// Flagged is TimeRatio > Factor: the slower tokenizer's CPU cost
	// could be a bottleneck (unless Fixture).
	Flagged bool `json:"flagged"`
	// Fixture is set when either tokenizer is a module-cache fixture
	// (Info.Fixture): unrelated test files that stand in for the models,
	// so the ratio exercises the rule but is not a finding about them.
	Fixture bool `json:"fixture,omitempty"`
}

// String renders c as one sentence. It leads with the time ratio, the
// one the rule judges (CPU cost of the same text), and names the tokens/s
// ratio as what it is: it also depends on how many tokens each makes of
// the text.
func (c Comparison) String() string {
	ratios := fmt.Sprintf("%s takes %.2f× as long as %s to encode the same text (the ratio the %g× rule judges: more than %g× as long on the same text flags a CPU bottleneck; tokens/s ratio %.2f, not the rule's measure, also depends on how many tokens each makes of the text)",
		c.Slower, c.TimeRatio, c.Faster, c.Factor, c.Factor, c.TokensPerSecRatio)
	if c.Fixture {
		side := "within"
		if c.Flagged {
			side = "beyond"
		}
		return fmt.Sprintf("%s: %s %g×, but module-cache fixtures, not the models under test: not a finding", ratios, side, c.Factor)
	}
	verdict := "within"
	if c.Flagged {
		verdict = "FLAGGED: beyond"
	}
	return fmt.Sprintf("%s: %s the %g× rule", ratios, verdict, c.Factor)
}

// Report is the outcome of Run.
type Report struct {
	Config      Config       `json:"config"`
	CorpusBytes int          `json:"corpus_bytes"`
	Results     []Result     `json:"results"`
	Comparisons []Comparison `json:"comparisons"`
	// VersusHF gives each tokenizer's speed ratio to Hugging Face's own
	// library on the same file, when the run has both (VersusHF).
	VersusHF []HFRatio `json:"versus_hf,omitempty"`
	// Parity is each tokenizer's ids checked against Hugging Face's own
	// library on the same file and corpus (CheckParity); Run leaves it
	// empty, a caller that wants the check fills it.
	Parity []ParityResult `json:"parity,omitempty"`
	// Failures lists the tokenizers whose passes failed.
	Failures []RunFailure `json:"failures,omitempty"`
	// SpecialTokens documents the counting convention.
	SpecialTokens string `json:"special_tokens"`
}

// specialTokensNote is Report.SpecialTokens.
const specialTokensNote = "counts exclude special tokens: no BOS/EOS is added (an encode that adds a BOS counts one more token per call)"

// cutShards cuts text into n pieces of about equal size. Each cut is made
// just before a space that follows a non-space character and precedes a
// letter ("… war| and …"): there every tokenizer this package loads starts
// a new piece (the GPT-2, Llama 3 and Qwen 2 splits begin a word with its
// space, SentencePiece and WordPiece split there too), so the pieces'
// encodings laid end to end are the encoding of text and their token
// counts add up to the count of one call. Text with no such place after
// the ideal cut (no spaces between words) is cut after any whitespace
// instead, which can move the count by a token; a piece may be empty if
// text has too little whitespace.
func cutShards(text string, n int) []string {
	if n <= 1 {
		return []string{text}
	}
	out := make([]string, 0, n)
	start := 0
	for i := 1; i < n; i++ {
		from := max(start, len(text)*i/n)
		cut := wordCut(text, from)
		if cut < 0 {
			cut = whitespaceCut(text, from)
		}
		out = append(out, text[start:cut])
		start = cut
	}
	return append(out, text[start:])
}

// Paragraphs cuts text after each run of blank lines ("\n\n" and any
// whitespace after it), so that the pieces laid end to end are text.
func Paragraphs(text string) []string {
	var out []string
	for len(text) > 0 {
		i := strings.Index(text, "\n\n")
		if i < 0 {
			break
		}
		j := i + 2
		for j < len(text) && (text[j] == '\n' || text[j] == '\r' || text[j] == ' ' || text[j] == '\t') {
			j++
		}
		out = append(out, text[:j])
		text = text[j:]
	}
	if len(text) > 0 {
		out = append(out, text)
	}
	return out
}

// wordCut returns the first index at or after from (and after 0) where
// text holds a space preceded by a non-space and followed by a letter, or
// -1.
func wordCut(text string, from int) int {
	for i := max(from, 1); i < len(text)-1; i++ {
		if text[i] != ' ' {
			continue
		}
		prev, _ := utf8.DecodeLastRuneInString(text[:i])
		next, _ := utf8.DecodeRuneInString(text[i+1:])
		if !unicode.IsSpace(prev) && unicode.IsLetter(next) {
			return i
		}
	}
	return -1
}

// whitespaceCut returns the index just after the first whitespace
// character at or after from (from moved to a character boundary), or
// len(text).
func whitespaceCut(text string, from int) int {
	for from < len(text) && !utf8.RuneStart(text[from]) {
		from++
	}
	for from < len(text) {
		r, size := utf8.DecodeRuneInString(text[from:])
		from += size
		if unicode.IsSpace(r) {
			break
		}
	}
	return from
}

// Run encodes corpus with each tokenizer: a warm-up, then cfg.Iterations
// timed passes, and applies the 2× rule to every pair. A tokenizer whose
// passes fail (an encode error, two passes that disagree on the token
// count) is left out of the results and listed in Report.Failures; Run then
// returns the report of the others together with an error joining those
// failures. It returns ctx.Err() as is, and no report, when ctx ends
// between passes. Every goroutine it starts has ended when it returns.
func Run(ctx context.Context, corpus string, toks []Named, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errors.New("tokbench: no tokenizers to run")
	}
	if corpus == "" {
		return nil, errors.New("tokbench: empty corpus")
	}
	seen := map[string]bool{}
	for _, t := range toks {
		if t.Name == "" || t.Tokenizer == nil {
			return nil, fmt.Errorf("tokbench: tokenizer %q: want a name and a tokenizer", t.Name)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("tokbench: tokenizer name %q used twice", t.Name)
		}
		seen[t.Name] = true
	}
	var shards [][]string
	for _, s := range cutShards(corpus, cfg.Parallel) {
		if cfg.Paragraphs {
			shards = append(shards, Paragraphs(s))
		} else {
			shards = append(shards, []string{s})
		}
	}
	rep := &Report{Config: cfg, CorpusBytes: len(corpus), SpecialTokens: specialTokensNote}
	var errs []error
	for _, t := range toks {
		res, err := runOne(ctx, t, shards, len(corpus), cfg)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			info := t.Tokenizer.Info()
			rep.Failures = append(rep.Failures, RunFailure{Model: t.Name, Backend: info.Backend, Source: info.Source, Error: err.Error()})
			errs = append(errs, err)
			continue
		}
		rep.Results = append(rep.Results, res)
	}
	rep.Comparisons = Compare(rep.Results, cfg.RuleFactor)
	rep.VersusHF = VersusHF(rep.Results)
	return rep, errors.Join(errs...)
}

// RunFailure is a tokenizer whose passes failed: an encode error, passes
// that disagree on the count, or a child process that crashed or hung.
type RunFailure struct {
	Model   string `json:"model"`
	Backend string `json:"backend"`
	Source  string `json:"source"`
	Error   string `json:"error"`
}

// HFRatio is one tokenizer's speed beside Hugging Face's own library
// (tokenizer.BackendHFNode) on the same file, corpus and run.
type HFRatio struct {
	// Model and Backend are the tokenizer compared; HF is the name of the
	// hf-node result it is compared with; Source the file both loaded.
	Model   string `json:"model"`
	Backend string `json:"backend"`
	HF      string `json:"hf"`
	Source  string `json:"source"`
	// SpeedRatio is Model's bytes/s over HF's: 2 is twice the speed of
	// Hugging Face's library, 0.5 half of it.
	SpeedRatio float64 `json:"speed_ratio"`
	// SameTokens is whether both gave the same number of tokens per pass.
	SameTokens bool `json:"same_tokens"`
}

// VersusHF pairs every result with the tokenizer.BackendHFNode result of the same
// source file and gives its speed ratio to it.
func VersusHF(results []Result) []HFRatio {
	var out []HFRatio
	for _, hf := range results {
		if hf.Info.Backend != tokenizer.BackendHFNode {
			continue
		}
		for _, r := range results {
			if r.Info.Backend == tokenizer.BackendHFNode || !sameFile(r.Info.Source, hf.Info.Source) || !(hf.BytesPerSec > 0) {
				continue
			}
			out = append(out, HFRatio{
				Model: r.Model, Backend: r.Info.Backend, HF: hf.Model, Source: hf.Info.Source,
				SpeedRatio: r.BytesPerSec / hf.BytesPerSec, SameTokens: r.Tokens == hf.Tokens,
			})
		}
	}
	return out
}

// sameFile says whether a tokenizer's Source names the file path (as is, or
// as the "(path)" a Hugging Face repo id source ends with).
func sameFile(source, path string) bool {
	return source == path || strings.HasSuffix(source, "("+path+")")
}

func runOne(ctx context.Context, t Named, shards [][]string, nbytes int, cfg Config) (Result, error) {
	info := t.Tokenizer.Info()
	res := Result{Model: t.Name, Source: info.Source, Info: info, Bytes: nbytes, Parallel: len(shards)}
	p := newPasser(t.Tokenizer, shards)
	defer p.stop()
	first := 0
	if cfg.NoWarmUp {
		first = 1
	}
	tokens := -1
	for i := first - 1; i < cfg.Iterations; i++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		d, n, err := p.pass()
		if err != nil {
			return res, fmt.Errorf("tokbench: %s: %w", t.Name, err)
		}
		if tokens >= 0 && n != tokens {
			return res, fmt.Errorf("tokbench: %s: pass %d gave %d tokens, an earlier pass %d: the tokenizer is not deterministic", t.Name, i, n, tokens)
		}
		tokens = n
		if cfg.Progress != nil {
			cfg.Progress(Pass{Model: t.Name, Index: i, Duration: d, Tokens: n})
		}
		if i >= 0 {
			res.PassesMs = append(res.PassesMs, float64(d)/float64(time.Millisecond))
		}
	}
	res.Tokens = tokens
	s, err := stats.Summarize(res.PassesMs)
	if err != nil {
		return res, fmt.Errorf("tokbench: %s: %w", t.Name, err)
	}
	res.LatencyMs, res.LatencyP50Ms, res.LatencyP99Ms, res.CV = s.Mean, s.P50, s.P99, s.CV
	if s.Mean > 0 {
		res.TokensPerSec = float64(tokens) / (s.Mean / 1e3)
		res.BytesPerSec = float64(nbytes) / (s.Mean / 1e3)
	}
	return res, nil
}

// selfTimed is a tokenizer that encodes elsewhere (a child process, as
// tokenizer.LoadHFNode's does) and
// times its encodes there: a pass is one call, all shards' pieces at once
// (a batch encode on the library's own threads), and its duration is the
// one the tokenizer measured, without the transfer to and from it.
type selfTimed interface {
	EncodeTimed(texts []string) (tokens int, d time.Duration, err error)
}

// passer encodes the shards of one pass. With more than one shard it keeps
// one goroutine per shard for the whole run, so that a pass times the
// encodes and not goroutine start-up.
type passer struct {
	tok    tokenizer.Tokenizer
	shards [][]string // each shard's pieces (one, unless Config.Paragraphs)
	start  []chan struct{}
	done   chan shardResult
	wg     sync.WaitGroup
}

type shardResult struct {
	n   int
	err error
}

func newPasser(t tokenizer.Tokenizer, shards [][]string) *passer {
	p := &passer{tok: t, shards: shards}
	if _, ok := t.(selfTimed); ok || len(shards) == 1 {
		return p
	}
	p.done = make(chan shardResult, len(shards))
	for _, s := range shards {
		start := make(chan struct{})
		p.start = append(p.start, start)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for range start {
				n, err := encodePieces(t, s)
				p.done <- shardResult{n, err}
			}
		}()
	}
	return p
}

func (p *passer) pass() (time.Duration, int, error) {
	if st, ok := p.tok.(selfTimed); ok {
		n, d, err := st.EncodeTimed(slices.Concat(p.shards...))
		return d, n, err
	}
	if len(p.shards) == 1 {
		t0 := time.Now()
		n, err := encodePieces(p.tok, p.shards[0])
		return time.Since(t0), n, err
	}
	t0 := time.Now()
	for _, s := range p.start {
		s <- struct{}{}
	}
	var n int
	var errs []error
	for range p.shards {
		r := <-p.done
		n += r.n
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	return time.Since(t0), n, errors.Join(errs...)
}

// encodePieces encodes each piece and returns the total count.
func encodePieces(t tokenizer.Tokenizer, pieces []string) (int, error) {
	n := 0
	for _, s := range pieces {
		ids, err := t.Encode(s)
		if err != nil {
			return n, err
		}
		n += len(ids)
	}
	return n, nil
}

func (p *passer) stop() {
	for _, s := range p.start {
		close(s)
	}
	p.wg.Wait()
}

// Compare applies the rule to every pair of results: for each pair the
// faster and slower by mean pass time and whether the ratio exceeds
// factor (2 if factor is 0). Two results from the same source (one file on
// two backends) are not two models' tokenizers and make no pair: VersusHF
// gives their ratio to Hugging Face's library. A pair with a module-cache fixture in it is
// marked Fixture. Pairs are ordered by descending time ratio.
func Compare(results []Result, factor float64) []Comparison {
	if factor == 0 {
		factor = 2
	}
	var out []Comparison
	for i := range results {
		for j := i + 1; j < len(results); j++ {
			a, b := results[i], results[j]
			if a.LatencyMs > b.LatencyMs {
				a, b = b, a
			}
			if !(a.LatencyMs > 0) || !(b.TokensPerSec > 0) || a.Info.Source != "" && a.Info.Source == b.Info.Source {
				continue
			}
			c := Comparison{
				Faster:            a.Model,
				Slower:            b.Model,
				TimeRatio:         b.LatencyMs / a.LatencyMs,
				TokensPerSecRatio: a.TokensPerSec / b.TokensPerSec,
			}
			c.Factor = factor
			c.Flagged = c.TimeRatio > factor
			c.Fixture = a.Info.Fixture || b.Info.Fixture
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].TimeRatio > out[j].TimeRatio })
	return out
}
