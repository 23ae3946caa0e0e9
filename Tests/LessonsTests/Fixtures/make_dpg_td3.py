#!/usr/bin/env python3
"""Reference values for dpg.estimators and td3.overestimation.

Run:  python3 make_dpg_td3.py   (writes dpg_td3.json beside this script)

Independent of the Swift code:
- dpg.estimators: the mean and total variance of each single-sample estimator by tensor-product
  Gauss-Hermite quadrature (numpy.polynomial.hermite_e, 8 nodes per dimension: every integrand
  is a polynomial of degree at most 6 in each coordinate, so the rule is exact up to rounding),
  not by the closed forms the module uses; the measured outputs replay the seeded Box-Muller
  stream over xoshiro256** for a few small runs.
- td3.overestimation: a replay of the same stream for small runs, and for two actions of equal
  value with independent unit-variance errors the expectations E[max Q1] = 1/sqrt(pi) and
  E[min(Q1(a*), Q2(a*))] by scipy.integrate.dblquad.
"""
import itertools
import json
import math
import os
import sys

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import integrate
from scipy.stats import norm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_actor_critic import Xoshiro256StarStar  # noqa: E402
from make_infonce_extended import Gaussian  # noqa: E402


def critic(a, q0, wa, waa):
    return q0 + sum(wa * x + waa * x * x for x in a)


def quadrature_moments(d, m, s, q0, wa, waa, nodes=8):
    """Mean vector and total variance of the three estimators, by Gauss-Hermite quadrature."""
    x, w = hermegauss(nodes)
    w = w / math.sqrt(2 * math.pi)  # weights of the standard normal
    V = None
    # V = E[Q(a)] by the same rule.
    total_v = 0.0
    for idx in itertools.product(range(nodes), repeat=d):
        z = [x[i] for i in idx]
        weight = np.prod([w[i] for i in idx])
        total_v += weight * critic([m + s * zi for zi in z], q0, wa, waa)
    V = total_v
    first = np.zeros((3, d))
    second = np.zeros((3, d))
    for idx in itertools.product(range(nodes), repeat=d):
        z = np.array([x[i] for i in idx])
        weight = np.prod([w[i] for i in idx])
        a = m + s * z
        q = critic(a, q0, wa, waa)
        est = np.stack([q * z / s, (q - V) * z / s, wa + 2 * waa * a])
        first += weight * est
        second += weight * est * est
    var = (second - first ** 2).sum(axis=1)
    return V, first, var


def replay_estimators(d, m, s, q0, wa, waa, n, seed):
    g = Gaussian(seed)
    V = q0 + d * (wa * m + waa * m * m) + d * waa * s * s
    rows = []
    for _ in range(n):
        z = np.array([g.next() for _ in range(d)])
        a = m + s * z
        q = critic(a, q0, wa, waa)
        rows.append(np.stack([q * z / s, (q - V) * z / s, wa + 2 * waa * a]))
    rows = np.array(rows)  # n x 3 x d
    mean = rows.mean(axis=0)
    var = rows.var(axis=0, ddof=1).sum(axis=1) if n > 1 else np.zeros(3)
    return mean, var


def estimator_cases():
    cases = []
    for (d, m, s, q0, wa, waa) in [(1, 0.2, 0.3, 1.0, 1.0, -0.8), (2, 0.5, 1.0, 0.4, -0.7, 0.9),
                                   (3, -0.3, 0.5, 2.0, 0.3, -1.2), (1, 0.0, 0.05, -3.0, 0.5, 0.0),
                                   (2, 1.5, 2.0, 0.0, 0.0, 0.25)]:
        V, mean, var = quadrature_moments(d, m, s, q0, wa, waa)
        g = wa + 2 * waa * m
        # Every estimator is unbiased for the deterministic gradient (Q is quadratic in a).
        assert np.allclose(mean, g, atol=1e-10), (mean, g)
        cases.append({"dims": d, "mu": m, "sigma": s, "q0": q0, "w_a": wa, "w_aa": waa,
                      "grad": g, "value": V, "var_score": var[0], "var_baseline": var[1],
                      "var_pathwise": var[2]})
    return cases


def replay_cases():
    cases = []
    for (d, m, s, q0, wa, waa, n, seed) in [(1, 0.2, 0.3, 1.0, 1.0, -0.8, 7, 1), (3, -0.3, 0.5, 2.0, 0.3, -1.2, 5, 42),
                                            (2, 0.5, 1.0, 0.4, -0.7, 0.9, 1, 3)]:
        mean, var = replay_estimators(d, m, s, q0, wa, waa, n, seed)
        cases.append({"dims": d, "mu": m, "sigma": s, "q0": q0, "w_a": wa, "w_aa": waa, "samples": n,
                      "seed": seed, "est_score": list(mean[0]), "est_baseline": list(mean[1]),
                      "est_pathwise": list(mean[2]), "measured_var_score": var[0],
                      "measured_var_baseline": var[1], "measured_var_pathwise": var[2]})
    return cases


def replay_overestimation(values, sigma, rho, trials, seed):
    g = Gaussian(seed)
    values = np.array(values, dtype=float)
    k = len(values)
    rec = []
    best_count = 0
    fresh = math.sqrt(1 - rho * rho)
    for _ in range(trials):
        e1 = np.array([g.next() for _ in range(k)])
        f = np.array([g.next() for _ in range(k)])
        q1 = values + sigma * e1
        best = int(np.argmax(q1))  # first maximum, as the module
        q2 = values[best] + sigma * (rho * e1[best] + fresh * f[best])
        rec.append([q1[best], q2, min(q1[best], q2), values[best]])
        best_count += values[best] == values.max()
    rec = np.array(rec)
    return rec.mean(axis=0), best_count / trials


def overestimation_cases():
    cases = []
    for (values, sigma, rho, trials, seed) in [([0.0, 0.0, 0.0], 1.0, 0.0, 4, 1), ([1.0, 0.9, 0.2, 0.5], 0.3, 0.5, 6, 7),
                                               ([0.3], 2.0, 0.0, 3, 11)]:
        mean, best = replay_overestimation(values, sigma, rho, trials, seed)
        cases.append({"values": values, "noise": sigma, "correlation": rho, "trials": trials, "seed": seed,
                      "single": mean[0], "double": mean[1], "clipped": mean[2], "chosen_value": mean[3],
                      "best_chosen": best})
    return cases


def two_action_expectations():
    # M = max of two iid N(0, 1) has density 2 phi(m) Phi(m); Y ~ N(0, 1) independent of it.
    e_max = integrate.quad(lambda m: m * 2 * norm.pdf(m) * norm.cdf(m), -12, 12, epsabs=1e-13)[0]
    assert abs(e_max - 1 / math.sqrt(math.pi)) < 1e-10
    e_min, _ = integrate.dblquad(lambda y, m: min(m, y) * 2 * norm.pdf(m) * norm.cdf(m) * norm.pdf(y),
                                 -10, 10, -10, 10, epsabs=1e-11)
    return {"e_max": e_max, "e_clipped": e_min}


def main():
    fixture = {
        "estimators": estimator_cases(),
        "estimator_replays": replay_cases(),
        "overestimation_replays": overestimation_cases(),
        "two_actions": two_action_expectations(),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dpg_td3.json")
    with open(path, "w") as fh:
        json.dump(fixture, fh, indent=1, default=float)
        fh.write("\n")
    print("wrote", path, fixture["two_actions"])


if __name__ == "__main__":
    main()
