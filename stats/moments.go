package stats

import (
	"math"

	"gonum.org/v1/gonum/stat"
)

// meanStdDev returns the mean and sample standard deviation of xs, whose
// values are finite and lie in [lo, hi]. It uses gonum's corrected two-pass
// algorithm (stat.MeanStdDev) and, when an intermediate sum overflows,
// repeats it on values scaled into [-1, 1].
func meanStdDev(xs []float64, lo, hi float64) (mean, sd float64, err error) {
	if len(xs) == 1 {
		return xs[0], 0, nil
	}
	mean, sd = stat.MeanStdDev(xs, nil)
	if isFinite(mean) && isFinite(sd) {
		return mean, sd, nil
	}
	scale := max(math.Abs(lo), math.Abs(hi))
	var sum float64
	for _, x := range xs {
		sum += x / scale
	}
	m := sum / float64(len(xs))
	var ss, comp float64
	for _, x := range xs {
		d := x/scale - m
		ss += d * d
		comp += d
	}
	v := (ss - comp*comp/float64(len(xs))) / float64(len(xs)-1)
	mean, sd = m*scale, math.Sqrt(v)*scale
	if !isFinite(mean) || !isFinite(sd) {
		return 0, 0, ErrOverflow
	}
	return mean, sd, nil
}

func isFinite(x float64) bool { return x-x == 0 }
