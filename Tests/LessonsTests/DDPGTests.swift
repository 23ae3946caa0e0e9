import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// Q(s, a) = w[0..<ds]·s + w[ds]·a + w[ds+1]·a², written out here rather than taken from the module.
fileprivate func criticValue(_ w: [Double], _ s: [Double], _ a: Double) -> Double {
    var total = 0.0
    for (wi, si) in zip(w, s) { total += wi * si }
    return total + w[s.count] * a + w[s.count + 1] * a * a
}

fileprivate func dot(_ x: [Double], _ y: [Double]) -> Double {
    zip(x, y).reduce(0) { $0 + $1.0 * $1.1 }
}

/// `ddpg.step`: numpy fixtures, a transition by hand, finite-difference gradients, the
/// semi-gradient, terminal transitions, target rates and bad input.
final class DDPGTests: XCTestCase {
    let module = DDPGStepModule()

    func testMatchesNumpyFixture() throws {
        let fixture = try XCTUnwrap(loadFixture("ddpg.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 11)
        for (n, c) in cases.enumerated() {
            let p = try XCTUnwrap(c["params"] as? [String: Any])
            var values: [String: Value] = ["done": .bool(try XCTUnwrap(p["done"] as? Bool))]
            for name in ["s", "s_next", "theta", "w", "theta_target", "w_target"] where p[name] != nil {
                values[name] = .vector(fixtureVector(p[name]))
            }
            for name in ["a", "r", "gamma", "lr_actor", "lr_critic", "tau"] {
                values[name] = .number(try XCTUnwrap(fixtureNumber(p[name])))
            }
            let out = try evaluate(module, values)
            for name in ["mu", "q", "target_action", "target_next_q", "target_q", "td_error", "critic_loss",
                         "dq_da", "q_new", "mu_new"] {
                let expected = try XCTUnwrap(fixtureNumber(c[name]))
                assertClose(out.number(name), expected, tol: 1e-12 * max(1, abs(expected)), "\(name) case \(n)")
            }
            for name in ["w_new", "actor_grad", "theta_new", "theta_target_new", "w_target_new"] {
                assertClose(out.vector(name), fixtureVector(c[name]), tol: 1e-12, "\(name) case \(n)")
            }
        }
    }

    /// ds = 1: s = 2, a = 1, r = 0.5, s' = 1, θ = 0.5, w = (1, 2, −1), θ_t = 1, w_t = (0, 1, −0.5),
    /// γ = 0.9, both rates 0.1, τ = 0.5.
    /// Q(s, a) = 1·2 + 2·1 − 1·1 = 3. μ_t(s') = 1, Q_t(s', 1) = 0 + 1 − 0.5 = 0.5, so
    /// y = 0.5 + 0.9·0.5 = 0.95 and δ = −2.05. Features (2, 1, 1): w' = w − 0.205·(2, 1, 1) =
    /// (0.59, 1.795, −1.205). μ(s) = 1, so dq_da = 1.795 − 2·1.205 = −0.615, ∇θ J = −0.615·2 =
    /// −1.23 and θ' = 0.5 − 0.123 = 0.377. Targets: θ_t' = ½(0.377 + 1) = 0.6885,
    /// w_t' = ½(w' + w_t) = (0.295, 1.3975, −0.8525). Q'(s, a) = 1.18 + 1.795 − 1.205 = 1.77.
    func testTransitionByHand() throws {
        let out = try evaluate(module, [
            "s": .vector([2]), "a": .number(1), "r": .number(0.5), "s_next": .vector([1]),
            "theta": .vector([0.5]), "w": .vector([1, 2, -1]), "theta_target": .vector([1]),
            "w_target": .vector([0, 1, -0.5]), "gamma": .number(0.9), "lr_actor": .number(0.1),
            "lr_critic": .number(0.1), "tau": .number(0.5),
        ])
        XCTAssertEqual(out.number("mu"), 1)
        XCTAssertEqual(out.number("q"), 3)
        XCTAssertEqual(out.number("target_action"), 1)
        XCTAssertEqual(out.number("target_next_q"), 0.5)
        assertClose(out.number("target_q"), 0.95, tol: 1e-15)
        assertClose(out.number("td_error"), -2.05, tol: 1e-15)
        assertClose(out.number("critic_loss"), 2.10125, tol: 1e-14)
        assertClose(out.vector("w_new"), [0.59, 1.795, -1.205], tol: 1e-15)
        assertClose(out.number("dq_da"), -0.615, tol: 1e-15)
        assertClose(out.vector("actor_grad"), [-1.23], tol: 1e-15)
        assertClose(out.vector("theta_new"), [0.377], tol: 1e-15)
        assertClose(out.vector("theta_target_new"), [0.6885], tol: 1e-15)
        assertClose(out.vector("w_target_new"), [0.295, 1.3975, -0.8525], tol: 1e-15)
        assertClose(out.number("q_new"), 1.77, tol: 1e-14)
        assertClose(out.number("mu_new"), 0.754, tol: 1e-15)
        assertClose(out.vector("critic_grad"), [4.1, 2.05, 2.05], tol: 1e-14)
        XCTAssertEqual(out.vector("features"), [2, 1, 1])
        XCTAssertEqual(out.vector("mu_terms"), [1])
        XCTAssertEqual(out.vector("q_terms"), [2, 2, -1])
        XCTAssertEqual(out.vector("target_action_terms"), [1])
        XCTAssertEqual(out.vector("target_next_q_terms"), [0, 1, -0.5])
    }

    /// The term outputs add up to the values they break down, for random shapes and inputs.
    func testTermsSumToTheirValues() throws {
        var random = TestRandom(seed: 43)
        for ds in [1, 2, 5] {
            let s = random.vector(ds, in: -2...2), sNext = random.vector(ds, in: -2...2)
            let out = try evaluate(module, [
                "s": .vector(s), "a": .number(Double.random(in: -1...1, using: &random)), "s_next": .vector(sNext),
                "theta": .vector(random.vector(ds, in: -1...1)), "w": .vector(random.vector(ds + 2, in: -1...1)),
                "theta_target": .vector(random.vector(ds, in: -1...1)),
                "w_target": .vector(random.vector(ds + 2, in: -1...1)),
            ])
            assertClose(out.vector("mu_terms").reduce(0, +), out.number("mu"), tol: 1e-12)
            assertClose(out.vector("q_terms").reduce(0, +), out.number("q"), tol: 1e-12)
            assertClose(out.vector("target_action_terms").reduce(0, +), out.number("target_action"), tol: 1e-12)
            assertClose(out.vector("target_next_q_terms").reduce(0, +), out.number("target_next_q"), tol: 1e-12)
            XCTAssertEqual(Array(out.vector("features").prefix(ds)), s)
        }
    }

    func testGradientsMatchFiniteDifferences() throws {
        var random = TestRandom(seed: 41)
        for ds in [1, 2, 3, 6] {
            for _ in 0..<3 {
                let s = random.vector(ds, in: -2...2), sNext = random.vector(ds, in: -2...2)
                let theta = random.vector(ds, in: -1...1), w = random.vector(ds + 2, in: -1...1)
                let a = Double.random(in: -1.5...1.5, using: &random)
                let out = try evaluate(module, [
                    "s": .vector(s), "a": .number(a), "r": .number(Double.random(in: -1...1, using: &random)),
                    "s_next": .vector(sNext), "theta": .vector(theta), "w": .vector(w),
                    "theta_target": .vector(random.vector(ds, in: -1...1)),
                    "w_target": .vector(random.vector(ds + 2, in: -1...1)),
                    "lr_actor": .number(0.3), "lr_critic": .number(0.2),
                ])
                let label = "ds=\(ds)"
                let wNew = out.vector("w_new"), y = out.number("target_q")
                // ∂Q'/∂a at a = μ(s) for the updated critic.
                let mu = dot(theta, s)
                let dqda = numericalGradient([mu]) { criticValue(wNew, s, $0[0]) }[0]
                assertClose(out.number("dq_da"), dqda, tol: 1e-8, label)
                // ∇θ Q'(s, θ·s): the chain rule through the actor.
                let actorGrad = numericalGradient(theta) { criticValue(wNew, s, dot($0, s)) }
                assertClose(out.vector("actor_grad"), actorGrad, tol: 1e-8, label)
                assertClose(out.vector("theta_new"), zip(theta, actorGrad).map { $0 + 0.3 * $1 }, tol: 1e-8, label)
                // ∂(½δ²)/∂w with y fixed, and w' as a descent step along it.
                let criticGrad = numericalGradient(w) { w in 0.5 * pow(y - criticValue(w, s, a), 2) }
                assertClose(out.vector("critic_grad"), criticGrad, tol: 1e-7, label)
                assertClose(wNew, zip(w, criticGrad).map { $0 - 0.2 * $1 }, tol: 1e-7, label)
                // Q is linear in w, so the step moves Q(s, a) by lr·δ·|[s, a, a²]|² toward y.
                let features = s + [a, a * a]
                assertClose(out.number("q_new") - out.number("q"),
                            0.2 * out.number("td_error") * dot(features, features), tol: 1e-12, label)
            }
        }
    }

    /// With the target networks left at their default (copies of θ and w), y depends on w; the
    /// critic still steps along the semi-gradient that holds y fixed, which differs from the
    /// gradient of ½δ² taken through y as well.
    func testCriticUsesTheSemiGradientEvenWhenTheTargetIsACopy() throws {
        let s = [1.0, 0.5], sNext = [0.5, -1.0], theta = [0.4, -0.2], w = [0.5, -0.3, 1, -0.8]
        let a = 0.2, r = 1.0, gamma = 0.99
        let out = try evaluate(module, [:])
        func fullLoss(_ w: [Double]) -> Double {
            let y = r + gamma * criticValue(w, sNext, dot(theta, sNext))
            return 0.5 * pow(y - criticValue(w, s, a), 2)
        }
        let semi = numericalGradient(w) { w in 0.5 * pow(out.number("target_q") - criticValue(w, s, a), 2) }
        let full = numericalGradient(w, fullLoss)
        assertClose(out.vector("critic_grad"), semi, tol: 1e-8)
        let gap = zip(out.vector("critic_grad"), full).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(gap, 0.1, "the full gradient through y should differ")
    }

    func testDefaultTargetsAreCopiesOfTheLearnedWeights() throws {
        let implicit = try evaluate(module, [:])
        let explicit = try evaluate(module, ["theta_target": .vector([0.4, -0.2]), "w_target": .vector([0.5, -0.3, 1, -0.8])])
        for name in module.outputs.map(\.name) {
            XCTAssertEqual(implicit[name], explicit[name], name)
        }
        XCTAssertEqual(implicit.number("target_action"), 0.5 * 0.4 + -1 * -0.2)
    }

    /// The defaults have Q(s, a) = 0.5·1 − 0.3·0.5 + 1·0.2 − 0.8·0.04 = 0.518.
    func testTerminalTransitionBootstrapsNothing() throws {
        for (thetaTarget, wTarget) in [([0.0, 0.0], [0.0, 0, 0, 0]), ([5.0, -3.0], [9.0, 9, 9, 9])] {
            let out = try evaluate(module, ["done": .bool(true), "r": .number(-0.75),
                                            "theta_target": .vector(thetaTarget), "w_target": .vector(wTarget)])
            XCTAssertEqual(out.number("target_q"), -0.75)
            assertClose(out.number("td_error"), -0.75 - 0.518, tol: 1e-15)
        }
        let zeroDiscount = try evaluate(module, ["gamma": .number(0), "r": .number(-0.75)])
        XCTAssertEqual(zeroDiscount.number("target_q"), -0.75)
    }

    func testRatesAtTheirEndpoints() throws {
        // τ = 1 copies the learned weights into the targets; τ = 0 freezes them.
        let copy = try evaluate(module, ["tau": .number(1)])
        XCTAssertEqual(copy.vector("theta_target_new"), copy.vector("theta_new"))
        XCTAssertEqual(copy.vector("w_target_new"), copy.vector("w_new"))
        let frozen = try evaluate(module, ["tau": .number(0), "theta_target": .vector([1, 2]),
                                           "w_target": .vector([3, 4, 5, 6])])
        XCTAssertEqual(frozen.vector("theta_target_new"), [1, 2])
        XCTAssertEqual(frozen.vector("w_target_new"), [3, 4, 5, 6])
        // Zero learning rates: nothing learned, but δ and the gradients are still shown.
        let still = try evaluate(module, ["lr_actor": .number(0), "lr_critic": .number(0)])
        XCTAssertEqual(still.vector("w_new"), [0.5, -0.3, 1, -0.8])
        XCTAssertEqual(still.vector("theta_new"), [0.4, -0.2])
        XCTAssertEqual(still.number("q_new"), still.number("q"))
        // With an unchanged critic, dq_da is the old critic's slope at μ(s) = 0.3: 1 − 1.6·0.3.
        assertClose(still.number("dq_da"), 1 - 1.6 * 0.3, tol: 1e-15)
    }

    func testLargeValuesStayFinite() throws {
        let big = 1e12
        let out = try evaluate(module, [
            "s": .vector([big, -big]), "a": .number(big), "r": .number(big), "s_next": .vector([-big, big]),
            "theta": .vector([big, big]), "w": .vector([big, -big, big, big]), "lr_actor": .number(1e6),
            "lr_critic": .number(1e6),
        ])
        for spec in module.outputs {
            switch out[spec.name] {
            case .number(let x)?: XCTAssertTrue(x.isFinite, spec.name)
            case .vector(let xs)?: XCTAssertTrue(xs.allSatisfy(\.isFinite), spec.name)
            default: XCTFail("\(spec.name) missing")
            }
        }
    }

    func testMismatchedShapesAndBadValuesNameTheParameter() {
        XCTAssertEqual(evaluationError(module, ["s_next": .vector([1, 2, 3])])?.parameter, "s_next")
        XCTAssertEqual(evaluationError(module, ["theta": .vector([1])])?.parameter, "theta")
        XCTAssertEqual(evaluationError(module, ["w": .vector([1, 2, 3])])?.parameter, "w")
        XCTAssertEqual(evaluationError(module, ["w": .vector([1, 2, 3, 4, 5])])?.parameter, "w")
        XCTAssertEqual(evaluationError(module, ["theta_target": .vector([1, 2, 3])])?.parameter, "theta_target")
        XCTAssertEqual(evaluationError(module, ["w_target": .vector([1, 2])])?.parameter, "w_target")
        // A one-entry state with the two-entry defaults: theta is the first to disagree after s_next.
        XCTAssertEqual(evaluationError(module, ["s": .vector([1]), "s_next": .vector([1])])?.parameter, "theta")
        XCTAssertEqual(evaluationError(module, ["a": .number(.nan)])?.parameter, "a")
        XCTAssertEqual(evaluationError(module, ["s": .vector([.infinity, 1])])?.parameter, "s")
        XCTAssertEqual(evaluationError(module, ["gamma": .number(1.5)])?.parameter, "gamma")
        XCTAssertEqual(evaluationError(module, ["tau": .number(-0.1)])?.parameter, "tau")
        XCTAssertEqual(evaluationError(module, ["lr_critic": .number(-1)])?.parameter, "lr_critic")
        XCTAssertEqual(evaluationError(module, ["r": .number(1e13)])?.parameter, "r")
        let message = evaluationError(module, ["w": .vector([1, 2, 3])])?.message ?? ""
        XCTAssertTrue(message.contains("ds + 2 = 4"), message)
    }
}
