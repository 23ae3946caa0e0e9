import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// `dpg.estimators`: the exact variances against Gauss–Hermite quadrature (numpy), a hand-derived
/// linear critic, the seeded measurement against a Python replay and against the exact moments,
/// the σ → 0 limits and bad input.
///
/// The closed forms, for a = μ + σz, c₀ = Q(μ) − B (B the baseline, 0 or V) and g = w_a + 2·w_aa·m:
/// Q(a) − B = c₀ + σg·Σⱼzⱼ + w_aa·σ²·Σⱼzⱼ², so coordinate i of (Q(a) − B)·zᵢ/σ has mean g (only the
/// zᵢ² term survives) and second moment
///     c₀²/σ² + g²·E[(Σzⱼ)²zᵢ²] + w_aa²σ²·E[(Σzⱼ²)²zᵢ²] + 2c₀w_aa·E[Σzⱼ²·zᵢ²]
///   = c₀²/σ² + (d + 2)g² + w_aa²σ²·(15 + (d − 1)(d + 7)) + 2(d + 2)c₀w_aa,
/// using E z⁴ = 3, E z⁶ = 15 and independence. B = V = Q(μ) + d·w_aa·σ² makes c₀ = −d·w_aa·σ² and
/// collapses the w_aa² terms to (2d + 8)·w_aa²σ².
final class DPGEstimatorsTests: XCTestCase {
    let module = DPGEstimatorsModule()

    private func parameters(_ c: [String: Any]) throws -> [String: Value] {
        var values: [String: Value] = ["dims": .integer(try XCTUnwrap(c["dims"] as? Int))]
        for name in ["mu", "sigma", "q0", "w_a", "w_aa"] {
            values[name] = .number(try XCTUnwrap(fixtureNumber(c[name])))
        }
        return values
    }

    func testExactVariancesMatchQuadrature() throws {
        let fixture = try XCTUnwrap(loadFixture("dpg_td3.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["estimators"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 5)
        for (n, c) in cases.enumerated() {
            var values = try parameters(c)
            values["samples"] = .integer(2)
            let out = try evaluate(module, values)
            for name in ["grad", "value", "var_score", "var_baseline", "var_pathwise"] {
                let expected = try XCTUnwrap(fixtureNumber(c[name]))
                assertClose(out.number(name), expected, tol: 1e-9 * max(1, abs(expected)), "\(name) case \(n)")
            }
        }
    }

    /// d = 1, m = 0, w_aa = 0, q0 = 1, w_a = 2, σ = 0.5: Q(a) = 1 + 2a, g = 2, V = Q(μ) = 1.
    /// Score: Q(a)z/σ = (1 + z)z/0.5 = 2z + 2z², mean 2, E[(2z + 2z²)²] = 4 + 12 = 16, variance 12.
    /// Baseline: 2z², variance 4·(3 − 1) = 8. Pathwise: the constant 2, variance 0.
    /// Samples for ε = 0.1: 12/(0.01·4) = 300, 8/(0.01·4) = 200, 0.
    func testLinearCriticByHand() throws {
        let out = try evaluate(module, ["mu": .number(0), "sigma": .number(0.5), "q0": .number(1),
                                        "w_a": .number(2), "w_aa": .number(0)])
        XCTAssertEqual(out.number("grad"), 2)
        XCTAssertEqual(out.number("grad_norm"), 2)
        XCTAssertEqual(out.number("q_mu"), 1)
        XCTAssertEqual(out.number("value"), 1)
        assertClose(out.number("var_score"), 12, tol: 1e-12)
        assertClose(out.number("var_baseline"), 8, tol: 1e-12)
        XCTAssertEqual(out.number("var_pathwise"), 0)
        assertClose(out.number("samples_score"), 300, tol: 1e-9)
        assertClose(out.number("samples_baseline"), 200, tol: 1e-9)
        XCTAssertEqual(out.number("samples_pathwise"), 0)
        // A constant pathwise estimate is exact from one sample.
        XCTAssertEqual(out.vector("est_pathwise"), [2])
        XCTAssertEqual(out.number("err_pathwise"), 0)
        XCTAssertEqual(out.number("measured_var_pathwise"), 0)
    }

    func testMeasurementReplaysTheSeededStream() throws {
        let fixture = try XCTUnwrap(loadFixture("dpg_td3.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["estimator_replays"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 3)
        for (n, c) in cases.enumerated() {
            var values = try parameters(c)
            values["samples"] = .integer(try XCTUnwrap(c["samples"] as? Int))
            values["seed"] = .integer(try XCTUnwrap(c["seed"] as? Int))
            let out = try evaluate(module, values)
            for name in ["est_score", "est_baseline", "est_pathwise"] {
                assertClose(out.vector(name), fixtureVector(c[name]), tol: 1e-12, "\(name) case \(n)")
            }
            for name in ["measured_var_score", "measured_var_baseline", "measured_var_pathwise"] {
                let expected = try XCTUnwrap(fixtureNumber(c[name]))
                assertClose(out.number(name), expected, tol: 1e-11 * max(1, abs(expected)), "\(name) case \(n)")
            }
        }
    }

    /// Many samples: the measured variances agree with the exact ones, and the measured errors
    /// with √(var/(n·‖g‖²)) to within sampling noise (a 5-seed average of the squared error).
    func testMeasuredVariancesAndErrorsAgreeWithTheExactOnes() throws {
        for dims in [1, 4, 20] {
            let base: [String: Value] = ["dims": .integer(dims), "mu": .number(0.2), "sigma": .number(0.3),
                                         "samples": .integer(200_000 / dims)]
            let out = try evaluate(module, base)
            for kind in ["score", "baseline", "pathwise"] {
                let exact = out.number("var_\(kind)")
                assertClose(out.number("measured_var_\(kind)"), exact, tol: 0.05 * exact, "\(kind) d=\(dims)")
            }
            var squared = ["score": 0.0, "baseline": 0.0, "pathwise": 0.0]
            for seed in 1...5 {
                var values = base
                values["samples"] = .integer(2_000 / dims)
                values["seed"] = .integer(seed)
                let run = try evaluate(module, values)
                for kind in squared.keys { squared[kind]! += pow(run.number("err_\(kind)"), 2) / 5 }
            }
            let n = Double(2_000 / dims), norm2 = pow(out.number("grad_norm"), 2)
            for (kind, meanSquare) in squared {
                let predicted = out.number("var_\(kind)") / (n * norm2)
                XCTAssertGreaterThan(meanSquare, predicted / 4, "\(kind) d=\(dims)")
                XCTAssertLessThan(meanSquare, predicted * 4, "\(kind) d=\(dims)")
            }
        }
    }

    /// As σ → 0 the score estimator's variance grows like Q(μ)²/σ², the baseline one tends to
    /// d(d + 1)g² (not 0), the pathwise one to 0: relative variances d + 1 and 0.
    func testSmallSigmaLimits() throws {
        for dims in [1, 10, 50] {
            let out = try evaluate(module, ["dims": .integer(dims), "sigma": .number(1e-6), "samples": .integer(10)])
            let d = Double(dims), g = out.number("grad"), q = out.number("q_mu")
            assertClose(out.number("var_baseline") / (d * g * g), d + 1, tol: 1e-9 * d)
            XCTAssertLessThan(out.number("var_pathwise") / (d * g * g), 1e-10)
            assertClose(out.number("var_score") * 1e-12 / (d * q * q), 1, tol: 1e-4)
            assertClose(out.number("samples_baseline"), (d + 1) / 0.01, tol: 1e-6 * d)
        }
    }

    func testBaselineNeverRaisesTheVarianceAtTheDefaults() throws {
        // V is not the variance-optimal baseline, but here it removes the Q(μ)²/σ² term.
        for dims in [1, 3, 30] {
            for sigma in [0.01, 0.3, 3] {
                let out = try evaluate(module, ["dims": .integer(dims), "sigma": .number(sigma), "samples": .integer(1)])
                XCTAssertLessThan(out.number("var_baseline"), out.number("var_score"), "d=\(dims) σ=\(sigma)")
            }
        }
    }

    func testZeroGradientGivesInfiniteSampleCounts() throws {
        // g = w_a + 2·w_aa·m = 1 − 1.6·0.625 = 0.
        let out = try evaluate(module, ["mu": .number(0.625), "samples": .integer(3)])
        XCTAssertEqual(out.number("grad"), 0)
        for name in ["samples_score", "samples_baseline", "samples_pathwise", "err_score", "err_baseline", "err_pathwise"] {
            XCTAssertEqual(out.number(name), .infinity, name)
        }
    }

    func testBadInput() throws {
        let tooMany = evaluationError(module, ["dims": .integer(1000), "samples": .integer(1001)])
        XCTAssertEqual(tooMany?.parameter, "samples")
        XCTAssertEqual(evaluationError(module, ["sigma": .number(0)])?.parameter, "sigma")
        XCTAssertEqual(evaluationError(module, ["dims": .integer(1001)])?.parameter, "dims")
        XCTAssertEqual(evaluationError(module, ["rel_error": .number(0)])?.parameter, "rel_error")
    }
}

/// `td3.overestimation`: a Python replay, the two-action expectations 1/√π and −1/(2√π) (scipy
/// quadrature), orderings that hold trial by trial, ρ = 1 and σ = 0, and bad input.
final class TD3OverestimationTests: XCTestCase {
    let module = TD3OverestimationModule()

    func testReplaysTheSeededStream() throws {
        let fixture = try XCTUnwrap(loadFixture("dpg_td3.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["overestimation_replays"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 3)
        for (n, c) in cases.enumerated() {
            let out = try evaluate(module, [
                "values": .vector(fixtureVector(c["values"])), "noise": .number(try XCTUnwrap(fixtureNumber(c["noise"]))),
                "correlation": .number(try XCTUnwrap(fixtureNumber(c["correlation"]))),
                "trials": .integer(try XCTUnwrap(c["trials"] as? Int)), "seed": .integer(try XCTUnwrap(c["seed"] as? Int)),
            ])
            for name in ["single", "double", "clipped", "chosen_value", "best_chosen"] {
                let expected = try XCTUnwrap(fixtureNumber(c[name]))
                assertClose(out.number(name), expected, tol: 1e-12, "\(name) case \(n)")
            }
        }
    }

    /// Two actions of equal value 0, σ = 1, independent critics: E[max Q₁] = 1/√π, E[Q₂(a*)] = 0,
    /// E[min(Q₁(a*), Q₂(a*))] = −1/(2√π) (= E max of two + E N(0,1) − E max of three).
    func testTwoActionExpectations() throws {
        let fixture = try XCTUnwrap(loadFixture("dpg_td3.json") as? [String: Any])
        let exact = try XCTUnwrap(fixture["two_actions"] as? [String: Any])
        let eMax = try XCTUnwrap(fixtureNumber(exact["e_max"])), eClipped = try XCTUnwrap(fixtureNumber(exact["e_clipped"]))
        assertClose(eMax, 1 / Double.pi.squareRoot(), tol: 1e-10)
        let out = try evaluate(module, ["values": .vector([0, 0]), "noise": .number(1), "trials": .integer(500_000)])
        XCTAssertEqual(out.number("true_max"), 0)
        XCTAssertLessThan(abs(out.number("single") - eMax), 4 * out.number("single_se"))
        XCTAssertLessThan(abs(out.number("double")), 4 * out.number("double_se"))
        XCTAssertLessThan(abs(out.number("clipped") - eClipped), 4 * out.number("clipped_se"))
        XCTAssertEqual(out.number("chosen_value"), 0)
        XCTAssertEqual(out.number("best_chosen"), 1)
    }

    func testOrderingsAndTheUnbiasedDoubleEstimator() throws {
        var random = TestRandom(seed: 7)
        for k in [1, 3, 10] {
            for rho in [0, 0.5, 0.9] {
                let values = random.vector(k, in: -1...1)
                let out = try evaluate(module, ["values": .vector(values), "noise": .number(0.4),
                                                "correlation": .number(rho), "trials": .integer(20_000)])
                // min(x, y) ≤ x and ≤ y in every trial, so the means keep the order.
                XCTAssertLessThanOrEqual(out.number("clipped"), out.number("single"))
                XCTAssertLessThanOrEqual(out.number("clipped"), out.number("double"))
                // A chosen action is never worth more than the best one.
                XCTAssertLessThanOrEqual(out.number("chosen_value"), out.number("true_max"))
                // E max ≥ max E: the single estimator is biased up (strictly, with noise).
                XCTAssertGreaterThan(out.number("single"), out.number("chosen_value"))
                if rho == 0 {
                    // Q₂'s error is independent of the choice a*, so Q₂(a*) is unbiased for values[a*].
                    XCTAssertLessThan(abs(out.number("double") - out.number("chosen_value")), 4 * out.number("gap_se"), "k=\(k)")
                }
            }
        }
    }

    func testPerfectCorrelationMakesTheSecondCriticACopy() throws {
        let out = try evaluate(module, ["values": .vector([0.5, 0.1, 0.4]), "correlation": .number(1)])
        XCTAssertEqual(out.number("double"), out.number("single"))
        XCTAssertEqual(out.number("clipped"), out.number("single"))
        XCTAssertEqual(out.number("gap_se") > 0, true)
    }

    func testNoNoiseRecoversTheTrueMaximum() throws {
        let out = try evaluate(module, ["values": .vector([0.2, 0.7, -0.3]), "noise": .number(0), "trials": .integer(5)])
        for name in ["single", "double", "clipped", "chosen_value", "true_max"] {
            XCTAssertEqual(out.number(name), 0.7, name)
        }
        XCTAssertEqual(out.number("best_chosen"), 1)
        XCTAssertEqual(out.number("single_bias"), 0)
        XCTAssertEqual(out.number("single_se"), 0)
    }

    func testBadInput() throws {
        let tooMany = evaluationError(module, ["values": .vector(Array(repeating: 0, count: 1000)), "trials": .integer(1001)])
        XCTAssertEqual(tooMany?.parameter, "trials")
        XCTAssertEqual(evaluationError(module, ["correlation": .number(1.5)])?.parameter, "correlation")
        XCTAssertEqual(evaluationError(module, ["noise": .number(-1)])?.parameter, "noise")
        XCTAssertEqual(evaluationError(module, ["values": .vector([0, .nan])])?.parameter, "values")
    }
}
