// Package stats holds the statistics every tr117 report is made of.
//
// Describe a sample with [Summarize]: n, mean, standard deviation, extremes,
// p50/p90/p95/p99/p99.9 and any other percentile asked for, and the
// coefficient of variation; or take a single [Percentile]. Put an
// uncertainty on a mean or median with [BootstrapMean] and
// [BootstrapMedian] ([Bootstrap] for any statistic); the intervals are
// seeded and reproducible.
//
// Decide whether a change made a difference with [Compare]. It runs the
// Mann-Whitney U test (which decides, as in benchstat), Welch's t-test,
// Cliff's delta and Hedges' g, bootstraps the difference and ratio of
// medians and means, and returns benchstat's sample-size caveats as typed
// [Comparison].Warnings ([SampleSizeWarning], [NormalApproxWarning],
// [UndefinedWarning]): values a report words as it likes.
// The pieces are also available one by one: [MannWhitneyU], [WelchT],
// [CliffsDelta], [HedgesG].
//
// Relate two measured series (scheduler lag and multi-agent efficiency, say)
// with [Pearson] or [Spearman], each with its p-value.
//
// Summarize an unbounded stream, such as an hour of per-token latencies at
// 1000 tokens/s, in constant memory with a [Histogram]: its percentiles are
// within a stated relative error (1% by default) of the exact ones, Record
// does not allocate, and histograms from several goroutines [Histogram.Merge].
//
// # Conventions
//
// Functions take plain []float64 samples and never modify them. Every result
// is JSON-safe: no NaN or ±Inf appears in a returned struct, so results can
// be written into a manifest with encoding/json; a value that is undefined
// for the sample is 0 or a nil pointer, as documented on its field. Inputs
// that hold NaN or ±Inf are refused with [ErrNaN] and empty ones with
// [ErrEmpty]; all errors wrap one of the sentinel errors for [errors.Is].
// Nothing panics on data, only on the programmer errors documented on
// [PercentileSorted].
//
// Percentiles use linear interpolation between closest ranks, numpy's
// default (method="linear", R's type 7); see [Summary] for the definition.
// gonum's stat.Quantile implements other estimators (stat.LinInterp is R's
// type 4) and is not used. Means and standard deviations come from gonum's
// stat.MeanStdDev, Pearson's r from stat.Correlation, t-distribution
// p-values from gonum's distuv.StudentsT; the sample-size thresholds
// ([IntervalNeed], [SignificanceNeed]) are those of
// golang.org/x/perf/benchmath, which a test holds them to.
//
// # Concurrency
//
// The functions keep no state and are safe for concurrent use. Results and
// configs are plain values. A [Histogram] is not safe for concurrent use.
package stats
