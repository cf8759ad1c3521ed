package layout

import (
	"encoding/json"
	"testing"
	"time"
)

type inner struct {
	Idle time.Duration `json:"idle_ms,omitempty"`
	Name string        `json:"name,omitempty"`
}

type millisDoc struct {
	inner
	Timeout time.Duration   `json:"timeout_ms"`
	Costs   []time.Duration `json:"costs_ms,omitempty"`
	Raw     time.Duration   `json:"raw"` // no _ms: written as encoding/json does
	Secret  string          `json:"-"`
	N       int             `json:"n,omitempty"`
}

func (d millisDoc) MarshalJSON() ([]byte, error)  { return MarshalMillis(d) }
func (d *millisDoc) UnmarshalJSON(b []byte) error { return UnmarshalMillis(b, d) }

func TestMillisRoundTrip(t *testing.T) {
	in := millisDoc{inner: inner{Idle: 1500 * time.Microsecond, Name: "x"}, Timeout: 2 * time.Minute,
		Costs: []time.Duration{0, 50 * time.Microsecond}, Raw: 7, Secret: "s"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"idle_ms":1.5,"name":"x","timeout_ms":120000,"costs_ms":[0,0.05],"raw":7}`
	if string(b) != want {
		t.Errorf("marshal:\n got %s\nwant %s", b, want)
	}
	var out millisDoc
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	in.Secret = ""
	if out.Idle != in.Idle || out.Name != in.Name || out.Timeout != in.Timeout || len(out.Costs) != 2 || out.Costs[1] != in.Costs[1] || out.Raw != 7 {
		t.Errorf("round trip: %+v, want %+v", out, in)
	}
}

// TestMillisOldSpellings reads the files earlier versions wrote: integer
// nanoseconds under "_ns", and Go duration strings under the bare name.
func TestMillisOldSpellings(t *testing.T) {
	tests := []struct {
		in      string
		timeout time.Duration
		idle    time.Duration
		costs   []time.Duration
	}{
		{`{"timeout_ns":120000000000,"idle_ns":5000000}`, 2 * time.Minute, 5 * time.Millisecond, nil},
		{`{"timeout":"10ms","costs":["0s","50µs"]}`, 10 * time.Millisecond, 0, []time.Duration{0, 50 * time.Microsecond}},
		{`{"timeout":1000}`, time.Microsecond, 0, nil},
		{`{"timeout_ms":0.001,"unknown":1}`, time.Microsecond, 0, nil},
	}
	for _, tt := range tests {
		var d millisDoc
		if err := json.Unmarshal([]byte(tt.in), &d); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if d.Timeout != tt.timeout || d.Idle != tt.idle || len(d.Costs) != len(tt.costs) {
			t.Errorf("%s: timeout %v idle %v costs %v", tt.in, d.Timeout, d.Idle, d.Costs)
		}
		for i := range tt.costs {
			if d.Costs[i] != tt.costs[i] {
				t.Errorf("%s: costs %v, want %v", tt.in, d.Costs, tt.costs)
			}
		}
	}
	for _, bad := range []string{`{"timeout":"ten"}`, `{"timeout_ms":"1"}`, `{"costs_ms":[1,"x"]}`, `[1]`} {
		var d millisDoc
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
