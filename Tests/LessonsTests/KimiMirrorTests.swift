import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// `kimi.mirror-fit`: SciPy values (scipy.special.lambertw with brentq on κ), the exact
/// baseline giving π*, the KL–χ² optimality, gradient descent, the mirror path, bad input.
final class KimiMirrorFitTests: XCTestCase {
    let module = KimiMirrorFitModule()

    /// Defaults: q = softmax(0.5, 1.5, −0.5, 0), r = (1, 0, 1, 0), τ = 0.5, b = E_q r. The
    /// fixture (make_kimi_mirror.py) solves ρ = (r − b)/τ − W((κ/τ)e^{(r − b)/τ}) with SciPy's
    /// lambertw and brentq on κ, and checks it against BFGS on the softmax logits.
    func testMeanBaselineMatchesScipy() throws {
        let fixture = try XCTUnwrap(loadFixture("kimi_mirror.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["mirror_fit"] as? [String: Any])
        let toy = try XCTUnwrap(cases["toy"] as? [String: Any])
        let out = try evaluate(module, [:])
        assertClose(out.vector("fit"), fixtureVector(toy["fit"]), tol: 1e-12)
        assertClose(out.number("kappa"), try XCTUnwrap(fixtureNumber(toy["kappa"])), tol: 1e-12)
        assertClose(out.number("baseline"), try XCTUnwrap(fixtureNumber(toy["baseline"])), tol: 1e-15)
        // Six mirror iterations with the mean baseline.
        assertClose(out.vector("reward_path"), fixtureVector(toy["mean_path"]), tol: 1e-11)
        // Rewards that are not 0/1, five responses.
        let c = try XCTUnwrap(cases["other"] as? [String: Any])
        let other = try evaluate(module, ["logits": .vector(fixtureVector(c["logits"])),
                                          "rewards": .vector(fixtureVector(c["rewards"])),
                                          "tau": .number(try XCTUnwrap(fixtureNumber(c["tau"])))])
        assertClose(other.vector("fit"), fixtureVector(c["fit"]), tol: 1e-12)
        assertClose(other.number("kappa"), try XCTUnwrap(fixtureNumber(c["kappa"])), tol: 1e-12)
    }

    /// With b = τ·log Z the fit is π* itself, every residual is zero, and the mirror path is
    /// that of π_{t+1} ∝ π_t·e^{r/τ}.
    func testExactBaselineGivesTheTarget() throws {
        let out = try evaluate(module, ["baseline": .text("exact")])
        assertClose(out.vector("fit"), out.vector("target"), tol: 1e-15)
        assertClose(out.vector("residuals"), [0, 0, 0, 0], tol: 1e-14)
        XCTAssertEqual(out.number("kappa"), 0)
        XCTAssertEqual(out.number("loss"), 0, accuracy: 1e-28)
        let fixture = try XCTUnwrap(loadFixture("kimi_mirror.json") as? [String: Any])
        let toy = try XCTUnwrap((fixture["mirror_fit"] as? [String: Any])?["toy"] as? [String: Any])
        assertClose(out.vector("reward_path"), fixtureVector(toy["exact_path"]), tol: 1e-12)
    }

    /// The residuals are κ·π/q, so the fit satisfies the optimality condition of
    /// max E_π r − τ·KL(π‖q) − (κ/2)·Σ π²/q: it scores at least as well as nearby distributions.
    func testFitSolvesTheMixedKLChiSquareStep() throws {
        var random = TestRandom(seed: 5)
        for n in [2, 4, 7] {
            for tau in [0.05, 0.5, 4.0] {
                let logits = random.vector(n, in: -2...2), rewards = random.vector(n, in: 0...1)
                let out = try evaluate(module, ["logits": .vector(logits), "rewards": .vector(rewards), "tau": .number(tau),
                                                "steps": .integer(0)])
                let q = out.vector("reference"), fit = out.vector("fit"), kappa = out.number("kappa")
                XCTAssertEqual(fit.reduce(0, +), 1, accuracy: 1e-13)
                XCTAssertGreaterThan(kappa, 0)
                for i in 0..<n {
                    XCTAssertEqual(out.vector("residuals")[i], kappa * fit[i] / q[i], accuracy: 1e-10 * max(1, kappa * fit[i] / q[i]))
                }
                func objective(_ pi: [Double]) -> Double {
                    var total = 0.0
                    for i in 0..<n { total += pi[i] * rewards[i] - tau * pi[i] * log(pi[i] / q[i]) - kappa / 2 * pi[i] * pi[i] / q[i] }
                    return total
                }
                let best = objective(fit)
                for _ in 0..<20 {
                    let bump = random.vector(n, in: -1e-3...1e-3)
                    var moved = zip(fit, bump).map { max(1e-300, $0 * exp($1)) }
                    let total = moved.reduce(0, +)
                    moved = moved.map { $0 / total }
                    XCTAssertLessThanOrEqual(objective(moved), best + 1e-13, "n=\(n) τ=\(tau)")
                }
                // The mean baseline is more conservative: the fit gains less reward than π*.
                var fitReward = 0.0, targetReward = 0.0
                for i in 0..<n { fitReward += fit[i] * rewards[i]; targetReward += out.vector("target")[i] * rewards[i] }
                XCTAssertLessThanOrEqual(fitReward, targetReward + 1e-12)
            }
        }
    }

    /// Gradient descent on the logits reaches the closed-form minimiser.
    func testGradientDescentAgreesWithTheClosedForm() throws {
        for baseline in ["mean", "exact"] {
            let out = try evaluate(module, ["baseline": .text(baseline), "steps": .integer(5000)])
            assertClose(out.vector("gd_fit"), out.vector("fit"), tol: 1e-9, baseline)
            XCTAssertGreaterThanOrEqual(out.number("gd_loss"), out.number("loss") - 1e-15)
            XCTAssertEqual(out.number("gd_loss"), out.number("loss"), accuracy: 1e-12)
        }
        let none = try evaluate(module, ["steps": .integer(0)])
        assertClose(none.vector("gd_fit"), none.vector("reference"), tol: 1e-15)
    }

    /// Constant rewards: nothing to prefer, the fit is the reference; and long mirror paths
    /// stay finite once the wrong responses have all but vanished.
    func testDegenerateCases() throws {
        let flat = try evaluate(module, ["rewards": .vector([0.7, 0.7, 0.7, 0.7])])
        assertClose(flat.vector("fit"), flat.vector("reference"), tol: 1e-14)
        // E_q r and τ·log Z agree only to rounding here, so κ is of the order of that rounding.
        XCTAssertEqual(flat.number("kappa"), 0, accuracy: 1e-14)
        let long = try evaluate(module, ["tau": .number(0.01), "iterations": .integer(100)])
        for x in long.vector("reward_path") { XCTAssertTrue(x.isFinite) }
        XCTAssertEqual(long.vector("reward_path").last ?? 0, 1, accuracy: 1e-12)
    }

    func testBadInputNamesTheParameter() {
        XCTAssertEqual(evaluationError(module, ["rewards": .vector([1, 0])])?.parameter, "rewards")
        XCTAssertEqual(evaluationError(module, ["tau": .number(0)])?.parameter, "tau")
        XCTAssertEqual(evaluationError(module, ["baseline": .text("median")])?.parameter, "baseline")
        XCTAssertEqual(evaluationError(module, ["iterations": .integer(0)])?.parameter, "iterations")
        XCTAssertEqual(evaluationError(module, ["steps": .integer(-1)])?.parameter, "steps")
        XCTAssertEqual(evaluationError(module, ["lr": .number(0)])?.parameter, "lr")
        XCTAssertEqual(evaluationError(module, ["logits": .vector([])])?.parameter, "logits")
    }
}

/// `kimi.log-z-estimates`: SciPy values (scipy.stats.binom), limits and bad input.
final class KimiLogZEstimatesTests: XCTestCase {
    let module = KimiLogZEstimatesModule()

    /// The fixture (make_kimi_mirror.py) sums over m ~ Binomial(k, p) with scipy.stats.binom.
    func testDefaultsMatchScipy() throws {
        let fixture = try XCTUnwrap(loadFixture("kimi_mirror.json") as? [String: Any])
        let want = try XCTUnwrap(fixture["log_z_estimates"] as? [String: Any])
        let out = try evaluate(module, [:])
        assertClose(out.number("tau_log_z"), try XCTUnwrap(fixtureNumber(want["tau_log_z"])), tol: 1e-15)
        for name in ["direct_bias", "direct_sd", "mean_bias", "mean_sd", "no_contrast"] {
            assertClose(out.vector(name), fixtureVector(want[name]), tol: 1e-13, name)
        }
    }

    /// k = 1: the direct estimate is the reward itself (0 or 1), so its mean is p, like r̄'s.
    /// p = 0 or 1: every draw is the same and both estimates are exact.
    func testLimits() throws {
        let one = try evaluate(module, ["k": .vector([1])])
        assertClose(one.vector("direct_bias"), one.vector("mean_bias"), tol: 1e-15)
        assertClose(one.vector("no_contrast"), [1], tol: 1e-15)
        for p in [0.0, 1.0] {
            let out = try evaluate(module, ["p": .number(p)])
            assertClose(out.vector("direct_bias"), [0, 0, 0, 0], tol: 1e-15)
            assertClose(out.vector("mean_sd"), [0, 0, 0, 0], tol: 1e-15)
            assertClose(out.vector("no_contrast"), [1, 1, 1, 1], tol: 1e-15)
        }
        // Small τ does not overflow e^{1/τ}.
        let cold = try evaluate(module, ["tau": .number(1e-3), "k": .vector([10_000])])
        XCTAssertTrue(cold.vector("direct_bias")[0].isFinite)
        // Large k: the direct estimate's bias falls like 1/k.
        let many = try evaluate(module, ["k": .vector([1000, 2000])])
        let ratio = many.vector("direct_bias")[0] / many.vector("direct_bias")[1]
        XCTAssertEqual(ratio, 2, accuracy: 0.01)
    }

    func testBadInputNamesTheParameter() {
        XCTAssertEqual(evaluationError(module, ["k": .vector([2.5])])?.parameter, "k")
        XCTAssertEqual(evaluationError(module, ["k": .vector([0])])?.parameter, "k")
        XCTAssertEqual(evaluationError(module, ["p": .number(1.5)])?.parameter, "p")
        XCTAssertEqual(evaluationError(module, ["tau": .number(0)])?.parameter, "tau")
    }
}
