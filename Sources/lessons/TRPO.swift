import Foundation
import NotebookCore

// One TRPO step (Schulman et al., 2015, "Trust region policy optimization") on a softmax
// policy at a single state, small enough to print every vector:
//
// - the surrogate L(θ) = mean_i A_i·π_θ(a_i)/π_old(a_i) has gradient g at θ_old;
// - the KL trust region KL(π_old‖π_θ) ≤ δ is modelled to second order by the Fisher matrix
//   F = diag(π) − ππᵀ, the Hessian of the KL at θ_old;
// - the natural gradient x ≈ F⁻¹g comes from conjugate gradient, which only needs products
//   F·v (for a network, Hessian-vector products; here π∘(v − π·v)), never F itself;
// - β = sqrt(2δ / xᵀFx) makes the quadratic model ½(βx)ᵀF(βx) equal δ at the full step, and
//   a backtracking line search then checks the true KL and the true surrogate.
//
// The softmax Fisher is singular: adding a constant to every logit changes nothing, so the
// all-ones vector is in its null space. g is orthogonal to it (its entries sum to zero), and
// CG from x = 0 stays in F's range, so without damping it converges to the minimum-norm
// solution F⁺g. PPO's clipped objective (Schulman et al., 2017) at the new policy is shown
// beside it for comparison.

/// TRPO's bounds. |θ| ≤ 100 keeps every π_old(a) ≥ e⁻²⁰⁰/A, so the ratios π_θ/π_old (at most
/// 1/π_old) and the steps sqrt(2δ/π) stay far inside the Double range; A ≤ 100 keeps the
/// printed A×A Fisher small.
enum TRPOLimits {
    static let logit = 100.0
    static let actions = 100
    static let samples = 10_000
    static let advantage = 1e6
    /// CG stops once ‖F x − g‖ falls below this (`derive modules trpo.step`).
    static let residualTolerance = 1e-10
}

/// A softmax policy's logits and a batch of samples (action, advantage): what `trpo.step` and
/// `ppo.optimize` both take, declared and read once for the two.
struct SoftmaxBatch {
    let logits: [Double]
    let actions: [Int]
    let advantages: [Double]

    static let parameters: [ParameterSpec] = [
        .vector("logits", [1, 0, -1], range: .closed(-TRPOLimits.logit, TRPOLimits.logit),
                maxElements: TRPOLimits.actions, doc: "θ_old, one logit per action (at most 100 actions)"),
        .vector("actions", [2, 2, 1, 0], range: .nonNegative, maxElements: TRPOLimits.samples,
                doc: "sampled action indices a_i (0-based)"),
        .vector("advantages", [1.5, 1, -0.5, -1], range: .closed(-TRPOLimits.advantage, TRPOLimits.advantage),
                maxElements: TRPOLimits.samples, doc: "advantage A_i of each sample, same length as actions"),
    ]

    init(_ inputs: Inputs) throws(ComputeError) {
        logits = try inputs.vector("logits")
        actions = try inputs.indices("actions", below: logits.count)
        advantages = try inputs.vector("advantages")
        guard advantages.count == actions.count else {
            throw .invalid("advantages", "has \(countedNoun(advantages.count, "entry", "entries")) but actions has \(countedNoun(actions.count, "entry", "entries")); each sample needs one advantage")
        }
    }
}

fileprivate func innerProduct(_ x: [Double], _ y: [Double]) -> Double {
    var total = 0.0
    for (a, b) in zip(x, y) { total += a * b }
    return total
}

fileprivate func mean(_ xs: [Double]) -> Double {
    var total = 0.0
    for x in xs { total += x }
    return total / Double(xs.count)
}

/// log softmax(θ), stably: θ − logsumexp(θ).
fileprivate func logSoftmax(_ theta: [Double]) -> [Double] {
    let lse = SafeSoftmax(theta).logSumExp
    return theta.map { $0 - lse }
}

/// The Fisher information of a softmax policy, F = diag(π) − ππᵀ, plus damping·I.
struct SoftmaxFisher {
    let pi: [Double]
    let damping: Double

    /// F v = π∘(v − π·v) + damping·v, without forming F.
    func times(_ v: [Double]) -> [Double] {
        let centre = innerProduct(pi, v)
        return v.indices.map { pi[$0] * (v[$0] - centre) + damping * v[$0] }
    }

    /// vᵀF v = Σ π_i (v_i − π·v)² + damping·|v|²: a sum of non-negative terms, so no
    /// cancellation can make it negative.
    func quadraticForm(_ v: [Double]) -> Double {
        let centre = innerProduct(pi, v)
        var total = 0.0
        for i in v.indices {
            let d = v[i] - centre
            total += pi[i] * d * d + damping * v[i] * v[i]
        }
        return total
    }

    var matrix: [[Double]] {
        pi.indices.map { i in
            pi.indices.map { j in (i == j ? pi[i] + damping : 0) - pi[i] * pi[j] }
        }
    }
}

/// Conjugate gradient on F x = g from x = 0.
struct ConjugateGradient {
    /// The last iterate x.
    let solution: [Double]
    /// ‖g − F x_k‖ for k = 0 (that is ‖g‖) up to the last iteration.
    let residualNorms: [Double]

    var iterations: Int { residualNorms.count - 1 }

    init(_ fisher: SoftmaxFisher, _ g: [Double], maxIterations: Int, tolerance: Double) {
        // F maps the vectors whose entries sum to 0 to themselves, with or without damping, and
        // g is one of them; removing the rounding error of its sum keeps every iterate there,
        // so no null-space component (a constant added to every logit) can build up.
        let gMean = mean(g)
        var r = g.map { $0 - gMean }
        var x = [Double](repeating: 0, count: g.count)
        var p = r
        var rr = innerProduct(r, r)
        var norms = [sqrt(rr)]
        for _ in 0..<maxIterations {
            guard sqrt(rr) >= tolerance else { break }
            let fp = fisher.times(p)
            let curvature = innerProduct(p, fp)
            // No curvature along p: nothing more to solve for in this direction.
            guard curvature > 0 else { break }
            let alpha = rr / curvature
            for i in x.indices {
                x[i] += alpha * p[i]
                r[i] -= alpha * fp[i]
            }
            let rrNew = innerProduct(r, r)
            norms.append(sqrt(rrNew))
            let ratio = rrNew / rr
            for i in p.indices { p[i] = r[i] + ratio * p[i] }
            rr = rrNew
        }
        solution = x
        residualNorms = norms
    }
}

/// The sampled surrogate of a softmax policy against π_old.
struct SoftmaxSurrogate {
    let logPiOld: [Double]
    let actions: [Int]
    let advantages: [Double]

    /// What a candidate θ gives: the ratios, L(θ), KL(π_old‖π_θ) and PPO's clipped objective.
    struct Evaluation {
        let logits: [Double]
        let pi: [Double]
        /// π_θ(a_i)/π_old(a_i) per sample.
        let ratios: [Double]
        let surrogate: Double
        let kl: Double

        func ppoObjective(advantages: [Double], clip: Double) -> Double {
            mean(zip(ratios, advantages).map { r, a in
                min(r * a, min(max(r, 1 - clip), 1 + clip) * a)
            })
        }
    }

    func evaluate(_ theta: [Double]) -> Evaluation {
        let logPi = logSoftmax(theta)
        let ratios = actions.map { exp(logPi[$0] - logPiOld[$0]) }
        var kl = 0.0
        for j in logPi.indices { kl += exp(logPiOld[j]) * (logPiOld[j] - logPi[j]) }
        return Evaluation(
            logits: theta, pi: logPi.map { exp($0) }, ratios: ratios,
            surrogate: mean(zip(advantages, ratios).map { $0 * $1 }),
            // KL ≥ 0; rounding of a tiny step can give −1e−17, which would read as a sign error.
            kl: max(0, kl))
    }
}

/// One tried step of the backtracking line search.
struct LineSearchTrial {
    let k: Int
    let fraction: Double
    let evaluation: SoftmaxSurrogate.Evaluation
    let accepted: Bool
}

/// One TRPO step, every intermediate kept.
struct TRPOStep {
    let piOld: [Double]
    let grad: [Double]
    let fisher: SoftmaxFisher
    let cg: ConjugateGradient
    /// x, zero when CG found nothing to step along.
    let naturalGrad: [Double]
    /// β = sqrt(2δ / xᵀFx), or 0.
    let stepSize: Double
    let fullStep: [Double]
    let trials: [LineSearchTrial]
    /// The first trial accepted, if any.
    let accepted: LineSearchTrial?
    let surrogateOld: Double
    /// The policy after the step: the accepted trial, or θ_old itself.
    let result: SoftmaxSurrogate.Evaluation

    init(logits: [Double], actions: [Int], advantages: [Double], delta: Double, damping: Double,
         cgIterations: Int, backtrack: Double, maxBacktracks: Int) {
        let logPiOld = logSoftmax(logits)
        let pi = logPiOld.map { exp($0) }
        piOld = pi
        let n = Double(actions.count)
        // g = mean_i A_i·(onehot(a_i) − π_old) = (Σ_{i: a_i = j} A_i)/n − π_old·mean(A).
        var sums = [Double](repeating: 0, count: logits.count)
        for (a, adv) in zip(actions, advantages) { sums[a] += adv }
        let meanAdvantage = mean(advantages)
        grad = logits.indices.map { sums[$0] / n - pi[$0] * meanAdvantage }
        fisher = SoftmaxFisher(pi: piOld, damping: damping)
        cg = ConjugateGradient(fisher, grad, maxIterations: cgIterations, tolerance: TRPOLimits.residualTolerance)

        let curvature = fisher.quadraticForm(cg.solution)
        // As `derive modules trpo.step` states: with nothing to step along (g = 0, or a CG result of zero curvature) x = 0,
        // β = 0, and the line search below rejects every trial, since L cannot improve.
        if cg.iterations > 0, curvature > 0, curvature.isFinite {
            naturalGrad = cg.solution
            stepSize = sqrt(2 * delta / curvature)
        } else {
            naturalGrad = [Double](repeating: 0, count: logits.count)
            stepSize = 0
        }
        let beta = stepSize
        fullStep = naturalGrad.map { beta * $0 }

        let surrogate = SoftmaxSurrogate(logPiOld: logPiOld, actions: actions, advantages: advantages)
        let start = surrogate.evaluate(logits)
        surrogateOld = start.surrogate
        var trials: [LineSearchTrial] = []
        var accepted: LineSearchTrial?
        for k in 0..<maxBacktracks {
            let fraction = pow(backtrack, Double(k))
            let trial = surrogate.evaluate(zip(logits, fullStep).map { $0 + fraction * $1 })
            let ok = trial.kl <= delta && trial.surrogate > start.surrogate
            trials.append(LineSearchTrial(k: k, fraction: fraction, evaluation: trial, accepted: ok))
            if ok {
                accepted = trials.last
                break
            }
        }
        self.trials = trials
        self.accepted = accepted
        result = accepted?.evaluation ?? start
    }
}

/// `trpo.step`: natural gradient by conjugate gradient, step to the KL boundary, line search.
public struct TRPOStepModule: ComputeModule {
    public init() {}
    public let name = "trpo.step"
    public let summary = "One TRPO step on a softmax policy: g, Fisher F, x = F⁻¹g by conjugate gradient, β = sqrt(2δ/xᵀFx), backtracking line search."

    public let parameters: [ParameterSpec] = SoftmaxBatch.parameters + [
        .number("delta", 0.01, range: .init(lower: 0, lowerInclusive: false, upper: 100),
                doc: "trust-region radius δ: KL(π_old‖π_new) ≤ δ"),
        .number("damping", 0, range: .closed(0, 1e6), doc: "added to F's diagonal; 0 solves with the pseudo-inverse"),
        .integer("cg_iters", 10, range: .closed(1, 1_000), doc: "most conjugate-gradient iterations (stops early once the residual < 1e-10)"),
        .number("backtrack", 0.5, range: .init(lower: 0, lowerInclusive: false, upper: 1, upperInclusive: false),
                doc: "line-search shrink factor: trial k steps backtrack^k of the full step"),
        .integer("max_backtracks", 10, range: .closed(1, 100), doc: "trials k = 0 … max_backtracks − 1 before giving up"),
        .number("clip", 0.2, range: .unit, doc: "PPO's ε for ppo_objective"),
        .number("lr", 1, range: .closed(0, 1e6),
                doc: "step size of the plain-gradient step θ_old + lr·g shown for contrast (plain_* outputs only)"),
    ]
    public let outputs: [OutputSpec] = [
        .init("pi_old", .vector, hint: .chart, doc: "π_old = softmax(θ_old)"),
        .init("grad", .vector, doc: "g = ∇L(θ_old) = mean_i A_i·(onehot(a_i) − π_old)"),
        .init("fisher", .matrix, hint: .table, doc: "F = diag(π_old) − π_old π_oldᵀ + damping·I"),
        .init("natural_grad", .vector, doc: "x, conjugate gradient's solution of F x = g (F⁺g without damping); 0 when g = 0 (‖g‖ below CG's tolerance 1e-10)"),
        .init("step_size", .number, doc: "β = sqrt(2δ / xᵀFx): the quadratic KL model reaches δ at the full step (0 when x = 0)"),
        .init("full_step", .vector, doc: "β·x"),
        .init("accepted", .bool, doc: "a trial passed KL ≤ δ and L(θ) > L(θ_old)"),
        .init("step_fraction", .number, doc: "backtrack^k of the accepted trial, 0 if none was accepted"),
        .init("new_logits", .vector, doc: "θ_old + step_fraction·full_step"),
        .init("new_pi", .vector, hint: .chart, doc: "softmax(new_logits)"),
        .init("kl", .number, doc: "KL(π_old‖π_new), nats (0 when rejected)"),
        .init("surrogate_old", .number, doc: "L(θ_old) = mean(A): every ratio is 1"),
        .init("surrogate_new", .number, doc: "L(new_logits) = mean_i A_i·π_new(a_i)/π_old(a_i)"),
        .init("ppo_objective", .number, doc: "mean_i min(r_i A_i, clip(r_i, 1 − ε, 1 + ε)·A_i) at the new policy"),
        .init("ratios", .vector, doc: "r_i = π_new(a_i)/π_old(a_i) per sample"),
        .init("cg_iterations", .integer, doc: "conjugate-gradient iterations run"),
        .init("cg_residuals", .vector, hint: .chart, doc: "‖g − F x_k‖ after each iteration k, starting with ‖g‖ at k = 0"),
        .init("quadratic_kl", .number, doc: "½·full_stepᵀ F full_step: the KL the quadratic model predicts, δ by the choice of β"),
        .init("line_search", .matrix, hint: .table,
              doc: "one row per trial: k, fraction backtrack^k, KL, surrogate, accepted (1) or not (0)"),
        .init("plain_logits", .vector, doc: "θ_old + lr·g: a plain gradient step, with no trust region"),
        .init("plain_pi", .vector, hint: .chart, doc: "softmax(plain_logits)"),
        .init("plain_kl", .number, doc: "KL(π_old‖π_plain): how far the plain step moved the policy"),
        .init("plain_surrogate", .number, doc: "L(plain_logits)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let batch = try SoftmaxBatch(inputs)
        let (logits, actions, advantages) = (batch.logits, batch.actions, batch.advantages)
        let delta = try inputs.number("delta")
        let step = TRPOStep(
            logits: logits, actions: actions, advantages: advantages, delta: delta,
            damping: try inputs.number("damping"), cgIterations: try inputs.integer("cg_iters"),
            backtrack: try inputs.number("backtrack"), maxBacktracks: try inputs.integer("max_backtracks"))
        let clip = try inputs.number("clip")
        let lr = try inputs.number("lr")
        let surrogate = SoftmaxSurrogate(logPiOld: logSoftmax(logits), actions: actions, advantages: advantages)
        let plain = surrogate.evaluate(zip(logits, step.grad).map { $0 + lr * $1 })
        let fraction = step.accepted?.fraction ?? 0
        return [
            "pi_old": .vector(step.piOld),
            "grad": .vector(step.grad),
            "fisher": .matrix(step.fisher.matrix),
            "natural_grad": .vector(step.naturalGrad),
            "step_size": .number(step.stepSize),
            "full_step": .vector(step.fullStep),
            "accepted": .bool(step.accepted != nil),
            "step_fraction": .number(fraction),
            "new_logits": .vector(step.result.logits),
            "new_pi": .vector(step.result.pi),
            "kl": .number(step.result.kl),
            "surrogate_old": .number(step.surrogateOld),
            "surrogate_new": .number(step.result.surrogate),
            "ppo_objective": .number(step.result.ppoObjective(advantages: advantages, clip: clip)),
            "ratios": .vector(step.result.ratios),
            "cg_iterations": .integer(step.cg.iterations),
            "cg_residuals": .vector(step.cg.residualNorms),
            "quadratic_kl": .number(0.5 * step.fisher.quadraticForm(step.fullStep)),
            "line_search": .matrix(step.trials.map { t in
                [Double(t.k), t.fraction, t.evaluation.kl, t.evaluation.surrogate, t.accepted ? 1 : 0]
            }),
            "plain_logits": .vector(plain.logits),
            "plain_pi": .vector(plain.pi),
            "plain_kl": .number(plain.kl),
            "plain_surrogate": .number(plain.surrogate),
        ]
    }
}
