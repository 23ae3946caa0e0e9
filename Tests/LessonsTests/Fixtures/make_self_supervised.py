#!/usr/bin/env python3
"""Reference values for ssl.masked and ssl.rotation.

Writes self_supervised.json beside this script:

    python3 Tests/LessonsTests/Fixtures/make_self_supervised.py

ssl.masked: the ridge solution W = (X^T X + lam I)^-1 X^T Y with X = [observed | 1] is computed
as the least-squares solution of the augmented system [X; sqrt(lam) I] W = [Y; 0] by
numpy.linalg.lstsq (SVD), a different route from the Swift code's Cholesky solve of the normal
equations; the script checks it against numpy.linalg.solve on the normal equations too.
ssl.rotation: numpy.rot90(image, k) for k = 1, 2, 3 (counter-clockwise).
"""
import json
import pathlib

import numpy as np

rng = np.random.default_rng(20241201)


def masked(data, hidden, lam):
    n, d = data.shape
    observed = [c for c in range(d) if c not in hidden]
    X = np.column_stack([data[:, observed], np.ones(n)])
    Y = data[:, hidden]
    p = X.shape[1]
    A = np.vstack([X, np.sqrt(lam) * np.eye(p)])
    B = np.vstack([Y, np.zeros((p, len(hidden)))])
    W = np.linalg.lstsq(A, B, rcond=None)[0]
    W_normal = np.linalg.solve(X.T @ X + lam * np.eye(p), X.T @ Y)
    assert np.allclose(W, W_normal, rtol=1e-9, atol=1e-12), (W, W_normal)
    P = X @ W
    mse_col = ((Y - P) ** 2).mean(axis=0)
    base_col = Y.var(axis=0)
    return {
        "data": data.tolist(), "hidden": hidden, "ridge": lam,
        "observed": observed, "weights": W.tolist(), "predictions": P.tolist(),
        "mse": float(((Y - P) ** 2).mean()), "baseline_mse": float(((Y - Y.mean(axis=0)) ** 2).mean()),
        "r2": float(1 - ((Y - P) ** 2).mean() / ((Y - Y.mean(axis=0)) ** 2).mean()),
        "mse_per_column": mse_col.tolist(), "baseline_mse_per_column": base_col.tolist(),
        "r2_per_column": (1 - mse_col / base_col).tolist(),
    }


def correlated(n, d, noise):
    """d columns, the later ones noisy linear combinations of the first two, plus an offset."""
    base = rng.normal(0, 1, (n, 2))
    mix = rng.normal(0, 1, (2, d - 2))
    rest = base @ mix + noise * rng.normal(0, 1, (n, d - 2))
    return np.column_stack([base, rest]) * rng.uniform(0.5, 3, d) + rng.normal(0, 2, d)


masked_cases = [
    masked(correlated(8, 4, 0.1), [3], 1e-6),
    masked(correlated(20, 5, 0.3), [4, 1], 0.0),
    masked(correlated(20, 5, 0.3), [1, 4], 0.0),
    masked(correlated(50, 6, 1.0), [0, 5, 2], 0.5),
    masked(correlated(12, 3, 0.05), [2], 100.0),
    masked(rng.normal(0, 1, (30, 7)), [6], 1e-3),
    masked(correlated(5, 3, 0.2) * 1e6, [0], 1e-6),
]

rotation_cases = []
for n in [1, 2, 3, 4, 7]:
    image = np.round(rng.normal(0, 1, (n, n)), 3)
    rotation_cases.append({"image": image.tolist(),
                           "rot90": np.rot90(image, 1).tolist(),
                           "rot180": np.rot90(image, 2).tolist(),
                           "rot270": np.rot90(image, 3).tolist()})

out = pathlib.Path(__file__).with_name("self_supervised.json")
out.write_text(json.dumps({"masked": masked_cases, "rotation": rotation_cases}) + "\n")
print(f"wrote {out}: {len(masked_cases)} masked cases, {len(rotation_cases)} rotation cases")
