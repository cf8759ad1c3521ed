// Package telemetry puts tr117's measurements into the OpenTelemetry and
// Prometheus ecosystem, as the live view of a run; exact percentiles still
// come from the run's files.
//
// The pieces compose like this:
//
//   - A [Recorder] holds the instruments: the GenAI semantic conventions'
//     client metrics (gen_ai.client.operation.duration,
//     gen_ai.client.token.usage, gen_ai.client.operation.time_to_first_chunk
//     and gen_ai.client.operation.time_per_output_chunk, with the
//     conventions' units, bucket boundaries and attributes) and tr117's own
//     under a tr117. prefix (client overhead, chunk gap, scheduler lag,
//     schedule delay). It is built from the [metric.MeterProvider] and
//     [trace.TracerProvider] in a [Config]; tr117 never reads or sets the
//     OpenTelemetry globals. Nil providers record nothing.
//   - [Recorder.Wrap] wraps a [profiler.Streamer] (it has the signature of
//     profiler.Config.Wrap): each request becomes one client span, whose W3C
//     traceparent is sent to the server in the request's headers, with events
//     for the first token and the first content token; when the request ends
//     its Result is recorded into the metrics with attribute sets built once
//     per agent, and the span's trace id is written into Result.TraceID, from
//     where it reaches the run file (agent metrics "trace_id").
//   - A streamed message is the conventions' "chunk": time_to_first_chunk
//     is the first message's arrival, time_per_output_chunk each
//     inter-token latency (profiler.Result.ITL, between messages that carry
//     a token). tr117.chunk.gap is the transport's view: the gap between
//     reads of the body (profiler.Chunk.Gap).
//   - [Recorder.LagSink] and [Recorder.RecordScheduleDelay] feed the
//     scheduler-lag and schedule-delay histograms.
//   - [NewPipeline] builds the providers a command exports with: OTLP over
//     HTTP or gRPC ([ExportConfig], from the standard OTEL_* variables via
//     [ExportConfigFromEnv]) and a Prometheus registry for scraping
//     ([MetricsServer]). Export failures never fail or slow a run: they are
//     counted ([ExportStats]) and reported when the pipeline shuts down.
//
// # Concurrency
//
// [Recorder], [Pipeline], [Producer] and [MetricsServer] are safe for
// concurrent use.
// Configurations and [ExportStats] are plain data.
package telemetry
