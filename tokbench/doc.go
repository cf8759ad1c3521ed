// Package tokbench races tokenizers on the same text: TR117's question
// whether a model's tokenizer costs enough CPU to explain its slowdown
// (the seed's rule: more than 2× slower than another flags a CPU
// bottleneck).
//
// # Tokenizers
//
// A [Tokenizer] encodes text to ids, with no special token added, and says
// where it came from ([Info]). The default backend is
// github.com/ollama/ollama/tokenizer, the pure-Go code Ollama's own engine
// runs, so the bench measures what Ollama pays. Loaders put a file onto it:
//
//   - [LoadOllamaModel]: a model name in the local Ollama store
//     ($OLLAMA_MODELS or ~/.ollama/models: manifest → model layer → GGUF),
//     exactly the vocabulary Ollama runs for "gemma3:latest";
//   - [LoadFromServer]: a model as a running Ollama server serves it,
//     local or remote, from the GGUF metadata its POST /api/show returns
//     with "verbose": true: the same tokenizer LoadGGUF builds from the
//     model's file, with no access to the server's store;
//   - [LoadGGUF]: a GGUF file's tokenizer.ggml.* metadata, with the
//     pre-tokenizer Ollama's engine picks for its architecture;
//   - [LoadTokenizerJSON]: a Hugging Face tokenizer.json, byte-level BPE
//     (GPT-2, Llama 3, Qwen 2, with NFC if it asks) or WordPiece (BERT);
//   - [LoadEncoderJSON]: GPT-2 style encoder.json + vocab.bpe, which do not
//     record their split pattern: the one of a vocabulary it recognises
//     (GPT-2, Llama 3) or the one the caller names, never a guess;
//   - [LoadSentencePiece]: a SentencePiece tokenizer.model (Gemma).
//
// A loader that cannot reproduce a file's pipeline exactly (an unsupported
// normalizer, pre-tokenizer or model option) returns an error wrapping
// [ErrUnsupported] that names it, never a tokenizer that gives other ids.
// The Llama 3 tokenizer.json gives Hugging Face's count, 760,377 tokens for
// war-and-peace.txt. Ollama's BPE pops pairs of equal merge rank from a heap
// in no set order, so on runs of one symbol its ids can differ from Hugging
// Face's (20 of those 760,377 do); [BackendExact] ([LoadConfig].Backend) is
// the same pipeline with Hugging Face's merge order, for when ids must
// match.
//
// [Load] takes the seed's comma-separated fallbacks (paths, Ollama model
// names, "http://HOST:PORT/MODEL" on an Ollama server ([ServerSource]),
// Hugging Face repo ids found in the local Hugging Face cache) and,
// when all fail, a [*LoadError] listing every place it looked. Only with
// [HubConfig].AllowDownload does it fetch a tokenizer.json from the Hub
// ([FetchTokenizerJSON]); otherwise the only requests are to the Ollama
// servers the caller names.
//
// [LoadHFNode] ([BackendHFNode], "hf-node") is Hugging Face's own
// tokenizers library, the npm package "tokenizers" ([HFNodeVersion], the
// Rust core with prebuilt native bindings) in a child node process: it
// reads a tokenizer.json with the real library, and its passes are timed
// inside the child (the encode alone; a pass of several shards is one
// batch encode on [HFNodeConfig].Threads threads). It needs node
// ([HFNodeMinNode] or later) and the package, installed by
// scripts/install-hf-tokenizers.sh into a cache directory
// ([HFNodeConfig].Dir, $TR117_HF_NODE_DIR); without them it is refused
// with [ErrNoHFNode], and nothing is downloaded at run time. [Parity]
// and [CheckParity] hold any tokenizer's ids to it, reporting the first
// difference ([*Mismatch]) with its byte offset and the ids around it;
// [VersusHF] gives each tokenizer's speed ratio to it in the same run.
//
// [LoadHuggingFace] is the Hugging Face backend (the Rust tokenizers
// library through github.com/daulet/tokenizers and cgo). It is compiled
// only with the build tag hftokenizers; without it, it returns
// [ErrNoHuggingFace] ("built without hftokenizers").
//
// # The bench
//
// [Run] encodes one corpus ([SeedCorpus], the fixed [SeedSentence] repeated
// to a size, or any text) with each [Named] tokenizer: one warm-up, then
// [Config].Iterations timed passes, optionally as [Config].Parallel shards
// encoded at once (cut where a word starts, so the count is that of one
// call). Each [Result] carries tokens per pass, tokens/s,
// bytes/s, mean, p50 and p99 pass time and CV (computed by tr117/stats);
// [Compare] applies the 2× rule to every pair of different sources. A
// tokenizer whose passes fail (a child that crashed or hung) is listed in
// [Report].Failures and the others' results are kept. Counts exclude special
// tokens: the seed's encode added a BOS to each call, tokbench adds none.
//
// [WriteTable] writes the seed's tokenizer_bench.txt
// ("Model | Tokens/Sec | Latency (ms)"), [WriteBenchfmt] Go benchmark
// lines for benchstat, and [WriteFiles] all outputs into a directory.
// examples/tokbench is the command.
//
// Tokenizers from this package are safe for concurrent use; Run is safe to
// call concurrently with different arguments (it holds no shared state).
package tokbench
