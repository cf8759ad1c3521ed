// Package simmark is how tr117's Ollama simulator (tr117/profiler/ollamatest)
// marks its answers, so that whatever records an endpoint (the suite's
// manifest and report, the profiler's run files) can tell simulated data
// from real, wherever the simulator listens.
//
// Every response of the simulator carries [Header] (real Ollama never sends
// it), and its /api/version ends in [VersionSuffix].
package simmark

import (
	"net/http"
	"strings"
)

// Header is the response header the simulator sets on every answer, with
// the value [Name].
const Header = "X-Tr117-Simulator"

// Name is Header's value.
const Name = "ollamatest"

// VersionSuffix ends the simulator's /api/version: "0.6.5-ollamatest".
// A semantic-version pre-release tag, which Ollama's releases never carry.
const VersionSuffix = "-" + Name

// Is reports whether an answer with header h, or /api/version answering
// version (empty when unknown), came from the simulator.
func Is(h http.Header, version string) bool {
	return h.Get(Header) != "" || strings.HasSuffix(version, VersionSuffix)
}
