package tokbench

import (
	"context"
	"strconv"
	"testing"

	"tr117/tokenizer"
)

// BenchmarkEncode is the throughput of Ollama's tokenizers on
// war-and-peace.txt (3.2 MB), one Encode per op. MB/s comes from SetBytes;
// tok/s is reported alongside. Gemma 2's SentencePiece takes tens of
// seconds per op: run with -benchtime=1x.
func BenchmarkEncode(b *testing.B) {
	text := warAndPeace(b)
	for _, tc := range []struct {
		name string
		tok  func(testing.TB) tokenizer.Tokenizer
	}{
		{"llama3-tokenizer.json", llama3JSON},
		{"llama3-tokenizer.json-exact", llama3Exact},
		{"llama3.2-encoder.json", llama3Encoder},
		{"gemma2-tokenizer.model", gemma2},
		{"bert-tokenizer.json", bert},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tok := tc.tok(b)
			n := len(encode(b, tok, text[:10000])) // builds lazy tables
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				ids, err := tok.Encode(text)
				if err != nil {
					b.Fatal(err)
				}
				n = len(ids)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
			b.ReportMetric(float64(n), "tokens/op")
		})
	}
}

// BenchmarkHarness is Run's own cost per pass: a tokenizer that returns a
// fixed slice, so every nanosecond is the harness (timing, shard fan-out,
// progress, bookkeeping, the final summary amortised). Compare with a
// real pass from BenchmarkEncode or BenchmarkParallel.
func BenchmarkHarness(b *testing.B) {
	ids := make([]int32, 1000)
	trivial := tokenizer.Func{Name: "trivial", Fn: func(string) ([]int32, error) { return ids, nil }}
	corpus := SeedCorpus(1 << 20)
	for _, par := range []int{1, 2} {
		b.Run("parallel="+strconv.Itoa(par), func(b *testing.B) {
			b.ReportAllocs()
			_, err := Run(context.Background(), corpus, []Named{{"t", trivial}}, Config{Iterations: b.N, Parallel: par, NoWarmUp: true, Progress: func(Pass) {}})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkParallel encodes war-and-peace as 1 and 2 shards at once with
// the Llama 3 tokenizer, one pass per op: the MB/s ratio of parallel=2 to
// parallel=1 is the multi-core scaling.
func BenchmarkParallel(b *testing.B) {
	text := warAndPeace(b)
	tok := llama3JSON(b)
	encode(b, tok, text[:10000])
	for _, par := range []int{1, 2} {
		b.Run("parallel="+strconv.Itoa(par), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			rep, err := Run(context.Background(), text, []Named{{"llama3", tok}}, Config{Iterations: b.N, Parallel: par, NoWarmUp: true})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(rep.Results[0].TokensPerSec, "tok/s")
		})
	}
}

// BenchmarkHFNode is Hugging Face's own library (the npm package, in a
// child node process) on war-and-peace.txt, beside BenchmarkEncode's
// tr117 backends on the same files: encode-MB/s is the throughput the
// child measured around the encode alone (ns/op also holds the pipe
// transfer). parallel=2 is one batch encode of two shards on two threads.
// Run with -benchtime=1x or 3x: an op takes seconds.
func BenchmarkHFNode(b *testing.B) {
	text := warAndPeace(b)
	for _, tc := range []struct{ name, file string }{
		{"llama3-tokenizer.json", "test/data/Meta-Llama-3-8B-Instruct.json"},
		{"bert-tokenizer.json", "test/data/bert-base-uncased.json"},
	} {
		for _, par := range []int{1, 2} {
			b.Run(tc.name+"/parallel="+strconv.Itoa(par), func(b *testing.B) {
				h := hfNode(b, testdata(b, tokenizer.HFTokenizersModule, tc.file), tokenizer.HFNodeConfig{Threads: par}).(selfTimed)
				shards := cutShards(text, par)
				if _, _, err := h.EncodeTimed(shards); err != nil { // warm-up
					b.Fatal(err)
				}
				var encodeNs float64
				b.SetBytes(int64(len(text)))
				b.ResetTimer()
				for b.Loop() {
					_, d, err := h.EncodeTimed(shards)
					if err != nil {
						b.Fatal(err)
					}
					encodeNs += float64(d)
				}
				b.ReportMetric(float64(len(text))*float64(b.N)/(encodeNs/1e9)/1e6, "encode-MB/s")
			})
		}
	}
}
