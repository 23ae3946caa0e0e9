import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

private func extendedCases(_ key: String) throws -> [[String: Any]] {
    let root = try XCTUnwrap(loadFixture("infonce_extended.json") as? [String: Any])
    return try XCTUnwrap(root[key] as? [[String: Any]], "fixture has no \(key)")
}

private func number(_ c: [String: Any], _ key: String, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
    try XCTUnwrap(fixtureNumber(c[key]), "fixture has no number \(key)", file: file, line: line)
}

private func integer(_ c: [String: Any], _ key: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
    try XCTUnwrap(c[key] as? Int, "fixture has no integer \(key)", file: file, line: line)
}

/// The lesson's channel: X uniform over four symbols, C = X with probability 0.7.
private let channel: Value = .matrix([[7, 1, 1, 1], [1, 7, 1, 1], [1, 1, 7, 1], [1, 1, 1, 7]])

// MARK: - infonce.ideal

final class InfoNCEIdealTests: XCTestCase {
    let module = InfoNCEIdealModule()

    func testMatchesBruteForceAndBinomialFixtures() throws {
        let cases = try extendedCases("ideal")
        XCTAssertEqual(cases.count, 6)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            var values: [String: Value] = ["joint": .matrix(fixtureMatrix(c["joint"])), "n": .vector(fixtureVector(c["n"])),
                                           "tau": .number(try number(c, "tau"))]
            if c["critic"] is [Any] { values["critic"] = .matrix(fixtureMatrix(c["critic"])) }
            let out = try evaluate(module, values)
            assertClose(out.vector("bound"), fixtureVector(c["bound"]), tol: 1e-12, name)
            assertClose(out.number("mi"), try number(c, "mi"), tol: 1e-14, name)
            assertClose(out.vector("ceiling_bounded"), fixtureVector(c["ceiling_bounded"]), tol: 1e-14, name)
            XCTAssertEqual(out.vector("standard_error"), [Double](repeating: 0, count: fixtureVector(c["n"]).count), name)
        }
    }

    /// The review's numbers for the lesson's channel, and the lesson's own iid cell at N = 4.
    func testReviewNumbersForTheChannel() throws {
        let out = try evaluate(module, ["joint": channel])
        let bound = out.vector("bound")
        for (got, want) in zip(bound, [0.190, 0.311, 0.378, 0.412, 0.437, 0.444, 0.445]) {
            XCTAssertEqual(got, want, accuracy: 5e-4)
        }
        XCTAssertEqual(bound[1], 0.31061706568396696, accuracy: 1e-13, "mi.discrete's iid cell")
        XCTAssertEqual(out.number("mi"), 0.44584637246456427, accuracy: 1e-15)
        // The gap at N = 4 is the review's KL(q_sym ‖ p^N) = 0.135229.
        XCTAssertEqual(out.vector("gap")[1], 0.135229, accuracy: 5e-7)
    }

    /// N = 2 by hand. The positive matches (f = 2.8) with probability 0.7, else f = 0.4; the one
    /// negative matches with probability 1/4. bound = E log(2 f₊/(f₊ + f₋)):
    /// 0.7·[¼ log 1 + ¾ log(5.6/3.2)] + 0.3·[¼ log(0.8/3.2) + ¾ log 1].
    func testTwoCandidatesByHand() throws {
        let out = try evaluate(module, ["joint": channel, "n": .vector([1, 2])])
        let expected = 0.7 * 0.75 * log(5.6 / 3.2) + 0.3 * 0.25 * log(0.8 / 3.2)
        XCTAssertEqual(out.vector("bound")[1], expected, accuracy: 1e-15)
        XCTAssertEqual(out.vector("bound")[0], 0, "one candidate certifies nothing")
        XCTAssertEqual(out["terms"], .integer(4 + 4 * 2), "one composition per row at N = 1, two at N = 2")
    }

    /// The bound of the ideal critic rises with N, stays below I and below log N; no critic
    /// beats it (the softmax of the density ratio is the Bayes posterior of the positive's slot).
    func testIdealCriticIsMonotoneBelowIAndUnbeaten() throws {
        var rng = TestRandom(seed: 3)
        for _ in 0..<8 {
            let rows = Int.random(in: 2...3, using: &rng), cols = Int.random(in: 2...3, using: &rng)
            let joint = (0..<rows).map { _ in rng.vector(cols, in: 0...2) }
            let ns: [Double] = [1, 2, 3, 4, 6]
            let ideal = try evaluate(module, ["joint": .matrix(joint), "n": .vector(ns)])
            let bound = ideal.vector("bound"), mi = ideal.number("mi")
            for i in 1..<bound.count { XCTAssertGreaterThanOrEqual(bound[i], bound[i - 1] - 1e-13) }
            for (b, n) in zip(bound, ns) {
                XCTAssertLessThanOrEqual(b, mi + 1e-13)
                XCTAssertLessThanOrEqual(b, log(n) + 1e-13)
            }
            for _ in 0..<3 {
                let critic = (0..<rows).map { _ in rng.vector(cols, in: -2...2) }
                let other = try evaluate(module, ["joint": .matrix(joint), "n": .vector(ns), "critic": .matrix(critic)])
                for (b, best) in zip(other.vector("bound"), bound) { XCTAssertLessThanOrEqual(b, best + 1e-12) }
            }
            // Adding a constant to a row of the critic changes nothing.
            let shifted = ideal.matrix("critic_used").enumerated().map { i, row in row.map { $0 == -.infinity ? -50 : $0 + Double(i) } }
            let again = try evaluate(module, ["joint": .matrix(joint), "n": .vector(ns), "critic": .matrix(shifted)])
            assertClose(again.vector("bound"), bound, tol: 1e-12)
        }
    }

    /// Monte Carlo agrees with the exact sum within a few standard errors, and replays exactly.
    func testSamplingAgreesWithExactAndIsSeeded() throws {
        let exact = try evaluate(module, ["joint": channel, "n": .vector([2, 16, 256])])
        let values: [String: Value] = ["joint": channel, "n": .vector([2, 16, 256]), "method": .text("sample"),
                                       "samples": .integer(4000), "seed": .integer(7)]
        let sampled = try evaluate(module, values)
        let se = sampled.vector("standard_error")
        for (i, (a, b)) in zip(sampled.vector("bound"), exact.vector("bound")).enumerated() {
            XCTAssertGreaterThan(se[i], 0)
            XCTAssertEqual(a, b, accuracy: 4 * se[i], "N index \(i)")
        }
        XCTAssertEqual(try evaluate(module, values).vector("bound"), sampled.vector("bound"))
        var other = values
        other["seed"] = .integer(8)
        XCTAssertNotEqual(try evaluate(module, other).vector("bound"), sampled.vector("bound"))
        XCTAssertEqual(sampled["terms"], .integer(3 * 4000))
    }

    /// The bounded critic's ceiling is the bound of the worst row infonce.loss can be given: the
    /// positive at +1/τ and every negative at −1/τ. It stays below min(log N, 2/τ).
    func testBoundedCeilingIsTheBestRowOfACosineCritic() throws {
        let tau = 0.5
        let out = try evaluate(module, ["joint": channel, "n": .vector([1, 2, 5, 100, 10_000]), "tau": .number(tau)])
        let ceilings = out.vector("ceiling_bounded")
        XCTAssertEqual(out.number("ceiling_limit"), 2 / tau)
        for (c, n) in zip(ceilings, [1, 2, 5, 100, 10_000]) {
            XCTAssertLessThanOrEqual(c, min(log(Double(n)), 2 / tau) + 1e-15)
            if n <= 100 {
                let row = [1.0] + [Double](repeating: -1, count: n - 1)
                let best = try evaluate(InfoNCELossModule(), ["scores": .vector(row), "temperature": .number(tau)])
                XCTAssertEqual(c, best.number("mi_bound"), accuracy: 1e-14, "N = \(n)")
            }
        }
        XCTAssertEqual(ceilings[4], 2 / tau, accuracy: 0.01, "N = 10⁴ is close to the limit 2/τ")
    }

    /// Loader's binomial against exact values: Bin(3, ½) at 1 is 3/8; Bin(10, 0.3) against the
    /// product C(10, x)·0.3ˣ·0.7¹⁰⁻ˣ; at n = 1024 the probabilities sum to 1 with mean np.
    func testBinomialProbabilitiesAreAccurate() {
        XCTAssertEqual(exp(BinomialProbability.logPMF(1, trials: 3, p: 0.5, q: 0.5)), 0.375, accuracy: 1e-16)
        var choose = 1.0
        for x in 0...10 {
            let exact = choose * pow(0.3, Double(x)) * pow(0.7, Double(10 - x))
            let got = exp(BinomialProbability.logPMF(x, trials: 10, p: 0.3, q: 0.7))
            XCTAssertEqual(got, exact, accuracy: 1e-14 * exact, "x = \(x)")
            choose = choose * Double(10 - x) / Double(x + 1)
        }
        var total = 0.0, mean = 0.0
        for x in 0...1023 {
            let p = exp(BinomialProbability.logPMF(x, trials: 1023, p: 0.25, q: 0.75))
            total += p
            mean += Double(x) * p
        }
        XCTAssertEqual(total, 1, accuracy: 1e-14)
        XCTAssertEqual(mean, 1023 * 0.25, accuracy: 1e-11)
        XCTAssertEqual(BinomialProbability.logPMF(0, trials: 0, p: 0.3, q: 0.7), 0)
        XCTAssertEqual(BinomialProbability.logPMF(2, trials: 5, p: 0, q: 1), -.infinity)
        XCTAssertTrue(BinomialProbability.logPMF(100_000, trials: 100_000, p: 1e-3, q: 1 - 1e-3).isFinite)
    }

    func testZeroCellsAndEmptyColumns() throws {
        // Column 2 never occurs: it is never drawn as a negative and its critic value is unused.
        let out = try evaluate(module, ["joint": .matrix([[3, 1, 0], [1, 3, 0]]), "n": .vector([3])])
        let two = try evaluate(module, ["joint": .matrix([[3, 1], [1, 3]]), "n": .vector([3])])
        XCTAssertEqual(out.vector("bound")[0], two.vector("bound")[0], accuracy: 1e-15)
        XCTAssertEqual(out.matrix("critic_used")[0][2], -.infinity)
        // A deterministic one-to-one table: I = log 3, and the ideal critic's bound at N = 2 is
        // log 2 − E log(1 + [negative matches]·1) = log 2 − (1/3)·log 2.
        let perfect = try evaluate(module, ["joint": .matrix([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), "n": .vector([2])])
        XCTAssertEqual(perfect.vector("bound")[0], log(2) * 2 / 3, accuracy: 1e-15)
    }

    func testBadInputNamesTheParameter() {
        // Ten distinct critic values per row: C(1008, 9) compositions at N = 1000.
        var big: [[Double]] = []
        for i in 0..<10 {
            var row: [Double] = []
            for j in 0..<10 { row.append(Double((i * 7 + j * 3) % 11 + 1)) }
            big.append(row)
        }
        let cases: [(String, [String: Value])] = [
            ("n", ["n": .vector([0])]),
            ("n", ["n": .vector([2.5])]),
            ("n", ["n": .vector([2e6])]),
            ("n", ["n": .vector([.nan])]),
            ("n", ["joint": .matrix(big), "n": .vector([1000])]),
            ("critic", ["critic": .matrix([[0, 1], [1, 0]])]),
            ("critic", ["critic": .matrix([[.nan, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])]),
            ("joint", ["joint": .matrix([[1, -1], [0, 1]])]),
            ("joint", ["joint": .matrix([[0, 0], [0, 0]])]),
            ("samples", ["method": .text("sample"), "samples": .integer(1_000_000)]),
            ("samples", ["samples": .integer(0)]),
            ("method", ["method": .text("guess")]),
            ("tau", ["tau": .number(0)]),
        ]
        for (parameter, values) in cases {
            let error = evaluationError(module, values)
            XCTAssertEqual(error?.parameter, parameter, "\(values): \(String(describing: error))")
        }
    }
}

// MARK: - nce.negative-sampling

final class NegativeSamplingTests: XCTestCase {
    let module = NegativeSamplingModule()

    func testMatchesTorchAndScipyFixtures() throws {
        let cases = try extendedCases("negative_sampling")
        XCTAssertEqual(cases.count, 4)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let out = try evaluate(module, [
                "joint": .matrix(fixtureMatrix(c["joint"])), "k": .integer(try integer(c, "k")),
                "noise_power": .number(try number(c, "noise_power")), "scores": .matrix(fixtureMatrix(c["scores"])),
            ])
            assertClose(out.vector("noise"), fixtureVector(c["noise"]), tol: 1e-15, name)
            assertClose(out.matrix("pmi"), fixtureMatrix(c["pmi"]), tol: 1e-14, name)
            assertClose(out.matrix("sgns_optimum"), fixtureMatrix(c["sgns_optimum"]), tol: 1e-14, name)
            assertClose(out.matrix("nce_optimum"), fixtureMatrix(c["nce_optimum"]), tol: 1e-14, name)
            assertClose(out.vector("log_k_noise"), fixtureVector(c["log_k_noise"]), tol: 1e-14, name)
            assertClose(out.vector("sgns_row_sum"), fixtureVector(c["sgns_row_sum"]), tol: 1e-13, name)
            for loss in ["softmax_loss", "nce_loss", "sgns_loss"] {
                assertClose(out.number(loss), try number(c, loss), tol: 1e-14, "\(name) \(loss)")
            }
            for grad in ["grad_softmax", "grad_nce", "grad_sgns"] {
                assertClose(out.matrix(grad), fixtureMatrix(c[grad]), tol: 1e-15, "\(name) \(grad)")
            }
            assertClose(out.number("softmax_loss_optimum"), try number(c, "softmax_loss_optimum"), tol: 1e-14, name)
            // scipy's L-BFGS minimiser of each loss is the closed form (tables without zero cells).
            if c["sgns_minimiser"] != nil {
                assertClose(out.matrix("sgns_optimum"), fixtureMatrix(c["sgns_minimiser"]), tol: 1e-5, name)
                assertClose(out.matrix("nce_optimum"), fixtureMatrix(c["nce_minimiser"]), tol: 1e-5, name)
                assertClose(out.number("sgns_loss_optimum"), try number(c, "sgns_loss_optimum"), tol: 1e-10, name)
                assertClose(out.number("nce_loss_optimum"), try number(c, "nce_loss_optimum"), tol: 1e-10, name)
            }
        }
    }

    /// The lesson's weather table, by hand: p(sun, sunglasses) = 0.30, p(sun) = 0.5,
    /// p(sunglasses) = 0.33, so pmi = log(0.30/0.165) and with k = 2 negative sampling's optimum is
    /// log(0.30/0.165) − log 2; NCE's is log p(sunglasses | sun) = log 0.6.
    func testWeatherTableByHand() throws {
        let out = try evaluate(module)
        XCTAssertEqual(out.matrix("pmi")[0][0], log(0.30 / 0.165), accuracy: 1e-15)
        XCTAssertEqual(out.matrix("sgns_optimum")[0][0], log(0.30 / 0.165) - log(2), accuracy: 1e-15)
        XCTAssertEqual(out.matrix("nce_optimum")[0][0], log(0.6), accuracy: 1e-15)
        // With α = 1 negative sampling's optimum is exactly the PMI shifted by log k everywhere.
        for (row, pmiRow) in zip(out.matrix("sgns_optimum"), out.matrix("pmi")) {
            assertClose(row, pmiRow.map { $0 - log(2) }, tol: 1e-14)
        }
        // The difference of the two optima is the dropped term log(k·p_n(c)).
        let offset = out.vector("log_k_noise")
        for (n, s) in zip(out.matrix("nce_optimum"), out.matrix("sgns_optimum")) {
            assertClose(zip(n, s).map { $0 - $1 }, offset, tol: 1e-14)
        }
        assertClose(out.vector("nce_row_sum"), [1, 1], tol: 1e-15)
        XCTAssertEqual(out["cost_softmax"], .integer(3))
        XCTAssertEqual(out["cost_nce"], .integer(3))
        XCTAssertEqual(out.number("cost_ratio"), 1)
        // The full softmax's minimum is H(C|W).
        let mi = try evaluate(DiscreteMutualInformationModule(), ["joint": .matrix([[30, 2, 18], [3, 27, 20]])])
        XCTAssertEqual(out.number("softmax_loss_optimum"), mi.number("h_y_given_x"), accuracy: 1e-14)
    }

    func testGradientsMatchFiniteDifferences() throws {
        var rng = TestRandom(seed: 11)
        let joint: [[Double]] = [[4, 1, 2, 0], [1, 5, 1, 2], [2, 2, 3, 1]]
        for (k, alpha) in [(1, 1.0), (4, 0.75), (10, 0.0)] {
            let scores = (0..<3).map { _ in rng.vector(4, in: -2...2) }
            let out = try evaluate(module, ["joint": .matrix(joint), "k": .integer(k), "noise_power": .number(alpha),
                                            "scores": .matrix(scores)])
            for (loss, grad) in [("softmax_loss", "grad_softmax"), ("nce_loss", "grad_nce"), ("sgns_loss", "grad_sgns")] {
                let numeric = try numericalGradient(scores.flatMap { $0 }) { flat in
                    let m = (0..<3).map { Array(flat[($0 * 4)..<($0 * 4 + 4)]) }
                    return try self.module.evaluate(["joint": .matrix(joint), "k": .integer(k), "noise_power": .number(alpha),
                                                     "scores": .matrix(m)]).outputs[loss]?.scalar ?? .nan
                }
                assertClose(out.matrix(grad).flatMap { $0 }, numeric, tol: 1e-8, "\(grad) k=\(k)")
            }
        }
    }

    /// Direct minimisation: gradient descent on each loss from zero scores, using only the
    /// module's loss and gradient outputs, lands on the closed-form optimum.
    func testGradientDescentFindsTheOptima() throws {
        let joint: Value = .matrix([[5, 2, 1], [1, 4, 3]])
        for (loss, grad, optimum) in [("sgns_loss", "grad_sgns", "sgns_optimum"), ("nce_loss", "grad_nce", "nce_optimum")] {
            var scores = [[Double]](repeating: [0, 0, 0], count: 2)
            var last = Double.infinity
            for _ in 0..<1500 {
                let out = try evaluate(module, ["joint": joint, "k": .integer(3), "scores": .matrix(scores)])
                let g = out.matrix(grad)
                XCTAssertLessThanOrEqual(out.number(loss), last + 1e-15, "the loss falls")
                last = out.number(loss)
                for i in 0..<2 { for j in 0..<3 { scores[i][j] -= 4 * g[i][j] } }
            }
            let out = try evaluate(module, ["joint": joint, "k": .integer(3), "scores": .matrix(scores)])
            assertClose(scores, out.matrix(optimum), tol: 1e-6, loss)
            XCTAssertEqual(out.number(loss), out.number(loss + "_optimum"), accuracy: 1e-12)
        }
    }

    func testZeroCellHasMinusInfinityOptimumAndFiniteLoss() throws {
        let out = try evaluate(module, ["joint": .matrix([[4, 0, 2], [1, 3, 1]]), "k": .integer(1)])
        XCTAssertEqual(out.matrix("sgns_optimum")[0][1], -.infinity)
        XCTAssertEqual(out.matrix("nce_optimum")[0][1], -.infinity)
        XCTAssertTrue(out.number("nce_loss_optimum").isFinite)
        XCTAssertTrue(out.number("sgns_loss_optimum").isFinite)
        XCTAssertEqual(out.vector("nce_row_sum")[0], 1, accuracy: 1e-15)
    }

    func testBadInputNamesTheParameter() {
        let cases: [(String, [String: Value])] = [
            ("joint", ["joint": .matrix([[1, 0], [0, 0]])]),
            ("joint", ["joint": .matrix([[1, 0], [2, 0]])]),
            ("joint", ["joint": .matrix([[1, -2], [2, 1]])]),
            ("joint", ["joint": .matrix([[1, .infinity], [2, 1]])]),
            ("k", ["k": .integer(0)]),
            ("noise_power", ["noise_power": .number(-1)]),
            ("scores", ["scores": .matrix([[0, 0], [0, 0]])]),
            ("scores", ["scores": .matrix([[0, 0, .nan], [0, 0, 0]])]),
        ]
        for (parameter, values) in cases {
            let error = evaluationError(module, values)
            XCTAssertEqual(error?.parameter, parameter, "\(values): \(String(describing: error))")
        }
    }
}

// MARK: - nce.gaussian

final class NCEGaussianTests: XCTestCase {
    let module = NCEGaussianModule()

    private func values(_ c: [String: Any]) throws -> [String: Value] {
        var v: [String: Value] = [:]
        for key in ["mu", "s", "c", "noise_mean", "noise_sd", "data_mean", "data_sd"] { v[key] = .number(try number(c, key)) }
        if c["points"] as? String == "sampled" {
            v["points"] = .text("sampled")
            v["data_count"] = .integer(try integer(c, "data_count"))
            v["k"] = .integer(try integer(c, "k_param"))
            v["seed"] = .integer(try integer(c, "seed"))
        } else {
            v["data"] = .vector(fixtureVector(c["data"]))
            v["noise"] = .vector(fixtureVector(c["noise"]))
        }
        return v
    }

    func testMatchesTorchAndQuadratureFixtures() throws {
        let cases = try extendedCases("gaussian")
        XCTAssertEqual(cases.count, 6)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let out = try evaluate(module, try values(c))
            if c["data_hex"] != nil {
                // The sampled points replay the generator; Box–Muller goes through the same libm.
                assertClose(out.vector("data"), fixtureVector(c["data_hex"]), tol: 1e-15, name)
                assertClose(out.vector("noise"), fixtureVector(c["noise_hex"]), tol: 1e-15, name)
            }
            for key in ["g_data", "g_noise", "grad_data", "grad_noise", "model_logp_data", "noise_logp_data",
                        "model_logp_noise", "noise_logp_noise"] {
                assertClose(out.vector(key), fixtureVector(c[key]), tol: 1e-13, "\(name) \(key)")
            }
            for key in ["k", "loss", "grad_mu", "grad_s", "grad_c"] {
                assertClose(out.number(key), try number(c, key), tol: 1e-13, "\(name) \(key)")
            }
            for key in ["expected_loss", "expected_grad_c", "expected_grad_mu", "expected_grad_s"] {
                assertClose(out.number(key), try number(c, key), tol: 1e-10, "\(name) \(key)")
            }
        }
    }

    /// The same points through nce.binary give the same classifier, loss and gradients, bit for bit.
    func testAgreesWithNCEBinaryOnItsOwnLogDensities() throws {
        let out = try evaluate(module, ["mu": .number(0.2), "s": .number(1.3), "c": .number(-0.4)])
        let binary = try evaluate(NCEBinaryModule(), [
            "model_logp_data": .vector(out.vector("model_logp_data")), "noise_logp_data": .vector(out.vector("noise_logp_data")),
            "model_logp_noise": .vector(out.vector("model_logp_noise")), "noise_logp_noise": .vector(out.vector("noise_logp_noise")),
        ])
        for key in ["g_data", "g_noise", "h_data", "h_noise", "grad_data", "grad_noise"] {
            XCTAssertEqual(out.vector(key), binary.vector(key), key)
        }
        for key in ["k", "loss", "grad_c", "log_k"] { XCTAssertEqual(out.number(key), binary.number(key), key) }
    }

    func testParameterGradientsMatchFiniteDifferences() throws {
        let base: [String: Value] = ["mu": .number(0.3), "s": .number(0.9), "c": .number(0.2), "noise_mean": .number(-0.4),
                                     "noise_sd": .number(1.7)]
        let out = try evaluate(module, base)
        let numeric = try numericalGradient([0.3, 0.9, 0.2]) { theta in
            var v = base
            v["mu"] = .number(theta[0]); v["s"] = .number(theta[1]); v["c"] = .number(theta[2])
            return try self.module.evaluate(v).outputs["loss"]?.scalar ?? .nan
        }
        assertClose([out.number("grad_mu"), out.number("grad_s"), out.number("grad_c")], numeric, tol: 1e-8)
        let expected = try numericalGradient([0.3, 0.9, 0.2], step: 1e-5) { theta in
            var v = base
            v["mu"] = .number(theta[0]); v["s"] = .number(theta[1]); v["c"] = .number(theta[2])
            return try self.module.evaluate(v).outputs["expected_loss"]?.scalar ?? .nan
        }
        assertClose([out.number("expected_grad_mu"), out.number("expected_grad_s"), out.number("expected_grad_c")],
                    expected, tol: 1e-8)
    }

    /// The lesson's claim: for the right shape the population gradient in c has the sign of c
    /// and vanishes at c = 0, and the truth is stationary in μ and s too.
    func testTheNormaliserIsLearnedInExpectation() throws {
        let truth = try evaluate(module)
        XCTAssertEqual(truth.number("expected_grad_c"), 0, accuracy: 1e-13)
        XCTAssertEqual(truth.number("expected_grad_mu"), 0, accuracy: 1e-13)
        XCTAssertEqual(truth.number("expected_grad_s"), 0, accuracy: 1e-13)
        for c in [-0.5, -0.1, 0.1, 0.5] {
            let out = try evaluate(module, ["c": .number(c)])
            XCTAssertEqual(out.number("expected_grad_c").sign, c.sign, "c = \(c)")
            XCTAssertGreaterThan(out.number("expected_loss"), truth.number("expected_loss"))
        }
    }

    /// Many sampled points: the sample loss and gradient approach their population values.
    func testSampleAveragesApproachPopulationValues() throws {
        let out = try evaluate(module, ["points": .text("sampled"), "data_count": .integer(20_000), "k": .integer(2),
                                        "c": .number(0.3), "seed": .integer(4)])
        XCTAssertEqual(out.number("loss"), out.number("expected_loss"), accuracy: 0.02)
        XCTAssertEqual(out.number("grad_c"), out.number("expected_grad_c"), accuracy: 0.02)
        XCTAssertEqual(out.vector("data").count, 20_000)
        XCTAssertEqual(out.vector("noise").count, 40_000)
        let mean = out.vector("noise").reduce(0, +) / 40_000
        XCTAssertEqual(mean, 0, accuracy: 4 * 2 / 200, "noise mean within four standard errors")
        // Seeded: the same seed gives the same points, another seed others.
        let again = try evaluate(module, ["points": .text("sampled"), "data_count": .integer(5), "seed": .integer(4)])
        let same = try evaluate(module, ["points": .text("sampled"), "data_count": .integer(5), "seed": .integer(4)])
        XCTAssertEqual(again.vector("data"), same.vector("data"))
        let other = try evaluate(module, ["points": .text("sampled"), "data_count": .integer(5), "seed": .integer(5)])
        XCTAssertNotEqual(other.vector("data"), again.vector("data"))
    }

    func testBadInputNamesTheParameter() {
        let cases: [(String, [String: Value])] = [
            ("data", ["data": .vector([])]),
            ("data", ["data": .vector([.nan])]),
            ("noise", ["noise": .vector([])]),
            ("noise", ["noise": .vector([2e6])]),
            ("s", ["s": .number(0)]),
            ("s", ["s": .number(21)]),
            ("noise_sd", ["noise_sd": .number(0.01)]),
            ("data_sd", ["data_sd": .number(-1)]),
            ("c", ["c": .number(.infinity)]),
            ("mu", ["mu": .number(1e4)]),
            ("k", ["points": .text("sampled"), "data_count": .integer(100_000), "k": .integer(11)]),
            ("data_count", ["points": .text("sampled"), "data_count": .integer(0)]),
            ("points", ["points": .text("some")]),
        ]
        for (parameter, values) in cases {
            let error = evaluationError(module, values)
            XCTAssertEqual(error?.parameter, parameter, "\(values): \(String(describing: error))")
        }
    }
}

// MARK: - infonce.train

final class InfoNCETrainTests: XCTestCase {
    let module = InfoNCETrainModule()

    /// A numpy replay of the same seeded stream with torch gradients: the whole run agrees.
    func testMatchesNumpyReplay() throws {
        let cases = try extendedCases("train")
        XCTAssertEqual(cases.count, 4)
        for c in cases {
            let values: [String: Value] = [
                "dims": .integer(try integer(c, "dims")), "width": .integer(try integer(c, "width")),
                "noise": .number(try number(c, "noise")), "batch": .integer(try integer(c, "batch")),
                "steps": .integer(try integer(c, "steps")), "lr": .number(try number(c, "lr")),
                "tau": .number(try number(c, "tau")), "critic": .text(try XCTUnwrap(c["critic"] as? String)),
                "seed": .integer(try integer(c, "seed")), "points": .integer(try integer(c, "points")),
                "eval_batches": .integer(try integer(c, "eval_batches")),
            ]
            let out = try evaluate(module, values)
            let label = "\(values["critic"]!)"
            assertClose(out.vector("loss_curve"), fixtureVector(c["loss_curve"]), tol: 1e-9, label)
            assertClose(out.matrix("w1"), fixtureMatrix(c["w1"]), tol: 1e-9, label)
            assertClose(out.matrix("w2"), fixtureMatrix(c["w2"]), tol: 1e-9, label)
            for key in ["initial_bound", "final_bound", "final_bound_se", "ideal_bound", "final_accuracy",
                        "max_batch_bound", "mi_true", "mi_encoder", "mi_encoder_initial", "mi_encoder_max"] {
                assertClose(out.number(key), try number(c, key), tol: 1e-9, "\(label) \(key)")
            }
        }
    }

    private func batchFixture(_ c: [String: Any]) throws -> (LinearEncoderPair, [[Double]], [[Double]]) {
        let critic = try XCTUnwrap(EncoderCritic(rawValue: try XCTUnwrap(c["critic"] as? String)))
        let pair = LinearEncoderPair(w1: fixtureMatrix(c["w1"]), w2: fixtureMatrix(c["w2"]), critic: critic,
                                     tau: try number(c, "tau"))
        return (pair, fixtureMatrix(c["v1"]), fixtureMatrix(c["v2"]))
    }

    func testBatchGradientMatchesTorchAndFiniteDifferences() throws {
        let cases = try extendedCases("train_gradients")
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let (pair, v1, v2) = try batchFixture(c)
            let e = pair.evaluate(v1, v2)
            let label = pair.critic.rawValue
            assertClose(e.loss, try number(c, "loss"), tol: 1e-13, label)
            assertClose(e.gradW1, fixtureMatrix(c["grad_w1"]), tol: 1e-13, label)
            assertClose(e.gradW2, fixtureMatrix(c["grad_w2"]), tol: 1e-13, label)
            XCTAssertEqual(e.correct, try integer(c, "correct"), label)
            let k = pair.w1.count, d = pair.w1[0].count
            let flat = pair.w1.flatMap { $0 } + pair.w2.flatMap { $0 }
            let numeric = numericalGradient(flat) { x in
                var p = pair
                p.w1 = (0..<k).map { Array(x[($0 * d)..<($0 * d + d)]) }
                p.w2 = (0..<k).map { Array(x[(k * d + $0 * d)..<(k * d + $0 * d + d)]) }
                return p.evaluate(v1, v2, gradients: false).loss
            }
            assertClose(e.gradW1.flatMap { $0 } + e.gradW2.flatMap { $0 }, numeric, tol: 1e-7, label)
        }
    }

    /// The bound of a trained encoder rises on every seed, ends near the ideal critic's on the
    /// same batches, and no batch ever shows more than log B.
    func testTrainingRaisesTheBoundAcrossSeeds() throws {
        for seed in 1...5 {
            let out = try evaluate(module, ["seed": .integer(seed)])
            let label = "seed \(seed)"
            XCTAssertGreaterThan(out.number("final_bound"), out.number("initial_bound") + 0.5, label)
            XCTAssertEqual(out.number("final_bound"), out.number("ideal_bound"), accuracy: 0.1, label)
            XCTAssertLessThanOrEqual(out.number("max_batch_bound"), out.number("log_b"), label)
            let curve = out.vector("bound_curve")
            XCTAssertGreaterThan(curve[curve.count - 1], curve[0], label)
            // The ideal critic's expected bound is below I; its estimate here is within noise of it.
            XCTAssertLessThan(out.number("ideal_bound"), out.number("mi_true") + 0.1, label)
            assertClose(zip(out.vector("loss_curve"), curve).map { $0 + $1 }, [Double](repeating: out.number("log_b"), count: 20),
                        tol: 1e-13, label)
        }
    }

    /// I(v₁; v₂) by hand at σ = 1 in two dimensions: ρ = 1/2, so I = 2·(−½ log(3/4)) = log(4/3).
    func testMutualInformationByHand() throws {
        let task = TwoViewGaussianTask(dims: 2, noise: 1)
        XCTAssertEqual(task.mutualInformation, log(4.0 / 3), accuracy: 1e-15)
        // One feature that reads one coordinate of each view carries one coordinate's worth;
        // two features spanning the plane carry all of it; encoders reading different
        // coordinates share nothing.
        XCTAssertEqual(task.encoderInformation([[1, 0]], [[3, 0]]), 0.5 * log(4.0 / 3), accuracy: 1e-15)
        XCTAssertEqual(task.encoderInformation([[1, 2], [0, 1]], [[1, 1], [2, -1]]), log(4.0 / 3), accuracy: 1e-14)
        XCTAssertEqual(task.encoderInformation([[1, 0]], [[0, 1]]), 0, accuracy: 1e-15)
        // Rank-deficient: three features in two dimensions are no more than two.
        XCTAssertEqual(task.encoderInformation([[1, 0], [0, 1], [1, 1]], [[1, 0], [0, 1], [2, 3]]), log(4.0 / 3), accuracy: 1e-14)
    }

    /// Noise of different size per coordinate, by hand: σ = (1, 2) gives a = (2, 5), so coordinate 0
    /// carries ½ log(4/3) and coordinate 1 ½ log(1 + 1/24) = ½ log(25/24).
    func testPerCoordinateNoiseByHand() throws {
        let task = TwoViewGaussianTask(dims: 2, noise: [1, 2])
        let i0 = 0.5 * log(4.0 / 3), i1 = 0.5 * log(25.0 / 24)
        XCTAssertEqual(task.mutualInformation, i0 + i1, accuracy: 1e-15)
        XCTAssertEqual(task.maxEncoderInformation(width: 1), i0, accuracy: 1e-15)
        XCTAssertEqual(task.maxEncoderInformation(width: 5), i0 + i1, accuracy: 1e-15)
        XCTAssertEqual(task.encoderInformation([[1, 0]], [[2, 0]]), i0, accuracy: 1e-15)
        XCTAssertEqual(task.encoderInformation([[0, 1]], [[0, -3]]), i1, accuracy: 1e-15)
        XCTAssertEqual(task.encoderInformation([[1, 1], [1, -1]], [[2, 0], [0, 1]]), i0 + i1, accuracy: 1e-14)
        // One feature each, against the correlation of the two Gaussians: ρ = w₁·w₂/√(w₁ᵀAw₁ · w₂ᵀAw₂).
        var random = TestRandom(seed: 9)
        for _ in 0..<10 {
            let w1 = random.vector(2, in: -2...2), w2 = random.vector(2, in: -2...2)
            let rho = (w1[0] * w2[0] + w1[1] * w2[1])
                / ((2 * w1[0] * w1[0] + 5 * w1[1] * w1[1]) * (2 * w2[0] * w2[0] + 5 * w2[1] * w2[1])).squareRoot()
            XCTAssertEqual(task.encoderInformation([w1], [w2]), -0.5 * log(1 - rho * rho), accuracy: 1e-13)
            XCTAssertLessThanOrEqual(task.encoderInformation([w1], [w2]), i0 + 1e-15)
        }
        // The probe: g = v₀ reads x₀ with R² = 1/a₀ = 1/2; g = v₀ + v₁ has variance 7 and covariance 1
        // with each coordinate of x, so R² = 1/7 for both. The feature scale is √(w A wᵀ).
        assertClose(task.probeR2([[1, 0]]), [0.5, 0], tol: 1e-15)
        assertClose(task.probeR2([[3, 3]]), [1.0 / 7, 1.0 / 7], tol: 1e-15)
        assertClose(task.probeR2([[1, 0], [0, 1], [1, 1]]), [0.5, 0.2], tol: 1e-15)
        XCTAssertEqual(task.featureScale([[1, 1]]), 7.0.squareRoot(), accuracy: 1e-15)
    }

    /// One noise number is the same as that number repeated per coordinate.
    func testScalarNoiseIsEveryCoordinate() throws {
        let scalar = try evaluate(module, ["steps": .integer(50), "points": .integer(5)])
        let vector = try evaluate(module, ["steps": .integer(50), "points": .integer(5), "noise": .vector([0.5, 0.5])])
        for name in scalar.names { XCTAssertEqual(scalar[name], vector[name], name) }
        // Isotropic noise: every direction carries the same share, so the probe's R² sums to rank/a.
        let one = try evaluate(module, ["width": .integer(1), "steps": .integer(50), "points": .integer(5)])
        XCTAssertEqual(one.vector("probe_r2").reduce(0, +), 1 / 1.25, accuracy: 1e-14)
        XCTAssertEqual(one.vector("probe_r2_initial").reduce(0, +), 1 / 1.25, accuracy: 1e-14)
    }

    /// With a quiet and a loud coordinate and one feature per side, training keeps the quiet one:
    /// the feature reads x₀ almost as well as the whole view can and x₁ not at all.
    func testUnequalNoiseTeachesTheQuietCoordinate() throws {
        for seed in 1...5 {
            let out = try evaluate(module, ["width": .integer(1), "noise": .vector([0.2, 2]), "seed": .integer(seed)])
            let label = "seed \(seed)"
            let w1 = out.matrix("w1")[0], w2 = out.matrix("w2")[0], probe = out.vector("probe_r2")
            XCTAssertGreaterThan(abs(w1[0]), 5 * abs(w1[1]), label)
            XCTAssertGreaterThan(abs(w2[0]), 5 * abs(w2[1]), label)
            XCTAssertGreaterThan(probe[0], 0.9, label)
            XCTAssertLessThanOrEqual(probe[0], 1 / 1.04 + 1e-15, label)
            assertClose(out.vector("view_r2"), [1 / 1.04, 1 / 5.0], tol: 1e-15, label)
            XCTAssertLessThan(probe[1], 0.02, label)
            XCTAssertEqual(out.number("mi_encoder_max"), 0.5 * log1p(1 / (0.04 * 2.04)), accuracy: 1e-15)
            XCTAssertLessThanOrEqual(out.number("mi_encoder"), out.number("mi_encoder_max"))
        }
    }

    /// Without negatives the distance loss is minimised by W = 0: the features shrink to nothing and
    /// the InfoNCE bound on the evaluation batches falls to 0.
    func testPositivesAloneCollapse() throws {
        let out = try evaluate(module, ["width": .integer(1), "negatives": .bool(false)])
        XCTAssertLessThan(out.number("feature_rms"), 1e-6 * out.number("feature_rms_initial"))
        XCTAssertEqual(out.number("final_bound"), 0, accuracy: 1e-9)
        let curve = out.vector("loss_curve")
        XCTAssertLessThan(curve[curve.count - 1], 1e-12 * curve[0], "the positive term heads to 0")
        XCTAssertLessThanOrEqual(out.number("max_batch_bound"), out.number("log_b"))
        // The same run with negatives keeps its features.
        let kept = try evaluate(module, ["width": .integer(1)])
        XCTAssertGreaterThan(kept.number("feature_rms"), kept.number("feature_rms_initial"))
    }

    /// Data processing: narrower encoders cap what the bound can reach, below mi_true.
    func testNarrowEncodersCapTheInformation() throws {
        let out = try evaluate(module, ["dims": .integer(4), "width": .integer(1), "steps": .integer(200)])
        XCTAssertLessThanOrEqual(out.number("mi_encoder"), out.number("mi_encoder_max") + 1e-12)
        XCTAssertEqual(out.number("mi_encoder_max"), out.number("mi_true") / 4, accuracy: 1e-15)
        XCTAssertLessThan(out.number("final_bound"), out.number("mi_encoder_max") + 3 * out.number("final_bound_se"))
    }

    /// A cosine critic is bounded by 1/τ: every row's bound stays below 2/τ however long it trains.
    func testCosineCriticStaysBelowTwoOverTau() throws {
        let out = try evaluate(module, ["critic": .text("cosine"), "tau": .number(2), "lr": .number(1), "noise": .number(0.1)])
        XCTAssertLessThan(out.number("max_batch_bound"), 2.0 / 2)
        XCTAssertGreaterThan(out.number("mi_true"), 2, "the views share far more than the critic can show")
    }

    func testSeededAndReproducible() throws {
        let values: [String: Value] = ["steps": .integer(40), "seed": .integer(12), "points": .integer(4)]
        let a = try evaluate(module, values), b = try evaluate(module, values)
        XCTAssertEqual(a.vector("loss_curve"), b.vector("loss_curve"))
        XCTAssertEqual(a.matrix("w1"), b.matrix("w1"))
        var other = values
        other["seed"] = .integer(13)
        XCTAssertNotEqual(try evaluate(module, other).vector("loss_curve"), a.vector("loss_curve"))
        // lr = 0 trains nothing: the evaluation before and after is the same.
        let frozen = try evaluate(module, ["lr": .number(0), "steps": .integer(5), "points": .integer(5)])
        XCTAssertEqual(frozen.number("initial_bound"), frozen.number("final_bound"))
    }

    func testBadInputNamesTheParameter() {
        let cases: [(String, [String: Value])] = [
            ("points", ["steps": .integer(10), "points": .integer(11)]),
            ("steps", ["steps": .integer(5000), "batch": .integer(256), "width": .integer(16)]),
            ("steps", ["steps": .integer(0)]),
            ("lr", ["critic": .text("bilinear"), "lr": .number(100), "tau": .number(0.01), "noise": .number(0.01)]),
            ("lr", ["lr": .number(-1)]),
            ("tau", ["tau": .number(0)]),
            ("noise", ["noise": .number(0)]),
            ("noise", ["noise": .vector([0.5, 0.5, 0.5])]),
            ("noise", ["dims": .integer(3), "noise": .vector([0.5, 0.5])]),
            ("noise", ["noise": .vector([0.5, 0])]),
            ("batch", ["batch": .integer(1)]),
            ("dims", ["dims": .integer(17)]),
            ("critic", ["critic": .text("dot")]),
        ]
        for (parameter, values) in cases {
            let error = evaluationError(module, values)
            XCTAssertEqual(error?.parameter, parameter, "\(values): \(String(describing: error))")
        }
    }
}
