package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"tr117/gpumon"
	"tr117/internal/layout"
	"tr117/sink"
)

// gpuState is the GPU sampler of a session, opened once and shared by the
// hardware runs.
type gpuState struct {
	info    GPU
	sampler gpumon.Sampler // nil when there is no GPU
}

func (g *gpuState) close() {
	if g != nil && g.sampler != nil {
		g.sampler.Close()
	}
}

// openGPU opens the sampler and reads the GPUs once to describe them in the
// manifest. Without a GPU it records why; the hardware runs still happen.
func (r *runner) openGPU(ctx context.Context) *gpuState {
	open := r.cfg.OpenSampler
	if open == nil {
		open = func(ctx context.Context) (gpumon.Sampler, error) {
			return gpumon.Open(ctx, gpumon.OpenConfig{
				Kind:     gpumon.Kind(r.plan.Hardware.Sampler),
				Interval: r.plan.Hardware.Interval.D(),
				Logger:   r.log,
			})
		}
	}
	s, err := open(ctx)
	if err != nil {
		return &gpuState{info: GPU{None: true, Error: err.Error()}}
	}
	g := &gpuState{sampler: s, info: GPU{Sampler: s.Name()}}
	if si, err := gpumon.Info(ctx, s); err == nil {
		g.info.Driver, g.info.CUDA, g.info.NVML = si.DriverVersion, si.CUDADriverVersion, si.NVMLVersion
		g.info.Devices = si.GPUs
	} else {
		if ctx.Err() != nil {
			return g
		}
		g.info.InfoError = err.Error()
	}
	samples, err := s.Sample(ctx, nil)
	if err != nil {
		g.info.Error = "first sample: " + err.Error()
	}
	if len(g.info.Devices) == 0 {
		for _, smp := range samples {
			d := GPUDevice{Index: smp.Index, UUID: smp.UUID, Name: smp.Name}
			if smp.MemTotalMiB == smp.MemTotalMiB { // not NaN
				d.MemoryTotalMiB = smp.MemTotalMiB
			}
			g.info.Devices = append(g.info.Devices, d)
		}
	}
	if len(g.info.Devices) == 0 {
		g.info.None = true
		if g.info.Error == "" {
			g.info.Error = s.Name() + " reported no GPU"
		}
	}
	return g
}

// GPUSummaryFile is the per-run gpumon report next to the run's CSV.
func gpuSummaryFile(i int) string { return layout.RunGPUSummary(i) }

// runHardware runs one hardware run under the GPU monitor: the templated
// command, or the built-in dual-agent profiler run.
func (r *runner) runHardware(ctx context.Context, run Run, dir string) ([]string, error) {
	var files []string
	if r.plan.Hardware.CommandTemplate == "" {
		// Load the model before the GPU monitor starts.
		if _, err := r.warmCondition(ctx, run, dir, 0, nil); err != nil {
			return nil, err
		}
	}
	work := func(ctx context.Context, m *gpumon.Monitor) error {
		if r.plan.Hardware.CommandTemplate != "" {
			f, err := r.runCommand(ctx, run, dir)
			files = append(files, f...)
			return err
		}
		f, res, err := r.profileRun(ctx, run, dir, 0, nil, nil)
		files = append(files, f...)
		if res != nil && m != nil {
			for _, a := range res.Agents {
				m.AddTokens(int64(a.Metrics.EvalCount))
			}
		}
		return err
	}
	if r.gpu == nil || r.gpu.sampler == nil {
		return files, work(ctx, nil)
	}
	csvPath := filepath.Join(dir, runFile(run.Index, GPUMetrics))
	out, err := sink.CreateCSV[gpumon.Sample](csvPath)
	if err != nil {
		return nil, err
	}
	files = append(files, r.rel(csvPath))
	rep, werr := gpumon.Watch(ctx, r.gpu.sampler, out, gpumon.Config{Interval: r.plan.Hardware.Interval.D(), Logger: r.log}, work)
	cerr := out.Close()
	if ctx.Err() != nil {
		return files, ctx.Err()
	}
	sumPath := filepath.Join(dir, gpuSummaryFile(run.Index))
	if err := sink.WriteJSONFile(sumPath, rep); err != nil {
		return files, errors.Join(werr, err)
	}
	files = append(files, r.rel(sumPath))
	return files, errors.Join(werr, cerr)
}

// runCommand runs the hardware command template for run, without a shell,
// its output going to <dir>/agent_output/run_<i>.log (and to
// Config.CommandOutput). On cancellation the command gets SIGINT, then
// SIGKILL after 10 s.
func (r *runner) runCommand(ctx context.Context, run Run, dir string) ([]string, error) {
	tpl, err := ParseTemplate(r.plan.Hardware.CommandTemplate)
	if err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	argv := tpl.Expand(map[string]string{
		"model":         run.Model,
		"slug":          layout.Slug(run.Model),
		"run":           strconv.Itoa(run.Index),
		"dir":           dir,
		"collector_url": r.plan.CollectorURL,
		"insight_url":   r.plan.InsightURL,
	})
	logPath := filepath.Join(dir, layout.AgentOutputDir, layout.RunLog(run.Index))
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	defer logf.Close()
	var w io.Writer = logf
	if r.cfg.CommandOutput != nil {
		w = io.MultiWriter(logf, r.cfg.CommandOutput)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	files := []string{r.rel(logPath)}
	err = cmd.Run()
	if ctx.Err() != nil {
		return files, ctx.Err()
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return files, fmt.Errorf("suite: hardware command %q exited with status %d (output in %s)", argv[0], ee.ExitCode(), r.rel(logPath))
		}
		return files, fmt.Errorf("suite: hardware command: %w", err)
	}
	return files, nil
}
