#!/usr/bin/env bash
# Benchmark of the full fp.sweep (all 2^32 float32 bit patterns) in a release build, for FP16
# and BF16, beside the physical limit on the same machine in the same run: a bare loop of the
# CPU's conversion instruction vcvtps2ph over the same patterns (scripts/bench-f16c-bare.c),
# on the same cores, with nothing else to do. Then `derive check --heavy`, which runs both
# sweeps and every other lesson.
#
# Usage: scripts/bench-fp-sweep.sh [--numpy]     (from anywhere inside the repository)
#   --numpy   also time numpy's astype(np.float16) over the same patterns (about 4 minutes of
#             one core; needs python3 with numpy)
# Environment: SCRATCH_PATH (default .build-release), CC (default clang, else cc).
# Needs: swift and a C compiler. Takes a minute or so; uses every core.
#
# The sweep does more per pattern than the bare loop: the lesson's bit-level conversion on
# SIMD lanes, the reference conversion (vcvtps2ph, or the BF16 integer trick) and a comparison.
# The ratio says how far above the bare instruction that costs. Other jobs on the machine
# slow everything down: the load average is printed before and after, and the CPU time of
# each run beside its wall time.
set -euo pipefail
cd "$(dirname "$0")/.."

numpy=false
[[ "${1:-}" == "--numpy" ]] && numpy=true

scratch=${SCRATCH_PATH:-.build-release}
echo "== release build (scratch path $scratch)" >&2
scripts/build-release "$scratch" >&2
derive=$scratch/release/derive

cc=${CC:-$(command -v clang || command -v cc)}
bare=$(mktemp -t bench-f16c-bare.XXXXXX)
cpu_file=$(mktemp -t bench-cpu.XXXXXX)
trap 'rm -f "$bare" "$cpu_file"' EXIT
"$cc" -O2 -pthread -I Sources/CF16C/include scripts/bench-f16c-bare.c Sources/CF16C/CF16C.c -o "$bare"

echo "== machine"
echo "cores: $(getconf _NPROCESSORS_ONLN)"
grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/^model name[[:space:]]*: /cpu: /' || true
swift --version 2>&1 | head -1
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"

# CPU seconds (user + system) of a command, into $cpu_file; the load on a shared machine
# stretches the wall time but hardly the work.
timed() {
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -o "$cpu_file" -f "%U %S" "$@"
    else
        echo "nan 0" > "$cpu_file"
        "$@"
    fi
}
cpu_seconds() { awk '{ printf "%.2f", $1 + $2 }' "$cpu_file"; }

# Runs `derive compute fp.sweep`, shows its outputs (on stderr) and prints its seconds.
sweep() {
    local json
    json=$(timed "$derive" compute fp.sweep --set "format=$1" --format json)
    echo "$json" | grep -E '"(checked|mismatches|first_mismatch|seconds|rate|threads|reference)"' | sed 's/^ */  /' >&2
    echo "  CPU time: $(cpu_seconds) s" >&2
    echo "$json" | sed -n 's/.*"seconds": \([0-9.e+-]*\).*/\1/p'
}

echo "== derive compute fp.sweep --set format=fp16 (all 2^32 patterns)"
fp16=$(sweep fp16)
fp16_cpu=$(cpu_seconds)
echo "== derive compute fp.sweep --set format=bf16 (all 2^32 patterns)"
bf16=$(sweep bf16)
bf16_cpu=$(cpu_seconds)
echo "== bare vcvtps2ph loop over the same 2^32 patterns (the physical limit)"
read -r bare_seconds bare_threads bare_rate _ < <(timed "$bare")
bare_cpu=$(cpu_seconds)
echo "  bare: $bare_seconds s on $bare_threads threads ($bare_rate conversions/s), CPU time $bare_cpu s"
echo "== time derive check --heavy (both sweeps and every lesson)"
start=$(date +%s.%N)
timed "$derive" check --heavy | tail -1
check_cpu=$(cpu_seconds)
check=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"

echo "== summary"
awk -v f="$fp16" -v b="$bf16" -v x="$bare_seconds" -v c="$check" -v n="$bare_threads" \
    -v fc="$fp16_cpu" -v bc="$bf16_cpu" -v xc="$bare_cpu" -v cc="$check_cpu" 'BEGIN {
    printf "fp16 sweep %.2f s, bf16 sweep %.2f s, bare vcvtps2ph loop %.3f s: ratio %.1f (fp16), %.1f (bf16)\n", f, b, x, f / x, b / x
    printf "derive check --heavy %.2f s\n", c
    printf "CPU seconds: fp16 %.2f, bf16 %.2f, bare %.2f, check --heavy %.2f (on %d idle cores: %.2f, %.2f, %.2f, %.2f s)\n", fc, bc, xc, cc, n, fc / n, bc / n, xc / n, cc / n
    printf "targets (fp16, bf16 <= 2 s; check --heavy <= 6 s): %s\n", (f <= 2 && b <= 2 && c <= 6) ? "met" : "NOT met"
}'

if $numpy; then
    echo "== numpy: np.arange(2**32, dtype=np.uint32).view(np.float32).astype(np.float16), in chunks"
    python3 - <<'PY'
import time
import numpy as np

total = 2**32
chunk = 2**26  # 256 MiB of uint32 per chunk
convert = 0.0
start_all = time.perf_counter()
for lo in range(0, total, chunk):
    patterns = np.arange(lo, lo + chunk, dtype=np.uint64).astype(np.uint32)
    floats = patterns.view(np.float32)
    t = time.perf_counter()
    with np.errstate(all="ignore"):
        halves = floats.astype(np.float16)
    convert += time.perf_counter() - t
    del patterns, floats, halves
elapsed = time.perf_counter() - start_all
print(f"numpy {np.__version__} fp16 conversion only: {convert:.2f} s, {total / convert:.3e} conversions/s (one core)")
print(f"numpy fp16 with pattern generation: {elapsed:.2f} s, {total / elapsed:.3e} patterns/s")
PY
fi
