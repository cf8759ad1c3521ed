package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestKubernetesJob checks the shipped Indexed Job: one pod per segment,
// each its own segment and output directory, all from one start time, and
// flags that this command accepts.
func TestKubernetesJob(t *testing.T) {
	b, err := os.ReadFile("../../deploy/kubernetes/load-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Kind string
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int
			Parallelism    int
			BackoffLimit   *int `yaml:"backoffLimit"`
			Template       struct {
				Spec struct {
					Containers []struct {
						Args []string
						Env  []struct{ Name, Value string }
					}
				}
			}
		}
	}
	if err := yaml.NewDecoder(strings.NewReader(string(b))).Decode(&job); err != nil {
		t.Fatal(err)
	}
	s := job.Spec
	if job.Kind != "Job" || s.CompletionMode != "Indexed" || s.Completions < 2 || s.Parallelism != s.Completions || s.BackoffLimit == nil || *s.BackoffLimit != 0 {
		t.Fatalf("job spec %+v", s)
	}
	c := s.Template.Spec.Containers[0]
	want := map[string]string{
		"--segment":    fmt.Sprintf("$(JOB_COMPLETION_INDEX)/%d", s.Completions),
		"--start-at":   "$(START_AT)",
		"--output-dir": "/results/worker-$(JOB_COMPLETION_INDEX)",
	}
	var args []string
	for _, a := range c.Args {
		name, val, _ := strings.Cut(a, "=")
		if w, ok := want[name]; ok && val != w {
			t.Errorf("%s=%s, want %s", name, val, w)
		}
		delete(want, name)
		// Expand as Kubernetes would, for pod 1.
		a = strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", "1")
		a = strings.ReplaceAll(a, "$(START_AT)", "2026-01-01T00:00:00Z")
		args = append(args, a)
	}
	if len(want) > 0 {
		t.Errorf("args lack %v", want)
	}
	// The flags parse (the start time is long past, so parse alone is run).
	if _, err := parse(args, os.Stderr); err != nil {
		t.Errorf("the Job's args do not parse: %v", err)
	}
}
