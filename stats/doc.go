// Package stats holds the statistics every tr117 report is made of:
// summaries with percentiles, bootstrap confidence intervals, A/B
// comparisons, correlations and a streaming histogram.
//
// The functions take plain []float64 samples and never modify them. Every
// result is JSON-safe: no NaN or ±Inf ever appears in a returned struct, so
// results can be written into a manifest with encoding/json. Inputs that
// hold NaN or ±Inf are refused with [ErrNaN], empty ones with [ErrEmpty];
// nothing in this package panics on data, only on programmer errors that
// are documented on the function.
//
// Percentiles use linear interpolation between closest ranks, numpy's
// default; see [Summary] for the definition. gonum's stat.Quantile with
// stat.LinInterp is a different estimator (R's type 4) and is not used.
package stats
