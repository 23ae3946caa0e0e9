#!/usr/bin/env python3
"""Reference values for kimi.mirror-fit and kimi.log-z-estimates.

Writes kimi_mirror.json beside this script:

    python3 Tests/LessonsTests/Fixtures/make_kimi_mirror.py

Independent of the Swift code. The mean-baseline minimiser of
    L(pi) = sum_y q(y) (r(y) - b - tau log(pi(y)/q(y)))^2
is found twice: in closed form with scipy.special.lambertw and scipy.optimize.brentq on the
multiplier kappa, and by scipy.optimize.minimize (BFGS) on softmax logits; the two must agree.
The estimator bias and spread sum over m ~ Binomial(k, p) with scipy.stats.binom.
"""
import json
import pathlib

import numpy as np
from scipy.optimize import brentq, minimize
from scipy.special import lambertw, logsumexp, softmax
from scipy.stats import binom


def mean_fit(logits, rewards, tau):
    q = softmax(np.array(logits, dtype=np.float64))
    r = np.array(rewards, dtype=np.float64)
    b = float(q @ r)
    s = (r - b) / tau

    def rho(kappa):
        return s - np.real(lambertw(kappa / tau * np.exp(s)))

    def mass(log_kappa):
        return np.log(q @ np.exp(rho(np.exp(log_kappa))))

    log_kappa = brentq(mass, -60, 60, xtol=1e-15, rtol=1e-15, maxiter=500)
    kappa = np.exp(log_kappa)
    fit = q * np.exp(rho(kappa))
    fit /= fit.sum()

    # Independent check: minimise the loss over softmax logits.
    def loss(theta):
        lp = theta - logsumexp(theta)
        return float(q @ (r - b - tau * (lp - np.log(q))) ** 2)

    res = minimize(loss, np.log(q), method="BFGS", options={"gtol": 1e-12})
    assert np.max(np.abs(softmax(res.x) - fit)) < 1e-6, (softmax(res.x), fit)
    return q, b, fit, kappa


def reward_path(logits, rewards, tau, mode, iterations):
    r = np.array(rewards, dtype=np.float64)
    lg = np.array(logits, dtype=np.float64)
    path = [float(softmax(lg) @ r)]
    for _ in range(iterations):
        if mode == "exact":
            lg = lg + r / tau
        else:
            _, _, fit, _ = mean_fit(lg, r, tau)
            lg = np.log(fit)
        path.append(float(softmax(lg) @ r))
    return path


def estimates(p, tau, ks):
    exact = tau * np.log1p(p * np.expm1(1 / tau))
    out = {"tau_log_z": exact, "direct_bias": [], "direct_sd": [], "mean_bias": [], "mean_sd": [], "no_contrast": []}
    for k in ks:
        m = np.arange(k + 1)
        w = binom.pmf(m, k, p)
        direct = tau * np.log1p(m / k * np.expm1(1 / tau)) - exact
        mean = m / k - exact
        for name, d in (("direct", direct), ("mean", mean)):
            mu = float(w @ d)
            out[name + "_bias"].append(mu)
            out[name + "_sd"].append(float(np.sqrt(w @ (d - mu) ** 2)))
        out["no_contrast"].append(float(w[0] + w[-1]))
    return out


def main():
    toy = ([0.5, 1.5, -0.5, 0], [1, 0, 1, 0], 0.5)
    q, b, fit, kappa = mean_fit(*toy)
    other = ([0.3, -1.2, 2.0, 0.7, -0.4], [0.2, 1.5, -0.3, 0.9, 0.0], 0.8)
    _, _, fit2, kappa2 = mean_fit(*other)
    data = {
        "mirror_fit": {
            "toy": {"fit": fit.tolist(), "kappa": kappa, "baseline": b,
                    "mean_path": reward_path(*toy, "mean", 6), "exact_path": reward_path(*toy, "exact", 6)},
            "other": {"logits": other[0], "rewards": other[1], "tau": other[2], "fit": fit2.tolist(), "kappa": kappa2},
        },
        "log_z_estimates": estimates(0.3, 0.5, [2, 4, 8, 16]),
    }
    path = pathlib.Path(__file__).with_name("kimi_mirror.json")
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))


if __name__ == "__main__":
    main()
