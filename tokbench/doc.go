// Package tokbench races tokenizers on the same text, to answer whether a
// model's tokenizer costs enough CPU to explain its slowdown: a tokenizer
// that takes more than [Config].RuleFactor (2) times as long as another to
// encode the same text flags a CPU bottleneck.
//
// Tokenizers come from tr117/tokenizer (a file, the local Ollama store, an
// Ollama server, the Hugging Face cache, Hugging Face's own library in a
// child node process) or are any [tokenizer.Tokenizer]. A [Spec] names one
// with its fallback sources ([ParseSpec] reads "NAME[@BACKEND]=SOURCE,..."),
// [LoadAll] loads a list of them into [Named] tokenizers, [SeedSpecs] are
// the three models the TR117 study runs (Gemma 3, Qwen 2.5, Llama 3.1), and
// [LoadFixtures] loads [tokenizer.Fixtures], real tokenizer files from the
// Go module cache, when none of those is on the machine.
//
// [Run] encodes one corpus ([SeedCorpus]: [SeedSentence] repeated to a
// size, or any text) with each Named tokenizer: one warm-up, then
// [Config].Iterations timed passes, optionally as [Config].Parallel shards
// encoded at once (cut where a word starts, so the count is that of one
// call). A tokenizer that times its own encodes in another process (the
// hf-node backend) is timed there, without the transfer. Each [Result]
// carries tokens per pass, tokens/s, bytes/s, mean, p50 and p99 pass time
// and CV (computed by tr117/stats); [Compare] applies the rule to every
// pair of different sources, by pass time for the same text (tokens/s is
// given too, and named as what it is: it also depends on how many tokens
// each makes of the text). A tokenizer whose passes fail is listed in
// [Report].Failures and the others' results are kept. Counts exclude
// special tokens: no BOS or EOS is added to any call.
//
// [Parity] and [CheckParity] hold a tokenizer's ids to a reference's
// (Hugging Face's library, [tokenizer.BackendHFNode]), reporting the first
// difference ([*Mismatch]) with its byte offset and the ids around it;
// [VersusHF] gives each tokenizer's speed ratio to that library in the
// same run.
//
// [WriteTable] writes tokenizer_bench.txt ("Model | Tokens/Sec | Latency
// (ms)"), [WriteDetails] the per-tokenizer statistics, [WriteBenchfmt] Go
// benchmark lines for benchstat, and [WriteFiles] all of [OutputFiles]
// into a directory, which [CheckOutputDir] checks before a run.
// examples/tokbench is the command.
//
// Concurrency: Run, Compare, CheckParity and the writers hold no shared
// state and may be called concurrently with different arguments; Run
// encodes with the tokenizers it is given from its own goroutines (one per
// shard, all ended when it returns). Config, Report, Result and the other
// plain values are safe to read concurrently, not to write.
package tokbench
