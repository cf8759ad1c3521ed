package tokbench

import (
	"fmt"
	"slices"
	"strings"

	"tr117/tokenizer"
)

// Mismatch is the first place where a tokenizer's ids differ from a
// reference's (Hugging Face's own library, for Parity) on the same text.
// It implements error.
type Mismatch struct {
	Model     string `json:"model"`     // the tokenizer checked
	Reference string `json:"reference"` // the one it is checked against
	// Index is the first id that differs (or the shorter length, when one
	// sequence is a prefix of the other); Tokens and RefTokens the lengths.
	Index     int `json:"index"`
	Tokens    int `json:"tokens"`
	RefTokens int `json:"ref_tokens"`
	// Offset is the byte offset in the text where the reference's token at
	// Index starts, or -1 when neither tokenizer reports offsets.
	Offset int `json:"offset"`
	// Start is the index of the first id in IDs and RefIDs: up to
	// MismatchContext ids on each side of Index.
	Start  int     `json:"start"`
	IDs    []int32 `json:"ids"`
	RefIDs []int32 `json:"ref_ids"`
	// Text is the text around Offset (up to 40 bytes either side, cut at
	// character boundaries).
	Text string `json:"text,omitempty"`
}

// MismatchContext is the number of ids a Mismatch shows on each side of
// the first difference.
const MismatchContext = 8

func (m *Mismatch) Error() string {
	return fmt.Sprintf("tokbench: %s differs from %s at id %d of %d (%d for %s), byte offset %d (text %q): ids[%d:] %v, %s %v",
		m.Model, m.Reference, m.Index, m.Tokens, m.RefTokens, m.Reference, m.Offset, m.Text, m.Start, m.IDs, m.Reference, m.RefIDs)
}

// offsetEncoder is a tokenizer that also says where each token starts
// (byte offsets into the text): the hf-node backend.
type offsetEncoder interface {
	EncodeOffsets(text string) ([]int32, []int, error)
}

// Parity encodes text with tok and with ref and returns nil if the ids are
// equal, or a *Mismatch at the first difference. An encode that fails is
// returned as that error.
func Parity(text string, tok, ref Named) error {
	got, err := tok.Tokenizer.Encode(text)
	if err != nil {
		return err
	}
	var want []int32
	var offsets []int
	if oe, ok := ref.Tokenizer.(offsetEncoder); ok {
		want, offsets, err = oe.EncodeOffsets(text)
	} else {
		want, err = ref.Tokenizer.Encode(text)
	}
	if err != nil {
		return err
	}
	if slices.Equal(got, want) {
		return nil
	}
	i := 0
	for i < min(len(got), len(want)) && got[i] == want[i] {
		i++
	}
	m := &Mismatch{Model: tok.Name, Reference: ref.Name, Index: i, Tokens: len(got), RefTokens: len(want), Offset: -1}
	m.Start = max(0, i-MismatchContext)
	m.IDs = slices.Clone(got[m.Start:min(len(got), i+MismatchContext+1)])
	m.RefIDs = slices.Clone(want[m.Start:min(len(want), i+MismatchContext+1)])
	switch {
	case offsets != nil && i < len(offsets):
		m.Offset = offsets[i]
	case offsets != nil:
		m.Offset = len(text)
	}
	if m.Offset >= 0 {
		m.Text = around(text, m.Offset, 40)
	}
	return m
}

// around returns text within n bytes of off, cut at character boundaries.
func around(text string, off, n int) string {
	lo, hi := max(0, off-n), min(len(text), off+n)
	s := strings.ToValidUTF8(text[lo:hi], "")
	return s
}

// ParityResult is one tokenizer checked against Hugging Face's own library
// on the same file and corpus.
type ParityResult struct {
	Model     string `json:"model"`
	Backend   string `json:"backend"`
	Reference string `json:"reference"`
	Source    string `json:"source"`
	// Equal is true when the ids are equal on the whole corpus.
	Equal bool `json:"equal"`
	// Mismatch is the first difference when not Equal (nil if an encode
	// failed: see Error).
	Mismatch *Mismatch `json:"mismatch,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// CheckParity checks every tokenizer in toks against the tokenizer.BackendHFNode
// tokenizer of the same source file among them, on corpus.
func CheckParity(corpus string, toks []Named) []ParityResult {
	var out []ParityResult
	for _, ref := range toks {
		ri := ref.Tokenizer.Info()
		if ri.Backend != tokenizer.BackendHFNode {
			continue
		}
		for _, t := range toks {
			ti := t.Tokenizer.Info()
			if ti.Backend == tokenizer.BackendHFNode || !sameFile(ti.Source, ri.Source) {
				continue
			}
			pr := ParityResult{Model: t.Name, Backend: ti.Backend, Reference: ref.Name, Source: ri.Source}
			switch err := Parity(corpus, t, ref).(type) {
			case nil:
				pr.Equal = true
			case *Mismatch:
				pr.Mismatch = err
			default:
				pr.Error = err.Error()
			}
			out = append(out, pr)
		}
	}
	return out
}
