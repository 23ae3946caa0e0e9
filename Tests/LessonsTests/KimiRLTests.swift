import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// `kimi.policy-loss`: numpy fixtures, the defaults by hand, finite-difference gradients, the
/// optimum and τ = 0, bad input.
final class KimiPolicyLossTests: XCTestCase {
    let module = KimiPolicyLossModule()

    func testMatchesNumpyFixture() throws {
        let fixture = try XCTUnwrap(loadFixture("kimi.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["policy_loss"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 8)
        for (n, c) in cases.enumerated() {
            let out = try evaluate(module, [
                "rewards": .vector(fixtureVector(c["rewards"])), "logp_new": .vector(fixtureVector(c["logp_new"])),
                "logp_old": .vector(fixtureVector(c["logp_old"])), "tau": .number(try XCTUnwrap(fixtureNumber(c["tau"]))),
            ])
            let label = "case \(n)"
            assertClose(out.number("baseline"), try XCTUnwrap(fixtureNumber(c["baseline"])), tol: 1e-15, label)
            let loss = try XCTUnwrap(fixtureNumber(c["loss"]))
            assertClose(out.number("loss"), loss, tol: 1e-13 * max(1, loss), label)
            for name in ["advantages", "log_ratio", "loss_grad", "pg_coeff"] {
                assertClose(out.vector(name), fixtureVector(c[name]), tol: 1e-13, "\(name) \(label)")
            }
        }
    }

    /// Defaults: r = (1, 0, 1, 0), so r̄ = ½ and r − r̄ = (½, −½, ½, −½). ρ = logp_new − logp_old =
    /// (0.5, −0.5, −1, 1); with τ = 0.1 the residuals r − r̄ − τρ are (0.45, −0.45, 0.6, −0.6).
    /// loss = (2·0.45² + 2·0.6²)/4 = (0.405 + 0.72)/4 = 0.28125; ∂loss/∂logp_new = −(2·0.1/4)·residual
    /// = (−0.0225, 0.0225, −0.03, 0.03); pg_coeff = residual/4 = (0.1125, −0.1125, 0.15, −0.15).
    func testDefaultsByHand() throws {
        let out = try evaluate(module, [:])
        XCTAssertEqual(out.number("baseline"), 0.5)
        XCTAssertEqual(out.vector("advantages"), [0.5, -0.5, 0.5, -0.5])
        XCTAssertEqual(out.vector("log_ratio"), [0.5, -0.5, -1, 1])
        assertClose(out.vector("residuals"), [0.45, -0.45, 0.6, -0.6], tol: 1e-15)
        assertClose(out.number("loss"), 0.28125, tol: 1e-15)
        assertClose(out.vector("loss_grad"), [-0.0225, 0.0225, -0.03, 0.03], tol: 1e-16)
        assertClose(out.vector("pg_coeff"), [0.1125, -0.1125, 0.15, -0.15], tol: 1e-16)
    }

    func testGradientMatchesFiniteDifferences() throws {
        var random = TestRandom(seed: 11)
        for k in [1, 2, 4, 9] {
            for tau in [0.05, 0.5, 3.0] {
                let rewards = random.vector(k, in: 0...1).map { $0.rounded() }
                let logpNew = random.vector(k, in: -30 ... -1), logpOld = random.vector(k, in: -30 ... -1)
                let out = try evaluate(module, ["rewards": .vector(rewards), "logp_new": .vector(logpNew),
                                                "logp_old": .vector(logpOld), "tau": .number(tau)])
                let numeric = try numericalGradient(logpNew, step: 1e-5) { lp in
                    try module.evaluate(["rewards": .vector(rewards), "logp_new": .vector(lp),
                                         "logp_old": .vector(logpOld), "tau": .number(tau)]).outputs.number("loss")
                }
                // The loss is quadratic, so the central difference is exact but for rounding, about
                // 2e−16·loss/step.
                assertClose(out.vector("loss_grad"), numeric, tol: 1e-9 * max(1, out.number("loss")), "k=\(k) τ=\(tau)")
                // loss_grad = −2τ·pg_coeff: descending the loss is the policy-gradient update scaled by 2τ.
                assertClose(out.vector("loss_grad"), out.vector("pg_coeff").map { -2 * tau * $0 }, tol: 1e-13)
                // The rewards' gradient is zero in total: r̄ moves with every r_j.
                XCTAssertEqual(out.vector("advantages").reduce(0, +), 0, accuracy: 1e-14)
            }
        }
    }

    /// At log π_new = log π_old + (r − r̄)/τ every residual vanishes: the regularised optimum
    /// π* ∝ π_old·e^{r/τ}, with r̄ standing in for τ·log Z.
    func testOptimumHasZeroLoss() throws {
        let rewards = [1.0, 0, 0, 1, 1], tau = 0.5
        let logpOld = [-20.0, -18, -25, -19.5, -21]
        let mean = rewards.reduce(0, +) / 5
        let logpNew = zip(logpOld, rewards).map { $0 + ($1 - mean) / tau }
        let out = try evaluate(module, ["rewards": .vector(rewards), "logp_new": .vector(logpNew),
                                        "logp_old": .vector(logpOld), "tau": .number(tau)])
        XCTAssertEqual(out.number("loss"), 0, accuracy: 1e-28)
        assertClose(out.vector("loss_grad"), [0, 0, 0, 0, 0], tol: 1e-15)
    }

    /// τ = 0: the loss is the variance of the rewards, constant in log π, and pg_coeff are the
    /// plain policy-gradient weights (r_j − r̄)/k.
    func testZeroTauIsThePlainPolicyGradient() throws {
        let out = try evaluate(module, ["tau": .number(0)])
        XCTAssertEqual(out.number("loss"), 0.25)
        XCTAssertEqual(out.vector("loss_grad"), [0, 0, 0, 0])
        XCTAssertEqual(out.vector("pg_coeff"), [0.125, -0.125, 0.125, -0.125])
        // One response: r̄ = r, so only the pull of ρ toward 0 remains.
        let single = try evaluate(module, ["rewards": .vector([3]), "logp_new": .vector([-2]),
                                           "logp_old": .vector([-5]), "tau": .number(0.5)])
        XCTAssertEqual(single.vector("advantages"), [0])
        XCTAssertEqual(single.number("loss"), 2.25)
        XCTAssertEqual(single.vector("loss_grad"), [1.5])
    }

    func testBadInputNamesTheParameter() {
        XCTAssertEqual(evaluationError(module, ["logp_new": .vector([-1, -2, -3])])?.parameter, "logp_new")
        XCTAssertEqual(evaluationError(module, ["logp_old": .vector([-1, -2, -3, -4, -5])])?.parameter, "logp_old")
        XCTAssertEqual(evaluationError(module, ["rewards": .vector([1, 0])])?.parameter, "logp_new")
        XCTAssertEqual(evaluationError(module, ["rewards": .vector([1, .nan, 0, 0])])?.parameter, "rewards")
        XCTAssertEqual(evaluationError(module, ["logp_new": .vector([-1, 0.5, -2, -3])])?.parameter, "logp_new")
        XCTAssertEqual(evaluationError(module, ["logp_old": .vector([-1, -.infinity, -2, -3])])?.parameter, "logp_old")
        XCTAssertEqual(evaluationError(module, ["tau": .number(-0.1)])?.parameter, "tau")
        XCTAssertEqual(evaluationError(module, ["rewards": .vector([])])?.parameter, "rewards")
        let message = evaluationError(module, ["logp_new": .vector([-1, -2, -3])])?.message ?? ""
        XCTAssertTrue(message.contains("3 entries") && message.contains("4 entries"), message)
    }
}

/// `kimi.length-penalty`: numpy fixtures, the defaults by hand, equal lengths and bad input.
final class KimiLengthPenaltyTests: XCTestCase {
    let module = KimiLengthPenaltyModule()

    func testMatchesNumpyFixture() throws {
        let fixture = try XCTUnwrap(loadFixture("kimi.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["length_penalty"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 8)
        for (n, c) in cases.enumerated() {
            let out = try evaluate(module, ["correct": .vector(fixtureVector(c["correct"])),
                                            "lengths": .vector(fixtureVector(c["lengths"]))])
            assertClose(out.vector("lambda"), fixtureVector(c["lambda"]), tol: 1e-15, "case \(n)")
            assertClose(out.vector("length_reward"), fixtureVector(c["length_reward"]), tol: 1e-15, "case \(n)")
            XCTAssertEqual(out.number("min_len"), try XCTUnwrap(fixtureNumber(c["min_len"])))
            XCTAssertEqual(out.number("max_len"), try XCTUnwrap(fixtureNumber(c["max_len"])))
        }
    }

    /// Defaults: lengths (120, 300, 80, 500, 450), so min 80, max 500, span 420;
    /// λ = 0.5 − (len − 80)/420 = (0.5 − 40/420, 0.5 − 220/420, 0.5, −0.5, 0.5 − 370/420).
    /// Responses 2 and 4 are wrong: 2 gets min(0, 0.5) = 0, 4 keeps its penalty 0.5 − 370/420.
    func testDefaultsByHand() throws {
        let out = try evaluate(module, [:])
        XCTAssertEqual(out.number("min_len"), 80)
        XCTAssertEqual(out.number("max_len"), 500)
        let lambda = [0.5 - 40.0 / 420, 0.5 - 220.0 / 420, 0.5, -0.5, 0.5 - 370.0 / 420]
        assertClose(out.vector("lambda"), lambda, tol: 1e-15)
        assertClose(out.vector("length_reward"), [lambda[0], lambda[1], 0, -0.5, lambda[4]], tol: 1e-15)
        // The shortest gets +0.5 and the longest −0.5 whatever the units.
        let scaled = try evaluate(module, ["lengths": .vector([1200, 3000, 800, 5000, 4500])])
        assertClose(scaled.vector("lambda"), lambda, tol: 1e-15)
    }

    /// Equal lengths, k = 1 among them: the definition's 0/0 is taken as λ = 0 for every response.
    func testEqualLengthsGiveZero() throws {
        for (correct, lengths) in [([1.0], [42.0]), ([0.0], [42.0]), ([1.0, 0, 1], [7.0, 7, 7]), ([0.0, 0], [0.0, 0])] {
            let out = try evaluate(module, ["correct": .vector(correct), "lengths": .vector(lengths)])
            XCTAssertEqual(out.vector("lambda"), correct.map { _ in 0 })
            XCTAssertEqual(out.vector("length_reward"), correct.map { _ in 0 })
            XCTAssertEqual(out.number("min_len"), lengths[0])
            XCTAssertEqual(out.number("max_len"), lengths[0])
        }
    }

    func testWrongAnswersNeverGainFromBeingShort() throws {
        var random = TestRandom(seed: 3)
        for k in [2, 5, 20] {
            let correct = random.vector(k, in: 0...1).map { $0.rounded() }
            let lengths = random.vector(k, in: 1...4000).map { $0.rounded() }
            let out = try evaluate(module, ["correct": .vector(correct), "lengths": .vector(lengths)])
            for (i, (c, (l, r))) in zip(correct, zip(out.vector("lambda"), out.vector("length_reward"))).enumerated() {
                XCTAssertTrue((-0.5...0.5).contains(l), "λ[\(i)] = \(l)")
                XCTAssertEqual(r, c == 1 ? l : min(0, l), "index \(i)")
            }
        }
    }

    func testBadInputNamesTheParameter() {
        XCTAssertEqual(evaluationError(module, ["lengths": .vector([1, 2])])?.parameter, "lengths")
        XCTAssertEqual(evaluationError(module, ["correct": .vector([1, 0])])?.parameter, "lengths")
        let half = evaluationError(module, ["correct": .vector([1, 0.5, 0, 1, 0])])
        XCTAssertEqual(half?.parameter, "correct")
        XCTAssertTrue(half?.message.contains("index 1") == true, String(describing: half))
        XCTAssertEqual(evaluationError(module, ["correct": .vector([1, 2, 0, 1, 0])])?.parameter, "correct")
        XCTAssertEqual(evaluationError(module, ["lengths": .vector([1, -2, 3, 4, 5])])?.parameter, "lengths")
        XCTAssertEqual(evaluationError(module, ["lengths": .vector([1, .nan, 3, 4, 5])])?.parameter, "lengths")
        XCTAssertEqual(evaluationError(module, ["correct": .vector([])])?.parameter, "correct")
    }
}
