#!/usr/bin/env python3
"""Reference values for kimi.policy-loss and kimi.length-penalty.

Writes kimi.json beside this script:

    python3 Tests/LessonsTests/Fixtures/make_kimi.py

Independent of the Swift code: the loss is numpy's mean of squares, its gradient comes from
numpy's vectorised closed form checked here against a complex-step derivative (exact to
rounding for a polynomial), and the length penalty is written with numpy.where.
"""
import json
import pathlib

import numpy as np


def policy_loss(rewards, logp_new, logp_old, tau):
    r, ln, lo = (np.array(v, dtype=np.float64) for v in (rewards, logp_new, logp_old))
    k = len(r)

    def loss(lp):
        return np.mean((r - r.mean() - tau * (lp - lo)) ** 2)

    residual = r - r.mean() - tau * (ln - lo)
    grad = -2 * tau * residual / k
    # Complex step: Im(loss(x + ih·e_j))/h is the derivative to rounding, with no cancellation.
    h = 1e-30
    for j in range(k):
        step = ln.astype(np.complex128)
        step[j] += 1j * h
        assert abs(loss(step).imag / h - grad[j]) <= 1e-13 * max(1.0, abs(grad[j]))
    return {
        "rewards": rewards, "logp_new": logp_new, "logp_old": logp_old, "tau": tau,
        "baseline": float(r.mean()), "advantages": (r - r.mean()).tolist(), "log_ratio": (ln - lo).tolist(),
        "loss": float(loss(ln)), "loss_grad": grad.tolist(), "pg_coeff": (residual / k).tolist(),
    }


def length_penalty(correct, lengths):
    c, n = np.array(correct, dtype=bool), np.array(lengths, dtype=np.float64)
    lo, hi = n.min(), n.max()
    lam = np.zeros_like(n) if hi == lo else 0.5 - (n - lo) / (hi - lo)
    return {"correct": correct, "lengths": lengths, "lambda": lam.tolist(),
            "length_reward": np.where(c, lam, np.minimum(0.0, lam)).tolist(),
            "min_len": float(lo), "max_len": float(hi)}


rng = np.random.default_rng(20260317)
loss_cases = [
    policy_loss([1, 0, 1, 0], [-12, -9.5, -14, -10], [-12.5, -9, -13, -11], 0.1),
    policy_loss([1, 0, 1, 0], [-12, -9.5, -14, -10], [-12.5, -9, -13, -11], 0.0),
    policy_loss([0.5], [-3.0], [-2.0], 0.7),
    policy_loss([1, 1, 1], [-1, -2, -3], [-1, -2, -3], 0.5),
]
for k in (2, 5, 8, 16):
    loss_cases.append(policy_loss(
        rng.integers(0, 2, k).astype(float).tolist(), (-rng.uniform(1, 40, k)).tolist(),
        (-rng.uniform(1, 40, k)).tolist(), float(rng.uniform(0.01, 2))))

penalty_cases = [
    length_penalty([1, 1, 0, 1, 0], [120, 300, 80, 500, 450]),
    length_penalty([1, 0, 1], [50, 50, 50]),
    length_penalty([0], [17]),
    length_penalty([1], [17]),
    length_penalty([0, 1], [10, 20]),
]
for k in (3, 7, 12):
    penalty_cases.append(length_penalty(rng.integers(0, 2, k).tolist(), rng.integers(1, 2000, k).astype(float).tolist()))

out = pathlib.Path(__file__).with_name("kimi.json")
out.write_text(json.dumps({"numpy": np.__version__, "policy_loss": loss_cases,
                           "length_penalty": penalty_cases}, indent=1) + "\n")
print(f"wrote {out}: {len(loss_cases)} loss cases, {len(penalty_cases)} length-penalty cases")
