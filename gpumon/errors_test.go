package gpumon

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// checkMessage fails unless msg is want and says "gpumon: " once, with no
// dangling ": " at its end.
func checkMessage(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %q", what, want)
		return
	}
	msg := err.Error()
	if msg != want {
		t.Errorf("%s:\n got %q\nwant %q", what, msg, want)
	}
	if strings.Count(msg, "gpumon: ") != 1 || strings.HasSuffix(msg, ": ") || strings.HasSuffix(msg, ":") {
		t.Errorf("%s: prefix doubled or dangling: %q", what, msg)
	}
}

func TestSMIErrorMessagesSayEachPartOnce(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := OpenSMI(context.Background(), OpenConfig{})
	checkMessage(t, "not on PATH", err, `gpumon: nvidia-smi: exec: "nvidia-smi": executable file not found in $PATH`)
	_, err = OpenSMI(context.Background(), OpenConfig{SMIPath: "/bin/false"})
	checkMessage(t, "silent failure", err, "gpumon: nvidia-smi: /bin/false: exit status 1")
	checkMessage(t, "lost row", errSMILost, "gpumon: nvidia-smi: GPU is lost")
	if !errors.Is(errSMILost, ErrGPULost) {
		t.Error("errSMILost does not wrap ErrGPULost")
	}
}

func TestNVMLLostGPUMessage(t *testing.T) {
	d := newFakeDev()
	s := fakeNVML(d)
	d.mu.Lock()
	d.lost = true
	d.mu.Unlock()
	rows, err := s.Sample(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := rows[0].Err.Error()
	if !errors.Is(rows[0].Err, ErrGPULost) || strings.Count(msg, "gpumon: ") != 1 || !strings.HasSuffix(msg, ": GPU is lost") {
		t.Errorf("lost GPU's error %q", msg)
	}
}

// Closing the sampler is a normal end: a Sample waiting on the stream
// returns ErrSamplerClosed, nothing is logged and no polling starts.
func TestSMICloseDuringSampleIsSilent(t *testing.T) {
	path := fakeSMI(t, "FAKESMI_GPUS=1")
	var log bytes.Buffer
	s, err := OpenSMI(context.Background(), OpenConfig{SMIPath: path, Interval: time.Second, Logger: logTo(&log)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sample(context.Background(), nil); err != nil { // takes the first round
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Sample(context.Background(), nil) // waits for the next round
		done <- err
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrSamplerClosed) {
		t.Errorf("Sample during Close: %v, want ErrSamplerClosed", err)
	}
	if _, err := s.Sample(context.Background(), nil); !errors.Is(err, ErrSamplerClosed) {
		t.Errorf("Sample after Close: %v, want ErrSamplerClosed", err)
	}
	if log.Len() != 0 {
		t.Errorf("Close logged: %s", log.String())
	}
}

// A Monitor whose sampler is closed under it at shutdown records no gap
// for it and logs nothing.
func TestMonitorSamplerClosedAtShutdown(t *testing.T) {
	path := fakeSMI(t, "FAKESMI_GPUS=1")
	var log bytes.Buffer
	s, err := OpenSMI(context.Background(), OpenConfig{SMIPath: path, Interval: time.Second, Logger: logTo(&log)})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMonitor(s, nil, Config{Interval: time.Second, Logger: logTo(&log)})
	stop := m.Start(context.Background())
	s.Close() // a service's deferred Close may run before the Monitor's goroutine ends
	rep, err := stop()
	if err != nil && !errors.Is(err, ErrSamplerClosed) {
		t.Errorf("stop: %v", err)
	}
	if rep.FailedSamples != 0 || rep.GPUs[0].Gaps != 0 {
		t.Errorf("closing the sampler counted as a failure: %+v", rep)
	}
	if log.Len() != 0 {
		t.Errorf("logged: %s", log.String())
	}
}
