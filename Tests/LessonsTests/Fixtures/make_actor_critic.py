#!/usr/bin/env python3
"""Reference values for pg.softmax-step, pg.reinforce, pg.actor-critic and the seeded generator.

Run:  python3 make_actor_critic.py            (writes actor_critic.json beside this script)
      python3 make_actor_critic.py --lesson   (prints the values lessons/actor-critic.md expects)

Independent of the Swift code:
- softmax-step and actor-critic use numpy and scipy.special.logsumexp/softmax.
- the generators are written here from their published C reference (splitmix64.c,
  xoshiro256starstar.c by Blackman & Vigna) and checked against published output vectors
  (the ones the Rust rand_xoshiro crate tests against) before anything is written.
- REINFORCE is replayed in plain Python floats with the same generator and the same order of
  draws and operations, so the Swift run must match it draw for draw.
- the exact gradient statistics at the uniform policy are computed by enumerating every
  (arm, reward) outcome with numpy, not from the closed form the Swift code uses.
"""
import json
import math
import os

import numpy as np
from scipy.special import logsumexp, softmax

MASK = (1 << 64) - 1


# --- generators ---------------------------------------------------------------------------

class SplitMix64:
    def __init__(self, seed):
        self.x = seed & MASK

    def next(self):
        self.x = (self.x + 0x9E3779B97F4A7C15) & MASK
        z = self.x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro256StarStar:
    def __init__(self, seed=None, state=None):
        if state is None:
            sm = SplitMix64(seed)
            state = [sm.next() for _ in range(4)]
        self.s = list(state)

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

    def categorical(self, probs):
        u = self.unit()
        cumulative = 0.0
        last_positive = 0
        for i, p in enumerate(probs):
            cumulative += p
            if p > 0:
                last_positive = i
            if u < cumulative:
                return i
        return last_positive

    def bernoulli(self, p):
        return 1.0 if self.unit() < p else 0.0


# Published reference outputs (Vigna's C code, as used by rand_xoshiro's tests).
SPLITMIX_SEED = 1477776061723855037
SPLITMIX_EXPECTED = [
    1985237415132408290, 2979275885539914483, 13511426838097143398,
    8488337342461049707, 15141737807933549159, 17093170987380407015,
    16389528042912955399, 13177319091862933652, 10841969400225389492,
    17094824097954834098,
]
XOSHIRO_STATE = [1, 2, 3, 4]
XOSHIRO_EXPECTED = [
    11520, 0, 1509978240, 1215971899390074240, 1216172134540287360,
    607988272756665600, 16172922978634559625, 8476171486693032832,
    10595114339597558777, 2904607092377533576,
]


def generator_fixture():
    sm = SplitMix64(SPLITMIX_SEED)
    assert [sm.next() for _ in SPLITMIX_EXPECTED] == SPLITMIX_EXPECTED
    xo = Xoshiro256StarStar(state=XOSHIRO_STATE)
    assert [xo.next() for _ in XOSHIRO_EXPECTED] == XOSHIRO_EXPECTED
    seeded = {}
    for seed in (0, 1, 42):
        g = Xoshiro256StarStar(seed=seed)
        state = list(g.s)
        outputs = [g.next() for _ in range(5)]
        g = Xoshiro256StarStar(seed=seed)
        # Hex floats: Foundation's JSON reader on Linux can be an ulp off on decimal text, and
        # these are compared bit for bit.
        units = [g.unit().hex() for _ in range(5)]
        seeded[str(seed)] = {
            "state": [f"{x:016x}" for x in state],
            "outputs": [f"{x:016x}" for x in outputs],
            "units": units,
        }
    return {
        "splitmix_seed": f"{SPLITMIX_SEED:016x}",
        "splitmix_expected": [f"{x:016x}" for x in SPLITMIX_EXPECTED],
        "xoshiro_state": [f"{x:016x}" for x in XOSHIRO_STATE],
        "xoshiro_expected": [f"{x:016x}" for x in XOSHIRO_EXPECTED],
        "seeded": seeded,
    }


# --- pg.softmax-step ----------------------------------------------------------------------

def softmax_step(logits, action, advantage, lr):
    theta = np.array(logits, dtype=np.float64)
    pi = softmax(theta)
    log_pi = theta[action] - logsumexp(theta)
    grad = -pi.copy()
    grad[action] += 1.0
    delta = lr * advantage * grad
    new = theta + delta
    new_pi = softmax(new)
    new_log_pi = new[action] - logsumexp(new)
    return {
        "logits": logits, "action": action, "advantage": advantage, "lr": lr,
        "pi": pi.tolist(), "log_pi": float(log_pi), "grad_log_pi": grad.tolist(),
        "delta": delta.tolist(), "new_logits": new.tolist(), "new_pi": new_pi.tolist(),
        "prob_change": float(new_pi[action] - pi[action]),
        "new_log_pi": float(new_log_pi), "log_prob_change": float(new_log_pi - log_pi),
    }


SOFTMAX_CASES = [
    ([1.0, 0.0, -1.0], 1, 1.0, 0.1),
    ([1.0, 0.0, -1.0], 0, -2.0, 0.5),
    ([0.0, 0.0], 1, 1.0, 1.0),
    ([2.0, -1.0, 0.5, 3.0], 1, 0.7, 0.3),
    ([3.0, 0.0, 0.0], 1, 1.0, 0.5),
    ([0.0, -20000.0, 5.0], 1, 1.0, 0.1),   # log π of a far-below logit stays finite
    ([700.0, 710.0, 690.0], 2, -3.0, 2.0),  # large logits: a naive exp overflows
    ([0.25], 0, 5.0, 0.1),                  # one action: π = 1, nothing to learn
]


# --- pg.actor-critic ----------------------------------------------------------------------

def actor_critic(theta, q, v, s, a, r, s_next, a_next, done, gamma, lr_actor, lr_critic, variant):
    theta = np.array(theta, dtype=np.float64)
    q = np.array(q, dtype=np.float64)
    v = np.array(v, dtype=np.float64)
    if variant == "qac":
        estimate = q[s, a]
        bootstrap = 0.0 if done else q[s_next, a_next]
    else:
        estimate = v[s]
        bootstrap = 0.0 if done else v[s_next]
    target = r + gamma * bootstrap
    td = target - estimate
    out = {"theta": theta.tolist(), "q": q.tolist(), "v": v.tolist(), "s": s, "a": a, "r": r,
           "s_next": s_next, "a_next": a_next, "done": done, "gamma": gamma,
           "lr_actor": lr_actor, "lr_critic": lr_critic, "variant": variant}
    if variant == "qac":
        q_new = q.copy()
        q_new[s, a] += lr_critic * td
        advantage = q_new[s, a]
        out["q_new"] = q_new.tolist()
    else:
        v_new = v.copy()
        v_new[s] += lr_critic * td
        advantage = td
        out["v_new"] = v_new.tolist()
    pi = softmax(theta[s])
    onehot = np.zeros(theta.shape[1])
    onehot[a] = 1.0
    grad = onehot - pi
    theta_new = theta.copy()
    theta_new[s] += lr_actor * advantage * grad
    out.update({
        "pi": pi.tolist(), "estimate": float(estimate), "bootstrap": float(bootstrap),
        "td_target": float(target), "td_error": float(td), "advantage": float(advantage),
        "grad_log_pi": grad.tolist(), "theta_new": theta_new.tolist(),
        "new_pi": softmax(theta_new[s]).tolist(),
    })
    return out


AC_CASES = [
    # theta, q, v, s, a, r, s_next, a_next, done, gamma, lr_actor, lr_critic, variant
    ([[0.5, -0.5], [0.0, 1.0]], [[0.2, 0.4], [1.0, -0.5]], [0.3, 0.8], 0, 1, 0.5, 1, 0, False, 0.9, 0.1, 0.1, "a2c"),
    ([[0.5, -0.5], [0.0, 1.0]], [[0.2, 0.4], [1.0, -0.5]], [0.3, 0.8], 0, 1, 0.5, 1, 0, False, 0.9, 0.1, 0.1, "qac"),
    ([[0.5, -0.5], [0.0, 1.0]], [[0.2, 0.4], [1.0, -0.5]], [0.3, 0.8], 1, 0, 2.0, 0, 1, True, 0.9, 0.2, 0.5, "a2c"),
    ([[0.5, -0.5], [0.0, 1.0]], [[0.2, 0.4], [1.0, -0.5]], [0.3, 0.8], 1, 0, 2.0, 0, 1, True, 0.9, 0.2, 0.5, "qac"),
    ([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [-1.0, 4.0, 0.5]], [[0.1, 0.2, 0.3], [0.0, 1.0, -1.0], [2.0, 0.5, 0.0]],
     [1.5, -0.5, 0.25], 2, 0, -1.0, 1, 2, False, 0.99, 0.05, 0.3, "a2c"),
    ([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [-1.0, 4.0, 0.5]], [[0.1, 0.2, 0.3], [0.0, 1.0, -1.0], [2.0, 0.5, 0.0]],
     [1.5, -0.5, 0.25], 2, 0, -1.0, 1, 2, False, 0.99, 0.05, 0.3, "qac"),
    ([[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]], [0.0, 0.0], 0, 0, 1.0, 0, 0, False, 0.0, 1.0, 1.0, "qac"),
]


# --- pg.reinforce -------------------------------------------------------------------------

def py_softmax(theta):
    # Mirrors the module's safe softmax operation for operation: max, exp(x − max), left-to-right
    # sum, divide.
    m = max(theta)
    exps = [math.exp(x - m) for x in theta]
    total = 0.0
    for e in exps:
        total += e
    return [e / total for e in exps]


def reinforce(means, episodes, lr, baseline, seed):
    rng = Xoshiro256StarStar(seed=seed)
    n = len(means)
    theta = [0.0] * n
    pulls = [0.0] * n
    rewards = []
    reward_sum = 0.0
    regret = 0.0
    best = max(means)
    for t in range(episodes):
        pi = py_softmax(theta)
        a = rng.categorical(pi)
        r = rng.bernoulli(means[a])
        b = reward_sum / t if (baseline == "mean" and t > 0) else 0.0
        step = lr * (r - b)
        for i in range(n):
            theta[i] += step * ((1.0 if i == a else 0.0) - pi[i])
        rewards.append(r)
        reward_sum += r
        pulls[a] += 1.0
        regret += best - means[a]
    final_pi = py_softmax(theta)
    curve = []
    for k in range(10):
        lo, hi = k * episodes // 10, (k + 1) * episodes // 10
        total = 0.0
        for x in rewards[lo:hi]:
            total += x
        curve.append(total / (hi - lo))
    best_prob = 0.0
    for p, m in zip(final_pi, means):
        if m == best:
            best_prob += p
    # Results as hex floats (exact): the Swift run must reproduce them bit for bit.
    return {
        "means": means, "episodes": episodes, "lr": lr, "baseline": baseline, "seed": seed,
        "final_pi": [x.hex() for x in final_pi], "final_logits": [x.hex() for x in theta],
        "pulls": pulls, "regret": regret.hex(), "reward_curve": [x.hex() for x in curve],
        "mean_reward": (reward_sum / episodes).hex(), "best_arm_prob": best_prob.hex(),
        "readable": {"final_pi": final_pi, "reward_curve": curve, "regret": regret},
    }


def initial_statistics(means):
    """Mean and total variance of one episode's gradient estimate at θ = 0, by enumeration."""
    means = np.array(means, dtype=np.float64)
    n = len(means)
    pi = np.full(n, 1.0 / n)
    j = float(pi @ means)
    result = {"means": means.tolist()}
    for name, b in (("none", 0.0), ("mean", j)):
        outcomes, weights = [], []
        for a in range(n):
            score = -pi.copy()
            score[a] += 1.0
            for r, pr in ((1.0, means[a]), (0.0, 1.0 - means[a])):
                outcomes.append((r - b) * score)
                weights.append(pi[a] * pr)
        outcomes, weights = np.array(outcomes), np.array(weights)
        mean = weights @ outcomes
        cov = (outcomes - mean).T @ np.diag(weights) @ (outcomes - mean)
        result["gradient"] = mean.tolist()
        result["variance_" + name] = float(np.trace(cov))
    return result


REINFORCE_CASES = [
    ([0.7, 0.8, 0.9], 1000, 0.1, "mean", 1),
    ([0.7, 0.8, 0.9], 1000, 0.3, "mean", 7),
    ([0.7, 0.8, 0.9], 1000, 0.3, "none", 7),
    ([0.2, 0.5, 0.8, 0.4], 257, 0.5, "mean", 123456789),
    ([0.5, 0.5], 10, 1.0, "none", 0),
    ([0.0, 1.0, 0.3], 2003, 0.05, "mean", 2),
]


def main():
    fixture = {
        "generator": generator_fixture(),
        "softmax_step": [softmax_step(*c) for c in SOFTMAX_CASES],
        "actor_critic": [actor_critic(*c) for c in AC_CASES],
        "reinforce": [reinforce(*c) for c in REINFORCE_CASES],
        "initial_statistics": [initial_statistics(m) for m in ([0.7, 0.8, 0.9], [0.2, 0.5, 0.8, 0.4], [0.0, 1.0])],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "actor_critic.json")
    with open(path, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__" and "--lesson" not in __import__("sys").argv:
    main()


# --- the lesson's numbers -----------------------------------------------------------------

def lesson_values():
    """Prints the values lessons/actor-critic.md expects, computed here independently."""
    np.set_printoptions(precision=6, suppress=False)
    for name, args in (("step", ([1.0, 0.0, -1.0], 1, 1.0, 0.5)),
                       ("step_neg", ([1.0, 0.0, -1.0], 1, -1.0, 0.5)),
                       ("rare", ([1.0, 0.0, -1.0], 2, 1.0, 0.5)),
                       ("common", ([1.0, 0.0, -1.0], 0, 1.0, 0.5)),
                       ("far", ([0.0, -20000.0, 5.0], 1, 1.0, 0.5))):
        print(name, {k: v for k, v in softmax_step(*args).items() if k not in ("logits",)})
    for name, args in (("rf", ([0.7, 0.8, 0.9], 1000, 0.3, "mean", 1)),
                       ("rf_none", ([0.7, 0.8, 0.9], 1000, 0.3, "none", 1)),
                       ("rf_none_lucky", ([0.7, 0.8, 0.9], 1000, 0.3, "none", 2))):
        run = reinforce(*args)
        print(name, run["readable"], "pulls", run["pulls"], "best", float.fromhex(run["best_arm_prob"]),
              "mean", float.fromhex(run["mean_reward"]))
    print("initial", initial_statistics([0.7, 0.8, 0.9]))
    table = dict(theta=[[0.5, -0.5], [0.0, 1.0]], q=[[0.2, 0.4], [1.0, -0.5]], v=[0.3, 0.8])
    for variant in ("qac", "a2c"):
        print(variant, actor_critic(table["theta"], table["q"], table["v"], 0, 1, 0.5, 1, 0, False,
                                    0.9, 0.1, 0.1, variant))
    # The corridor: right (1) from 0 reaches 1 with reward 0; right from 1 ends with reward 1;
    # left (0) ends the episode with reward 0.
    theta, q, v = [[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]], [0.0, 0.0]
    a2c_chain = [(0, 1, 0.0, 1, False), (1, 1, 1.0, 1, True), (0, 1, 0.0, 1, False),
                 (1, 0, 0.0, 1, True), (0, 0, 0.0, 0, True)]
    for i, (s, a, r, s_next, done) in enumerate(a2c_chain, 1):
        out = actor_critic(theta, q, v, s, a, r, s_next, 0, done, 0.9, 0.5, 0.5, "a2c")
        theta, v = out["theta_new"], out["v_new"]
        print(f"c{i}", {k: out[k] for k in ("pi", "td_target", "td_error", "v_new", "theta_new", "new_pi")})
    theta = [[0.0, 0.0], [0.0, 0.0]]
    qac_chain = [(0, 1, 0.0, 1, 1, False), (1, 1, 1.0, 1, 0, True), (0, 1, 0.0, 1, 1, False)]
    for i, (s, a, r, s_next, a_next, done) in enumerate(qac_chain, 1):
        out = actor_critic(theta, q, v, s, a, r, s_next, a_next, done, 0.9, 0.5, 0.5, "qac")
        theta, q = out["theta_new"], out["q_new"]
        print(f"k{i}", {k: out[k] for k in ("td_target", "td_error", "q_new", "advantage", "theta_new", "new_pi")})


if __name__ == "__main__" and "--lesson" in __import__("sys").argv:
    lesson_values()
