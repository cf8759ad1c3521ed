package agentcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"tr117/internal/simmark"
)

// ProbeOpenAI asks the OpenAI-compatible server at base (the server root,
// as --api openai-* takes it) for GET /v1/models before anything is
// measured. A server that does not answer is an error naming role, the
// endpoint and what to do; one that lists its models and lacks model is an
// error naming the model and what it has. A server that answers but does
// not list models (404, or 401 without a key) is used as given. It reports
// whether tr117's simulator answered.
func ProbeOpenAI(ctx context.Context, cmd, role, base, model string) (simulated bool, err error) {
	u, err := url.Parse(base)
	if err != nil {
		return false, fmt.Errorf("%s: %s endpoint %s: %w", cmd, role, base, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.JoinPath("v1", "models").String(), nil)
	if err != nil {
		return false, fmt.Errorf("%s: %s endpoint %s: %w", cmd, role, base, err)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, fmt.Errorf("%s: %s endpoint %s does not answer GET /v1/models: %w\nstart the server there, or point the URL flag at a running one", cmd, role, base, err)
	}
	defer resp.Body.Close()
	simulated = simmark.Is(resp.Header, "")
	if resp.StatusCode != http.StatusOK {
		return simulated, nil // it answers; it does not list its models
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&list); err != nil || len(list.Data) == 0 {
		return simulated, nil // no usable list: the runs will tell
	}
	var have []string
	for _, m := range list.Data {
		have = append(have, m.ID)
	}
	if slices.ContainsFunc(have, func(id string) bool { return sameOpenAIModel(id, model) }) {
		return simulated, nil
	}
	slices.Sort(have)
	return simulated, fmt.Errorf("%s: model %s is not on %s endpoint %s (GET /v1/models lists: %s)\n(--model chooses the model)", cmd, model, role, base, strings.Join(have, ", "))
}

// sameOpenAIModel compares a listed model id with the one asked for,
// case-insensitively, a name without a tag meaning ":latest" as on Ollama's
// /v1.
func sameOpenAIModel(id, model string) bool {
	full := func(m string) string {
		if !strings.Contains(m, ":") {
			return m + ":latest"
		}
		return m
	}
	return strings.EqualFold(id, model) || strings.EqualFold(full(id), full(model))
}
