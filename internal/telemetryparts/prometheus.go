package telemetryparts

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Prometheus is a running Prometheus that scrapes one target every
// 500 ms.
type Prometheus struct {
	// URL is its base URL, "http://127.0.0.1:PORT".
	URL string
	p   *proc
}

// StartPrometheus starts Prometheus for the test, scraping
// http://target/metrics, and stops it in t.Cleanup. It finds the binary in
// $TR117_PROMETHEUS_BIN or on PATH (Debian's prometheus package).
func StartPrometheus(t testing.TB, target string) *Prometheus {
	t.Helper()
	bin := need(t, EnvPrometheusBin, EnvRequirePrometheus, "prometheus", "", "install Debian's prometheus package")
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`global:
  scrape_interval: 500ms
  scrape_timeout: 400ms
scrape_configs:
  - job_name: tr117
    static_configs:
      - targets: [%q]
`, target)
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, "prometheus", bin, dir, "--config.file="+path, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	pr := &Prometheus{URL: "http://" + addr, p: p}
	p.waitHTTP(t, pr.URL+"/-/ready")
	return pr
}

// Query evaluates an instant PromQL query and returns each series' value.
func (pr *Prometheus) Query(ctx context.Context, q string) ([]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pr.URL+"/api/v1/query?query="+url.QueryEscape(q), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("prometheus: query %s: %w", q, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("prometheus: query %s: %s", q, body.Error)
	}
	var vals []float64
	for _, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("prometheus: query %s: value %q: %w", q, s, err)
		}
		vals = append(vals, v)
	}
	return vals, nil
}

// WaitPositive polls q until some series' value is above zero, and returns
// it; an error when ctx ends first.
func (pr *Prometheus) WaitPositive(ctx context.Context, q string) (float64, error) {
	for {
		vals, err := pr.Query(ctx, q)
		for _, v := range vals {
			if v > 0 {
				return v, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("prometheus: %s never above 0 (last: %v, %v): %w", q, vals, err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
