package tokenizer

import (
	"fmt"
	"os"

	"github.com/ollama/ollama/convert/sentencepiece"
	ollamatok "github.com/ollama/ollama/tokenizer"
	"google.golang.org/protobuf/proto"
)

// minSPMPieces guards Ollama's NewSentencePiece, which slices the first
// five pieces for a log line.
const minSPMPieces = 5

// LoadSentencePiece reads a SentencePiece tokenizer.model (Gemma's, for
// instance) onto Ollama's SentencePiece. Ollama implements the BPE model
// type with no normalization: a model of another type (Unigram), or one
// whose normalizer rewrites text (a precompiled charsmap, an added dummy
// prefix, whitespace folding) is refused with ErrUnsupported.
func LoadSentencePiece(path string) (Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return ParseSentencePiece(data, path)
}

// ParseSentencePiece is LoadSentencePiece on the file's contents.
func ParseSentencePiece(data []byte, source string) (Tokenizer, error) {
	var mp sentencepiece.ModelProto
	if err := proto.Unmarshal(data, &mp); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: not a SentencePiece model: %w", source, err)
	}
	if n := len(mp.GetPieces()); n < minSPMPieces {
		return nil, fmt.Errorf("tokenizer: %s: SentencePiece model has %d pieces, want at least %d", source, n, minSPMPieces)
	}
	if ts := mp.GetTrainerSpec(); ts.GetModelType() != sentencepiece.TrainerSpec_BPE {
		return nil, unsupported(source, "SentencePiece model type %s (Ollama implements BPE)", ts.GetModelType())
	}
	// Unset fields take the proto defaults, which are sentencepiece's.
	ns := mp.GetNormalizerSpec()
	{
		switch {
		case ns.GetAddDummyPrefix():
			return nil, unsupported(source, "SentencePiece add_dummy_prefix")
		case ns.GetRemoveExtraWhitespaces():
			return nil, unsupported(source, "SentencePiece remove_extra_whitespaces")
		case len(ns.GetPrecompiledCharsmap()) > 0:
			return nil, unsupported(source, "SentencePiece normalizer %q with a precompiled charsmap", ns.GetName())
		case !ns.GetEscapeWhitespaces():
			return nil, unsupported(source, "SentencePiece escape_whitespaces false")
		}
	}
	if ts := mp.GetTrainerSpec(); ts != nil && ts.GetTreatWhitespaceAsSuffix() {
		return nil, unsupported(source, "SentencePiece treat_whitespace_as_suffix")
	}
	var v ollamatok.Vocabulary
	userDefined := 0
	for _, p := range mp.GetPieces() {
		v.Values = append(v.Values, p.GetPiece())
		v.Scores = append(v.Scores, p.GetScore())
		switch t := p.GetType(); t {
		case sentencepiece.ModelProto_SentencePiece_UNKNOWN,
			sentencepiece.ModelProto_SentencePiece_CONTROL,
			sentencepiece.ModelProto_SentencePiece_UNUSED,
			sentencepiece.ModelProto_SentencePiece_BYTE:
			// The proto's enum values are the GGUF token types.
			v.Types = append(v.Types, int32(t))
		case sentencepiece.ModelProto_SentencePiece_NORMAL,
			sentencepiece.ModelProto_SentencePiece_USER_DEFINED:
			// Ollama's converter (convert/tokenizer_spm.go) writes
			// user-defined pieces as normal ones, and so does this loader.
			v.Types = append(v.Types, ollamatok.TOKEN_TYPE_NORMAL)
			if t == sentencepiece.ModelProto_SentencePiece_USER_DEFINED {
				userDefined++
			}
		default:
			return nil, fmt.Errorf("tokenizer: %s: piece %q has unknown type %d", source, p.GetPiece(), t)
		}
	}
	var notes []string
	if userDefined > 0 {
		notes = append(notes, fmt.Sprintf("%d user-defined pieces typed normal, as Ollama's converter types them", userDefined))
	}
	spm := ollamatok.NewSentencePiece(&v)
	return &ollamaTok{
		tok: spm,
		info: Info{
			Backend:   BackendOllama,
			Model:     "sentencepiece",
			Format:    "tokenizer.model",
			Source:    source,
			VocabSize: len(v.Values),
			Notes:     notes,
		},
	}, nil
}
