package main

import (
	"encoding/json"
	"strings"
	"testing"

	"tr117/suite"
)

// The help names every placeholder a template accepts.
func TestHelpNamesEveryPlaceholder(t *testing.T) {
	code, _, errs := runCmd(t, "-h")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, p := range []string{"{model}", "{slug}", "{run}", "{dir}", "{collector_url}", "{insight_url}"} {
		if !strings.Contains(errs, p) {
			t.Errorf("help does not name %s:\n%s", p, errs)
		}
	}
}

// --dry-run prints the plan (with its defaults) as well as the runs.
func TestDryRunPrintsThePlan(t *testing.T) {
	code, out, errs := runCmd(t, "--dry-run", "--runs", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	planText, runs, ok := strings.Cut(out, "\nruns:\n")
	if !ok {
		t.Fatalf("no runs: section:\n%s", out)
	}
	var p suite.Plan
	if err := json.Unmarshal([]byte(strings.TrimPrefix(planText, "plan:\n")), &p); err != nil {
		t.Fatalf("plan is not JSON: %v\n%s", err, out)
	}
	if p.Scenario != suite.DefaultScenario || p.CollectorURL != suite.DefaultCollectorURL || p.MRI.Runs != 1 {
		t.Errorf("plan %+v", p)
	}
	if !strings.Contains(runs, "phase1/gemma3_latest/default/run_1\n") || strings.Count(runs, "\n") != 5 {
		t.Errorf("runs:\n%s", runs)
	}
}

// --ceiling adds the sweep's runs; --solo-baseline=false reaches the plan.
func TestDryRunCeiling(t *testing.T) {
	code, out, errs := runCmd(t, "--dry-run", "--runs", "1", "--ceiling", "--ceiling-costs", "0,100us", "--solo-baseline=false")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"ceiling/gemma3_latest/0us/run_1\n", "ceiling/gemma3_latest/100us/run_1\n", `"solo_baseline": false`} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if code, _, errs := runCmd(t, "--dry-run", "--ceiling-costs", "fast"); code != 2 {
		t.Errorf("--ceiling-costs fast: exit %d, %s", code, errs)
	}
}
