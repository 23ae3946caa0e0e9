import Foundation
import NotebookCore

// Policy-gradient learning on the lesson's corridor with sampled actions, over many episodes and
// seeds: the loop the lesson's chained `pg.actor-critic` cells perform by hand, run to the end,
// and Monte-Carlo REINFORCE on the same corridor for comparison.
//
// Each episode starts in state 0. The action is drawn from π(·|s) = softmax(θ[s]); right in the
// last state earns the reward and ends the episode, left ends it anywhere with 0, right elsewhere
// moves on with 0. For QAC and A2C each transition is exactly `pg.actor-critic`'s (QAC's actor
// uses the updated q; A2C's the TD error), with the next action drawn before the update, as SARSA
// needs it. REINFORCE waits for the end of the episode, then for each step t in order (each state
// is visited at most once, so the order does not matter) computes the return-to-go
// G_t = Σ_{k≥t} γ^{k−t} r_k and steps θ[s_t] += α_a ψ (onehot(a_t) − π(·|s_t)), with ψ = G_t
// (`reinforce`) or ψ = G_t − v(s_t) and then v(s_t) += α_c (G_t − v(s_t)) (`reinforce-baseline`,
// Sutton & Barto's REINFORCE with baseline, with a tabular v). Like the actor-critics, and unlike
// Sutton & Barto's boxes, no variant weights step t by γ^t.
//
// With `critic = exact` no critic is learned: before every update the critic's table (v for A2C and
// REINFORCE with baseline, q for QAC) is set to the true V^π or q^π of the current policy, by
// `Corridor`'s Bellman recursion, and the critic step is skipped (QAC's actor is then scaled by
// q^π(s, a) itself). This separates what the critic's lag costs from what its signal costs.
//
// Randomness: per seed a xoshiro256** stream; one uniform picks the first action of an episode,
// then one per non-terminal transition picks the next action. REINFORCE's policy is fixed during
// an episode, so all four variants draw the same uniforms and share the first episode of a seed.

/// What learns on the corridor: the two actor-critics of `pg.actor-critic`, or REINFORCE.
enum CorridorVariant: String, CaseIterable {
    /// Critic q(s, a) learned by SARSA; the actor is scaled by the updated q.
    case qac
    /// Critic v(s); the actor is scaled by the TD error δ.
    case a2c
    /// Monte-Carlo REINFORCE: the actor is scaled by the return-to-go G_t.
    case reinforce
    /// REINFORCE with a learned state-value baseline: scaled by G_t − v(s_t).
    case reinforceBaseline = "reinforce-baseline"
}

/// Where the corridor learner's critic comes from.
enum CorridorCritic: String, CaseIterable {
    /// Learned by TD (QAC, A2C) or from the returns (REINFORCE with baseline), from zero.
    case learned
    /// The true values of the current policy, recomputed before every update.
    case exact
}

/// One learner on the corridor: the actor's logits and both critics (v is REINFORCE's baseline).
struct CorridorLearner {
    let length: Int
    let gamma: Double
    let reward: Double
    let lrActor: Double
    let lrCritic: Double
    let variant: CorridorVariant
    /// True: the critic is the exact V^π / q^π of the current policy, never learned.
    let exactCritic: Bool
    /// θ[s] = [left, right] logits.
    private(set) var theta: [[Double]]
    private(set) var q: [[Double]]
    private(set) var v: [Double]

    init(length: Int, gamma: Double, reward: Double, lrActor: Double, lrCritic: Double, variant: CorridorVariant,
         exactCritic: Bool = false) {
        self.length = length
        self.gamma = gamma
        self.reward = reward
        self.lrActor = lrActor
        self.lrCritic = lrCritic
        self.variant = variant
        self.exactCritic = exactCritic
        theta = [[Double]](repeating: [0, 0], count: length)
        q = theta
        v = [Double](repeating: 0, count: length)
    }

    /// With an exact critic: sets the critic's table to the true values of the current policy
    /// (q for QAC, v otherwise; REINFORCE without a baseline has no critic).
    mutating func refreshCritic() {
        guard exactCritic, variant != .reinforce else { return }
        let truth = Corridor(piRight: piRight, gamma: gamma, reward: reward)
        if variant == .qac { q = truth.actionValues } else { v = truth.values }
    }

    /// One `pg.actor-critic` transition, in its order of operations; with an exact critic the
    /// tables are first set to the current policy's true values and the critic step is skipped.
    mutating func transition(s: Int, a: Int, r: Double, sNext: Int, aNext: Int, done: Bool) {
        refreshCritic()
        let isQAC = variant == .qac
        let estimate = isQAC ? q[s][a] : v[s]
        let bootstrap = done ? 0 : (isQAC ? q[sNext][aNext] : v[sNext])
        let target = r + gamma * bootstrap
        let td = target - estimate
        let updated = exactCritic ? estimate : estimate + lrCritic * td
        let advantage = isQAC ? updated : td
        let grad = SoftmaxPolicy(theta[s]).scoreFunction(a)
        let actorStep = scaledStep(lrActor * advantage, grad)
        theta[s] = zip(theta[s], actorStep).map { $0 + $1 }
        if exactCritic { return }
        if isQAC { q[s][a] = updated } else { v[s] = updated }
    }

    /// Runs one episode from state 0 and returns its discounted return.
    mutating func episode(_ rng: inout Xoshiro256StarStar) -> Double {
        variant == .qac || variant == .a2c ? actorCriticEpisode(&rng) : reinforceEpisode(&rng)
    }

    /// One episode of QAC or A2C: an update after every transition.
    private mutating func actorCriticEpisode(_ rng: inout Xoshiro256StarStar) -> Double {
        var s = 0
        var a = rng.categorical(SoftmaxPolicy(theta[s]).probabilities)
        var discount = 1.0
        while true {
            let last = s == length - 1
            let done = a == 0 || last
            let r = last && a == 1 ? reward : 0
            let sNext = done ? s : s + 1
            let aNext = done ? 0 : rng.categorical(SoftmaxPolicy(theta[sNext]).probabilities)
            transition(s: s, a: a, r: r, sNext: sNext, aNext: aNext, done: done)
            if done { return discount * r }
            discount *= gamma
            s = sNext
            a = aNext
        }
    }

    /// One episode of REINFORCE: sample it with the current policy, then update every step.
    private mutating func reinforceEpisode(_ rng: inout Xoshiro256StarStar) -> Double {
        var actions: [Int] = []
        var s = 0
        while true {
            let a = rng.categorical(SoftmaxPolicy(theta[s]).probabilities)
            actions.append(a)
            if a == 0 || s == length - 1 { break }
            s += 1
        }
        // The only reward is R for right in the last state, at the last step T − 1; so
        // G_t = γ^{T−1−t} R on success and 0 otherwise. Built backwards as G_t = r_t + γ G_{t+1}.
        let steps = actions.count
        let success = actions[steps - 1] == 1 && steps == length
        var returns = [Double](repeating: 0, count: steps)
        var g = 0.0
        for t in stride(from: steps - 1, through: 0, by: -1) {
            let r = success && t == steps - 1 ? reward : 0
            g = r + gamma * g
            returns[t] = g
        }
        for t in 0..<steps {
            // State t of the corridor is the state at step t.
            var psi = returns[t]
            if variant == .reinforceBaseline {
                refreshCritic()
                psi = returns[t] - v[t]
                if !exactCritic { v[t] = v[t] + lrCritic * psi }
            }
            let grad = SoftmaxPolicy(theta[t]).scoreFunction(actions[t])
            let actorStep = scaledStep(lrActor * psi, grad)
            theta[t] = zip(theta[t], actorStep).map { $0 + $1 }
        }
        return returns[0]
    }

    /// π(right | s) for every state.
    var piRight: [Double] { theta.map { SoftmaxPolicy($0).probabilities[1] } }
}

/// `pg.corridor-train`: QAC, A2C or REINFORCE on the corridor for many episodes, over one or more
/// seeds.
public struct CorridorTrainModule: ComputeModule {
    public init() {}
    public let name = "pg.corridor-train"
    public let summary = "QAC, A2C or REINFORCE (with or without a learned baseline) on the lesson's corridor with sampled actions: final policy and critic, learning curves, and how fast and how often seeds learn to go right."

    static let maxLength = 100
    /// Seeds × episodes × states: the most transitions a cell may run.
    static let maxWork = 5_000_000

    public let parameters: [ParameterSpec] = [
        .integer("length", 2, range: .closed(1, Double(CorridorTrainModule.maxLength)),
                 doc: "states in the corridor, 1 to 100 (the lesson's: 2, start and door)"),
        .integer("episodes", 300, range: .closed(10, 100_000), doc: "episodes per seed, 10 to 100,000"),
        .number("gamma", 0.9, range: .unit, doc: "discount γ, in [0, 1]"),
        .number("reward", 1, range: .closed(-1e6, 1e6), doc: "reward for going right in the last state (|R| ≤ 1e6)"),
        .number("lr_actor", 0.5, range: .closed(0, 100), doc: "actor step size, in [0, 100]"),
        .number("lr_critic", 0.2, range: .closed(0, 1), doc: "critic step size, in [0, 1]"),
        .choice("variant", CorridorVariant.self, default: .a2c,
                doc: "qac (critic q, actor scaled by q'), a2c (critic v, actor scaled by δ), reinforce (after each episode, scaled by the return-to-go G) or reinforce-baseline (scaled by G − v(s), v learned from G)"),
        .choice("critic", CorridorCritic.self, default: .learned,
                doc: "learned (from zero, by TD or from the returns) or exact (the true V or q of the current policy before every update, no critic step; not for reinforce)"),
        .integer("seed", 1, range: .nonNegative, doc: "seed of the generator"),
        .integer("seeds", 1, range: .closed(1, 1_000),
                 doc: "runs with seeds seed … seed + seeds − 1 for the seed_* outputs (seeds × episodes × length ≤ 5,000,000)"),
        .number("threshold", 0.9, range: .unit,
                doc: "seed_fraction_above counts the runs with final π(right) above this in every state; seed_episodes_to_threshold finds the first episode after which it is"),
    ]
    public let outputs: [OutputSpec] = [
        .init("pi_right", .vector, hint: .chart, doc: "final π(right | s) for each state (first seed)"),
        .init("theta", .matrix, hint: .table, doc: "final actor logits, one row per state, columns [left, right]"),
        .init("v", .vector, doc: "the learned v: A2C's critic, reinforce-baseline's baseline (zeros for QAC and reinforce); with critic = exact, the true V of the final policy"),
        .init("q", .matrix, hint: .table, doc: "QAC's learned q, columns [left, right] (zeros for the others); with critic = exact, QAC's true q of the final policy"),
        .init("v_true", .vector, doc: "the true V of the final policy, for comparison with the critic"),
        .init("q_true", .matrix, hint: .table, doc: "the true q of the final policy"),
        .init("return_curve", .vector, hint: .chart, doc: "mean discounted return in each tenth of the episodes (first seed)"),
        .init("mean_return", .number, doc: "mean discounted return over all episodes (first seed)"),
        .init("seed_return_curve", .vector, hint: .chart,
              doc: "return_curve averaged over the seeds: the mean over seeds of each seed's tenth means"),
        .init("seed_episodes_to_threshold", .vector, hint: .chart,
              doc: "for each seed, the first episode (counting from 1) after which π(right) is above threshold in every state; episodes + 1 if never"),
        .init("seed_min_pi_right", .vector, hint: .chart, doc: "for each seed, the smallest final π(right) over the states"),
        .init("seed_fraction_above", .number, hint: .percent,
              doc: "share of seeds whose final π(right) is above threshold in every state"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let length = try inputs.integer("length"), episodes = try inputs.integer("episodes")
        let gamma = try inputs.number("gamma"), reward = try inputs.number("reward")
        let lrActor = try inputs.number("lr_actor"), lrCritic = try inputs.number("lr_critic")
        let variant = try inputs.choice("variant", as: CorridorVariant.self)
        let exact = try inputs.choice("critic", as: CorridorCritic.self) == .exact
        if exact && variant == .reinforce {
            throw .invalid("critic", "is exact, but reinforce has no critic; use qac, a2c or reinforce-baseline")
        }
        let seed = try inputs.integer("seed"), seeds = try inputs.integer("seeds")
        let threshold = try inputs.number("threshold")
        guard seeds <= Self.maxWork / (episodes * length) else {
            throw .invalid("seeds", "is \(seeds) with \(episodes) episodes on \(length) states; seeds × episodes × length may be at most \(Self.maxWork)")
        }
        guard seed <= Int.max - (seeds - 1) else {
            throw .invalid("seeds", "runs seeds up to seed + seeds − 1, past the largest integer; lower seed or seeds")
        }

        /// What one seed's run leaves: its learner, returns and first passage over threshold.
        struct SeedRun: Sendable {
            var learner: CorridorLearner
            var returns: [Double]
            var passage: Double
        }
        @Sendable func run(_ k: Int) -> SeedRun {
            var learner = CorridorLearner(length: length, gamma: gamma, reward: reward, lrActor: lrActor,
                                          lrCritic: lrCritic, variant: variant, exactCritic: exact)
            var rng = Xoshiro256StarStar(parameterSeed: seed + k)
            var seedReturns: [Double] = []
            seedReturns.reserveCapacity(episodes)
            var passage = episodes + 1
            for e in 0..<episodes {
                seedReturns.append(learner.episode(&rng))
                if passage > episodes, (learner.piRight.min() ?? 0) > threshold { passage = e + 1 }
            }
            return SeedRun(learner: learner, returns: seedReturns, passage: Double(passage))
        }
        // On the cores, kept in seed order, and summed in that order below.
        let runs = try independentRuns(seeds, context: context, run)
        guard runs.count == seeds, var learner = runs.first?.learner else { throw .failed("no run") }
        learner.refreshCritic()
        let returns = runs[0].returns
        var curveSum = [Double](repeating: 0, count: 10)
        var minima: [Double] = [], above = 0
        for run in runs {
            for (i, m) in ReinforceModule.tenths(run.returns).enumerated() { curveSum[i] += m }
            let minimum = run.learner.piRight.min() ?? 0
            minima.append(minimum)
            if minimum > threshold { above += 1 }
        }
        let firstPassage = runs.map(\.passage)
        let piRight = learner.piRight
        let truth = Corridor(piRight: piRight, gamma: gamma, reward: reward)
        // The critics move by convex steps (lr_critic ≤ 1) toward targets bounded by |R|·length, so
        // each actor step is at most lr_actor·|R|·length (REINFORCE's G and G − v are bounded the
        // same way) and θ stays finite over every run allowed.
        return [
            "pi_right": .vector(piRight),
            "theta": .matrix(learner.theta),
            "v": .vector(learner.v),
            "q": .matrix(learner.q),
            "v_true": .vector(truth.values),
            "q_true": .matrix(truth.actionValues),
            "return_curve": .vector(ReinforceModule.tenths(returns)),
            "mean_return": .number(returns.reduce(0, +) / Double(episodes)),
            "seed_return_curve": .vector(curveSum.map { $0 / Double(seeds) }),
            "seed_episodes_to_threshold": .vector(firstPassage),
            "seed_min_pi_right": .vector(minima),
            "seed_fraction_above": .number(Double(above) / Double(seeds)),
        ]
    }
}
