#!/usr/bin/env python3
"""Reference values for softmax.safe, softmax.online and attention.tiled.

Writes softmax.json beside this script. Everything is computed with numpy directly from the
definitions (no streaming), so the Swift modules are checked against an independent path:

    python3 Tests/LessonsTests/Fixtures/make_softmax.py
"""
import json
import pathlib

import numpy as np

rng = np.random.default_rng(20261129)


def softmax(x):
    m = np.max(x)
    e = np.exp(x - m)
    return e / e.sum(), m + np.log(e.sum())


def online_blocks(x, block):
    """m_j and l_j from the definition: m_j = max of the first j blocks, l_j = sum exp(x - m_j)."""
    ms, ls = [], []
    for end in range(block, len(x) + block, block):
        seen = x[: min(end, len(x))]
        m = np.max(seen)
        ms.append(float(m))
        ls.append(float(np.exp(seen - m).sum()))
    return ms, ls


def attention(q, k, v, scale, causal):
    s = (q @ k.T) * scale
    if causal:
        mask = np.triu(np.ones_like(s, dtype=bool), k=1)
        s = np.where(mask, -np.inf, s)
    m = s.max(axis=1)
    p = np.exp(s - m[:, None])
    l = p.sum(axis=1)
    return (p / l[:, None]) @ v, m, l


softmax_cases = []
for n in [1, 2, 5, 17, 64]:
    for spread in [1.0, 30.0, 1000.0]:
        x = rng.normal(0, spread, n)
        p, lse = softmax(x)
        blocks = {}
        for b in sorted({1, 2, 3, n, n + 2}):
            ms, ls = online_blocks(x, b)
            blocks[str(b)] = {"m": ms, "l": ls}
        softmax_cases.append({"x": x.tolist(), "softmax": p.tolist(), "logsumexp": float(lse), "blocks": blocks})

attention_cases = []
for (n, m, d, dv) in [(1, 1, 1, 1), (3, 4, 2, 2), (5, 7, 3, 4), (8, 8, 4, 3), (2, 9, 5, 1)]:
    q, k, v = rng.normal(size=(n, d)), rng.normal(size=(m, d)), rng.normal(size=(m, dv))
    for causal in [False, True]:
        scale = 1 / np.sqrt(d)
        out, rowmax, rowsum = attention(q, k, v, scale, causal)
        attention_cases.append({
            "q": q.tolist(), "k": k.tolist(), "v": v.tolist(), "causal": causal,
            "output": out.tolist(), "m": rowmax.tolist(), "l": rowsum.tolist(),
            "lse": (rowmax + np.log(rowsum)).tolist(),
        })

out = pathlib.Path(__file__).with_name("softmax.json")
out.write_text(json.dumps({"softmax": softmax_cases, "attention": attention_cases}, indent=1) + "\n")
print(f"wrote {out}: {len(softmax_cases)} softmax cases, {len(attention_cases)} attention cases")
