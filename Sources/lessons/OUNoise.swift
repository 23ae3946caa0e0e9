import Foundation
import NotebookCore

// DDPG's exploration noise: the Ornstein–Uhlenbeck process dx = −κ·x·dt + σ·dW (Uhlenbeck &
// Ornstein, 1930; Lillicrap et al., 2016, κ = 0.15, σ = 0.2), stepped by Euler–Maruyama as
// OpenAI Baselines' ddpg/noise.py does,
//     x_{t+1} = x_t − κ·x_t·dt + σ·√dt·ξ_t = ρ·x_t + σ·√dt·ξ_t,   ρ = 1 − κ·dt,  ξ_t ~ N(0, 1).
// For |ρ| < 1 (0 < κ·dt < 2) the chain is stationary with
//     standard deviation  σ·√dt / √(1 − ρ²) = σ / √(κ·(2 − κ·dt)),
//     lag-k correlation   ρᵏ,
//     e-folding time      −1/log|ρ| steps (ρᵏ = 1/e),
//     integrated time     Σ_{k ≥ 0} ρᵏ = 1/(κ·dt) steps,
//     one-step change     std(x_{t+1} − x_t) = std·√(2(1 − ρ)).
// κ·dt = 1 gives independent Gaussian noise N(0, σ²·dt). The path starts from a stationary draw,
// so nothing needs discarding; the measured statistics come from one seeded path.

/// `ddpg.ou-noise`: one seeded Ornstein–Uhlenbeck path, measured against its exact statistics.
public struct OUNoiseModule: ComputeModule {
    public init() {}
    public let name = "ddpg.ou-noise"
    public let summary = "DDPG's Ornstein–Uhlenbeck exploration noise x ← x − κx·dt + σ√dt·ξ: measured and exact stationary spread, lag correlation, e-folding and integrated correlation times."

    static let maxSteps = 2_000_000

    public let parameters: [ParameterSpec] = [
        .number("kappa", 0.15, range: .positive, doc: "κ, the rate of the pull back to 0 (the paper's θ)"),
        .number("sigma", 0.2, range: .closed(0, 1e6), doc: "σ, the scale of the random kicks"),
        .number("dt", 1, range: .closed(1e-9, 1e6), doc: "time step per action (Baselines uses 0.01); κ·dt must lie in (0, 2)"),
        .integer("steps", 100_000, range: .closed(10, Double(OUNoiseModule.maxSteps)), doc: "length of the measured path"),
        .integer("lag", 5, range: .closed(0, 100_000), doc: "k for the lag-k correlation, below steps"),
        .integer("seed", 1, range: .nonNegative, doc: "seed of the xoshiro256** generator behind the Box–Muller draws"),
    ]
    public let outputs: [OutputSpec] = [
        .init("std", .number, doc: "sample standard deviation of the path"),
        .init("std_exact", .number, doc: "stationary standard deviation σ/√(κ(2 − κ·dt))"),
        .init("autocorr", .number, doc: "measured correlation of values lag steps apart"),
        .init("autocorr_exact", .number, doc: "(1 − κ·dt)^lag"),
        .init("step_std", .number, doc: "measured standard deviation of x_{t+1} − x_t"),
        .init("step_std_exact", .number, doc: "std_exact·√(2κ·dt), the one-step change"),
        .init("efold_steps", .number, doc: "−1/log|1 − κ·dt|, the steps until the correlation falls to 1/e (0 when κ·dt = 1)"),
        .init("integrated_steps", .number, doc: "1/(κ·dt) = Σ_{k≥0} (1 − κ·dt)^k, the integrated correlation time in steps"),
        .init("path", .vector, hint: .chart, doc: "the first 200 values of the path"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let kappa = try inputs.number("kappa"), sigma = try inputs.number("sigma"), dt = try inputs.number("dt")
        let steps = try inputs.integer("steps"), lag = try inputs.integer("lag")
        let rate = kappa * dt
        guard rate > 0, rate < 2 else {
            throw .invalid("dt", "gives κ·dt = \(NumberText.shortest(rate)); the process is stationary only for 0 < κ·dt < 2")
        }
        guard lag < steps else {
            throw .invalid("lag", "is \(lag) but the path has \(steps) steps; use a lag below steps")
        }
        let rho = 1 - rate
        let kick = sigma * dt.squareRoot()
        let stdExact = sigma / (kappa * (2 - rate)).squareRoot()
        var normal = GaussianSampler(Xoshiro256StarStar(parameterSeed: try inputs.integer("seed")))
        var path = [Double](repeating: 0, count: steps)
        path[0] = stdExact * normal.next()
        for t in 1..<steps {
            if t % 65_536 == 0 { try context.checkCancelled() }
            path[t] = rho * path[t - 1] + kick * normal.next()
        }
        let n = Double(steps)
        let mean = path.reduce(0, +) / n
        var squares = 0.0
        for x in path { squares += (x - mean) * (x - mean) }
        // The lag-k correlation as the usual estimator: the lagged cross-sum over the full-path variance.
        var cross = 0.0
        for t in 0..<(steps - lag) { cross += (path[t] - mean) * (path[t + lag] - mean) }
        var diffMean = 0.0
        for t in 1..<steps { diffMean += path[t] - path[t - 1] }
        diffMean /= n - 1
        var diffSquares = 0.0
        for t in 1..<steps {
            let d = path[t] - path[t - 1] - diffMean
            diffSquares += d * d
        }
        return [
            "std": .number((squares / (n - 1)).squareRoot()),
            "std_exact": .number(stdExact),
            "autocorr": .number(squares > 0 ? cross / squares : .nan),
            "autocorr_exact": .number(pow(rho, Double(lag))),
            "step_std": .number((diffSquares / (n - 2)).squareRoot()),
            "step_std_exact": .number(stdExact * (2 * rate).squareRoot()),
            "efold_steps": .number(rho == 0 ? 0 : -1 / log(abs(rho))),
            "integrated_steps": .number(1 / rate),
            "path": .vector(Array(path.prefix(200))),
        ]
    }
}
