package gpumon

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// Config and OpenConfig go into manifests: their durations are written in
// milliseconds under names that say so, and read back the same.
func TestConfigJSONDurationsCarryUnits(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
		back any
	}{
		{Config{}, `{}`, &Config{}},
		{Config{Interval: 100 * time.Millisecond, RedlineUtil: 95, RedlineWindow: 2 * time.Second},
			`{"interval_ms":100,"redline_util_percent":95,"redline_window_ms":2000}`, &Config{}},
		{Config{Interval: 12500 * time.Microsecond}, `{"interval_ms":12.5}`, &Config{}},
		{OpenConfig{}, `{}`, &OpenConfig{}},
		{OpenConfig{Kind: KindSMI, Interval: 10 * time.Millisecond, PCIeInterval: -1, SMIPath: "/usr/bin/nvidia-smi", SMIFields: []string{"index", "power.draw"}, SMINoStream: true},
			`{"kind":"nvidia-smi","interval_ms":10,"smi_path":"/usr/bin/nvidia-smi","smi_fields":["index","power.draw"],"pcie_interval_ms":-0.000001,"smi_no_stream":true}`, &OpenConfig{}},
		{OpenConfig{PCIeInterval: time.Second, NVMLLibrary: "/lib/libnvidia-ml.so.1"},
			`{"nvml_library":"/lib/libnvidia-ml.so.1","pcie_interval_ms":1000}`, &OpenConfig{}},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%+v:\n got %s\nwant %s", tc.v, b, tc.want)
			continue
		}
		if err := json.Unmarshal(b, tc.back); err != nil {
			t.Fatal(err)
		}
		if got := reflect.ValueOf(tc.back).Elem().Interface(); !reflect.DeepEqual(got, tc.v) {
			t.Errorf("round trip of %s: %+v, want %+v", b, got, tc.v)
		}
	}
}
