import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// Asserts |a − b| ≤ rtol·|b| + atol elementwise: relative where the reference is accurate to the
/// last bit, with an absolute floor for entries that are zero up to rounding.
private func assertRelative(_ a: [Double], _ b: [Double], rtol: Double, atol: Double = 0, _ message: String = "",
                            file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "length differs \(message)", file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() where !(abs(x - y) <= rtol * abs(y) + atol) {
        XCTFail("[\(i)] \(x) vs \(y): relative error \(abs(x - y) / abs(y)) \(message)", file: file, line: line)
        return
    }
}

private func assertRelative(_ a: [[Double]], _ b: [[Double]], rtol: Double, atol: Double = 0, _ message: String = "",
                            file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "row count differs \(message)", file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() {
        assertRelative(x, y, rtol: rtol, atol: atol, "row \(i) \(message)", file: file, line: line)
    }
}

/// ‖a − b‖ / ‖b‖ over all entries.
private func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    let diff = zip(a, b).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    let size = b.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
    return diff / size
}

private func fixtureCases(_ key: String) throws -> [[String: Any]] {
    let root = try XCTUnwrap(loadFixture("infonce.json") as? [String: Any])
    return try XCTUnwrap(root[key] as? [[String: Any]], "fixture has no \(key)")
}

private func matrixValue(_ rows: [[Double]]) -> Value { .matrix(rows) }

// MARK: - infonce.loss

final class InfoNCELossTests: XCTestCase {
    let module = InfoNCELossModule()

    func testMatchesNumpyAndMpmathFixtures() throws {
        let cases = try fixtureCases("infonce_loss")
        XCTAssertGreaterThanOrEqual(cases.count, 9)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let out = try evaluate(module, [
                "scores": matrixValue(fixtureMatrix(c["scores"])),
                "positive": .integer(try XCTUnwrap(c["positive"] as? Int)),
                "temperature": .number(try XCTUnwrap(fixtureNumber(c["temperature"]))),
            ])
            let loss = try XCTUnwrap(fixtureNumber(c["loss"]))
            assertRelative([out.number("loss")], [loss], rtol: 1e-12, name)
            assertRelative(out.vector("row_loss"), fixtureVector(c["row_loss"]), rtol: 1e-12, name)
            assertRelative(out.matrix("logits"), fixtureMatrix(c["logits"]), rtol: 1e-15, name)
            assertRelative(out.matrix("probabilities"), fixtureMatrix(c["probabilities"]), rtol: 1e-11, atol: 1e-300, name)
            // Reference gradients are mpmath central differences, accurate far past double precision.
            assertRelative(out.matrix("grad"), fixtureMatrix(c["grad"]), rtol: 1e-10, atol: 1e-300, name)
            assertRelative([out.number("mi_bound")], [try XCTUnwrap(fixtureNumber(c["mi_bound"]))], rtol: 1e-12, atol: 1e-15, name)
            XCTAssertEqual(out.number("accuracy"), try XCTUnwrap(fixtureNumber(c["accuracy"])), name)
        }
    }

    func testTwoEqualScoresGiveLogTwo() throws {
        let out = try evaluate(module, ["scores": .vector([0.7, 0.7]), "temperature": .number(0.5)])
        assertClose(out.number("loss"), log(2), tol: 1e-15)
        assertClose(out.matrix("probabilities")[0], [0.5, 0.5], tol: 1e-16)
        // (p − onehot)/(τB) = ([0.5, 0.5] − [1, 0]) / 0.5
        assertClose(out.matrix("grad")[0], [-1, 1], tol: 1e-15)
        assertClose(out.number("mi_bound"), 0, tol: 1e-15)
    }

    func testSingleCandidateHasZeroLossAndZeroBound() throws {
        let out = try evaluate(module, ["scores": .matrix([[5], [-3], [1e4]]), "temperature": .number(1e-3)])
        XCTAssertEqual(out.number("loss"), 0)
        XCTAssertEqual(out.number("mi_bound"), 0)
        XCTAssertEqual(out.vector("row_loss"), [0, 0, 0])
        XCTAssertEqual(out.number("accuracy"), 1)
        for row in out.matrix("grad") {
            XCTAssertEqual(row, [0])
            XCTAssertEqual(row[0].sign, .plus, "no negative zero in the gradient")
        }
    }

    func testExtremeScoresAndTemperatureStayFinite() throws {
        let out = try evaluate(module, [
            "scores": .matrix([[1e4, -1e4, 0], [-1e4, 1e4, 0]]), "temperature": .number(1e-3),
        ])
        // Row 0: the positive leads by 10⁷, e^(−10⁷) underflows, loss 0. Row 1: it trails by 2·10⁷.
        XCTAssertEqual(out.vector("row_loss"), [0, 2e7])
        XCTAssertEqual(out.number("loss"), 1e7)
        XCTAssertEqual(out.matrix("probabilities"), [[1, 0, 0], [0, 1, 0]])
        // Row 1: (p − onehot)/(τB) = ([0, 1, 0] − [1, 0, 0]) / (10⁻³·2)
        XCTAssertEqual(out.matrix("grad")[1], [-500, 500, 0])
        XCTAssertEqual(out.number("accuracy"), 0.5)
        XCTAssertEqual(out.matrix("logits")[0], [1e7, -1e7, 0])
    }

    func testTieBetweenPositiveAndNegative() throws {
        // log(e² + e² + e⁻¹) − 2 = log(2 + e⁻³)
        let expected = log(2 + exp(-3.0))
        for (positive, accuracy) in [(0, 1.0), (1, 0.0)] {
            let out = try evaluate(module, ["scores": .vector([2, 2, -1]), "positive": .integer(positive)])
            assertClose(out.number("loss"), expected, tol: 1e-15)
            XCTAssertEqual(out.number("accuracy"), accuracy, "the first largest score wins a tie")
        }
    }

    func testDominantPositiveKeepsRelativePrecision() throws {
        // loss = log(1 + 2e⁻⁴⁰) = 2e⁻⁴⁰ − 2e⁻⁸⁰ + …; log of a rounded sum would give exactly 0.
        let out = try evaluate(module, ["scores": .vector([40, 0, 0])])
        assertRelative([out.number("loss")], [2 * exp(-40.0)], rtol: 1e-15)
        assertRelative(out.matrix("grad")[0], [-2 * exp(-40.0), exp(-40.0), exp(-40.0)], rtol: 1e-15)
    }

    func testTemperatureOnlyRescalesScores() throws {
        var rng = TestRandom(seed: 7)
        let scores = (0..<3).map { _ in rng.vector(5, in: -2...2) }
        let tau = 0.25
        let a = try evaluate(module, ["scores": .matrix(scores), "temperature": .number(tau), "positive": .integer(2)])
        let b = try evaluate(module, ["scores": .matrix(scores.map { $0.map { $0 / tau } }), "positive": .integer(2)])
        assertClose(a.number("loss"), b.number("loss"), tol: 1e-13)
        // ∂/∂s = (1/τ)·∂/∂(s/τ)
        assertClose(a.matrix("grad"), b.matrix("grad").map { $0.map { $0 / tau } }, tol: 1e-13)
    }

    func testGradientMatchesCentralDifferences() throws {
        var rng = TestRandom(seed: 11)
        for (b, n, tau, positive) in [(1, 2, 1.0, 1), (3, 5, 0.5, 0), (4, 6, 0.1, 4), (2, 8, 2.0, 7)] {
            let scores = (0..<b).map { _ in rng.vector(n, in: -1.5...1.5) }
            let out = try evaluate(module, ["scores": .matrix(scores), "temperature": .number(tau), "positive": .integer(positive)])
            let numeric = try numericalGradient(scores.flatMap { $0 }) { flat in
                let rows = (0..<b).map { Array(flat[($0 * n)..<($0 * n + n)]) }
                return try evaluate(module, ["scores": .matrix(rows), "temperature": .number(tau), "positive": .integer(positive)]).number("loss")
            }
            let err = relativeError(out.matrix("grad").flatMap { $0 }, numeric)
            XCTAssertLessThan(err, 1e-6, "B=\(b) N=\(n) τ=\(tau)")
        }
    }

    func testLossIsNonNegativeAndBoundAtMostLogN() throws {
        var rng = TestRandom(seed: 3)
        for _ in 0..<50 {
            let n = Int.random(in: 1...9, using: &rng)
            let scores = (0..<3).map { _ in rng.vector(n, in: -30...30) }
            let out = try evaluate(module, ["scores": .matrix(scores), "positive": .integer(Int.random(in: 0..<n, using: &rng))])
            XCTAssertGreaterThanOrEqual(out.number("loss"), 0)
            XCTAssertLessThanOrEqual(out.number("mi_bound"), log(Double(n)))
            for row in out.matrix("grad") { assertClose(row.reduce(0, +), 0, tol: 1e-15) }
        }
    }

    func testRejectsBadParameters() {
        XCTAssertEqual(evaluationError(module, ["scores": .vector([1, 2]), "positive": .integer(2)])?.parameter, "positive")
        XCTAssertEqual(evaluationError(module, ["scores": .vector([1, 2]), "positive": .integer(-1)])?.parameter, "positive")
        XCTAssertEqual(evaluationError(module, ["temperature": .number(0)])?.parameter, "temperature")
        XCTAssertEqual(evaluationError(module, ["temperature": .number(-1)])?.parameter, "temperature")
        XCTAssertEqual(evaluationError(module, ["scores": .vector([1, .nan])])?.parameter, "scores")
        XCTAssertEqual(evaluationError(module, ["scores": .vector([1, .infinity])])?.parameter, "scores")
        XCTAssertEqual(evaluationError(module, ["scores": .vector([1, 1e101])])?.parameter, "scores")
        XCTAssertEqual(evaluationError(module, ["scores": .matrix([[1, 2], [3]])])?.parameter, "scores")
        let message = evaluationError(module, ["scores": .vector([1, 2, 3]), "positive": .integer(5)])?.message ?? ""
        XCTAssertTrue(message.contains("3 candidates"), message)
    }

    func testDefaultsRun() throws {
        let out = try evaluate(module)
        // Row 0 ranks the positive first, row 1 does not.
        XCTAssertEqual(out.number("accuracy"), 0.5)
        XCTAssertEqual(out.number("log_n"), log(4))
    }
}

// MARK: - infonce.batch

final class InfoNCEBatchTests: XCTestCase {
    let module = InfoNCEBatchModule()

    func testMatchesNumpyAndMpmathFixtures() throws {
        let cases = try fixtureCases("infonce_batch")
        XCTAssertGreaterThanOrEqual(cases.count, 6)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let out = try evaluate(module, [
                "anchors": .matrix(fixtureMatrix(c["anchors"])),
                "positives": .matrix(fixtureMatrix(c["positives"])),
                "temperature": .number(try XCTUnwrap(fixtureNumber(c["temperature"]))),
                "normalize": .bool(try XCTUnwrap(c["normalize"] as? Bool)),
                "symmetric": .bool(try XCTUnwrap(c["symmetric"] as? Bool)),
            ])
            assertClose(out.matrix("similarity"), fixtureMatrix(c["similarity"]), tol: 1e-14, name)
            assertClose(out.matrix("logits"), fixtureMatrix(c["logits"]), tol: 1e-12, name)
            assertClose(out.matrix("probabilities"), fixtureMatrix(c["probabilities"]), tol: 1e-12, name)
            for key in ["loss", "loss_rows", "loss_columns", "mi_bound"] {
                assertRelative([out.number(key)], [try XCTUnwrap(fixtureNumber(c[key]))], rtol: 1e-12, "\(name) \(key)")
            }
            XCTAssertEqual(out.number("accuracy"), try XCTUnwrap(fixtureNumber(c["accuracy"])), name)
            for key in ["grad_anchors", "grad_positives"] {
                let reference = fixtureMatrix(c[key])
                let scale = reference.flatMap { $0 }.map(abs).max() ?? 0
                assertRelative(out.matrix(key), reference, rtol: 1e-10, atol: 1e-13 * scale, "\(name) \(key)")
            }
        }
    }

    private func loss(_ anchors: [[Double]], _ positives: [[Double]], _ tau: Double, _ normalize: Bool, _ symmetric: Bool) throws -> Double {
        try evaluate(module, ["anchors": .matrix(anchors), "positives": .matrix(positives), "temperature": .number(tau),
                              "normalize": .bool(normalize), "symmetric": .bool(symmetric)]).number("loss")
    }

    func testGradientsMatchCentralDifferences() throws {
        var rng = TestRandom(seed: 5)
        let b = 4, d = 3
        let anchors = (0..<b).map { _ in rng.vector(d, in: -1...1) }
        let positives = anchors.map { row in row.map { $0 + Double.random(in: -0.5...0.5, using: &rng) } }
        func rows(_ flat: [Double]) -> [[Double]] { (0..<b).map { Array(flat[($0 * d)..<($0 * d + d)]) } }
        for normalize in [true, false] {
            for symmetric in [false, true] {
                for tau in [0.1, 0.7] {
                    let out = try evaluate(module, ["anchors": .matrix(anchors), "positives": .matrix(positives),
                                                    "temperature": .number(tau), "normalize": .bool(normalize),
                                                    "symmetric": .bool(symmetric)])
                    let label = "normalize=\(normalize) symmetric=\(symmetric) τ=\(tau)"
                    let numericA = try numericalGradient(anchors.flatMap { $0 }) { try loss(rows($0), positives, tau, normalize, symmetric) }
                    XCTAssertLessThan(relativeError(out.matrix("grad_anchors").flatMap { $0 }, numericA), 1e-6, "anchors " + label)
                    let numericP = try numericalGradient(positives.flatMap { $0 }) { try loss(anchors, rows($0), tau, normalize, symmetric) }
                    XCTAssertLessThan(relativeError(out.matrix("grad_positives").flatMap { $0 }, numericP), 1e-6, "positives " + label)
                }
            }
        }
    }

    func testSymmetricGradientCoversBothDirections() throws {
        // The symmetric loss's gradient is the mean of the two one-directional gradients.
        var rng = TestRandom(seed: 8)
        let anchors = (0..<3).map { _ in rng.vector(2, in: -1...1) }
        let positives = (0..<3).map { _ in rng.vector(2, in: -1...1) }
        let sym = try evaluate(module, ["anchors": .matrix(anchors), "positives": .matrix(positives), "symmetric": .bool(true)])
        let rowsOnly = try evaluate(module, ["anchors": .matrix(anchors), "positives": .matrix(positives)])
        // The columns direction is the rows direction with the roles of anchors and positives swapped.
        let swapped = try evaluate(module, ["anchors": .matrix(positives), "positives": .matrix(anchors)])
        let expected = zip(rowsOnly.matrix("grad_anchors"), swapped.matrix("grad_positives")).map { zip($0, $1).map { ($0 + $1) / 2 } }
        assertClose(sym.matrix("grad_anchors"), expected, tol: 1e-13)
        assertClose(sym.number("loss"), (rowsOnly.number("loss") + swapped.number("loss")) / 2, tol: 1e-14)
        assertClose(sym.number("loss_columns"), swapped.number("loss_rows"), tol: 1e-14)
    }

    func testNormalisedGradientIsOrthogonalToTheAnchorAndScalesInversely() throws {
        let anchors: [[Double]] = [[1, 0.2, 0], [0.1, 1, 0.3], [-0.5, 0.2, 1]]
        let positives: [[Double]] = [[0.9, 0.4, 0.1], [0.3, 0.8, -0.2], [-0.2, 0.5, 0.9]]
        let base = try evaluate(module, ["anchors": .matrix(anchors), "positives": .matrix(positives), "symmetric": .bool(true)])
        for r in base.vector("grad_radial") { XCTAssertEqual(r, 0, accuracy: 1e-14) }
        for (g, a) in zip(base.matrix("grad_anchors"), anchors) {
            XCTAssertEqual(zip(g, a).reduce(0) { $0 + $1.0 * $1.1 }, 0, accuracy: 1e-14)
        }
        let scaled = try evaluate(module, ["anchors": .matrix(anchors.map { $0.map { $0 * 4 } }), "positives": .matrix(positives),
                                           "symmetric": .bool(true)])
        assertClose(scaled.number("loss"), base.number("loss"), tol: 1e-14)
        assertClose(scaled.matrix("grad_anchors"), base.matrix("grad_anchors").map { $0.map { $0 / 4 } }, tol: 1e-14)
    }

    func testHandComputedTwoByTwo() throws {
        // Orthonormal pairs: S = I, logits = I/τ, each row's loss log(e^(1/τ) + 1) − 1/τ = log(1 + e^(−1/τ)).
        let out = try evaluate(module, ["anchors": .matrix([[2, 0], [0, 3]]), "positives": .matrix([[5, 0], [0, 0.5]]),
                                        "temperature": .number(0.5), "symmetric": .bool(true)])
        XCTAssertEqual(out.matrix("similarity"), [[1, 0], [0, 1]])
        assertClose(out.number("loss"), log1p(exp(-2.0)), tol: 1e-15)
        assertClose(out.number("mi_bound"), log(2) - log1p(exp(-2.0)), tol: 1e-15)
        XCTAssertEqual(out.number("accuracy"), 1)
        // S is symmetric, so both directions give ∂loss/∂S = (P − I)/(τB) = P − I here, with
        // p₀₁ = 1/(1 + e²). ∂loss/∂â₀ = Σⱼ G₀ⱼ p̂ⱼ = [−p₀₁, p₀₁]; the normalisation drops the part
        // along â₀ = [1, 0] and divides by ‖a₀‖ = 2.
        let p01 = 1 / (1 + exp(2.0))
        assertClose(out.matrix("grad_anchors")[0], [0, p01 / 2], tol: 1e-15)
    }

    func testSingleExampleBatch() throws {
        let out = try evaluate(module, ["anchors": .vector([1, 2]), "positives": .vector([-3, 1]), "symmetric": .bool(true)])
        XCTAssertEqual(out.number("loss"), 0)
        XCTAssertEqual(out.number("mi_bound"), 0)
        XCTAssertEqual(out.matrix("grad_anchors"), [[0, 0]])
    }

    func testRejectsBadShapesAndZeroRows() {
        XCTAssertEqual(evaluationError(module, ["anchors": .matrix([[1, 0], [0, 1]]), "positives": .matrix([[1, 0]])])?.parameter, "positives")
        XCTAssertEqual(evaluationError(module, ["anchors": .matrix([[1, 0], [0, 1]]), "positives": .matrix([[1, 0, 0], [0, 1, 0]])])?.parameter, "positives")
        let zero = evaluationError(module, ["anchors": .matrix([[1, 0], [0, 0]]), "positives": .matrix([[1, 0], [0, 1]])])
        XCTAssertEqual(zero?.parameter, "anchors")
        XCTAssertTrue(zero?.message.contains("row 1") ?? false, zero?.message ?? "")
        XCTAssertEqual(evaluationError(module, ["anchors": .matrix([[1, 0], [0, 1]]), "positives": .matrix([[0, 0], [0, 1]])])?.parameter, "positives")
        XCTAssertEqual(evaluationError(module, ["temperature": .number(0)])?.parameter, "temperature")
        XCTAssertEqual(evaluationError(module, ["anchors": .matrix([[1, .nan], [0, 1], [1, 1]])])?.parameter, "anchors")
        let big = [[Double]](repeating: [1], count: 1_001)
        XCTAssertEqual(evaluationError(module, ["anchors": .matrix(big), "positives": .matrix(big)])?.parameter, "anchors")
    }

    func testZeroRowIsFineWithoutNormalisation() throws {
        let out = try evaluate(module, ["anchors": .matrix([[0, 0], [0, 1]]), "positives": .matrix([[1, 0], [0, 1]]),
                                        "normalize": .bool(false), "temperature": .number(1)])
        // Row 0 scores 0 against both positives: loss log 2; row 1: log(1 + e) − 1.
        assertClose(out.number("loss_rows"), (log(2) + log1p(exp(1.0)) - 1) / 2, tol: 1e-15)
        XCTAssertTrue(out.vector("grad_radial").allSatisfy(\.isFinite))
    }
}

// MARK: - nce.binary

final class NCEBinaryTests: XCTestCase {
    let module = NCEBinaryModule()

    private func run(_ md: [Double], _ nd: [Double], _ mn: [Double], _ nn: [Double]) throws -> Outputs {
        try evaluate(module, ["model_logp_data": .vector(md), "noise_logp_data": .vector(nd),
                              "model_logp_noise": .vector(mn), "noise_logp_noise": .vector(nn)])
    }

    func testMatchesNumpyAndMpmathFixtures() throws {
        let cases = try fixtureCases("nce_binary")
        XCTAssertGreaterThanOrEqual(cases.count, 4)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let out = try run(fixtureVector(c["model_logp_data"]), fixtureVector(c["noise_logp_data"]),
                              fixtureVector(c["model_logp_noise"]), fixtureVector(c["noise_logp_noise"]))
            XCTAssertEqual(out.number("k"), try XCTUnwrap(fixtureNumber(c["k"])), name)
            assertClose(out.vector("g_data"), fixtureVector(c["g_data"]), tol: 1e-13, name)
            assertClose(out.vector("g_noise"), fixtureVector(c["g_noise"]), tol: 1e-13, name)
            assertRelative(out.vector("h_data"), fixtureVector(c["h_data"]), rtol: 1e-13, name)
            assertRelative(out.vector("h_noise"), fixtureVector(c["h_noise"]), rtol: 1e-13, name)
            assertRelative([out.number("loss")], [try XCTUnwrap(fixtureNumber(c["loss"]))], rtol: 1e-13, name)
            assertRelative(out.vector("grad_data"), fixtureVector(c["grad_data"]), rtol: 1e-12, name)
            assertRelative(out.vector("grad_noise"), fixtureVector(c["grad_noise"]), rtol: 1e-12, name)
            assertRelative([out.number("grad_c")], [try XCTUnwrap(fixtureNumber(c["grad_c"]))], rtol: 1e-10, atol: 1e-15, name)
        }
    }

    func testModelEqualToNoiseGivesPriorOdds() throws {
        // G = −log k everywhere, h = 1/(1 + k); loss = log(1 + k) + k·log((1 + k)/k).
        let out = try run([-1, -2], [-1, -2], [0.5, 0.1, -3, 2, 7, -4], [0.5, 0.1, -3, 2, 7, -4])
        XCTAssertEqual(out.number("k"), 3)
        for h in out.vector("h_data") + out.vector("h_noise") { assertClose(h, 0.25, tol: 1e-15) }
        assertClose(out.number("loss"), log(4) + 3 * log(4.0 / 3), tol: 1e-14)
        // grad_c = (1/T_d)(−Σ_data(1 − h) + Σ_noise h) = (−2·0.75 + 6·0.25)/2 = 0
        assertClose(out.number("grad_c"), 0, tol: 1e-15)
    }

    func testTruthIsAStationaryPointWhenSamplesMatchTheirDensities() throws {
        // Two outcomes: p_d = (3/4, 1/4), p_n = (1/2, 1/2), k = 2. Data [a, a, a, b] and noise
        // [a, a, a, a, b, b, b, b] have exactly those frequencies, so the sample loss is the
        // population loss; its gradient in log p_m(a), log p_m(b) and c vanishes at p_m = p_d.
        let la = log(0.75), lb = log(0.25), ln = log(0.5)
        func loss(_ ma: Double, _ mb: Double) throws -> Outputs {
            try run([ma, ma, ma, mb], [ln, ln, ln, ln], [ma, ma, ma, ma, mb, mb, mb, mb], [Double](repeating: ln, count: 8))
        }
        let out = try loss(la, lb)
        let gd = out.vector("grad_data"), gn = out.vector("grad_noise")
        assertClose(gd[0] * 3 + gn[0] * 4, 0, tol: 1e-15)
        assertClose(gd[3] + gn[4] * 4, 0, tol: 1e-15)
        assertClose(out.number("grad_c"), 0, tol: 1e-15)
        // h(a) = p_d/(p_d + k p_n) = 0.75/1.75
        assertClose(out.vector("h_data")[0], 3.0 / 7, tol: 1e-15)
        // Any other model, normalised or not, does worse.
        for (da, db) in [(0.1, 0.0), (0.0, -0.2), (0.3, 0.3), (-0.3, -0.3), (0.2, -0.5)] {
            XCTAssertGreaterThan(try loss(la + da, lb + db).number("loss"), out.number("loss"))
        }
        // An unnormalised model (c > 0) is pushed back down: grad_c > 0; c < 0 is pushed up.
        XCTAssertGreaterThan(try loss(la + 0.5, lb + 0.5).number("grad_c"), 0)
        XCTAssertLessThan(try loss(la - 0.5, lb - 0.5).number("grad_c"), 0)
    }

    func testGradientsMatchCentralDifferences() throws {
        var rng = TestRandom(seed: 21)
        for (td, tn) in [(1, 1), (3, 7), (5, 2)] {
            let md = rng.vector(td, in: -3...1), nd = rng.vector(td, in: -3...1)
            let mn = rng.vector(tn, in: -3...1), nn = rng.vector(tn, in: -3...1)
            let out = try run(md, nd, mn, nn)
            let numericData = try numericalGradient(md) { try run($0, nd, mn, nn).number("loss") }
            XCTAssertLessThan(relativeError(out.vector("grad_data"), numericData), 1e-6)
            let numericNoise = try numericalGradient(mn) { try run(md, nd, $0, nn).number("loss") }
            XCTAssertLessThan(relativeError(out.vector("grad_noise"), numericNoise), 1e-6)
            let numericC = try numericalGradient([0]) { c in try run(md.map { $0 + c[0] }, nd, mn.map { $0 + c[0] }, nn).number("loss") }
            XCTAssertLessThan(relativeError([out.number("grad_c")], numericC), 1e-6)
        }
    }

    func testLargeLogitsUseTheStableLogSigmoid() throws {
        // Data sample with G = −800 − log 1: −log σ(−800) = 800 + log1p(e⁻⁸⁰⁰) = 800.
        // Noise sample with G = 900: −log(1 − σ(900)) = 900. Both finite, neither ∞.
        let out = try run([-800], [0], [900], [0])
        assertClose(out.number("loss"), 1700, tol: 1e-12)
        XCTAssertEqual(out.vector("h_data"), [0])
        XCTAssertEqual(out.vector("h_noise"), [1])
        XCTAssertEqual(out.vector("grad_data"), [-1])
        XCTAssertEqual(out.vector("grad_noise"), [1])
        // Confident and right: loss e^(−G) terms, kept to full precision.
        let good = try run([50], [0], [-60], [0])
        assertRelative([good.number("loss")], [exp(-50.0) + exp(-60.0)], rtol: 1e-14)
    }

    func testRejectsEmptyAndMismatchedSamples() {
        let base: [String: Value] = ["model_logp_data": .vector([1, 2]), "noise_logp_data": .vector([1, 2]),
                                     "model_logp_noise": .vector([0, 0, 0]), "noise_logp_noise": .vector([0, 0, 0])]
        func with(_ key: String, _ v: [Double]) -> [String: Value] { base.merging([key: .vector(v)]) { $1 } }
        XCTAssertEqual(evaluationError(module, with("noise_logp_data", [1]))?.parameter, "noise_logp_data")
        XCTAssertEqual(evaluationError(module, with("noise_logp_noise", [0, 0]))?.parameter, "noise_logp_noise")
        let empty = evaluationError(module, with("model_logp_data", []).merging(["noise_logp_data": .vector([])]) { $1 })
        XCTAssertEqual(empty?.parameter, "model_logp_data")
        XCTAssertTrue(empty?.message.contains("empty") ?? false)
        let emptyNoise = evaluationError(module, with("model_logp_noise", []).merging(["noise_logp_noise": .vector([])]) { $1 })
        XCTAssertEqual(emptyNoise?.parameter, "model_logp_noise")
        XCTAssertEqual(evaluationError(module, with("model_logp_data", [1, .nan]))?.parameter, "model_logp_data")
        XCTAssertEqual(evaluationError(module, with("noise_logp_noise", [0, .infinity, 0]))?.parameter, "noise_logp_noise")
    }

    func testDefaultsAreTheLessonsTrueModel() throws {
        let out = try evaluate(module)
        XCTAssertEqual(out.number("k"), 2)
        XCTAssertEqual(out.vector("g_data").count, 4)
    }
}

// MARK: - mi.discrete

final class DiscreteMutualInformationTests: XCTestCase {
    let module = DiscreteMutualInformationModule()

    func testMatchesNumpyAndMpmathFixtures() throws {
        let cases = try fixtureCases("mi_discrete")
        XCTAssertGreaterThanOrEqual(cases.count, 7)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let out = try evaluate(module, ["joint": .matrix(fixtureMatrix(c["joint"]))])
            assertClose(out.matrix("p_xy"), fixtureMatrix(c["p_xy"]), tol: 1e-15, name)
            assertClose(out.vector("p_x"), fixtureVector(c["p_x"]), tol: 1e-15, name)
            assertClose(out.vector("p_y"), fixtureVector(c["p_y"]), tol: 1e-15, name)
            for key in ["h_x", "h_y", "h_xy", "mi", "mi_bits"] {
                assertClose(out.number(key), try XCTUnwrap(fixtureNumber(c[key])), tol: 1e-14, "\(name) \(key)")
            }
        }
    }

    func testHandComputedDefault() throws {
        // p(x,y) = 0.4 on the diagonal, 0.1 off it; marginals 1/2:
        // I = 2·0.4·log(0.4/0.25) + 2·0.1·log(0.1/0.25) = 0.8 log 1.6 + 0.2 log 0.4.
        let out = try evaluate(module)
        assertClose(out.number("mi"), 0.8 * log(1.6) + 0.2 * log(0.4), tol: 1e-15)
        assertClose(out.number("h_x"), log(2), tol: 1e-15)
        assertClose(out.number("h_xy"), -(0.8 * log(0.4) + 0.2 * log(0.1)), tol: 1e-15)
        assertClose(out.number("mi_bits"), out.number("mi") / log(2), tol: 1e-15)
    }

    func testIndependentTableHasZeroInformation() throws {
        let out = try evaluate(module, ["joint": .matrix([[2, 6, 4], [1, 3, 2]])])
        assertClose(out.number("mi"), 0, tol: 1e-15)
        assertClose(out.number("h_xy"), out.number("h_x") + out.number("h_y"), tol: 1e-15)
        assertClose(out.number("h_x_given_y"), out.number("h_x"), tol: 1e-15)
    }

    func testPerfectlyDependentTableHasInformationEqualToEntropy() throws {
        let out = try evaluate(module, ["joint": .matrix([[3, 0, 0], [0, 0, 1], [0, 4, 0]])])
        let hx = -[0.375, 0.125, 0.5].reduce(0) { $0 + $1 * log($1) }
        assertClose(out.number("h_x"), hx, tol: 1e-15)
        assertClose(out.number("mi"), hx, tol: 1e-15)
        assertClose(out.number("h_y"), hx, tol: 1e-15)
        XCTAssertEqual(out.number("h_x_given_y"), 0, accuracy: 1e-15)
    }

    func testIdentitiesOnRandomTables() throws {
        var rng = TestRandom(seed: 99)
        for _ in 0..<30 {
            let r = Int.random(in: 1...5, using: &rng), c = Int.random(in: 1...5, using: &rng)
            let joint = (0..<r).map { _ in rng.vector(c, in: 0...10).map { $0 < 2 ? 0 : $0 } }
            guard joint.joined().contains(where: { $0 > 0 }) else { continue }
            let out = try evaluate(module, ["joint": .matrix(joint)])
            let mi = out.number("mi")
            assertClose(mi, out.number("h_x") + out.number("h_y") - out.number("h_xy"), tol: 1e-13)
            XCTAssertGreaterThanOrEqual(mi, 0)
            XCTAssertLessThanOrEqual(mi, min(out.number("h_x"), out.number("h_y")) + 1e-13)
            // Counts or probabilities, any scale; and I(X;Y) = I(Y;X).
            let scaled = try evaluate(module, ["joint": .matrix(joint.map { $0.map { $0 * 1e-200 } })])
            assertClose(scaled.number("mi"), mi, tol: 1e-14)
            let transposed = (0..<c).map { j in joint.map { $0[j] } }
            let t = try evaluate(module, ["joint": .matrix(transposed)])
            assertClose(t.number("mi"), mi, tol: 1e-14)
            assertClose(t.number("h_x"), out.number("h_y"), tol: 1e-14)
        }
    }

    func testZeroCellsContributeNothing() throws {
        let out = try evaluate(module, ["joint": .matrix([[0, 5], [0, 0]])])
        for key in ["h_x", "h_y", "h_xy", "mi", "mi_bits"] {
            XCTAssertEqual(out.number(key), 0, key)
            XCTAssertEqual(out.number(key).sign, .plus, "\(key) is +0")
        }
        // A subnormal cell: I = p log(1/p) for p = 2⁻¹⁰⁶³ (both marginals equal p), not ∞ or NaN.
        let tiny = try evaluate(module, ["joint": .matrix([[0x1p-1063, 0], [0, 1]])])
        let p = tiny.matrix("p_xy")[0][0]
        XCTAssertTrue(tiny.number("mi").isFinite)
        // Subnormal products keep only a few digits.
        assertRelative([tiny.number("mi")], [-p * log(p)], rtol: 1e-5)
    }

    func testRejectsNegativeZeroAndNonFiniteTables() {
        let negative = evaluationError(module, ["joint": .matrix([[0.5, -0.1], [0.2, 0.4]])])
        XCTAssertEqual(negative?.parameter, "joint")
        XCTAssertTrue(negative?.message.contains("negative") ?? false, negative?.message ?? "")
        XCTAssertTrue(negative?.message.contains("[0][1]") ?? false, negative?.message ?? "")
        let zeros = evaluationError(module, ["joint": .matrix([[0, 0], [0, 0]])])
        XCTAssertEqual(zeros?.parameter, "joint")
        XCTAssertTrue(zeros?.message.contains("all zeros") ?? false, zeros?.message ?? "")
        for bad in [Double.nan, .infinity, -.infinity] {
            let e = evaluationError(module, ["joint": .matrix([[1, bad]])])
            XCTAssertEqual(e?.parameter, "joint")
            XCTAssertTrue(e?.message.contains("finite") ?? false, e?.message ?? "")
        }
        XCTAssertEqual(evaluationError(module, ["joint": .matrix([[1, 2], [3]])])?.parameter, "joint")
    }
}
