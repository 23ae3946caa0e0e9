import Foundation
import NotebookCore

// One actor-critic transition on tabular softmax policies: θ[s] holds the logits of π(·|s).
//
// The critic replaces REINFORCE's sampled return with a learned estimate, updated by temporal
// difference (Sutton, 1988; Konda & Tsitsiklis, 2000, "Actor-critic algorithms"):
//
// - QAC: the critic is q(s, a), updated SARSA-style toward r + γ·q(s', a'); the actor then
//   steps along q'(s, a)·∇ log π(a|s), using the critic it has just updated.
// - A2C: the critic is v(s), updated toward r + γ·v(s'); the TD error
//   δ = r + γ·v(s') − v(s), an estimate of the advantage q(s, a) − v(s), scales the actor step
//   (Mnih et al., 2016, "Asynchronous methods for deep reinforcement learning").
//
// A terminal transition (done) bootstraps nothing: the target is r alone.

/// Which critic the actor-critic step learns, and so what scales the actor's step.
enum ActorCriticVariant: String, CaseIterable {
    /// Critic q(s, a) learned by SARSA; the actor is scaled by the updated q.
    case qac
    /// Critic v(s); the actor is scaled by the TD error δ.
    case a2c
}

/// `pg.actor-critic`: one transition of QAC or A2C with every intermediate number.
public struct ActorCriticModule: ComputeModule {
    public init() {}
    public let name = "pg.actor-critic"
    public let summary = "One actor-critic transition: TD update of the critic (q or v), then a softmax policy step scaled by it."

    static let tableRange = NumberRange.closed(-PolicyLimits.magnitude, PolicyLimits.magnitude)

    public let parameters: [ParameterSpec] = [
        .matrix("theta", [[0, 0], [0, 0]], range: tableRange, maxElements: PolicyLimits.entries,
                doc: "actor logits, S×A: row s holds θ of π(·|s) (|θ| ≤ 1e12)"),
        ParameterSpec(name: "q", kind: .matrix, defaultValue: .computed("zeros, S×A"),
                      doc: "QAC critic q(s, a), S×A like theta (|q| ≤ 1e12)",
                      range: tableRange, maxElements: PolicyLimits.entries),
        ParameterSpec(name: "v", kind: .vector, defaultValue: .computed("zeros, S"),
                      doc: "A2C critic v(s), one entry per state (|v| ≤ 1e12)",
                      range: tableRange, maxElements: PolicyLimits.entries),
        .integer("s", 0, range: .nonNegative, doc: "state of the transition (row of theta)"),
        .integer("a", 0, range: .nonNegative, doc: "action taken in s (column of theta)"),
        .number("r", 1, range: tableRange, doc: "reward received (|r| ≤ 1e12)"),
        .integer("s_next", 0, range: .nonNegative, doc: "next state s' (row of theta)"),
        .integer("a_next", 0, range: .nonNegative, doc: "next action a' (QAC's SARSA target)"),
        .bool("done", false, doc: "s' is terminal: the target is r alone"),
        .number("gamma", 0.9, range: .unit, doc: "discount γ, in [0, 1]"),
        .number("lr_actor", 0.1, range: .closed(0, PolicyLimits.learningRate), doc: "actor step size, in [0, 1e6]"),
        .number("lr_critic", 0.1, range: .closed(0, PolicyLimits.learningRate), doc: "critic step size, in [0, 1e6]"),
        .choice("variant", ActorCriticVariant.self, default: .a2c, doc: "qac (critic q, actor scaled by q') or a2c (critic v, actor scaled by δ)"),
    ]
    public let outputs: [OutputSpec] = [
        .init("pi", .vector, hint: .chart, doc: "π(·|s) before the step"),
        .init("estimate", .number, doc: "the critic's value of the transition before the update: q[s,a] or v[s]"),
        .init("bootstrap", .number, doc: "the next-state value: q[s',a'] or v[s'] (0 when done)"),
        .init("td_target", .number, doc: "r + γ·bootstrap"),
        .init("td_error", .number, doc: "td_target − estimate"),
        .init("q_new", .matrix, hint: .table, doc: "QAC: q with q[s,a] += lr_critic·td_error (A2C: q unchanged)"),
        .init("v_new", .vector, doc: "A2C: v with v[s] += lr_critic·td_error (QAC: v unchanged)"),
        .init("advantage", .number, doc: "the factor scaling the actor step: q'[s,a] (QAC) or td_error (A2C)"),
        .init("grad_log_pi", .vector, doc: "∇ log π(a|s) with respect to θ[s]: onehot(a) − π(·|s)"),
        .init("actor_step", .vector, doc: "lr_actor · advantage · grad_log_pi, added to θ[s]"),
        .init("theta_new", .matrix, hint: .table, doc: "theta with row s stepped"),
        .init("new_pi", .vector, hint: .chart, doc: "π(·|s) after the step"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let theta = try inputs.matrix("theta")
        let states = theta.count, actions = theta[0].count
        let q: [[Double]]
        if inputs["q"] != nil {
            q = try inputs.matrix("q")
            guard q.count == states, q[0].count == actions else {
                throw .invalid("q", "is \(q.count)×\(q[0].count) but theta is \(states)×\(actions); q needs one row per state and one column per action, like theta")
            }
        } else {
            q = [[Double]](repeating: [Double](repeating: 0, count: actions), count: states)
        }
        let v: [Double]
        if inputs["v"] != nil {
            v = try inputs.vector("v")
            guard v.count == states else {
                throw .invalid("v", "has \(v.count) entries but theta has \(states) rows; v needs one value per state")
            }
        } else {
            v = [Double](repeating: 0, count: states)
        }
        let s = try inputs.integer("s"), a = try inputs.integer("a")
        let sNext = try inputs.integer("s_next"), aNext = try inputs.integer("a_next")
        let stateWhat = "states (rows of theta)", actionWhat = "actions (columns of theta)"
        try checkIndex(s, below: states, parameter: "s", of: stateWhat)
        try checkIndex(a, below: actions, parameter: "a", of: actionWhat)
        try checkIndex(sNext, below: states, parameter: "s_next", of: stateWhat)
        try checkIndex(aNext, below: actions, parameter: "a_next", of: actionWhat)
        let r = try inputs.number("r")
        let done = try inputs.bool("done")
        let gamma = try inputs.number("gamma")
        let lrActor = try inputs.number("lr_actor"), lrCritic = try inputs.number("lr_critic")
        let isQAC = try inputs.choice("variant", as: ActorCriticVariant.self) == .qac

        let estimate = isQAC ? q[s][a] : v[s]
        let bootstrap = done ? 0 : (isQAC ? q[sNext][aNext] : v[sNext])
        let target = r + gamma * bootstrap
        let td = target - estimate
        let updated = estimate + lrCritic * td

        // QAC's actor reads the critic after its update (`derive modules pg.actor-critic`): the step uses q'[s, a].
        let advantage = isQAC ? updated : td
        let policy = SoftmaxPolicy(theta[s])
        let grad = policy.scoreFunction(a)
        let step = lrActor * advantage
        let actorStep = scaledStep(step, grad)
        var thetaNew = theta
        thetaNew[s] = zip(theta[s], actorStep).map { $0 + $1 }

        var outputs: Outputs = [
            "pi": .vector(policy.probabilities),
            "estimate": .number(estimate),
            "bootstrap": .number(bootstrap),
            "td_target": .number(target),
            "td_error": .number(td),
        ]
        // Both tables are always returned; the one the variant does not learn passes through
        // unchanged, so a chain of cells can carry q and v alike.
        var qNew = q, vNew = v
        if isQAC { qNew[s][a] = updated } else { vNew[s] = updated }
        outputs["q_new"] = .matrix(qNew)
        outputs["v_new"] = .vector(vNew)
        outputs["advantage"] = .number(advantage)
        outputs["grad_log_pi"] = .vector(grad)
        outputs["actor_step"] = .vector(actorStep)
        outputs["theta_new"] = .matrix(thetaNew)
        outputs["new_pi"] = .vector(SoftmaxPolicy(thetaNew[s]).probabilities)
        return outputs
    }
}
