import Foundation
import NotebookCore

// What a stochastic policy pays to estimate its gradient, against the deterministic policy
// gradient (Silver et al., 2014), on the smallest problem that shows it: one state, a Gaussian
// policy a ~ N(μ, σ²I) over d action dimensions with the same mean m in every coordinate, and a
// critic that is a sum of the ddpg.step critic's action terms,
//     Q(a) = q0 + Σᵢ (w_a·aᵢ + w_aa·aᵢ²).
// The quantity wanted is ∇μ E[Q(a)]. Q is quadratic, so E[∇ₐQ(a)] = ∇ₐQ(μ) for every σ: each
// coordinate is g = w_a + 2·w_aa·m, the deterministic policy gradient with respect to the mean.
// Three single-sample estimators of it, with a = μ + σz, z ~ N(0, I):
//     score (likelihood ratio):     Q(a)·z/σ          (∇μ log N(a; μ, σ²I) = z/σ)
//     score with a baseline:        (Q(a) − V)·z/σ,   V = E[Q(a)] = Q(μ) + d·w_aa·σ²
//     pathwise (reparameterised):   ∇ₐQ(a) = w_a + 2·w_aa·a
// Their exact total variances (the trace of the covariance of one sample), from the Gaussian
// moments E z² = 1, E z⁴ = 3, E z⁶ = 15 (derived in DPGEstimatorsTests):
//     score:     d·[Q(μ)²/σ² + (d + 1)·g² + w_aa²σ²·(15 + (d − 1)(d + 7)) + 2(d + 2)·w_aa·Q(μ)]
//     baseline:  d·[(d + 1)·g² + (2d + 8)·w_aa²σ²]
//     pathwise:  d·4·w_aa²σ²
// The baseline estimator's relative variance is at least d + 1 however small σ is; the
// pathwise one vanishes as σ → 0, where it is the deterministic gradient itself.

/// The exact moments and a seeded measurement of the three estimators.
struct GaussianPolicyGradientEstimators {
    let dims: Int, mean: Double, sigma: Double
    let q0: Double, wA: Double, wAA: Double

    /// ∇ₐQ(μ) in each coordinate.
    var gradient: Double { wA + 2 * wAA * mean }
    var qAtMean: Double { q0 + Double(dims) * (wA * mean + wAA * mean * mean) }
    /// E[Q(a)] under N(μ, σ²I).
    var value: Double { qAtMean + Double(dims) * wAA * sigma * sigma }

    var scoreVariance: Double {
        let d = Double(dims), g = gradient, q = qAtMean, s2 = sigma * sigma
        let perCoordinate = q * q / s2 + (d + 1) * g * g + wAA * wAA * s2 * (15 + (d - 1) * (d + 7))
            + 2 * (d + 2) * wAA * q
        return d * perCoordinate
    }

    var baselineVariance: Double {
        let d = Double(dims), g = gradient
        return d * ((d + 1) * g * g + (2 * d + 8) * wAA * wAA * sigma * sigma)
    }

    var pathwiseVariance: Double { Double(dims) * 4 * wAA * wAA * sigma * sigma }

    func critic(_ a: [Double]) -> Double {
        var total = q0
        for x in a { total += wA * x + wAA * x * x }
        return total
    }

    struct Measurement {
        /// The n-sample mean of each estimator, one entry per action dimension.
        var score: [Double], baseline: [Double], pathwise: [Double]
        /// The sample variance of one estimate, summed over coordinates (divisor n − 1; 0 when n = 1).
        var scoreVariance: Double, baselineVariance: Double, pathwiseVariance: Double
    }

    /// n actions a = μ + σz, z from the seeded Box–Muller stream, d draws per action in order.
    /// Means and squared deviations are accumulated per coordinate by Welford's update, which
    /// keeps the variance accurate when the mean is large against the spread.
    func measure(samples n: Int, seed: Int, context: RunContext) throws(ComputeError) -> Measurement {
        var normal = GaussianSampler(Xoshiro256StarStar(parameterSeed: seed))
        let d = dims
        // Running means and sums of squared deviations, estimator j of coordinate i at j·d + i.
        var means = [Double](repeating: 0, count: 3 * d), squares = means
        var z = [Double](repeating: 0, count: d), a = z
        let v = value
        func welford(_ j: Int, _ x: Double, _ count: Double) {
            let delta = x - means[j]
            means[j] += delta / count
            squares[j] += delta * (x - means[j])
        }
        for k in 0..<n {
            if k % 4096 == 0 { try context.checkCancelled() }
            for i in 0..<d {
                z[i] = normal.next()
                a[i] = mean + sigma * z[i]
            }
            let q = critic(a)
            let count = Double(k + 1)
            for i in 0..<d {
                let x0 = q * z[i] / sigma, x1 = (q - v) * z[i] / sigma, x2 = wA + 2 * wAA * a[i]
                welford(i, x0, count)
                welford(d + i, x1, count)
                welford(2 * d + i, x2, count)
            }
        }
        let divisor = Double(max(n - 1, 1))
        func variance(_ j: Int) -> Double { n < 2 ? 0 : squares[(j * d)..<((j + 1) * d)].reduce(0, +) / divisor }
        return Measurement(score: Array(means[0..<d]), baseline: Array(means[d..<(2 * d)]),
                           pathwise: Array(means[(2 * d)...]),
                           scoreVariance: variance(0), baselineVariance: variance(1), pathwiseVariance: variance(2))
    }
}

/// `dpg.estimators`: the sample cost of a stochastic policy gradient against the deterministic one.
public struct DPGEstimatorsModule: ComputeModule {
    public init() {}
    public let name = "dpg.estimators"
    public let summary = "∇μ E[Q(a)] for a Gaussian policy N(μ, σ²I) in d dimensions from n sampled actions (score function, with a baseline, pathwise) against the deterministic gradient ∇ₐQ(μ): exact variances, samples needed, a seeded measurement."

    static let maxDims = 1_000
    static let maxDraws = 1_000_000
    static let coefficientRange = NumberRange.closed(-1e6, 1e6)

    public let parameters: [ParameterSpec] = [
        .integer("dims", 1, range: .closed(1, Double(DPGEstimatorsModule.maxDims)), doc: "action dimensions d, 1 to 1000"),
        .number("mu", 0.2, range: DPGEstimatorsModule.coefficientRange, doc: "the policy mean m, the same in every coordinate (the deterministic action)"),
        .number("sigma", 0.3, range: .closed(1e-6, 1e6), doc: "the policy's standard deviation σ in every coordinate, in [1e-6, 1e6]"),
        .number("q0", 1, range: DPGEstimatorsModule.coefficientRange, doc: "the critic's action-free part (w·s in ddpg.step)"),
        .number("w_a", 1, range: DPGEstimatorsModule.coefficientRange, doc: "the critic's weight of each aᵢ"),
        .number("w_aa", -0.8, range: DPGEstimatorsModule.coefficientRange, doc: "the critic's weight of each aᵢ²: Q(a) = q0 + Σᵢ (w_a·aᵢ + w_aa·aᵢ²)"),
        .integer("samples", 1000, range: .closed(1, Double(DPGEstimatorsModule.maxDraws)),
                 doc: "sampled actions n for the measured estimates (dims × samples ≤ 1,000,000)"),
        .integer("seed", 1, range: .nonNegative, doc: "seed of the xoshiro256** generator behind the Box–Muller draws"),
        .number("rel_error", 0.1, range: .closed(1e-6, 1e6), doc: "target relative RMS error ε for the samples_* outputs"),
    ]
    public let outputs: [OutputSpec] = [
        .init("grad", .number, doc: "g = w_a + 2·w_aa·m: every coordinate of ∇ₐQ(μ), the deterministic policy gradient with respect to the mean"),
        .init("grad_norm", .number, doc: "‖∇ₐQ(μ)‖ = √d·|g|"),
        .init("q_mu", .number, doc: "Q(μ), the critic at the deterministic action"),
        .init("value", .number, doc: "V = E[Q(a)] = Q(μ) + d·w_aa·σ², the baseline of the baseline estimator"),
        .init("var_score", .number, doc: "exact total variance of one score-function estimate Q(a)·(a − μ)/σ²"),
        .init("var_baseline", .number, doc: "exact total variance of one estimate (Q(a) − V)·(a − μ)/σ²"),
        .init("var_pathwise", .number, doc: "exact total variance of one pathwise estimate ∇ₐQ(a)"),
        .init("samples_score", .number, doc: "actions needed for relative RMS error ε: var_score/(ε²·grad_norm²) (inf when the gradient is 0)"),
        .init("samples_baseline", .number, doc: "var_baseline/(ε²·grad_norm²)"),
        .init("samples_pathwise", .number, doc: "var_pathwise/(ε²·grad_norm²); 0 actions are needed by the deterministic gradient"),
        .init("est_score", .vector, doc: "the mean of n score-function estimates, one entry per dimension"),
        .init("est_baseline", .vector, doc: "the mean of n baseline estimates"),
        .init("est_pathwise", .vector, doc: "the mean of n pathwise estimates"),
        .init("err_score", .number, doc: "‖est_score − ∇ₐQ(μ)‖/‖∇ₐQ(μ)‖, measured (inf when the gradient is 0)"),
        .init("err_baseline", .number, doc: "the same for est_baseline"),
        .init("err_pathwise", .number, doc: "the same for est_pathwise"),
        .init("measured_var_score", .number, doc: "sample variance of one score-function estimate over the n draws, summed over coordinates"),
        .init("measured_var_baseline", .number, doc: "the same for the baseline estimator"),
        .init("measured_var_pathwise", .number, doc: "the same for the pathwise estimator"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let dims = try inputs.integer("dims")
        let samples = try inputs.integer("samples")
        guard samples <= Self.maxDraws / dims else {
            throw .invalid("samples", "is \(samples) with dims = \(dims); dims × samples may be at most \(Self.maxDraws), so use at most \(Self.maxDraws / dims) samples")
        }
        let model = GaussianPolicyGradientEstimators(
            dims: dims, mean: try inputs.number("mu"), sigma: try inputs.number("sigma"),
            q0: try inputs.number("q0"), wA: try inputs.number("w_a"), wAA: try inputs.number("w_aa"))
        let epsilon = try inputs.number("rel_error")
        let g = model.gradient
        let normSquared = Double(dims) * g * g
        func samplesNeeded(_ variance: Double) -> Double {
            normSquared > 0 ? variance / (epsilon * epsilon * normSquared) : .infinity
        }
        let measured = try model.measure(samples: samples, seed: try inputs.integer("seed"), context: context)
        func relativeError(_ estimate: [Double]) -> Double {
            guard normSquared > 0 else { return .infinity }
            var total = 0.0
            for x in estimate { total += (x - g) * (x - g) }
            return (total / normSquared).squareRoot()
        }
        return [
            "grad": .number(g),
            "grad_norm": .number(normSquared.squareRoot()),
            "q_mu": .number(model.qAtMean),
            "value": .number(model.value),
            "var_score": .number(model.scoreVariance),
            "var_baseline": .number(model.baselineVariance),
            "var_pathwise": .number(model.pathwiseVariance),
            "samples_score": .number(samplesNeeded(model.scoreVariance)),
            "samples_baseline": .number(samplesNeeded(model.baselineVariance)),
            "samples_pathwise": .number(samplesNeeded(model.pathwiseVariance)),
            "est_score": .vector(measured.score),
            "est_baseline": .vector(measured.baseline),
            "est_pathwise": .vector(measured.pathwise),
            "err_score": .number(relativeError(measured.score)),
            "err_baseline": .number(relativeError(measured.baseline)),
            "err_pathwise": .number(relativeError(measured.pathwise)),
            "measured_var_score": .number(measured.scoreVariance),
            "measured_var_baseline": .number(measured.baselineVariance),
            "measured_var_pathwise": .number(measured.pathwiseVariance),
        ]
    }
}
