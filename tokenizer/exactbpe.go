package tokenizer

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
	ollamatok "github.com/ollama/ollama/tokenizer"
)

// BackendExact is this package's own byte-level BPE: the same pre-tokenizer
// and vocabulary as the Ollama backend, with Hugging Face's merge order
// (lowest rank first, leftmost among equal ranks). Ollama's BPE pops
// equal-rank pairs from a heap in an unspecified order, so on runs of a
// repeated symbol ("!!!!!!!!", "aaaa…") its ids can differ from Hugging
// Face's; this backend's do not. Select it with LoadConfig.Backend.
const BackendExact = "exact"

// exactBPE is safe for concurrent use: it is read-only after construction.
type exactBPE struct {
	vocab        map[string]int32
	merges       map[[2]int32]mergeRule
	byteID       [256]int32
	regexes      []*regexp2.Regexp
	specials     []string // added tokens, longest first
	specialID    map[string]int32
	ignoreMerges bool
}

type mergeRule struct{ rank, id int32 }

func newExactBPE(v *ollamatok.Vocabulary, pre []string, ignoreMerges bool) (*exactBPE, error) {
	e := &exactBPE{
		vocab:        make(map[string]int32, len(v.Values)),
		merges:       make(map[[2]int32]mergeRule, len(v.Merges)),
		specialID:    map[string]int32{},
		ignoreMerges: ignoreMerges,
	}
	for i, s := range v.Values {
		switch v.Types[i] {
		case ollamatok.TOKEN_TYPE_CONTROL, ollamatok.TOKEN_TYPE_USER_DEFINED:
			e.specials = append(e.specials, s)
			e.specialID[s] = int32(i)
		}
		e.vocab[s] = int32(i)
	}
	sort.SliceStable(e.specials, func(i, j int) bool { return len(e.specials[i]) > len(e.specials[j]) })
	for b := 0; b < 256; b++ {
		e.byteID[b] = e.vocab[string(byteRune(byte(b)))] // checkByteLevel ran first
	}
	for rank, m := range v.Merges {
		l, r, _ := strings.Cut(m, " ")
		li, lok := e.vocab[l]
		ri, rok := e.vocab[r]
		id, ok := e.vocab[l+r]
		if !lok || !rok || !ok {
			continue // a merge whose parts or result are not tokens never applies
		}
		k := [2]int32{li, ri}
		if _, dup := e.merges[k]; !dup {
			e.merges[k] = mergeRule{int32(rank), id}
		}
	}
	for _, p := range pre {
		re, err := regexp2.Compile(p, regexp2.RE2)
		if err != nil {
			return nil, err
		}
		e.regexes = append(e.regexes, re)
	}
	return e, nil
}

func (e *exactBPE) Encode(text string) ([]int32, error) {
	ids := make([]int32, 0, len(text)/3)
	var st mergeState
	for len(text) > 0 {
		at, sp := e.nextSpecial(text)
		if at > 0 {
			var err error
			if ids, err = e.encodeSegment(ids, text[:at], &st); err != nil {
				return nil, err
			}
		}
		if sp == "" {
			break
		}
		ids = append(ids, e.specialID[sp])
		text = text[at+len(sp):]
	}
	return ids, nil
}

// nextSpecial returns the leftmost (then longest) added token in text.
func (e *exactBPE) nextSpecial(text string) (int, string) {
	best, tok := len(text), ""
	for _, s := range e.specials {
		limit := min(len(text), best+len(s))
		if i := strings.Index(text[:limit], s); i >= 0 && (i < best || i == best && len(s) > len(tok)) {
			best, tok = i, s
		}
	}
	return best, tok
}

// encodeSegment splits seg with the pre-tokenizer regexes (Isolated: each
// match and each gap between matches is a piece, as Hugging Face's Split
// and Ollama do) and merges each piece.
func (e *exactBPE) encodeSegment(ids []int32, seg string, st *mergeState) ([]int32, error) {
	pieces := []string{seg}
	for _, re := range e.regexes {
		var next []string
		for _, p := range pieces {
			r := []rune(p)
			off := 0
			m, err := re.FindRunesMatch(r)
			for ; m != nil && err == nil; m, err = re.FindNextMatch(m) {
				if m.Index > off {
					next = append(next, string(r[off:m.Index]))
				}
				next = append(next, string(r[m.Index:m.Index+m.Length]))
				off = m.Index + m.Length
			}
			if err != nil {
				return nil, err
			}
			if off < len(r) {
				next = append(next, string(r[off:]))
			}
		}
		pieces = next
	}
	for _, p := range pieces {
		ids = e.encodePiece(ids, p, st)
	}
	return ids, nil
}

// mergeState is scratch space reused across the pieces of one Encode.
type mergeState struct {
	buf  []byte
	syms []sym
	heap []cand
}

type sym struct {
	id         int32
	prev, next int32 // -1 at the ends
	dead       bool
}

type cand struct {
	rank, pos int32
	left, rgt int32 // ids the pair had when pushed
}

func (e *exactBPE) encodePiece(ids []int32, p string, st *mergeState) []int32 {
	if e.ignoreMerges {
		st.buf = st.buf[:0]
		for i := 0; i < len(p); i++ {
			st.buf = utf8.AppendRune(st.buf, byteRune(p[i]))
		}
		if id, ok := e.vocab[string(st.buf)]; ok {
			return append(ids, id)
		}
	}
	n := len(p)
	if n == 1 {
		return append(ids, e.byteID[p[0]])
	}
	st.syms = st.syms[:0]
	for i := 0; i < n; i++ {
		st.syms = append(st.syms, sym{id: e.byteID[p[i]], prev: int32(i - 1), next: int32(i + 1)})
	}
	st.syms[n-1].next = -1
	st.heap = st.heap[:0]
	for i := 0; i+1 < n; i++ {
		e.push(st, int32(i))
	}
	for len(st.heap) > 0 {
		c := popCand(&st.heap)
		a := &st.syms[c.pos]
		if a.dead || a.id != c.left || a.next < 0 {
			continue
		}
		b := &st.syms[a.next]
		if b.id != c.rgt {
			continue
		}
		a.id = e.merges[[2]int32{a.id, b.id}].id
		b.dead = true
		a.next = b.next
		if b.next >= 0 {
			st.syms[b.next].prev = c.pos
		}
		if a.prev >= 0 {
			e.push(st, a.prev)
		}
		e.push(st, c.pos)
	}
	for i := int32(0); i >= 0; i = st.syms[i].next {
		ids = append(ids, st.syms[i].id)
	}
	return ids
}

// push adds the pair starting at symbol pos, if a merge applies to it.
func (e *exactBPE) push(st *mergeState, pos int32) {
	a := st.syms[pos]
	if a.next < 0 {
		return
	}
	b := st.syms[a.next]
	m, ok := e.merges[[2]int32{a.id, b.id}]
	if !ok {
		return
	}
	pushCand(&st.heap, cand{rank: m.rank, pos: pos, left: a.id, rgt: b.id})
}

func candLess(x, y cand) bool { return x.rank < y.rank || x.rank == y.rank && x.pos < y.pos }

func pushCand(h *[]cand, c cand) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !candLess(s[i], s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func popCand(h *[]cand) cand {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && candLess(s[l], s[m]) {
			m = l
		}
		if r < len(s) && candLess(s[r], s[m]) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
