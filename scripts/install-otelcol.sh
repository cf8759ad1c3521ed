#!/usr/bin/env bash
# Installs the OpenTelemetry Collector that tr117's telemetry tests export to,
# if it is not installed yet, and prints the path of the binary on stdout.
#
# The binary is the core collector with only the OTLP receiver and the debug
# exporter (the tests read its detailed output), built from the Go module proxy
# with the collector's own builder (ocb). It goes to
# ${XDG_CACHE_HOME:-$HOME/.cache}/tr117/otelcol/$version/bin, where
# tr117/internal/otelcolserver looks for it (after $TR117_OTELCOL_BIN and PATH).
# A second run finds it there and does nothing. The first build takes several
# minutes on a small machine.
set -euo pipefail

version=0.165.0
confmap=v1.47.0
root="${XDG_CACHE_HOME:-$HOME/.cache}/tr117/otelcol/v$version"
dir="$root/bin"
bin="$dir/otelcol"

if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
	echo "$bin"
	exit 0
fi

log() { echo "install-otelcol: $*" >&2; }
command -v go >/dev/null || { log "needs go on PATH"; exit 1; }

work="$root/build"
mkdir -p "$work" "$dir"
cat >"$work/builder.yaml" <<YAML
dist:
  name: otelcol
  description: tr117 test collector (OTLP receiver, debug exporter)
  output_path: $work/out
  version: $version
receivers:
  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver v$version
exporters:
  - gomod: go.opentelemetry.io/collector/exporter/debugexporter v$version
providers:
  - gomod: go.opentelemetry.io/collector/confmap/provider/fileprovider $confmap
  - gomod: go.opentelemetry.io/collector/confmap/provider/envprovider $confmap
YAML

log "building otelcol $version into $dir (several minutes the first time)"
# Outside any module, so the project's go.mod does not constrain the build.
(cd "$work" && GOFLAGS=-buildvcs=false GOBIN="$work/tools" \
	go install "go.opentelemetry.io/collector/cmd/builder@v$version") >&2
(cd "$work" && GOFLAGS=-buildvcs=false "$work/tools/builder" --config builder.yaml) >&2
install -m 0755 "$work/out/otelcol" "$bin.tmp"
mv "$bin.tmp" "$bin"
"$bin" --version >&2 || true
echo "$bin"
