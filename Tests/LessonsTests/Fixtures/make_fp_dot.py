#!/usr/bin/env python3
"""Reference values for fp.dot: FP16/BF16 dot products accumulated in FP16/BF16 and in FP32.

Writes fp_dot.json beside this script. Each case holds the inputs (the seeded draws, or
explicit vectors) and:
  low, fp32   s <- round(s + a_i*b_i) from s = 0, in index order, with the exact product
              and the exact sum rounded once (nearest, ties to even) to float16 / bfloat16 /
              float32. The rounding of an exact rational is done here from first principles:
              the nearest candidate among the cast of its float64 approximation and that
              value's two neighbours (numpy / ml_dtypes), compared with fractions.Fraction.
  exact       the exact sum (Fraction), rounded once to float64; math.fsum agrees.
  errors      low - exact and fp32 - exact as Fractions, rounded once.
  double_sum  the plain float64 left-to-right sum.
The seeded draws re-implement derive's generator: SplitMix64 seeding xoshiro256** 1.0, a
uniform double from the top 53 bits, Box-Muller pairs r*cos(2 pi u2), r*sin(2 pi u2) with
r = sqrt(-2 log(1 - u1)); a is the first n draws, b the next n.

Doubles are stored as 64-bit patterns in hex.

Run: python3 make_fp_dot.py  (numpy 2.x, ml_dtypes 0.7)
"""
import json
import math
import os
from fractions import Fraction

import ml_dtypes
import numpy as np

MASK = (1 << 64) - 1
DTYPES = {"fp16": np.float16, "bf16": ml_dtypes.bfloat16}
UINT = {np.float16: np.uint16, ml_dtypes.bfloat16: np.uint16, np.float32: np.uint32}


def dbits(x):
    return "0x%016x" % np.array([x], dtype=np.float64).view(np.uint64)[0]


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro:
    def __init__(self, seed):
        m = SplitMix64(seed)
        self.s = [m.next(), m.next(), m.next(), m.next()]

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def unit(self):
        return (self.next() >> 11) * 2.0**-53


def draws(n, seed, distribution):
    g = Xoshiro(seed)
    xs = []
    if distribution == "uniform":
        xs = [g.unit() for _ in range(2 * n)]
    else:
        for _ in range(n):
            u1, u2 = g.unit(), g.unit()
            r = math.sqrt(-2 * math.log(1 - u1))
            angle = 2 * math.pi * u2
            xs += [r * math.cos(angle), r * math.sin(angle)]
    return xs[:n], xs[n:]


def bits_of(x, dtype):
    return int(np.array([x], dtype=dtype).view(UINT[dtype])[0])


def from_bits(b, dtype):
    return np.array([b], dtype=UINT[dtype]).view(dtype)[0]


def round_exact(q, dtype):
    """The value of dtype nearest to the rational q, ties to an even bit pattern."""
    with np.errstate(over="ignore"):
        c = np.array([float(q)], dtype=np.float64).astype(dtype)[0]
    assert np.isfinite(c), "no overflow expected in these cases"
    b = bits_of(c, dtype)
    candidates = []
    for nb in (b - 1, b, b + 1):
        v = from_bits(nb & ((1 << (8 * np.dtype(dtype).itemsize)) - 1), dtype)
        if np.isfinite(v):
            candidates.append((abs(Fraction(float(v)) - q), nb & 1, float(v)))
    best = min(candidates)
    ties = [c for c in candidates if c[0] == best[0]]
    if len(ties) > 1:
        best = min(ties, key=lambda c: c[1])  # the even pattern
    return best[2]


def accumulate(products, dtype):
    s = 0.0
    swallowed = 0
    for p in products:
        nxt = round_exact(Fraction(s) + Fraction(p), dtype)
        if p != 0 and nxt == s:
            swallowed += 1
        s = nxt
    return s, swallowed


def case(name, a, b, fmt, n_given=None, seed=None, distribution=None):
    dtype = DTYPES[fmt]
    a_r = np.array(a, dtype=np.float64).astype(dtype).astype(np.float64)
    b_r = np.array(b, dtype=np.float64).astype(dtype).astype(np.float64)
    products = a_r * b_r
    exact = sum((Fraction(float(x)) * Fraction(float(y)) for x, y in zip(a_r, b_r)), Fraction(0))
    assert all(Fraction(float(p)) == Fraction(float(x)) * Fraction(float(y))
               for p, x, y in zip(products, a_r, b_r)), "products exact in float64"
    low, sw_low = accumulate(products, dtype)
    f32, sw_f32 = accumulate(products, np.float32)
    if fmt == "fp16":
        # For FP16 inputs the float64 sum rounded to the format is the same (innocuous double
        # rounding); checked here, used nowhere.
        s = np.float16(0)
        for p in products:
            s = np.float16(np.float64(s) + p)
        assert float(s) == low
    d = 0.0
    for p in products:
        d += float(p)
    assert math.fsum(products) == float(exact)
    abs_sum = sum((abs(Fraction(float(p))) for p in products), Fraction(0))
    out = {"name": name, "format": fmt, "n": len(a),
           "exact": dbits(float(exact)), "low": dbits(low), "fp32": dbits(f32),
           "error_low": dbits(float(Fraction(low) - exact)),
           "error_fp32": dbits(float(Fraction(f32) - exact)),
           "double_sum": dbits(d), "error_double": dbits(float(Fraction(d) - exact)),
           "swallowed_low": sw_low, "swallowed_fp32": sw_f32,
           "sum_abs_products": dbits(float(abs_sum)),
           "products_exact_in_fp32": bool(all(float(np.float32(p)) == p for p in products))}
    if seed is None:
        out["a"] = [dbits(x) for x in a]
        out["b"] = [dbits(x) for x in b]
    else:
        out.update({"seed": seed, "distribution": distribution, "n_given": n_given,
                    "a_head": [dbits(x) for x in a[:16]], "b_head": [dbits(x) for x in b[:16]],
                    "a_rounded_bits": [bits_of(x, dtype) for x in a_r] if len(a) <= 4096 else []})
    return out


cases = []
for n, seed, dist, fmt in [(4096, 1, "normal", "fp16"), (1000, 7, "uniform", "fp16"),
                           (777, 3, "normal", "bf16"), (3, 0, "uniform", "fp16"), (65536, 1, "normal", "fp16")]:
    a, b = draws(n, seed, dist)
    cases.append(case("seeded", a, b, fmt, n_given=n, seed=seed, distribution=dist))
# A tie the Double sum would break the wrong way in BF16: p1 = -2^-100, p2 = 1.75 * 37/64
# = 259/256, halfway between the BF16 values 258/256 and 260/256; the exact sum is just below
# the tie, so it rounds to 258/256, while 259/256 (the Double sum) would go to the even 260/256.
cases.append(case("bf16-tie", [2.0**-50, 1.75], [-(2.0**-50), 37 / 64], "bf16"))
cases.append(case("cancel", [1.0, 1.0, 3.0], [1.0, -1.0, 0.0], "fp16"))
cases.append(case("bf16-wide", [1e30, -3e-20, 2.5e-35, -7e20], [2e8, 4e-25, -1e-30, 1e17], "bf16"))
rng = np.random.default_rng(4096)
a = list(rng.standard_normal(2000) * np.exp2(rng.uniform(-20, 10, 2000)))
b = list(rng.standard_normal(2000) * np.exp2(rng.uniform(-20, 5, 2000)))
cases.append(case("wide-fp16", a, b, "fp16"))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fp_dot.json")
with open(path, "w") as f:
    json.dump({"cases": cases, "versions": {"numpy": np.__version__, "ml_dtypes": ml_dtypes.__version__}},
              f, separators=(",", ":"), allow_nan=False)
    f.write("\n")
print("wrote", path, len(cases))
