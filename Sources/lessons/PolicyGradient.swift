import Foundation
import NotebookCore

// The softmax policy and its score function, the building block of REINFORCE and actor-critic.
//
// π(a) = e^{θ_a} / Σ_b e^{θ_b}, so log π(a) = θ_a − logsumexp(θ) and
// ∂ log π(a)/∂θ_b = [a = b] − π(b): the gradient is onehot(a) − π. A policy-gradient step
// moves θ along advantage · (onehot(a) − π) (Williams, 1992; Sutton et al., 2000).

/// Largest |logit| (or table value, reward, advantage) and learning rate the policy modules
/// accept. With these bounds every step, updated value and log-probability stays far inside the
/// Double range (below about 10²⁵ even in pg.actor-critic, where q' ≤ 4·10¹⁸ scales the actor
/// step), so a finite input never turns into an overflowed output.
enum PolicyLimits {
    static let magnitude = 1e12
    static let learningRate = 1e6
    /// Largest number of logits (or table entries, states × actions).
    static let entries = 10_000
}

/// A softmax policy over the entries of one logit row, computed stably.
struct SoftmaxPolicy {
    let logits: [Double]
    let probabilities: [Double]
    let logSumExp: Double

    init(_ logits: [Double]) {
        let s = SafeSoftmax(logits)
        self.logits = logits
        probabilities = s.probabilities
        logSumExp = s.logSumExp
    }

    /// log π(a) = θ_a − logsumexp(θ): finite and accurate even where π(a) underflows to 0.
    func logProbability(_ a: Int) -> Double {
        logits[a] - logSumExp
    }

    /// ∇_θ log π(a) = onehot(a) − π.
    func scoreFunction(_ a: Int) -> [Double] {
        probabilities.enumerated().map { b, p in (b == a ? 1 : 0) - p }
    }
}

/// lr · advantage · g, with a zero step written as +0: "-0" in a table of steps reads as a
/// sign the step does not have.
func scaledStep(_ scale: Double, _ g: [Double]) -> [Double] {
    g.map { scale * $0 + 0 }
}

/// Checks that an index parameter lies in 0..<count; `what` names the indexed things, such as
/// "actions (entries of logits)".
func checkIndex(_ index: Int, below count: Int, parameter: String, of what: String) throws(ComputeError) {
    guard index >= 0, index < count else {
        throw .invalid(parameter, "is \(index), out of range: valid \(what) are 0 to \(count - 1)")
    }
}

/// `pg.softmax-step`: one policy-gradient step on a softmax policy, every intermediate shown.
public struct SoftmaxStepModule: ComputeModule {
    public init() {}
    public let name = "pg.softmax-step"
    public let summary = "One policy-gradient step on a softmax policy: ∇θ log π(a) = onehot(a) − π, θ' = θ + lr·A·∇."
    public let parameters: [ParameterSpec] = [
        .vector("logits", [1, 0, -1], range: .closed(-PolicyLimits.magnitude, PolicyLimits.magnitude),
                maxElements: PolicyLimits.entries, doc: "θ, one logit per action (|θ| ≤ 1e12)"),
        .integer("action", 1, range: .nonNegative, doc: "the action a taken (0-based)"),
        .number("advantage", 1, range: .closed(-PolicyLimits.magnitude, PolicyLimits.magnitude),
                doc: "A: how much better than expected the outcome was (|A| ≤ 1e12)"),
        .number("lr", 0.1, range: .closed(0, PolicyLimits.learningRate), doc: "learning rate α, in [0, 1e6]"),
    ]
    public let outputs: [OutputSpec] = [
        .init("pi", .vector, hint: .chart, doc: "π = softmax(θ)"),
        .init("log_pi", .number, doc: "log π(a) = θ_a − logsumexp(θ)"),
        .init("grad_log_pi", .vector, doc: "∇θ log π(a) = onehot(a) − π"),
        .init("delta", .vector, doc: "Δθ = lr · advantage · ∇θ log π(a)"),
        .init("new_logits", .vector, doc: "θ' = θ + Δθ"),
        .init("new_pi", .vector, hint: .chart, doc: "π' = softmax(θ')"),
        .init("prob_change", .number, doc: "π'(a) − π(a)"),
        .init("new_log_pi", .number, doc: "log π'(a)"),
        .init("log_prob_change", .number, doc: "log π'(a) − log π(a): the relative change of π(a)"),
        .init("score_mean", .vector,
              doc: "Σ_b π(b) ∇θ log π(b): the expected score, zero, which is why a baseline adds no bias"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let logits = try inputs.vector("logits")
        let action = try inputs.integer("action")
        let advantage = try inputs.number("advantage")
        let lr = try inputs.number("lr")
        try checkIndex(action, below: logits.count, parameter: "action", of: "actions (entries of logits)")

        let policy = SoftmaxPolicy(logits)
        let grad = policy.scoreFunction(action)
        let step = lr * advantage
        let delta = scaledStep(step, grad)
        let newLogits = zip(logits, delta).map { $0 + $1 }
        let newPolicy = SoftmaxPolicy(newLogits)

        // Σ_b π(b)(onehot(b) − π) has component i equal to π(i) − π(i)·Σ_b π(b). It is kept in
        // that form, not replaced by an algebraic 0, so the cell shows what floating point gives.
        var total = 0.0
        for p in policy.probabilities { total += p }
        let scoreMean = policy.probabilities.map { $0 - $0 * total }

        let logPi = policy.logProbability(action)
        let newLogPi = newPolicy.logProbability(action)
        return [
            "pi": .vector(policy.probabilities),
            "log_pi": .number(logPi),
            "grad_log_pi": .vector(grad),
            "delta": .vector(delta),
            "new_logits": .vector(newLogits),
            "new_pi": .vector(newPolicy.probabilities),
            "prob_change": .number(newPolicy.probabilities[action] - policy.probabilities[action]),
            "new_log_pi": .number(newLogPi),
            "log_prob_change": .number(newLogPi - logPi),
            "score_mean": .vector(scoreMean),
        ]
    }
}
