#!/usr/bin/env python3
"""Reference values for fp.update, fp.adam and fp.dynamic-scale with max_grad.

Writes fp_training.json beside this script:
  update   one SGD step w - lr*g with numpy float16 / ml_dtypes bfloat16 scalar arithmetic
           (each operation rounded to the type), the fused step (exact product and
           difference as Fractions, rounded once to the type by ml_dtypes' cast of the
           correctly rounded float64 checked against both neighbours), and the FP32 master
           weight with numpy float32 arithmetic.
  adam     one Adam step (Kingma & Ba, Algorithm 1) with every operation in float16 /
           bfloat16, in float32 and in float64, constants cast to the type first and the bias
           corrections 1 - beta^t computed in Python floats.
  dynamic  a dynamic loss scaler driven by max|g| per step: a step overflows when
           scale*max|g|, cast to the format (numpy float16 or ml_dtypes), is inf or NaN;
           the scaler's rule is PyTorch's GradScaler update (_amp_update_scale_).

Doubles are stored as 64-bit patterns in hex.

Run: python3 make_fp_training.py  (numpy 2.x, ml_dtypes 0.7)
"""
import json
import os
from fractions import Fraction

import ml_dtypes
import numpy as np

DTYPES = {"fp16": np.float16, "bf16": ml_dtypes.bfloat16, "fp8-e4m3": ml_dtypes.float8_e4m3fn,
          "fp8-e5m2": ml_dtypes.float8_e5m2}


def dbits(x):
    return "0x%016x" % np.array([float(x)], dtype=np.float64).view(np.uint64)[0]


def nearest(q, dtype):
    """The dtype value nearest to the rational q (ties to even), no overflow expected."""
    c = np.array([float(q)], dtype=np.float64).astype(dtype)[0]
    cands = [c, np.nextafter(c, dtype(np.inf)), np.nextafter(c, dtype(-np.inf))]
    best = min(cands, key=lambda v: abs(Fraction(float(v)) - q))
    d = abs(Fraction(float(best)) - q)
    ties = [v for v in cands if abs(Fraction(float(v)) - q) == d]
    if len(ties) > 1:
        best = [v for v in ties if int(np.array([v]).view(np.uint16)[0]) % 2 == 0][0]
    return float(best)


def update_case(w, g, lr, fmt):
    t = DTYPES[fmt]
    with np.errstate(all="ignore"):
        lr_l, g_l, w_l = t(lr), t(g), t(w)
        upd = t(lr_l * g_l)
        w_after = t(w_l - upd)
        fused = nearest(Fraction(float(w_l)) - Fraction(float(lr_l)) * Fraction(float(g_l)), t)
        upd32 = np.float32(lr) * np.float32(float(g_l))
        w32 = np.float32(w) - upd32
    return {"w": dbits(w), "g": dbits(g), "lr": dbits(lr), "format": fmt,
            "lr_low": dbits(lr_l), "g_low": dbits(g_l), "update_low": dbits(upd), "w_low": dbits(w_after),
            "w_low_fused": dbits(fused), "update_fp32": dbits(upd32), "w_fp32": dbits(w32)}


def adam(t, w, g, m, v, lr, b1, b2, eps, step):
    with np.errstate(all="ignore"):
        B1, C1, B2, C2 = t(b1), t(1 - b1), t(b2), t(1 - b2)
        BC1, BC2 = t(1 - b1**step), t(1 - b2**step)
        g_, lr_, eps_ = t(g), t(lr), t(eps)
        g2 = t(g_ * g_)
        m2 = t(t(B1 * t(m)) + t(C1 * g_))
        v2 = t(t(B2 * t(v)) + t(C2 * g2))
        mh = t(m2 / BC1)
        vh = t(v2 / BC2)
        den = t(t(np.sqrt(vh)) + eps_)
        upd = t(lr_ * t(mh / den))
        w2 = t(t(w) - upd)
    return {"eps": dbits(eps_), "g_squared": dbits(g2), "m": dbits(m2), "v": dbits(v2), "m_hat": dbits(mh),
            "v_hat": dbits(vh), "denominator": dbits(den), "update": dbits(upd), "w": dbits(w2)}


def adam_case(w, g, m, v, lr, b1, b2, eps, step, fmt):
    params = (w, g, m, v, lr, b1, b2, eps, step)
    return {"params": [dbits(x) for x in params[:8]] + [step], "format": fmt,
            "low": adam(DTYPES[fmt], *params), "fp32": adam(np.float32, *params),
            "exact": adam(np.float64, *params)}


def dynamic_case(max_grad, fmt, init_scale=65536.0, growth=2.0, backoff=0.5, interval=3, steps=None):
    t = DTYPES[fmt]
    steps = len(max_grad) if steps is None else steps
    scale, tracker = init_scale, 0
    scales, skipped, scaled = [], [], []
    for i in range(steps):
        scales.append(scale)
        with np.errstate(all="ignore"):
            s = float(t(np.float64(scale) * np.float64(max_grad[i])))
        scaled.append(s)
        if not np.isfinite(s):
            skipped.append(1)
            scale *= backoff
            tracker = 0
        else:
            skipped.append(0)
            tracker += 1
            if tracker == interval:
                scale *= growth
                tracker = 0
    return {"max_grad": [dbits(x) for x in max_grad], "format": fmt, "init_scale": dbits(init_scale),
            "growth": dbits(growth), "backoff": dbits(backoff), "interval": interval, "steps": steps,
            "scale": [dbits(x) for x in scales], "skipped": skipped,
            "scaled_max_grad": [dbits(x) for x in scaled], "final_scale": dbits(scale)}


updates = [update_case(w, g, lr, fmt)
           for fmt in ("fp16", "bf16")
           for (w, g, lr) in [(0.01, 1e-5, 1e-3), (1.0, 1e-5, 1e-3), (1.0, 0.1, 1e-2), (0.01, 3e-2, 1e-3),
                              (-2.5, -4e-3, 0.1), (1e-4, 2e-4, 0.5), (0.0, 1e-8, 1.0), (300.0, 7.0, 0.3)]]
adams = [adam_case(*p, fmt)
         for fmt in ("fp16", "bf16")
         for p in [(0.01, 1e-5, 0.0, 0.0, 1e-3, 0.9, 0.999, 1e-8, 1),
                   (0.01, 0.0, 0.0, 0.0, 1e-3, 0.9, 0.999, 1e-8, 1),
                   (0.5, 0.02, 0.01, 4e-4, 1e-3, 0.9, 0.999, 1e-8, 10),
                   (0.5, 0.02, 0.01, 4e-4, 1e-3, 0.9, 0.999, 1e-4, 100),
                   (-1.0, -3.0, 0.5, 2.0, 3e-4, 0.8, 0.99, 1e-6, 3),
                   (0.1, 1e-3, 0.0, 0.0, 1e-2, 0.0, 0.5, 0.0, 1)]]
rng = np.random.default_rng(1907)
traj = list(np.exp(rng.normal(0, 0.5, 60)) * 0.6)
traj[20] = 40.0          # a spike: any scale above about 1638 overflows FP16 there
traj[41] = float("inf")  # a gradient that overflowed in the backward pass itself
traj[45] = float("nan")
dynamics = [dynamic_case(traj, "fp16", interval=5),
            dynamic_case([65504 / 65536, 65519.984375 / 65536, 65520 / 65536, 1.0, 2.0, 1.999], "fp16", interval=10),
            dynamic_case(traj, "bf16", init_scale=2.0**100, interval=4),
            dynamic_case(traj, "fp8-e5m2", init_scale=2.0**20, interval=5),
            dynamic_case([464 / 1024, 465 / 1024, 1.0, 0.4, 0.4], "fp8-e4m3", init_scale=1024.0, interval=1),
            dynamic_case(traj[:30], "fp16", init_scale=3.0, growth=1.5, backoff=0.25, interval=1, steps=25)]

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fp_training.json")
with open(path, "w") as f:
    json.dump({"update": updates, "adam": adams, "dynamic": dynamics,
               "versions": {"numpy": np.__version__, "ml_dtypes": ml_dtypes.__version__}},
              f, separators=(",", ":"), allow_nan=False)
    f.write("\n")
print("wrote", path, len(updates), len(adams), len(dynamics))
