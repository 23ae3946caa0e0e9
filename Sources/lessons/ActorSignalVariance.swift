import Foundation
import NotebookCore

// How much noise the actor's learning signal carries, and how much bias a critic adds, computed
// exactly on the lesson's corridor.
//
// The corridor has states 0 … L−1. "Right" (action 1) in state i < L−1 moves to i + 1 with
// reward 0; right in the last state ends the episode with reward R; "left" (action 0) ends it
// anywhere with reward 0. The policy goes right in state i with probability pᵢ. From state s
// there are only L − s + 1 trajectories (turn left after m rights, or reach the end), so every
// expectation below is a finite sum, not a sample.
//
// The actor's per-step signal at state s is ψ·∂log π(a|s)/∂θ_right, with the score
// [a = right] − p_s (the component for θ_left is its negative, so it has the same variance and
// the vector's total variance is twice this). For every ψ its mean estimates the per-state
// policy gradient Σₐ π(a|s) q(s, a) ∂log π(a|s)/∂θ_right:
//
// - ψ = G, the Monte Carlo return (Williams, 1992): unbiased, noisiest.
// - ψ = G − v(s): a baseline; unbiased for any v, since E[score] = 0.
// - ψ = δ = r + γ v(s') − v(s), the TD error: biased when v ≠ V, and the bias enters through
//   γ·v(s') alone (the −v(s) term is a baseline again).
// - n-step: Σ_{k<n} γᵏ r + γⁿ v(s_{t+n}) − v(s); GAE(λ) = Σ (γλ)ᵏ δ_{t+k} (Schulman et al., 2016,
//   "High-dimensional continuous control using generalized advantage estimation"): n and λ dial
//   between δ (n = 1, λ = 0) and G − v(s) (n past the end, λ = 1).

/// The corridor MDP and its exact values under a fixed right-probability per state.
struct Corridor {
    /// P(right | state i).
    let piRight: [Double]
    let gamma: Double
    /// Reward for going right in the last state.
    let reward: Double
    /// V^π(i): V(L−1) = p·R, V(i) = pᵢ·γ·V(i+1).
    let values: [Double]
    /// q^π(i, a) with columns [left, right]: left ends the episode (0); right earns γ·V(i+1), or R
    /// at the last state.
    let actionValues: [[Double]]

    init(piRight: [Double], gamma: Double, reward: Double) {
        self.piRight = piRight
        self.gamma = gamma
        self.reward = reward
        let n = piRight.count
        var v = [Double](repeating: 0, count: n)
        var q = [[Double]](repeating: [0, 0], count: n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            q[i][1] = i == n - 1 ? reward : gamma * v[i + 1]
            v[i] = piRight[i] * q[i][1]
        }
        values = v
        actionValues = q
    }

    var length: Int { piRight.count }

    /// One way an episode can continue from a state, with its probability.
    struct Trajectory {
        let probability: Double
        /// The states visited, the first being the starting state.
        let states: [Int]
        /// The action taken in each of them: 1 right, 0 left.
        let actions: [Int]
        let rewards: [Double]
    }

    /// Every trajectory from state s: left after m = 0 … L−s−1 rights, then the one that goes
    /// right to the end.
    func trajectories(from s: Int) -> [Trajectory] {
        var result: [Trajectory] = []
        var reachProbability = 1.0
        for stop in s..<length {
            let states = Array(s...stop)
            let rights = stop - s
            result.append(Trajectory(probability: reachProbability * (1 - piRight[stop]), states: states,
                                     actions: [Int](repeating: 1, count: rights) + [0],
                                     rewards: [Double](repeating: 0, count: rights + 1)))
            reachProbability *= piRight[stop]
        }
        var rewards = [Double](repeating: 0, count: length - s)
        rewards[rewards.count - 1] = reward
        result.append(Trajectory(probability: reachProbability, states: Array(s..<length),
                                 actions: [Int](repeating: 1, count: length - s), rewards: rewards))
        return result
    }
}

/// The signals ψ a critic v offers along one trajectory, at its first step.
struct ActorSignals {
    let trajectory: Corridor.Trajectory
    let critic: [Double]
    let gamma: Double

    /// v at the state after step k; 0 once the episode has ended.
    private func nextValue(_ k: Int) -> Double {
        k + 1 < trajectory.states.count ? critic[trajectory.states[k + 1]] : 0
    }

    var start: Int { trajectory.states[0] }

    /// G = Σ γᵏ rₖ.
    var monteCarloReturn: Double {
        var g = 0.0, discount = 1.0
        for r in trajectory.rewards {
            g += discount * r
            discount *= gamma
        }
        return g
    }

    /// δₖ = rₖ + γ·v(s_{k+1}) − v(s_k).
    func tdError(_ k: Int) -> Double {
        trajectory.rewards[k] + gamma * nextValue(k) - critic[trajectory.states[k]]
    }

    /// Σ_{k<n} γᵏ rₖ + γⁿ v(s_n) − v(s₀), with no bootstrap once the episode has ended.
    func nStep(_ n: Int) -> Double {
        let steps = trajectory.rewards.count
        var g = 0.0, discount = 1.0
        for k in 0..<min(n, steps) {
            g += discount * trajectory.rewards[k]
            discount *= gamma
        }
        if n < steps { g += discount * critic[trajectory.states[n]] }
        return g - critic[start]
    }

    /// Σₖ (γλ)ᵏ δₖ.
    func gae(_ lambda: Double) -> Double {
        var a = 0.0, weight = 1.0
        for k in trajectory.rewards.indices {
            a += weight * tdError(k)
            weight *= gamma * lambda
        }
        return a
    }

    /// ∂log π(a₀|s₀)/∂θ_right = [a₀ = right] − p.
    func score(_ piRight: Double) -> Double {
        (trajectory.actions[0] == 1 ? 1 : 0) - piRight
    }
}

/// Mean and variance of a discrete distribution given by (weight, value) pairs.
struct WeightedMoments {
    let mean: Double
    let variance: Double

    init(_ pairs: [(weight: Double, value: Double)]) {
        var m = 0.0
        for (w, x) in pairs { m += w * x }
        // Two passes: the variance is a sum of non-negative terms, never a difference of moments.
        var v = 0.0
        for (w, x) in pairs { v += w * (x - m) * (x - m) }
        mean = m
        variance = v
    }
}

/// `pg.corridor-variance`: exact variance and bias of the actor's signal on the corridor.
public struct CorridorVarianceModule: ComputeModule {
    public init() {}
    public let name = "pg.corridor-variance"
    public let summary = "Exact variance and bias of the actor's signal ψ·∇log π on the corridor for ψ = G, G − v, δ, n-step and GAE(λ)."

    static let maxLength = 100
    static let valueRange = NumberRange.closed(-1e6, 1e6)
    static let lambdaGrid = (0...10).map { Double($0) / 10 }

    public let parameters: [ParameterSpec] = [
        .vector("pi_right", [0.5], range: .unit, maxElements: CorridorVarianceModule.maxLength,
                doc: "P(right) in each state: one entry for every state, or one per state"),
        .integer("length", 2, range: .closed(1, Double(CorridorVarianceModule.maxLength)),
                 doc: "states in the corridor, 1 to 100 (the lesson's: 2, start and door)"),
        .number("gamma", 0.9, range: .unit, doc: "discount γ, in [0, 1]"),
        .number("reward", 1, range: CorridorVarianceModule.valueRange, doc: "reward for going right in the last state (|R| ≤ 1e6)"),
        ParameterSpec(name: "v", kind: .vector, defaultValue: .computed("the true V^π"),
                      doc: "the critic's values, one per state (|v| ≤ 1e6); the terminal state's is 0",
                      range: CorridorVarianceModule.valueRange, maxElements: CorridorVarianceModule.maxLength),
        .integer("state", 0, range: .nonNegative, doc: "the state whose step is measured (0 is the start)"),
        .integer("n", 2, range: .closed(1, Double(CorridorVarianceModule.maxLength)),
                 doc: "steps before the n-step return bootstraps, 1 to 100 (1 is δ; past the end it is G − v(s))"),
        .number("lambda", 0.95, range: .unit, doc: "GAE's λ, in [0, 1] (0 is δ, 1 is G − v(s))"),
    ]
    public let outputs: [OutputSpec] = [
        .init("variance_return", .number, doc: "Var[G·score]: ψ = the Monte Carlo return"),
        .init("variance_baseline", .number, doc: "Var[(G − v(s))·score]"),
        .init("variance_td", .number, doc: "Var[δ·score], δ = r + γ v(s') − v(s)"),
        .init("variance_nstep", .number, doc: "Var of the n-step advantage times the score"),
        .init("variance_gae", .number, doc: "Var of the GAE(λ) advantage times the score"),
        .init("variances", .vector, hint: .chart, doc: "the five variances in that order: G, G − v, δ, n-step, GAE"),
        .init("true_gradient", .number,
              doc: "Σₐ π(a|s) q(s, a) ∂log π(a|s)/∂θ_right = p(1 − p)(q(s, right) − q(s, left)), what every signal estimates"),
        .init("bias_return", .number, doc: "E[G·score] − true_gradient: 0 up to rounding"),
        .init("bias_baseline", .number, doc: "E[(G − v(s))·score] − true_gradient: 0 up to rounding for any v"),
        .init("bias_td", .number, doc: "E[δ·score] − true_gradient: 0 when v = V"),
        .init("bias_nstep", .number, doc: "bias of the n-step signal"),
        .init("bias_gae", .number, doc: "bias of the GAE(λ) signal"),
        .init("biases", .vector, hint: .chart, doc: "the five biases in the order of variances"),
        .init("bias_td_bootstrap", .number, doc: "γ·E[(v(s') − V(s'))·score]: the part of bias_td that γ·v(s') brings"),
        .init("bias_td_baseline", .number, doc: "−(v(s) − V(s))·E[score]: the part the −v(s) term brings, 0 since E[score] = 0"),
        .init("optimal_baseline", .number,
              doc: "the constant b minimising Var[(G − b)·score]: E[G·score²]/E[score²] (not V(s) in general)"),
        .init("variance_optimal_baseline", .number, doc: "Var[(G − b)·score] at that b"),
        .init("values", .vector, doc: "the true V^π of each state"),
        .init("q_values", .matrix, hint: .table, doc: "the true q^π, one row per state, columns [left, right]"),
        .init("critic", .vector, doc: "the v used (the true V unless given)"),
        .init("gae_lambdas", .vector, doc: "λ = 0, 0.1, …, 1 for the GAE curves"),
        .init("gae_variance_curve", .vector, hint: .chart, doc: "variance of the GAE signal at each λ of gae_lambdas"),
        .init("gae_bias_curve", .vector, hint: .chart, doc: "bias of the GAE signal at each λ of gae_lambdas"),
        .init("nstep_variance_curve", .vector, hint: .chart, doc: "variance of the n-step signal for n = 1 … length − state"),
        .init("nstep_bias_curve", .vector, hint: .chart, doc: "bias of the n-step signal for n = 1 … length − state"),
        .init("trajectories", .integer, doc: "trajectories enumerated from the state (length − state + 1)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let length = try inputs.integer("length")
        var piRight = try inputs.vector("pi_right")
        if piRight.count == 1 {
            piRight = [Double](repeating: piRight[0], count: length)
        } else if piRight.count != length {
            throw .invalid("pi_right", "has \(piRight.count) entries but length is \(length); give one probability for every state, or one per state")
        }
        let gamma = try inputs.number("gamma"), reward = try inputs.number("reward")
        let corridor = Corridor(piRight: piRight, gamma: gamma, reward: reward)
        let critic: [Double]
        if inputs["v"] != nil {
            critic = try inputs.vector("v")
            guard critic.count == length else {
                throw .invalid("v", "has \(critic.count) entries but length is \(length); the critic needs one value per state")
            }
        } else {
            critic = corridor.values
        }
        let state = try inputs.integer("state")
        try checkIndex(state, below: length, parameter: "state", of: "states")
        let n = try inputs.integer("n"), lambda = try inputs.number("lambda")

        let p = piRight[state]
        let q = corridor.actionValues[state]
        let trueGradient = p * (1 - p) * (q[1] - q[0])
        let paths = corridor.trajectories(from: state).map { ActorSignals(trajectory: $0, critic: critic, gamma: gamma) }

        func moments(_ psi: (ActorSignals) -> Double) -> WeightedMoments {
            WeightedMoments(paths.map { (weight: $0.trajectory.probability, value: psi($0) * $0.score(p)) })
        }
        let kinds: [(ActorSignals) -> Double] = [
            { $0.monteCarloReturn },
            { $0.monteCarloReturn - critic[state] },
            { $0.tdError(0) },
            { $0.nStep(n) },
            { $0.gae(lambda) },
        ]
        let stats = kinds.map(moments)
        let variances = stats.map(\.variance), biases = stats.map { $0.mean - trueGradient }

        // The TD bias split by where it comes from: δ_v − δ_V = γ(v(s') − V(s')) − (v(s) − V(s)).
        let trueValues = corridor.values
        var bootstrap = 0.0, meanScore = 0.0, scoreSquared = 0.0, returnScoreSquared = 0.0
        for path in paths {
            let w = path.trajectory.probability, score = path.score(p)
            let next = path.trajectory.states.count > 1 ? path.trajectory.states[1] : nil
            let error = next.map { critic[$0] - trueValues[$0] } ?? 0
            bootstrap += w * gamma * error * score
            meanScore += w * score
            scoreSquared += w * score * score
            returnScoreSquared += w * path.monteCarloReturn * score * score
        }
        let optimalBaseline = scoreSquared > 0 ? returnScoreSquared / scoreSquared : 0
        let optimal = moments { $0.monteCarloReturn - optimalBaseline }

        let gaeCurve = Self.lambdaGrid.map { l in moments { $0.gae(l) } }
        let nCurve = (1...(length - state)).map { m in moments { $0.nStep(m) } }
        return [
            "variance_return": .number(variances[0]),
            "variance_baseline": .number(variances[1]),
            "variance_td": .number(variances[2]),
            "variance_nstep": .number(variances[3]),
            "variance_gae": .number(variances[4]),
            "variances": .vector(variances),
            "true_gradient": .number(trueGradient),
            "bias_return": .number(biases[0]),
            "bias_baseline": .number(biases[1]),
            "bias_td": .number(biases[2]),
            "bias_nstep": .number(biases[3]),
            "bias_gae": .number(biases[4]),
            "biases": .vector(biases),
            "bias_td_bootstrap": .number(bootstrap),
            "bias_td_baseline": .number(-(critic[state] - trueValues[state]) * meanScore + 0),
            "optimal_baseline": .number(optimalBaseline),
            "variance_optimal_baseline": .number(optimal.variance),
            "values": .vector(trueValues),
            "q_values": .matrix(corridor.actionValues),
            "critic": .vector(critic),
            "gae_lambdas": .vector(Self.lambdaGrid),
            "gae_variance_curve": .vector(gaeCurve.map(\.variance)),
            "gae_bias_curve": .vector(gaeCurve.map { $0.mean - trueGradient }),
            "nstep_variance_curve": .vector(nCurve.map(\.variance)),
            "nstep_bias_curve": .vector(nCurve.map { $0.mean - trueGradient }),
            "trajectories": .integer(paths.count),
        ]
    }
}
