package tokbench

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func FuzzParseTokenizerJSON(f *testing.F) {
	bl := `{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}`
	f.Add([]byte(`{"added_tokens":[],"normalizer":null,"pre_tokenizer":`+bl+`,"model":{"type":"BPE","vocab":`+byteVocab("ab")+`,"merges":["a b"]}}`), "ab")
	f.Add([]byte(`{"added_tokens":[{"id":0,"content":"[UNK]","special":true}],"normalizer":{"type":"BertNormalizer"},"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","vocab":{"[UNK]":0,"a":1,"##b":2}}}`), "ab a+b")
	f.Add([]byte(`{"model":{"merges":[["a","b"]],"vocab":{"a":0,"b":1,"ab":2}}}`), "ab")
	f.Add([]byte(`{"model":{"vocab":{"a":5}}}`), "")
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":-1}}}`), "")
	f.Fuzz(func(t *testing.T, data []byte, text string) {
		tok, err := ParseTokenizerJSON(data, "fuzz")
		if err != nil {
			if tok != nil {
				t.Fatal("tokenizer and error")
			}
			return
		}
		if tok.Info().VocabSize <= 0 {
			t.Fatalf("vocab size %d", tok.Info().VocabSize)
		}
		if bytes.Contains(data, []byte("Regex")) {
			// A fuzzed split pattern can backtrack for ever, in Hugging
			// Face as here; only parsing is checked.
			return
		}
		ids, err := tok.Encode(text)
		if err != nil {
			return
		}
		for _, id := range ids {
			if id < 0 || int(id) >= tok.Info().VocabSize {
				t.Fatalf("id %d outside vocabulary of %d", id, tok.Info().VocabSize)
			}
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:` + strings.Repeat("a", 64) + `"}]}`))
	f.Add([]byte(`{"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:../../../etc/passwd"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseManifest(data)
		if err != nil {
			return
		}
		hex, ok := strings.CutPrefix(d, "sha256:")
		if !ok || len(hex) != 64 || strings.ContainsAny(hex, "/\\.") {
			t.Fatalf("accepted digest %q", d)
		}
	})
}

func FuzzParseModelName(f *testing.F) {
	for _, s := range []string{"gemma3:latest", "me/m:t", "h.io/ns/m:t", "../x", "a/b/c/d", "m:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseModelName(s)
		if err != nil {
			if !errors.Is(err, ErrNotModelName) {
				t.Fatalf("error %v does not wrap ErrNotModelName", err)
			}
			return
		}
		for _, p := range []string{n.Host, n.Namespace, n.Model, n.Tag} {
			if p == "" || p == "." || p == ".." || strings.ContainsAny(p, "/\\:") {
				t.Fatalf("%q parsed to unsafe part %q", s, p)
			}
		}
	})
}

func FuzzParseSentencePiece(f *testing.F) {
	f.Add([]byte{0x0a, 0x05, 0x0a, 0x01, 'a', 0x15, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := ParseSentencePiece(data, "fuzz")
		if err != nil {
			return
		}
		if _, err := tok.Encode("a b"); err != nil {
			t.Fatal(err)
		}
	})
}
