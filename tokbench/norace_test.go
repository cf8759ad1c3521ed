//go:build !race

package tokbench

const raceEnabled = false
