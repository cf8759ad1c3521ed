package suite

import (
	"strings"
	"testing"
)

// TestEndpointTextDevBuild: an Ollama built from source reports 0.0.0,
// which the report words as unknown rather than as a release.
func TestEndpointTextDevBuild(t *testing.T) {
	for _, tc := range []struct{ version, want string }{
		{"0.0.0", "Ollama unknown (development build, reports 0.0.0)"},
		{"0.6.5", "Ollama 0.6.5"},
	} {
		got := endpointText(Endpoint{URL: "http://127.0.0.1:11434", Version: tc.version})
		if !strings.Contains(got, tc.want) {
			t.Errorf("version %s: %q lacks %q", tc.version, got, tc.want)
		}
	}
}
