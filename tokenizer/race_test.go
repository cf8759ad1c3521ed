//go:build race

package tokenizer

// raceEnabled shortens the whole-novel checks under the race detector,
// which slows encoding tenfold; plain go test runs them in full.
const raceEnabled = true
