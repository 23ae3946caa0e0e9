import Foundation
import NotebookCore

// REINFORCE (Williams, 1992, "Simple statistical gradient-following algorithms for
// connectionist reinforcement learning") on a Bernoulli multi-armed bandit.
//
// Each episode is one step: sample an arm a ~ π = softmax(θ), receive r ∈ {0, 1} with
// P(r = 1) = means[a], and move θ by lr·(r − b)·(onehot(a) − π). The baseline b is either 0 or
// the mean reward of the earlier episodes. Because E_a[∇ log π(a)] = 0, any b that does not
// depend on the current action leaves the expected step unchanged and only changes its
// variance.
//
// Entropy regularisation (Williams & Peng, 1991, "Function optimization using connectionist
// reinforcement learning algorithms"; Mnih et al., 2016) adds β·∇H(π) to each step, the gradient
// of J + β·H: it pulls the policy toward uniform and keeps the learner trying every arm.
//
// Randomness: Xoshiro256StarStar seeded with `seed` (see SeededRandom.swift). Per episode the
// first uniform picks the arm (inverse CDF over π), the second decides the reward (u < mean).
// The integer stream is identical on every platform; the probabilities go through exp, so a
// platform whose libm rounds exp differently in the last bit could in principle flip a draw
// that lands within an ulp of a cumulative boundary.

/// What REINFORCE subtracts from each return before scaling the score.
enum Baseline: String, CaseIterable {
    /// b = 0.
    case none
    /// The mean reward of the earlier episodes (0 before the first).
    case mean
}

/// `pg.reinforce`: REINFORCE with or without a baseline on a Bernoulli bandit.
public struct ReinforceModule: ComputeModule {
    public init() {}
    public let name = "pg.reinforce"
    public let summary = "REINFORCE on a Bernoulli bandit with a softmax policy: θ += lr·(r − b)·(onehot(a) − π)."

    static let maxEpisodes = 1_000_000
    static let maxArms = 1_000
    /// Episodes × arms: each episode touches every logit twice; this keeps a cell under a second.
    static let maxWork = 20_000_000
    static let maxSeeds = 1_000

    public let parameters: [ParameterSpec] = [
        .vector("means", [0.7, 0.8, 0.9], range: .unit, maxElements: ReinforceModule.maxArms,
                doc: "P(reward = 1) of each arm, in [0, 1]; at most 1000 arms"),
        .integer("episodes", 1000, range: .closed(10, Double(ReinforceModule.maxEpisodes)),
                 doc: "one-step episodes, 10 to 1,000,000 (episodes × arms ≤ 20,000,000)"),
        .number("lr", 0.1, range: .closed(0, 1000), doc: "learning rate α, in [0, 1000]"),
        .choice("baseline", Baseline.self, default: .mean,
                doc: "b: none (0) or mean (mean reward of the earlier episodes, 0 before the first)"),
        .integer("seed", 1, range: .nonNegative, doc: "seed of the xoshiro256** generator (SplitMix64-seeded)"),
        .number("entropy", 0, range: .closed(0, 1000),
                doc: "β ≥ 0: each step also moves θ by lr·β·∇H(π), with ∂H/∂θⱼ = −πⱼ(log πⱼ + H); 0 is plain REINFORCE"),
        .integer("seeds", 1, range: .closed(1, Double(ReinforceModule.maxSeeds)),
                 doc: "runs with seeds seed, seed + 1, …, seed + seeds − 1 for the seed_* outputs (seeds × episodes × arms ≤ 20,000,000)"),
        .number("threshold", 0.9, range: .unit,
                doc: "seed_fraction_above counts the runs whose best_arm_prob ends above this"),
    ]
    public let outputs: [OutputSpec] = [
        .init("final_pi", .vector, hint: .chart, doc: "π after the last episode"),
        .init("best_arm_prob", .number, doc: "final probability of the best arm (summed over tied best arms)"),
        .init("reward_curve", .vector, hint: .chart, doc: "mean reward in each tenth of the run (10 values)"),
        .init("regret", .number, doc: "Σ over episodes of max(means) − means[chosen arm]"),
        .init("best_arm", .integer, doc: "index of the arm with the highest mean (the first, if tied)"),
        .init("final_logits", .vector, doc: "θ after the last episode"),
        .init("pulls", .vector, doc: "how often each arm was chosen"),
        .init("mean_reward", .number, doc: "mean reward over the whole run"),
        .init("initial_gradient", .vector, doc: "exact ∇J at θ = 0 (uniform policy): π_i·(means_i − J)"),
        .init("variance_no_baseline", .number,
              doc: "at θ = 0: E‖ĝ − ∇J‖² of one episode's estimate ĝ = r·(onehot(a) − π)"),
        .init("variance_with_baseline", .number,
              doc: "the same for ĝ = (r − J)·(onehot(a) − π), with the exact J(θ = 0) as baseline"),
        .init("seed_best_arm_probs", .vector, hint: .chart,
              doc: "best_arm_prob of each run, seeds seed … seed + seeds − 1 (the first is this cell's run)"),
        .init("seed_fraction_above", .number, hint: .percent,
              doc: "share of those runs whose best_arm_prob ends strictly above threshold"),
        .init("seed_mean_best_arm_prob", .number, doc: "mean of seed_best_arm_probs"),
        .init("entropy_final", .number, doc: "H(final_pi) = −Σ π log π, nats (log of the arm count at most)"),
        .init("regularised_optimum", .vector, hint: .chart,
              doc: "the policy maximising J + β·H exactly: softmax(means/β) (for β = 0, all mass on the best arms, split evenly)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let means = try inputs.vector("means")
        let episodes = try inputs.integer("episodes")
        let lr = try inputs.number("lr")
        let useBaseline = try inputs.choice("baseline", as: Baseline.self) == .mean
        let seed = try inputs.integer("seed")
        let beta = try inputs.number("entropy")
        let seeds = try inputs.integer("seeds")
        let threshold = try inputs.number("threshold")
        let arms = means.count
        guard episodes <= Self.maxWork / arms else {
            throw .invalid("episodes", "is \(episodes) with \(arms) arms; episodes × arms may be at most \(Self.maxWork), so use at most \(Self.maxWork / arms) episodes")
        }
        guard seeds <= Self.maxWork / (episodes * arms) else {
            throw .invalid("seeds", "is \(seeds) with \(episodes) episodes and \(arms) arms; seeds × episodes × arms may be at most \(Self.maxWork), so use at most \(Self.maxWork / (episodes * arms)) seeds")
        }
        guard seed <= Int.max - (seeds - 1) else {
            throw .invalid("seeds", "runs seeds up to seed + seeds − 1, past the largest integer; lower seed or seeds")
        }

        @Sendable func run(_ k: Int) throws(ComputeError) -> BanditRun {
            try BanditRun(means: means, episodes: episodes, lr: lr, useBaseline: useBaseline, entropy: beta,
                          seed: seed + k, context: context)
        }
        // Only the first run is kept whole; the others contribute their final best-arm
        // probability, run on the cores and kept in seed order.
        let first = try run(0)
        var seedProbs = [first.bestArmProbability]
        seedProbs += try independentRuns(seeds - 1, context: context) { k throws(ComputeError) in
            try run(k + 1).bestArmProbability
        }
        let bestMean = means.max() ?? 0
        var above = 0, probSum = 0.0
        for p in seedProbs {
            if p > threshold { above += 1 }
            probSum += p
        }
        let start = Self.initialGradientStatistics(means)
        let finalPolicy = SoftmaxPolicy(first.theta)
        var finalEntropy = 0.0
        for (i, p) in finalPolicy.probabilities.enumerated() where p > 0 {
            finalEntropy -= p * finalPolicy.logProbability(i)
        }
        return [
            "final_pi": .vector(first.finalPi),
            "best_arm_prob": .number(first.bestArmProbability),
            "reward_curve": .vector(Self.tenths(first.rewards)),
            "regret": .number(first.regret),
            "best_arm": .integer(means.firstIndex(of: bestMean) ?? 0),
            "final_logits": .vector(first.theta),
            "pulls": .vector(first.pulls),
            "mean_reward": .number(first.rewardSum / Double(episodes)),
            "initial_gradient": .vector(start.gradient),
            "variance_no_baseline": .number(start.varianceNone),
            "variance_with_baseline": .number(start.varianceBaseline),
            "seed_best_arm_probs": .vector(seedProbs),
            "seed_fraction_above": .number(Double(above) / Double(seeds)),
            "seed_mean_best_arm_prob": .number(probSum / Double(seeds)),
            "entropy_final": .number(max(finalEntropy, 0)),
            "regularised_optimum": .vector(Self.regularisedOptimum(means, entropy: beta)),
        ]
    }

    /// The maximiser of J(π) + β·H(π) = Σ πᵢ mᵢ − β Σ πᵢ log πᵢ over the simplex: setting the
    /// derivative mᵢ − β(log πᵢ + 1) equal across arms gives π ∝ e^{mᵢ/β}. At β = 0 it is the
    /// limit β → 0: the best arms share all the mass.
    static func regularisedOptimum(_ means: [Double], entropy beta: Double) -> [Double] {
        if beta > 0 {
            // means ∈ [0, 1] and β ≥ 5e-324: means/β may overflow to +∞ only when β is
            // subnormal; then the limit β → 0 is the honest answer.
            let z = means.map { $0 / beta }
            if z.allSatisfy(\.isFinite) { return SafeSoftmax(z).probabilities }
        }
        let best = means.max() ?? 0
        let count = Double(means.filter { $0 == best }.count)
        return means.map { $0 == best ? 1 / count : 0 }
    }

    /// Mean of each tenth of `values`: tenth k covers indices ⌊k·n/10⌋ ..< ⌊(k+1)·n/10⌋
    /// (n ≥ 10, so none is empty).
    static func tenths(_ values: [Double]) -> [Double] {
        let n = values.count
        return (0..<10).map { k in
            let lo = k * n / 10, hi = (k + 1) * n / 10
            var sum = 0.0
            for i in lo..<hi { sum += values[i] }
            return sum / Double(hi - lo)
        }
    }

    /// The exact mean and total variance of one episode's gradient estimate at the uniform
    /// starting policy, without a baseline and with b = J.
    ///
    /// With π uniform, ĝ = (r − b)(e_a − π); E[ĝ] = Σ_a π_a m_a (e_a − π) for every constant b,
    /// and E‖ĝ‖² = Σ_a π_a E[(r − b)² | a] ‖e_a − π‖² with E[(r − b)² | a] = m_a(1 − b)² +
    /// (1 − m_a) b². The variance (trace of the covariance) is E‖ĝ‖² − ‖E ĝ‖².
    static func initialGradientStatistics(_ means: [Double])
        -> (gradient: [Double], varianceNone: Double, varianceBaseline: Double) {
        let n = means.count
        let p = 1 / Double(n)
        var j = 0.0
        for m in means { j += p * m }
        let gradient = means.map { p * ($0 - j) }
        var gradientNormSq = 0.0
        for g in gradient { gradientNormSq += g * g }
        // ‖e_a − π‖² = (1 − p)² + (n − 1)p² = 1 − p for the uniform π, the same for every a.
        let scoreNormSq = (1 - p) * (1 - p) + Double(n - 1) * p * p
        func secondMoment(_ b: Double) -> Double {
            var sum = 0.0
            for m in means { sum += p * (m * (1 - b) * (1 - b) + (1 - m) * b * b) * scoreNormSq }
            return sum
        }
        return (gradient, max(0, secondMoment(0) - gradientNormSq), max(0, secondMoment(j) - gradientNormSq))
    }
}

/// One seeded REINFORCE run on a Bernoulli bandit.
///
/// Per episode the first uniform picks the arm, the second the reward; θ moves by
/// lr·(r − b)·(onehot(a) − π), plus lr·β·∇H(π) when the entropy weight β is non-zero.
struct BanditRun {
    /// θ after the last episode.
    private(set) var theta: [Double]
    /// How often each arm was chosen.
    private(set) var pulls: [Double]
    /// The reward of each episode, 0 or 1.
    private(set) var rewards: [Double]
    private(set) var rewardSum = 0.0
    /// Σ over episodes of max(means) − means[chosen arm].
    private(set) var regret = 0.0
    /// π after the last episode.
    let finalPi: [Double]
    /// Final probability of the best arm, summed over tied best arms.
    let bestArmProbability: Double

    init(means: [Double], episodes: Int, lr: Double, useBaseline: Bool, entropy beta: Double, seed: Int,
         context: RunContext) throws(ComputeError) {
        let arms = means.count
        let bestMean = means.max() ?? 0
        var rng = Xoshiro256StarStar(parameterSeed: seed)
        theta = [Double](repeating: 0, count: arms)
        pulls = [Double](repeating: 0, count: arms)
        rewards = [Double](repeating: 0, count: episodes)
        let entropyStep = lr * beta

        // SafeSoftmax and entropyGradient, operation for operation, in buffers kept across
        // episodes: a fresh array per episode was most of a run's time.
        var exps = [Double](repeating: 0, count: arms)
        var pi = [Double](repeating: 0, count: arms)
        for t in 0..<episodes {
            if t & 0xFFFF == 0 { try context.checkCancelled() }
            let largest = theta.max() ?? -.infinity
            var sum = 0.0
            for i in 0..<arms {
                exps[i] = expDifference(theta[i], largest)
                sum += exps[i]
            }
            for i in 0..<arms { pi[i] = exps[i] / sum }
            let a = rng.categorical(pi)
            let r = rng.bernoulli(means[a])
            let b = useBaseline && t > 0 ? rewardSum / Double(t) : 0
            let step = lr * (r - b)
            if beta == 0 {
                // Kept apart so that β = 0 is exactly plain REINFORCE, operation for operation.
                for i in 0..<arms {
                    theta[i] += step * ((i == a ? 1 : 0) - pi[i])
                }
            } else {
                // ∂H/∂θᵢ = −πᵢ(log πᵢ + H) with log πᵢ = θᵢ − logsumexp(θ), as in entropyGradient.
                let lse = largest + log(sum)
                var h = 0.0
                for i in 0..<arms { h -= pi[i] * (theta[i] - lse) }
                for i in 0..<arms {
                    let entropyGradient = -pi[i] * ((theta[i] - lse) + h)
                    theta[i] += step * ((i == a ? 1 : 0) - pi[i]) + entropyStep * entropyGradient
                }
            }
            rewards[t] = r
            rewardSum += r
            pulls[a] += 1
            regret += bestMean - means[a]
        }
        finalPi = SafeSoftmax(theta).probabilities
        var bestProb = 0.0
        for (p, m) in zip(finalPi, means) where m == bestMean { bestProb += p }
        bestArmProbability = bestProb
    }

    /// H(π) = −Σ πᵢ log πᵢ and ∂H/∂θⱼ = −πⱼ(log πⱼ + H) for π = softmax(θ), with
    /// log πⱼ = θⱼ − logsumexp(θ): finite where πⱼ underflows, whose term is then 0.
    static func entropyGradient(_ theta: [Double], _ softmax: SafeSoftmax) -> (entropy: Double, gradient: [Double]) {
        let pi = softmax.probabilities
        let lse = softmax.logSumExp
        var h = 0.0
        for i in theta.indices { h -= pi[i] * (theta[i] - lse) }
        return (h, theta.indices.map { -pi[$0] * ((theta[$0] - lse) + h) })
    }
}
