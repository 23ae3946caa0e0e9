#!/usr/bin/env python3
"""Reference values for infonce.ideal, nce.negative-sampling, nce.gaussian and infonce.train.

Run:  python3 make_infonce_extended.py   (writes infonce_extended.json beside this script)

Independent of the Swift code:
- infonce.ideal: the expected bound by brute force over every tuple of negatives
  (itertools.product, scipy.special.logsumexp), and for large N on two-valued critics by a
  scipy.stats.binom sum; the review's numbers (0.190 ... 0.445 for the channel, 0.957 and 1.2597
  for the 16-symbol saturation example) are asserted here.
- nce.negative-sampling: closed forms in numpy, losses and gradients with torch autograd
  (float64), and the optima confirmed by minimising each loss with scipy.optimize (L-BFGS-B).
- nce.gaussian: log-densities from scipy.stats.norm, gradients by torch autograd, population
  values by scipy.integrate.quad (their gradients checked against central differences of the
  quadrature loss); sampled points replay the seeded generator (Box-Muller over xoshiro256**).
- infonce.train: a vectorised numpy replay of the same seeded stream, encoder mutual
  information through an SVD (canonical correlations), and the per-batch gradient by torch.
"""
import itertools
import json
import math
import os
import sys

import numpy as np
import torch
from scipy import integrate, optimize
from scipy.special import log_expit, logsumexp
from scipy.stats import binom, norm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_actor_critic import Xoshiro256StarStar  # noqa: E402

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20241201)


class Gaussian:
    """Box-Muller over the xoshiro stream, the sine kept for the next call (as the module does)."""

    def __init__(self, seed):
        self.g = Xoshiro256StarStar(seed=seed)
        self.spare = None

    def next(self):
        if self.spare is not None:
            z, self.spare = self.spare, None
            return z
        u1, u2 = self.g.unit(), self.g.unit()
        r = math.sqrt(-2.0 * math.log(1.0 - u1))
        angle = 2.0 * math.pi * u2
        self.spare = r * math.sin(angle)
        return r * math.cos(angle)


def enc(x):
    """JSON-safe float: infinities as the strings Swift's fixture reader understands."""
    x = float(x)
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def enc_matrix(m):
    return [[enc(v) for v in row] for row in np.asarray(m)]


# ----------------------------------------------------------------------------- infonce.ideal

def ideal_critic(joint):
    p = joint / joint.sum()
    px, py = p.sum(1), p.sum(0)
    with np.errstate(divide="ignore"):
        return np.where(p > 0, np.log(p) - np.log(px)[:, None] - np.log(py)[None, :], -np.inf)


def brute_force_bound(joint, critic, n):
    """log N - E[loss], the expectation over x, y+ and every (N-1)-tuple of negatives."""
    p = joint / joint.sum()
    py = p.sum(0)
    rows, cols = p.shape
    loss = 0.0
    for x in range(rows):
        for pos in range(cols):
            if p[x, pos] == 0:
                continue
            for negs in itertools.product(range(cols), repeat=n - 1):
                prob = p[x, pos] * np.prod([py[j] for j in negs])
                if prob == 0:
                    continue
                s = [critic[x, pos]] + [critic[x, j] for j in negs]
                loss += prob * (logsumexp(s) - critic[x, pos])
    return math.log(n) - loss


def two_valued_bound(n, s_match, s_other, p_pos_match, q_match):
    """Rows where the positive matches with prob p_pos_match and each negative with q_match;
    c matching negatives ~ Binomial(N - 1, q_match)."""
    total = 0.0
    for c in range(n):
        pc = binom.pmf(c, n - 1, q_match)
        terms = []
        if c > 0:
            terms.append(math.log(c) + s_match)
        if n - 1 - c > 0:
            terms.append(math.log(n - 1 - c) + s_other)
        for s_pos, w in ((s_match, p_pos_match), (s_other, 1 - p_pos_match)):
            if w > 0:
                total += pc * w * (logsumexp([s_pos] + terms) - s_pos)
    return math.log(n) - total


def mutual_information(joint):
    p = joint / joint.sum()
    px, py = p.sum(1), p.sum(0)
    m = p > 0
    return float((p[m] * np.log(p[m] / np.outer(px, py)[m])).sum())


def ceiling(n, tau):
    return math.log(n) - math.log1p((n - 1) * math.exp(-2 / tau))


def ideal_fixture():
    cases = []
    channel = np.array([[7, 1, 1, 1], [1, 7, 1, 1], [1, 1, 7, 1], [1, 1, 1, 7]], float)
    s = ideal_critic(channel)
    lesson_n = [2, 4, 8, 16, 64, 256, 1024]
    lesson = [two_valued_bound(n, math.log(2.8), math.log(0.4), 0.7, 0.25) for n in lesson_n]
    for got, want in zip(lesson, [0.190, 0.311, 0.378, 0.412, 0.437, 0.444, 0.445]):
        assert abs(got - want) < 5e-4, (got, want)
    assert abs(lesson[1] - 0.31061706568396696) < 1e-12  # the lesson's iid cell
    # Brute force and the binomial sum agree where both are feasible.
    for n in (1, 2, 3, 4, 5):
        assert abs(brute_force_bound(channel, s, n) - two_valued_bound(n, math.log(2.8), math.log(0.4), 0.7, 0.25)) < 1e-13
    cases.append({"name": "channel-lesson", "joint": channel.tolist(), "n": lesson_n, "critic": None,
                  "tau": 1.0, "bound": lesson, "mi": mutual_information(channel),
                  "ceiling_bounded": [ceiling(n, 1.0) for n in lesson_n]})
    cases.append({"name": "channel-small", "joint": channel.tolist(), "n": [1, 2, 3, 4, 5], "critic": None,
                  "tau": 0.25, "bound": [brute_force_bound(channel, s, n) for n in (1, 2, 3, 4, 5)],
                  "mi": mutual_information(channel), "ceiling_bounded": [ceiling(n, 0.25) for n in (1, 2, 3, 4, 5)]})
    table = rng.uniform(0.2, 3.0, size=(3, 4))
    critic = rng.normal(size=(3, 4))
    cases.append({"name": "random-critic", "joint": table.tolist(), "n": [1, 2, 3, 4], "critic": critic.tolist(),
                  "tau": 2.0, "bound": [brute_force_bound(table, critic, n) for n in (1, 2, 3, 4)],
                  "mi": mutual_information(table), "ceiling_bounded": [ceiling(n, 2.0) for n in (1, 2, 3, 4)]})
    zeros = np.array([[5, 0, 1], [0, 3, 2], [1, 1, 0]], float)
    cases.append({"name": "zero-cells", "joint": zeros.tolist(), "n": [2, 3, 4, 5], "critic": None, "tau": 1.0,
                  "bound": [brute_force_bound(zeros, ideal_critic(zeros), n) for n in (2, 3, 4, 5)],
                  "mi": mutual_information(zeros), "ceiling_bounded": [ceiling(n, 1.0) for n in (2, 3, 4, 5)]})
    # The review's saturation example: 16 symbols, C determines X, a critic with margin s.
    identity = np.eye(16)
    for margin, expected in ((2.0, 0.957), (50.0, 1.2597)):
        critic = margin * np.eye(16)
        value = two_valued_bound(4, margin, 0.0, 1.0, 1 / 16)
        assert abs(value - expected) < 5e-4, (margin, value)
        cases.append({"name": f"saturation-{margin:g}", "joint": identity.tolist(), "n": [4], "critic": critic.tolist(),
                      "tau": 1.0, "bound": [value], "mi": math.log(16), "ceiling_bounded": [ceiling(4, 1.0)]})
    # 17.6% of rows hold a repeat of the positive's symbol among 3 iid negatives of 16.
    assert abs(1 - (15 / 16) ** 3 - 0.176) < 5e-4
    return cases


# --------------------------------------------------------------------- nce.negative-sampling

def ns_losses(joint, k, alpha, scores):
    p = torch.tensor(joint / joint.sum())
    pw, pc = p.sum(1), p.sum(0)
    noise = pc ** alpha / (pc ** alpha).sum()
    s = torch.tensor(scores, requires_grad=True)
    out = {}
    lse = torch.logsumexp(s, dim=1, keepdim=True)
    softmax = -(p * (s - lse)).sum()
    mask = p > 0

    def logistic(G):
        data = torch.where(mask, p * torch.nn.functional.softplus(-G), torch.zeros_like(G))
        return (data + k * pw[:, None] * noise[None, :] * torch.nn.functional.softplus(G)).sum()
    nce = logistic(s - torch.log(k * noise)[None, :])
    sgns = logistic(s)
    for name, loss in (("softmax", softmax), ("nce", nce), ("sgns", sgns)):
        grad, = torch.autograd.grad(loss, s, retain_graph=True)
        out[name + "_loss"] = float(loss.detach())
        out["grad_" + name] = grad.numpy().tolist()
    return out, noise.numpy()


def ns_case(joint, k, alpha, scores, name):
    joint = np.asarray(joint, float)
    p = joint / joint.sum()
    pw, pc = p.sum(1), p.sum(0)
    out, noise = ns_losses(joint, k, alpha, np.asarray(scores, float))
    with np.errstate(divide="ignore"):
        pmi = np.where(p > 0, np.log(p / np.outer(pw, pc)), -np.inf)
        # Levy & Goldberg: log(#(w,c)·|D| / (#w·#c_noise)) − log k, with the noise in counts.
        sgns = np.where(p > 0, np.log(p) - np.log(pw)[:, None] - np.log(noise)[None, :] - math.log(k), -np.inf)
        nce = np.where(p > 0, np.log(p / pw[:, None]), -np.inf)
    case = {"name": name, "joint": joint.tolist(), "k": k, "noise_power": alpha, "scores": np.asarray(scores).tolist(),
            "noise": noise.tolist(), "pmi": enc_matrix(pmi), "sgns_optimum": enc_matrix(sgns),
            "nce_optimum": enc_matrix(nce), "log_k_noise": np.log(k * noise).tolist(),
            "sgns_row_sum": np.exp(sgns).sum(1).tolist(), "softmax_loss_optimum": float(-(p[p > 0] * nce[p > 0]).sum())}
    case.update(out)
    if np.all(p > 0):
        # Minimise each logistic loss numerically from zero scores: the minimiser is the closed form.
        for which, closed in (("sgns", sgns), ("nce", nce)):
            def f(x, which=which):
                o, _ = ns_losses(joint, k, alpha, x.reshape(joint.shape))
                return o[which + "_loss"], np.array(o["grad_" + which]).ravel()
            res = optimize.minimize(f, np.zeros(joint.size), jac=True, method="L-BFGS-B",
                                    options={"gtol": 1e-13, "ftol": 1e-15, "maxiter": 10000})
            assert np.max(np.abs(res.x.reshape(joint.shape) - closed)) < 1e-5, (which, res.x, closed)
            case[which + "_minimiser"] = res.x.reshape(joint.shape).tolist()
            case[which + "_loss_optimum"] = float(res.fun)
    return case


def ns_fixture():
    weather = [[30, 2, 18], [3, 27, 20]]
    return [
        ns_case(weather, 2, 1.0, np.zeros((2, 3)), "weather-k2"),
        ns_case(weather, 5, 0.75, rng.normal(size=(2, 3)), "weather-k5-smoothed"),
        ns_case(rng.uniform(0.5, 4, size=(4, 5)), 3, 0.5, rng.normal(size=(4, 5)) * 2, "random-4x5"),
        ns_case([[4, 0, 2], [1, 3, 1]], 1, 1.0, rng.normal(size=(2, 3)), "zero-cell"),
    ]


# ------------------------------------------------------------------------------ nce.gaussian

LESSON_DATA = [-1.8, -0.2, 0.3, 0.8]
LESSON_NOISE = [-3.1, -1.8, -1.0, -0.3, 0.3, 1.0, 1.8, 3.1]


def gaussian_nce(data, noise, mu, s, c, noise_mean, noise_sd):
    data_t, noise_t = torch.tensor(data), torch.tensor(noise)
    theta = torch.tensor([mu, s, c], requires_grad=True)

    def logpm(u):
        return -0.5 * math.log(2 * math.pi) - torch.log(theta[1]) - 0.5 * ((u - theta[0]) / theta[1]) ** 2 + theta[2]
    md = logpm(data_t).detach().requires_grad_(True)
    mn = logpm(noise_t).detach().requires_grad_(True)
    nd = torch.tensor(norm.logpdf(data, noise_mean, noise_sd))
    nn_ = torch.tensor(norm.logpdf(noise, noise_mean, noise_sd))
    k = len(noise) / len(data)

    def loss_of(md_, mn_):
        gd = md_ - nd - math.log(k)
        gn = mn_ - nn_ - math.log(k)
        return (torch.nn.functional.softplus(-gd).sum() + torch.nn.functional.softplus(gn).sum()) / len(data)
    loss = loss_of(md, mn)
    grad_md, grad_mn = torch.autograd.grad(loss, (md, mn))
    full = loss_of(logpm(data_t), logpm(noise_t))
    grad_theta, = torch.autograd.grad(full, theta)
    gd = (md - nd - math.log(k)).detach().numpy()
    gn = (mn - nn_ - math.log(k)).detach().numpy()
    # The same loss from scipy's log-sigmoid, as a second route.
    check = -(log_expit(gd).sum() + log_expit(-gn).sum()) / len(data)
    assert abs(check - float(loss.detach())) < 1e-13
    return {"k": k, "g_data": gd.tolist(), "g_noise": gn.tolist(), "loss": float(loss.detach()),
            "grad_data": grad_md.numpy().tolist(), "grad_noise": grad_mn.numpy().tolist(),
            "grad_mu": float(grad_theta[0]), "grad_s": float(grad_theta[1]), "grad_c": float(grad_theta[2]),
            "model_logp_data": md.detach().numpy().tolist(), "noise_logp_data": nd.numpy().tolist(),
            "model_logp_noise": mn.detach().numpy().tolist(), "noise_logp_noise": nn_.numpy().tolist()}


def expected_nce(mu, s, c, noise_mean, noise_sd, data_mean, data_sd, k):
    def G(u, mu=mu, s=s, c=c):
        return norm.logpdf(u, mu, s) + c - norm.logpdf(u, noise_mean, noise_sd) - math.log(k)

    def quad(f, mean, sd):
        val, _ = integrate.quad(lambda u: norm.pdf(u, mean, sd) * f(u), mean - 14 * sd, mean + 14 * sd,
                                epsabs=1e-14, epsrel=1e-12, limit=500, points=[mean, mu, noise_mean])
        return val

    def loss(mu=mu, s=s, c=c):
        return (quad(lambda u: -log_expit(G(u, mu, s, c)), data_mean, data_sd)
                + k * quad(lambda u: -log_expit(-G(u, mu, s, c)), noise_mean, noise_sd))

    def sig(x):
        return 1 / (1 + math.exp(-x))
    d = {"c": lambda u: 1.0, "mu": lambda u: (u - mu) / s ** 2, "s": lambda u: ((u - mu) ** 2 / s ** 2 - 1) / s}
    out = {"expected_loss": loss()}
    for name, dlog in d.items():
        out["expected_grad_" + name] = (quad(lambda u: -sig(-G(u)) * dlog(u), data_mean, data_sd)
                                        + k * quad(lambda u: sig(G(u)) * dlog(u), noise_mean, noise_sd))
    # The analytic gradients agree with central differences of the quadrature loss.
    h = 1e-5
    for name, kw in (("c", "c"), ("mu", "mu"), ("s", "s")):
        base = {"mu": mu, "s": s, "c": c}
        plus, minus = dict(base), dict(base)
        plus[kw] += h
        minus[kw] -= h
        fd = (loss(**plus) - loss(**minus)) / (2 * h)
        assert abs(fd - out["expected_grad_" + name]) < 1e-8, (name, fd, out["expected_grad_" + name])
    return out


def gaussian_case(name, mu, s, c, noise_mean=0.0, noise_sd=2.0, data_mean=0.0, data_sd=1.0,
                  data=LESSON_DATA, noise=LESSON_NOISE, sampled=None):
    case = {"name": name, "mu": mu, "s": s, "c": c, "noise_mean": noise_mean, "noise_sd": noise_sd,
            "data_mean": data_mean, "data_sd": data_sd}
    if sampled is None:
        case.update({"points": "given", "data": data, "noise": noise})
    else:
        count, k, seed = sampled
        g = Gaussian(seed)
        data = [data_mean + data_sd * g.next() for _ in range(count)]
        noise = [noise_mean + noise_sd * g.next() for _ in range(count * k)]
        case.update({"points": "sampled", "data_count": count, "k_param": k, "seed": seed,
                     "data_hex": [x.hex() for x in data], "noise_hex": [x.hex() for x in noise],
                     "data": data, "noise": noise})
    case.update(gaussian_nce(data, noise, mu, s, c, noise_mean, noise_sd))
    case.update(expected_nce(mu, s, c, noise_mean, noise_sd, data_mean, data_sd, case["k"]))
    return case


def gaussian_fixture():
    cases = [
        gaussian_case("lesson-true", 0.0, 1.0, 0.0),
        gaussian_case("lesson-s1.5", 0.0, 1.5, 0.0),
        gaussian_case("lesson-heavy", 0.0, 1.0, 0.5),
        gaussian_case("shifted", 0.3, 0.8, -0.2, noise_mean=0.5, noise_sd=1.5, data_mean=0.2, data_sd=1.2),
        gaussian_case("sampled", 0.1, 1.1, 0.05, sampled=(6, 3, 7)),
        gaussian_case("sampled-narrow-noise", -0.5, 0.5, 0.0, noise_mean=-0.2, noise_sd=0.4,
                      data_mean=-0.5, data_sd=0.5, sampled=(5, 2, 11)),
    ]
    # At the truth the population gradient in c vanishes (the lesson's claim).
    assert abs(cases[0]["expected_grad_c"]) < 1e-12 and abs(cases[0]["expected_grad_mu"]) < 1e-12
    return cases


# ----------------------------------------------------------------------------- infonce.train

EVAL_MASK = 0x5851F42D4C957F2D


def batch(g, size, dims, noise):
    v1, v2 = np.empty((size, dims)), np.empty((size, dims))
    for i in range(size):
        x = [g.next() for _ in range(dims)]
        e1 = [g.next() for _ in range(dims)]
        e2 = [g.next() for _ in range(dims)]
        v1[i] = [x[t] + noise * e1[t] for t in range(dims)]
        v2[i] = [x[t] + noise * e2[t] for t in range(dims)]
    return v1, v2


def np_scores(W1, W2, v1, v2, critic, tau):
    g, h = v1 @ W1.T, v2 @ W2.T
    if critic == "cosine":
        g = g / np.linalg.norm(g, axis=1, keepdims=True)
        h = h / np.linalg.norm(h, axis=1, keepdims=True)
    if critic == "distance":
        return -0.5 * ((g[:, None, :] - h[None, :, :]) ** 2).sum(2) / tau
    return g @ h.T / tau


def np_loss_grad(W1, W2, v1, v2, critic, tau):
    """Loss and gradients by torch autograd: no hand-derived backward pass."""
    w1 = torch.tensor(W1, requires_grad=True)
    w2 = torch.tensor(W2, requires_grad=True)
    g, h = torch.tensor(v1) @ w1.T, torch.tensor(v2) @ w2.T
    if critic == "cosine":
        g = g / g.norm(dim=1, keepdim=True)
        h = h / h.norm(dim=1, keepdim=True)
    if critic == "distance":
        s = -0.5 * ((g[:, None, :] - h[None, :, :]) ** 2).sum(2) / tau
    else:
        s = g @ h.T / tau
    loss = (torch.logsumexp(s, dim=1) - torch.diagonal(s)).mean()
    gw1, gw2 = torch.autograd.grad(loss, (w1, w2))
    correct = int((torch.argmax(s, dim=1) == torch.arange(len(v1))).sum())
    return float(loss.detach()), gw1.numpy(), gw2.numpy(), correct


def encoder_mi(W1, W2, noise):
    """Sum over canonical correlations -1/2 log(1 - rho^2), through an SVD of the whitened cross-covariance."""
    a = 1 + noise ** 2

    def basis(W):
        _, sv, vt = np.linalg.svd(W)
        return vt[: int((sv > 1e-10 * sv.max()).sum())]
    rho = np.linalg.svd(basis(W1) @ basis(W2).T, compute_uv=False) / a
    return float(-0.5 * np.log1p(-rho ** 2).sum())


def train_case(dims=2, width=2, noise=0.5, batch_size=32, steps=300, lr=0.3, tau=1.0, critic="distance",
               seed=1, points=20, eval_batches=20):
    g = Gaussian(seed)
    scale = 1 / math.sqrt(dims)
    W1 = np.array([[g.next() * scale for _ in range(dims)] for _ in range(width)])
    W2 = np.array([[g.next() * scale for _ in range(dims)] for _ in range(width)])
    logb = math.log(batch_size)

    def evaluate(W1, W2):
        ge = Gaussian(seed ^ EVAL_MASK)
        bounds, ideal, correct = [], [], 0
        a = 1 + noise ** 2
        gap = noise ** 2 * (2 + noise ** 2)
        for _ in range(eval_batches):
            v1, v2 = batch(ge, batch_size, dims, noise)
            s = np_scores(W1, W2, v1, v2, critic, tau)
            bounds.append(logb - (logsumexp(s, axis=1) - np.diag(s)).mean())
            correct += int((np.argmax(s, axis=1) == np.arange(batch_size)).sum())
            si = (v1 @ v2.T - 0.5 * (v2 ** 2).sum(1)[None, :] / a) / gap
            ideal.append(logb - (logsumexp(si, axis=1) - np.diag(si)).mean())
        return np.array(bounds), np.array(ideal), correct

    before, _, _ = evaluate(W1, W2)
    mi_initial = encoder_mi(W1, W2, noise)
    losses = []
    for _ in range(steps):
        v1, v2 = batch(g, batch_size, dims, noise)
        loss, g1, g2, _ = np_loss_grad(W1, W2, v1, v2, critic, tau)
        losses.append(loss)
        W1 = W1 - lr * g1
        W2 = W2 - lr * g2
    after, ideal, correct = evaluate(W1, W2)
    curve = [float(np.mean(losses[j * steps // points:(j + 1) * steps // points])) for j in range(points)]
    mi = dims * 0.5 * math.log1p(1 / (noise ** 2 * (2 + noise ** 2)))
    assert max(np.max(logb - np.array(losses)), before.max(), after.max()) <= logb
    return {
        "dims": dims, "width": width, "noise": noise, "batch": batch_size, "steps": steps, "lr": lr, "tau": tau,
        "critic": critic, "seed": seed, "points": points, "eval_batches": eval_batches,
        "loss_curve": curve, "initial_bound": float(before.mean()), "final_bound": float(after.mean()),
        "final_bound_se": float(after.std(ddof=1) / math.sqrt(eval_batches)), "ideal_bound": float(ideal.mean()),
        "final_accuracy": correct / (eval_batches * batch_size),
        "max_batch_bound": float(max(np.max(logb - np.array(losses)), before.max(), after.max())),
        "mi_true": mi, "mi_encoder": min(encoder_mi(W1, W2, noise), mi), "mi_encoder_initial": min(mi_initial, mi),
        "mi_encoder_max": min(width, dims) * mi / dims, "w1": W1.tolist(), "w2": W2.tolist(),
    }


def gradient_cases():
    out = []
    for critic, dims, width, size, tau in (("distance", 3, 2, 5, 0.7), ("bilinear", 2, 3, 4, 1.3), ("cosine", 4, 2, 6, 0.2)):
        W1, W2 = rng.normal(size=(width, dims)), rng.normal(size=(width, dims))
        v1, v2 = rng.normal(size=(size, dims)), rng.normal(size=(size, dims))
        loss, g1, g2, correct = np_loss_grad(W1, W2, v1, v2, critic, tau)
        out.append({"critic": critic, "tau": tau, "w1": W1.tolist(), "w2": W2.tolist(), "v1": v1.tolist(),
                    "v2": v2.tolist(), "loss": loss, "grad_w1": g1.tolist(), "grad_w2": g2.tolist(),
                    "correct": correct})
    return out


def train_fixture():
    cases = [
        train_case(),
        train_case(dims=3, width=2, noise=0.7, batch_size=16, steps=100, lr=0.1, critic="bilinear", seed=5, points=10),
        train_case(dims=2, width=3, noise=0.4, batch_size=12, steps=80, lr=0.5, tau=0.5, critic="cosine", seed=9,
                   points=8, eval_batches=5),
        train_case(dims=4, width=2, noise=1.0, batch_size=8, steps=50, lr=0.2, critic="distance", seed=0, points=5,
                   eval_batches=3),
    ]
    # The default run learns: its bound rises well above the untrained one, toward the ideal.
    assert cases[0]["final_bound"] > cases[0]["initial_bound"] + 1
    return cases


def main():
    fixture = {
        "ideal": ideal_fixture(),
        "negative_sampling": ns_fixture(),
        "gaussian": gaussian_fixture(),
        "train": train_fixture(),
        "train_gradients": gradient_cases(),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "infonce_extended.json")
    with open(path, "w") as fh:
        json.dump(fixture, fh, indent=1)
        fh.write("\n")
    print("wrote", path)
    print("ideal bound, lesson channel:", [round(b, 4) for b in fixture["ideal"][0]["bound"]])
    for c in fixture["train"]:
        print("train", c["critic"], "initial", round(c["initial_bound"], 4), "final", round(c["final_bound"], 4),
              "ideal", round(c["ideal_bound"], 4), "I", round(c["mi_true"], 4))


if __name__ == "__main__":
    main()
