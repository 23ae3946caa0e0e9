#!/usr/bin/env python3
"""Reference values for ppo.optimize.

Writes ppo.json beside this script:

    python3 Tests/LessonsTests/Fixtures/make_ppo.py

Independent of the Swift code: the gradient of L^CLIP is summed sample by sample from its
definition, r_i A_i (onehot(a_i) - pi) for each term whose clip does not bind, with pi and the
ratios from scipy's log_softmax, and Adam is written from Kingma & Ba's Algorithm 1 (ascent).
"""
import json
import pathlib

import numpy as np
from scipy.special import log_softmax, softmax


def ppo(logits, actions, advantages, clip=0.2, lr=0.1, steps=200, optimizer="sgd", target_kl=0.0):
    theta = np.array(logits, dtype=np.float64)
    a = np.array(actions, dtype=int)
    adv = np.array(advantages, dtype=np.float64)
    lp_old = log_softmax(theta)
    eye = np.eye(len(theta))

    def evaluate(t):
        lp = log_softmax(t)
        pi = np.exp(lp)
        r = np.exp(lp[a] - lp_old[a])
        objective = float(np.mean(np.minimum(r * adv, np.clip(r, 1 - clip, 1 + clip) * adv)))
        kl = max(0.0, float(np.sum(np.exp(lp_old) * (lp_old - lp))))
        clipped = ((adv > 0) & (r > 1 + clip)) | ((adv < 0) & (r < 1 - clip))
        # Keep every case clear of the kinks, where the last bits could flip the branch.
        near = (np.abs(r - (1 + clip)) < 1e-9) | (np.abs(r - (1 - clip)) < 1e-9)
        assert not np.any(near & (adv != 0)), (logits, r)
        grad = np.zeros(len(t))
        for i in range(len(a)):
            if not clipped[i]:
                grad += r[i] * adv[i] * (eye[a[i]] - pi)
        return objective, kl, float(np.mean(r * adv)), grad / len(a), r, int(clipped.sum())

    m = np.zeros(len(theta))
    v = np.zeros(len(theta))
    objectives, kls, surrogates = [], [], []
    zero = -1
    k = 0
    while True:
        objective, kl, surrogate, grad, r, clipped = evaluate(theta)
        objectives.append(objective)
        kls.append(kl)
        surrogates.append(surrogate)
        if zero < 0 and np.all(grad == 0):
            zero = k
        if k == steps or (target_kl > 0 and kl > 1.5 * target_kl):
            break
        if optimizer == "sgd":
            theta = theta + lr * grad
        else:
            t = k + 1
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad ** 2
            theta = theta + lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        k += 1
    best = float(np.mean(np.where(adv > 0, (1 + clip) * adv, (1 - clip) * adv)))
    return {
        "params": {"logits": logits, "actions": actions, "advantages": advantages, "clip": clip, "lr": lr,
                   "steps": steps, "optimizer": optimizer, "target_kl": target_kl},
        "pi_old": softmax(np.array(logits, dtype=np.float64)).tolist(),
        "objective": objectives, "kl": kls, "surrogate": surrogates, "steps_taken": k,
        "zero_grad_step": zero, "new_logits": theta.tolist(), "new_pi": softmax(theta).tolist(),
        "ratios": r.tolist(), "grad": grad.tolist(), "max_objective": best,
        "clip_fraction": clipped / len(a),
    }


batch = ([1.0, 0.0, -1.0], [2, 2, 1, 0], [1.5, 1.0, -0.5, -1.0])
rng = np.random.default_rng(20260316)
cases = [
    # The module's defaults: plain ascent reaches the all-clipped plateau and stops.
    ppo(*batch),
    ppo(*batch, lr=0.01, steps=1500),
    # A large first step lands inside the plateau at once.
    ppo(*batch, lr=3.0, steps=5),
    # Too few steps to reach it.
    ppo(*batch, lr=0.1, steps=20),
    # Adam: momentum carries the policy across the flat region.
    ppo(*batch, lr=0.1, steps=40, optimizer="adam"),
    ppo(*batch, lr=0.01, steps=300, optimizer="adam"),
    # Early stopping on the KL.
    ppo(*batch, lr=0.1, steps=200, optimizer="adam", target_kl=0.01),
    ppo(*batch, lr=0.05, steps=200, target_kl=0.02),
    # A tighter and a looser clip.
    ppo(*batch, clip=0.1, steps=300),
    ppo(*batch, clip=0.5, lr=0.3, steps=300, optimizer="adam"),
    # One action: pi = 1, the gradient is zero from the start.
    ppo([2.5], [0, 0], [1.0, -3.0], steps=3),
    # A zero advantage contributes nothing.
    ppo([0.0, 0.5, -0.5], [0, 1, 2, 1], [0.0, 0.8, -0.4, 0.3], steps=150),
]
for (n_actions, n_samples, optimizer, lr) in [(3, 6, "sgd", 0.2), (4, 8, "adam", 0.05), (6, 12, "sgd", 0.5),
                                              (5, 10, "adam", 0.2)]:
    logits = rng.normal(0, 1.5, n_actions).round(3).tolist()
    actions = rng.integers(0, n_actions, n_samples).tolist()
    advantages = rng.normal(0, 1, n_samples).round(3).tolist()
    cases.append(ppo(logits, actions, advantages, lr=lr, steps=120, optimizer=optimizer))

out = pathlib.Path(__file__).with_name("ppo.json")
out.write_text(json.dumps({"numpy": np.__version__, "cases": cases}, indent=1) + "\n")
print(f"wrote {out}: {len(cases)} cases")
for c in cases:
    print(c["params"]["optimizer"], c["params"]["lr"], c["steps_taken"], c["zero_grad_step"], round(c["kl"][-1], 4),
          round(c["objective"][-1], 4), c["max_objective"])
