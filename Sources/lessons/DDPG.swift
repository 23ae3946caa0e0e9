import Foundation
import NotebookCore

// One DDPG update (Lillicrap et al., 2016, "Continuous control with deep reinforcement
// learning"; the deterministic policy gradient of Silver et al., 2014) with the smallest
// function classes that keep every piece visible:
//
// - the actor is linear, μ(s) = θ·s, so ∇θ μ(s) = s;
// - the critic is linear in the state and quadratic in the action,
//   Q(s, a) = w[0..<ds]·s + w[ds]·a + w[ds+1]·a², so ∂Q/∂a = w[ds] + 2·w[ds+1]·a moves with a
//   (a critic linear in a would give the same actor gradient at every action).
//
// The critic regresses on the TD target y = r + γ(1 − done)·Q_target(s', μ_target(s')) by a
// semi-gradient step: y is held fixed, as if it were a label. The actor then climbs the
// updated critic along the chain rule ∇θ Q(s, μ(s)) = ∂Q/∂a · ∇θ μ(s), and both target
// networks trail the learned ones by Polyak averaging with rate τ.

/// The critic Q(s, a) = w[0..<ds]·s + w[ds]·a + w[ds+1]·a².
struct QuadraticActionCritic {
    /// w: ds state weights, then the weights of a and of a².
    let weights: [Double]

    /// [s, a, a²]: Q is the inner product of these with `weights`, and so ∂Q/∂w.
    static func features(_ s: [Double], _ a: Double) -> [Double] {
        s + [a, a * a]
    }

    func value(_ s: [Double], _ a: Double) -> Double {
        innerProduct(weights, Self.features(s, a))
    }

    /// ∂Q/∂a at action a: w[ds] + 2·w[ds+1]·a.
    func actionGradient(at a: Double) -> Double {
        let ds = weights.count - 2
        return weights[ds] + 2 * weights[ds + 1] * a
    }
}

fileprivate func innerProduct(_ x: [Double], _ y: [Double]) -> Double {
    var total = 0.0
    for (a, b) in zip(x, y) { total += a * b }
    return total
}

/// Polyak averaging τ·learned + (1 − τ)·target, entry by entry.
fileprivate func softUpdate(_ learned: [Double], toward target: [Double], rate tau: Double) -> [Double] {
    zip(learned, target).map { tau * $0 + (1 - tau) * $1 }
}

/// One DDPG transition: every intermediate of the critic, actor and target updates.
struct DDPGStep {
    /// μ(s) = θ·s, the actor's action in s (not necessarily the action taken).
    let mu: Double
    /// Q(s, a) of the action taken, before the update.
    let q: Double
    /// μ_target(s'), the target actor's action in the next state.
    let targetAction: Double
    /// Q_target(s', μ_target(s')), the bootstrapped value of the next state.
    let targetNextQ: Double
    /// y = r + γ(1 − done)·Q_target(s', μ_target(s')).
    let target: Double
    /// δ = y − Q(s, a).
    let tdError: Double
    /// [s, a, a²], the critic's features of the taken pair.
    let features: [Double]
    /// w' = w + lr_critic·δ·[s, a, a²].
    let wNew: [Double]
    /// ∂Q'/∂a at a = μ(s), for the updated critic.
    let dqda: Double
    /// ∇θ Q'(s, μ(s)) = dq_da · s.
    let actorGrad: [Double]
    /// θ' = θ + lr_actor·∇θ J.
    let thetaNew: [Double]
    let thetaTargetNew: [Double]
    let wTargetNew: [Double]

    init(s: [Double], a: Double, r: Double, sNext: [Double], done: Bool,
         theta: [Double], w: [Double], thetaTarget: [Double], wTarget: [Double],
         gamma: Double, lrActor: Double, lrCritic: Double, tau: Double) {
        let critic = QuadraticActionCritic(weights: w)
        mu = innerProduct(theta, s)
        q = critic.value(s, a)
        targetAction = innerProduct(thetaTarget, sNext)
        targetNextQ = QuadraticActionCritic(weights: wTarget).value(sNext, targetAction)
        target = r + (done ? 0 : gamma * targetNextQ)
        let td = target - q
        tdError = td
        features = QuadraticActionCritic.features(s, a)
        let updatedCritic = zip(w, features).map { $0 + lrCritic * td * $1 }
        wNew = updatedCritic
        // The actor climbs the critic it has just updated (`derive modules ddpg.step`), at its own action μ(s).
        let slope = QuadraticActionCritic(weights: updatedCritic).actionGradient(at: mu)
        dqda = slope
        let gradient = s.map { slope * $0 }
        actorGrad = gradient
        thetaNew = zip(theta, gradient).map { $0 + lrActor * $1 }
        thetaTargetNew = softUpdate(thetaNew, toward: thetaTarget, rate: tau)
        wTargetNew = softUpdate(updatedCritic, toward: wTarget, rate: tau)
    }
}

/// `ddpg.step`: one DDPG update with a linear actor and a critic quadratic in the action.
public struct DDPGStepModule: ComputeModule {
    public init() {}
    public let name = "ddpg.step"
    public let summary = "One DDPG update: TD step of a critic quadratic in a, actor step along ∂Q/∂a·s, Polyak-averaged targets."

    /// Inputs up to 1e12 in size and at most `maxStateDimension` state entries keep every
    /// product (a² up to 1e24, Q, δ, w', ∂Q/∂a, θ') below about 1e150: finite in Double.
    static let valueRange = NumberRange.closed(-PolicyLimits.magnitude, PolicyLimits.magnitude)
    static let maxStateDimension = 1_000

    public let parameters: [ParameterSpec] = [
        .vector("s", [1, 0.5], range: valueRange, maxElements: maxStateDimension,
                doc: "state s, ds entries"),
        .number("a", 0.2, range: valueRange, doc: "the action taken in s (it need not be μ(s): exploration noise)"),
        .number("r", 1, range: valueRange, doc: "reward received"),
        .vector("s_next", [0.5, -1], range: valueRange, maxElements: maxStateDimension,
                doc: "next state s', ds entries like s"),
        .bool("done", false, doc: "s' is terminal: y = r, nothing is bootstrapped"),
        .vector("theta", [0.4, -0.2], range: valueRange, maxElements: maxStateDimension,
                doc: "actor weights θ, ds entries: μ(s) = θ·s"),
        .vector("w", [0.5, -0.3, 1, -0.8], range: valueRange, maxElements: maxStateDimension + 2,
                doc: "critic weights, ds + 2 entries: Q(s, a) = w[0..<ds]·s + w[ds]·a + w[ds+1]·a²"),
        ParameterSpec(name: "theta_target", kind: .vector, defaultValue: .computed("theta"),
                      doc: "target actor weights θ_target, ds entries (default: a copy of theta, as at the start of training)",
                      range: valueRange, maxElements: maxStateDimension),
        ParameterSpec(name: "w_target", kind: .vector, defaultValue: .computed("w"),
                      doc: "target critic weights w_target, ds + 2 entries (default: a copy of w)",
                      range: valueRange, maxElements: maxStateDimension + 2),
        .number("gamma", 0.99, range: .unit, doc: "discount γ"),
        .number("lr_actor", 0.01, range: .closed(0, PolicyLimits.learningRate), doc: "actor step size"),
        .number("lr_critic", 0.01, range: .closed(0, PolicyLimits.learningRate), doc: "critic step size"),
        .number("tau", 0.005, range: .unit, doc: "Polyak rate τ of the target networks (1 copies, 0 freezes)"),
    ]
    public let outputs: [OutputSpec] = [
        .init("mu", .number, doc: "μ(s) = θ·s, the actor's action in s"),
        .init("q", .number, doc: "Q(s, a) of the action taken, before the update"),
        .init("target_q", .number, doc: "the TD target y = r + γ(1 − done)·Q_target(s', μ_target(s'))"),
        .init("td_error", .number, doc: "δ = y − Q(s, a)"),
        .init("critic_loss", .number, doc: "½δ², the critic's squared error before the update"),
        .init("w_new", .vector, doc: "w' = w + lr_critic·δ·[s, a, a²]: a semi-gradient step on ½δ² (y held fixed)"),
        .init("dq_da", .number, doc: "∂Q'/∂a at a = μ(s), with the updated critic: w'[ds] + 2·w'[ds+1]·μ(s)"),
        .init("actor_grad", .vector, doc: "∇θ J = dq_da · s (the chain rule through μ(s) = θ·s)"),
        .init("theta_new", .vector, doc: "θ' = θ + lr_actor·∇θ J"),
        .init("theta_target_new", .vector, doc: "τθ' + (1 − τ)θ_target"),
        .init("w_target_new", .vector, doc: "τw' + (1 − τ)w_target"),
        .init("target_action", .number, doc: "μ_target(s') = θ_target·s', the action the target actor bootstraps with"),
        .init("target_next_q", .number, doc: "Q_target(s', μ_target(s')), the value bootstrapped (used unless done)"),
        .init("critic_grad", .vector, doc: "∂(½δ²)/∂w with y held fixed: −δ·[s, a, a²]; w' = w − lr_critic·critic_grad"),
        .init("q_new", .number, doc: "Q'(s, a) with the updated critic: moved from q toward y"),
        .init("mu_new", .number, doc: "μ'(s) = θ'·s, the updated actor's action in s"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let s = try inputs.vector("s")
        let ds = s.count
        let sNext = try inputs.vector("s_next")
        let theta = try inputs.vector("theta")
        let w = try inputs.vector("w")
        let stateWhat = "s has \(countedNoun(ds, "entry", "entries"))"
        guard sNext.count == ds else {
            throw .invalid("s_next", "has \(countedNoun(sNext.count, "entry", "entries")) but \(stateWhat); both states need the same ds")
        }
        guard theta.count == ds else {
            throw .invalid("theta", "has \(countedNoun(theta.count, "entry", "entries")) but \(stateWhat); μ(s) = θ·s needs one weight per state entry")
        }
        guard w.count == ds + 2 else {
            throw .invalid("w", "has \(countedNoun(w.count, "entry", "entries")) but \(stateWhat); the critic needs ds + 2 = \(ds + 2) (state weights, then the weights of a and a²)")
        }
        let thetaTarget = inputs["theta_target"] == nil ? theta : try inputs.vector("theta_target")
        guard thetaTarget.count == ds else {
            throw .invalid("theta_target", "has \(countedNoun(thetaTarget.count, "entry", "entries")) but \(stateWhat); the target actor is shaped like theta")
        }
        let wTarget = inputs["w_target"] == nil ? w : try inputs.vector("w_target")
        guard wTarget.count == ds + 2 else {
            throw .invalid("w_target", "has \(countedNoun(wTarget.count, "entry", "entries")) but needs ds + 2 = \(ds + 2), like w")
        }
        let a = try inputs.number("a")
        let step = DDPGStep(
            s: s, a: a, r: try inputs.number("r"), sNext: sNext, done: try inputs.bool("done"),
            theta: theta, w: w, thetaTarget: thetaTarget, wTarget: wTarget,
            gamma: try inputs.number("gamma"), lrActor: try inputs.number("lr_actor"),
            lrCritic: try inputs.number("lr_critic"), tau: try inputs.number("tau"))
        return [
            "mu": .number(step.mu),
            "q": .number(step.q),
            "target_q": .number(step.target),
            "td_error": .number(step.tdError),
            "critic_loss": .number(0.5 * step.tdError * step.tdError),
            "w_new": .vector(step.wNew),
            "dq_da": .number(step.dqda),
            "actor_grad": .vector(step.actorGrad),
            "theta_new": .vector(step.thetaNew),
            "theta_target_new": .vector(step.thetaTargetNew),
            "w_target_new": .vector(step.wTargetNew),
            "target_action": .number(step.targetAction),
            "target_next_q": .number(step.targetNextQ),
            // `+ 0` writes a zero gradient entry as 0, not −0.
            "critic_grad": .vector(step.features.map { -step.tdError * $0 + 0 }),
            "q_new": .number(QuadraticActionCritic(weights: step.wNew).value(s, a)),
            "mu_new": .number(innerProduct(step.thetaNew, s)),
        ]
    }
}
