// Package gpumon samples NVIDIA GPUs and summarises what they did: power,
// utilization, memory, energy, clocks, temperature and (through NVML) PCIe
// traffic.
//
// The pieces compose like this:
//
//   - A [Sampler] reads every GPU once per call into a caller-owned slice of
//     [Sample]. [OpenNVML] reads NVML directly (cgo; libnvidia-ml is loaded
//     with dlopen at run time, so the binary builds and starts without it);
//     [OpenSMI] runs one long-lived `nvidia-smi --query-gpu … -lms N` and
//     falls back to polling; [Open] with [KindAuto] picks the first that
//     works and fails with a one-line [*NoGPUError] (errors.Is(err,
//     ErrNoGPU)) when none does. Both samplers describe the driver and the
//     GPUs for a manifest through [Info] ([SystemInfo]: driver, NVML and
//     CUDA versions, each GPU's memory, PCIe link and power limit).
//   - A [Monitor] runs a Sampler on a drift-free ticker (100 ms by default,
//     down to 10 ms), writes every row to a [sink.Sink] (a sink.CSV of
//     Sample writes gpu_metrics.csv, whose first columns are
//     `timestamp,power.draw [W],utilization.gpu [%],memory.used [MiB]`,
//     nvidia-smi's names, as the original study's dmon_wrapper.py wrote
//     them) and
//     keeps per-GPU summaries in constant memory (streaming histograms, so
//     it can run for weeks): a [Report] with mean/max/p99 power and
//     utilization, energy in the window, J per token and redlining.
//     [Monitor.Start] and [Watch] run it around a piece of work.
//   - For services, [Monitor.Collector] is a Prometheus collector to
//     register on your own Registerer and [Monitor.Handler] serves the
//     latest readings as JSON. Where Open fails (no GPU), [Unavailable] turns its
//     error into a Sampler, so the service still serves: gpu_up 0 and a
//     503 that says why.
//
// A value a GPU does not report is NaN in a Sample, an empty CSV field and
// absent from JSON and Prometheus: never 0. A GPU that fails mid-run gets
// gap rows (Err set, every value missing) and the run goes on. Timestamps
// come from time.Now, the clock the profiler uses, so GPU rows and profiler
// records can be joined on time.
//
// # Concurrency
//
// A [Monitor] is safe for concurrent use: one goroutine runs it (Run,
// Start or Watch, once) while others call Report, Handler, Collector and
// AddTokens. Samplers, including [Unavailable]'s, are called by one
// goroutine at a time. [Config], [Report], [Sample] and [SystemInfo] are
// plain data: safe to copy and to read from several goroutines.
package gpumon
