package load

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strings"
)

// Item is one prompt of a workload.
//
// It is plain data: safe to read from several goroutines, not to modify
// while others read it.
type Item struct {
	// Prompt is the user prompt.
	Prompt string `json:"prompt"`
	// System is the system prompt, if any.
	System string `json:"system,omitempty"`
	// InputTokens is the prompt's length in tokens as the workload knows
	// it: the drawn length of a synthetic prompt (see
	// Synthetic.Approximate), 0 when unknown.
	InputTokens int `json:"input_tokens,omitempty"`
	// MaxTokens, when positive, caps the response (Ollama's num_predict).
	MaxTokens int `json:"max_tokens,omitempty"`
}

// Lengths is a distribution of token counts: Mean with a uniform spread of
// ±Spread·Mean, clamped to at least 1. Spread 0 gives Mean every time.
//
// It is plain data, safe for concurrent use.
type Lengths struct {
	Mean   int     `json:"mean"`
	Spread float64 `json:"spread,omitempty"`
}

func (l Lengths) draw(r *rand.Rand) int {
	if l.Mean <= 0 {
		return 0
	}
	if l.Spread <= 0 {
		return l.Mean
	}
	d := (2*r.Float64() - 1) * l.Spread * float64(l.Mean)
	return max(1, int(math.Round(float64(l.Mean)+d)))
}

// Encoder counts tokens: tr117/tokenizer's tokenizers satisfy it.
// [Synthetic.Items] calls it from one goroutine.
type Encoder interface {
	Encode(text string) ([]int32, error)
}

// Synthetic describes built-in prompts with drawn input and output lengths.
// It can be written into a manifest as JSON.
//
// It is plain data: safe to read from several goroutines, not to modify
// while others read it.
type Synthetic struct {
	// Input is the prompt length in tokens.
	Input Lengths `json:"input_tokens"`
	// Output is the response length in tokens, sent as num_predict. A
	// Mean of 0 sends no cap.
	Output Lengths `json:"output_tokens"`
	// Count is how many distinct prompts to make; requests cycle through
	// them. Default 256.
	Count int `json:"count,omitempty"`
	// Seed seeds the lengths and words.
	Seed uint64 `json:"seed"`
	// Tokenizer, when set, measures each prompt: words are added or
	// removed until the prompt encodes to the drawn length (or the
	// nearest a whole word allows), and InputTokens is the measured
	// count. Without one the length is approximated; see Approximate.
	Tokenizer Encoder `json:"-"`
}

// Approximate reports whether the prompts' lengths are approximated: true
// without a Tokenizer, when a prompt's length is taken as one token per
// word of a vocabulary of short common English words (which the BPE
// tokenizers of the Llama, Gemma and Qwen families encode as one token
// each, the leading space included). The server's prompt_eval_count in
// requests.jsonl is then the exact count, template included.
func (s Synthetic) Approximate() bool { return s.Tokenizer == nil }

// words are short, common English words, each one token (with its leading
// space) in the tokenizers of the common open model families.
var words = strings.Fields(`the of and to in is that for it as with was on be by at this
from or an are not have but all can one had they which you were her she there
has more will would time about when what up out so if some them other than then
now look only come its over think also back after use two how our work first
well way even new want because any these give day most us`)

// Items makes s.Count prompts. Its only errors are the Tokenizer's.
func (s Synthetic) Items() ([]Item, error) {
	n := s.Count
	if n <= 0 {
		n = 256
	}
	r := rand.New(rand.NewPCG(s.Seed, 0x6c6f61645f776b6c)) // "load_wkl"
	items := make([]Item, n)
	for i := range items {
		in := max(1, s.Input.draw(r))
		// The words are drawn for the longest prompt the fitting may
		// need, so the draw does not depend on the tokenizer.
		ws := make([]string, 2*in+8)
		for w := range ws {
			ws[w] = words[r.IntN(len(words))]
		}
		items[i] = Item{Prompt: strings.Join(ws[:in], " "), InputTokens: in, MaxTokens: s.Output.draw(r)}
		if s.Tokenizer != nil {
			var err error
			if items[i].Prompt, items[i].InputTokens, err = fit(s.Tokenizer, ws, in); err != nil {
				return nil, err
			}
		}
	}
	return items, nil
}

// fit returns the prompt of the most words of ws that encodes to at most
// want tokens, with its count: a first encode estimates the tokens per
// word, and single words are then added or removed.
func fit(enc Encoder, ws []string, want int) (string, int, error) {
	var err error
	count := func(k int) int {
		if err != nil {
			return 0
		}
		ids, e := enc.Encode(strings.Join(ws[:k], " "))
		if e != nil {
			err = fmt.Errorf("load: synthetic prompt: %w", e)
		}
		return len(ids)
	}
	k := min(want, len(ws))
	if c := count(k); c > 0 {
		k = min(max(1, int(math.Round(float64(k)*float64(want)/float64(c)))), len(ws))
	}
	c := count(k)
	for c > want && k > 1 && err == nil {
		k--
		c = count(k)
	}
	for k < len(ws) && err == nil {
		next := count(k + 1)
		if next > want {
			break
		}
		k, c = k+1, next
	}
	if err != nil {
		return "", 0, err
	}
	return strings.Join(ws[:k], " "), c, nil
}

// DatasetError is a dataset line that could not be used: which file, which
// line (from 1), and why.
//
// It is plain data: safe to read from several goroutines.
type DatasetError struct {
	File string
	Line int
	Err  error
}

func (e *DatasetError) Error() string {
	return fmt.Sprintf("load: dataset %s: line %d: %v", e.File, e.Line, e.Err)
}

func (e *DatasetError) Unwrap() error { return e.Err }

// datasetLine is one JSONL line: a prompt, or chat messages.
type datasetLine struct {
	Prompt    *string   `json:"prompt"`
	Messages  []message `json:"messages"`
	MaxTokens int       `json:"max_tokens"`
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ReadDatasetFile reads a JSONL dataset; see [ReadDataset].
func ReadDatasetFile(path string) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load: dataset: %w", err)
	}
	defer f.Close()
	return ReadDataset(f, path)
}

// ReadDataset reads JSONL from rd: one object per line with "prompt" (a
// string) or "messages" (chat messages with "role" and "content"), and
// optionally "max_tokens". Blank lines are skipped. Messages are sent as
// one prompt: a leading "system" message becomes the system prompt, and the
// others, in order, become a transcript ("role: content" lines) whose last
// line is the final user turn. name names the input in errors, each a
// *[DatasetError] with the line number.
func ReadDataset(rd io.Reader, name string) ([]Item, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var items []Item
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		it, err := parseDatasetLine(b)
		if err != nil {
			return nil, &DatasetError{File: name, Line: line, Err: err}
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		return nil, &DatasetError{File: name, Line: line + 1, Err: err}
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("load: dataset %s: no prompts", name)
	}
	return items, nil
}

func parseDatasetLine(b []byte) (Item, error) {
	var dl datasetLine
	if err := json.Unmarshal(b, &dl); err != nil {
		return Item{}, fmt.Errorf("not a JSON object: %w", err)
	}
	if dl.MaxTokens < 0 {
		return Item{}, fmt.Errorf("max_tokens %d is negative", dl.MaxTokens)
	}
	switch {
	case dl.Prompt != nil && dl.Messages != nil:
		return Item{}, errors.New(`both "prompt" and "messages"`)
	case dl.Prompt != nil:
		return Item{Prompt: *dl.Prompt, MaxTokens: dl.MaxTokens}, nil
	case len(dl.Messages) > 0:
		return fromMessages(dl.Messages, dl.MaxTokens)
	}
	return Item{}, errors.New(`no "prompt" or "messages"`)
}

func fromMessages(ms []message, maxTokens int) (Item, error) {
	it := Item{MaxTokens: maxTokens}
	if ms[0].Role == "system" {
		it.System, ms = ms[0].Content, ms[1:]
	}
	if len(ms) == 0 {
		return Item{}, errors.New(`"messages" has only a system message`)
	}
	if len(ms) == 1 {
		it.Prompt = ms[0].Content
		return it, nil
	}
	var b strings.Builder
	for i, m := range ms {
		if m.Role == "" {
			return Item{}, fmt.Errorf("message %d has no role", i)
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(m.Role)
		b.WriteString(": ")
		b.WriteString(m.Content)
	}
	it.Prompt = b.String()
	return it, nil
}
