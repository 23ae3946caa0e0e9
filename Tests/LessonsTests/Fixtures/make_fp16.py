#!/usr/bin/env python3
"""Reference values for the mixed-precision lesson, from numpy and ml_dtypes.

Writes fp16.json beside this script:
  fp16        [double bits (hex), fp16 bits]: numpy's float64 -> float16 cast, which rounds
              once (round to nearest, ties to even); NaNs keep numpy's payload.
  bf16        [float32 bits (hex), bf16 bits]: ml_dtypes' float32 -> bfloat16 cast. Only
              float32 inputs are used because ml_dtypes converts a float64 through float32
              (rounding twice), which is not the single rounding the lesson describes.
  accumulate  repeated addition in float16 (numpy), bfloat16 (ml_dtypes) and float32 (numpy):
              every sum of two values of a format is rounded back to that format.
  loss_scale  float16 casts of gradients and of gradients times a scale (numpy).

Every double is stored as its 64-bit pattern in hex ("0x3fb999999999999a"), so that no
JSON parser's decimal conversion can change it.

Run: python3 make_fp16.py  (numpy 2.x, ml_dtypes 0.6)
"""
import json
import os

import ml_dtypes
import numpy as np

rng = np.random.default_rng(20180215)


def dbits(x):
    return "0x%016x" % np.array([x], dtype=np.float64).view(np.uint64)[0]


def fp16_cases():
    specials = [
        0.0, -0.0, float("inf"), float("-inf"), float("nan"), -float("nan"),
        0.1, 1 / 3, 65519.0, 65520.0, 65504.0, 65519.99999999999, 65520.00000000001,
        2.0**-24, 3 * 2.0**-26, 2.0**-25, 2.0**-25 * (1 + 2**-52), 2.0**-26,
        1 + 2.0**-11, 1 + 3 * 2.0**-11, 1 + 2.0**-11 + 2.0**-40, 2047.5, 2048.5, 2049.0,
        2.0**-14, 2.0**-14 - 2.0**-25, 1023.5 * 2.0**-24, np.finfo(np.float64).max,
        -np.finfo(np.float64).max, 5e-324, -5e-324, 1e-300, 1e300, -65520.0, -0.1,
    ]
    xs = list(specials)
    # Random doubles across and beyond FP16's range, random mantissa bits.
    exps = rng.uniform(-30, 17, 3000)
    xs += list(rng.choice([-1.0, 1.0], 3000) * np.exp2(exps))
    # Values near FP16 rounding ties: a kept pattern plus half an ulp, nudged or not.
    for _ in range(1500):
        e = int(rng.integers(-24, 16))
        m = int(rng.integers(0, 2048))
        ulp = 2.0 ** max(e - 10, -24)
        base = (1024 + m % 1024) * ulp if e >= -14 else m * 2.0**-24
        nudge = [0.0, ulp * 2**-30, -ulp * 2**-30][int(rng.integers(0, 3))]
        xs.append(float(rng.choice([-1.0, 1.0])) * (base + ulp / 2 + nudge))
    arr = np.array(xs, dtype=np.float64)
    half = arr.astype(np.float16).view(np.uint16)
    return [[dbits(x), int(h)] for x, h in zip(arr, half)]


def bf16_cases():
    pats = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x7F800001,
            0x3F800000, 0x3F808000, 0x3F818000, 0x3F808001, 0x7F7FFFFF, 0x7F7F7FFF, 0x7F7F8000,
            0x00000001, 0x00008000, 0x00018000, 0x007FFFFF, 0x3DCCCCCD, 0x3EAAAAAB]
    pats += [int(p) for p in rng.integers(0, 2**32, 4000, dtype=np.uint64)]
    # Ties and near-ties: low 16 bits 0x8000 or next to it.
    for p in rng.integers(0, 2**16, 1000, dtype=np.uint64):
        hi = int(p) << 16
        pats += [hi | 0x8000, hi | 0x7FFF, hi | 0x8001]
    arr = np.array(pats, dtype=np.uint32)
    bf = arr.view(np.float32).astype(ml_dtypes.bfloat16).view(np.uint16)
    return [["0x%08x" % a, int(b)] for a, b in zip(arr, bf)]


def accumulate(dtype, start, value, count):
    if dtype is ml_dtypes.bfloat16:
        # ml_dtypes rounds a float64 through float32; that equals one rounding unless the
        # float32 lands exactly halfway between two bfloat16 values.
        for x in (start, value):
            assert int(np.array([x], np.float32).view(np.uint32)[0]) & 0xFFFF != 0x8000
    s, v = dtype(start), dtype(value)
    stalled = -1
    for i in range(1, count + 1):
        nxt = dtype(s + v)
        if stalled < 0 and nxt == s:
            stalled = i
        s = nxt
    return float(s), stalled


def accumulate_cases():
    cases = [(1.0, 1e-4, 10000), (0.0, 1e-4, 10000), (2048.0, 1.0, 10), (1.0, 1e-3, 3000),
             (-1.0, 3e-4, 5000), (100.0, 0.01, 2000), (1.0, 1e-4, 0)]
    out = []
    for start, value, count in cases:
        h, hs = accumulate(np.float16, start, value, count)
        b, bs = accumulate(ml_dtypes.bfloat16, start, value, count)
        f, fs = accumulate(np.float32, start, value, count)
        out.append({"start": dbits(start), "value": dbits(value), "count": count,
                    "fp16": dbits(h), "fp16_stalled_at": hs, "bf16": dbits(b), "bf16_stalled_at": bs,
                    "fp32": dbits(f), "fp32_stalled_at": fs})
    return out


def loss_scale_cases():
    g = [0.5, -3e-2, 1e-3, -6e-5, 2e-6, -1e-7, 4e-8, -1e-8, 3e-9, -1e-10]
    g += list(rng.choice([-1.0, 1.0], 200) * np.exp2(rng.uniform(-40, 8, 200)))
    out = []
    for scale in [1024.0, 65536.0, 8.0, 3.0]:
        arr = np.array(g, dtype=np.float64)
        with np.errstate(over="ignore"):
            cast = arr.astype(np.float16).astype(np.float64)
            scaled = (arr * scale).astype(np.float16).astype(np.float64)
        out.append({"scale": scale, "gradients": [dbits(x) for x in arr],
                    "cast": [dbits(x) for x in cast],
                    "scaled_cast": [dbits(x) for x in scaled],
                    "underflow": int(np.sum((arr != 0) & (cast == 0))),
                    "underflow_scaled": int(np.sum((arr != 0) & (scaled == 0))),
                    "overflow_scaled": int(np.sum(np.isfinite(arr) & np.isinf(scaled)))})
    return out


with np.errstate(over="ignore"):
    data = {"fp16": fp16_cases(), "bf16": bf16_cases(),
            "accumulate": accumulate_cases(), "loss_scale": loss_scale_cases()}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fp16.json")
with open(path, "w") as f:
    json.dump(data, f, separators=(",", ":"))
    f.write("\n")
print("wrote", path, {k: len(v) for k, v in data.items()})
