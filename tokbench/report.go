package tokbench

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"unicode"

	"tr117/tokenizer"
)

// WriteTable writes tokenizer_bench.txt: a fixed-width table
// "Model | Tokens/Sec | Latency (ms)" (latency is the mean pass time),
// followed by the rule's verdicts and the counting convention.
func WriteTable(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	width := len("Model")
	for _, res := range r.Results {
		width = max(width, len(res.Model))
	}
	fmt.Fprintf(bw, "%-*s | %12s | %12s\n", width, "Model", "Tokens/Sec", "Latency (ms)")
	fmt.Fprintf(bw, "%s-+-%s-+-%s\n", strings.Repeat("-", width), strings.Repeat("-", 12), strings.Repeat("-", 12))
	for _, res := range r.Results {
		fmt.Fprintf(bw, "%-*s | %12.0f | %12.2f\n", width, res.Model, res.TokensPerSec, res.LatencyMs)
	}
	if len(r.Comparisons) > 0 {
		fmt.Fprintln(bw)
		for _, c := range r.Comparisons {
			fmt.Fprintln(bw, c.String())
		}
	}
	writeVersusHF(bw, r.VersusHF)
	writeParity(bw, r.Parity)
	if len(r.Failures) > 0 {
		fmt.Fprintln(bw, "\nNot measured (the others' results stand):")
		for _, f := range r.Failures {
			fmt.Fprintf(bw, "  %s (%s, %s): %s\n", f.Model, f.Backend, f.Source, f.Error)
		}
	}
	calls := ""
	if r.Config.Paragraphs {
		calls = ", paragraph by paragraph"
	}
	fmt.Fprintf(bw, "\nCorpus %d bytes, %d timed passes, %d shard(s)%s; %s.\n",
		r.CorpusBytes, r.Config.Iterations, r.Config.Parallel, calls, r.SpecialTokens)
	return bw.Flush()
}

// writeVersusHF writes each tokenizer's speed ratio to Hugging Face's own
// library, measured in the same run.
func writeVersusHF(w io.Writer, ratios []HFRatio) {
	if len(ratios) == 0 {
		return
	}
	fmt.Fprintln(w, "\nBeside Hugging Face's own library (same file, same corpus, same run; bytes/s ratio, above 1 is faster):")
	for _, v := range ratios {
		same := "same token count"
		if !v.SameTokens {
			same = "DIFFERENT token count"
		}
		fmt.Fprintf(w, "  %s (%s) runs at %.2f× the speed of %s (%s), %s\n", v.Model, v.Backend, v.SpeedRatio, v.HF, tokenizer.BackendHFNode, same)
	}
}

// writeParity writes each tokenizer's id check against Hugging Face's own
// library.
func writeParity(w io.Writer, ps []ParityResult) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintln(w, "\nIds against Hugging Face's own library on the whole corpus:")
	for _, p := range ps {
		switch {
		case p.Equal:
			fmt.Fprintf(w, "  %s (%s): equal to %s\n", p.Model, p.Backend, p.Reference)
		case p.Mismatch != nil:
			fmt.Fprintf(w, "  %s (%s): DIFFERS from %s: %s\n", p.Model, p.Backend, p.Reference, strings.TrimPrefix(p.Mismatch.Error(), "tokbench: "))
		default:
			fmt.Fprintf(w, "  %s (%s): not checked against %s: %s\n", p.Model, p.Backend, p.Reference, p.Error)
		}
	}
}

// WriteDetails writes a wider table: backend, tokens per pass, tokens/s, MB/s, mean,
// p50 and p99 pass time and CV, one row per tokenizer, then its source.
func WriteDetails(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	width := len("Model")
	for _, res := range r.Results {
		width = max(width, len(res.Model))
	}
	fmt.Fprintf(bw, "%-*s %-8s %10s %12s %8s %10s %10s %10s %6s\n", width, "Model", "backend", "tokens", "tok/s", "MB/s", "mean ms", "p50 ms", "p99 ms", "CV")
	for _, res := range r.Results {
		fmt.Fprintf(bw, "%-*s %-8s %10d %12.0f %8.3f %10.2f %10.2f %10.2f %6.3f\n", width, res.Model, res.Info.Backend, res.Tokens,
			res.TokensPerSec, res.BytesPerSec/1e6, res.LatencyMs, res.LatencyP50Ms, res.LatencyP99Ms, res.CV)
	}
	for _, res := range r.Results {
		fmt.Fprintf(bw, "  %s: %s %s from %s\n", res.Model, res.Info.Backend, res.Info.Model, res.Source)
		if res.Info.Library != "" {
			fmt.Fprintf(bw, "    %s\n", res.Info.Library)
		}
		for _, n := range res.Info.Notes {
			fmt.Fprintf(bw, "    %s\n", n)
		}
	}
	return bw.Flush()
}

// WriteBenchfmt writes the results in the Go benchmark format, one line per
// timed pass, so that two runs can be compared with benchstat:
//
//	BenchmarkTokenize/model=llama3/parallel=1  1  812345678 ns/op  1.29 MB/s  935678 tokens/s  760377 tokens/op
//
// The header carries goos, goarch, cpu count and the corpus size.
func WriteBenchfmt(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "goos: %s\ngoarch: %s\npkg: tr117/tokbench\ncpus: %d\ncorpus-bytes: %d\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), r.CorpusBytes)
	for _, res := range r.Results {
		name := "BenchmarkTokenize/model=" + benchName(res.Model) + "/parallel=" + strconv.Itoa(res.Parallel)
		for _, ms := range res.PassesMs {
			sec := ms / 1e3
			if !(sec > 0) {
				continue
			}
			fmt.Fprintf(bw, "%s \t1\t%.0f ns/op\t%.2f MB/s\t%.0f tokens/s\t%d tokens/op\n",
				name, ms*1e6, float64(res.Bytes)/sec/1e6, float64(res.Tokens)/sec, res.Tokens)
		}
	}
	return bw.Flush()
}

// benchName makes a model name a valid benchmark name part: no spaces, no
// '/' (which would nest sub-benchmarks).
func benchName(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '/' {
			return '_'
		}
		return r
	}, s)
}
