package profiler

import (
	"bytes"
	"encoding/json"
)

// openaiChunk holds exactly the members chunkScanner reads from an OpenAI
// stream chunk. encoding/json decodes the data into it when the scanner
// declines; FuzzChunkScanner checks that both paths agree.
type openaiChunk struct {
	Choices []struct {
		Delta struct {
			Content          string `json:"content"`
			ReasoningContent string `json:"reasoning_content"`
			Reasoning        string `json:"reasoning"`
		} `json:"delta"`
		Text         string `json:"text"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Timings *Timings        `json:"timings"`
	Error   json.RawMessage `json:"error"`
}

// chunkScanner extracts openaiFields from one chunk's JSON without
// encoding/json and without allocating in the common case. Like
// lineScanner, it declines (and encoding/json decides) whatever it does
// not handle exactly as encoding/json would, and always declines chunks
// with "timings" or "error". Only the first choice is read: tr117 asks for
// one.
type chunkScanner struct {
	f                      openaiFields
	scratchC, scratchT, sF []byte
}

// decode fills s.f from b, by the scanner or else by encoding/json.
func (s *chunkScanner) decode(b []byte) (*openaiFields, error) {
	if s.scan(b) {
		return &s.f, nil
	}
	return s.decodeJSON(b)
}

// decodeJSON fills s.f from b with encoding/json: the slow path.
func (s *chunkScanner) decodeJSON(b []byte) (*openaiFields, error) {
	var c openaiChunk
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	s.f = openaiFields{noChoices: len(c.Choices) == 0, timings: c.Timings}
	if len(c.Choices) > 0 {
		ch := &c.Choices[0]
		s.f.content = []byte(ch.Delta.Content + ch.Text)
		s.f.thinking = []byte(ch.Delta.ReasoningContent + ch.Delta.Reasoning)
		s.f.finish = []byte(ch.FinishReason)
	}
	if c.Usage != nil {
		s.f.hasUsage, s.f.prompt, s.f.completion = true, c.Usage.PromptTokens, c.Usage.CompletionTokens
	}
	s.f.errMsg = errorText(c.Error)
	return &s.f, nil
}

// errorText is the message of an OpenAI error member: {"message": ...}
// or a plain string; nil for null or none.
func errorText(raw json.RawMessage) []byte {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var obj struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Message != "" {
		return []byte(obj.Message)
	}
	var str string
	if json.Unmarshal(raw, &str) == nil && str != "" {
		return []byte(str)
	}
	return raw
}

// scan parses b into s.f; false means "use encoding/json".
func (s *chunkScanner) scan(b []byte) bool {
	s.f = openaiFields{noChoices: true}
	_, ok := scanObject(b, skipWS(b, 0), 0, func(key []byte, i int) (int, bool) {
		switch string(key) {
		case "choices":
			return s.scanChoices(b, i)
		case "usage":
			return s.scanUsage(b, i)
		}
		if foldsTo(key, "choices", "usage", "timings", "error") {
			return i, false
		}
		return skipValue(b, i, 1)
	}, true)
	return ok
}

// scanChoices reads the choices array, the first element's members only.
func (s *chunkScanner) scanChoices(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '[' {
		return i, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	s.f.noChoices = false
	i, ok := scanObject(b, i, 2, func(key []byte, i int) (int, bool) {
		switch string(key) {
		case "delta":
			return scanObject(b, i, 3, func(key []byte, i int) (int, bool) {
				return s.deltaMember(b, key, i)
			}, false)
		case "text":
			if len(s.f.content) > 0 {
				return i, false // both: let encoding/json join them
			}
			return scanNullableString(b, i, &s.f.content, &s.scratchC)
		case "finish_reason":
			return scanNullableString(b, i, &s.f.finish, &s.sF)
		}
		if foldsTo(key, "delta", "text", "finish_reason") {
			return i, false
		}
		return skipValue(b, i, 3)
	}, false)
	if !ok {
		return i, false
	}
	for {
		i = skipWS(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ']':
			return i + 1, true
		case ',':
			// Later choices are validated and skipped.
			if i, ok = skipValue(b, skipWS(b, i+1), 2); !ok {
				return i, false
			}
		default:
			return i, false
		}
	}
}

// deltaMember reads one member of choices[0].delta.
func (s *chunkScanner) deltaMember(b, key []byte, i int) (int, bool) {
	switch string(key) {
	case "content":
		if len(s.f.content) > 0 {
			return i, false
		}
		return scanNullableString(b, i, &s.f.content, &s.scratchC)
	case "reasoning_content", "reasoning":
		if len(s.f.thinking) > 0 {
			return i, false // both: let encoding/json join them
		}
		return scanNullableString(b, i, &s.f.thinking, &s.scratchT)
	}
	if foldsTo(key, "content", "reasoning_content", "reasoning") {
		return i, false
	}
	return skipValue(b, i, 4)
}

// scanUsage reads the usage object (or null).
func (s *chunkScanner) scanUsage(b []byte, i int) (int, bool) {
	if j, ok := skipLiteral(b, i, "null"); ok {
		s.f.hasUsage = false
		return j, true
	}
	s.f.hasUsage = true
	s.f.prompt, s.f.completion = 0, 0
	return scanObject(b, i, 2, func(key []byte, i int) (int, bool) {
		switch string(key) {
		case "prompt_tokens":
			return scanInt(b, i, &s.f.prompt)
		case "completion_tokens":
			return scanInt(b, i, &s.f.completion)
		}
		if foldsTo(key, "prompt_tokens", "completion_tokens") {
			return i, false
		}
		return skipValue(b, i, 3)
	}, false)
}

// scanObject reads the object at b[i], calling member for each key with
// the position of its value; member returns the position after the value.
// With top set, the object must be all of b (but for white space).
func scanObject(b []byte, i, depth int, member func(key []byte, i int) (int, bool), top bool) (int, bool) {
	if i >= len(b) || b[i] != '{' || depth > maxScanDepth {
		return i, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return endObject(b, i, top)
	}
	for {
		key, j, ok := scanKey(b, i)
		if !ok {
			return i, false
		}
		if i, ok = member(key, j); !ok {
			return i, false
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return endObject(b, i, top)
		default:
			return i, false
		}
	}
}

func endObject(b []byte, i int, top bool) (int, bool) {
	if top {
		return i + 1, skipWS(b, i+1) == len(b)
	}
	return i + 1, true
}

// scanNullableString reads a string, or null (leaving *dst as it is, as
// encoding/json does).
func scanNullableString(b []byte, i int, dst, scratch *[]byte) (int, bool) {
	if j, ok := skipLiteral(b, i, "null"); ok {
		return j, true
	}
	return scanString(b, i, dst, scratch)
}

// scanInt reads a JSON integer that fits an int without doubt; it declines
// fractions, exponents and long numbers.
func scanInt(b []byte, i int, dst *int) (int, bool) {
	j, neg := i, false
	if j < len(b) && b[j] == '-' {
		neg, j = true, j+1
	}
	start, v := j, 0
	for j < len(b) && b[j] >= '0' && b[j] <= '9' && j-start < 18 {
		v = v*10 + int(b[j]-'0')
		j++
	}
	if j == start || (b[start] == '0' && j-start > 1) {
		return i, false
	}
	if j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E' || (b[j] >= '0' && b[j] <= '9')) {
		return i, false
	}
	if neg {
		v = -v
	}
	*dst = v
	return j, true
}

// foldsTo reports whether key matches one of names case-insensitively,
// as encoding/json would (exact matches are handled by the caller).
func foldsTo(key []byte, names ...string) bool {
	for _, n := range names {
		if len(key) == len(n) && bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	return false
}
