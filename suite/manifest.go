package suite

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ollama/ollama/api"

	"tr117"
	"tr117/gpumon"
	"tr117/internal/layout"
	"tr117/internal/simmark"
	"tr117/sink"
)

// ManifestFile is the name of the manifest at the output root.
const ManifestFile = layout.Manifest

// Run statuses recorded in the manifest.
const (
	StatusOK     = "ok"     // finished; never run again on resume
	StatusFailed = "failed" // finished with an error; run again on resume
)

// Manifest is manifest.json: what ran, where, on what, and how each run
// ended. The suite rewrites it atomically after every run, so it is also the
// suite's resume state. A Manifest is not safe for concurrent use.
type Manifest struct {
	Tool      string `json:"tool"`       // "tr117 suite"
	Version   string `json:"version"`    // tr117.Version
	GoVersion string `json:"go_version"` // runtime.Version()
	Host      Host   `json:"host"`
	GPU       GPU    `json:"gpu"`
	// Backend is "ollama" for real servers or "sim" for the embedded
	// simulator (tr117/profiler/ollamatest); Simulated is true for "sim"
	// and whenever an endpoint answered as the simulator (one started on
	// Ollama's ports, say).
	Backend   string `json:"backend"`
	Simulated bool   `json:"simulated"`
	// Simulator is Config.Simulator: how the simulated endpoints behaved.
	Simulator json.RawMessage `json:"simulator,omitempty"`
	Endpoints []Endpoint      `json:"endpoints"`
	Plan      Plan            `json:"plan"`
	// Started is when the first session on this output root began;
	// Sessions counts the invocations (1 + resumes). Finished is set when
	// a session ran every run of the plan (successfully or not).
	Started  time.Time  `json:"started"`
	Finished *time.Time `json:"finished,omitempty"`
	Sessions []Session  `json:"sessions"`
	// Runs holds one record per run attempted, in plan order.
	Runs []RunRecord `json:"runs"`
}

// Session is one invocation of the suite on an output root.
type Session struct {
	Started time.Time  `json:"started"`
	Ended   *time.Time `json:"ended,omitempty"`
	// Outcome is "complete", "interrupted" (context cancelled),
	// "failed" (a run failed), or "killed" when the process ended without
	// recording one (SIGKILL, a crash, a power cut); the next session on
	// the root writes that.
	Outcome string `json:"outcome,omitempty"`
}

// RunRecord is the status of one run.
type RunRecord struct {
	Key string `json:"key"` // Run.Key(): phase1/gemma3_latest/default/run_1
	Run
	Status  string    `json:"status"`
	Error   string    `json:"error,omitempty"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// Files written by the run, relative to the output root.
	Files []string `json:"files,omitempty"`
}

// Host describes the machine the client ran on.
type Host struct {
	Hostname string `json:"hostname"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	CPU      string `json:"cpu"`
	NumCPU   int    `json:"num_cpu"`
}

// GPU describes the GPUs seen by the monitor, or their absence.
type GPU struct {
	// Sampler is the gpumon sampler used ("nvml", "nvidia-smi"), or ""
	// when none could be opened.
	Sampler string `json:"sampler"`
	// None is true when no GPU could be read; Error says why.
	None  bool   `json:"none"`
	Error string `json:"error,omitempty"`
	// Driver is the NVIDIA driver's version, CUDA the newest CUDA version
	// it supports and NVML NVML's version (NVML sampler only), from
	// gpumon.Info.
	Driver string `json:"driver,omitempty"`
	CUDA   string `json:"cuda_driver_version,omitempty"`
	NVML   string `json:"nvml_version,omitempty"`
	// Devices describes each GPU (from gpumon.Info: memory, PCIe link,
	// power limit …; from the first sample when Info is not available).
	Devices []GPUDevice `json:"devices,omitempty"`
	// InfoError says why gpumon.Info failed, when it did.
	InfoError string `json:"info_error,omitempty"`
}

// GPUDevice is one GPU.
type GPUDevice = gpumon.GPUInfo

// Endpoint is one Ollama server as found when the session started.
type Endpoint struct {
	Role    string `json:"role"` // collector or insight
	URL     string `json:"url"`
	Version string `json:"version,omitempty"`
	// Simulated is true when tr117's Ollama simulator answered, wherever
	// it listens (its answers carry a mark real Ollama never sends).
	Simulated bool    `json:"simulated,omitempty"`
	Models    []Model `json:"models,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// Model is a model an endpoint has, from /api/tags.
type Model struct {
	Name   string `json:"name"`
	Digest string `json:"digest,omitempty"`
	Size   int64  `json:"size,omitempty"`
}

// HostInfo describes this machine.
func HostInfo() Host {
	h := Host{OS: runtime.GOOS, Arch: runtime.GOARCH, NumCPU: runtime.NumCPU(), CPU: cpuModel()}
	h.Hostname, _ = os.Hostname()
	return h
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && (strings.TrimSpace(k) == "model name" || strings.TrimSpace(k) == "Model") {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// ProbeEndpoint asks an Ollama server for its version (/api/version) and
// models (/api/tags). It fails if the server does not answer /api/version;
// a failing /api/tags is recorded in the Endpoint's Error.
func ProbeEndpoint(ctx context.Context, hc *http.Client, role, rawURL string) (Endpoint, error) {
	ep := Endpoint{Role: role, URL: rawURL}
	u, err := url.Parse(rawURL)
	if err != nil {
		return ep, fmt.Errorf("suite: %s endpoint %s: %w", role, rawURL, err)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	v, simulated, err := version(ctx, hc, u)
	if err != nil {
		if ctx.Err() != nil {
			return ep, ctx.Err()
		}
		ep.Error = err.Error()
		return ep, fmt.Errorf("suite: %s endpoint %s does not answer /api/version: %w", role, rawURL, err)
	}
	ep.Version, ep.Simulated = v, simulated
	c := api.NewClient(u, hc)
	list, err := c.List(ctx)
	if err != nil {
		ep.Error = "api/tags: " + err.Error()
		return ep, nil
	}
	for _, m := range list.Models {
		ep.Models = append(ep.Models, Model{Name: m.Name, Digest: m.Digest, Size: m.Size})
	}
	return ep, nil
}

// version asks u for /api/version and reports whether the answer came
// from tr117's simulator (see tr117/internal/simmark).
func version(ctx context.Context, hc *http.Client, u *url.URL) (string, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.JoinPath("api/version").String(), nil)
	if err != nil {
		return "", false, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", false, fmt.Errorf("HTTP %s", resp.Status)
	}
	var v struct {
		Version string `json:"version"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&v); err != nil {
		return "", false, fmt.Errorf("decoding the answer: %w", err)
	}
	return v.Version, simmark.Is(resp.Header, v.Version), nil
}

// ReadManifest reads manifest.json under root. It returns an error
// satisfying errors.Is(err, fs.ErrNotExist) when there is none.
func ReadManifest(root string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(root, ManifestFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("suite: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("suite: %s: %w: %w", filepath.Join(root, ManifestFile), ErrBadManifest, err)
	}
	return &m, nil
}

// ErrBadManifest is wrapped by the error of [ReadManifest], and so of
// [Execute], when an output root's manifest.json exists but cannot be read
// as a manifest (truncated, edited by hand, another program's file): the
// suite cannot tell which runs it holds. Start over (Config.Overwrite) or
// choose another root.
var ErrBadManifest = errors.New("not a readable suite manifest")

// write saves m atomically under root.
func (m *Manifest) write(root string) error {
	return sink.WriteJSONFile(filepath.Join(root, ManifestFile), m)
}

// record returns the record of the run with the given key, or nil.
func (m *Manifest) record(key string) *RunRecord {
	for i := range m.Runs {
		if m.Runs[i].Key == key {
			return &m.Runs[i]
		}
	}
	return nil
}

// setRecord replaces or appends r, keeping the records in plan order.
func (m *Manifest) setRecord(r RunRecord, order map[string]int) {
	if old := m.record(r.Key); old != nil {
		*old = r
	} else {
		m.Runs = append(m.Runs, r)
	}
	pos := func(k string) int {
		if i, ok := order[k]; ok {
			return i
		}
		return len(order)
	}
	// Insertion sort: records are few and nearly sorted.
	for i := 1; i < len(m.Runs); i++ {
		for j := i; j > 0 && pos(m.Runs[j].Key) < pos(m.Runs[j-1].Key); j-- {
			m.Runs[j], m.Runs[j-1] = m.Runs[j-1], m.Runs[j]
		}
	}
}

func newManifest() *Manifest {
	return &Manifest{Tool: "tr117 suite", Version: tr117.Version, GoVersion: runtime.Version(), Host: HostInfo()}
}
