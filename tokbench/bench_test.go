package tokbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/perf/benchfmt"

	"tr117/tokenizer"
)

var update = flag.Bool("update", false, "rewrite golden files")

// words is a deterministic whitespace tokenizer: one id per word.
func words(name string) tokenizer.Func {
	return tokenizer.Func{Name: name, Fn: func(s string) ([]int32, error) {
		return make([]int32, len(strings.Fields(s))), nil
	}}
}

func TestSeedCorpus(t *testing.T) {
	for _, n := range []int{0, 1, 44, 45, 46, 1 << 20} {
		c := SeedCorpus(n)
		if len(c) != n || !strings.HasPrefix(SeedSentence+SeedSentence, c[:min(n, 2*len(SeedSentence))]) {
			t.Errorf("SeedCorpus(%d): len %d", n, len(c))
		}
	}
}

func TestShards(t *testing.T) {
	text := SeedCorpus(10007)
	for _, n := range []int{1, 2, 3, 7} {
		sh := cutShards(text, n)
		if len(sh) != n || strings.Join(sh, "") != text {
			t.Fatalf("cutShards(%d): %d pieces, rejoined equal %v", n, len(sh), strings.Join(sh, "") == text)
		}
		total := 0
		for i, s := range sh {
			if i > 0 && (!strings.HasPrefix(s, " ") || s[1] == ' ' || strings.HasSuffix(sh[i-1], " ")) {
				t.Errorf("shard %d/%d does not start at the space before a word: %q|%q", i, n, sh[i-1][max(0, len(sh[i-1])-10):], s[:min(len(s), 10)])
			}
			total += len(strings.Fields(s))
		}
		if total != len(strings.Fields(text)) {
			t.Errorf("cutShards(%d) split a word: %d words, want %d", n, total, len(strings.Fields(text)))
		}
	}
	if sh := cutShards("nospace", 3); strings.Join(sh, "") != "nospace" || len(sh) != 3 {
		t.Errorf("no whitespace: %q", sh)
	}
	// Without a space before a word past the ideal cut, any whitespace
	// will do; a cut never lands inside a character.
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"aa bb\ncc\ndd", []string{"aa bb\n", "cc\ndd"}},
		{"ab 12\n34", []string{"ab 12\n", "34"}},
		{"日本語 日本語", []string{"日本語", " 日本語"}},
		{"日本語日本語\t日本語", []string{"日本語日本語\t", "日本語"}},
	} {
		if got := cutShards(tc.text, 2); !slices.Equal(got, tc.want) {
			t.Errorf("cutShards(%q, 2) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// TestShardsKeepTheEncoding checks that the shards' ids laid end to end are
// the ids of one call, for every kind of tokenizer, so that --parallel
// counts what one call counts.
func TestShardsKeepTheEncoding(t *testing.T) {
	novel := warAndPeace(t)
	for _, tc := range []struct {
		name string
		tok  tokenizer.Tokenizer
		size int
	}{
		{"llama3", llama3JSON(t), 512 << 10},
		{"llama3-exact", llama3Exact(t), 512 << 10},
		{"gemma2", gemma2(t), 128 << 10},
		{"bert", bert(t), 256 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if raceEnabled {
				tc.size /= 16
			}
			// A window from the middle: chapter headings, dialogue, numbers.
			text := novel[len(novel)/3:]
			text = text[:strings.LastIndexByte(text[:tc.size], '\n')+1]
			want := encode(t, tc.tok, text)
			for _, n := range []int{2, 3, 16} {
				var got []int32
				for _, s := range cutShards(text, n) {
					got = append(got, encode(t, tc.tok, s)...)
				}
				if !slices.Equal(got, want) {
					i := 0
					for i < min(len(got), len(want)) && got[i] == want[i] {
						i++
					}
					t.Errorf("%d shards: %d ids, one call %d; first difference at id %d", n, len(got), len(want), i)
				}
			}
		})
	}
}

func TestRun(t *testing.T) {
	corpus := SeedCorpus(4500) // 100 sentences, 900 words
	var passes []Pass
	rep, err := Run(context.Background(), corpus, []Named{
		{"a", words("a")},
		{"b", words("b")},
	}, Config{Iterations: 4, Parallel: 3, Progress: func(p Pass) { passes = append(passes, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(passes) != 2*5 || passes[0].Index != -1 || passes[4].Index != 3 {
		t.Errorf("progress: %+v", passes)
	}
	if len(rep.Results) != 2 || len(rep.Comparisons) != 1 {
		t.Fatalf("report %+v", rep)
	}
	for _, r := range rep.Results {
		if r.Tokens != 900 || len(r.PassesMs) != 4 || r.Bytes != 4500 || r.Parallel != 3 || r.Source == "" {
			t.Errorf("result %+v", r)
		}
		if !(r.TokensPerSec > 0 && r.BytesPerSec > 0 && r.LatencyP99Ms >= r.LatencyP50Ms) {
			t.Errorf("rates %+v", r)
		}
	}
	// The JSON has the fields the issue names, and no NaN.
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"model"`, `"source"`, `"tokens"`, `"tokens_per_sec"`, `"bytes_per_sec"`, `"latency_ms"`, `"special_tokens"`} {
		if !bytes.Contains(data, []byte(k)) {
			t.Errorf("JSON lacks %s", k)
		}
	}
}

func TestRunErrors(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	var calls atomic.Int32
	flaky := tokenizer.Func{Name: "flaky", Fn: func(s string) ([]int32, error) {
		// Different counts on different passes.
		return make([]int32, calls.Add(1)), nil
	}}
	for name, tc := range map[string]struct {
		toks []Named
		cfg  Config
		want string
	}{
		"error":         {[]Named{{"x", tokenizer.Func{Fn: func(string) ([]int32, error) { return nil, boom }}}}, Config{Parallel: 2}, "boom"},
		"deterministic": {[]Named{{"flaky", flaky}}, Config{}, "not deterministic"},
		"none":          {nil, Config{}, "no tokenizers"},
		"dup":           {[]Named{{"a", words("a")}, {"a", words("a")}}, Config{}, "twice"},
		"iterations":    {[]Named{{"a", words("a")}}, Config{Iterations: -1}, "iterations"},
		"factor":        {[]Named{{"a", words("a")}}, Config{RuleFactor: 0.5}, "rule factor"},
	} {
		_, err := Run(ctx, "some text here", tc.toks, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Run(cctx, "text", []Named{{"a", words("a")}}, Config{Parallel: 2}); err != context.Canceled {
		t.Errorf("cancelled: %v", err)
	}
}

func TestCompare(t *testing.T) {
	res := []Result{
		{Model: "gemma", LatencyMs: 100, TokensPerSec: 1000},
		{Model: "qwen", LatencyMs: 250, TokensPerSec: 480},
		{Model: "llama", LatencyMs: 150, TokensPerSec: 700},
	}
	got := Compare(res, 0)
	if len(got) != 3 {
		t.Fatalf("%d comparisons", len(got))
	}
	first := got[0]
	if first.Faster != "gemma" || first.Slower != "qwen" || first.TimeRatio != 2.5 || !first.Flagged || first.Factor != 2 {
		t.Errorf("first = %+v", first)
	}
	for _, c := range got[1:] {
		if c.Flagged {
			t.Errorf("%+v flagged", c)
		}
	}
	if !strings.Contains(first.String(), "FLAGGED") || !strings.Contains(first.String(), "2.50×") {
		t.Errorf("String() = %q", first.String())
	}
}

// Two ratios in one sentence must say which one the rule judges (issue
// 12: "10.39× slower … (tokens/s ratio 54.85)" left the reader guessing).
func TestComparisonSaysWhichRatio(t *testing.T) {
	for _, c := range []Comparison{
		{Faster: "tinysrv", Slower: "gemma2", TimeRatio: 10.39, TokensPerSecRatio: 54.85, Factor: 2, Flagged: true},
		{Faster: "tinysrv", Slower: "gemma2", TimeRatio: 10.39, TokensPerSecRatio: 54.85, Factor: 2, Flagged: true, Fixture: true},
	} {
		s := c.String()
		for _, want := range []string{"10.39× as long as tinysrv", "the ratio the 2× rule judges: more than 2× as long on the same text flags a CPU bottleneck", "tokens/s ratio 54.85", "not the rule's measure"} {
			if !strings.Contains(s, want) {
				t.Errorf("String() = %q: lacks %q", s, want)
			}
		}
	}
}

// Module-cache fixtures are real tokenizers but not the models a run asks
// about: the rule's arithmetic stands, labelled so no one reads a finding.
func TestCompareFixtures(t *testing.T) {
	res := []Result{
		{Model: "gemma2", LatencyMs: 500, TokensPerSec: 100, Info: tokenizer.Info{Fixture: true}},
		{Model: "bert-base-uncased", LatencyMs: 100, TokensPerSec: 500, Info: tokenizer.Info{Fixture: true}},
		{Model: "qwen", LatencyMs: 300, TokensPerSec: 170},
	}
	for _, c := range Compare(res, 2) {
		fixture := c.Slower == "gemma2" || c.Faster == "gemma2" || c.Slower == "bert-base-uncased" || c.Faster == "bert-base-uncased"
		if c.Fixture != fixture {
			t.Errorf("%s vs %s: Fixture %v, want %v", c.Slower, c.Faster, c.Fixture, fixture)
		}
		s := c.String()
		if fixture && (strings.Contains(s, "FLAGGED") || !strings.Contains(s, "fixture") || !strings.Contains(s, "not a finding")) {
			t.Errorf("String() = %q: want it labelled as fixtures, not a finding", s)
		}
		if c.Flagged != (c.TimeRatio > 2) {
			t.Errorf("%+v: Flagged is the ratio against the factor", c)
		}
	}
}

// goldenReport is a fixed report for the writers' golden files.
func goldenReport() *Report {
	res := []Result{
		{Model: "gemma3:latest", Source: "ollama:gemma3:latest (/m/blobs/sha256-aa)", Info: tokenizer.Info{Backend: "ollama", Model: "sentencepiece", Source: "ollama:gemma3:latest (/m/blobs/sha256-aa)"},
			Tokens: 233017, Bytes: 1048576, TokensPerSec: 930000, BytesPerSec: 4.2e6, LatencyMs: 250.5, LatencyP50Ms: 250, LatencyP99Ms: 260, CV: 0.02, PassesMs: []float64{250, 241.5, 260}, Parallel: 1},
		{Model: "qwen2.5:7b", Source: "/x/tokenizer.json", Info: tokenizer.Info{Backend: "ollama", Model: "bpe", Source: "/x/tokenizer.json", Notes: []string{"normalizer NFC applied before encoding"}},
			Tokens: 233016, Bytes: 1048576, TokensPerSec: 400000, BytesPerSec: 1.8e6, LatencyMs: 582.5, LatencyP50Ms: 580, LatencyP99Ms: 590, CV: 0.01, PassesMs: []float64{580, 577.5, 590}, Parallel: 1},
	}
	hf := Result{Model: "qwen-hf", Source: "/x/tokenizer.json", Info: tokenizer.Info{Backend: tokenizer.BackendHFNode, Model: "bpe", Source: "/x/tokenizer.json", Library: "Hugging Face tokenizers 0.23.2 (npm) on Node.js v20.20.2"},
		Tokens: 233016, Bytes: 1048576, TokensPerSec: 200000, BytesPerSec: 0.9e6, LatencyMs: 1165, LatencyP50Ms: 1160, LatencyP99Ms: 1180, CV: 0.01, PassesMs: []float64{1160, 1155, 1180}, Parallel: 1}
	res = append(res, hf)
	return &Report{Config: Config{Iterations: 3, Parallel: 1, RuleFactor: 2}, CorpusBytes: 1048576, Results: res,
		Comparisons: Compare(res, 2), VersusHF: VersusHF(res), SpecialTokens: specialTokensNote,
		Failures: []RunFailure{{Model: "llama-hf", Backend: tokenizer.BackendHFNode, Source: "/y/tokenizer.json", Error: "tokbench: /y/tokenizer.json: backend hf-node: no answer from node in 5m0s"}}}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestWriters(t *testing.T) {
	rep := goldenReport()
	var table, details, bench bytes.Buffer
	if err := WriteTable(&table, rep); err != nil {
		t.Fatal(err)
	}
	golden(t, "tokenizer_bench.txt", table.Bytes())
	if err := WriteDetails(&details, rep); err != nil {
		t.Fatal(err)
	}
	golden(t, "details.txt", details.Bytes())
	if err := WriteBenchfmt(&bench, rep); err != nil {
		t.Fatal(err)
	}
	// benchstat's parser reads every pass as one result with our units.
	br := benchfmt.NewReader(bytes.NewReader(bench.Bytes()), "bench")
	n := 0
	for br.Scan() {
		switch r := br.Result().(type) {
		case *benchfmt.Result:
			n++
			if _, ok := r.Value("tokens/s"); !ok {
				t.Errorf("result without tokens/s: %s", r.Name)
			}
			if v, ok := r.Value("sec/op"); !ok || !(v > 0) {
				t.Errorf("result without sec/op: %s", r.Name)
			}
		case *benchfmt.SyntaxError:
			t.Errorf("benchfmt: %v", r)
		}
	}
	if n != 9 {
		t.Errorf("benchfmt read %d results, want 9", n)
	}
	// The header names the machine; the lines are fixed.
	var lines []string
	for _, l := range strings.Split(bench.String(), "\n") {
		if strings.HasPrefix(l, "Benchmark") {
			lines = append(lines, l)
		}
	}
	golden(t, "benchfmt.txt", []byte(strings.Join(lines, "\n")+"\n"))
}

// WriteFiles, and CheckOutputDir before any work, refuse to replace
// earlier results unless told to.
func TestWriteFilesOverwrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := CheckOutputDir(dir, false); err != nil {
		t.Fatalf("missing directory: %v", err)
	}
	if err := WriteFiles(dir, goldenReport(), false); err != nil {
		t.Fatal(err)
	}
	for _, f := range OutputFiles() {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	for name, err := range map[string]error{
		"CheckOutputDir": CheckOutputDir(dir, false),
		"WriteFiles":     WriteFiles(dir, goldenReport(), false),
	} {
		if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s over earlier results: %v; want fs.ErrExist naming %s", name, err, dir)
		}
	}
	if err := CheckOutputDir(dir, true); err != nil {
		t.Error(err)
	}
	if err := WriteFiles(dir, goldenReport(), true); err != nil {
		t.Error(err)
	}
	file := filepath.Join(dir, TableFile)
	if err := CheckOutputDir(file, true); err == nil {
		t.Errorf("a file as the output directory: no error")
	}
}

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		in      string
		name    string
		backend string
		sources []string
		ok      bool
	}{
		{"qwen=qwen2.5:7b, Qwen/Qwen2.5-7B-Instruct", "qwen", "", []string{"qwen2.5:7b", "Qwen/Qwen2.5-7B-Instruct"}, true},
		{"llama3@exact=/x/tokenizer.json", "llama3@exact", tokenizer.BackendExact, []string{"/x/tokenizer.json"}, true},
		{"a@rust=x", "", "", nil, false},
		{"=x", "", "", nil, false},
		{"a=", "", "", nil, false},
		{"noequals", "", "", nil, false},
	} {
		sp, err := ParseSpec(tc.in)
		if (err == nil) != tc.ok || tc.ok && (sp.Name != tc.name || sp.Backend != tc.backend || !slices.Equal(sp.Sources, tc.sources)) {
			t.Errorf("ParseSpec(%q) = %+v, %v", tc.in, sp, err)
		}
	}
}

// One file on two backends is not two models: no rule verdict, only the
// ratio to Hugging Face's library.
func TestCompareSameFile(t *testing.T) {
	res := []Result{
		{Model: "llama3", LatencyMs: 100, TokensPerSec: 1000, BytesPerSec: 4000, Tokens: 10, Info: tokenizer.Info{Backend: tokenizer.BackendExact, Source: "/t.json"}},
		{Model: "llama3-hf", LatencyMs: 300, TokensPerSec: 333, BytesPerSec: 1000, Tokens: 10, Info: tokenizer.Info{Backend: tokenizer.BackendHFNode, Source: "/t.json"}},
		{Model: "bert", LatencyMs: 50, TokensPerSec: 2000, BytesPerSec: 8000, Tokens: 9, Info: tokenizer.Info{Backend: tokenizer.BackendOllama, Source: "/b.json"}},
	}
	for _, c := range Compare(res, 2) {
		if c.Slower == "llama3-hf" && c.Faster == "llama3" {
			t.Errorf("same file compared by the rule: %+v", c)
		}
	}
	v := VersusHF(res)
	if len(v) != 1 || v[0].Model != "llama3" || v[0].HF != "llama3-hf" || v[0].SpeedRatio != 4 || !v[0].SameTokens {
		t.Errorf("VersusHF = %+v", v)
	}
}

func TestParagraphs(t *testing.T) {
	for _, text := range []string{"", "one", "a\n\nb", "a\n\n\n  b\n\nc\n\n", "\n\nx"} {
		ps := Paragraphs(text)
		if strings.Join(ps, "") != text {
			t.Errorf("%q: pieces %q do not add up", text, ps)
		}
		for _, p := range ps[:max(0, len(ps)-1)] {
			if !strings.Contains(p, "\n\n") {
				t.Errorf("%q: piece %q not cut after a blank line", text, p)
			}
		}
	}
	if got := Paragraphs("a\n\n\n  b\n\nc"); len(got) != 3 || got[0] != "a\n\n\n  " {
		t.Errorf("pieces %q", got)
	}
	// Run with Paragraphs counts the pieces' tokens, one call each.
	var calls atomic.Int32
	counting := tokenizer.Func{Name: "n", Fn: func(s string) ([]int32, error) { calls.Add(1); return make([]int32, len(strings.Fields(s))), nil }}
	rep, err := Run(context.Background(), "a b\n\nc d\n\ne f g", []Named{{"n", counting}}, Config{Iterations: 1, Paragraphs: true, NoWarmUp: true})
	if err != nil || rep.Results[0].Tokens != 7 || calls.Load() != 3 {
		t.Errorf("tokens %v, %d calls (%v)", rep.Results, calls.Load(), err)
	}
}
