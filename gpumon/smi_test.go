package gpumon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tr117/gpumon/gpumontest"
)

// fakeSMI makes this test binary act as nvidia-smi for the test, with the
// given FAKESMI_* settings, and returns its path.
func fakeSMI(t *testing.T, env ...string) string {
	t.Helper()
	t.Setenv(gpumontest.FakeSMIEnv, "1")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return os.Args[0]
}

func logTo(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, nil))
}

func TestSMIStreamTwoGPUs(t *testing.T) {
	path := fakeSMI(t)
	var log bytes.Buffer
	s, err := OpenSMI(context.Background(), OpenConfig{SMIPath: path, Interval: 10 * time.Millisecond, Logger: logTo(&log)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.(*smiSampler).Streaming() {
		t.Fatalf("not streaming; log: %s", log.String())
	}
	var rows []Sample
	for range 3 {
		rows, err = s.Sample(context.Background(), rows[:0])
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 {
			t.Fatalf("%d rows, want 2", len(rows))
		}
	}
	h, rtx := rows[0], rows[1]
	if h.Index != 0 || rtx.Index != 1 || h.Name != "NVIDIA H100 80GB HBM3" || rtx.Name != "NVIDIA GeForce RTX 4090" {
		t.Errorf("identity: %d %q / %d %q", h.Index, h.Name, rtx.Index, rtx.Name)
	}
	if h.PowerW < 100 || h.PowerW >= 110 || h.ClockSMMHz != 1980 || h.PState != 0 || !h.ClockReasonsOK || h.ClockReasons != 4 {
		t.Errorf("H100 row: %+v", h)
	}
	if !math.IsNaN(rtx.PowerW) || rtx.ClockReasonsOK {
		t.Errorf("[N/A] power and [Not Supported] reasons must be missing: power=%v reasonsOK=%v", rtx.PowerW, rtx.ClockReasonsOK)
	}
	if !math.IsNaN(h.PCIeRxMBps) || !math.IsNaN(h.EnergyJ) {
		t.Errorf("nvidia-smi has no PCIe or energy field, yet got %v %v", h.PCIeRxMBps, h.EnergyJ)
	}
	pid := s.(*smiSampler).st.cmd.Process.Pid
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("nvidia-smi (pid %d) still exists after Close: %v", pid, err)
	}
	if _, err := s.Sample(context.Background(), nil); err == nil {
		t.Error("Sample after Close succeeded")
	}
}

func TestSMIRefusedLMSFallsBackToPolling(t *testing.T) {
	path := fakeSMI(t, "FAKESMI_NOLMS=1", "FAKESMI_GPUS=1")
	var log bytes.Buffer
	s, err := OpenSMI(context.Background(), OpenConfig{SMIPath: path, Logger: logTo(&log)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.(*smiSampler).Streaming() {
		t.Fatal("streaming although -lms was refused")
	}
	if !strings.Contains(log.String(), "polling instead") {
		t.Errorf("no warning about the fallback; log: %s", log.String())
	}
	rows, err := s.Sample(context.Background(), nil)
	if err != nil || len(rows) != 1 || math.IsNaN(rows[0].PowerW) {
		t.Fatalf("polled rows %+v, err %v", rows, err)
	}
}

func TestSMIRejectedFieldIsReplacedOrDroppedWithWarning(t *testing.T) {
	path := fakeSMI(t, "FAKESMI_OLD=1")
	var log bytes.Buffer
	fields := []string{"index", "power.draw.instant", "utilization.gpu", "clocks_event_reasons.active", "power.draw.average", "memory.used"}
	s, err := OpenSMI(context.Background(), OpenConfig{SMIPath: path, SMIFields: fields, SMINoStream: true, Logger: logTo(&log)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, want := range []string{"field=power.draw.instant instead=power.draw", "field=clocks_event_reasons.active instead=clocks_throttle_reasons.active", `dropping it" field=power.draw.average`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("no warning %q; log: %s", want, log.String())
		}
	}
	rows, err := s.Sample(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].PowerW != 100 || rows[0].MemUsedMiB != 1000 || rows[0].UtilGPU != 0 || !rows[0].ClockReasonsOK {
		t.Errorf("row %+v", rows[0])
	}
}

func TestSMIUnknownFieldIsAConfigError(t *testing.T) {
	_, err := OpenSMI(context.Background(), OpenConfig{SMIPath: "nvidia-smi", SMIFields: []string{"pcie.rx"}})
	if err == nil || !strings.Contains(err.Error(), `"pcie.rx"`) {
		t.Errorf("err = %v, want one naming pcie.rx", err)
	}
}

// A stream whose first round does not parse is stopped (its process and
// reader end: goleak checks the reader) and the sampler polls instead.
func TestSMIStreamThatDoesNotParseFallsBackToPolling(t *testing.T) {
	path := fakeSMI(t, "FAKESMI_GARBLE=1", "FAKESMI_GPUS=1")
	var log bytes.Buffer
	s, err := OpenSMI(context.Background(), OpenConfig{SMIPath: path, Interval: 10 * time.Millisecond, Logger: logTo(&log)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.(*smiSampler).Streaming() || !strings.Contains(log.String(), "does not parse") {
		t.Fatalf("streaming=%v; log: %s", s.(*smiSampler).Streaming(), log.String())
	}
	rows, err := s.Sample(context.Background(), nil)
	if err != nil || len(rows) != 1 || rows[0].PowerW != 100 {
		t.Fatalf("polled rows %+v, err %v", rows, err)
	}
}

func TestSMIStreamDiesThenPolls(t *testing.T) {
	path := fakeSMI(t, "FAKESMI_DIE_AFTER=2", "FAKESMI_GPUS=1")
	var log bytes.Buffer
	s, err := OpenSMI(context.Background(), OpenConfig{SMIPath: path, Interval: 10 * time.Millisecond, Logger: logTo(&log)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rows []Sample
	for range 4 {
		if rows, err = s.Sample(context.Background(), rows[:0]); err != nil {
			t.Fatal(err)
		}
	}
	if s.(*smiSampler).Streaming() || !strings.Contains(log.String(), "stream stopped") {
		t.Errorf("after the stream died: streaming=%v log=%s", s.(*smiSampler).Streaming(), log.String())
	}
	if !strings.Contains(log.String(), "Unknown Error") {
		t.Errorf("the warning does not carry nvidia-smi's message: %s", log.String())
	}
}

// A round in which nvidia-smi prints no line for a GPU must not shift
// later lines onto the wrong GPU: rows are placed by their index.
func TestSMIStreamRoundMissingALine(t *testing.T) {
	path := fakeSMI(t, "FAKESMI_SKIP=1")
	s, err := OpenSMI(context.Background(), OpenConfig{SMIPath: path, Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rows []Sample
	for range 8 {
		if rows, err = s.Sample(context.Background(), rows[:0]); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].Index != 0 || rows[1].Index != 1 || rows[0].Gap() {
			t.Fatalf("round out of step: %+v", rows)
		}
		if rows[0].Name != "NVIDIA H100 80GB HBM3" {
			t.Fatalf("GPU 0 row holds another GPU's line: %+v", rows[0])
		}
		if r := rows[1]; !r.Gap() && r.Name != "NVIDIA GeForce RTX 4090" || r.Gap() && !errors.Is(r.Err, errNoLine) {
			t.Fatalf("GPU 1 row: %+v", r)
		}
	}
}

func TestSMILostGPURowIsMissing(t *testing.T) {
	path := fakeSMI(t, "FAKESMI_LOST=1")
	s, err := OpenSMI(context.Background(), OpenConfig{SMIPath: path, SMINoStream: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.Sample(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rows[0].Gap() || !errors.Is(rows[0].Err, ErrGPULost) || !math.IsNaN(rows[0].PowerW) || rows[0].Index != 0 {
		t.Errorf("lost GPU row %+v: want a gap with ErrGPULost", rows[0])
	}
	if rows[1].Gap() || rows[1].Index != 1 {
		t.Errorf("the other GPU's row %+v", rows[1])
	}
}

func TestSMIHeaderAndUnitsVariant(t *testing.T) {
	path := fakeSMI(t)
	fields := []string{"index", "name", "power.draw", "utilization.gpu", "memory.used", "pstate"}
	out, err := exec.Command(path, "--query-gpu="+strings.Join(fields, ","), "--format=csv").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if want := "index, name, power.draw [W], utilization.gpu [%], memory.used [MiB], pstate"; lines[0] != want {
		t.Fatalf("header %q, want %q", lines[0], want)
	}
	var s Sample
	if err := parseSMILine([]byte(lines[1]), fields, &s); err != nil {
		t.Fatal(err)
	}
	if s.PowerW != 100 || s.MemUsedMiB != 1000 || s.PState != 0 || s.Name != "NVIDIA H100 80GB HBM3" {
		t.Errorf("parsed %q as %+v", lines[1], s)
	}
}

func TestOpenAutoWithoutGPU(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Open(context.Background(), OpenConfig{NVMLLibrary: "/nonexistent/libnvidia-ml.so.1"})
	if !errors.Is(err, ErrNoGPU) {
		t.Fatalf("err = %v, want ErrNoGPU", err)
	}
	var ne *NoGPUError
	if !errors.As(err, &ne) || !errors.Is(err, exec.ErrNotFound) {
		t.Fatalf("err = %#v: the causes must stay reachable", err)
	}
	want := "gpumon: no NVIDIA GPU found (NVML: /nonexistent/libnvidia-ml.so.1 not found; nvidia-smi: not on PATH)"
	if !cgoEnabled {
		want = "gpumon: no NVIDIA GPU found (NVML: built without cgo; nvidia-smi: not on PATH)"
	}
	if err.Error() != want {
		t.Errorf("message\n%s\nwant\n%s", err, want)
	}
}

func TestNoGPUErrorShortReasons(t *testing.T) {
	long := errors.New("gpumon: nvidia-smi: /usr/bin/nvidia-smi: exit status 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\nmore")
	err := &NoGPUError{NVML: fmt.Errorf("gpumon: nvml: init: %w", errors.New("Driver Not Loaded")), SMI: long}
	msg := err.Error()
	if !strings.HasPrefix(msg, "gpumon: no NVIDIA GPU found (NVML: init: Driver Not Loaded; nvidia-smi: /usr/bin/nvidia-smi: exit status 9: NVIDIA-SMI") ||
		strings.Contains(msg, "\n") || len(msg) > 200 {
		t.Errorf("message %q", msg)
	}
	if !errors.Is(err, long) || !errors.Is(err, ErrNoGPU) {
		t.Error("causes not reachable")
	}
}

func TestOpenAutoFallsBackToSMI(t *testing.T) {
	fake := fakeSMI(t, "FAKESMI_GPUS=1")
	dir := t.TempDir()
	if err := os.Symlink(fake, filepath.Join(dir, "nvidia-smi")); err != nil {
		t.Skip("no symlinks:", err)
	}
	t.Setenv("PATH", dir)
	s, err := Open(context.Background(), OpenConfig{NVMLLibrary: "/nonexistent/libnvidia-ml.so.1", SMINoStream: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Name() != "nvidia-smi" {
		t.Errorf("auto picked %q", s.Name())
	}
}

func TestParseSMILine(t *testing.T) {
	fields := []string{"index", "uuid", "name", "power.draw", "utilization.gpu", "memory.used", "pstate", "clocks_throttle_reasons.active"}
	for _, tc := range []struct {
		line    string
		wantErr string
		check   func(Sample) bool
	}{
		{"0, GPU-1, NVIDIA A100-SXM4-40GB, 61.52, 0, 4, P0, 0x0000000000000001", "",
			func(s Sample) bool { return s.PowerW == 61.52 && s.UtilGPU == 0 && s.ClockReasons == 1 }},
		{"1, GPU-2, Quadro RTX 8000, with, commas, [N/A], [Not Supported], 5 MiB, P8, [N/A]", "",
			func(s Sample) bool {
				return s.Index == 1 && s.Name == "Quadro RTX 8000, with, commas" && math.IsNaN(s.PowerW) &&
					math.IsNaN(s.UtilGPU) && s.MemUsedMiB == 5 && s.PState == 8 && !s.ClockReasonsOK
			}},
		{"0, GPU-1, X, 61.52 W, 37 %, 4 MiB, P2, 0x4", "",
			func(s Sample) bool { return s.PowerW == 61.52 && s.UtilGPU == 37 && s.PState == 2 }},
		{"0, GPU-1, X, 61.52", "want 8 fields", nil},
		{"0, GPU-1, X, abc, 1, 2, P0, 0x0", "power.draw", nil},
		{"x, GPU-1, X, 1, 1, 2, P0, 0x0", "index", nil},
		{"0, GPU-1, X, 1, 1, 2, Q0, 0x0", "pstate", nil},
		{"0, GPU-1, X, 1, 1, 2, P0, 0xZZ", "clocks_throttle_reasons.active", nil},
		{"0, GPU-1, X, [Unknown Error], [Insufficient Permissions], 2, [N/A], N/A", "",
			func(s Sample) bool {
				return s.Err == nil && math.IsNaN(s.PowerW) && math.IsNaN(s.UtilGPU) && s.MemUsedMiB == 2 && s.PState == -1 && !s.ClockReasonsOK
			}},
		{"3, [GPU is lost], [GPU is lost], [GPU is lost], [GPU is lost], [GPU is lost], [GPU is lost], [GPU is lost]", "",
			func(s Sample) bool { return s.Index == 3 && s.Gap() && errors.Is(s.Err, ErrGPULost) }},
		{"[GPU requires reset], GPU-1, X, [GPU requires reset], 1, 2, P0, 0x0", "",
			func(s Sample) bool { return s.Gap() && errors.Is(s.Err, ErrGPULost) && math.IsNaN(s.UtilGPU) }},
	} {
		var s Sample
		err := parseSMILine([]byte(tc.line), fields, &s)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err %v, want one mentioning %q", tc.line, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !tc.check(s) {
			t.Errorf("%q: err %v, parsed %+v", tc.line, err, s)
		}
	}
}

func FuzzParseSMILine(f *testing.F) {
	for _, s := range []string{
		"0, GPU-1, NVIDIA A100-SXM4-40GB, 61.52, 0, 4, P0, 0x0000000000000001",
		"1, GPU-2, A, b, [N/A], [Not Supported], 5 MiB, P8, [N/A]",
		"0,,,,,,,", "", ",,,,,,,,,,,,,", "-1, x, y, 1e309, NaN, -0, P15, 0xFFFFFFFFFFFFFFFF",
		"2, [GPU is lost], [GPU is lost], [GPU is lost], [GPU is lost], [GPU is lost], [GPU is lost], [GPU is lost]",
		"0, GPU-1, X, [Unknown Error], [Insufficient Permissions], 2, [N/A], N/A",
	} {
		f.Add(s)
	}
	fields := []string{"index", "uuid", "name", "power.draw", "utilization.gpu", "memory.used", "pstate", "clocks_throttle_reasons.active"}
	p, err := newSMILineParser(fields)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		s := Missing(time.Time{}, 0, "", "")
		if err := p.parse([]byte(line), &s); err != nil {
			return
		}
		for _, v := range []float64{s.PowerW, s.UtilGPU, s.MemUsedMiB} {
			if math.IsInf(v, 0) {
				t.Errorf("%q parsed to Inf", line)
			}
		}
		if s.Index < 0 || s.PState < -1 || s.PState > 15 {
			t.Errorf("%q: index %d pstate %d", line, s.Index, s.PState)
		}
		if s.Err != nil && !s.Gap() {
			t.Errorf("%q: row with an error that is not a gap: %+v", line, s)
		}
		// A parsed row must survive the CSV writer.
		if b := s.AppendCSV(nil); bytes.Count(b, []byte("\n")) > 0 && !bytes.Contains([]byte(line), []byte("\n")) {
			t.Errorf("%q: CSV line holds a newline", line)
		}
	})
}

func TestSMIInfo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     []string
		wantCap string
		wantRes float64
	}{
		{"driver 550", nil, "9.0", 512},
		{"driver 470 rejects compute_cap and memory.reserved", []string{"FAKESMI_OLD=1"}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := fakeSMI(t, tc.env...)
			s, err := Open(context.Background(), OpenConfig{Kind: KindSMI, SMIPath: path, SMINoStream: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			info, err := Info(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			if info.Sampler != "nvidia-smi" || info.DriverVersion != "550.54.15" || info.CUDADriverVersion != "12.4" || info.NVMLVersion != "" {
				t.Errorf("system %+v", info)
			}
			if len(info.GPUs) != 2 {
				t.Fatalf("GPUs %+v", info.GPUs)
			}
			want := GPUInfo{Index: 0, UUID: "GPU-0000abc0-1111-2222-3333-444455556660", Name: "NVIDIA H100 80GB HBM3",
				PCIBusID: "00000000:18:00.0", ComputeCapability: tc.wantCap, VBIOSVersion: "96.00.74.00.01",
				MemoryTotalMiB: 81559, MemoryReservedMiB: tc.wantRes, PCIeLinkGen: 5, PCIeLinkGenMax: 5,
				PCIeLinkWidth: 16, PCIeLinkWidthMax: 16, PowerLimitW: 700}
			if info.GPUs[0] != want {
				t.Errorf("GPU 0 = %+v\nwant    %+v", info.GPUs[0], want)
			}
			if g := info.GPUs[1]; g.Index != 1 || g.PCIeLinkGen != 1 || g.PowerLimitW != 450 || g.Name != "NVIDIA GeForce RTX 4090" {
				t.Errorf("GPU 1 = %+v", g)
			}
		})
	}
}

func TestParseSMIInfoNameWithCommas(t *testing.T) {
	g, driver, err := parseSMIInfo([]byte("1, GPU-2, 535.104.05, [N/A], 450.00 W, Quadro RTX 8000, with, commas"),
		[]string{"index", "uuid", "driver_version", "compute_cap", "enforced.power.limit", "name"})
	if err != nil || g.Index != 1 || g.Name != "Quadro RTX 8000, with, commas" || driver != "535.104.05" || g.ComputeCapability != "" || g.PowerLimitW != 450 {
		t.Errorf("%+v %q %v", g, driver, err)
	}
	if bannerCUDAVersion([]byte("| NVIDIA-SMI 470.182.03   Driver Version: 470.182.03   CUDA Version: 11.4     |")) != "11.4" {
		t.Error("CUDA version from a 470 banner")
	}
}

func FuzzParseSMIInfo(f *testing.F) {
	f.Add("0, GPU-1, 550.54.15, 00000000:18:00.0, 96.00.74.00.01, 9.0, 81559, 512, 5, 5, 16, 16, 700.00, NVIDIA H100 80GB HBM3")
	f.Add("1, [N/A], [Not Supported], , , , x, 1e400, -1, 99999999999999999999, , , [GPU is lost], A, B")
	f.Fuzz(func(t *testing.T, line string) {
		g, _, err := parseSMIInfo([]byte(line), smiInfoFields)
		if err != nil {
			return
		}
		if _, err := json.Marshal(g); err != nil {
			t.Errorf("%q: info is not JSON-safe: %v", line, err)
		}
		if g.Index < 0 {
			t.Errorf("%q: index %d", line, g.Index)
		}
	})
}
