#!/usr/bin/env python3
"""Reference values for ar.exact (the constants in AutoregressiveFitTests.testStrokeModelAgainstNumpy).

    python3 Tests/LessonsTests/Fixtures/make_autoregressive_exact.py

Independent of the Swift code: the default 4x4 stroke model (every bias -1.5, weight +1.5 from
the left, upper-left, upper and upper-right neighbours) is rebuilt from its description, and all
2^16 images are enumerated with numpy in float64 (log p as a sum of log-sigmoids).
"""
import itertools

import numpy as np
from scipy.special import log_expit

h = w = 4
n = h * w
b = np.full(n, -1.5)
W = np.zeros((n, n))
for r in range(h):
    for c in range(w):
        i = r * w + c
        for dr, dc in [(0, -1), (-1, -1), (-1, 0), (-1, 1)]:
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w:
                W[i, rr * w + cc] = 1.5

X = np.array(list(itertools.product([0, 1], repeat=n)), dtype=float)  # pixel 0 most significant
A = X @ np.tril(W, -1).T + b
logp = np.where(X == 1, log_expit(A), log_expit(-A)).sum(axis=1)
p = np.exp(logp)
on16 = X[:, 15] == 1
print("total", repr(p.sum()))
print("entropy", repr(-(p * logp).sum()))
print("p(x16=1)", repr(p[on16].sum()))
print("p(x1=1 | x16=1)", repr(p[on16 & (X[:, 0] == 1)].sum() / p[on16].sum()))
print("mode index", int(np.argmax(logp)), "log p", repr(logp.max()), "16 log sigma(1.5)", repr(16 * log_expit(1.5)))

# NADE (Larochelle & Murray 2011, eq. 2-3, untied) on one image, for
# AutoregressiveFitTests.testNADEAgainstNumpy: h_i = sigmoid(c + A[:, :i] x[:i]),
# p_i = sigmoid(b_i + V[i] . h_i), computed directly (not incrementally).
from scipy.special import expit

A = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])   # H x n
V = np.array([[1.0, -2.0], [0.5, 1.5], [-1.25, 0.75]])  # n x H
bb = np.array([0.1, -0.2, 0.3])
cc = np.array([-0.5, 0.4])
x = np.array([1.0, 0.0, 1.0])
ps = [expit(bb[i] + V[i] @ expit(cc + A[:, :i] @ x[:i])) for i in range(3)]
ll = sum(np.log(q) if xi == 1 else np.log(1 - q) for q, xi in zip(ps, x))
print("nade conditionals", [repr(float(q)) for q in ps], "log p", repr(float(ll)))
