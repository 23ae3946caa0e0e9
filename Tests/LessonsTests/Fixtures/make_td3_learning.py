#!/usr/bin/env python3
"""Reference values for td3.learn (TD3LearningTests) and an independent check of the ddpg lesson.

Run:  python3 make_td3_learning.py

Independent of the Swift code:
- E[clip(nu, -k, k)^2] for nu ~ N(0, s^2) by scipy.integrate.quad (the values typed into
  testClippedNoiseSecondMomentMatchesQuadrature);
- a numpy re-implementation of td3.learn's update (numpy's own generator, so it agrees with the
  module statistically, not bit for bit), run for the lesson's td3.learn cells: the bias of
  critic 1's estimate at the actor's action over the last tenth of 3,000 updates, including the
  twin cells whose critics' transitions are correlated (corr, td3.learn's `correlation`), and
  clip_pull with the bias it predicts, DDPG's bias + gamma/(1 - gamma) * clip_pull.
"""
import numpy as np
from scipy import integrate, stats


def clipped_second_moment(s, k):
    f = lambda x: min(max(x, -k), k) ** 2 * stats.norm.pdf(x, 0, s)
    return integrate.quad(f, -np.inf, np.inf, epsabs=1e-15, epsrel=1e-14, limit=200)[0]


def run(updates=3000, runs=4000, gamma=0.9, lrc=0.1, lra=0.1, tau=0.05, explore=0.3, rn=1.0, c=1.0,
        twin=False, delay=1, tn=0.0, clip=0.5, corr=0.0, seed=0):
    rng = np.random.default_rng(seed)
    th = np.zeros(runs); tht = np.zeros(runs)
    w = np.zeros((2, runs, 3)); w[:, :, 2] = -c
    wt = w.copy()
    tail = 9*updates//10; acc = np.zeros(runs); pull = np.zeros(runs)
    q = lambda W, a: W[..., 0] + W[..., 1]*a + W[..., 2]*a*a
    for t in range(updates):
        for k in range(2 if twin else 1):
            z, xi, nu = rng.standard_normal((3, runs))
            if k == 0:
                first = (z, xi, nu)
            else:  # critic 2's draws correlated with critic 1's (td3.learn's `correlation`)
                z, xi, nu = (corr*f + np.sqrt(1 - corr**2)*d for f, d in zip(first, (z, xi, nu)))
            a = th + explore*z
            r = -c*a*a + rn*xi
            na = tht + (np.clip(tn*nu, -clip, clip) if tn > 0 else 0)
            nxt = q(wt[0], na)
            if twin: nxt = np.minimum(nxt, q(wt[1], na))
            if k == 0 and t >= tail: pull += (nxt - q(wt[0], na))/(updates-tail)  # clip_pull
            d = r + gamma*nxt - q(w[k], a)
            w[k] += lrc*d[:, None]*np.stack([np.ones(runs), a, a*a], 1)
        if (t+1) % delay == 0:
            th = th + lra*(w[0][:, 1] + 2*w[0][:, 2]*th)
            tht = tau*th + (1-tau)*tht
            wt = tau*w + (1-tau)*wt
        if t >= tail:
            acc += (q(w[0], th) - (-c*th*th/(1-gamma)))/(updates-tail)
    return acc.mean(), acc.std(ddof=1)/np.sqrt(runs), pull.mean()


if __name__ == "__main__":
    for s, k in [(0.2, 0.5), (1, 1)]:
        print(f"E[clip(nu)^2], sd {s}, clip {k}: {clipped_second_moment(s, k)!r}")
    ddpg = run()[0]
    for name, kw in [("learn_frozen", dict(lra=0)), ("learn_ddpg", {}), ("learn_ddpg_quiet", dict(rn=0.5)),
                     ("learn_twin", dict(twin=True)), ("learn_twin_quiet", dict(twin=True, rn=0.5)),
                     ("learn_twin_delay", dict(twin=True, delay=2)),
                     ("learn_twin_slow_actor", dict(twin=True, lra=0.05)),
                     ("learn_twin_slow_targets", dict(twin=True, tau=0.025)),
                     ("learn_td3", dict(twin=True, delay=2, tn=0.2)),
                     ("learn_twin_corr9", dict(twin=True, corr=0.9)),
                     ("learn_twin_corr99", dict(twin=True, corr=0.99))]:
        b, se, pull = run(**kw)
        # clip_pull, and the bias it predicts for the undelayed, unsmoothed cells: DDPG's + 9 * pull
        print(name, "bias %.4f  se %.4f  clip_pull %.4f  ddpg + 9 pull %.4f" % (b, se, pull, ddpg + 9*pull))
