import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// `pg.softmax-step`: hand-derived values, numpy fixtures, finite differences, bad input.
final class PolicyGradientSoftmaxStepTests: XCTestCase {
    let module = SoftmaxStepModule()

    func testMatchesNumpyFixture() throws {
        let fixture = try XCTUnwrap(loadFixture("actor_critic.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["softmax_step"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 8)
        for c in cases {
            let logits = fixtureVector(c["logits"])
            let out = try evaluate(module, [
                "logits": .vector(logits),
                "action": .integer(try XCTUnwrap(c["action"] as? Int)),
                "advantage": .number(try XCTUnwrap(fixtureNumber(c["advantage"]))),
                "lr": .number(try XCTUnwrap(fixtureNumber(c["lr"]))),
            ])
            let label = "logits \(logits)"
            for name in ["pi", "grad_log_pi", "delta", "new_pi"] {
                assertClose(out.vector(name), fixtureVector(c[name]), tol: 1e-14, "\(name) \(label)")
            }
            // Logits of size 700 carry an ulp of 1e-13; compare relative to their size.
            assertClose(out.vector("new_logits"), fixtureVector(c["new_logits"]), tol: 1e-12, "new_logits \(label)")
            for name in ["log_pi", "new_log_pi"] {
                let expected = try XCTUnwrap(fixtureNumber(c[name]))
                assertClose(out.number(name), expected, tol: 1e-14 * max(1, abs(expected)), "\(name) \(label)")
            }
            for name in ["prob_change", "log_prob_change"] {
                assertClose(out.number(name), try XCTUnwrap(fixtureNumber(c[name])), tol: 1e-12, "\(name) \(label)")
            }
        }
    }

    /// Two equal logits, action 1, A = 1, lr = 1, worked by hand:
    /// π = (½, ½), ∇ = (−½, ½), θ' = (−½, ½), π'(1) = e/(1 + e).
    func testTwoActionsByHand() throws {
        let out = try evaluate(module, ["logits": .vector([0, 0]), "action": .integer(1),
                                        "advantage": .number(1), "lr": .number(1)])
        XCTAssertEqual(out.vector("pi"), [0.5, 0.5])
        XCTAssertEqual(out.number("log_pi"), -log(2.0), accuracy: 1e-16)
        XCTAssertEqual(out.vector("grad_log_pi"), [-0.5, 0.5])
        XCTAssertEqual(out.vector("delta"), [-0.5, 0.5])
        XCTAssertEqual(out.vector("new_logits"), [-0.5, 0.5])
        let e = exp(1.0)
        assertClose(out.vector("new_pi"), [1 / (1 + e), e / (1 + e)], tol: 1e-16)
        XCTAssertEqual(out.number("prob_change"), e / (1 + e) - 0.5, accuracy: 1e-16)
        XCTAssertEqual(out.number("prob_change"), 0.2310585786300049, accuracy: 1e-15)
        XCTAssertEqual(out.number("log_prob_change"), log(2 * e / (1 + e)), accuracy: 1e-15)
    }

    /// The module's defaults (the lesson's first cell): θ = (1, 0, −1), a = 1, A = 1, lr = 0.1.
    func testDefaultsByHand() throws {
        let out = try evaluate(module)
        let z = exp(1.0) + 1 + exp(-1.0)
        let pi = [exp(1.0) / z, 1 / z, exp(-1.0) / z]
        assertClose(out.vector("pi"), pi, tol: 1e-15)
        assertClose(out.vector("grad_log_pi"), [-pi[0], 1 - pi[1], -pi[2]], tol: 1e-15)
        assertClose(out.vector("delta"), [-0.1 * pi[0], 0.1 * (1 - pi[1]), -0.1 * pi[2]], tol: 1e-16)
        XCTAssertEqual(out.number("log_pi"), -log(z), accuracy: 1e-15)
    }

    func testGradientMatchesFiniteDifferenceOfLogPi() throws {
        var random = TestRandom(seed: 17)
        for count in [1, 2, 3, 5, 8] {
            let logits = random.vector(count, in: -3...3)
            for action in 0..<count {
                let out = try evaluate(module, ["logits": .vector(logits), "action": .integer(action)])
                let numeric = try numericalGradient(logits) { x in
                    try module.evaluate(["logits": .vector(x), "action": .integer(action)]).outputs.number("log_pi")
                }
                assertClose(out.vector("grad_log_pi"), numeric, tol: 1e-8, "logits \(logits) action \(action)")
            }
        }
    }

    func testAdvantageSignMovesProbability() throws {
        let logits: [Double] = [0.3, -1.2, 0.8, 0.0]
        for action in 0..<4 {
            func change(_ a: Double) throws -> Double {
                try evaluate(module, ["logits": .vector(logits), "action": .integer(action),
                                      "advantage": .number(a)]).number("prob_change")
            }
            XCTAssertGreaterThan(try change(2), 0, "positive advantage raises π(\(action))")
            XCTAssertLessThan(try change(-2), 0, "negative advantage lowers π(\(action))")
            XCTAssertEqual(try change(0), 0)
        }
    }

    /// Δθ_a = lr·A·(1 − π(a)) and the relative change log π'(a) − log π(a) both shrink as π(a)
    /// grows: rare actions that turn out well move the most.
    func testStepIsLargestWhenProbabilityIsSmall() throws {
        var previous: (prob: Double, deltaA: Double, logChange: Double)?
        for gap in stride(from: -4.0, through: 4.0, by: 1.0) {
            let out = try evaluate(module, ["logits": .vector([gap, 0, 0]), "action": .integer(0),
                                            "advantage": .number(1), "lr": .number(0.5)])
            let prob = out.vector("pi")[0]
            let deltaA = out.vector("delta")[0]
            XCTAssertEqual(deltaA, 0.5 * (1 - prob), accuracy: 1e-16)
            let logChange = out.number("log_prob_change")
            if let previous {
                XCTAssertGreaterThan(prob, previous.prob)
                XCTAssertLessThan(deltaA, previous.deltaA)
                XCTAssertLessThan(logChange, previous.logChange)
            }
            previous = (prob, deltaA, logChange)
        }
    }

    func testScoreHasZeroMean() throws {
        var random = TestRandom(seed: 3)
        for count in [1, 2, 4, 7] {
            let logits = random.vector(count, in: -5...5)
            let out = try evaluate(module, ["logits": .vector(logits), "action": .integer(0)])
            // Σ_b π(b)(onehot(b) − π), recomputed here from the module's π as the literal sum.
            let pi = out.vector("pi")
            var literal = [Double](repeating: 0, count: count)
            for b in 0..<count {
                for i in 0..<count { literal[i] += pi[b] * ((i == b ? 1 : 0) - pi[i]) }
            }
            assertClose(out.vector("score_mean"), literal, tol: 1e-15)
            assertClose(out.vector("score_mean"), [Double](repeating: 0, count: count), tol: 1e-15)
        }
    }

    func testFarBelowLogitKeepsFiniteLogProbability() throws {
        let out = try evaluate(module, ["logits": .vector([0, -20000, 5]), "action": .integer(1)])
        XCTAssertEqual(out.vector("pi")[1], 0)
        // log π(1) = −20000 − log(1 + e⁵ + e^−20000) = −20000 − log(1 + e⁵).
        XCTAssertEqual(out.number("log_pi"), -20000 - log(1 + exp(5.0)), accuracy: 1e-11)
        XCTAssertTrue(out.number("new_log_pi").isFinite)
        let huge = try evaluate(module, ["logits": .vector([1e12, -1e12]), "action": .integer(1),
                                         "advantage": .number(-1e12), "lr": .number(1e6)])
        XCTAssertEqual(huge.number("log_pi"), -2e12)
        XCTAssertTrue(huge.vector("new_logits").allSatisfy(\.isFinite))
        XCTAssertTrue(huge.number("new_log_pi").isFinite)
    }

    func testSingleActionCannotLearn() throws {
        let out = try evaluate(module, ["logits": .vector([0.25]), "action": .integer(0), "advantage": .number(5)])
        XCTAssertEqual(out.vector("pi"), [1])
        XCTAssertEqual(out.number("log_pi"), 0)
        XCTAssertEqual(out.vector("grad_log_pi"), [0])
        XCTAssertEqual(out.number("prob_change"), 0)
    }

    func testBadInputNamesTheParameter() {
        let cases: [(String, [String: Value])] = [
            ("action", ["logits": .vector([1, 2, 3]), "action": .integer(3)]),
            ("action", ["action": .integer(-1)]),
            ("action", ["action": .number(1.5)]),
            ("logits", ["logits": .vector([1, .nan])]),
            ("logits", ["logits": .vector([1, .infinity])]),
            ("logits", ["logits": .vector([1, -.infinity])]),
            ("logits", ["logits": .vector([])]),
            ("logits", ["logits": .vector([1e13, 0])]),
            ("logits", ["logits": .vector([Double](repeating: 0, count: 10_001))]),
            ("advantage", ["advantage": .number(.nan)]),
            ("advantage", ["advantage": .number(2e12)]),
            ("lr", ["lr": .number(-0.1)]),
            ("lr", ["lr": .number(.infinity)]),
            ("lr", ["lr": .number(2e6)]),
            ("temperature", ["temperature": .number(1)]),
        ]
        for (parameter, values) in cases {
            let error = evaluationError(module, values)
            XCTAssertEqual(error?.parameter, parameter, "\(values): \(String(describing: error))")
        }
        let error = evaluationError(module, ["logits": .vector([1, 2, 3]), "action": .integer(3)])
        XCTAssertEqual(error?.description, "parameter 'action' is 3, out of range: valid actions (entries of logits) are 0 to 2")
    }
}
