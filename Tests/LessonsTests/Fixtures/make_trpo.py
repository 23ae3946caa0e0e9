#!/usr/bin/env python3
"""Reference values for trpo.step.

Writes trpo.json beside this script:

    python3 Tests/LessonsTests/Fixtures/make_trpo.py

Independent of the Swift code: the natural gradient is numpy's pseudo-inverse solution
pinv(F) @ g when damping = 0 and numpy.linalg.solve(F + damping·I, g) otherwise (no conjugate
gradient here), F is built as a dense matrix, g from the per-sample definition
mean_i A_i·(onehot(a_i) − π), and KL and the ratios from scipy's log_softmax.
"""
import json
import pathlib

import numpy as np
from scipy.special import log_softmax, softmax


def trpo(logits, actions, advantages, delta=0.01, damping=0.0, backtrack=0.5, max_backtracks=10,
         clip=0.2, lr=1.0):
    theta = np.array(logits, dtype=np.float64)
    a = np.array(actions, dtype=int)
    adv = np.array(advantages, dtype=np.float64)
    n = len(theta)
    pi = softmax(theta)
    lp_old = log_softmax(theta)
    g = np.mean([adv[i] * (np.eye(n)[a[i]] - pi) for i in range(len(a))], axis=0)
    fisher = np.diag(pi) - np.outer(pi, pi) + damping * np.eye(n)
    if np.linalg.norm(g) < 1e-10:
        x = np.zeros(n)
    elif damping == 0:
        x = np.linalg.pinv(fisher) @ g
    else:
        x = np.linalg.solve(fisher, g)
    xfx = float(x @ fisher @ x)
    beta = float(np.sqrt(2 * delta / xfx)) if xfx > 0 else 0.0
    full = beta * x

    def evaluate(t):
        lp = log_softmax(t)
        ratios = np.exp(lp[a] - lp_old[a])
        kl = float(np.sum(np.exp(lp_old) * (lp_old - lp)))
        surrogate = float(np.mean(adv * ratios))
        ppo = float(np.mean(np.minimum(ratios * adv, np.clip(ratios, 1 - clip, 1 + clip) * adv)))
        return {"logits": t.tolist(), "pi": softmax(t).tolist(), "ratios": ratios.tolist(), "kl": kl,
                "surrogate": surrogate, "ppo": ppo}

    surrogate_old = float(np.mean(adv))
    trials = []
    accepted = None
    for k in range(max_backtracks):
        fraction = backtrack ** k
        e = evaluate(theta + fraction * full)
        ok = e["kl"] <= delta and e["surrogate"] > surrogate_old
        # A decision this close to its threshold could flip on the last bits; keep cases clear.
        assert beta == 0 or (abs(e["kl"] - delta) > 1e-9 and abs(e["surrogate"] - surrogate_old) > 1e-9), (logits, k)
        trials.append([k, fraction, e["kl"], e["surrogate"], 1.0 if ok else 0.0])
        if ok:
            accepted = (fraction, e)
            break
    result = accepted[1] if accepted else evaluate(theta)
    plain = evaluate(theta + lr * g)
    return {
        "params": {"logits": logits, "actions": actions, "advantages": advantages, "delta": delta,
                   "damping": damping, "backtrack": backtrack, "max_backtracks": max_backtracks,
                   "clip": clip, "lr": lr},
        "pi_old": pi.tolist(), "grad": g.tolist(), "fisher": fisher.tolist(), "natural_grad": x.tolist(),
        "xfx": xfx, "step_size": beta, "full_step": full.tolist(), "line_search": trials,
        "accepted": accepted is not None, "step_fraction": accepted[0] if accepted else 0.0,
        "new_logits": result["logits"], "new_pi": result["pi"], "kl": result["kl"],
        "surrogate_old": surrogate_old, "surrogate_new": result["surrogate"],
        "ppo_objective": result["ppo"], "ratios": result["ratios"],
        "plain_logits": plain["logits"], "plain_kl": plain["kl"], "plain_surrogate": plain["surrogate"],
    }


rng = np.random.default_rng(20260315)
cases = [
    # The module's defaults: the full step overshoots (KL 0.0115 > 0.01), half of it is accepted.
    trpo([1.0, 0.0, -1.0], [2, 2, 1, 0], [1.5, 1.0, -0.5, -1.0]),
    # Accepted at k = 0.
    trpo([0.5, 0.0, -0.5], [0, 1, 2, 0, 1], [1.0, -0.5, 0.8, 0.6, -1.0]),
    trpo([0.0, 0.0, 0.0], [0, 1, 2, 0], [1.0, -1.0, 0.5, 0.5], delta=0.05),
    # A peaked policy: the quadratic model is poor, so the search backtracks.
    trpo([3.0, 0.0, -2.0], [2, 1, 0, 2], [2.0, -1.0, -0.5, 1.0], delta=0.05),
    trpo([4.0, 0.0, -3.0, 1.0], [2, 2, 3, 0, 1], [2.0, 1.0, -1.0, 0.5, -0.5], delta=0.1, backtrack=0.7),
    # Damped solves.
    trpo([1.0, 0.0, -1.0], [2, 2, 1, 0], [1.5, 1.0, -0.5, -1.0], damping=0.1),
    trpo([0.3, -0.2, 0.8, 0.0, -1.0], [0, 4, 4, 2, 1, 3], [0.5, 2.0, 1.0, -1.0, 0.2, -0.3], damping=1e-3),
    # Every trial rejected: one trial only, and the full step overshoots.
    trpo([1.0, 0.0, -1.0], [2, 2, 1, 0], [1.5, 1.0, -0.5, -1.0], max_backtracks=1),
    # g = 0: the sampled frequencies weighted by A match π·mean(A) exactly (all A equal, uniform π,
    # every action sampled once).
    trpo([0.0, 0.0], [0, 1], [1.0, 1.0]),
    # One action: π = 1 and F = 0.
    trpo([2.5], [0, 0], [1.0, -3.0]),
    # Large plain step for contrast.
    trpo([2.0, 0.0, -1.0], [0, 1, 2, 2, 1], [0.5, -1.0, 2.0, 1.5, -0.5], lr=10.0),
]
for (n_actions, n_samples, damping) in [(3, 6, 0.0), (4, 8, 0.0), (6, 12, 0.0), (6, 12, 0.01), (2, 3, 0.0)]:
    logits = rng.normal(0, 1.5, n_actions).round(3).tolist()
    actions = rng.integers(0, n_actions, n_samples).tolist()
    advantages = rng.normal(0, 1, n_samples).round(3).tolist()
    cases.append(trpo(logits, actions, advantages, delta=0.02, damping=damping))

out = pathlib.Path(__file__).with_name("trpo.json")
out.write_text(json.dumps({"numpy": np.__version__, "cases": cases}, indent=1) + "\n")
print(f"wrote {out}: {len(cases)} cases")
