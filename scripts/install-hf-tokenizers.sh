#!/usr/bin/env bash
# Installs Hugging Face's tokenizers library for Node.js (the npm package
# "tokenizers": the Rust core with prebuilt native bindings, linux-x64-gnu
# among them) that tr117/tokenizer's hf-node backend runs, if it is not installed
# yet, and prints the directory it is in on stdout.
#
# The package goes to ${XDG_CACHE_HOME:-$HOME/.cache}/tr117/hf-tokenizers/<version>
# (node_modules/tokenizers inside it), where tr117/tokenizer looks after
# $TR117_HF_NODE_DIR. A second run finds it there and does nothing. The
# version is tokenizer.HFNodeVersion; a test checks that the two agree.
set -euo pipefail

version=0.23.2
dir="${XDG_CACHE_HOME:-$HOME/.cache}/tr117/hf-tokenizers/$version"
pkg="$dir/node_modules/tokenizers"

log() { echo "install-hf-tokenizers: $*" >&2; }

command -v node >/dev/null || { log "needs node (Node.js 12 or later) on PATH: apt-get install nodejs"; exit 1; }

# Installed and loadable: nothing to do.
check='const t = require(process.argv[1]); t.Tokenizer.fromString; if (require(process.argv[1] + "/package.json").version !== process.argv[2]) process.exit(1)'
if [ -f "$pkg/package.json" ] && node -e "$check" "$pkg" "$version" >/dev/null 2>&1; then
	echo "$dir"
	exit 0
fi

command -v npm >/dev/null || { log "needs npm on PATH: apt-get install npm"; exit 1; }
log "installing the npm package tokenizers@$version into $dir"
mkdir -p "$dir"
tmp="$(mktemp -d "$dir.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
printf '{"name":"tr117-hf-tokenizers","private":true}\n' >"$tmp/package.json"
(cd "$tmp" && npm install --no-audit --no-fund --no-save --loglevel=error "tokenizers@$version") >&2
node -e "$check" "$tmp/node_modules/tokenizers" "$version" || { log "tokenizers@$version installed but does not load on $(node --version) $(uname -m)"; exit 1; }
rm -rf "$dir/node_modules"
mv "$tmp/node_modules" "$dir/node_modules"
cp "$tmp/package.json" "$dir/package.json"
echo "$dir"
