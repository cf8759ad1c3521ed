package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"tr117/examples/internal/agentcmd"
	"tr117/examples/internal/backend"
	"tr117/profiler"
	"tr117/suite"
)

// defaultOutDir is --output-dir's default for real servers; a simulated
// one's results go under backend.Root(true) instead.
const defaultOutDir = "tr117-results/load"

// server is what answered at --url before the run.
type server struct {
	// checked is true when Ollama answered its version (not for the
	// OpenAI-compatible APIs, whose servers need not be Ollama).
	checked   bool
	simulated bool
	// ep is what the server answered, when checked.
	ep suite.Endpoint
}

// checkServer asks the server at req's URL, before anything is sent or
// written, whether it answers and has the model (Ollama's /api/version and
// /api/tags, or an OpenAI-compatible server's /v1/models); the error names
// the endpoint and what to do.
func checkServer(ctx context.Context, req profiler.Request) (server, error) {
	if req.API.OpenAI() {
		sim, err := agentcmd.ProbeOpenAI(ctx, "load", "server", req.URL, req.Model)
		return server{simulated: sim}, err
	}
	ep, err := suite.ProbeEndpoint(ctx, nil, "server", req.URL)
	if err != nil {
		if ctx.Err() != nil {
			return server{}, ctx.Err()
		}
		hint := "start Ollama there"
		if u, perr := url.Parse(req.URL); perr == nil && u.Host != "" {
			hint += " (OLLAMA_HOST=" + u.Host + " ollama serve)"
		}
		return server{}, fmt.Errorf("%s\n%s, or point --url at a running server", ownPrefix(err), hint)
	}
	if err := suite.MissingModels(ep, []string{req.Model}); err != nil {
		return server{}, fmt.Errorf("%s\n(--model chooses the model)", ownPrefix(err))
	}
	return server{checked: true, simulated: ep.Simulated, ep: ep}, nil
}

// ownPrefix words the suite's probe error as this command's.
func ownPrefix(err error) string {
	return "load: " + strings.TrimPrefix(err.Error(), "suite: ")
}

// outputDir is o's --output-dir, or, when it was not given and the
// simulator answered, the default under the simulated results' root, so
// that simulated and real results never share a directory.
func outputDir(o *options, simulated bool) string {
	if o.outDirGiven || !simulated {
		return o.outDir
	}
	return filepath.Join(backend.Root(true), "load")
}

// announce says on w what answered: the simulator, said to be so, or
// Ollama with its version.
func announce(w io.Writer, url string, s server) {
	switch {
	case s.simulated:
		fmt.Fprintf(w, "SIMULATED: the server at %s is tr117's Ollama simulator, not real Ollama; the results say so.\n\n", url)
	case s.checked:
		fmt.Fprintf(w, "server: %s (Ollama %s)\n", url, s.ep.VersionText())
	}
}

// flagError words err, a library's, as the error of flag --name, without
// repeating the command's prefix: "load: --arrival: unknown arrival …".
func flagError(name string, err error) error {
	msg := err.Error()
	for _, p := range []string{"load: ", "profiler: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return fmt.Errorf("load: --%s: %s", name, msg)
}
