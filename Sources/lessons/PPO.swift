import Foundation
import NotebookCore

// PPO's optimiser (Schulman, Wolski, Dhariwal, Radford & Klimov, 2017, "Proximal policy
// optimization algorithms") on the same one-state softmax batch as `trpo.step`: repeated
// full-batch gradient ascent (plain or Adam) on the clipped surrogate
//
//   L^CLIP(θ) = mean_i min(r_i A_i, clip(r_i, 1 − ε, 1 + ε)·A_i),  r_i = π_θ(a_i)/π_old(a_i),
//
// starting at θ_old, with every step's objective, KL(π_old‖π_θ) and unclipped surrogate kept.
//
// The gradient is analytic. A term whose clip binds (A_i > 0 and r_i > 1 + ε, or A_i < 0 and
// r_i < 1 − ε) is constant in θ and contributes nothing; every other term is r_i A_i, whose
// gradient is r_i A_i (onehot(a_i) − π_θ). At a tie (r_i exactly 1 ± ε) the unclipped branch's
// gradient is used, as TensorFlow's maximum in OpenAI Baselines and PyTorch's minimum with
// clamp both give. Once every term with A_i ≠ 0 is clipped the gradient is exactly zero.

/// `ppo.optimize`'s bounds: the batch bounds of `trpo.step`, at most 100,000 steps, and at most
/// 2·10⁶ sample-or-action updates in all (steps × (samples + actions)), about a second in a debug build.
enum PPOLimits {
    static let steps = 100_000
    static let work = 2_000_000
    static let learningRate = 1e3
}

/// The optimiser PPO's epochs use.
enum PPOOptimizer: String, CaseIterable {
    /// θ ← θ + lr·∇L^CLIP.
    case sgd
    /// Adam (Kingma & Ba, 2015) ascending, β₁ = 0.9, β₂ = 0.999, ε̂ = 1e-8, bias-corrected.
    case adam
}

/// L^CLIP on a batch and its analytic gradient.
struct ClippedSurrogate {
    let surrogate: SoftmaxSurrogate
    let clip: Double

    struct Evaluation {
        let base: SoftmaxSurrogate.Evaluation
        let objective: Double
        let gradient: [Double]
        /// Samples whose clip binds (zero-gradient terms with A ≠ 0).
        let clippedCount: Int
    }

    /// Whether sample i's term is on its clipped (constant) branch.
    func isClipped(ratio r: Double, advantage a: Double) -> Bool {
        (a > 0 && r > 1 + clip) || (a < 0 && r < 1 - clip)
    }

    func evaluate(_ theta: [Double]) -> Evaluation {
        let e = surrogate.evaluate(theta)
        let n = Double(surrogate.actions.count)
        // ∇ = (1/n) Σ_{i unclipped} r_i A_i (onehot(a_i) − π) = (S − π·ΣS)/n, S_j the unclipped
        // r_i A_i of the samples of action j.
        var sums = [Double](repeating: 0, count: theta.count)
        var total = 0.0
        var clipped = 0
        for (i, a) in surrogate.actions.enumerated() {
            let r = e.ratios[i], adv = surrogate.advantages[i]
            if isClipped(ratio: r, advantage: adv) {
                clipped += 1
            } else {
                sums[a] += r * adv
                total += r * adv
            }
        }
        let gradient = theta.indices.map { (sums[$0] - e.pi[$0] * total) / n }
        return Evaluation(base: e, objective: e.ppoObjective(advantages: surrogate.advantages, clip: clip),
                          gradient: gradient, clippedCount: clipped)
    }
}

/// The whole run: per-step scalars, and the last evaluation in full.
struct PPORun {
    let piOld: [Double]
    /// L^CLIP, KL(π_old‖π) and L at θ_0 = θ_old, θ_1, …, θ_K (K = steps taken).
    let objectives: [Double]
    let kls: [Double]
    let surrogates: [Double]
    let last: ClippedSurrogate.Evaluation
    /// The first k whose gradient is exactly zero, or −1.
    let zeroGradientStep: Int

    var stepsTaken: Int { objectives.count - 1 }

    init(logits: [Double], actions: [Int], advantages: [Double], clip: Double, lr: Double,
         steps: Int, optimizer: PPOOptimizer, targetKL: Double) {
        let lse = SafeSoftmax(logits).logSumExp
        let logPiOld = logits.map { $0 - lse }
        piOld = logPiOld.map { exp($0) }
        let objective = ClippedSurrogate(
            surrogate: SoftmaxSurrogate(logPiOld: logPiOld, actions: actions, advantages: advantages), clip: clip)
        var theta = logits
        var m = [Double](repeating: 0, count: logits.count)
        var v = m
        let beta1 = 0.9, beta2 = 0.999, adamEpsilon = 1e-8
        var objectives: [Double] = [], kls: [Double] = [], surrogates: [Double] = []
        var zero = -1
        var k = 0
        while true {
            let e = objective.evaluate(theta)
            objectives.append(e.objective)
            kls.append(e.base.kl)
            surrogates.append(e.base.surrogate)
            if zero < 0, e.gradient.allSatisfy({ $0 == 0 }) { zero = k }
            // Spinning Up's early stop: no further step once the KL passes 1.5·target.
            if k == steps || (targetKL > 0 && e.base.kl > 1.5 * targetKL) {
                last = e
                break
            }
            switch optimizer {
            case .sgd:
                for j in theta.indices { theta[j] += lr * e.gradient[j] }
            case .adam:
                let t = Double(k + 1)
                let c1 = 1 - pow(beta1, t), c2 = 1 - pow(beta2, t)
                for j in theta.indices {
                    let g = e.gradient[j]
                    m[j] = beta1 * m[j] + (1 - beta1) * g
                    v[j] = beta2 * v[j] + (1 - beta2) * g * g
                    theta[j] += lr * (m[j] / c1) / ((v[j] / c2).squareRoot() + adamEpsilon)
                }
            }
            k += 1
        }
        self.objectives = objectives
        self.kls = kls
        self.surrogates = surrogates
        zeroGradientStep = zero
    }
}

/// `ppo.optimize`: PPO's epochs on one batch, full-batch, from θ_old.
public struct PPOOptimizeModule: ComputeModule {
    public init() {}
    public let name = "ppo.optimize"
    public let summary = "PPO's epochs on one softmax batch: full-batch gradient ascent (sgd or adam) on the clipped surrogate L^CLIP from θ_old, with the objective, KL and ratios per step."

    public let parameters: [ParameterSpec] = SoftmaxBatch.parameters + [
        .number("clip", 0.2, range: .unit, doc: "PPO's ε: each ratio is clipped to [1 − ε, 1 + ε]"),
        .number("lr", 0.1, range: .init(lower: 0, lowerInclusive: false, upper: PPOLimits.learningRate),
                doc: "learning rate (sgd: θ += lr·∇; adam: the step's scale)"),
        .integer("steps", 200, range: .closed(0, Double(PPOLimits.steps)),
                 doc: "full-batch gradient steps (epochs, one minibatch each); steps × (samples + actions) ≤ 2e6"),
        .choice("optimizer", PPOOptimizer.self, default: .sgd,
                doc: "sgd (θ += lr·∇L^CLIP) or adam (β₁ 0.9, β₂ 0.999, ε 1e-8, bias-corrected)"),
        .number("target_kl", 0, range: .closed(0, 100),
                doc: "early stop: no further step once KL(π_old‖π) > 1.5·target_kl (Spinning Up's rule, with the exact KL); 0 never stops"),
    ]
    public let outputs: [OutputSpec] = [
        .init("pi_old", .vector, hint: .chart, doc: "π_old = softmax(θ_old)"),
        .init("objective", .vector, hint: .chart, doc: "L^CLIP at θ_0 = θ_old, θ_1, …, θ_K, one entry per step taken plus the start"),
        .init("kl", .vector, hint: .chart, doc: "KL(π_old‖π_k), nats, at each θ_k"),
        .init("surrogate", .vector, doc: "the unclipped L = mean_i r_i A_i at each θ_k"),
        .init("steps_taken", .integer, doc: "K: steps, or fewer when target_kl stopped the run"),
        .init("zero_grad_step", .integer, doc: "the first k whose gradient is exactly zero (every term with A ≠ 0 clipped), −1 if none"),
        .init("new_logits", .vector, doc: "θ_K"),
        .init("new_pi", .vector, hint: .chart, doc: "softmax(θ_K)"),
        .init("ratios", .vector, doc: "r_i = π_K(a_i)/π_old(a_i) per sample"),
        .init("grad", .vector, doc: "∇L^CLIP at θ_K"),
        .init("final_objective", .number, doc: "L^CLIP at θ_K"),
        .init("final_kl", .number, doc: "KL(π_old‖π_K), nats"),
        .init("max_objective", .number, doc: "mean_i ((1 + ε)·max(A_i, 0) + (1 − ε)·min(A_i, 0)): no policy scores more"),
        .init("clip_fraction", .number, doc: "fraction of samples whose clip binds at θ_K (A > 0 and r > 1 + ε, or A < 0 and r < 1 − ε)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let batch = try SoftmaxBatch(inputs)
        let (logits, actions, advantages) = (batch.logits, batch.actions, batch.advantages)
        let steps = try inputs.integer("steps")
        let work = steps * (actions.count + logits.count)
        guard work <= PPOLimits.work else {
            throw .invalid("steps", "× (samples + actions) is \(work); the limit is \(PPOLimits.work)")
        }
        let clip = try inputs.number("clip")
        let run = PPORun(
            logits: logits, actions: actions, advantages: advantages, clip: clip, lr: try inputs.number("lr"),
            steps: steps, optimizer: try inputs.choice("optimizer", as: PPOOptimizer.self),
            targetKL: try inputs.number("target_kl"))
        let last = run.last
        let best = advantages.map { $0 > 0 ? (1 + clip) * $0 : (1 - clip) * $0 }.reduce(0, +) / Double(advantages.count)
        return [
            "pi_old": .vector(run.piOld),
            "objective": .vector(run.objectives),
            "kl": .vector(run.kls),
            "surrogate": .vector(run.surrogates),
            "steps_taken": .integer(run.stepsTaken),
            "zero_grad_step": .integer(run.zeroGradientStep),
            "new_logits": .vector(last.base.logits),
            "new_pi": .vector(last.base.pi),
            "ratios": .vector(last.base.ratios),
            "grad": .vector(last.gradient),
            "final_objective": .number(last.objective),
            "final_kl": .number(last.base.kl),
            "max_objective": .number(best),
            "clip_fraction": .number(Double(last.clippedCount) / Double(actions.count)),
        ]
    }
}
