#!/usr/bin/env bash
# Installs the Ollama server that tr117's real-server tests run against, if it
# is not installed yet, and prints the path of the binary on stdout.
#
# Ollama v0.6.5 is the newest tag whose llama.cpp copy builds from the Go module
# zip; it needs nlohmann/json's headers and a C/C++ compiler, and runs on CPU.
# The binary goes to ${XDG_CACHE_HOME:-$HOME/.cache}/tr117/ollama/v0.6.5/bin,
# where tr117/internal/ollamaserver looks for it (after $TR117_OLLAMA_BIN and
# PATH). A second run finds it there and does nothing.
set -euo pipefail

version=v0.6.5
dir="${XDG_CACHE_HOME:-$HOME/.cache}/tr117/ollama/$version/bin"
bin="$dir/ollama"

if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
	echo "$bin"
	exit 0
fi

log() { echo "install-ollama: $*" >&2; }

if [ ! -f /usr/include/nlohmann/json.hpp ]; then
	if [ "$(id -u)" != 0 ]; then
		log "needs nlohmann/json headers: run 'sudo apt-get install -y nlohmann-json3-dev' first"
		exit 1
	fi
	log "installing nlohmann-json3-dev"
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nlohmann-json3-dev >&2
fi
for tool in go gcc g++; do
	command -v "$tool" >/dev/null || { log "needs $tool on PATH"; exit 1; }
done

mkdir -p "$dir"
log "building ollama $version into $dir (2-4 minutes the first time)"
# Outside any module, so the project's go.mod does not constrain the build.
(cd "$(mktemp -d)" && GOBIN="$dir" GOFLAGS=-buildvcs=false go install "github.com/ollama/ollama@$version") >&2
"$bin" --version >&2 || true
echo "$bin"
