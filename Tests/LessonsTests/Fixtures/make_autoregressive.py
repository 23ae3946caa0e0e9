#!/usr/bin/env python3
"""Reference values for ar.fvsbn and ar.sample.

Writes autoregressive.json beside this script:

    python3 Tests/LessonsTests/Fixtures/make_autoregressive.py

Independent of the Swift code:
- ar.fvsbn: numpy/scipy in float64 from the definition p_i = sigmoid(b_i + sum_{j<i} W_ij x_j)
  (np.tril(W, -1) @ x, scipy.special.expit and log_expit), the gradient as the outer product
  (x - p) x^T masked below the diagonal, and log p after one step recomputed from scratch.
- ar.sample: a separate Python implementation of SplitMix64 + xoshiro256** (Vigna's reference
  C code transcribed with 64-bit masks; checked below against published
  reference outputs of both) drives ancestral sampling; one uniform per pixel in row-major order,
  pixel on when u < p. The default model of the module (bias -1.5, coupling 1.5 from the left,
  upper-left, upper and upper-right neighbours) is rebuilt here from its description.
"""
import json
import pathlib

import numpy as np
from scipy.special import expit, log_expit

rng = np.random.default_rng(20240917)
MASK = (1 << 64) - 1


# ------------------------------------------------------------------ ar.fvsbn

def fvsbn(x, b, W):
    a = b + np.tril(W, -1) @ x
    p = expit(a)
    log_probs = np.where(x == 1, log_expit(a), log_expit(-a))
    return p, log_probs


def fvsbn_case(h, w, scale, hidden, lr, upper_noise):
    n = h * w
    x = rng.integers(0, 2, size=n).astype(float)
    b = rng.normal(0, scale, n)
    W = rng.normal(0, scale, (n, n))
    if not upper_noise:
        W = np.tril(W, -1)
    p, lp = fvsbn(x, b, W)
    ll = lp.sum()
    g_b = x - p
    g_W = np.tril(np.outer(x - p, x), -1)
    _, lp_after = fvsbn(x, b + lr * g_b, W + lr * g_W)
    return {
        "image": x.reshape(h, w).tolist(), "bias": b.tolist(), "weights": W.tolist(),
        "hidden": hidden, "lr": lr,
        "conditionals": p.tolist(), "log_probs": lp.tolist(), "log_likelihood": float(ll),
        "bits_per_dim": float(-ll / (n * np.log(2))),
        "params_fvsbn": n * (n + 1) // 2, "params_tabular": float(2 ** n - 1),
        "params_nade": 2 * n * hidden + n + hidden,
        "grad_bias": g_b.tolist(), "grad_weights": g_W.tolist(),
        "log_likelihood_after_step": float(lp_after.sum()),
    }


fvsbn_cases = [
    fvsbn_case(1, 1, 1.0, 1, 0.1, False),
    fvsbn_case(2, 3, 1.0, 8, 0.5, False),
    fvsbn_case(3, 3, 3.0, 4, 0.1, True),
    fvsbn_case(4, 4, 2.0, 8, 1.0, True),
    fvsbn_case(1, 7, 30.0, 16, 0.01, False),
    fvsbn_case(5, 2, 0.3, 100, 10.0, True),
]


# ------------------------------------------------------------------ ar.sample

def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


class Xoshiro256StarStar:
    def __init__(self, seed):
        s, self.s = seed & MASK, []
        for _ in range(4):
            s, z = splitmix64(s)
            self.s.append(z)

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
        return (self.next() >> 11) * 2.0 ** -53


# splitmix64.c with seed 0: the first output is 0xE220A8397B1DCDAF; xoshiro256starstar.c from
# the state {1, 2, 3, 4}: 11520, 0, 1509978240, 1215971899390074240.
assert splitmix64(0)[1] == 0xE220A8397B1DCDAF
_ref = Xoshiro256StarStar(0)
_ref.s = [1, 2, 3, 4]
assert [_ref.next() for _ in range(4)] == [11520, 0, 1509978240, 1215971899390074240]


def neighbour_model(h, w):
    n = h * w
    b = np.full(n, -1.5)
    W = np.zeros((n, n))
    for r in range(h):
        for c in range(w):
            for dr, dc in [(0, -1), (-1, -1), (-1, 0), (-1, 1)]:
                rr, cc = r + dr, c + dc
                if 0 <= rr < h and 0 <= cc < w:
                    W[r * w + c, rr * w + cc] = 1.5
    return b, W


def sample(b, W, count, seed):
    n = len(b)
    gen = Xoshiro256StarStar(seed)
    images, lls = [], []
    for _ in range(count):
        x = np.zeros(n)
        for i in range(n):
            p = expit(b[i] + W[i, :i] @ x[:i])
            x[i] = 1.0 if gen.unit() < p else 0.0
        images.append(x.tolist())
        lls.append(float(fvsbn(x, b, W)[1].sum()))
    return images, lls


sample_cases = []
for (h, w, count, seed, default) in [(4, 4, 4, 1, True), (3, 5, 6, 12345, True), (2, 3, 20, 0, False),
                                     (1, 8, 10, 2 ** 62 + 7, False)]:
    if default:
        b, W = neighbour_model(h, w)
    else:
        b, W = rng.normal(0, 1.5, h * w), rng.normal(0, 1.5, (h * w, h * w))
    images, lls = sample(b, W, count, seed)
    case = {"h": h, "w": w, "samples": count, "seed": seed, "default_model": default,
            "images": images, "log_likelihoods": lls}
    if not default:
        case["bias"], case["weights"] = b.tolist(), W.tolist()
    else:
        case["neighbour_bias"], case["neighbour_weights"] = b.tolist(), W.tolist()
    sample_cases.append(case)

out = pathlib.Path(__file__).with_name("autoregressive.json")
out.write_text(json.dumps({"fvsbn": fvsbn_cases, "sample": sample_cases}) + "\n")
print(f"wrote {out}: {len(fvsbn_cases)} fvsbn cases, {len(sample_cases)} sample cases")
