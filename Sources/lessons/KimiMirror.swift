import Foundation
import NotebookCore

// What the Kimi k1.5 regression converges to on a finite set of responses, and how good the
// two estimates of τ·log Z are.
//
// One prompt, n possible responses, a reference policy q = softmax(logits) and rewards r.
// The population loss of one mirror iteration, with a baseline b standing in for τ·log Z, is
//
//   L(π) = Σ_y q(y)·(r(y) − b − τ·log(π(y)/q(y)))²,   over distributions π.
//
// With b = τ·log Z (the exact baseline) its minimiser is π* ∝ q·e^{r/τ} and L = 0. With
// b = E_q[r] (the mean baseline, PMD-mean) every residual cannot vanish, because
// Σ q·e^{(r − b)/τ} = Z·e^{−b/τ} > 1 whenever b < τ·log Z. Stationarity on the simplex
// (a Lagrange multiplier for Σ π = 1) gives, for every y,
//
//   r(y) − b − τ·ρ(y) = κ·e^{ρ(y)},   ρ = log(π/q),   κ ≥ 0,
//
// so each residual is κ times the ratio π/q. That is also the optimality condition of
// max_π E_π[r] − τ·KL(π‖q) − (κ/2)·Σ π²/q, a mirror step with a χ² term added to the KL.
// Writing u = (r − b)/τ − ρ turns it into u·e^u = (κ/τ)·e^{(r − b)/τ}: ρ = (r − b)/τ − W(·)
// with W the Lambert function, and κ is the one value that makes Σ q·e^ρ = 1. Here W is
// solved in log form (t = log u, e^t + t = log(κ/τ) + (r − b)/τ, by Newton) and κ by bisection
// on log κ; everything stays in log-probabilities, so a policy that has all but dropped a
// response does not underflow.
//
// Gradient descent on the softmax logits, from the reference, checks the closed form
// independently; `iterations` repeats the step with the fit as the next reference.

enum KimiMirrorLimits {
    static let responses = 100
    static let logit = 1e3
    static let reward = 1e3
    static let tauRange = NumberRange.closed(1e-3, 1e3)
    static let iterations = 100
    static let steps = 100_000
}

enum KimiBaseline: String, CaseIterable {
    /// b = τ·log Z under the reference: the ideal regression, whose minimiser is π*.
    case exact
    /// b = E_q[r], the expected reward under the reference (PMD-mean).
    case mean
}

fileprivate func logSumExp(_ xs: [Double]) -> Double {
    guard let top = xs.max(), top.isFinite else { return xs.max() ?? -.infinity }
    var total = 0.0
    for x in xs { total += exp(x - top) }
    return top + log(total)
}

/// The positive root u of u + log u = s, found as t = log u from e^t + t = s. The left side
/// is convex and increasing in t, so Newton converges from any start.
fileprivate func solveULogU(_ s: Double) -> Double {
    var t = s < 1 ? s : log(s)
    for _ in 0..<200 {
        let et = exp(t)
        let step = (et + t - s) / (et + 1)
        t -= step
        if !(abs(step) > 1e-15 * max(1, abs(t))) { break }
    }
    return exp(t)
}

/// One mirror iteration of the Kimi regression on a finite response set.
struct KimiMirrorStep {
    /// τ·log Σ q·e^{r/τ}.
    let tauLogZ: Double
    /// The baseline b that stands in for τ·log Z.
    let baseline: Double
    /// log of the minimiser π of the population loss.
    let logFit: [Double]
    /// The multiplier: residual = κ·π/q. Zero for the exact baseline.
    let kappa: Double

    init(logReference lq: [Double], rewards r: [Double], tau: Double, baseline mode: KimiBaseline) {
        let z = logSumExp(zip(lq, r).map { $0 + $1 / tau })
        tauLogZ = tau * z
        var expected = 0.0
        for (l, x) in zip(lq, r) { expected += exp(l) * x }
        let b = mode == .exact ? tauLogZ : expected
        baseline = b
        let scaled = r.map { ($0 - b) / tau }
        let excess = logSumExp(zip(lq, scaled).map { $0 + $1 })   // = (τ·log Z − b)/τ ≥ 0
        guard mode == .mean, excess > 0 else {
            // b = τ·log Z (or b ≥ τ·log Z by rounding once the rewards under q are constant):
            // the target q·e^{r/τ}/Z itself.
            logFit = zip(lq, r).map { $0 + $1 / tau - z }
            kappa = 0
            return
        }
        let logTau = log(tau)
        func logMass(_ logKappa: Double) -> (Double, [Double]) {
            let rho = scaled.map { $0 - solveULogU(logKappa - logTau + $0) }
            return (logSumExp(zip(lq, rho).map { $0 + $1 }), rho)
        }
        // Σ q·e^ρ falls from e^excess > 1 (κ → 0) toward 0 (κ → ∞) as log κ grows.
        var lo = -50.0, hi = 50.0
        for _ in 0..<40 where logMass(lo).0 <= 0 { lo = 2 * lo - 10 }
        for _ in 0..<40 where logMass(hi).0 >= 0 { hi = 2 * hi + 10 }
        for _ in 0..<300 {
            let mid = 0.5 * (lo + hi)
            guard mid > lo, mid < hi else { break }
            if logMass(mid).0 > 0 { lo = mid } else { hi = mid }
        }
        let (mass, rho) = logMass(0.5 * (lo + hi))
        // Normalise the last rounding away; the shift is below the bisection's resolution.
        logFit = zip(lq, rho).map { $0 + $1 - mass }
        kappa = exp(0.5 * (lo + hi))
    }
}

/// `kimi.mirror-fit`: the minimiser of the Kimi regression over a finite response set.
public struct KimiMirrorFitModule: ComputeModule {
    public init() {}
    public let name = "kimi.mirror-fit"
    public let summary = "The minimiser of Σ q·(r − b − τ·log(π/q))² over distributions π, for b = τ·log Z (gives π*) or b = E_q r (PMD-mean), by Lambert W and by gradient descent; repeated mirror iterations."

    public let parameters: [ParameterSpec] = [
        .vector("logits", [0.5, 1.5, -0.5, 0], range: .closed(-KimiMirrorLimits.logit, KimiMirrorLimits.logit),
                maxElements: KimiMirrorLimits.responses, doc: "logits of the reference policy q = softmax(logits), one per possible response"),
        .vector("rewards", [1, 0, 1, 0], range: .closed(-KimiMirrorLimits.reward, KimiMirrorLimits.reward),
                maxElements: KimiMirrorLimits.responses, doc: "reward r(y) of each response, same length as logits"),
        .number("tau", 0.5, range: KimiMirrorLimits.tauRange, doc: "τ, the weight of the relative-entropy term"),
        .choice("baseline", KimiBaseline.self, default: .mean,
                doc: "exact (b = τ·log Z under the reference) or mean (b = E_q r, the expected reward under it)"),
        .integer("iterations", 6, range: .closed(1, Double(KimiMirrorLimits.iterations)),
                 doc: "mirror iterations, each fitting the loss and making the fit the next reference"),
        .integer("steps", 3000, range: .closed(0, Double(KimiMirrorLimits.steps)),
                 doc: "gradient-descent steps on the logits for the first iteration's loss, from the reference"),
        .number("lr", 1, range: .init(lower: 0, lowerInclusive: false, upper: 1e3), doc: "learning rate of that gradient descent"),
    ]
    public let outputs: [OutputSpec] = [
        .init("reference", .vector, hint: .chart, doc: "q = softmax(logits), the sampling policy of the first iteration"),
        .init("target", .vector, hint: .chart, doc: "π* = q·e^{r/τ}/Z, the exact regularised optimum"),
        .init("tau_log_z", .number, doc: "τ·log Σ q·e^{r/τ}, the value of the regularised objective at π*"),
        .init("baseline", .number, doc: "b used in the loss: τ·log Z (exact) or E_q r (mean)"),
        .init("fit", .vector, hint: .chart, doc: "the minimiser over distributions of L(π) = Σ q·(r − b − τ·log(π/q))², from the Lambert-W stationarity condition"),
        .init("residuals", .vector, doc: "r − b − τ·log(fit/q): zero for exact, κ·fit/q for mean"),
        .init("kappa", .number, doc: "κ ≥ 0 with residual = κ·fit/q, the weight of the implied χ² term; 0 for exact"),
        .init("loss", .number, doc: "L(fit)"),
        .init("gd_fit", .vector, doc: "softmax of the logits after `steps` steps of gradient descent on L from the reference"),
        .init("gd_loss", .number, doc: "L after those steps"),
        .init("reward_path", .vector, hint: .chart, doc: "expected reward Σ π·r of the reference and of the fit after each of `iterations` mirror iterations"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let logits = try inputs.vector("logits"), rewards = try inputs.vector("rewards")
        guard rewards.count == logits.count else {
            throw .invalid("rewards", "has \(countedNoun(rewards.count, "entry", "entries")) but logits has \(countedNoun(logits.count, "entry", "entries")); each response needs one reward")
        }
        let tau = try inputs.number("tau")
        let mode = try inputs.choice("baseline", as: KimiBaseline.self)
        let iterations = try inputs.integer("iterations"), steps = try inputs.integer("steps")
        let lr = try inputs.number("lr")

        let top = logSumExp(logits)
        let lq = logits.map { $0 - top }
        let q = lq.map { exp($0) }
        let first = KimiMirrorStep(logReference: lq, rewards: rewards, tau: tau, baseline: mode)
        let b = first.baseline
        let fit = first.logFit.map { exp($0) }
        let residuals = zip(rewards, zip(first.logFit, lq)).map { $0 - b - tau * ($1.0 - $1.1) }
        func loss(_ logPi: [Double]) -> Double {
            var total = 0.0
            for i in lq.indices {
                let e = rewards[i] - b - tau * (logPi[i] - lq[i])
                total += q[i] * e * e
            }
            return total
        }

        // Gradient descent on the logits x, π = softmax(x):
        // ∂L/∂x_k = −2τ·(q_k e_k − π_k·Σ_y q_y e_y), e = r − b − τ·log(π/q).
        var x = logits
        for _ in 0..<steps {
            let lse = logSumExp(x)
            let logPi = x.map { $0 - lse }
            let e = lq.indices.map { rewards[$0] - b - tau * (logPi[$0] - lq[$0]) }
            var qe = 0.0
            for i in lq.indices { qe += q[i] * e[i] }
            for i in x.indices { x[i] += lr * 2 * tau * (q[i] * e[i] - exp(logPi[i]) * qe) }
        }
        let gdLse = logSumExp(x)
        let gdLog = x.map { $0 - gdLse }

        func expectedReward(_ logPi: [Double]) -> Double {
            var total = 0.0
            for (l, r) in zip(logPi, rewards) { total += exp(l) * r }
            return total
        }
        var path = [expectedReward(lq), expectedReward(first.logFit)]
        var current = first.logFit
        for _ in 1..<iterations {
            current = KimiMirrorStep(logReference: current, rewards: rewards, tau: tau, baseline: mode).logFit
            path.append(expectedReward(current))
        }

        return [
            "reference": .vector(q),
            "target": .vector(zip(lq, rewards).map { exp($0 + $1 / tau - first.tauLogZ / tau) }),
            "tau_log_z": .number(first.tauLogZ),
            "baseline": .number(b),
            "fit": .vector(fit),
            "residuals": .vector(residuals),
            "kappa": .number(first.kappa),
            "loss": .number(loss(first.logFit)),
            "gd_fit": .vector(gdLog.map { exp($0) }),
            "gd_loss": .number(loss(gdLog)),
            "reward_path": .vector(path),
        ]
    }
}

/// Bias and spread of the two estimates of τ·log Z from k samples with 0/1 rewards, by exact
/// enumeration of the number of correct samples m ~ Binomial(k, p):
/// the direct estimate τ·log((1/k)·Σ e^{r_j/τ}) = τ·log(1 + (m/k)(e^{1/τ} − 1)) and the mean
/// reward m/k.
struct KimiLogZEstimates {
    let tauLogZ: Double
    let directBias: [Double], directSD: [Double]
    let meanBias: [Double], meanSD: [Double]
    let noContrast: [Double]

    /// τ·log(1 − f + f·e^{1/τ}) for f in [0, 1], in log form so that small τ does not overflow.
    static func tauLogMix(_ f: Double, _ tau: Double) -> Double {
        if f <= 0 { return 0 }
        if f >= 1 { return 1 }
        return tau * logSumExp([log1p(-f), log(f) + 1 / tau])
    }

    init(p: Double, tau: Double, groups: [Int]) {
        let exact = KimiLogZEstimates.tauLogMix(p, tau)
        tauLogZ = exact
        var db: [Double] = [], ds: [Double] = [], mb: [Double] = [], ms: [Double] = [], nc: [Double] = []
        for k in groups {
            let kd = Double(k)
            var weights: [Double] = []
            for m in 0...k {
                let md = Double(m)
                if p <= 0 { weights.append(m == 0 ? 1 : 0); continue }
                if p >= 1 { weights.append(m == k ? 1 : 0); continue }
                let logChoose = lgamma(kd + 1) - lgamma(md + 1) - lgamma(kd - md + 1)
                weights.append(exp(logChoose + md * log(p) + (kd - md) * log1p(-p)))
            }
            var m1 = 0.0, m2 = 0.0, r1 = 0.0, r2 = 0.0
            for (m, w) in weights.enumerated() {
                let d = KimiLogZEstimates.tauLogMix(Double(m) / kd, tau) - exact
                let rb = Double(m) / kd - exact
                m1 += w * d; m2 += w * d * d
                r1 += w * rb; r2 += w * rb * rb
            }
            db.append(m1); ds.append(sqrt(max(0, m2 - m1 * m1)))
            mb.append(r1); ms.append(sqrt(max(0, r2 - r1 * r1)))
            nc.append(weights[0] + (k > 0 ? weights[k] : 0))
        }
        directBias = db; directSD = ds; meanBias = mb; meanSD = ms; noContrast = nc
    }
}

/// `kimi.log-z-estimates`: the direct and the mean-reward estimate of τ·log Z over all draws.
public struct KimiLogZEstimatesModule: ComputeModule {
    public init() {}
    public let name = "kimi.log-z-estimates"
    public let summary = "Bias and spread of τ·log((1/k)Σe^{r/τ}) and of the mean reward as estimates of τ·log Z, over all draws of k samples with 0/1 rewards."

    public let parameters: [ParameterSpec] = [
        .number("p", 0.3, range: .unit, doc: "probability that a sampled response is correct (reward 1; otherwise 0)"),
        .number("tau", 0.5, range: KimiMirrorLimits.tauRange, doc: "τ, the weight of the relative-entropy term"),
        .vector("k", [2, 4, 8, 16], range: .closed(1, 10_000), maxElements: 100,
                doc: "group sizes: how many responses are sampled per prompt"),
    ]
    public let outputs: [OutputSpec] = [
        .init("tau_log_z", .number, doc: "τ·log Z = τ·log(1 + p(e^{1/τ} − 1)), the quantity both estimate"),
        .init("direct_bias", .vector, hint: .chart, doc: "E[τ·log((1/k)Σ_j e^{r_j/τ})] − τ·log Z for each k"),
        .init("direct_sd", .vector, doc: "standard deviation of the direct estimate for each k"),
        .init("mean_bias", .vector, hint: .chart, doc: "E[r̄] − τ·log Z = p − τ·log Z for each k"),
        .init("mean_sd", .vector, doc: "standard deviation of r̄, sqrt(p(1 − p)/k)"),
        .init("no_contrast", .vector, doc: "probability that all k rewards are equal, (1 − p)^k + p^k"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let p = try inputs.number("p"), tau = try inputs.number("tau")
        let ks = try inputs.vector("k")
        var groups: [Int] = []
        for (i, k) in ks.enumerated() {
            guard k == k.rounded() else {
                throw .invalid("k", "has \(NumberText.shortest(k)) at index \(i); a group size is a whole number")
            }
            groups.append(Int(k))
        }
        let e = KimiLogZEstimates(p: p, tau: tau, groups: groups)
        return [
            "tau_log_z": .number(e.tauLogZ),
            "direct_bias": .vector(e.directBias),
            "direct_sd": .vector(e.directSD),
            "mean_bias": .vector(e.meanBias),
            "mean_sd": .vector(e.meanSD),
            "no_contrast": .vector(e.noContrast),
        ]
    }
}
