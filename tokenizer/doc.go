// Package tokenizer loads a model's tokenizer from wherever it is (a file,
// the local Ollama store, a running Ollama server, the Hugging Face cache)
// and encodes text with it.
//
// A [Tokenizer] encodes text to ids, with no special token added, and says
// where it came from ([Info]). The default backend ([BackendOllama]) is
// github.com/ollama/ollama/tokenizer, the pure-Go code Ollama's own engine
// runs, so counts and costs are what Ollama pays. Loaders put a file onto
// it:
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
//   - [LoadSentencePiece]: a SentencePiece tokenizer.model (Gemma);
//   - [LoadFile]: any of those files, told apart by content.
//
// A loader that cannot reproduce a file's pipeline exactly (an unsupported
// normalizer, pre-tokenizer or model option) returns an error wrapping
// [ErrUnsupported] that names it, never a tokenizer that gives other ids.
// Ollama's BPE pops pairs of equal merge rank from a heap in no set order,
// so on runs of one symbol its ids can differ from Hugging Face's;
// [BackendExact] ([LoadConfig].Backend) is the same pipeline with Hugging
// Face's merge order, for when ids must match.
//
// [Load] takes fallbacks in order (paths, Ollama model names,
// "http://HOST:PORT/MODEL" on an Ollama server ([ServerSource]), Hugging
// Face repo ids found in the local Hugging Face cache) and, when all fail,
// returns a [*LoadError] listing every place it looked ([LoadError.Short]
// is the same in one line). Only with [HubConfig].AllowDownload does it
// fetch a tokenizer.json from the Hub ([FetchTokenizerJSON]); otherwise the
// only requests are to the Ollama servers the caller names.
//
// [LoadHFNode] ([BackendHFNode]) is Hugging Face's own tokenizers library,
// the npm package "tokenizers" ([HFNodeVersion], the Rust core with
// prebuilt native bindings), in a child node process: it reads a
// tokenizer.json with the real library and can time its encodes inside
// the child. It needs node ([HFNodeMinNode] or later) and the package,
// installed by scripts/install-hf-tokenizers.sh into a cache directory
// ([HFNodeConfig].Dir, $TR117_HF_NODE_DIR); without them it is refused
// with [ErrNoHFNode], and nothing is downloaded at run time.
//
// [LoadHuggingFace] ([BackendHuggingFace]) is the same library through
// github.com/daulet/tokenizers and cgo, compiled only with the build tag
// hftokenizers; without it, it returns [ErrNoHuggingFace].
//
// [Fixtures] are real tokenizer files that the modules this package
// depends on carry as test data (Llama 3, Gemma 2, BERT), so a program can
// exercise every loader with no model on the machine.
//
// Concurrency: every Tokenizer a loader in this package returns may be
// used by several goroutines at once ([Func] is as safe as its Fn); call
// [Close] once, when no Encode is in flight. Configs, Info and the other
// plain values are safe to read concurrently, not to write.
package tokenizer
