import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// Parameters of a module run with an explicit model.
private func model(_ bias: [Double], _ weights: [[Double]]) -> [String: Value] {
    ["bias": .vector(bias), "weights": .matrix(weights)]
}

private func randomModel(_ n: Int, scale: Double, _ random: inout TestRandom) -> (bias: [Double], weights: [[Double]]) {
    (random.vector(n, in: -scale...scale), (0..<n).map { _ in random.vector(n, in: -scale...scale) })
}

/// The image whose row-major pixels are the n bits of k, pixel 0 the most significant.
private func image(bits k: Int, n: Int, width: Int) -> [[Double]] {
    let x = (0..<n).map { i in Double((k >> (n - 1 - i)) & 1) }
    return stride(from: 0, to: n, by: width).map { Array(x[$0..<($0 + width)]) }
}

final class FVSBNTests: XCTestCase {
    let module = FVSBNModule()

    func testTwoPixelsByHand() throws {
        // b = [ln 3, 0], W[1][0] = ln 2, x = [1, 0]:
        // p₁ = σ(ln 3) = 3/4; a₂ = 0 + ln 2·1, p₂ = σ(ln 2) = 2/3.
        // log p = log p₁ + log(1 − p₂) = log(3/4) + log(1/3) = log(1/4), so bits/dim = 2 ln 2/(2 ln 2) = 1.
        // ∂/∂b = x − p = [1/4, −2/3]; ∂/∂W[1][0] = (x₂ − p₂)·x₁ = −2/3.
        // Counts for n = 2, H = 8: FVSBN 3, table 2² − 1 = 3, NADE 2·2·8 + 2 + 8 = 42.
        var values = model([log(3), 0], [[0, 0], [log(2), 0]])
        values["image"] = .matrix([[1, 0]])
        values["lr"] = .number(0)
        let out = try evaluate(module, values)
        assertClose(out.vector("conditionals"), [0.75, 2.0 / 3], tol: 1e-15)
        assertClose(out.vector("log_probs"), [log(0.75), log(1.0 / 3)], tol: 1e-15)
        assertClose(out.number("log_likelihood"), log(0.25), tol: 1e-15)
        assertClose(out.number("bits_per_dim"), 1, tol: 1e-15)
        assertClose(out.vector("grad_bias"), [0.25, -2.0 / 3], tol: 1e-15)
        assertClose(out.matrix("grad_weights"), [[0, 0], [-2.0 / 3, 0]], tol: 1e-15)
        XCTAssertEqual(out["params_fvsbn"], .integer(3))
        XCTAssertEqual(out.number("params_tabular"), 3)
        XCTAssertEqual(out["params_nade"], .integer(42))
        // lr = 0: the step changes nothing.
        XCTAssertEqual(out.number("log_likelihood_after_step"), out.number("log_likelihood"))
        XCTAssertEqual(out.matrix("conditionals_image"), [out.vector("conditionals")])
    }

    func testDefaultModelCouplesEachPixelToItsCausalNeighbours() throws {
        let out = try evaluate(module, [:])
        // Pixel 5 = (1, 1): left 4, upper-left 0, upper 1, upper-right 2. Pixel 7 = (1, 3): left 6,
        // upper-left 2, upper 3, no upper-right. Read from the lr = 0 step, which leaves W as it is.
        let plain = try evaluate(module, ["lr": .number(0)])
        let weights = plain.matrix("weights_after_step")
        XCTAssertEqual(weights[5], [1.5, 1.5, 1.5, 0, 1.5] + [Double](repeating: 0, count: 11))
        XCTAssertEqual(weights[7], [0, 0, 1.5, 1.5, 0, 0, 1.5] + [Double](repeating: 0, count: 9))
        XCTAssertEqual(weights[0], [Double](repeating: 0, count: 16))
        XCTAssertEqual(plain.vector("bias_after_step"), [Double](repeating: -1.5, count: 16))
        // The "7": pixel 0 has no neighbours, σ(−1.5); pixel 1's left neighbour is on, σ(0) = 1/2;
        // pixel 5 sees x₀ = x₁ = x₂ = 1 above and x₄ = 0, σ(−1.5 + 4.5) = σ(3).
        let p = out.vector("conditionals")
        assertClose(p[0], 1 / (1 + exp(1.5)), tol: 1e-15)
        assertClose(p[1], 0.5, tol: 1e-15)
        assertClose(p[5], 1 / (1 + exp(-3.0)), tol: 1e-15)
        XCTAssertEqual(out["params_fvsbn"], .integer(136))
        XCTAssertEqual(out.number("params_tabular"), 65535)
        XCTAssertEqual(out["params_nade"], .integer(2 * 16 * 8 + 16 + 8))
    }

    func testProbabilitiesOfAllImagesSumToOneAndConditionalsAreTheChainRule() throws {
        // Direct enumeration for n ≤ 10: the joint of all 2ⁿ images from log_likelihood, then
        // p(x_i = 1 | x_<i) as a ratio of prefix masses, P(x_<i, x_i = 1)/P(x_<i).
        var random = TestRandom(seed: 11)
        for (h, w) in [(1, 1), (1, 3), (2, 3), (2, 4), (2, 5)] {
            let n = h * w
            let (bias, weights) = randomModel(n, scale: 1.5, &random)
            var joint: [Double] = [], conditionals: [[Double]] = []
            for k in 0..<(1 << n) {
                var values = model(bias, weights)
                values["image"] = .matrix(image(bits: k, n: n, width: w))
                let out = try evaluate(module, values)
                joint.append(exp(out.number("log_likelihood")))
                conditionals.append(out.vector("conditionals"))
                assertClose(out.number("bits_per_dim"), -out.number("log_likelihood") / (Double(n) * log(2)), tol: 1e-15)
            }
            assertClose(joint.reduce(0, +), 1, tol: 1e-12, "n = \(n)")
            for k in 0..<(1 << n) {
                for i in 0..<n {
                    let prefix = k >> (n - i)
                    var mass = 0.0, massOn = 0.0
                    for m in 0..<(1 << n) where m >> (n - i) == prefix {
                        mass += joint[m]
                        if (m >> (n - 1 - i)) & 1 == 1 { massOn += joint[m] }
                    }
                    assertClose(conditionals[k][i], massOn / mass, tol: 1e-11, "n = \(n), image \(k), pixel \(i)")
                }
            }
        }
    }

    func testGradientMatchesFiniteDifferences() throws {
        var random = TestRandom(seed: 5)
        let (h, w) = (2, 3), n = 6
        let (bias, weights) = randomModel(n, scale: 1, &random)
        let x = image(bits: 0b101101, n: n, width: w)
        func ll(_ b: [Double], _ wts: [[Double]]) throws -> Double {
            var values = model(b, wts)
            values["image"] = .matrix(x)
            return try evaluate(module, values).number("log_likelihood")
        }
        var values = model(bias, weights)
        values["image"] = .matrix(x)
        let out = try evaluate(module, values)
        XCTAssertEqual(h * w, n)
        assertClose(out.vector("grad_bias"), try numericalGradient(bias) { try ll($0, weights) }, tol: 1e-8)
        let flat = weights.flatMap { $0 }
        let numeric = try numericalGradient(flat) { f in
            try ll(bias, (0..<n).map { Array(f[($0 * n)..<($0 * n + n)]) })
        }
        // Entries on and above the diagonal are unused: the numerical derivative is 0 there too.
        assertClose(out.matrix("grad_weights").flatMap { $0 }, numeric, tol: 1e-8)
        for i in 0..<n { for j in i..<n { XCTAssertEqual(out.matrix("grad_weights")[i][j], 0) } }
    }

    func testOneGradientStepRaisesTheLogLikelihood() throws {
        // Each pixel's logit moves by lr·(x_i − p_i)·(1 + Σ_{j<i} x_j), towards its observed value,
        // so no lr > 0 can lower log p(image); for small lr the gain is lr·‖∇‖² to first order.
        var random = TestRandom(seed: 9)
        for trial in 0..<20 {
            let n = 9
            let (bias, weights) = randomModel(n, scale: 3, &random)
            var values = model(bias, weights)
            values["image"] = .matrix(image(bits: trial * 25 % 512, n: n, width: 3))
            for lr in [1e-6, 0.01, 0.1, 1, 100] {
                values["lr"] = .number(lr)
                let out = try evaluate(module, values)
                let before = out.number("log_likelihood"), after = out.number("log_likelihood_after_step")
                XCTAssertGreaterThan(after, before, "trial \(trial), lr \(lr)")
                if lr == 1e-6 {
                    let gradient: [Double] = out.vector("grad_bias") + out.matrix("grad_weights").flatMap { $0 }
                    let normSq = gradient.reduce(0) { $0 + $1 * $1 }
                    assertClose((after - before) / lr, normSq, tol: 1e-4 * max(1, normSq))
                }
                // The stepped parameters, run again, give the reported log-likelihood.
                var stepped = model(out.vector("bias_after_step"), out.matrix("weights_after_step"))
                stepped["image"] = values["image"]
                assertClose(try evaluate(module, stepped).number("log_likelihood"), after, tol: 1e-12 * max(1, abs(after)))
            }
        }
    }

    func testEntriesOnAndAboveTheDiagonalAreIgnored() throws {
        var random = TestRandom(seed: 3)
        let n = 8
        let (bias, lower) = randomModel(n, scale: 2, &random)
        let strict = (0..<n).map { i in (0..<n).map { j in j < i ? lower[i][j] : 0 } }
        var a = model(bias, strict), b = model(bias, lower)
        a["image"] = .matrix(image(bits: 0b1100_1010, n: n, width: 4))
        b["image"] = a["image"]
        let outA = try evaluate(module, a), outB = try evaluate(module, b)
        XCTAssertEqual(outA.vector("conditionals"), outB.vector("conditionals"))
        XCTAssertEqual(outA.number("log_likelihood"), outB.number("log_likelihood"))
        XCTAssertEqual(outA.matrix("grad_weights"), outB.matrix("grad_weights"))
    }

    func testExtremeLogitsGiveFiniteLogProbabilities() throws {
        // log σ(−2·10⁴) = −2·10⁴ − log(1 + e^(−2·10⁴)) = −2·10⁴ in double; likewise −10⁶.
        let out = try evaluate(module, ["image": .matrix([[1, 0, 1]]), "bias": .vector([-2e4, 1e6, 30]),
                                        "weights": .matrix([[0, 0, 0], [0, 0, 0], [0, 0, 0]])])
        XCTAssertEqual(out.vector("log_probs")[0], -2e4)
        XCTAssertEqual(out.vector("log_probs")[1], -1e6)
        // log σ(30) = −log(1 + y) with y = e^(−30) ≈ 9.4e-14: −(y − y²/2 + …), not the
        // log(1 − 9.4e-14) that rounding σ(30) first would give (good to ~3 digits only).
        let y = exp(-30.0)
        assertClose(out.vector("log_probs")[2], -(y - y * y / 2), tol: 1e-40)
        XCTAssertEqual(out.number("log_likelihood"), -2e4 - 1e6 - exp(-30.0))
        XCTAssertTrue(out.vector("conditionals").allSatisfy(\.isFinite))
        XCTAssertTrue(out.number("log_likelihood_after_step").isFinite)
    }

    func testTabularCountIsFiniteUpToTheStatedLimit() throws {
        let zeros = { (h: Int, w: Int) -> [[Double]] in [[Double]](repeating: [Double](repeating: 0, count: w), count: h) }
        // n = 784 (28×28, MNIST): 2⁷⁸⁴ − 1 rounds to 2⁷⁸⁴ ≈ 1.0e236; n = 1023 (31×33): 2¹⁰²³.
        let mnist = try evaluate(module, ["image": .matrix(zeros(28, 28))])
        XCTAssertEqual(mnist.number("params_tabular"), 0x1p784)
        XCTAssertEqual(mnist["params_fvsbn"], .integer(784 * 785 / 2))
        let largest = try evaluate(module, ["image": .matrix(zeros(31, 33))])
        XCTAssertEqual(largest.number("params_tabular"), 0x1p1023)
        XCTAssertTrue(largest.number("params_tabular").isFinite)
        let tooLarge = evaluationError(module, ["image": .matrix(zeros(32, 32))])
        XCTAssertEqual(tooLarge?.parameter, "image")
        XCTAssertTrue(tooLarge?.message.contains("1023") == true, "\(String(describing: tooLarge))")
        // Exact where doubles are: n = 10 gives 1023.
        XCTAssertEqual(try evaluate(module, ["image": .matrix(zeros(2, 5))]).number("params_tabular"), 1023)
    }

    func testAgainstNumpyFixtures() throws {
        let fixture = try XCTUnwrap(loadFixture("autoregressive.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["fvsbn"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 6)
        for (k, c) in cases.enumerated() {
            let out = try evaluate(module, [
                "image": .matrix(fixtureMatrix(c["image"])), "bias": .vector(fixtureVector(c["bias"])),
                "weights": .matrix(fixtureMatrix(c["weights"])),
                "hidden": .integer(try XCTUnwrap(c["hidden"] as? Int)),
                "lr": .number(try XCTUnwrap(fixtureNumber(c["lr"]))),
            ])
            let ll = try XCTUnwrap(fixtureNumber(c["log_likelihood"]))
            assertClose(out.vector("conditionals"), fixtureVector(c["conditionals"]), tol: 1e-14, "case \(k)")
            assertClose(out.vector("log_probs"), fixtureVector(c["log_probs"]), tol: 1e-12, "case \(k)")
            assertClose(out.number("log_likelihood"), ll, tol: 1e-12 * max(1, abs(ll)), "case \(k)")
            assertClose(out.number("bits_per_dim"), try XCTUnwrap(fixtureNumber(c["bits_per_dim"])), tol: 1e-12)
            assertClose(out.vector("grad_bias"), fixtureVector(c["grad_bias"]), tol: 1e-14)
            assertClose(out.matrix("grad_weights"), fixtureMatrix(c["grad_weights"]), tol: 1e-14)
            let after = try XCTUnwrap(fixtureNumber(c["log_likelihood_after_step"]))
            assertClose(out.number("log_likelihood_after_step"), after, tol: 1e-12 * max(1, abs(after)), "case \(k)")
            XCTAssertEqual(out["params_fvsbn"], .integer(try XCTUnwrap(c["params_fvsbn"] as? Int)))
            XCTAssertEqual(out.number("params_tabular"), try XCTUnwrap(fixtureNumber(c["params_tabular"])))
            XCTAssertEqual(out["params_nade"], .integer(try XCTUnwrap(c["params_nade"] as? Int)))
        }
    }

    func testBadInputNamesTheParameter() {
        let half = evaluationError(module, ["image": .matrix([[0, 1], [0.5, 1]])])
        XCTAssertEqual(half?.parameter, "image")
        XCTAssertTrue(half?.message.contains("row 1, column 0") == true, "\(String(describing: half))")
        XCTAssertEqual(evaluationError(module, ["image": .matrix([[0, 2]])])?.parameter, "image")
        XCTAssertEqual(evaluationError(module, ["image": .matrix([[0, -1]])])?.parameter, "image")
        XCTAssertEqual(evaluationError(module, ["image": .matrix([[0, .nan]])])?.parameter, "image")
        // The default model is 4×4; a 2×2 image with 16 biases, or a 16-pixel image with 3×3 weights.
        let bias = evaluationError(module, ["image": .matrix([[0, 1], [1, 0]]), "weights": .matrix([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
                                            "bias": .vector([Double](repeating: 0, count: 16))])
        XCTAssertEqual(bias?.parameter, "bias")
        XCTAssertTrue(bias?.message.contains("4 pixels") == true, "\(String(describing: bias))")
        XCTAssertEqual(evaluationError(module, ["weights": .matrix([[0, 0, 0], [0, 0, 0], [0, 0, 0]])])?.parameter, "weights")
        XCTAssertEqual(evaluationError(module, ["weights": .matrix([[Double]](repeating: [Double](repeating: 0, count: 15), count: 16))])?.parameter, "weights")
        XCTAssertEqual(evaluationError(module, ["bias": .vector([1, 2])])?.parameter, "bias")
        XCTAssertEqual(evaluationError(module, ["bias": .vector([Double](repeating: 1e7, count: 16))])?.parameter, "bias")
        XCTAssertEqual(evaluationError(module, ["hidden": .integer(0)])?.parameter, "hidden")
        XCTAssertEqual(evaluationError(module, ["lr": .number(-0.1)])?.parameter, "lr")
    }
}

final class FVSBNSampleTests: XCTestCase {
    let module = FVSBNSampleModule()
    let density = FVSBNModule()

    /// Three pixels in a row with couplings of both signs.
    let bias: [Double] = [0.3, -0.5, 1.0]
    let weights: [[Double]] = [[0, 0, 0], [1.2, 0, 0], [-2.0, 0.7, 0]]

    func testSameSeedSameSamplesOtherSeedOtherSamples() throws {
        let a = try evaluate(module, ["samples": .integer(50), "seed": .integer(7)])
        let b = try evaluate(module, ["samples": .integer(50), "seed": .integer(7)])
        let c = try evaluate(module, ["samples": .integer(50), "seed": .integer(8)])
        XCTAssertEqual(a.matrix("samples"), b.matrix("samples"))
        XCTAssertEqual(a.vector("log_likelihoods"), b.vector("log_likelihoods"))
        XCTAssertNotEqual(a.matrix("samples"), c.matrix("samples"))
        // The first samples do not depend on how many follow.
        let fewer = try evaluate(module, ["samples": .integer(5), "seed": .integer(7)])
        XCTAssertEqual(fewer.matrix("samples"), Array(a.matrix("samples").prefix(5)))
    }

    func testOneUniformPerPixelInRowMajorOrder() throws {
        // With b = 0 and W = 0 every conditional is 1/2, so pixel i of sample s is on exactly
        // when the (s·n + i)-th uniform of the stream is below 1/2.
        let n = 6
        var values = model([Double](repeating: 0, count: n), [[Double]](repeating: [Double](repeating: 0, count: n), count: n))
        values["h"] = .integer(2)
        values["w"] = .integer(3)
        values["samples"] = .integer(3)
        values["seed"] = .integer(42)
        let out = try evaluate(module, values)
        var rng = Xoshiro256StarStar(seed: 42)
        let expected = (0..<3).map { _ in (0..<n).map { _ in rng.nextUnit() < 0.5 ? 1.0 : 0.0 } }
        XCTAssertEqual(out.matrix("samples"), expected)
        assertClose(out.vector("log_likelihoods"), [Double](repeating: -Double(n) * log(2), count: 3), tol: 1e-14)
    }

    func testLogLikelihoodsEqualTheDensityModuleOnEachSample() throws {
        var random = TestRandom(seed: 21)
        let (b, w) = randomModel(12, scale: 2, &random)
        var values = model(b, w)
        values["h"] = .integer(3)
        values["w"] = .integer(4)
        values["samples"] = .integer(30)
        let out = try evaluate(module, values)
        for (x, ll) in zip(out.matrix("samples"), out.vector("log_likelihoods")) {
            XCTAssertTrue(x.allSatisfy { $0 == 0 || $0 == 1 })
            var image = model(b, w)
            image["image"] = .matrix(stride(from: 0, to: 12, by: 4).map { Array(x[$0..<($0 + 4)]) })
            XCTAssertEqual(try evaluate(density, image).number("log_likelihood"), ll)
        }
        XCTAssertEqual(out.vector("log_likelihoods").count, 30)
    }

    func testFrequenciesMatchTheConditionalsAndTheJoint() throws {
        // 40,000 samples of three pixels: for every pixel and every value of the pixels before
        // it, the fraction of samples with the pixel on lies within 5 standard errors of
        // p(x_i = 1 | x_<i), and each of the 8 images appears about 40,000·p(x) times.
        // Seeded, so the outcome is fixed; the bound is what a correct sampler meets.
        let count = 40_000
        var values = model(bias, weights)
        values["h"] = .integer(1)
        values["w"] = .integer(3)
        values["samples"] = .integer(count)
        for seed in [1, 2] {
            values["seed"] = .integer(seed)
            let samples = try evaluate(module, values).matrix("samples")
            var images = [Int](repeating: 0, count: 8)
            for x in samples { images[Int(x[0]) * 4 + Int(x[1]) * 2 + Int(x[2])] += 1 }
            for k in 0..<8 {
                var image = model(bias, weights)
                image["image"] = .matrix([[Double((k >> 2) & 1), Double((k >> 1) & 1), Double(k & 1)]])
                let out = try evaluate(density, image)
                let p = exp(out.number("log_likelihood"))
                let sd = (Double(count) * p * (1 - p)).squareRoot()
                XCTAssertLessThan(abs(Double(images[k]) - Double(count) * p), 5 * sd + 1, "image \(k), seed \(seed)")
                // Pixel i given the prefix of image k: count the samples with that prefix.
                let conditionals = out.vector("conditionals")
                for i in 0..<3 {
                    let prefix = k >> (3 - i)
                    let matching = samples.filter { x in
                        (0..<i).allSatisfy { Int(x[$0]) == (prefix >> (i - 1 - $0)) & 1 }
                    }
                    let on = Double(matching.filter { $0[i] == 1 }.count), m = Double(matching.count)
                    let q = conditionals[i]
                    XCTAssertLessThan(abs(on - m * q), 5 * (m * q * (1 - q)).squareRoot() + 1, "pixel \(i), prefix \(prefix)")
                }
            }
        }
    }

    func testSummaryImagesAgreeWithTheSamples() throws {
        let out = try evaluate(module, ["h": .integer(2), "w": .integer(5), "samples": .integer(9), "seed": .integer(3)])
        let samples = out.matrix("samples")
        XCTAssertEqual(samples.count, 9)
        XCTAssertEqual(out.matrix("first_image"), [Array(samples[0][0..<5]), Array(samples[0][5..<10])])
        let mean = (0..<10).map { i in samples.map { $0[i] }.reduce(0, +) / 9 }
        assertClose(out.matrix("mean_image"), [Array(mean[0..<5]), Array(mean[5..<10])], tol: 1e-15)
    }

    func testSaturatedModelsAreDeterministic() throws {
        // b = ±10⁶: σ is 1 or 0 to double precision, every sample is the same image, log p = 0.
        let n = 4
        var values = model([1e6, -1e6, 1e6, -1e6], [[Double]](repeating: [Double](repeating: 0, count: n), count: n))
        values["h"] = .integer(2)
        values["w"] = .integer(2)
        values["samples"] = .integer(20)
        let out = try evaluate(module, values)
        XCTAssertEqual(Set(out.matrix("samples")), [[1, 0, 1, 0]])
        XCTAssertEqual(out.vector("log_likelihoods"), [Double](repeating: 0, count: 20))
    }

    func testAgainstPythonXoshiroFixtures() throws {
        let fixture = try XCTUnwrap(loadFixture("autoregressive.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["sample"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 4)
        for c in cases {
            var values: [String: Value] = [
                "h": .integer(try XCTUnwrap(c["h"] as? Int)), "w": .integer(try XCTUnwrap(c["w"] as? Int)),
                "samples": .integer(try XCTUnwrap(c["samples"] as? Int)),
                "seed": .integer(try XCTUnwrap((c["seed"] as? NSNumber)?.intValue)),
            ]
            if try XCTUnwrap(c["default_model"] as? Bool) {
                // The default model, rebuilt in Python from its description, equals the module's.
                let h = try XCTUnwrap(c["h"] as? Int), w = try XCTUnwrap(c["w"] as? Int)
                let standard = FVSBN.neighbourModel(height: h, width: w)
                XCTAssertEqual(standard.bias, fixtureVector(c["neighbour_bias"]))
                XCTAssertEqual(standard.weights, fixtureMatrix(c["neighbour_weights"]))
            } else {
                values["bias"] = .vector(fixtureVector(c["bias"]))
                values["weights"] = .matrix(fixtureMatrix(c["weights"]))
            }
            let out = try evaluate(module, values)
            XCTAssertEqual(out.matrix("samples"), fixtureMatrix(c["images"]), "seed \(String(describing: c["seed"]))")
            assertClose(out.vector("log_likelihoods"), fixtureVector(c["log_likelihoods"]), tol: 1e-12)
        }
    }

    func testBadInputNamesTheParameter() {
        // Unset bias and weights follow h and w; a given one must fit them.
        XCTAssertEqual(evaluationError(module, ["h": .integer(3), "bias": .vector([Double](repeating: 0, count: 16))])?.parameter, "bias")
        XCTAssertEqual(evaluationError(module, ["h": .integer(3), "weights": .matrix([[Double]](repeating: [Double](repeating: 0, count: 16), count: 16))])?.parameter, "weights")
        XCTAssertEqual(evaluationError(module, ["bias": .vector([Double](repeating: 0, count: 16)),
                                                "weights": .matrix([[0, 0], [0, 0]])])?.parameter, "weights")
        XCTAssertEqual(evaluationError(module, ["weights": .matrix([[Double]](repeating: [Double](repeating: 0, count: 16), count: 15))])?.parameter, "weights")
        let tooMany = evaluationError(module, ["h": .integer(32), "w": .integer(32)])
        XCTAssertEqual(tooMany?.parameter, "w")
        XCTAssertTrue(tooMany?.message.contains("1023") == true)
        XCTAssertEqual(evaluationError(module, ["samples": .integer(0)])?.parameter, "samples")
        XCTAssertEqual(evaluationError(module, ["samples": .integer(100_000)])?.parameter, "samples")  // 100,000·16 > 10⁶
        XCTAssertEqual(evaluationError(module, ["h": .integer(31), "w": .integer(33), "samples": .integer(200)])?.parameter, "samples")
        XCTAssertEqual(evaluationError(module, ["seed": .integer(-1)])?.parameter, "seed")
    }
}
