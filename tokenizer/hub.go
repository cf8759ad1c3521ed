package tokenizer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"tr117/sink"
)

// HubConfig says how to find a Hugging Face repo's tokenizer.json: in the
// local Hugging Face cache, in this package's own cache, and (only with
// AllowDownload) on the Hub.
type HubConfig struct {
	// AllowDownload lets FetchTokenizerJSON fetch over HTTPS. Without it
	// nothing touches the network. Default false.
	AllowDownload bool `json:"allow_download"`
	// BaseURL is the Hub. Default "https://huggingface.co".
	BaseURL string `json:"base_url,omitempty"`
	// Revision is the branch, tag or commit. Default "main".
	Revision string `json:"revision,omitempty"`
	// CacheDir is where downloads are kept:
	// <CacheDir>/<org>--<name>/<revision>/tokenizer.json. Default
	// os.UserCacheDir()/tr117/tokenizers.
	CacheDir string `json:"cache_dir,omitempty"`
	// HFCacheDir is the Hugging Face hub cache searched before anything
	// else (models--<org>--<name>/snapshots/…). Default $HF_HUB_CACHE,
	// else $HF_HOME/hub, else ~/.cache/huggingface/hub.
	HFCacheDir string `json:"hf_cache_dir,omitempty"`
	// Token authenticates to the Hub (gated repos). Default $HF_TOKEN. It
	// is never written into a manifest.
	Token string `json:"-"`
	// Client makes the requests. Default http.DefaultClient.
	Client *http.Client `json:"-"`
	// MaxBytes caps a download. Default 64 MiB.
	MaxBytes int64 `json:"max_bytes,omitempty"`
}

func (c HubConfig) withDefaults() (HubConfig, error) {
	if c.BaseURL == "" {
		c.BaseURL = "https://huggingface.co"
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Revision == "" {
		c.Revision = "main"
	}
	if c.Token == "" {
		c.Token = os.Getenv("HF_TOKEN")
	}
	if c.Client == nil {
		c.Client = http.DefaultClient
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 64 << 20
	}
	if c.CacheDir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return c, fmt.Errorf("tokenizer: hub cache: %w", err)
		}
		c.CacheDir = filepath.Join(d, "tr117", "tokenizers")
	}
	if c.HFCacheDir == "" {
		switch {
		case os.Getenv("HF_HUB_CACHE") != "":
			c.HFCacheDir = os.Getenv("HF_HUB_CACHE")
		case os.Getenv("HF_HOME") != "":
			c.HFCacheDir = filepath.Join(os.Getenv("HF_HOME"), "hub")
		default:
			if home, err := os.UserHomeDir(); err == nil {
				c.HFCacheDir = filepath.Join(home, ".cache", "huggingface", "hub")
			}
		}
	}
	return c, nil
}

// ErrNotRepoID is wrapped by errors for a string that is not "org/name".
var ErrNotRepoID = errors.New("not a Hugging Face repo id")

// ErrDownloadDisabled is returned when a tokenizer would have to be
// downloaded and HubConfig.AllowDownload is false.
var ErrDownloadDisabled = errors.New("not in any local cache and downloads are off (HubConfig.AllowDownload allows them)")

func checkRepoID(repo string) error {
	org, name, ok := strings.Cut(repo, "/")
	if !ok || !validNamePart(org) || !validNamePart(name) {
		return fmt.Errorf("tokenizer: %q: %w", repo, ErrNotRepoID)
	}
	return nil
}

// CachedTokenizerDirs returns the local directories that may hold repo's
// tokenizer files, most preferred first: the Hugging Face cache snapshot
// for the revision, then this package's download cache. They are not
// checked for existence.
func (c HubConfig) CachedTokenizerDirs(repo string) ([]string, error) {
	if err := checkRepoID(repo); err != nil {
		return nil, err
	}
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	var dirs []string
	if c.HFCacheDir != "" {
		repoDir := filepath.Join(c.HFCacheDir, "models--"+strings.ReplaceAll(repo, "/", "--"))
		rev := c.Revision
		if ref, err := os.ReadFile(filepath.Join(repoDir, "refs", rev)); err == nil {
			if r := strings.TrimSpace(string(ref)); validNamePart(r) {
				rev = r
			}
		}
		if validNamePart(rev) {
			dirs = append(dirs, filepath.Join(repoDir, "snapshots", rev))
		}
	}
	if validNamePart(c.Revision) {
		dirs = append(dirs, filepath.Join(c.CacheDir, strings.ReplaceAll(repo, "/", "--"), c.Revision))
	}
	return dirs, nil
}

// FetchTokenizerJSON downloads repo's tokenizer.json from the Hub into the
// download cache and returns its path. It returns ErrDownloadDisabled
// unless c.AllowDownload is set. A file already in the cache is returned
// without a request.
func FetchTokenizerJSON(ctx context.Context, repo string, c HubConfig) (string, error) {
	if err := checkRepoID(repo); err != nil {
		return "", err
	}
	c, err := c.withDefaults()
	if err != nil {
		return "", err
	}
	if !validNamePart(c.Revision) {
		return "", fmt.Errorf("tokenizer: hub: bad revision %q", c.Revision)
	}
	dst := filepath.Join(c.CacheDir, strings.ReplaceAll(repo, "/", "--"), c.Revision, "tokenizer.json")
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if !c.AllowDownload {
		return "", fmt.Errorf("tokenizer: hf:%s: %w", repo, ErrDownloadDisabled)
	}
	url := c.BaseURL + "/" + repo + "/resolve/" + c.Revision + "/tokenizer.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("tokenizer: hub: %w", err)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("tokenizer: hub: GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		hint := ""
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			hint = " (gated or private repo: set HF_TOKEN)"
		case http.StatusNotFound:
			hint = " (no such repo, revision or file)"
		}
		return "", fmt.Errorf("tokenizer: hub: GET %s: %s%s", url, resp.Status, hint)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.MaxBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("tokenizer: hub: GET %s: %w", url, err)
	}
	if int64(len(data)) > c.MaxBytes {
		return "", fmt.Errorf("tokenizer: hub: GET %s: larger than %d bytes", url, c.MaxBytes)
	}
	if err := sink.WriteFileAtomic(dst, data); err != nil {
		return "", fmt.Errorf("tokenizer: hub: %w", err)
	}
	return dst, nil
}
