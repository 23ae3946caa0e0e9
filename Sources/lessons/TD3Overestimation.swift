import Foundation
import NotebookCore

// Why a learned critic that is maximised over actions over-estimates, and what TD3's clipped
// double-Q target (Fujimoto, van Hoof & Meger, 2018) does about it, on K actions with known
// true values. Each trial draws two critics with unbiased Gaussian errors,
//     Q₁(a) = values[a] + σ·e₁(a),   Q₂(a) = values[a] + σ·(ρ·e₁(a) + √(1 − ρ²)·f(a)),
// with e₁, f independent standard normals, picks a* = argmax Q₁ (the action a greedy actor,
// or DDPG's target actor, would take), and records four ways of valuing it:
//     single   Q₁(a*)              = max Q₁: the DQN/DDPG target, biased up (E max ≥ max E);
//     double   Q₂(a*)              : van Hasselt's (2010) double estimator; for ρ = 0 it is
//                                    unbiased for values[a*], which is itself at most max values;
//     clipped  min(Q₁(a*), Q₂(a*)) : TD3's target, never above either of the other two;
//     chosen   values[a*]          : what the chosen action is really worth.
// Per trial the generator draws e₁(0…K−1), then f(0…K−1), from one Box–Muller stream.

/// Monte Carlo averages of the single, double and clipped double estimators.
struct OverestimationTrials {
    var single = 0.0, double = 0.0, clipped = 0.0, chosen = 0.0
    var singleSquares = 0.0, doubleSquares = 0.0, clippedSquares = 0.0, gapSquares = 0.0
    var bestChosen = 0
    let trials: Int

    init(values: [Double], noise sigma: Double, correlation rho: Double, trials: Int, seed: Int,
         context: RunContext) throws(ComputeError) {
        self.trials = trials
        var normal = GaussianSampler(Xoshiro256StarStar(parameterSeed: seed))
        let k = values.count
        let trueMax = values.max() ?? 0
        let fresh = (1 - rho * rho).squareRoot()
        var e1 = [Double](repeating: 0, count: k), f = e1
        // Running means and squared deviations (Welford) of each recorded quantity.
        var means = [0.0, 0.0, 0.0, 0.0, 0.0], squares = means
        for t in 0..<trials {
            if t % 4096 == 0 { try context.checkCancelled() }
            for a in 0..<k { e1[a] = normal.next() }
            for a in 0..<k { f[a] = normal.next() }
            var best = 0, bestValue = -Double.infinity
            for a in 0..<k {
                let q1 = values[a] + sigma * e1[a]
                if q1 > bestValue { best = a; bestValue = q1 }
            }
            let q2 = values[best] + sigma * (rho * e1[best] + fresh * f[best])
            let recorded = [bestValue, q2, min(bestValue, q2), values[best], q2 - values[best]]
            let count = Double(t + 1)
            for j in 0..<5 {
                let delta = recorded[j] - means[j]
                means[j] += delta / count
                squares[j] += delta * (recorded[j] - means[j])
            }
            if values[best] == trueMax { bestChosen += 1 }
        }
        (single, double, clipped, chosen) = (means[0], means[1], means[2], means[3])
        (singleSquares, doubleSquares, clippedSquares, gapSquares) = (squares[0], squares[1], squares[2], squares[4])
    }

    /// The standard error of a mean from its sum of squared deviations (0 for one trial).
    func standardError(_ squares: Double) -> Double {
        trials < 2 ? 0 : (squares / Double(trials - 1) / Double(trials)).squareRoot()
    }
}

/// `td3.overestimation`: the bias of max over noisy critics, double and clipped double estimates.
public struct TD3OverestimationModule: ComputeModule {
    public init() {}
    public let name = "td3.overestimation"
    public let summary = "Two noisy critics of K actions: E[max Q₁] (DDPG's target) against max of the true values, van Hasselt's Q₂(argmax Q₁) and TD3's min(Q₁, Q₂)(argmax Q₁), by seeded Monte Carlo."

    static let maxDraws = 2_000_000

    public let parameters: [ParameterSpec] = [
        .vector("values", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], range: .closed(-1e6, 1e6), maxElements: 10_000,
                doc: "the true values Q(a) of the K actions"),
        .number("noise", 0.3, range: .closed(0, 1e6), doc: "σ: the standard deviation of each critic's error at each action"),
        .number("correlation", 0, range: .unit, doc: "ρ between the two critics' errors at the same action (1: the same critic twice)"),
        .integer("trials", 10_000, range: .closed(1, Double(TD3OverestimationModule.maxDraws / 2)),
                 doc: "Monte Carlo trials (2 × K × trials ≤ 2,000,000)"),
        .integer("seed", 1, range: .nonNegative, doc: "seed of the xoshiro256** generator behind the Box–Muller draws"),
    ]
    public let outputs: [OutputSpec] = [
        .init("true_max", .number, doc: "max over a of values[a]: what a perfect critic would bootstrap"),
        .init("single", .number, doc: "mean of max Q₁ = Q₁(a*): the single estimator of DQN and DDPG"),
        .init("double", .number, doc: "mean of Q₂(a*): the double estimator (select with Q₁, evaluate with Q₂)"),
        .init("clipped", .number, doc: "mean of min(Q₁(a*), Q₂(a*)): TD3's clipped double-Q"),
        .init("chosen_value", .number, doc: "mean of values[a*]: the true worth of the action Q₁ picks"),
        .init("single_bias", .number, doc: "single − true_max"),
        .init("double_bias", .number, doc: "double − true_max"),
        .init("clipped_bias", .number, doc: "clipped − true_max"),
        .init("best_chosen", .number, hint: .percent, doc: "share of trials whose a* has the largest true value"),
        .init("single_se", .number, doc: "standard error of single"),
        .init("double_se", .number, doc: "standard error of double"),
        .init("clipped_se", .number, doc: "standard error of clipped"),
        .init("gap_se", .number, doc: "standard error of the mean of Q₂(a*) − values[a*] (double − chosen_value)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let values = try inputs.vector("values")
        let trials = try inputs.integer("trials")
        guard trials <= Self.maxDraws / (2 * values.count) else {
            throw .invalid("trials", "is \(trials) with \(values.count) actions; 2 × K × trials may be at most \(Self.maxDraws), so use at most \(Self.maxDraws / (2 * values.count)) trials")
        }
        let run = try OverestimationTrials(
            values: values, noise: try inputs.number("noise"), correlation: try inputs.number("correlation"),
            trials: trials, seed: try inputs.integer("seed"), context: context)
        let trueMax = values.max() ?? 0
        return [
            "true_max": .number(trueMax),
            "single": .number(run.single),
            "double": .number(run.double),
            "clipped": .number(run.clipped),
            "chosen_value": .number(run.chosen),
            "single_bias": .number(run.single - trueMax),
            "double_bias": .number(run.double - trueMax),
            "clipped_bias": .number(run.clipped - trueMax),
            "best_chosen": .number(Double(run.bestChosen) / Double(trials)),
            "single_se": .number(run.standardError(run.singleSquares)),
            "double_se": .number(run.standardError(run.doubleSquares)),
            "clipped_se": .number(run.standardError(run.clippedSquares)),
            "gap_se": .number(run.standardError(run.gapSquares)),
        ]
    }
}
