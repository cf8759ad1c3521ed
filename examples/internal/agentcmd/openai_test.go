package agentcmd

import (
	"bytes"
	"context"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tr117/profiler/ollamatest"
)

func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}

// TestProbeOpenAI: GET /v1/models is asked before an OpenAI-API run; a
// silent server and a listed model that is missing are errors naming the
// endpoint, the simulator is recognised, and a server that does not list
// its models is used as given.
func TestProbeOpenAI(t *testing.T) {
	simSrv := ollamatest.NewServer(ollamatest.Config{})
	defer simSrv.Close()
	lister := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/models" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"object":"list","data":[{"id":"tiny:latest"},{"id":"Qwen/Qwen2.5-7B"}]}`))
	}))
	defer lister.Close()
	dead := closedURL(t)
	for _, tc := range []struct {
		url, model string
		sim        bool
		want       []string // empty: no error
	}{
		{simSrv.URL, "tiny", true, nil},
		{lister.URL, "tiny", false, nil},
		{lister.URL, "qwen/qwen2.5-7b", false, nil},
		{lister.URL, "gemma3", false, []string{"profiler: model gemma3 is not on collector endpoint " + lister.URL, "Qwen/Qwen2.5-7B, tiny:latest", "--model"}},
		{dead, "tiny", false, []string{"profiler: collector endpoint " + dead + " does not answer GET /v1/models"}},
	} {
		sim, err := ProbeOpenAI(context.Background(), "profiler", "collector", tc.url, tc.model)
		if sim != tc.sim {
			t.Errorf("%s %s: simulated %v, want %v", tc.url, tc.model, sim, tc.sim)
		}
		if len(tc.want) == 0 {
			if err != nil {
				t.Errorf("%s %s: %v", tc.url, tc.model, err)
			}
			continue
		}
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s %s: error %v, want one containing %q", tc.url, tc.model, err, w)
			}
		}
	}
}

// TestPrepareOpenAIDeadEndpoint: with --api openai-*, a silent endpoint
// stops the command before anything is written (exit 1); the simulator
// answering is said to be simulated and its results go under
// tr117-results-sim.
func TestPrepareOpenAIDeadEndpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	fs := flag.NewFlagSet("profiler", flag.ContinueOnError)
	_, code, err := Prepare(context.Background(), fs, Setup{Cmd: "profiler", Mode: "auto", Model: "tiny", Dir: dir, DirFlag: "output-dir",
		CollectorURL: closedURL(t), InsightURL: closedURL(t), OpenAI: true}, &bytes.Buffer{})
	if code != 1 || err == nil || !strings.Contains(err.Error(), "does not answer GET /v1/models") {
		t.Errorf("Prepare: exit %d, %v; want 1 and the silent endpoint named", code, err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("the output directory was created")
	}

	simSrv := ollamatest.NewServer(ollamatest.Config{})
	defer simSrv.Close()
	t.Chdir(t.TempDir())
	fs = flag.NewFlagSet("profiler", flag.ContinueOnError)
	fs.String("output-dir", "tr117-results/profiler", "")
	var out bytes.Buffer
	tg, code, err := Prepare(context.Background(), fs, Setup{Cmd: "profiler", Mode: "auto", Model: "tiny", Dir: "tr117-results/profiler", DirFlag: "output-dir",
		CollectorURL: simSrv.URL, InsightURL: simSrv.URL, OpenAI: true}, &out)
	if err != nil {
		t.Fatalf("Prepare: exit %d, %v", code, err)
	}
	defer tg.Close()
	if tg.Dir != filepath.Join("tr117-results-sim", "profiler") || !strings.Contains(out.String(), "SIMULATED") {
		t.Errorf("simulator over /v1: dir %s, announced %q", tg.Dir, out.String())
	}
}
