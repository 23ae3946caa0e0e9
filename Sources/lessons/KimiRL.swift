import Foundation
import NotebookCore

// The policy-optimisation loss and the length penalty of Kimi k1.5 (Kimi Team, 2025,
// "Kimi k1.5: Scaling reinforcement learning with LLMs", §2.3).
//
// For one prompt, k responses y_j are sampled from the old policy and scored r_j. The
// relative-entropy-regularised objective has the closed-form optimum
// π*(y) ∝ π_old(y)·exp(r(y)/τ), which satisfies r(y) − τ·log Z = τ·log(π*(y)/π_old(y)) for
// every y. The surrogate loss asks the current policy to satisfy that identity on the
// samples, in squares, with the mean reward standing in for τ·log Z:
//
//   L = (1/k)·Σ_j (r_j − r̄ − τ·ρ_j)²,   ρ_j = log π_θ(y_j) − log π_old(y_j).
//
// Its gradient is a policy gradient with baseline r̄ plus a pull of each log-ratio toward 0.
//
// The length penalty rewards the shorter of the sampled responses, against overthinking:
// λ = 0.5 − (len − min_len)/(max_len − min_len) runs from +0.5 (shortest) to −0.5
// (longest); a correct answer earns λ, a wrong one only the penalty part min(0, λ).

/// Log-probabilities of whole responses can be large negatives; with |log p| ≤ 1e12,
/// |r| ≤ 1e12 and τ ≤ 1e6 every residual stays below 1e19, so its square is finite.
enum KimiLimits {
    static let magnitude = 1e12
    static let temperature = 1e6
    static let samples = 10_000
    /// Response lengths: up to 1e15 tokens, far past any real response.
    static let length = 1e15
}

/// The Kimi k1.5 surrogate loss over the k sampled responses of one prompt.
struct KimiPolicyLoss {
    /// r̄, the mean reward, standing in for τ·log Z.
    let baseline: Double
    /// r_j − r̄.
    let advantages: [Double]
    /// ρ_j = log π_θ(y_j) − log π_old(y_j).
    let logRatios: [Double]
    /// r_j − r̄ − τ·ρ_j: how far sample j is from the identity the optimum satisfies.
    let residuals: [Double]
    /// (1/k)·Σ residual².
    let loss: Double
    /// ∂loss/∂log π_θ(y_j) = −(2τ/k)·residual_j.
    let lossGrad: [Double]
    /// residual_j / k: the weight on ∇ log π_θ(y_j) in the policy update.
    let pgCoefficients: [Double]

    init(rewards: [Double], logpNew: [Double], logpOld: [Double], tau: Double) {
        let k = Double(rewards.count)
        var total = 0.0
        for r in rewards { total += r }
        baseline = total / k
        let b = baseline
        advantages = rewards.map { $0 - b }
        logRatios = zip(logpNew, logpOld).map { $0 - $1 }
        residuals = zip(advantages, logRatios).map { $0 - tau * $1 }
        var squares = 0.0
        for e in residuals { squares += e * e }
        loss = squares / k
        // `+ 0` writes the zero gradient of τ = 0 as 0, not −0.
        lossGrad = residuals.map { -2 * tau * $0 / k + 0 }
        pgCoefficients = residuals.map { $0 / k }
    }
}

/// `kimi.policy-loss`: the squared-residual surrogate of Kimi k1.5's policy optimisation.
public struct KimiPolicyLossModule: ComputeModule {
    public init() {}
    public let name = "kimi.policy-loss"
    public let summary = "Kimi k1.5 policy loss: (1/k)·Σ (r_j − r̄ − τ·(log π_new − log π_old))², with its gradient and policy-gradient weights."

    static let logpRange = NumberRange(lower: -KimiLimits.magnitude, upper: 0)

    public let parameters: [ParameterSpec] = [
        .vector("rewards", [1, 0, 1, 0], range: .closed(-KimiLimits.magnitude, KimiLimits.magnitude),
                maxElements: KimiLimits.samples, doc: "reward r_j of each of the k responses sampled for one prompt"),
        .vector("logp_new", [-12, -9.5, -14, -10], range: logpRange, maxElements: KimiLimits.samples,
                doc: "log π_θ(y_j) under the current policy, same length as rewards"),
        .vector("logp_old", [-12.5, -9, -13, -11], range: logpRange, maxElements: KimiLimits.samples,
                doc: "log π_old(y_j) under the sampling policy, same length as rewards"),
        .number("tau", 0.1, range: .closed(0, KimiLimits.temperature),
                doc: "τ, the weight of the relative-entropy term (0 gives a constant loss)"),
    ]
    public let outputs: [OutputSpec] = [
        .init("baseline", .number, doc: "r̄ = mean reward, standing in for τ·log Z"),
        .init("advantages", .vector, doc: "r_j − r̄"),
        .init("log_ratio", .vector, doc: "ρ_j = logp_new_j − logp_old_j"),
        .init("loss", .number, doc: "(1/k)·Σ_j (r_j − r̄ − τ·ρ_j)²"),
        .init("loss_grad", .vector, doc: "∂loss/∂logp_new_j = −(2τ/k)·(r_j − r̄ − τ·ρ_j)"),
        .init("pg_coeff", .vector, hint: .chart,
              doc: "(r_j − r̄ − τ·ρ_j)/k: the weight on ∇log π(y_j) in (1/k)Σ[∇log π·(r_j − r̄) − (τ/2)∇ρ_j²]"),
        .init("residuals", .vector, doc: "r_j − r̄ − τ·ρ_j, zero for every j at the regularised optimum"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let rewards = try inputs.vector("rewards")
        let logpNew = try inputs.vector("logp_new"), logpOld = try inputs.vector("logp_old")
        let k = countedNoun(rewards.count, "entry", "entries")
        guard logpNew.count == rewards.count else {
            throw .invalid("logp_new", "has \(countedNoun(logpNew.count, "entry", "entries")) but rewards has \(k); each response needs one log-probability")
        }
        guard logpOld.count == rewards.count else {
            throw .invalid("logp_old", "has \(countedNoun(logpOld.count, "entry", "entries")) but rewards has \(k); each response needs one log-probability")
        }
        let l = KimiPolicyLoss(rewards: rewards, logpNew: logpNew, logpOld: logpOld, tau: try inputs.number("tau"))
        return [
            "baseline": .number(l.baseline),
            "advantages": .vector(l.advantages),
            "log_ratio": .vector(l.logRatios),
            "loss": .number(l.loss),
            "loss_grad": .vector(l.lossGrad),
            "pg_coeff": .vector(l.pgCoefficients),
            "residuals": .vector(l.residuals),
        ]
    }
}

/// Kimi k1.5's length reward over the k responses of one prompt.
struct KimiLengthPenalty {
    let minLength: Double
    let maxLength: Double
    /// λ_i = 0.5 − (len_i − min)/(max − min), or 0 for every response when all lengths are equal.
    let lambda: [Double]
    /// λ_i for a correct response, min(0, λ_i) for a wrong one.
    let reward: [Double]

    init(correct: [Bool], lengths: [Double]) {
        let lo = lengths.min() ?? 0, hi = lengths.max() ?? 0
        minLength = lo
        maxLength = hi
        // Equal lengths (k = 1 included) leave nothing to prefer: the definition gives λ = 0.
        let span = hi - lo
        let l = lengths.map { span > 0 ? 0.5 - ($0 - lo) / span : 0 }
        lambda = l
        reward = zip(correct, l).map { $0 ? $1 : min(0, $1) }
    }
}

/// `kimi.length-penalty`: the length reward that favours short correct answers.
public struct KimiLengthPenaltyModule: ComputeModule {
    public init() {}
    public let name = "kimi.length-penalty"
    public let summary = "Kimi k1.5 length reward: λ = 0.5 − (len − min)/(max − min); λ if correct, min(0, λ) if not."
    public let parameters: [ParameterSpec] = [
        .vector("correct", [1, 1, 0, 1, 0], range: .unit, maxElements: KimiLimits.samples,
                doc: "1 where response i is correct, 0 where it is not"),
        .vector("lengths", [120, 300, 80, 500, 450], range: .closed(0, KimiLimits.length), maxElements: KimiLimits.samples,
                doc: "length of response i in tokens, same count as correct"),
    ]
    public let outputs: [OutputSpec] = [
        .init("lambda", .vector, hint: .chart, doc: "λ_i = 0.5 − (len_i − min_len)/(max_len − min_len): +0.5 shortest to −0.5 longest; 0 for all when the lengths are equal"),
        .init("length_reward", .vector, hint: .chart, doc: "λ_i if correct, min(0, λ_i) if not: a wrong answer never gains from being short"),
        .init("min_len", .number, doc: "shortest length among the responses"),
        .init("max_len", .number, doc: "longest length among the responses"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let correctValues = try inputs.vector("correct")
        var correct: [Bool] = []
        for (i, c) in correctValues.enumerated() {
            guard c == 0 || c == 1 else {
                throw .invalid("correct", "has \(NumberText.shortest(c)) at index \(i); each entry is 1 (correct) or 0 (wrong)")
            }
            correct.append(c == 1)
        }
        let lengths = try inputs.vector("lengths")
        guard lengths.count == correct.count else {
            throw .invalid("lengths", "has \(countedNoun(lengths.count, "entry", "entries")) but correct has \(countedNoun(correct.count, "entry", "entries")); each response needs one length")
        }
        let p = KimiLengthPenalty(correct: correct, lengths: lengths)
        return [
            "lambda": .vector(p.lambda),
            "length_reward": .vector(p.reward),
            "min_len": .number(p.minLength),
            "max_len": .number(p.maxLength),
        ]
    }
}
