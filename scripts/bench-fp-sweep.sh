#!/usr/bin/env bash
# Benchmark of the full fp.sweep (all 2^32 float32 bit patterns) in a release build, for FP16
# and BF16, next to numpy's time for the same FP16 conversion on the same machine.
#
# Usage: scripts/bench-fp-sweep.sh            (from anywhere inside the repository)
# Needs: swift, python3 with numpy. Takes a few minutes; uses every core for the sweeps.
#
# The sweep does more per pattern than numpy: the lesson's bit-level conversion, the reference
# conversion (native Float16, or the BF16 integer trick) and a comparison. numpy does one
# float32 -> float16 conversion per pattern (plus generating the patterns, timed separately).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== release build (scratch path .build-release)" >&2
swift build -c release --scratch-path .build-release --product derive >&2
derive=.build-release/release/derive

echo "== machine"
echo "cores: $(getconf _NPROCESSORS_ONLN)"
grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/^model name[[:space:]]*: /cpu: /' || true
swift --version 2>&1 | head -1
python3 -c 'import numpy; print("numpy", numpy.__version__)'

for format in fp16 bf16; do
    echo "== derive compute fp.sweep --set format=$format (all 2^32 patterns)"
    "$derive" compute fp.sweep --set "format=$format" --format json
done

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
print(f"numpy fp16 conversion only: {convert:.2f} s, {total / convert:.3e} conversions/s (one core)")
print(f"numpy fp16 with pattern generation: {elapsed:.2f} s, {total / elapsed:.3e} patterns/s")
PY
