package profiler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// runFields is RunResult without its JSON methods.
type runFields RunResult

// runNumberKey is the original study's name for the run's number in
// run_<i>.json, kept beside run.
const runNumberKey = "run_number"

// isRunKey reports whether key is a top-level field of run_<i>.json other
// than an agent's ID.
func isRunKey(key string) bool {
	if key == runNumberKey {
		return true
	}
	t := reflect.TypeFor[runFields]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == key {
			return true
		}
	}
	return false
}

// MarshalJSON writes the run as run_<i>.json: every field of RunResult,
// run_number (equal to run), and each agent's object
// under its ID at the top level ("collector", "insight"), in the order of
// agent_ids, as well as in the agents list.
func (rr RunResult) MarshalJSON() ([]byte, error) { return rr.JSONWith(nil) }

// JSONWith is MarshalJSON with the top-level fields of extra (a struct or
// map that marshals to a JSON object; nil for none) added after the run's:
// the throttle adds its rate this way. A key that extra shares with the
// run or an agent ID is an error.
func (rr RunResult) JSONWith(extra any) ([]byte, error) {
	base, err := json.Marshal(runFields(rr))
	if err != nil {
		return nil, err
	}
	parts := [][]byte{base, fmt.Appendf(nil, `{%q:%d}`, runNumberKey, rr.Run)}
	for _, a := range rr.Agents {
		key, err := json.Marshal(a.ID)
		if err != nil {
			return nil, err
		}
		obj, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		parts = append(parts, bytes.Join([][]byte{[]byte("{"), key, []byte(":"), obj, []byte("}")}, nil))
	}
	if extra != nil {
		b, err := json.Marshal(extra)
		if err != nil {
			return nil, err
		}
		parts = append(parts, b)
	}
	return mergeObjects(parts)
}

// mergeObjects joins JSON objects into one, keeping their keys' order,
// and refuses a key that two of them share.
func mergeObjects(parts [][]byte) ([]byte, error) {
	seen := map[string]bool{}
	out := []byte{'{'}
	for _, p := range parts {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(p, &keys); err != nil {
			return nil, fmt.Errorf("profiler: run file: not a JSON object: %w", err)
		}
		for k := range keys {
			if seen[k] {
				return nil, fmt.Errorf("profiler: run file: field %q written twice", k)
			}
			seen[k] = true
		}
		inner := bytes.TrimSpace(p)
		inner = bytes.TrimSpace(inner[1 : len(inner)-1])
		if len(inner) == 0 {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, inner...)
	}
	return append(out, '}'), nil
}

// UnmarshalJSON reads a run file written by MarshalJSON. A file in the
// shape the original study's scripts wrote (run_number, and agents under their IDs listed in
// agent_ids but no agents list) is read too.
func (rr *RunResult) UnmarshalJSON(b []byte) error {
	var f runFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	if n, ok := top[runNumberKey]; ok && f.Run == 0 {
		if err := json.Unmarshal(n, &f.Run); err != nil {
			return fmt.Errorf("profiler: run file: %s: %w", runNumberKey, err)
		}
	}
	if len(f.Agents) == 0 {
		for _, id := range f.AgentIDs {
			var a AgentResult
			if raw, ok := top[id]; ok {
				if err := json.Unmarshal(raw, &a); err != nil {
					return fmt.Errorf("profiler: run file: agent %s: %w", id, err)
				}
			}
			if a.ID == "" {
				a.ID = id
			}
			f.Agents = append(f.Agents, a)
		}
	}
	if len(f.AgentIDs) == 0 {
		for _, a := range f.Agents {
			f.AgentIDs = append(f.AgentIDs, a.ID)
		}
	}
	*rr = RunResult(f)
	return nil
}
