import Foundation
import NotebookCore

// Actor-critic learning on the lesson's corridor with sampled actions, over many episodes and
// seeds: the loop the lesson's chained `pg.actor-critic` cells perform by hand, run to the end.
//
// Each episode starts in state 0. The action is drawn from π(·|s) = softmax(θ[s]); right in the
// last state earns the reward and ends the episode, left ends it anywhere with 0, right elsewhere
// moves on with 0. Each transition is exactly `pg.actor-critic`'s (QAC's actor uses the updated
// q; A2C's the TD error), with the next action drawn before the update, as SARSA needs it.
//
// Randomness: per seed a xoshiro256** stream; one uniform picks the first action of an episode,
// then one per non-terminal transition picks the next action.

/// One learner on the corridor: the actor's logits and both critics.
struct CorridorLearner {
    let length: Int
    let gamma: Double
    let reward: Double
    let lrActor: Double
    let lrCritic: Double
    let variant: ActorCriticVariant
    /// θ[s] = [left, right] logits.
    private(set) var theta: [[Double]]
    private(set) var q: [[Double]]
    private(set) var v: [Double]

    init(length: Int, gamma: Double, reward: Double, lrActor: Double, lrCritic: Double, variant: ActorCriticVariant) {
        self.length = length
        self.gamma = gamma
        self.reward = reward
        self.lrActor = lrActor
        self.lrCritic = lrCritic
        self.variant = variant
        theta = [[Double]](repeating: [0, 0], count: length)
        q = theta
        v = [Double](repeating: 0, count: length)
    }

    /// One `pg.actor-critic` transition, in its order of operations.
    mutating func transition(s: Int, a: Int, r: Double, sNext: Int, aNext: Int, done: Bool) {
        let isQAC = variant == .qac
        let estimate = isQAC ? q[s][a] : v[s]
        let bootstrap = done ? 0 : (isQAC ? q[sNext][aNext] : v[sNext])
        let target = r + gamma * bootstrap
        let td = target - estimate
        let updated = estimate + lrCritic * td
        let advantage = isQAC ? updated : td
        let grad = SoftmaxPolicy(theta[s]).scoreFunction(a)
        let actorStep = scaledStep(lrActor * advantage, grad)
        theta[s] = zip(theta[s], actorStep).map { $0 + $1 }
        if isQAC { q[s][a] = updated } else { v[s] = updated }
    }

    /// Runs one episode from state 0 and returns its discounted return.
    mutating func episode(_ rng: inout Xoshiro256StarStar) -> Double {
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

    /// π(right | s) for every state.
    var piRight: [Double] { theta.map { SoftmaxPolicy($0).probabilities[1] } }
}

/// `pg.corridor-train`: QAC or A2C on the corridor for many episodes, over one or more seeds.
public struct CorridorTrainModule: ComputeModule {
    public init() {}
    public let name = "pg.corridor-train"
    public let summary = "QAC or A2C on the lesson's corridor with sampled actions: final policy and critic, learning curve, and the share of seeds that learn to go right."

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
        .choice("variant", ActorCriticVariant.self, default: .a2c, doc: "qac (critic q, actor scaled by q') or a2c (critic v, actor scaled by δ)"),
        .integer("seed", 1, range: .nonNegative, doc: "seed of the generator"),
        .integer("seeds", 1, range: .closed(1, 1_000),
                 doc: "runs with seeds seed … seed + seeds − 1 for the seed_* outputs (seeds × episodes × length ≤ 5,000,000)"),
        .number("threshold", 0.9, range: .unit, doc: "seed_fraction_above counts the runs with π(right) above this in every state"),
    ]
    public let outputs: [OutputSpec] = [
        .init("pi_right", .vector, hint: .chart, doc: "final π(right | s) for each state (first seed)"),
        .init("theta", .matrix, hint: .table, doc: "final actor logits, one row per state, columns [left, right]"),
        .init("v", .vector, doc: "A2C's learned v (zeros for QAC)"),
        .init("q", .matrix, hint: .table, doc: "QAC's learned q, columns [left, right] (zeros for A2C)"),
        .init("v_true", .vector, doc: "the true V of the final policy, for comparison with the critic"),
        .init("q_true", .matrix, hint: .table, doc: "the true q of the final policy"),
        .init("return_curve", .vector, hint: .chart, doc: "mean discounted return in each tenth of the episodes"),
        .init("mean_return", .number, doc: "mean discounted return over all episodes"),
        .init("seed_min_pi_right", .vector, hint: .chart, doc: "for each seed, the smallest final π(right) over the states"),
        .init("seed_fraction_above", .number, hint: .percent,
              doc: "share of seeds whose final π(right) is above threshold in every state"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let length = try inputs.integer("length"), episodes = try inputs.integer("episodes")
        let gamma = try inputs.number("gamma"), reward = try inputs.number("reward")
        let lrActor = try inputs.number("lr_actor"), lrCritic = try inputs.number("lr_critic")
        let variant = try inputs.choice("variant", as: ActorCriticVariant.self)
        let seed = try inputs.integer("seed"), seeds = try inputs.integer("seeds")
        let threshold = try inputs.number("threshold")
        guard seeds <= Self.maxWork / (episodes * length) else {
            throw .invalid("seeds", "is \(seeds) with \(episodes) episodes on \(length) states; seeds × episodes × length may be at most \(Self.maxWork)")
        }
        guard seed <= Int.max - (seeds - 1) else {
            throw .invalid("seeds", "runs seeds up to seed + seeds − 1, past the largest integer; lower seed or seeds")
        }

        var first: CorridorLearner?
        var returns: [Double] = []
        var minima: [Double] = []
        var above = 0
        for k in 0..<seeds {
            try context.checkCancelled()
            var learner = CorridorLearner(length: length, gamma: gamma, reward: reward, lrActor: lrActor,
                                          lrCritic: lrCritic, variant: variant)
            var rng = Xoshiro256StarStar(parameterSeed: seed + k)
            for _ in 0..<episodes {
                let g = learner.episode(&rng)
                if k == 0 { returns.append(g) }
            }
            let minimum = learner.piRight.min() ?? 0
            minima.append(minimum)
            if minimum > threshold { above += 1 }
            if k == 0 { first = learner }
        }
        guard let learner = first else { throw .failed("no run") }
        let piRight = learner.piRight
        let truth = Corridor(piRight: piRight, gamma: gamma, reward: reward)
        // The critics move by convex steps (lr_critic ≤ 1) toward targets bounded by |R|·length, so
        // each actor step is at most lr_actor·|R|·length and θ stays finite over every run allowed.
        return [
            "pi_right": .vector(piRight),
            "theta": .matrix(learner.theta),
            "v": .vector(learner.v),
            "q": .matrix(learner.q),
            "v_true": .vector(truth.values),
            "q_true": .matrix(truth.actionValues),
            "return_curve": .vector(ReinforceModule.tenths(returns)),
            "mean_return": .number(returns.reduce(0, +) / Double(episodes)),
            "seed_min_pi_right": .vector(minima),
            "seed_fraction_above": .number(Double(above) / Double(seeds)),
        ]
    }
}
