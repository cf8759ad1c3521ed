package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// expandMarks expands the marks that stand, in a fuzzed tokenizer.json,
// for long text every realistic input holds: "$B" for the 256 byte-level
// symbols with ids 0-255 (a byte-level BPE vocabulary needs them all) and
// "$L", "$Q", "$G" for the Llama 3, Qwen 2 and GPT-2 split patterns (as
// JSON string contents); the first of each is expanded. Kept out of the
// input, they keep the seeds, and what the fuzzer derives from them, near
// 200 bytes instead of 2-3 KB. That matters because the fuzzer minimizes
// each new interesting input with on the order of n² runs for n bytes:
// with the byte symbols written out every one took the whole
// -fuzzminimizetime (60 s), which the fuzzer shows as "0/sec" while its
// worker in fact runs thousands of inputs a second.
func expandMarks(data []byte) []byte {
	for _, m := range fuzzMarks() {
		data = bytes.Replace(data, []byte(m[0]), []byte(m[1]), 1)
	}
	return data
}

var fuzzMarks = sync.OnceValue(func() [][2]string {
	vocab := byteVocab()
	return [][2]string{
		{"$B", vocab[1 : len(vocab)-1]}, // the entries without braces
		{"$L", jsonContents(preLlama3)},
		{"$Q", jsonContents(preQwen2)},
		{"$G", jsonContents(preGPT2)},
	}
})

func jsonContents(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func FuzzParseTokenizerJSON(f *testing.F) {
	bl := `{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}`
	// See expandMarks; a mutation that drops a mark makes an input the
	// parser must refuse, which is fuzzed too.
	f.Add([]byte(`{"added_tokens":[],"normalizer":null,"pre_tokenizer":`+bl+`,"model":{"type":"BPE","vocab":{$B,"ab":256},"merges":["a b"]}}`), "ab")
	f.Add([]byte(`{"added_tokens":[{"id":257,"content":"<s>","special":true}],"normalizer":{"type":"NFC"},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"$L"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]},"model":{"type":"BPE","ignore_merges":true,"vocab":{$B,"ab":256},"merges":[["a","b"]]}}`), "<s>ab é")
	f.Add([]byte(`{"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"$Q"},"behavior":"Isolated"},{"type":"ByteLevel","use_regex":false}]},"model":{"type":"BPE","vocab":{$B},"merges":[]}}`), "Qwen 2 12345")
	f.Add([]byte(`{"added_tokens":[{"id":0,"content":"[UNK]","special":true}],"normalizer":{"type":"BertNormalizer"},"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","vocab":{"[UNK]":0,"a":1,"##b":2}}}`), "ab a+b")
	f.Add([]byte(`{"model":{"merges":[["a","b"]],"vocab":{"a":0,"b":1,"ab":2}}}`), "ab")
	f.Add([]byte(`{"model":{"vocab":{"a":5}}}`), "")
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":-1}}}`), "")
	f.Fuzz(func(t *testing.T, data []byte, text string) {
		tok, err := ParseTokenizerJSON(expandMarks(data), "fuzz")
		if err != nil {
			if tok != nil {
				t.Fatal("tokenizer and error")
			}
			return
		}
		if tok.Info().VocabSize <= 0 {
			t.Fatalf("vocab size %d", tok.Info().VocabSize)
		}
		// The Ollama backend takes only split patterns known to be
		// complete (preGPT2, preLlama3, preQwen2), so a fuzzed regex that
		// backtracks for ever never reaches Encode.
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
		d, err := parseManifest(data)
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

// FuzzParseEncoderJSON feeds encoder.json and vocab.bpe contents ("$B" in
// encoder.json stands for the 256 byte symbols, see expandMarks) with no
// split pattern named: a pair loads only as a vocabulary it recognises, and
// then encodes without error.
func FuzzParseEncoderJSON(f *testing.F) {
	f.Add([]byte(`{$B,"Ġt":256}`), []byte("#version: 0.2\nĠ t\n"), "the tiny cat")
	f.Add([]byte(`{$B}`), []byte(""), "a")
	f.Add([]byte(`{"a":0}`), []byte("a b c\n"), "")
	f.Add([]byte(`{$B,"<|x|>":300}`), []byte("Ġ"), "x")
	f.Fuzz(func(t *testing.T, enc, vb []byte, text string) {
		enc = expandMarks(enc)
		tok, err := parseEncoderJSON(enc, vb, "encoder.json", "vocab.bpe", "", BackendOllama)
		if err != nil {
			return
		}
		if notes := tok.Info().Notes; len(notes) == 0 || !strings.Contains(notes[0], "recognised") {
			t.Fatalf("loaded with no split pattern named and none recognised: notes %q", notes)
		}
		if !utf8.ValidString(text) {
			return
		}
		if _, err := tok.Encode(text); err != nil {
			t.Fatal(err)
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

func FuzzParseShow(f *testing.F) {
	f.Add([]byte(`{"model_info":{"general.architecture":"llama","tokenizer.ggml.model":"llama","tokenizer.ggml.tokens":["<unk>","<s>","</s>","▁a","b","▁ab"],"tokenizer.ggml.scores":[0,0,0,-1,-2,-0.5],"tokenizer.ggml.token_type":[2,3,3,1,1,1]}}`), "a b ab")
	f.Add([]byte(`{"model_info":{"general.architecture":"qwen2","tokenizer.ggml.model":"gpt2","tokenizer.ggml.pre":"qwen2","tokenizer.ggml.tokens":["a","b","ab","Ġ"],"tokenizer.ggml.token_type":[1,1,1,1],"tokenizer.ggml.merges":["a b"]}}`), "ab ab")
	f.Add([]byte(`{"model_info":{"general.architecture":"bert","tokenizer.ggml.model":"bert","tokenizer.ggml.tokens":["[UNK]","▁a","b"]}}`), "ab")
	f.Add([]byte(`{"model_info":{"tokenizer.ggml.tokens":null}}`), "")
	f.Fuzz(func(t *testing.T, data []byte, text string) {
		tok, err := parseShow(data, "http://h:1/m", "")
		if err != nil {
			if tok != nil {
				t.Fatal("tokenizer and error")
			}
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

func FuzzParseServerSource(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:11434/gemma3:latest", "https://h/hf.co/o/r:q4", "http://h:1/", "http://u@h/m", "ftp://h/m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		base, model, err := ParseServerSource(src)
		if err != nil {
			if !errors.Is(err, ErrNotServerSource) {
				t.Fatalf("error %v does not wrap ErrNotServerSource", err)
			}
			return
		}
		if _, err := ParseModelName(model); err != nil {
			t.Fatalf("%q: model %q: %v", src, model, err)
		}
		b2, m2, err := ParseServerSource(ServerSource(base, model))
		if err != nil || b2 != base || m2 != model {
			t.Fatalf("%q: round trip gives %q %q %v, want %q %q", src, b2, m2, err, base, model)
		}
	})
}
