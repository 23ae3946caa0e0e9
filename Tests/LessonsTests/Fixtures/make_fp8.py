#!/usr/bin/env python3
"""Reference values for FP8 rounding and per-tensor scaling, from ml_dtypes and numpy.

Writes fp8.json beside this script:
  patterns      for float8_e4m3fn and float8_e5m2: all 256 bit patterns and the exact value
                ml_dtypes gives each (as float64 bits; NaN patterns flagged).
  round         [float64 bits (hex), fp8 bits]: ml_dtypes' float64 -> float8 cast (round to
                nearest, ties to even, one rounding: checked below), over random doubles
                across and beyond each range, exact ties and their neighbours, and specials.
  saturate      fp8 bits of the saturating cast of the same inputs as round, computed as
                np.clip to +-max followed by the plain cast (NaN passes through).
  tensors       the tensors of scale_tensor (float64 bits).
  scale_tensor  tensors cast to float8_e4m3fn / float8_e5m2 / float16 / bfloat16 with and
                without the amax scale largest/amax/2^margin: casts (as float64 bits),
                counts and relative L2 errors.

Doubles are stored as 64-bit patterns in hex so that no JSON parser can change them.

Run: python3 make_fp8.py  (numpy 2.x, ml_dtypes 0.7)
"""
import json
import os

import ml_dtypes
import numpy as np

rng = np.random.default_rng(20220912)
FORMATS = {"fp8-e4m3": ml_dtypes.float8_e4m3fn, "fp8-e5m2": ml_dtypes.float8_e5m2}


def dbits(x):
    return "0x%016x" % np.array([x], dtype=np.float64).view(np.uint64)[0]


def cast_bits(xs, dtype):
    arr = np.array(xs, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        out = arr.astype(dtype)
    width = np.dtype(dtype).itemsize * 8
    return [int(v) for v in out.view({8: np.uint8, 16: np.uint16}[width])]


def check_single_rounding():
    # 1 + 2^-4 is halfway between the E4M3 values 1 and 1.125; 2^-30 above it is lost in
    # float32, so a cast through float32 would give 1 (0x38) and a single rounding 0x39.
    assert cast_bits([1 + 2.0**-4 + 2.0**-30], ml_dtypes.float8_e4m3fn) == [0x39]
    # 1 + 2^-3 is halfway between the E5M2 values 1 and 1.25.
    assert cast_bits([1 + 2.0**-3 + 2.0**-30], ml_dtypes.float8_e5m2) == [0x3D]
    # The same for bfloat16 (halfway between 1 and 1 + 2^-7) and float16.
    assert cast_bits([1 + 2.0**-8 + 2.0**-40], ml_dtypes.bfloat16) == [0x3F81]
    assert cast_bits([1 + 2.0**-11 + 2.0**-40], np.float16) == [0x3C01]


def patterns(dtype):
    vals = np.arange(256, dtype=np.uint8).view(dtype).astype(np.float64)
    return [[p, dbits(v), bool(np.isnan(v))] for p, v in enumerate(vals)]


def round_inputs(dtype):
    fi = ml_dtypes.finfo(dtype)
    mx, tiny_sub = float(fi.max), float(fi.smallest_subnormal)
    specials = [0.0, -0.0, float("inf"), float("-inf"), float("nan"), -float("nan"),
                mx, -mx, mx * 1.0000001, 1e6, -1e6, 1.7976931348623157e308, 5e-324, -5e-324,
                tiny_sub, tiny_sub / 2, tiny_sub / 2 * (1 + 2.0**-52), tiny_sub * 0.75,
                float(fi.tiny), float(fi.tiny) * (1 - 2.0**-10), 0.1, 1 / 3, 448, 464, 465,
                480, 500, 57344, 61439, 61440, 61441, 65536, 2.0**-9, 2.0**-10, 2.0**-16, 2.0**-17]
    xs = list(specials)
    lo = int(np.floor(np.log2(tiny_sub))) - 3
    hi = int(np.ceil(np.log2(mx))) + 3
    xs += list(rng.choice([-1.0, 1.0], 1500) * np.exp2(rng.uniform(lo, hi, 1500)))
    # Every midpoint between consecutive finite values (and past the largest), nudged or not.
    finite = np.arange(256, dtype=np.uint8).view(dtype).astype(np.float64)
    finite = np.unique(finite[np.isfinite(finite) & (finite >= 0)])
    ulp_top = finite[-1] - finite[-2]
    grid = np.append(finite, finite[-1] + ulp_top)
    for a, b in zip(grid[:-1], grid[1:]):
        mid = (a + b) / 2
        for x in (mid, np.nextafter(mid, np.inf), np.nextafter(mid, -np.inf)):
            xs += [x, -x]
    return xs


def saturating(xs, dtype):
    mx = float(ml_dtypes.finfo(dtype).max)
    arr = np.array(xs, dtype=np.float64)
    clipped = np.where(np.isnan(arr), arr, np.clip(arr, -mx, mx))
    return cast_bits(clipped, dtype)


def scale_tensor_cases():
    dtypes = {"fp8-e4m3": ml_dtypes.float8_e4m3fn, "fp8-e5m2": ml_dtypes.float8_e5m2,
              "fp16": np.float16, "bf16": ml_dtypes.bfloat16}
    tensors = [[0.002, -0.5, 3.1, 1200, -7e-4, 0.03, 45, -2e-5, 0.8, 600]]
    tensors.append(list(rng.choice([-1.0, 1.0], 120) * np.exp2(rng.uniform(-30, 20, 120))))
    tensors.append(list(rng.standard_normal(100) * 1e-4))
    tensors.append([0.0, 0.0, 0.0])
    out = []
    for t_index, t in enumerate(tensors):
        x = np.array(t, dtype=np.float64)
        for name, dtype in dtypes.items():
            for margin in (0, 3):
                mx = float(ml_dtypes.finfo(dtype).max)
                amax = float(np.max(np.abs(x)))
                scale = 1.0 if amax == 0 else mx / amax / 2.0**margin
                with np.errstate(over="ignore", invalid="ignore"):
                    cast = x.astype(dtype).astype(np.float64)
                    scaled = (x * scale).astype(dtype).astype(np.float64)
                rec = scaled / scale
                nz = x != 0
                smallest_normal = float(ml_dtypes.finfo(dtype).tiny)

                def rel(a):
                    n = np.linalg.norm(x)
                    if n == 0:
                        return 0.0
                    with np.errstate(invalid="ignore", over="ignore"):
                        return float(np.linalg.norm(a - x) / n)

                out.append({
                    "tensor": t_index, "format": name, "margin": margin,
                    "amax": dbits(amax), "scale": dbits(scale),
                    "cast": [dbits(v) for v in cast], "scaled_cast": [dbits(v) for v in scaled],
                    "underflow": int(np.sum(nz & (cast == 0))),
                    "overflow": int(np.sum(~np.isfinite(cast))),
                    "subnormal": int(np.sum(nz & (cast != 0) & (np.abs(cast) < smallest_normal))),
                    "underflow_scaled": int(np.sum(nz & (scaled == 0))),
                    "overflow_scaled": int(np.sum(~np.isfinite(scaled))),
                    "subnormal_scaled": int(np.sum(nz & (scaled != 0) & (np.abs(scaled) < smallest_normal))),
                    "relative_error": dbits(rel(cast)), "relative_error_scaled": dbits(rel(rec))})
    return [[dbits(v) for v in t] for t in tensors], out


check_single_rounding()
data = {"patterns": {}, "round": {}, "saturate": {}}
for name, dtype in FORMATS.items():
    data["patterns"][name] = patterns(dtype)
    xs = round_inputs(dtype)
    data["round"][name] = [[dbits(x), b] for x, b in zip(xs, cast_bits(xs, dtype))]
    data["saturate"][name] = saturating(xs, dtype)
data["tensors"], data["scale_tensor"] = scale_tensor_cases()
data["versions"] = {"numpy": np.__version__, "ml_dtypes": ml_dtypes.__version__}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fp8.json")
with open(path, "w") as f:
    json.dump(data, f, separators=(",", ":"), allow_nan=False)
    f.write("\n")
print("wrote", path, {k: len(v) for k, v in data["round"].items()}, len(data["scale_tensor"]))
