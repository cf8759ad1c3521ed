// Package chromium loads a page in a headless Chromium and reports what
// the browser saw: the DOM after load, console messages and uncaught
// exceptions, every network request the page made, and a screenshot. It
// drives the browser over the DevTools protocol on 127.0.0.1, with a
// fresh profile, and kills it before [Load] returns.
//
// It exists to test tr117's HTML reports in a real browser; it is not a
// general browser automation library.
package chromium

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EnvBin names the environment variable that points at the Chromium
// binary, overriding the search of PATH.
const EnvBin = "TR117_CHROMIUM"

// ErrNotFound is returned by [Find] when no Chromium binary is found.
var ErrNotFound = errors.New("chromium: no chromium binary: set " + EnvBin + " or put chromium on PATH (Debian: apt-get install chromium)")

// Required reports whether a test that needs Chromium must fail, not
// skip, when Find finds none: under CI or with TR117_REQUIRE_CHROMIUM set.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("TR117_REQUIRE_CHROMIUM") != ""
}

// Find returns the Chromium binary: $TR117_CHROMIUM when set, else the
// first of chromium, chromium-browser, google-chrome on PATH.
func Find() (string, error) {
	if p := os.Getenv(EnvBin); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("chromium: %s=%s: %w", EnvBin, p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// Config configures [Load]. The zero value needs Bin set.
type Config struct {
	// Bin is the Chromium binary (see [Find]).
	Bin string
	// Width and Height are the viewport in CSS pixels. Default 1280×900.
	Width, Height int
	// MaxShotHeight caps the full-page screenshot's height in CSS pixels.
	// Default 20000.
	MaxShotHeight int
	// PDF also prints the page to PDF (A4, the page's print stylesheet
	// applied) into Page.PDF.
	PDF bool
}

// Page is what the browser saw of one page load.
type Page struct {
	// DOM is document.documentElement.outerHTML after the load event.
	DOM string
	// Console holds console API calls, log entries and uncaught
	// exceptions, in the order they arrived.
	Console []Message
	// Requests are the URLs of every request the page made, the page's
	// own included.
	Requests []string
	// Screenshot is a PNG of the whole page (up to MaxShotHeight).
	Screenshot []byte
	// PDF is the page printed, when Config.PDF is set.
	PDF []byte
}

// Message is one console message.
type Message struct {
	// Source is "console", "log" (the browser's own log: failed loads,
	// security errors) or "exception".
	Source string
	// Level is the message's level: "error", "warning", "info", …
	Level string
	Text  string
}

// Errors returns the console messages at level error.
func (p *Page) Errors() []Message {
	var out []Message
	for _, m := range p.Console {
		if m.Level == "error" {
			out = append(out, m)
		}
	}
	return out
}

// Load starts Chromium, loads url, waits for its load event and returns
// what the browser saw. Chromium may resolve no host name (every name
// maps to NOTFOUND), so a page that fetches from the network shows the
// attempt in Requests and fails to load it. ctx bounds the whole call.
func Load(ctx context.Context, cfg Config, url string) (*Page, error) {
	if cfg.Width == 0 {
		cfg.Width, cfg.Height = 1280, 900
	}
	if cfg.MaxShotHeight == 0 {
		cfg.MaxShotHeight = 20000
	}
	profile, err := os.MkdirTemp("", "tr117-chromium-")
	if err != nil {
		return nil, fmt.Errorf("chromium: profile: %w", err)
	}
	defer os.RemoveAll(profile)
	b, err := start(cfg, profile)
	if err != nil {
		return nil, err
	}
	defer b.stop()
	ws, err := b.pageSocket(ctx)
	if err != nil {
		return nil, err
	}
	s, err := dial(ctx, ws)
	if err != nil {
		return nil, err
	}
	defer s.close()
	return s.load(ctx, cfg, url)
}

// browser is a running Chromium.
type browser struct {
	cmd     *exec.Cmd
	profile string
	stderr  *lockedBuffer
	exited  chan struct{}
	waitErr error
}

func start(cfg Config, profile string) (*browser, error) {
	args := []string{
		"--headless", "--disable-gpu", "--disable-dev-shm-usage",
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		"--user-data-dir=" + profile,
		"--host-resolver-rules=MAP * ~NOTFOUND",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--mute-audio",
		fmt.Sprintf("--window-size=%d,%d", cfg.Width, cfg.Height),
	}
	if os.Geteuid() == 0 {
		// Chromium's sandbox refuses to run as root.
		args = append(args, "--no-sandbox")
	}
	args = append(args, "about:blank")
	b := &browser{profile: profile, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	b.cmd = exec.Command(cfg.Bin, args...)
	b.cmd.Stderr = b.stderr
	b.cmd.WaitDelay = 5 * time.Second
	ownGroup(b.cmd)
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("chromium: %s: %w", cfg.Bin, err)
	}
	go func() {
		b.waitErr = b.cmd.Wait()
		close(b.exited)
	}()
	return b, nil
}

// stop kills the browser and waits for it.
func (b *browser) stop() {
	killGroup(b.cmd)
	<-b.exited
}

// pageSocket waits for the DevTools port (Chromium writes it to
// DevToolsActivePort in the profile) and returns the first page target's
// websocket URL.
func (b *browser) pageSocket(ctx context.Context) (string, error) {
	port, err := b.port(ctx)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/json/list", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("chromium: devtools 127.0.0.1:%s: %w", port, err)
	}
	defer resp.Body.Close()
	var targets []struct {
		Type string `json:"type"`
		WS   string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&targets); err != nil {
		return "", fmt.Errorf("chromium: devtools 127.0.0.1:%s/json/list: %w", port, err)
	}
	for _, t := range targets {
		if t.Type == "page" && t.WS != "" {
			return t.WS, nil
		}
	}
	return "", fmt.Errorf("chromium: devtools 127.0.0.1:%s: no page target", port)
}

func (b *browser) port(ctx context.Context) (string, error) {
	file := filepath.Join(b.profile, "DevToolsActivePort")
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if data, err := os.ReadFile(file); err == nil {
			if line, _, _ := strings.Cut(string(data), "\n"); line != "" {
				if _, err := strconv.Atoi(line); err == nil {
					return line, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("chromium: waiting for %s: %w; stderr: %s", file, ctx.Err(), b.stderr.tail())
		case <-b.exited:
			return "", fmt.Errorf("chromium: exited before listening (%v); stderr: %s", b.waitErr, b.stderr.tail())
		case <-tick.C:
		}
	}
}

// lockedBuffer is Chromium's stderr, written by exec's copier and read
// for error messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// tail is the last 2 KB of what was written.
func (l *lockedBuffer) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buf.Bytes()
	if len(b) > 2048 {
		b = b[len(b)-2048:]
	}
	return strings.TrimSpace(string(b))
}
