#!/usr/bin/env python3
"""Reference values for ddpg.step.

Writes ddpg.json beside this script:

    python3 Tests/LessonsTests/Fixtures/make_ddpg.py

Independent of the Swift code: Q and μ are numpy dot products, and ∂Q'/∂a is numpy.polyder of
Q'(s, ·) written as a polynomial in a, evaluated at μ(s) with numpy.polyval, not the closed
form w'[ds] + 2·w'[ds+1]·μ.
"""
import json
import pathlib

import numpy as np


def q_value(w, s, a):
    ds = len(s)
    return float(np.dot(w[:ds], s) + w[ds] * a + w[ds + 1] * a * a)


def ddpg(s, a, r, s_next, done, theta, w, theta_target=None, w_target=None, gamma=0.99,
         lr_actor=0.01, lr_critic=0.01, tau=0.005):
    s, s_next = np.array(s, float), np.array(s_next, float)
    theta, w = np.array(theta, float), np.array(w, float)
    tt = theta.copy() if theta_target is None else np.array(theta_target, float)
    wt = w.copy() if w_target is None else np.array(w_target, float)
    ds = len(s)
    mu = float(theta @ s)
    q = q_value(w, s, a)
    target_action = float(tt @ s_next)
    target_next_q = q_value(wt, s_next, target_action)
    y = r + gamma * (0.0 if done else 1.0) * target_next_q
    delta = y - q
    features = np.concatenate([s, [a, a * a]])
    w_new = w + lr_critic * delta * features
    # Q'(s, ·) as a polynomial in a: coefficients of a², a, 1 (highest first, numpy's order).
    poly = np.array([w_new[ds + 1], w_new[ds], float(w_new[:ds] @ s)])
    dq_da = float(np.polyval(np.polyder(poly), mu))
    actor_grad = dq_da * s
    theta_new = theta + lr_actor * actor_grad
    params = {"s": s.tolist(), "a": a, "r": r, "s_next": s_next.tolist(), "done": done,
              "theta": theta.tolist(), "w": w.tolist(), "gamma": gamma, "lr_actor": lr_actor,
              "lr_critic": lr_critic, "tau": tau}
    if theta_target is not None:
        params["theta_target"] = tt.tolist()
    if w_target is not None:
        params["w_target"] = wt.tolist()
    return {
        "params": params,
        "mu": mu, "q": q, "target_action": target_action, "target_next_q": target_next_q,
        "target_q": y, "td_error": delta, "critic_loss": 0.5 * delta ** 2,
        "w_new": w_new.tolist(), "dq_da": dq_da, "actor_grad": actor_grad.tolist(),
        "theta_new": theta_new.tolist(),
        "theta_target_new": (tau * theta_new + (1 - tau) * tt).tolist(),
        "w_target_new": (tau * w_new + (1 - tau) * wt).tolist(),
        "q_new": q_value(w_new, s, a), "mu_new": float(theta_new @ s),
    }


rng = np.random.default_rng(20260316)
cases = [
    # The module's defaults.
    ddpg([1.0, 0.5], 0.2, 1.0, [0.5, -1.0], False, [0.4, -0.2], [0.5, -0.3, 1.0, -0.8]),
    ddpg([1.0, 0.5], 0.2, 1.0, [0.5, -1.0], True, [0.4, -0.2], [0.5, -0.3, 1.0, -0.8]),
    ddpg([1.0, 0.5], -0.7, 0.3, [0.5, -1.0], False, [0.4, -0.2], [0.5, -0.3, 1.0, -0.8],
         theta_target=[0.1, 0.3], w_target=[0.2, 0.1, 0.4, -1.2], gamma=0.9, lr_actor=0.5,
         lr_critic=0.2, tau=0.1),
]
for ds in (1, 2, 3, 5):
    for done in (False, True):
        cases.append(ddpg(
            rng.normal(size=ds).tolist(), float(rng.normal()), float(rng.normal()),
            rng.normal(size=ds).tolist(), done, rng.normal(size=ds).tolist(),
            rng.normal(size=ds + 2).tolist(), theta_target=rng.normal(size=ds).tolist(),
            w_target=rng.normal(size=ds + 2).tolist(), gamma=float(rng.uniform(0.5, 1)),
            lr_actor=float(rng.uniform(0, 0.5)), lr_critic=float(rng.uniform(0, 0.5)),
            tau=float(rng.uniform(0, 1))))

out = pathlib.Path(__file__).with_name("ddpg.json")
out.write_text(json.dumps({"numpy": np.__version__, "cases": cases}, indent=1) + "\n")
print(f"wrote {out}: {len(cases)} cases")
