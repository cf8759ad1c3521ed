package suite

import (
	"fmt"
	"slices"
	"strings"
)

// MissingModelsError is returned by [Execute], before any run, when an
// endpoint answers but its /api/tags lacks models the plan streams from it:
// every run of those models would fail with Ollama's "model not found".
type MissingModelsError struct {
	Role    string   // "collector" or "insight"
	URL     string   // the endpoint
	Missing []string // the plan's models it lacks, in plan order
	Have    []string // the models it has, from /api/tags
	// Simulated is true when the endpoint is tr117's simulator, which
	// serves only the models it was configured with: pulling helps nothing.
	Simulated bool
}

func (e *MissingModelsError) Error() string {
	verb, them := "is", "it"
	if len(e.Missing) > 1 {
		verb, them = "are", "them"
	}
	have := "no models"
	if len(e.Have) > 0 {
		have = "it has: " + strings.Join(e.Have, ", ")
	}
	if e.Simulated {
		return fmt.Sprintf("suite: %s %s not on %s %s, tr117's simulator (%s); it serves only those: choose one of them",
			strings.Join(e.Missing, ", "), verb, e.Role, e.URL, have)
	}
	return fmt.Sprintf("suite: %s %s not on %s %s (%s); ollama pull %s there, or choose models it has",
		strings.Join(e.Missing, ", "), verb, e.Role, e.URL, have, them)
}

// streamedModels returns the models the plan's dual-agent runs ask both
// endpoints for, in plan order without repeats: the MRI and throttle
// models and, without a command template, the hardware models.
func streamedModels(p Plan) []string {
	var out []string
	add := func(skip bool, models []string) {
		if skip {
			return
		}
		for _, m := range models {
			if !slices.ContainsFunc(out, func(o string) bool { return sameModel(o, m) }) {
				out = append(out, m)
			}
		}
	}
	add(p.MRI.Skip, p.MRI.Models)
	add(p.Throttle.Skip, p.Throttle.Models)
	add(p.Hardware.Skip || p.Hardware.CommandTemplate != "", p.Hardware.Models)
	return out
}

// sameModel compares model names as Ollama does: case-insensitively, a
// name without a tag meaning ":latest".
func sameModel(a, b string) bool {
	return strings.EqualFold(fullModelName(a), fullModelName(b))
}

func fullModelName(m string) string {
	if i := strings.LastIndexByte(m, ':'); i < 0 || strings.Contains(m[i:], "/") {
		return m + ":latest"
	}
	return m
}

// MissingModels checks an endpoint's /api/tags (as [ProbeEndpoint]
// recorded it) against models: nil when it has them all or its list could
// not be read, else a [*MissingModelsError].
func MissingModels(ep Endpoint, models []string) error {
	if e := missingModels(ep, models); e != nil {
		return e
	}
	return nil
}

// missingModels checks an endpoint's /api/tags against models. It returns
// nil when all are there, or when the endpoint's model list could not be
// read (the runs will tell).
func missingModels(ep Endpoint, models []string) *MissingModelsError {
	if ep.Version == "" || ep.Error != "" {
		return nil
	}
	e := &MissingModelsError{Role: ep.Role, URL: ep.URL, Simulated: ep.Simulated}
	for _, m := range ep.Models {
		e.Have = append(e.Have, m.Name)
	}
	slices.Sort(e.Have)
	for _, m := range models {
		if !slices.ContainsFunc(ep.Models, func(h Model) bool { return sameModel(h.Name, m) }) {
			e.Missing = append(e.Missing, m)
		}
	}
	if len(e.Missing) == 0 {
		return nil
	}
	return e
}
