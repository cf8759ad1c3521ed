package tokenizer

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// BackendHFNode is Hugging Face's tokenizers library itself (the Rust core
// in the npm package "tokenizers", HFNodeVersion) run in a child node
// process. Its passes are timed inside the child: the encode alone, not the
// process start or the pipe transfer.
const BackendHFNode = "hf-node"

// HFNodeVersion is the version of the npm package tokenizers that
// scripts/install-hf-tokenizers.sh installs and the cache directory names.
const HFNodeVersion = "0.23.2"

// HFNodeMinNode is the oldest Node.js major release the child script runs
// on (it reads stdin with for await, Node 12).
const HFNodeMinNode = 12

// HFNodeConfig configures the hf-node backend. The zero value finds node on
// PATH and the package in $TR117_HF_NODE_DIR or the cache.
type HFNodeConfig struct {
	// Dir holds node_modules/tokenizers (or is the package itself).
	// Default $TR117_HF_NODE_DIR, then
	// ${XDG_CACHE_HOME:-~/.cache}/tr117/hf-tokenizers/HFNodeVersion, where
	// scripts/install-hf-tokenizers.sh puts it.
	Dir string `json:"dir,omitempty"`
	// Node is the node executable. Default "node" on PATH.
	Node string `json:"node,omitempty"`
	// Timeout bounds each request to the child (load, or one encode):
	// past it the child is killed and the encode fails. Default 5 minutes.
	Timeout time.Duration `json:"timeout_ns,omitempty"`
	// Threads is the number of threads the library's batch encode uses
	// (RAYON_NUM_THREADS), as many as Config.Parallel to race it shard for
	// shard. Default runtime.NumCPU().
	Threads int `json:"threads,omitempty"`
}

func (c HFNodeConfig) withDefaults() HFNodeConfig {
	if c.Node == "" {
		c.Node = "node"
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Minute
	}
	if c.Threads <= 0 {
		c.Threads = runtime.NumCPU()
	}
	return c
}

// ErrNoHFNode is wrapped by the errors of LoadHFNode when node or the npm
// package is missing or unusable.
var ErrNoHFNode = errors.New("Hugging Face's tokenizers for Node.js not installed (run scripts/install-hf-tokenizers.sh, or set TR117_HF_NODE_DIR to its directory)")

// hfNodeScript is the child's program.
//
//go:embed hfnode.js
var hfNodeScript []byte

// packageDir returns the directory of the npm package tokenizers.
func (c HFNodeConfig) packageDir() (string, error) {
	dir, where := c.Dir, "HFNodeConfig.Dir"
	if dir == "" {
		dir, where = os.Getenv("TR117_HF_NODE_DIR"), "TR117_HF_NODE_DIR"
	}
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrNoHFNode, err)
		}
		dir, where = filepath.Join(cache, "tr117", "hf-tokenizers", HFNodeVersion), "cache"
	}
	for _, p := range []string{filepath.Join(dir, "node_modules", "tokenizers"), dir} {
		if pkgName(p) == "tokenizers" {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: no node_modules/tokenizers in %s (%s)", ErrNoHFNode, dir, where)
}

// pkgName returns the "name" in dir/package.json, or "".
func pkgName(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return ""
	}
	var p struct{ Name string }
	if json.Unmarshal(data, &p) != nil {
		return ""
	}
	return p.Name
}

var nodeVersionRE = regexp.MustCompile(`^v(\d+)\.(\d+)\.(\d+)`)

// checkNode runs node --version and refuses a node older than
// HFNodeMinNode.
func checkNode(node string, timeout time.Duration) (string, error) {
	path, err := exec.LookPath(node)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoHFNode, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if ctx.Err() != nil {
		return "", fmt.Errorf("%s --version: no answer in %s", path, timeout)
	}
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", path, err)
	}
	v := strings.TrimSpace(string(out))
	m := nodeVersionRE.FindStringSubmatch(v)
	if m == nil {
		return "", fmt.Errorf("%s --version says %q, not a Node.js version", path, v)
	}
	if major, _ := strconv.Atoi(m[1]); major < HFNodeMinNode {
		return "", fmt.Errorf("%s is Node.js %s, older than the %d the backend needs", path, v, HFNodeMinNode)
	}
	return v, nil
}
