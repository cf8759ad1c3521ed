package load

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func FuzzReadDataset(f *testing.F) {
	f.Add([]byte(`{"prompt": "hi", "max_tokens": 3}` + "\n"))
	f.Add([]byte(`{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]}` + "\n\n"))
	f.Add([]byte(`{"prompt": "a", "messages": []}`))
	f.Add([]byte("{\"prompt\": \"a\"}\nnot json\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := ReadDataset(bytes.NewReader(b), "f.jsonl")
		if err != nil {
			var de *DatasetError
			if errors.As(err, &de) {
				if lines := bytes.Count(b, []byte("\n")) + 1; de.Line < 1 || de.Line > lines+1 {
					t.Fatalf("line %d of a %d-line input", de.Line, lines)
				}
			}
			return
		}
		for _, it := range items {
			if it.MaxTokens < 0 {
				t.Fatalf("negative max_tokens %d", it.MaxTokens)
			}
		}
	})
}

func FuzzParseSegment(f *testing.F) {
	for _, s := range []string{"0/1", "3/4", "3/2", "-1/2", "1/0", "", "x", "1/2/3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseSegment(s)
		if err != nil {
			return
		}
		if s != "" && (g.Count < 1 || g.Index < 0 || g.Index >= g.Count) {
			t.Fatalf("%q accepted as %+v", s, g)
		}
		owned := 0
		for k := range 2 * max(g.Count, 1) {
			if g.Owns(k) {
				owned++
			}
		}
		if want := 2; g.Count > 1 && owned != want {
			t.Fatalf("%+v owns %d of %d", g, owned, 2*g.Count)
		}
	})
}

func FuzzParseSLO(f *testing.F) {
	for _, s := range []string{"ttft:500ms,tpot:50ms,e2e:10s", "e2el:1s", "ttft:", ":1s", "TTFT:1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		slo, err := ParseSLO(s)
		if err == nil && (slo.IsZero() || slo.TTFT < 0 || slo.TPOT < 0 || slo.E2E < 0) {
			t.Fatalf("%q parsed as %+v", s, slo)
		}
	})
}

func FuzzReadRecords(f *testing.F) {
	f.Add(`{"id":1,"scheduled_ms":0,"sent_ms":1,"ttft_ms":null,"e2e_ms":3,"error":""}` + "\n")
	f.Add("{\"id\":1}\n{\"id\":")
	f.Fuzz(func(t *testing.T, s string) {
		recs, err := ReadRecords(strings.NewReader(s), "r.jsonl")
		if err == nil && len(recs) > strings.Count(s, "\n")+1 {
			t.Fatalf("%d records from %d lines", len(recs), strings.Count(s, "\n")+1)
		}
	})
}
