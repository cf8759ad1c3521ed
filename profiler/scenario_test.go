package profiler

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCapTokens(t *testing.T) {
	set := DefaultOptions()
	for _, sc := range scenarios() {
		agents := DefaultAgents("m", "http://a", "http://b", sc, set, set)
		before := make([]map[string]any, len(agents))
		for i, a := range agents {
			before[i] = a.Options
		}
		got := CapTokens(agents, 64)
		for i, a := range got {
			if a.Options["num_predict"] != 64 {
				t.Errorf("%s: agent %s options %v lack num_predict 64", sc, a.ID, a.Options)
			}
			want := len(before[i]) + 1
			if len(a.Options) != want {
				t.Errorf("%s: agent %s has %d options, want %d", sc, a.ID, len(a.Options), want)
			}
			if !reflect.DeepEqual(agents[i].Options, before[i]) || (before[i] != nil && before[i]["num_predict"] != nil) {
				t.Errorf("%s: CapTokens modified the caller's options", sc)
			}
		}
		if same := CapTokens(agents, 0); !reflect.DeepEqual(same, agents) {
			t.Errorf("%s: n=0 changed the agents", sc)
		}
	}
}

func TestCreateSinks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "phase1", "default")
	sinks, closeSinks, err := CreateSinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := sinks.Chunks.Write(Chunk{Time: time.Now(), Agent: "collector", Bytes: 10}); err != nil {
		t.Fatal(err)
	}
	if err := closeSinks(); err != nil {
		t.Fatal(err)
	}
	for file, header := range map[string]string{
		"chunk_metrics.csv": "timestamp,agent_id,chunk_index,bytes,gap_ms,parse_ms",
		"loop_lag.csv":      "timestamp,lag_ms",
	} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), header) {
			t.Errorf("%s starts %q, want the seed's columns %q first", file, strings.SplitN(string(b), "\n", 2)[0], header)
		}
	}
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o644)
	if _, _, err := CreateSinks(blocker); err == nil || !strings.Contains(err.Error(), blocker) {
		t.Errorf("CreateSinks under a file: err = %v, want one naming %s", err, blocker)
	}
}
