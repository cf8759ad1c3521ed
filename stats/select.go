package stats

import (
	"math/bits"
	"slices"
)

// selectRanks reorders a so that for every rank r in ranks (ascending,
// distinct, each in [0, len(a))), a[r] holds the value that would be at index
// r if a were sorted, every element before r is <= a[r] and every element
// after is >= a[r]. It is a multi-rank quickselect with three-way
// partitioning (so runs of equal values cost nothing) that falls back to
// sorting a sub-slice after 2·log2(n) unbalanced rounds, which bounds the
// worst case at O(n log n). a must not hold NaN.
func selectRanks(a []float64, ranks []int) {
	multiSelect(a, 0, ranks, 2*bits.Len(uint(len(a))))
}

// multiSelect settles the ranks (absolute indices into the original slice)
// that fall in a, which starts at index off of it.
func multiSelect(a []float64, off int, ranks []int, budget int) {
	for len(ranks) > 0 {
		if len(a) <= 24 || budget == 0 {
			slices.Sort(a)
			return
		}
		budget--
		lt, gt := partition3(a, pivot(a))
		// Ranks in [off+lt, off+gt) are settled: a[lt:gt] all equal the pivot.
		i := 0
		for i < len(ranks) && ranks[i] < off+lt {
			i++
		}
		j := i
		for j < len(ranks) && ranks[j] < off+gt {
			j++
		}
		left, right := ranks[:i], ranks[j:]
		switch {
		case len(left) > 0 && len(right) > 0:
			multiSelect(a[:lt], off, left, budget)
			a, off, ranks = a[gt:], off+gt, right
		case len(left) > 0:
			a, ranks = a[:lt], left
		default:
			a, off, ranks = a[gt:], off+gt, right
		}
	}
}

// pivot picks a pivot value: the median of three for short slices, Tukey's
// ninther for long ones.
func pivot(a []float64) float64 {
	n := len(a)
	if n < 512 {
		return med3(a[0], a[n/2], a[n-1])
	}
	s := n / 8
	return med3(
		med3(a[0], a[s], a[2*s]),
		med3(a[n/2-s], a[n/2], a[n/2+s]),
		med3(a[n-1-2*s], a[n-1-s], a[n-1]),
	)
}

func med3(x, y, z float64) float64 {
	if x > y {
		x, y = y, x
	}
	if y > z {
		y = z
	}
	return max(x, y)
}

// partition3 rearranges a into < p, == p, > p and returns the bounds of the
// middle part (Dijkstra's Dutch national flag).
func partition3(a []float64, p float64) (lt, gt int) {
	lt, i, gt := 0, 0, len(a)
	for i < gt {
		switch x := a[i]; {
		case x < p:
			a[lt], a[i] = x, a[lt]
			lt++
			i++
		case x > p:
			gt--
			a[gt], a[i] = x, a[gt]
		default:
			i++
		}
	}
	return lt, gt
}
