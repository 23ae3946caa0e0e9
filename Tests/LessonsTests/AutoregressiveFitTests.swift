import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// The n bits of k as a row, pixel 0 the most significant.
private func bits(_ k: Int, _ n: Int) -> [Double] {
    (0..<n).map { i in Double((k >> (n - 1 - i)) & 1) }
}

private func rows(_ x: [Double], width: Int) -> [[Double]] {
    stride(from: 0, to: x.count, by: width).map { Array(x[$0..<($0 + width)]) }
}

final class FVSBNExactTests: XCTestCase {
    let module = FVSBNExactModule()
    let density = FVSBNModule()

    func testSumsAgreeWithEnumeratingTheDensityModule() throws {
        var random = TestRandom(seed: 5)
        for (h, w) in [(1, 1), (1, 3), (2, 3), (2, 4)] {
            let n = h * w
            let bias = random.vector(n, in: -2...2)
            let weights = (0..<n).map { _ in random.vector(n, in: -2...2) }
            // Event: pixel 0 on, pixel n−1 off when n > 1, the rest free.
            var event = [Double](repeating: -1, count: n)
            event[0] = 1
            if n > 1 { event[n - 1] = 0 }
            let out = try evaluate(module, ["bias": .vector(bias), "weights": .matrix(weights),
                                            "h": .integer(h), "w": .integer(w), "event": .matrix(rows(event, width: w))])
            var total = 0.0, entropy = 0.0, eventP = 0.0, best = -Double.infinity, bestK = 0
            var marg = [Double](repeating: 0, count: n), given = [Double](repeating: 0, count: n)
            for k in 0..<(1 << n) {
                let x = bits(k, n)
                let lp = try evaluate(density, ["bias": .vector(bias), "weights": .matrix(weights),
                                                "image": .matrix(rows(x, width: w)), "lr": .number(0)]).number("log_likelihood")
                let p = exp(lp)
                total += p
                entropy -= p * lp
                if lp > best { best = lp; bestK = k }
                for i in 0..<n { marg[i] += p * x[i] }
                if x[0] == 1 && (n == 1 || x[n - 1] == 0) {
                    eventP += p
                    for i in 0..<n { given[i] += p * x[i] }
                }
            }
            XCTAssertEqual(out["images"], .integer(1 << n))
            assertClose(out.number("total_probability"), 1, tol: 1e-12)
            assertClose(out.number("total_probability"), total, tol: 1e-12)
            assertClose(out.number("entropy"), entropy, tol: 1e-12)
            assertClose(out.matrix("marginals").flatMap { $0 }, marg, tol: 1e-12)
            assertClose(out.number("event_probability"), eventP, tol: 1e-12)
            assertClose(out.matrix("conditional_marginals").flatMap { $0 }, given.map { $0 / eventP }, tol: 1e-12)
            XCTAssertEqual(out.matrix("mode_image").flatMap { $0 }, bits(bestK, n))
            assertClose(out.number("mode_log_likelihood"), best, tol: 1e-12)
        }
    }

    func testStrokeModelAgainstNumpy() throws {
        // numpy enumeration of the default 4×4 stroke model (bias −1.5, coupling 1.5):
        // Fixtures/make_autoregressive_exact.py.
        let out = try evaluate(module, [:])
        assertClose(out.number("entropy"), 7.2542208748828125, tol: 1e-10)
        assertClose(out.matrix("marginals")[3][3], 0.7712831944687351, tol: 1e-12)
        XCTAssertEqual(out.matrix("mode_image"), [[Double]](repeating: [0, 0, 0, 0], count: 4))
        assertClose(out.number("mode_log_likelihood"), 16 * log(1 / (1 + exp(-1.5))), tol: 1e-12)
        var event = [[Double]](repeating: [-1, -1, -1, -1], count: 4)
        event[3][3] = 1
        let given = try evaluate(module, ["event": .matrix(event)])
        assertClose(given.number("event_probability"), 0.7712831944687351, tol: 1e-12)
        assertClose(given.matrix("conditional_marginals")[0][0], 0.20430449845586293, tol: 1e-12)
        XCTAssertEqual(given.matrix("conditional_marginals")[3][3], 1)
    }

    func testBadInputNamesTheParameter() {
        XCTAssertEqual(evaluationError(module, ["h": .integer(5), "w": .integer(5)])?.parameter, "w")
        XCTAssertEqual(evaluationError(module, ["event": .matrix([[1, 0]])])?.parameter, "event")
        XCTAssertEqual(evaluationError(module, ["event": .matrix([[Double]](repeating: [0.5, 0, 0, 0], count: 4))])?.parameter, "event")
    }
}

final class AutoregressiveFitTests: XCTestCase {
    let module = AutoregressiveFitModule()

    func testFVSBNCannotFitExclusiveOr() throws {
        // By symmetry the best logistic regression of x₃ on x₁, x₂ is ½ everywhere, and the
        // gradient at zero is zero: the fit stays at log p = 3 log ½ for each image.
        let out = try evaluate(module, ["model": .text("fvsbn")])
        assertClose(out.number("train_log_likelihood"), -3 * log(2.0), tol: 1e-12)
        XCTAssertEqual(out["params"], .integer(6))
        XCTAssertEqual(out["distinct"], .integer(4))
    }

    func testNADEFitsExclusiveOr() throws {
        // The default: H = 2, 2000 steps. The optimum −2 log 2 is approached as weights grow.
        let out = try evaluate(module, [:])
        XCTAssertGreaterThan(out.number("train_log_likelihood"), -2 * log(2.0) - 0.01)
        XCTAssertLessThan(out.number("train_log_likelihood"), -2 * log(2.0))
        let p = out.matrix("test_conditionals")
        for (r, x) in AutoregressiveFitModule.xor.enumerated() {
            XCTAssertEqual(p[r][2], x[2], accuracy: 0.02)
        }
        XCTAssertEqual(out["params"], .integer(2 * 3 * 2 + 3 + 2))
        XCTAssertEqual(out.vector("curve").count, 2001)
    }

    func testFVSBNRecoversTheClosedFormOptimumOfTwoPixels() throws {
        let data: [[Double]] = [[1, 1], [1, 1], [1, 1], [1, 0], [0, 1], [0, 0]]
        // p(x₁ = 1) = 4/6, p(x₂ = 1 | x₁ = 1) = 3/4, p(x₂ = 1 | x₁ = 0) = 1/2: the maximum-likelihood
        // FVSBN has b₁ = logit(4/6), b₂ = logit(1/2) and W₂₁ = logit(3/4) − logit(1/2).
        let out = try evaluate(module, ["data": .matrix(data), "model": .text("fvsbn"),
                                        "steps": .integer(5000), "lr": .number(4)])
        let logit = { (p: Double) in log(p / (1 - p)) }
        assertClose(out.vector("bias"), [logit(4.0 / 6), logit(0.5)], tol: 1e-9)
        assertClose(out.matrix("weights")[1][0], logit(0.75) - logit(0.5), tol: 1e-9)
        XCTAssertEqual(out.matrix("weights")[0][1], 0)
        let best = (4 * log(4.0 / 6) + 2 * log(2.0 / 6) + 3 * log(0.75) + log(0.25) + 2 * log(0.5)) / 6
        assertClose(out.number("train_log_likelihood"), best, tol: 1e-12)
        // The curve never falls for this concave objective at this step size.
        let curve = out.vector("curve")
        for (a, b) in zip(curve, curve.dropFirst()) { XCTAssertGreaterThanOrEqual(b, a - 1e-15) }
    }

    func testReverseOrderIsRasterOrderOnReversedColumns() throws {
        var random = TestRandom(seed: 9)
        let data = (0..<40).map { _ in random.vector(5, in: 0...1).map { $0 < 0.4 ? 1.0 : 0.0 } }
        for family in ["fvsbn", "nade"] {
            let a = try evaluate(module, ["data": .matrix(data), "model": .text(family), "order": .text("reverse"), "steps": .integer(50)])
            let b = try evaluate(module, ["data": .matrix(data.map { Array($0.reversed()) }), "model": .text(family), "steps": .integer(50)])
            XCTAssertEqual(a.vector("curve"), b.vector("curve"))
            XCTAssertEqual(a.vector("bias"), Array(b.vector("bias").reversed()))
            XCTAssertEqual(a.matrix("test_conditionals"), b.matrix("test_conditionals").map { Array($0.reversed()) })
            if family == "fvsbn" {
                let wa = a.matrix("weights"), wb = b.matrix("weights")
                for i in 0..<5 { for j in 0..<5 { XCTAssertEqual(wa[i][j], wb[4 - i][4 - j]) } }
            }
        }
    }

    func testNADEAgainstNumpy() throws {
        // Values from Fixtures/make_autoregressive_exact.py (the NADE formula computed directly).
        var model = AutoregressiveFit(family: .nade, pixels: 3, hidden: 2, scale: 0, seed: 0)
        model.A = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]
        model.V = [[1.0, -2.0], [0.5, 1.5], [-1.25, 0.75]]
        model.b = [0.1, -0.2, 0.3]
        model.c = [-0.5, 0.4]
        let e = model.evaluate([1, 0, 1])
        assertClose(e.conditionals, [0.3274293948544826, 0.7949193405273135, 0.5811311609823293], tol: 1e-14)
        assertClose(e.logLikelihood, -3.243613548974811, tol: 1e-13)
    }

    func testNADEIsNormalisedAndItsGradientMatchesFiniteDifferences() throws {
        let n = 5, H = 3
        var random = TestRandom(seed: 21)
        let data = (0..<7).map { _ in random.vector(n, in: 0...1).map { $0 < 0.5 ? 1.0 : 0.0 } }
        let weights = [Double](repeating: 1.0 / 7, count: 7)
        var model = AutoregressiveFit(family: .nade, pixels: n, hidden: H, scale: 1.5, seed: 4)
        model.b = random.vector(n, in: -1...1)
        model.c = random.vector(H, in: -1...1)
        // Σ over all 2ⁿ images of p(x) is 1.
        var total = 0.0
        for k in 0..<(1 << n) { total += exp(model.evaluate(bits(k, n)).logLikelihood) }
        assertClose(total, 1, tol: 1e-12)
        // The step with lr = 1 moves each parameter by its gradient.
        func mean(_ m: AutoregressiveFit) -> Double {
            zip(data, weights).reduce(0) { $0 + $1.1 * m.evaluate($1.0).logLikelihood }
        }
        var stepped = model
        let before = stepped.step(rows: data, weights: weights, lr: 1)
        assertClose(before, mean(model), tol: 1e-12)
        let eps = 1e-6
        for (k, i) in [(0, 0), (1, 2), (2, 3)] {
            var plus = model, minus = model
            plus.A[k][i] += eps; minus.A[k][i] -= eps
            assertClose(stepped.A[k][i] - model.A[k][i], (mean(plus) - mean(minus)) / (2 * eps), tol: 1e-7)
            plus = model; minus = model
            plus.V[i][k] += eps; minus.V[i][k] -= eps
            assertClose(stepped.V[i][k] - model.V[i][k], (mean(plus) - mean(minus)) / (2 * eps), tol: 1e-7)
        }
        for k in 0..<H {
            var plus = model, minus = model
            plus.c[k] += eps; minus.c[k] -= eps
            assertClose(stepped.c[k] - model.c[k], (mean(plus) - mean(minus)) / (2 * eps), tol: 1e-7)
        }
        for i in 0..<n {
            var plus = model, minus = model
            plus.b[i] += eps; minus.b[i] -= eps
            assertClose(stepped.b[i] - model.b[i], (mean(plus) - mean(minus)) / (2 * eps), tol: 1e-7)
        }
    }

    func testBadInputNamesTheParameter() {
        XCTAssertEqual(evaluationError(module, ["data": .matrix([[0, 2]])])?.parameter, "data")
        XCTAssertEqual(evaluationError(module, ["test": .matrix([[0, 1]])])?.parameter, "test")
        XCTAssertEqual(evaluationError(module, ["test": .matrix([[0, 1, 0.5]])])?.parameter, "test")
        XCTAssertEqual(evaluationError(module, ["model": .text("rbm")])?.parameter, "model")
        let big = [[Double]](repeating: [Double](repeating: 0, count: 100), count: 1)
        XCTAssertNoThrow(try module.evaluate(["data": .matrix(big), "test": .matrix(big), "steps": .integer(1)]))
    }
}
