#!/usr/bin/env python3
"""Reference values for medusa.typical, medusa.tree and medusa.speedup.

Writes medusa.json beside this script:

    python3 Tests/LessonsTests/Fixtures/make_medusa.py

Independent of the Swift code:
- the entropy is scipy.stats.entropy (which normalises its input itself);
- the tree is enumerated by brute force: every tuple from itertools.product for every depth,
  sorted by (depth, tuple), parents looked up by the tuple minus its last entry and the mask
  by testing prefixes;
- the expected token count enumerates all 2^K right/wrong outcomes of the heads (head i right
  with probability a_i, independently) and counts the leading run of right heads.
"""
import itertools
import json
import pathlib

import numpy as np
from scipy.stats import entropy


def typical(probs, candidate, epsilon=0.09, delta=0.3):
    p = np.array(probs, dtype=np.float64)
    p = p / p.max()  # a scale that changes nothing, so that a sum of weights near 1e308 stays finite
    q = p / p.sum()
    h = float(entropy(p))
    threshold = min(epsilon, delta * np.exp(-h))
    return {"probs": probs, "candidate": candidate, "epsilon": epsilon, "delta": delta,
            "entropy": h, "threshold": float(threshold), "p_candidate": float(q[candidate]),
            "accepted": bool(q[candidate] > threshold),
            "accepted_tokens": [1.0 if x > threshold else 0.0 for x in q]}


def tree(topk):
    paths = []
    for d in range(1, len(topk) + 1):
        paths.extend(itertools.product(*[range(k) for k in topk[:d]]))
    paths.sort(key=lambda t: (len(t), t))
    index = {t: i for i, t in enumerate(paths)}
    parent = [index[t[:-1]] if len(t) > 1 else -1 for t in paths]
    mask = [[1.0 if len(c) <= len(r) and r[:len(c)] == c else 0.0 for c in paths] for r in paths]
    return {"topk": topk, "nodes": len(paths), "leaves": sum(1 for t in paths if len(t) == len(topk)),
            "depth": [float(len(t)) for t in paths], "parent": [float(x) for x in parent], "mask": mask,
            "choice": [float(t[-1]) for t in paths]}


def speedup(head_acc, overhead=0.0):
    a = np.array(head_acc, dtype=np.float64)
    expected = 0.0
    counts = np.zeros(len(a) + 1)
    for outcome in itertools.product((True, False), repeat=len(a)):
        prob = float(np.prod([ai if right else 1 - ai for ai, right in zip(a, outcome)]))
        run = next((i for i, right in enumerate(outcome) if not right), len(a))
        expected += prob * (1 + run)
        counts[run] += prob
    return {"head_acc": head_acc, "overhead": overhead, "expected_tokens": expected,
            "speedup": expected / (1 + overhead), "depth_probs": np.cumprod(a).tolist(),
            "accepted_count_probs": counts.tolist()}


rng = np.random.default_rng(20260318)
typical_cases = [
    typical([0.5, 0.2, 0.15, 0.1, 0.05], 3),
    typical([0.5, 0.2, 0.15, 0.1, 0.05], 4),
    typical([5, 2, 1.5, 1, 0.5], 4),          # unnormalised weights
    typical([1, 0, 0, 0], 0),                 # H = 0: threshold min(ε, δ)
    typical([1, 0, 0, 0], 1),
    typical([1, 1, 1, 1, 1, 1, 1, 1], 2, epsilon=0.3, delta=0.5),
    typical([0.2, 0.0, 0.8], 1),
    typical([3e307, 1e308, 5e307], 0),        # a naive sum overflows
]
for n in (10, 100, 1000):
    w = rng.dirichlet(np.full(n, 0.3)) * rng.uniform(0.5, 5)
    order = np.argsort(-w)
    # The top token, one from the middle of the ranking and a random one.
    for candidate in (order[0], order[n // 20], rng.integers(0, n)):
        typical_cases.append(typical(w.tolist(), int(candidate), epsilon=float(rng.uniform(0.01, 0.2)),
                                     delta=float(rng.uniform(0.1, 0.6))))

tree_cases = [tree(k) for k in ([2, 2], [3, 2, 2], [1], [4], [1, 1, 1], [2, 1, 3], [5, 3], [1, 4, 1, 2], [3, 3, 3])]

speedup_cases = [
    speedup([0.6, 0.5, 0.4, 0.3]),
    speedup([0.6, 0.5, 0.4, 0.3], overhead=0.25),
    speedup([1.0, 1.0, 1.0]),
    speedup([0.0, 1.0, 1.0]),
    speedup([0.9]),
]
for k in (2, 5, 10):
    speedup_cases.append(speedup(rng.uniform(0, 1, k).tolist(), overhead=float(rng.uniform(0, 0.5))))

out = pathlib.Path(__file__).with_name("medusa.json")
out.write_text(json.dumps({"numpy": np.__version__, "typical": typical_cases, "tree": tree_cases,
                           "speedup": speedup_cases}, indent=1) + "\n")
print(f"wrote {out}: {len(typical_cases)} typical, {len(tree_cases)} tree, {len(speedup_cases)} speedup cases")
