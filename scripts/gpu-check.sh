#!/usr/bin/env bash
# gpu-check.sh: check gpumon against a real NVIDIA GPU, in under 5 minutes.
#
# While a PyTorch matmul loop loads GPU 0 (4 s of matmuls, then 1 s of
# host-to-device copies and 1 s idle, repeating), it runs examples/gpucheck,
# which samples through NVML at 100 ms and at 10 ms (interval jitter,
# gpumon's CPU cost, PCIe readings) and then next to
# `nvidia-smi --query-gpu -lms 100` (per-field agreement, and the stream's
# own intervals). The load prints its measured host-to-device copy rate, to
# hold against the PCIe rx readings (NVML says KB/s; is it?).
#
# Usage:
#   scripts/gpu-check.sh [GPUCHECK_BINARY]
#
# GPUCHECK_BINARY is a gpucheck built elsewhere with
#   CGO_ENABLED=1 go build -o gpucheck ./examples/gpucheck
# (it needs cgo but not the NVIDIA library at build time; glibc on the GPU
# machine must be as new as the build machine's: 2.34 for one built on
# Debian 12). Without it the script builds one with `go build` if Go is
# installed (the build's time counts against the 5 minutes: phases shrink
# to fit).
#
# Environment: PHASE (length of each of the three phases, default 30s),
# PYTHON (default python3), LOAD_N (matrix size, default 8192).
set -euo pipefail
SECONDS=0
budget_s=285 # the whole check, startup included, stays under 5 minutes

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
ldconfig -p 2>/dev/null | grep -q 'libnvidia-ml\.so\.1' \
  || say "warning: libnvidia-ml.so.1 is not in the ldconfig cache; gpucheck will fail unless LD_LIBRARY_PATH finds it"
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
# A binary built against a newer glibc fails here, before the load starts.
if ! out="$("$bin" -h 2>&1)"; then
  echo "$out" | head -5 >&2
  die "$bin does not run on this machine (a glibc older than the build machine's?); build gpucheck here or on an older system"
fi

echo "== machine =="
date -u +"%Y-%m-%dT%H:%M:%SZ"
nvidia-smi --query-gpu=index,name,driver_version,power.limit,memory.total --format=csv || true
"$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'

cat >"$work/load.py" <<'PY'
import sys, time
import torch
n, seconds = int(sys.argv[1]), float(sys.argv[2])
a = torch.randn(n, n, device="cuda", dtype=torch.float16)
b = torch.randn(n, n, device="cuda", dtype=torch.float16)
c = a @ b
host = torch.empty(256 << 20, dtype=torch.uint8).pin_memory()
dev = torch.empty_like(host, device="cuda")
dev.copy_(host, non_blocking=True)
torch.cuda.synchronize()
t0 = time.perf_counter()
for _ in range(8):
    dev.copy_(host, non_blocking=True)
torch.cuda.synchronize()
h2d = 8 * host.numel() / (time.perf_counter() - t0) / 1e6
print("ready", torch.cuda.get_device_name(0), "| host-to-device copy %.0f MB/s (10^6 B/s)" % h2d, flush=True)
end = time.time() + seconds
while time.time() < end:
    busy_until = time.time() + 4.0
    while time.time() < busy_until:
        for _ in range(10):
            c = a @ b
        torch.cuda.synchronize()
    copy_until = time.time() + 1.0
    while time.time() < copy_until:
        dev.copy_(host, non_blocking=True)
        torch.cuda.synchronize()
    time.sleep(1.0)
PY
# Fit the three phases (and gpucheck's ~30 s of set-up) into what is left.
left=$(( budget_s - SECONDS - 60 ))
if (( 3 * phase_s + 30 > left )); then
  phase_s=$(( (left - 30) / 3 ))
  (( phase_s >= 5 )) || die "no time left for the phases (${SECONDS}s spent on set-up)"
  say "shortening each phase to ${phase_s}s to stay under 5 minutes"
fi
load_s=$(( 3 * phase_s + 60 ))
say "starting the matmul load (n=$LOAD_N, $load_s s, 4 s matmul / 1 s copies / 1 s idle)"
timeout "$((load_s + 30))" "$PYTHON" "$work/load.py" "$LOAD_N" "$load_s" >"$work/load.out" 2>"$work/load.err" &
load_pid=$!
for _ in $(seq 1 120); do
  grep -q '^ready' "$work/load.out" 2>/dev/null && break
  kill -0 "$load_pid" 2>/dev/null || { cat "$work/load.err" >&2; die "the PyTorch load exited before it was ready"; }
  sleep 0.5
done
grep -q '^ready' "$work/load.out" || die "the PyTorch load was not ready within 60 s"
say "load running: $(head -1 "$work/load.out")"

echo "== gpucheck (phase ${phase_s}s) =="
rc=0
timeout "$((3 * phase_s + 45))" "$bin" --phase "${phase_s}s" || rc=$?
if (( rc == 124 )); then die "gpucheck timed out"; fi
(( rc == 0 )) || die "gpucheck failed with exit code $rc"
kill -0 "$load_pid" 2>/dev/null || say "warning: the load ended before gpucheck did; agreement covers idle time too"
echo "== done in ${SECONDS}s =="
