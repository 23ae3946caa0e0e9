import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// `pg.actor-critic`: hand-derived transitions, numpy fixtures, finite differences, chaining,
/// bad input.
final class PolicyGradientActorCriticTests: XCTestCase {
    let module = ActorCriticModule()

    func testMatchesNumpyFixture() throws {
        let fixture = try XCTUnwrap(loadFixture("actor_critic.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["actor_critic"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 7)
        for c in cases {
            let variant = try XCTUnwrap(c["variant"] as? String)
            var values: [String: Value] = [
                "theta": .matrix(fixtureMatrix(c["theta"])), "q": .matrix(fixtureMatrix(c["q"])),
                "v": .vector(fixtureVector(c["v"])), "done": .bool(try XCTUnwrap(c["done"] as? Bool)),
                "variant": .text(variant),
            ]
            for name in ["s", "a", "s_next", "a_next"] { values[name] = .integer(try XCTUnwrap(c[name] as? Int)) }
            for name in ["r", "gamma", "lr_actor", "lr_critic"] {
                values[name] = .number(try XCTUnwrap(fixtureNumber(c[name])))
            }
            let out = try evaluate(module, values)
            let label = "case \(variant) s=\(values["s"]!.displayText)"
            for name in ["estimate", "bootstrap", "td_target", "td_error", "advantage"] {
                assertClose(out.number(name), try XCTUnwrap(fixtureNumber(c[name])), tol: 1e-15, "\(name) \(label)")
            }
            for name in ["pi", "grad_log_pi", "new_pi"] {
                assertClose(out.vector(name), fixtureVector(c[name]), tol: 1e-15, "\(name) \(label)")
            }
            assertClose(out.matrix("theta_new"), fixtureMatrix(c["theta_new"]), tol: 1e-15, label)
            if variant == "qac" {
                assertClose(out.matrix("q_new"), fixtureMatrix(c["q_new"]), tol: 1e-15, label)
                XCTAssertEqual(out.vector("v_new"), fixtureVector(c["v"]), "QAC passes v through \(label)")
            } else {
                assertClose(out.vector("v_new"), fixtureVector(c["v_new"]), tol: 1e-15, label)
                XCTAssertEqual(out.matrix("q_new"), fixtureMatrix(c["q"]), "A2C passes q through \(label)")
            }
        }
    }

    /// A2C by hand: θ = 0, v = (0, 0.5), s = 0, a = 1, r = 1, s' = 1, γ = 0.9, α_actor = 0.1,
    /// α_critic = 0.5. Target 1 + 0.9·0.5 = 1.45; δ = 1.45 − 0 = 1.45; v'(0) = 0.725;
    /// π = (½, ½), ∇ = (−½, ½), step = 0.1·1.45·∇ = (−0.0725, 0.0725).
    func testA2CTransitionByHand() throws {
        let out = try evaluate(module, [
            "theta": .matrix([[0, 0], [0, 0]]), "v": .vector([0, 0.5]), "s": .integer(0), "a": .integer(1),
            "r": .number(1), "s_next": .integer(1), "gamma": .number(0.9), "lr_actor": .number(0.1),
            "lr_critic": .number(0.5), "variant": .text("a2c"),
        ])
        XCTAssertEqual(out.vector("pi"), [0.5, 0.5])
        XCTAssertEqual(out.number("estimate"), 0)
        XCTAssertEqual(out.number("bootstrap"), 0.5)
        XCTAssertEqual(out.number("td_target"), 1.45, accuracy: 1e-15)
        XCTAssertEqual(out.number("td_error"), 1.45, accuracy: 1e-15)
        XCTAssertEqual(out.number("advantage"), 1.45, accuracy: 1e-15)
        assertClose(out.vector("v_new"), [0.725, 0.5], tol: 1e-15)
        XCTAssertEqual(out.vector("grad_log_pi"), [-0.5, 0.5])
        assertClose(out.vector("actor_step"), [-0.0725, 0.0725], tol: 1e-16)
        assertClose(out.matrix("theta_new"), [[-0.0725, 0.0725], [0, 0]], tol: 1e-16)
        let up = 1 / (1 + exp(-0.145))
        assertClose(out.vector("new_pi"), [1 - up, up], tol: 1e-15)
    }

    /// QAC by hand: q = ((0, 0), (2, −1)), s = 0, a = 0, r = 0.5, s' = 1, a' = 0, γ = 0.5,
    /// α_critic = 0.5, α_actor = 1. Target 0.5 + 0.5·2 = 1.5; δ = 1.5; q'(0, 0) = 0.75, and the
    /// actor uses 0.75 (neither the old 0 nor δ): step = 0.75·(½, −½).
    func testQACTransitionByHand() throws {
        let out = try evaluate(module, [
            "theta": .matrix([[0, 0], [0, 0]]), "q": .matrix([[0, 0], [2, -1]]), "s": .integer(0),
            "a": .integer(0), "r": .number(0.5), "s_next": .integer(1), "a_next": .integer(0),
            "gamma": .number(0.5), "lr_actor": .number(1), "lr_critic": .number(0.5), "variant": .text("qac"),
        ])
        XCTAssertEqual(out.number("estimate"), 0)
        XCTAssertEqual(out.number("bootstrap"), 2)
        XCTAssertEqual(out.number("td_target"), 1.5)
        XCTAssertEqual(out.number("td_error"), 1.5)
        XCTAssertEqual(out.matrix("q_new"), [[0.75, 0], [2, -1]])
        XCTAssertEqual(out.number("advantage"), 0.75)
        XCTAssertEqual(out.vector("actor_step"), [0.375, -0.375])
        XCTAssertEqual(out.matrix("theta_new"), [[0.375, -0.375], [0, 0]])
        let up = 1 / (1 + exp(-0.75))
        assertClose(out.vector("new_pi"), [up, 1 - up], tol: 1e-15)
    }

    func testTerminalTransitionIgnoresNextState() throws {
        for variant in ["qac", "a2c"] {
            let base: [String: Value] = [
                "theta": .matrix([[0.1, 0.2], [0.3, 0.4]]), "q": .matrix([[1, 2], [30, 40]]),
                "v": .vector([1, 50]), "s": .integer(0), "a": .integer(1), "r": .number(-2),
                "s_next": .integer(1), "a_next": .integer(1), "variant": .text(variant),
            ]
            var terminal = base
            terminal["done"] = .bool(true)
            let out = try evaluate(module, terminal)
            XCTAssertEqual(out.number("bootstrap"), 0, variant)
            XCTAssertEqual(out.number("td_target"), -2, variant)
            XCTAssertEqual(out.number("td_error"), variant == "qac" ? -4 : -3, variant)
            let live = try evaluate(module, base)
            XCTAssertEqual(live.number("td_target"), variant == "qac" ? -2 + 0.9 * 40 : -2 + 0.9 * 50, accuracy: 1e-13)
        }
    }

    func testGradientMatchesFiniteDifferenceOfLogPi() throws {
        var random = TestRandom(seed: 23)
        func logPi(_ row: [Double], _ a: Int) -> Double {
            let m = row.max()!
            return row[a] - m - log(row.map { exp($0 - m) }.reduce(0, +))
        }
        for (states, actions) in [(1, 2), (2, 3), (3, 4)] {
            let theta = (0..<states).map { _ in random.vector(actions, in: -2...2) }
            for s in 0..<states {
                for a in 0..<actions {
                    for variant in ["qac", "a2c"] {
                        let out = try evaluate(module, [
                            "theta": .matrix(theta), "s": .integer(s), "a": .integer(a), "r": .number(0.7),
                            "s_next": .integer(states - 1), "variant": .text(variant),
                        ])
                        let numeric = numericalGradient(theta[s]) { logPi($0, a) }
                        let label = "\(variant) s=\(s) a=\(a)"
                        assertClose(out.vector("grad_log_pi"), numeric, tol: 1e-8, label)
                        let scale = 0.1 * out.number("advantage")
                        assertClose(out.vector("actor_step"), numeric.map { scale * $0 }, tol: 1e-9, label)
                        // Only row s moves.
                        let thetaNew = out.matrix("theta_new")
                        for row in 0..<states where row != s { XCTAssertEqual(thetaNew[row], theta[row], label) }
                        assertClose(thetaNew[s], zip(theta[s], out.vector("actor_step")).map { $0 + $1 }, tol: 0, label)
                    }
                }
            }
        }
    }

    /// A learner's own loop, as the lesson's chained cells do it: a two-state corridor where
    /// "right" (action 1) from state 0 reaches state 1 with reward 0, and "right" from state 1
    /// ends the episode with reward 1; "left" ends it with reward 0. Feeding theta_new and the
    /// critic back in, both variants learn to go right in both states.
    func testChainedTransitionsLearnTheCorridor() throws {
        for variant in ["a2c", "qac"] {
            var theta: [[Double]] = [[0, 0], [0, 0]]
            var q: [[Double]] = [[0, 0], [0, 0]]
            var v: [Double] = [0, 0]
            var rng = Xoshiro256StarStar(seed: 2024)
            for _ in 0..<300 {
                var s = 0
                var a = rng.categorical(SoftmaxPolicy(theta[s]).probabilities)
                while true {
                    let done = a == 0 || s == 1
                    let r: Double = (s == 1 && a == 1) ? 1 : 0
                    let sNext = done ? s : 1
                    let aNext = done ? 0 : rng.categorical(SoftmaxPolicy(theta[sNext]).probabilities)
                    let out = try evaluate(module, [
                        "theta": .matrix(theta), "q": .matrix(q), "v": .vector(v), "s": .integer(s),
                        "a": .integer(a), "r": .number(r), "s_next": .integer(sNext), "a_next": .integer(aNext),
                        "done": .bool(done), "lr_actor": .number(0.5), "lr_critic": .number(0.2),
                        "variant": .text(variant),
                    ])
                    theta = out.matrix("theta_new")
                    if variant == "qac" { q = out.matrix("q_new") } else { v = out.vector("v_new") }
                    if done { break }
                    s = sNext
                    a = aNext
                }
            }
            XCTAssertGreaterThan(SoftmaxPolicy(theta[0]).probabilities[1], 0.9, variant)
            XCTAssertGreaterThan(SoftmaxPolicy(theta[1]).probabilities[1], 0.9, variant)
            if variant == "a2c" {
                // v(1) → 1 and v(0) → γ·v(1) = 0.9 under the learned policy.
                XCTAssertEqual(v[1], 1, accuracy: 0.15)
                XCTAssertEqual(v[0], 0.9, accuracy: 0.15)
            } else {
                XCTAssertEqual(q[1][1], 1, accuracy: 0.15)
                XCTAssertEqual(q[0][1], 0.9, accuracy: 0.15)
            }
        }
    }

    func testDefaultsAndCriticDefaults() throws {
        let out = try evaluate(module)
        XCTAssertEqual(out.vector("pi"), [0.5, 0.5])
        XCTAssertEqual(out.number("td_error"), 1)
        XCTAssertEqual(out.vector("v_new"), [0.1, 0])
        // q and v default to zeros shaped like theta, whatever theta's shape.
        let qac = try evaluate(module, ["theta": .matrix([[1, 2, 3]]), "variant": .text("qac"), "a": .integer(2)])
        XCTAssertEqual(qac.matrix("q_new"), [[0, 0, 0.1]])
        XCTAssertEqual(qac.number("advantage"), 0.1)
        // A vector theta is one state.
        let row = try evaluate(module, ["theta": .vector([0, 0, 0])])
        XCTAssertEqual(row.matrix("theta_new").count, 1)
        XCTAssertEqual(module.output(named: "theta_new")?.kind, .matrix)
    }

    func testBadInputNamesTheParameter() {
        let theta: Value = .matrix([[0, 0], [0, 0]])
        let cases: [(String, [String: Value])] = [
            ("s", ["theta": theta, "s": .integer(2)]),
            ("s", ["s": .integer(-1)]),
            ("a", ["theta": theta, "a": .integer(2)]),
            ("s_next", ["theta": theta, "s_next": .integer(5)]),
            ("a_next", ["theta": theta, "a_next": .integer(2), "variant": .text("qac")]),
            ("q", ["theta": theta, "q": .matrix([[0, 0, 0], [0, 0, 0]])]),
            ("q", ["theta": theta, "q": .matrix([[0, 0], [0, 0], [0, 0]])]),
            ("v", ["theta": theta, "v": .vector([0, 0, 0])]),
            ("v", ["theta": theta, "v": .vector([0, .nan])]),
            ("theta", ["theta": .matrix([[0, 0], [0]])]),
            ("theta", ["theta": .matrix([[0, .infinity], [0, 0]])]),
            ("theta", ["theta": .matrix([[0, 2e12], [0, 0]])]),
            ("theta", ["theta": .matrix([[Double]](repeating: [0, 0], count: 5001))]),
            ("q", ["theta": theta, "q": .matrix([[0, -.infinity], [0, 0]])]),
            ("r", ["r": .number(.nan)]),
            ("gamma", ["gamma": .number(1.01)]),
            ("gamma", ["gamma": .number(-0.1)]),
            ("gamma", ["gamma": .number(.nan)]),
            ("lr_actor", ["lr_actor": .number(-1)]),
            ("lr_critic", ["lr_critic": .number(.infinity)]),
            ("variant", ["variant": .text("ppo")]),
            ("done", ["done": .number(1)]),
        ]
        for (parameter, values) in cases {
            let error = evaluationError(module, values)
            XCTAssertEqual(error?.parameter, parameter, "\(values): \(String(describing: error))")
        }
        XCTAssertEqual(evaluationError(module, ["theta": theta, "v": .vector([0, 0, 0])])?.description,
                       "parameter 'v' has 3 entries but theta has 2 rows; v needs one value per state")
    }

    func testExtremeButValidInputsStayFinite() throws {
        let big = 1e12
        for variant in ["qac", "a2c"] {
            let out = try evaluate(module, [
                "theta": .matrix([[big, -big], [0, 0]]), "q": .matrix([[big, -big], [-big, big]]),
                "v": .vector([-big, big]), "r": .number(big), "s_next": .integer(1), "a_next": .integer(1),
                "gamma": .number(1), "lr_actor": .number(1e6), "lr_critic": .number(1e6), "a": .integer(1),
                "variant": .text(variant),
            ])
            for name in ["td_target", "td_error", "advantage"] { XCTAssertTrue(out.number(name).isFinite, name) }
            XCTAssertTrue(out.matrix("theta_new").joined().allSatisfy(\.isFinite), variant)
            XCTAssertTrue(out.vector("new_pi").allSatisfy(\.isFinite), variant)
        }
    }
}
