package tokenizer

import "errors"

// ErrNoHuggingFace is returned by LoadHuggingFace in a build without the
// hftokenizers tag. Build with -tags hftokenizers (and libtokenizers.a from
// github.com/daulet/tokenizers on the linker path) to enable the backend.
var ErrNoHuggingFace = errors.New("built without hftokenizers")
