import Foundation
import NotebookCore

// Many DDPG or TD3 updates on the smallest problem where over-estimation can build up: one
// state that repeats forever, a scalar action a, and a noisy reward
//     r = −c·a² + σ_r·ξ,   ξ ~ N(0, 1),
// so a deterministic policy that always plays μ is truly worth Q^μ(μ) = −c·μ²/(1 − γ), and its
// action-value function Q^μ(a) = −c·a² + γ·Q^μ(μ) lies exactly in the critic's class
//     Q_w(a) = w₀ + w₁·a + w₂·a²    (ddpg.step's critic with the state feature 1).
// The actor is the action itself, μ = θ. Each run starts from the exact critic of its starting
// action (w = [γ·Q^μ(μ₀), 0, −c]) with the targets as copies, so every error is learned.
//
// One update, in the order of Fujimoto's reference TD3.py:
//   1. for critic 1 (and critic 2 when twin), a minibatch of `batch` transitions of its own:
//      a = θ + explore·z, r as above, the target action ã = θ' + clip(ν, −noise_clip, noise_clip)
//      with ν ~ N(0, target_noise²) (ã = θ' when target_noise = 0), and
//          y = r + γ·Q_{w'₁}(ã)                     single (DDPG)
//          y = r + γ·min(Q_{w'₁}(ã), Q_{w'₂}(ã))    twin (TD3's clipped double Q);
//      then w ← w + lr_critic·mean(δ·[1, a, a²]), δ = y − Q_w(a) (the semi-gradient step);
//   2. every `policy_delay` updates: the actor climbs critic 1, θ ← θ + lr_actor·∂Q_{w₁}/∂a(θ),
//      and the targets move, θ' ← τθ + (1 − τ)θ', w'ᵢ ← τwᵢ + (1 − τ)w'ᵢ.
// Draws per transition, in order: z, ξ, then ν when target_noise > 0; critic 1's minibatch
// before critic 2's. Run k uses the seed seed + k.
//
// The critics' correlation ρ (`correlation`): critic 2's j-th transition uses, for each of its
// draws d₂ (z, ξ, ν), ρ·d₁ + √(1 − ρ²)·d₂, with d₁ critic 1's matching draw. Every pair of draws
// then has correlation ρ; ρ = 0 is independent minibatches (the same stream as before the
// parameter existed), ρ = 1 identical ones, which with identical starting critics is DDPG.
//
// Recorded after every update: the critic's estimate Q_{w₁}(θ) of the current policy and its
// true value −c·θ²/(1 − γ), and (twin) the pull min(Q'₁, Q'₂)(ã) − Q'₁(ã) of critic 1's targets. Their difference is what Fujimoto et al.'s Figure 1 plots for DDPG
// on MuJoCo tasks (value estimate against true discounted return).

/// What one run of updates records.
struct TD3Run {
    var biasTenths: [Double]
    var lastBias = 0.0, lastEstimate = 0.0, lastTrue = 0.0, lastActionSquare = 0.0, lastCurvature = 0.0
    /// Mean over the last tenth of min(Q'₁, Q'₂)(ã) − Q'₁(ã) on critic 1's targets (0 for one critic).
    var lastPull = 0.0
    var diverged = false
}

struct TD3Learner {
    let gamma: Double, lrCritic: Double, lrActor: Double, tau: Double
    let batch: Int, explore: Double, rewardNoise: Double, curvature: Double
    let twin: Bool, policyDelay: Int, targetNoise: Double, noiseClip: Double
    var correlation = 0.0

    /// Largest magnitude of a weight or action before a run counts as diverged.
    static let divergenceBound = 1e100

    static func q(_ w: (Double, Double, Double), _ a: Double) -> Double {
        w.0 + w.1 * a + w.2 * a * a
    }

    func trueValue(_ theta: Double) -> Double {
        -curvature * theta * theta / (1 - gamma)
    }

    func run(start: Double, updates: Int, seed: Int) -> TD3Run {
        var normal = GaussianSampler(Xoshiro256StarStar(parameterSeed: seed))
        var theta = start, thetaTarget = start
        let w0 = (gamma * trueValue(start), 0.0, -curvature)
        var w = [w0, w0], wTarget = [w0, w0]
        let critics = twin ? 2 : 1
        var bias = [Double](repeating: 0, count: updates)
        var record = TD3Run(biasTenths: [])
        let tailStart = 9 * updates / 10
        let n = Double(batch)
        let rho = correlation, own = (1 - correlation * correlation).squareRoot()
        // Critic 1's draws (z, ξ, ν) per transition, for critic 2 to correlate with.
        var first = [(Double, Double, Double)](repeating: (0, 0, 0), count: twin ? batch : 0)
        for t in 0..<updates {
            var pull = 0.0
            for c in 0..<critics {
                var g0 = 0.0, g1 = 0.0, g2 = 0.0
                for j in 0..<batch {
                    var z = normal.next(), xi = normal.next()
                    var nu = targetNoise > 0 ? normal.next() : 0
                    if twin {
                        if c == 0 {
                            first[j] = (z, xi, nu)
                        } else if rho != 0 {
                            z = rho * first[j].0 + own * z
                            xi = rho * first[j].1 + own * xi
                            nu = rho * first[j].2 + own * nu
                        }
                    }
                    let a = theta + explore * z
                    let r = -curvature * a * a + rewardNoise * xi
                    var nextAction = thetaTarget
                    if targetNoise > 0 {
                        nextAction += min(max(targetNoise * nu, -noiseClip), noiseClip)
                    }
                    let single = Self.q(wTarget[0], nextAction)
                    var next = single
                    if twin { next = min(next, Self.q(wTarget[1], nextAction)) }
                    if c == 0 { pull += next - single }
                    let delta = r + gamma * next - Self.q(w[c], a)
                    g0 += delta
                    g1 += delta * a
                    g2 += delta * a * a
                }
                w[c] = (w[c].0 + lrCritic * g0 / n, w[c].1 + lrCritic * g1 / n, w[c].2 + lrCritic * g2 / n)
            }
            if (t + 1) % policyDelay == 0 {
                theta += lrActor * (w[0].1 + 2 * w[0].2 * theta)
                thetaTarget = tau * theta + (1 - tau) * thetaTarget
                for c in 0..<2 {
                    wTarget[c] = (tau * w[c].0 + (1 - tau) * wTarget[c].0,
                                  tau * w[c].1 + (1 - tau) * wTarget[c].1,
                                  tau * w[c].2 + (1 - tau) * wTarget[c].2)
                }
            }
            let size = max(abs(theta), abs(w[0].0), abs(w[0].1), abs(w[0].2), abs(w[1].0), abs(w[1].1), abs(w[1].2))
            guard size.isFinite, size < Self.divergenceBound else {
                record.diverged = true
                return record
            }
            let estimate = Self.q(w[0], theta), truth = trueValue(theta)
            bias[t] = estimate - truth
            if t >= tailStart {
                let m = Double(updates - tailStart)
                record.lastBias += (estimate - truth) / m
                record.lastEstimate += estimate / m
                record.lastTrue += truth / m
                record.lastActionSquare += theta * theta / m
                record.lastCurvature += w[0].2 / m
                record.lastPull += pull / n / m
            }
        }
        record.biasTenths = ReinforceModule.tenths(bias)
        return record
    }
}

/// E[clip(ν, −k, k)²] for ν ~ N(0, s²): s²·(erf(u/√2) − √(2/π)·u·e^{−u²/2}) + k²·erfc(u/√2), u = k/s.
func clippedNormalSecondMoment(sd s: Double, clip k: Double) -> Double {
    guard s > 0 else { return 0 }
    guard k.isFinite else { return s * s }
    let u = k / s
    let inside = s * s * (erf(u / 2.0.squareRoot()) - (2 / Double.pi).squareRoot() * u * exp(-u * u / 2))
    return inside + k * k * erfc(u / 2.0.squareRoot())
}

/// `td3.learn`: many DDPG or TD3 updates on a one-state problem, the critic's estimate against the truth.
public struct TD3LearnModule: ComputeModule {
    public init() {}
    public let name = "td3.learn"
    public let summary = "Repeated DDPG/TD3 updates on one repeating state with reward −c·a² + noise: the critic's estimate of the policy against its true value −c·μ²/(1 − γ), single or clipped double-Q targets, policy delay, target smoothing."

    /// runs × updates × batch × critics: the most transitions a cell may process.
    static let maxWork = 4_000_000

    public let parameters: [ParameterSpec] = [
        .integer("updates", 2000, range: .closed(10, 1_000_000), doc: "critic updates per run, 10 to 1,000,000"),
        .integer("runs", 100, range: .closed(1, 100_000), doc: "independent runs averaged (seeds seed … seed + runs − 1)"),
        .integer("seed", 1, range: .nonNegative, doc: "seed of the first run's generator"),
        .number("gamma", 0.9, range: .closed(0, 0.999), doc: "discount γ, in [0, 0.999]"),
        .number("lr_critic", 0.1, range: .closed(0, 10), doc: "critic step size"),
        .number("lr_actor", 0.1, range: .closed(0, 10), doc: "actor step size (0 freezes the policy)"),
        .number("tau", 0.05, range: .unit, doc: "Polyak rate τ of the targets (1: bootstrap from the learned critic)"),
        .integer("batch", 1, range: .closed(1, 10_000), doc: "transitions per critic per update"),
        .number("explore", 0.3, range: .closed(0, 1e3), doc: "standard deviation of the behaviour noise on the action taken"),
        .number("reward_noise", 1, range: .closed(0, 1e6), doc: "σ_r, standard deviation of the reward noise"),
        .number("curvature", 1, range: .closed(0, 1e3), doc: "c in the mean reward −c·a²"),
        .number("start", 0, range: .closed(-1e3, 1e3), doc: "the starting action μ₀ (0 is optimal); the critic starts exact for it"),
        .bool("twin", false, doc: "two critics and the clipped target min(Q'₁, Q'₂) (TD3); false: one critic (DDPG)"),
        .integer("policy_delay", 1, range: .closed(1, 1_000), doc: "actor and target updates once every this many critic updates (TD3: 2)"),
        .number("target_noise", 0, range: .closed(0, 1e3), doc: "standard deviation of the noise ν on the target action (TD3: 0.2; 0 for none)"),
        .number("noise_clip", 0.5, range: .closed(0, 1e3), doc: "ν is clipped to [−noise_clip, noise_clip] (TD3: 0.5)"),
        .number("correlation", 0, range: .unit, doc: "twin only: correlation ρ of the two critics' transitions, each of critic 2's draws ρ·(critic 1's) + √(1 − ρ²)·(its own); 0 independent, 1 identical (DDPG)"),
    ]
    public let outputs: [OutputSpec] = [
        .init("bias", .number, doc: "mean over runs of Q₁(μ) − Q^μ(μ), averaged over each run's last tenth of updates"),
        .init("bias_se", .number, doc: "standard error of bias across runs"),
        .init("bias_curve", .vector, hint: .chart, doc: "mean over runs of Q₁(μ) − Q^μ(μ) in each tenth of the updates"),
        .init("estimate", .number, doc: "mean of the critic's Q₁(μ) over the last tenth"),
        .init("true_value", .number, doc: "mean of the true value −c·μ²/(1 − γ) over the last tenth"),
        .init("action_rms", .number, doc: "root mean square of the actor's action μ over the last tenth (0 is optimal)"),
        .init("curvature_learned", .number, doc: "mean of critic 1's a² weight w₂ over the last tenth (the truth is −c)"),
        .init("clip_pull", .number, doc: "mean over runs and the last tenth of min(Q'₁, Q'₂)(ã) − Q'₁(ã) on critic 1's targets: how far the minimum pulls each target below the single one (0 for one critic)"),
        .init("target_noise_var", .number, doc: "E[clip(ν)²], the mean square of the clipped target noise"),
        .init("diverged", .number, hint: .percent, doc: "share of runs stopped because a weight overflowed (left out of every mean)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let updates = try inputs.integer("updates"), runs = try inputs.integer("runs")
        let seed = try inputs.integer("seed"), batch = try inputs.integer("batch")
        let twin = try inputs.bool("twin")
        let critics = twin ? 2 : 1
        guard runs <= Self.maxWork / (updates * batch * critics) else {
            throw .invalid("runs", "is \(runs) with \(updates) updates, batch \(batch) and \(critics) critic\(critics == 1 ? "" : "s"); runs × updates × batch × critics may be at most \(Self.maxWork)")
        }
        guard seed <= Int.max - (runs - 1) else {
            throw .invalid("runs", "uses seeds up to seed + runs − 1, past the largest integer; lower seed or runs")
        }
        let targetNoise = try inputs.number("target_noise"), noiseClip = try inputs.number("noise_clip")
        var learner = TD3Learner(
            gamma: try inputs.number("gamma"), lrCritic: try inputs.number("lr_critic"),
            lrActor: try inputs.number("lr_actor"), tau: try inputs.number("tau"), batch: batch,
            explore: try inputs.number("explore"), rewardNoise: try inputs.number("reward_noise"),
            curvature: try inputs.number("curvature"), twin: twin,
            policyDelay: try inputs.integer("policy_delay"), targetNoise: targetNoise, noiseClip: noiseClip)
        learner.correlation = try inputs.number("correlation")
        let start = try inputs.number("start")
        // On the cores, kept in run order, and averaged in that order below.
        let model = learner
        let kept = try independentRuns(runs, context: context) { k in
            model.run(start: start, updates: updates, seed: seed + k)
        }.filter { !$0.diverged }
        let m = Double(kept.count)
        func mean(_ f: (TD3Run) -> Double) -> Double { kept.isEmpty ? .nan : kept.map(f).reduce(0, +) / m }
        let bias = mean(\.lastBias)
        var squares = 0.0
        for r in kept { squares += (r.lastBias - bias) * (r.lastBias - bias) }
        let se = kept.count < 2 ? 0 : (squares / (m - 1) / m).squareRoot()
        let curve = (0..<10).map { i in mean { $0.biasTenths[i] } }
        return [
            "bias": .number(bias),
            "bias_se": .number(kept.isEmpty ? .nan : se),
            "bias_curve": .vector(curve),
            "estimate": .number(mean(\.lastEstimate)),
            "true_value": .number(mean(\.lastTrue)),
            "action_rms": .number(mean(\.lastActionSquare).squareRoot()),
            "curvature_learned": .number(mean(\.lastCurvature)),
            "clip_pull": .number(mean(\.lastPull)),
            "target_noise_var": .number(clippedNormalSecondMoment(sd: targetNoise, clip: noiseClip)),
            "diverged": .number(Double(runs - kept.count) / Double(runs)),
        ]
    }
}
