package ollamatest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzHandler feeds arbitrary request bodies to every endpoint: the handler
// must answer each with a known status and, when it answers JSON, with lines
// that are all valid JSON.
func FuzzHandler(f *testing.F) {
	for _, s := range []string{
		`{"model":"tiny","prompt":"hi","options":{"num_predict":3}}`,
		`{"model":"tiny","prompt":"hi","stream":false,"keep_alive":"1m","options":{"num_predict":2,"seed":7}}`,
		`{"model":"tiny","messages":[{"role":"user","content":"x"}],"options":{"num_predict":2}}`,
		`{"model":"tiny","keep_alive":0}`,
		`{"model":"tiny","keep_alive":-1}`,
		`{"model":"TINY:Latest","prompt":"<&>"}`,
		`{"model":"nope"}`, `{bad`, ``, `null`, `[]`, `{"options":{"num_predict":"x"}}`,
	} {
		for p := range 4 {
			f.Add(uint8(p), s)
		}
	}
	paths := []string{"/api/generate", "/api/chat", "/api/show", "/api/tags"}
	h := NewHandler(Config{Unpaced: true, ResponseTokens: 4})
	f.Fuzz(func(t *testing.T, p uint8, body string) {
		path := paths[int(p)%len(paths)]
		method := http.MethodPost
		if path == "/api/tags" {
			method = http.MethodGet
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		switch rec.Code {
		case 200, 400, 404:
		default:
			t.Fatalf("%s %q: status %d", path, body, rec.Code)
		}
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/") {
			t.Fatalf("%s %q: content type %q", path, body, rec.Header().Get("Content-Type"))
		}
		for _, line := range bytes.Split(bytes.TrimRight(rec.Body.Bytes(), "\n"), []byte("\n")) {
			if !json.Valid(line) {
				t.Fatalf("%s %q: invalid line %q", path, body, line)
			}
		}
	})
}
