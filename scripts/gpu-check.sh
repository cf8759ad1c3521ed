#!/usr/bin/env bash
# gpu-check.sh: check gpumon against a real NVIDIA GPU, in under 5 minutes.
#
# While a PyTorch matmul loop loads GPU 0 (4 s busy, 2 s idle, repeating),
# it runs examples/gpucheck, which samples through NVML at 100 ms and at
# 10 ms (interval jitter, gpumon's CPU cost) and then next to
# `nvidia-smi --query-gpu -lms 100` (per-field agreement).
#
# Usage:
#   scripts/gpu-check.sh [GPUCHECK_BINARY]
#
# GPUCHECK_BINARY is a gpucheck built elsewhere with
#   CGO_ENABLED=1 go build -o gpucheck ./examples/gpucheck
# (it needs cgo but not the NVIDIA library at build time; glibc on the GPU
# machine must be as new as the build machine's). Without it the script
# builds one with `go build` if Go is installed.
#
# Environment: PHASE (length of each of the three phases, default 30s),
# PYTHON (default python3), LOAD_N (matrix size, default 8192).
set -euo pipefail

PHASE="${PHASE:-30s}"
PYTHON="${PYTHON:-python3}"
LOAD_N="${LOAD_N:-8192}"

die() { echo "gpu-check: $*" >&2; exit 1; }
say() { echo "gpu-check: $*" >&2; }

# Seconds in PHASE (accepts 30s, 2m, 45).
case "$PHASE" in
  *m) phase_s=$(( ${PHASE%m} * 60 )) ;;
  *s) phase_s=${PHASE%s} ;;
  *) phase_s=$PHASE ;;
esac
[[ "$phase_s" =~ ^[0-9]+$ ]] && (( phase_s >= 1 && phase_s <= 80 )) \
  || die "PHASE must be 1s to 80s so the check stays under 5 minutes (got $PHASE)"

command -v nvidia-smi >/dev/null || die "nvidia-smi is not on PATH: is this a machine with an NVIDIA GPU and driver?"
command -v timeout >/dev/null || die "timeout (coreutils) is required"
timeout 20 nvidia-smi -L >/dev/null || die "nvidia-smi -L failed: is the NVIDIA driver loaded?"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found (set PYTHON=...)"
timeout 120 "$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
  || die "PyTorch with CUDA is not available to $PYTHON"

work="$(mktemp -d)"
load_pid=""
cleanup() {
  if [[ -n "$load_pid" ]] && kill -0 "$load_pid" 2>/dev/null; then
    kill "$load_pid" 2>/dev/null || true
    wait "$load_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bin="${1:-${GPUCHECK_BIN:-}}"
if [[ -z "$bin" ]]; then
  command -v go >/dev/null || die "no gpucheck binary given and Go is not installed; build one with: CGO_ENABLED=1 go build -o gpucheck ./examples/gpucheck"
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  say "building gpucheck with $(go version)"
  (cd "$root" && CGO_ENABLED=1 CGO_CFLAGS="${CGO_CFLAGS:--O2 -w}" timeout 240 go build -o "$work/gpucheck" ./examples/gpucheck) \
    || die "go build ./examples/gpucheck failed (it needs cgo: a C compiler)"
  bin="$work/gpucheck"
fi
[[ -x "$bin" ]] || die "$bin is not an executable file"

echo "== machine =="
date -u +"%Y-%m-%dT%H:%M:%SZ"
nvidia-smi --query-gpu=index,name,driver_version,power.limit,memory.total --format=csv || true
"$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'

load_s=$(( 3 * phase_s + 60 ))
cat >"$work/load.py" <<'PY'
import sys, time
import torch
n, seconds = int(sys.argv[1]), float(sys.argv[2])
a = torch.randn(n, n, device="cuda", dtype=torch.float16)
b = torch.randn(n, n, device="cuda", dtype=torch.float16)
c = a @ b
torch.cuda.synchronize()
print("ready", torch.cuda.get_device_name(0), flush=True)
end = time.time() + seconds
while time.time() < end:
    busy_until = time.time() + 4.0
    while time.time() < busy_until:
        for _ in range(10):
            c = a @ b
        torch.cuda.synchronize()
    time.sleep(2.0)
PY
say "starting the matmul load (n=$LOAD_N, $load_s s, 4 s busy / 2 s idle)"
timeout "$((load_s + 30))" "$PYTHON" "$work/load.py" "$LOAD_N" "$load_s" >"$work/load.out" 2>"$work/load.err" &
load_pid=$!
for _ in $(seq 1 120); do
  grep -q '^ready' "$work/load.out" 2>/dev/null && break
  kill -0 "$load_pid" 2>/dev/null || { cat "$work/load.err" >&2; die "the PyTorch load exited before it was ready"; }
  sleep 0.5
done
grep -q '^ready' "$work/load.out" || die "the PyTorch load was not ready within 60 s"
say "load running: $(head -1 "$work/load.out")"

echo "== gpucheck (phase $PHASE) =="
rc=0
timeout "$((3 * phase_s + 90))" "$bin" --phase "${phase_s}s" || rc=$?
if (( rc == 124 )); then die "gpucheck timed out"; fi
(( rc == 0 )) || die "gpucheck failed with exit code $rc"
kill -0 "$load_pid" 2>/dev/null || say "warning: the load ended before gpucheck did; agreement covers idle time too"
echo "== done =="
