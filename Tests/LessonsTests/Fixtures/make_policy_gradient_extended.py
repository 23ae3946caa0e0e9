#!/usr/bin/env python3
"""Reference values for pg.reinforce's entropy and seeds parameters, pg.corridor-variance and
pg.corridor-train.

Run:  python3 make_policy_gradient_extended.py   (writes policy_gradient_extended.json beside it)

Independent of the Swift code:
- REINFORCE is replayed draw for draw in plain Python floats with the xoshiro256**/SplitMix64
  generator of make_actor_critic.py (checked there against the published reference outputs),
  with the entropy gradient -pi_j (log pi_j + H) written from its definition; results are stored
  as hex floats and the Swift run must reproduce them bit for bit.
- The corridor is enumerated by a generic depth-first rollout of the MDP (states, actions,
  transition table), its values come from solving the Bellman equations (I - gamma P) V = r with
  numpy.linalg.solve, and every signal (G, G - v, delta, n-step, GAE) is written from its textbook
  definition over the sampled path; means and variances are numpy dot products.
"""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_actor_critic import Xoshiro256StarStar, py_softmax  # noqa: E402


# --- pg.reinforce with entropy and seeds -------------------------------------------------

def reinforce(means, episodes, lr, baseline, seed, beta):
    """One run; mirrors the module's order of draws and of floating-point operations."""
    rng = Xoshiro256StarStar(seed=seed)
    n = len(means)
    theta = [0.0] * n
    pulls = [0.0] * n
    reward_sum = 0.0
    regret = 0.0
    best = max(means)
    entropy_step = lr * beta
    for t in range(episodes):
        m = max(theta)
        exps = [math.exp(x - m) for x in theta]
        total = 0.0
        for e in exps:
            total += e
        pi = [e / total for e in exps]
        lse = m + math.log(total)
        a = rng.categorical(pi)
        r = rng.bernoulli(means[a])
        b = reward_sum / t if (baseline == "mean" and t > 0) else 0.0
        step = lr * (r - b)
        if beta == 0:
            for i in range(n):
                theta[i] += step * ((1.0 if i == a else 0.0) - pi[i])
        else:
            h = 0.0
            for i in range(n):
                h -= pi[i] * (theta[i] - lse)
            for i in range(n):
                grad_h = -pi[i] * ((theta[i] - lse) + h)
                theta[i] += step * ((1.0 if i == a else 0.0) - pi[i]) + entropy_step * grad_h
        reward_sum += r
        pulls[a] += 1.0
        regret += best - means[a]
    final_pi = py_softmax(theta)
    best_prob = 0.0
    for p, mu in zip(final_pi, means):
        if mu == best:
            best_prob += p
    return {"theta": theta, "final_pi": final_pi, "pulls": pulls, "regret": regret,
            "best_arm_prob": best_prob, "mean_reward": reward_sum / episodes}


ENTROPY_CASES = [
    # means, episodes, lr, baseline, seed, beta
    ([0.7, 0.8, 0.9], 1000, 0.3, "none", 1, 0.05),   # the review's "rescue" of seed 1
    ([0.7, 0.8, 0.9], 1000, 0.3, "none", 1, 0.5),    # the review's "cap near 0.48"
    ([0.7, 0.8, 0.9], 1000, 0.3, "mean", 1, 0.05),
    ([0.2, 0.5, 0.8, 0.4], 257, 0.5, "mean", 123456789, 0.2),
    ([0.0, 1.0, 0.3], 2003, 0.05, "none", 2, 3.0),
]

SEEDS_CASES = [
    # means, episodes, lr, baseline, first seed, seeds, beta, threshold
    ([0.7, 0.8, 0.9], 1000, 0.3, "none", 1, 20, 0.0, 0.9),
    ([0.7, 0.8, 0.9], 1000, 0.3, "mean", 1, 20, 0.0, 0.9),
    ([0.7, 0.8, 0.9], 1000, 0.3, "none", 1, 20, 0.05, 0.9),
    ([0.7, 0.8, 0.9], 1000, 0.3, "none", 1, 20, 0.5, 0.4),
]


def hexes(xs):
    return [float(x).hex() for x in xs]


def entropy_fixture():
    out = []
    for means, episodes, lr, baseline, seed, beta in ENTROPY_CASES:
        run = reinforce(means, episodes, lr, baseline, seed, beta)
        z = np.array(means) / beta
        optimum = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        out.append({
            "means": means, "episodes": episodes, "lr": lr, "baseline": baseline, "seed": seed, "entropy": beta,
            "final_logits": hexes(run["theta"]), "final_pi": hexes(run["final_pi"]), "pulls": run["pulls"],
            "regret": run["regret"].hex(), "best_arm_prob": run["best_arm_prob"].hex(),
            "mean_reward": run["mean_reward"].hex(), "regularised_optimum": optimum.tolist(),
            "readable": {"final_pi": run["final_pi"], "best_arm_prob": run["best_arm_prob"]},
        })
    return out


def seeds_fixture():
    out = []
    for means, episodes, lr, baseline, seed, seeds, beta, threshold in SEEDS_CASES:
        probs = [reinforce(means, episodes, lr, baseline, seed + k, beta)["best_arm_prob"] for k in range(seeds)]
        out.append({
            "means": means, "episodes": episodes, "lr": lr, "baseline": baseline, "seed": seed, "seeds": seeds,
            "entropy": beta, "threshold": threshold, "seed_best_arm_probs": hexes(probs),
            "seed_fraction_above": sum(p > threshold for p in probs) / seeds,
            "readable": probs,
        })
    return out


# --- pg.corridor-variance -----------------------------------------------------------------

LEFT, RIGHT = 0, 1


def corridor_mdp(length, reward):
    """Transition table: step(s, a) -> (next state or None when terminal, reward)."""
    def step(s, a):
        if a == LEFT:
            return None, 0.0
        if s == length - 1:
            return None, reward
        return s + 1, 0.0
    return step


def true_values(length, pi_right, gamma, reward):
    """V from the Bellman equations (I - gamma P_pi) V = r_pi, solved by numpy."""
    step = corridor_mdp(length, reward)
    P = np.zeros((length, length))
    r = np.zeros(length)
    for s in range(length):
        for a, pa in ((LEFT, 1 - pi_right[s]), (RIGHT, pi_right[s])):
            nxt, rew = step(s, a)
            r[s] += pa * rew
            if nxt is not None:
                P[s, nxt] += pa
    v = np.linalg.solve(np.eye(length) - gamma * P, r)
    q = np.zeros((length, 2))
    for s in range(length):
        for a in (LEFT, RIGHT):
            nxt, rew = step(s, a)
            q[s, a] = rew + (gamma * v[nxt] if nxt is not None else 0.0)
    return v, q


def rollouts(length, pi_right, reward, start):
    """Every episode from `start` by depth-first search: (probability, [(s, a, r, s')])."""
    step = corridor_mdp(length, reward)
    out = []

    def walk(s, prob, path):
        for a, pa in ((LEFT, 1 - pi_right[s]), (RIGHT, pi_right[s])):
            nxt, rew = step(s, a)
            new_path = path + [(s, a, rew, nxt)]
            if nxt is None:
                out.append((prob * pa, new_path))
            else:
                walk(nxt, prob * pa, new_path)
    walk(start, 1.0, [])
    return out


def signals(path, v, gamma, n, lam):
    """psi at the first step, from the definitions."""
    def val(s):
        return 0.0 if s is None else v[s]
    rewards = [r for _, _, r, _ in path]
    G = sum(gamma ** k * rewards[k] for k in range(len(path)))
    s0 = path[0][0]
    deltas = [r + gamma * val(s1) - v[s] for s, _, r, s1 in path]
    if n < len(path):
        nstep = sum(gamma ** k * rewards[k] for k in range(n)) + gamma ** n * v[path[n][0]] - v[s0]
    else:
        nstep = G - v[s0]
    gae = sum((gamma * lam) ** k * deltas[k] for k in range(len(path)))
    return [G, G - v[s0], deltas[0], nstep, gae]


def corridor_case(length, pi_right, gamma, reward, v, state, n, lam):
    p = list(pi_right) * length if len(pi_right) == 1 else list(pi_right)
    V, Q = true_values(length, p, gamma, reward)
    critic = V.copy() if v is None else np.array(v, dtype=float)
    paths = rollouts(length, p, reward, state)
    w = np.array([prob for prob, _ in paths])
    score = np.array([(1.0 if path[0][1] == RIGHT else 0.0) - p[state] for _, path in paths])
    true_gradient = sum((1 - p[state] if a == LEFT else p[state]) * Q[state, a]
                        * ((1.0 if a == RIGHT else 0.0) - p[state]) for a in (LEFT, RIGHT))

    def stats(psi):
        x = psi * score
        mean = w @ x
        return float(w @ (x - mean) ** 2), float(mean - true_gradient)

    table = np.array([signals(path, critic, gamma, n, lam) for _, path in paths])
    variances, biases = zip(*(stats(table[:, j]) for j in range(5)))
    G = table[:, 0]
    b_star = float((w @ (G * score ** 2)) / (w @ score ** 2))
    var_star, _ = stats(G - b_star)
    lambdas = [k / 10 for k in range(11)]
    gae_curve = [stats(np.array([signals(path, critic, gamma, n, lam_k)[4] for _, path in paths])) for lam_k in lambdas]
    n_curve = [stats(np.array([signals(path, critic, gamma, m, lam)[3] for _, path in paths]))
               for m in range(1, length - state + 1)]
    bootstrap = sum(prob * gamma * ((critic[path[0][3]] - V[path[0][3]]) if path[0][3] is not None else 0.0)
                    * ((1.0 if path[0][1] == RIGHT else 0.0) - p[state]) for prob, path in paths)
    return {
        "pi_right": list(pi_right), "length": length, "gamma": gamma, "reward": reward,
        "v": None if v is None else list(v), "state": state, "n": n, "lambda": lam,
        "variances": list(variances), "biases": list(biases), "true_gradient": float(true_gradient),
        "values": V.tolist(), "q_values": Q.tolist(), "critic": critic.tolist(),
        "optimal_baseline": b_star, "variance_optimal_baseline": var_star,
        "gae_variance_curve": [c[0] for c in gae_curve], "gae_bias_curve": [c[1] for c in gae_curve],
        "nstep_variance_curve": [c[0] for c in n_curve], "nstep_bias_curve": [c[1] for c in n_curve],
        "bias_td_bootstrap": float(bootstrap), "trajectories": len(paths),
    }


CORRIDOR_CASES = [
    # length, pi_right, gamma, reward, v (None = true V), state, n, lambda
    (2, [0.5], 0.9, 1.0, None, 0, 2, 0.95),   # the review's 0.038 / 0.025 / 0
    (2, [0.9], 0.9, 1.0, None, 0, 2, 0.95),   # subtracting V raises the variance
    (2, [0.5], 0.9, 1.0, [0.0, 0.0], 0, 1, 0.5),  # a critic that knows nothing: biased delta
    (2, [0.5], 0.9, 1.0, [0.3, 0.8], 0, 2, 0.5),  # the lesson's v table
    (5, [0.6, 0.7, 0.8, 0.5, 0.9], 0.95, 2.0, [0.1, -0.2, 0.4, 0.3, 1.5], 1, 2, 0.7),
    (5, [0.6, 0.7, 0.8, 0.5, 0.9], 0.95, 2.0, None, 0, 3, 0.9),
    (1, [0.25], 0.5, -1.5, [0.4], 0, 3, 0.3),
]


# --- pg.corridor-train --------------------------------------------------------------------

def corridor_train(length, episodes, gamma, reward, lr_actor, lr_critic, variant, seed, critic="learned",
                   threshold=0.9):
    """QAC and A2C transition by transition; REINFORCE (Sutton & Barto 2018, section 13.3 and the
    REINFORCE-with-baseline box of 13.4, without their gamma^t factor and with a tabular v) after each
    sampled episode. Also the first episode after which pi(right) > threshold in every state.
    With critic == "exact" the critic is never learned: before each update it is set to the true
    values of the current policy (V for a2c and reinforce-baseline, q for qac)."""
    rng = Xoshiro256StarStar(seed=seed)
    theta = [[0.0, 0.0] for _ in range(length)]
    q = [[0.0, 0.0] for _ in range(length)]
    v = [0.0] * length
    returns = []
    exact = critic == "exact"

    def refresh():
        # The true values by the backward Bellman recursion on the corridor (right from the last state
        # earns R, right elsewhere moves on, left ends with 0): q(i, right) = R or gamma V(i+1),
        # q(i, left) = 0, V(i) = pi_i q(i, right). Checked against numpy's linear solve.
        if not exact or variant == "reinforce":
            return
        p = [py_softmax(row)[1] for row in theta]
        vals = [0.0] * length
        qs = [[0.0, 0.0] for _ in range(length)]
        for i in reversed(range(length)):
            qs[i][1] = reward if i == length - 1 else gamma * vals[i + 1]
            vals[i] = p[i] * qs[i][1]
        v_np, q_np = true_values(length, p, gamma, reward)
        assert np.allclose(vals, v_np, rtol=1e-12, atol=1e-12) and np.allclose(qs, q_np, rtol=1e-12, atol=1e-12)
        if variant == "qac":
            for i in range(length):
                q[i] = list(qs[i])
        else:
            v[:] = vals

    def transition(s, a, r, s_next, a_next, done):
        refresh()
        estimate = q[s][a] if variant == "qac" else v[s]
        bootstrap = 0.0 if done else (q[s_next][a_next] if variant == "qac" else v[s_next])
        target = r + gamma * bootstrap
        td = target - estimate
        updated = estimate if exact else estimate + lr_critic * td
        advantage = updated if variant == "qac" else td
        pi = py_softmax(theta[s])
        grad = [(1.0 if b == a else 0.0) - pi[b] for b in range(2)]
        step = lr_actor * advantage
        theta[s] = [theta[s][b] + (step * grad[b] + 0.0) for b in range(2)]
        if exact:
            return
        if variant == "qac":
            q[s][a] = updated
        else:
            v[s] = updated

    def reinforce_episode():
        # Sample the whole episode with the policy fixed, then update each step from its return.
        path = []  # (state, action, reward)
        s = 0
        while True:
            a = rng.categorical(py_softmax(theta[s]))
            end = a == 0 or s == length - 1
            path.append((s, a, reward if (s == length - 1 and a == 1) else 0.0))
            if end:
                break
            s += 1
        g = 0.0
        to_go = []
        for (_, _, r) in reversed(path):
            g = r + gamma * g
            to_go.append(g)
        to_go.reverse()
        for (s, a, _), g_t in zip(path, to_go):
            psi = g_t
            if variant == "reinforce-baseline":
                refresh()
                psi = g_t - v[s]
                if not exact:
                    v[s] = v[s] + lr_critic * psi
            pi = py_softmax(theta[s])
            grad = [(1.0 if b == a else 0.0) - pi[b] for b in range(2)]
            step = lr_actor * psi
            theta[s] = [theta[s][b] + (step * grad[b] + 0.0) for b in range(2)]
        return to_go[0]

    passage = episodes + 1
    for e in range(episodes):
        if variant.startswith("reinforce"):
            returns.append(reinforce_episode())
            if passage > episodes and min(py_softmax(row)[1] for row in theta) > threshold:
                passage = e + 1
            continue
        s = 0
        a = rng.categorical(py_softmax(theta[s]))
        discount = 1.0
        while True:
            last = s == length - 1
            done = a == 0 or last
            r = reward if (last and a == 1) else 0.0
            s_next = s if done else s + 1
            a_next = 0 if done else rng.categorical(py_softmax(theta[s_next]))
            transition(s, a, r, s_next, a_next, done)
            if done:
                returns.append(discount * r)
                break
            discount *= gamma
            s, a = s_next, a_next
        if passage > episodes and min(py_softmax(row)[1] for row in theta) > threshold:
            passage = e + 1
    refresh()
    pi_right = [py_softmax(row)[1] for row in theta]
    curve = []
    for k in range(10):
        lo, hi = k * episodes // 10, (k + 1) * episodes // 10
        total = 0.0
        for x in returns[lo:hi]:
            total += x
        curve.append(total / (hi - lo))
    return {"length": length, "episodes": episodes, "gamma": gamma, "reward": reward, "lr_actor": lr_actor,
            "lr_critic": lr_critic, "variant": variant, "seed": seed, "critic": critic,
            "theta": [hexes(row) for row in theta], "v": hexes(v), "q": [hexes(row) for row in q],
            "pi_right": hexes(pi_right), "return_curve": hexes(curve), "readable_pi_right": pi_right,
            "episodes_to_threshold": passage}


TRAIN_CASES = [
    # length, episodes, gamma, reward, lr_actor, lr_critic, variant, seed
    (2, 300, 0.9, 1.0, 0.5, 0.2, "a2c", 2024),   # the test suite's corridor run
    (2, 300, 0.9, 1.0, 0.5, 0.2, "qac", 2024),
    (4, 500, 0.95, 2.0, 0.3, 0.1, "a2c", 3),
    (3, 57, 1.0, -1.0, 1.5, 0.9, "qac", 0),
    (2, 300, 0.9, 1.0, 0.5, 0.5, "reinforce", 2024),
    (2, 300, 0.9, 1.0, 0.5, 0.5, "reinforce-baseline", 2024),
    (4, 500, 0.95, 2.0, 0.3, 0.1, "reinforce", 3),
    (5, 200, 0.8, -1.5, 0.7, 0.3, "reinforce-baseline", 11),
    # critic = exact: the true V or q of the current policy before every update
    (2, 300, 0.9, 1.0, 0.5, 0.5, "a2c", 2024, "exact"),
    (2, 300, 0.9, 1.0, 0.5, 0.5, "qac", 2024, "exact"),
    (4, 500, 0.95, 2.0, 0.3, 0.1, "a2c", 3, "exact"),
    (3, 120, 0.8, -1.5, 0.7, 0.3, "reinforce-baseline", 11, "exact"),
]


def main():
    # The review's numbers: at pi(right) = 0.5 the variances are 0.0380, 0.0253 and 0; at 0.9
    # subtracting V raises it from 0.00125 to 0.0384 (the review prints 0.0013 and 0.0385).
    half = corridor_case(*CORRIDOR_CASES[0])
    assert abs(half["variances"][0] - 0.03796875) < 1e-15 and abs(half["variances"][1] - 0.0253125) < 1e-15
    assert abs(half["variances"][2]) < 1e-15
    fixture = {
        "reinforce_entropy": entropy_fixture(),
        "reinforce_seeds": seeds_fixture(),
        "corridor_variance": [corridor_case(*c) for c in CORRIDOR_CASES],
        "corridor_train": [corridor_train(*c) for c in TRAIN_CASES],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "policy_gradient_extended.json")
    with open(path, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print("wrote", path)
    for c in fixture["corridor_variance"][:2]:
        print("corridor p =", c["pi_right"], "variances", c["variances"])
    for c in fixture["reinforce_seeds"]:
        print("seeds", c["baseline"], "beta", c["entropy"], "fraction above", c["threshold"], "=", c["seed_fraction_above"])


if __name__ == "__main__":
    main()
