#!/usr/bin/env bash
# Builds and runs a throwaway module that imports tr117 the way a user's
# benchmark does: `require tr117 v0.0.0` plus `replace tr117 => /path/to/tr117`.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/go.mod" <<MOD
module example.com/mybench

go 1.26

require tr117 v0.0.0

replace tr117 => $repo
MOD
cat >"$tmp/main.go" <<'GO'
package main

import (
	"fmt"
	"os"

	"tr117/sink"
	"tr117/stats"
)

func main() {
	s, err := stats.Summarize([]float64{12, 15, 11, 30, 14})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var mem sink.Memory[stats.Summary]
	mem.Write(s)
	fmt.Printf("n=%d p50=%g\n", s.N, s.P50)
}
GO
cd "$tmp"
# The replaced module's requirements come from its own go.mod; copy its sums.
cp "$repo/go.sum" go.sum
go mod tidy >/dev/null
out="$(go run .)"
echo "$out"
[ "$out" = "n=5 p50=14" ] || { echo "check-import: unexpected output: $out" >&2; exit 1; }
