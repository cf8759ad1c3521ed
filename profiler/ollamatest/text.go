package ollamatest

import (
	"hash/fnv"
	"math/rand/v2"
	"strings"
)

// words is the vocabulary of simulated responses: one token per word, as
// with the tiny test model that tr117/internal/ollamaserver runs.
var words = strings.Fields(`the of and to in a is that for it as was with be by on not he
this are or his from at which but have an they you were her she there one all we
their has been would more when will if no out so said what up its about into than
them can only other new some could time these two may then do first any my now such
like our over man me even most made after also did many before must through back years
where much your way well down should because each just those people how too little state
good very make world still own see men work long get here between both life being under
never day same another know while last might us great old year off come since against
go came right used take three model token stream latency throughput memory cache kernel
batch queue agent server client request response prompt context layer weight tensor
measure profile benchmark window buffer socket packet frame scheduler thread core power
energy clock signal sample metric result report`)

// spacedWords are the tokens of words: like SentencePiece's "▁word"
// pieces, every word carries its leading space, the first one too.
var spacedWords = func() []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = " " + w
	}
	return out
}()

// tokenizer splits prompts for prompt_eval_count: about one token per four
// bytes, as with common BPE vocabularies on English text.
func promptTokens(s string) int {
	n := (len(s) + 3) / 4
	if n < 1 {
		n = 1
	}
	return n
}

// textGen produces the deterministic token stream of one request.
type textGen struct {
	rng    *rand.Rand // the text
	jrng   *rand.Rand // the jitter, apart so that Jitter does not change the text
	srng   *rand.Rand // which words are split
	split  float64    // Config.SplitChars
	n      int        // tokens produced so far
	since  int        // words since the last full stop
	queued string     // the second token of a split word
	qid    int
}

// splitWords are words with a multi-byte character, which byte-level
// vocabularies split into tokens that end inside the character.
var splitWords = []string{" café", " naïve", " über", " señor", " déjà", " 東京", " ✓", " 😀"}

func newTextGen(seed uint64, model, prompt string, optSeed int64, split float64) *textGen {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(model)))
	h.Write([]byte{0})
	h.Write([]byte(prompt))
	k := h.Sum64() ^ uint64(optSeed)
	return &textGen{
		rng:   rand.New(rand.NewPCG(seed, k)),
		jrng:  rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, k)),
		srng:  rand.New(rand.NewPCG(seed^0x5851f42d4c957f2d, k)),
		split: split,
	}
}

// next returns the next token's text and its id.
func (g *textGen) next() (string, int) {
	g.n++
	if g.queued != "" {
		tok := g.queued
		g.queued = ""
		return tok, g.qid
	}
	if g.since >= 6 && g.rng.IntN(8) == 0 {
		g.since = 0
		return ".", 13
	}
	i := g.rng.IntN(len(words))
	g.since++
	if g.split > 0 && g.srng.Float64() < g.split {
		// Cut after the first byte of the first multi-byte character.
		w := splitWords[i%len(splitWords)]
		cut := strings.IndexFunc(w, func(r rune) bool { return r >= 0x80 }) + 1
		g.queued, g.qid = w[cut:], 2000+i
		return w[:cut], 1000 + i
	}
	return spacedWords[i], 300 + i
}

// jitter returns a factor in [1-j, 1+j].
func (g *textGen) jitter(j float64) float64 {
	if j == 0 {
		return 1
	}
	return 1 + j*(2*g.jrng.Float64()-1)
}
