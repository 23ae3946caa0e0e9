import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

final class FloatingPointDotTests: XCTestCase {
    let module = FPDotModule()

    private func bits(_ any: Any?) throws -> Double { try XCTUnwrap(fixtureDoubleBits(any)) }

    // MARK: Fixture: exact rational accumulation in Python

    func testFixtureCases() throws {
        let root = try XCTUnwrap(loadFixture("fp_dot.json") as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 9)
        for c in cases {
            let format = try XCTUnwrap(c["format"] as? String)
            var params: [String: Value] = ["format": .text(format)]
            if let seed = c["seed"] as? Int {
                params["seed"] = .integer(seed)
                params["n"] = .integer(try XCTUnwrap(c["n_given"] as? Int))
                params["distribution"] = .text(try XCTUnwrap(c["distribution"] as? String))
            } else {
                params["a"] = .vector((c["a"] as? [Any] ?? []).compactMap(fixtureDoubleBits))
                params["b"] = .vector((c["b"] as? [Any] ?? []).compactMap(fixtureDoubleBits))
            }
            let label = "\(c["name"] ?? "") \(format) n=\(c["n"] ?? "")"
            let out = try evaluate(module, params)
            for name in ["exact", "low", "fp32", "error_low", "error_fp32", "double_sum", "error_double", "sum_abs_products"] {
                let expected = try bits(c[name])
                XCTAssertEqual(out.number(name).bitPattern, expected.bitPattern, "\(label) \(name): \(out.number(name)) vs \(expected)")
            }
            XCTAssertEqual(out["swallowed_low"], .integer(try XCTUnwrap(c["swallowed_low"] as? Int)), label)
            XCTAssertEqual(out["swallowed_fp32"], .integer(try XCTUnwrap(c["swallowed_fp32"] as? Int)), label)
            XCTAssertEqual(out["products_exact_in_fp32"], .bool(try XCTUnwrap(c["products_exact_in_fp32"] as? Bool)), label)
            XCTAssertEqual(out["n"], .integer(try XCTUnwrap(c["n"] as? Int)), label)
        }
    }

    func testSeededDrawsMatchThePythonGenerator() throws {
        let root = try XCTUnwrap(loadFixture("fp_dot.json") as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]]).filter { $0["seed"] != nil }
        XCTAssertEqual(cases.count, 5)
        for c in cases {
            let n = try XCTUnwrap(c["n_given"] as? Int)
            let distribution = try XCTUnwrap(DotDistribution(rawValue: try XCTUnwrap(c["distribution"] as? String)))
            let (a, b) = dotVectors(n: n, seed: try XCTUnwrap(c["seed"] as? Int), distribution: distribution)
            let aHead = (c["a_head"] as? [Any] ?? []).compactMap(fixtureDoubleBits)
            let bHead = (c["b_head"] as? [Any] ?? []).compactMap(fixtureDoubleBits)
            XCTAssertTrue(sameDoubles(Array(a.prefix(16)), aHead), "a of \(c)")
            XCTAssertTrue(sameDoubles(Array(b.prefix(16)), bHead), "b of \(c)")
            let format = try XCTUnwrap(FloatFormat(rawValue: try XCTUnwrap(c["format"] as? String)))
            let expectedBits = (c["a_rounded_bits"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.uint64Value }
            if !expectedBits.isEmpty {
                XCTAssertEqual(a.map { format.round($0).bits }, expectedBits)
            }
        }
    }

    // MARK: Hand-derived cases

    func testATieTheFP16AccumulatorLoses() throws {
        // a = [1, 1], b = [1, 2^−11]: the products are 1 and 2^−11. In FP16, 1 + 2^−11 is
        // halfway between 1 and 1 + 2^−10 and the tie goes to the even 1: the second product
        // is swallowed. FP32 holds 1 + 2^−11 exactly.
        let out = try evaluate(module, ["a": .vector([1, 1]), "b": .vector([1, 0x1p-11])])
        XCTAssertEqual(out.number("exact"), 1 + 0x1p-11)
        XCTAssertEqual(out.number("low"), 1)
        XCTAssertEqual(out.number("fp32"), 1 + 0x1p-11)
        XCTAssertEqual(out.number("error_low"), -0x1p-11)
        XCTAssertEqual(out.number("error_fp32"), 0)
        XCTAssertEqual(out.number("relative_error_low"), 0x1p-11 / (1 + 0x1p-11))
        XCTAssertEqual(out.number("error_ratio"), .infinity)
        XCTAssertEqual(out["swallowed_low"], .integer(1))
        XCTAssertEqual(out["swallowed_fp32"], .integer(0))
        XCTAssertEqual(out.number("condition_number"), 1)
    }

    func testTheBF16TieTheDoubleSumWouldBreakWrongly() throws {
        // p₁ = 2^−50 · (−2^−50) = −2^−100; p₂ = 1.75 · 37/64 = 259/256, halfway between the BF16
        // values 258/256 and 260/256. The exact sum 259/256 − 2^−100 lies below the tie, so it
        // rounds down to 258/256; rounding the Double sum (= 259/256) instead would give the even
        // 260/256. FP32 keeps 259/256, off by 2^−100.
        let out = try evaluate(module, ["a": .vector([0x1p-50, 1.75]), "b": .vector([-0x1p-50, 37.0 / 64]),
                                        "format": .text("bf16")])
        XCTAssertEqual(out.number("low"), 258.0 / 256)
        XCTAssertEqual(out.number("fp32"), 259.0 / 256)
        XCTAssertEqual(out.number("error_fp32"), 0x1p-100)
        XCTAssertEqual(out.number("double_sum"), 259.0 / 256)
        XCTAssertEqual(out.number("error_double"), 0x1p-100)
        XCTAssertEqual(FloatFormat.bf16.round(259.0 / 256 - 0x1p-100).value, 260.0 / 256, "the trap is real")
    }

    func testCancellationAndOverflow() throws {
        // 1·1 + 1·(−1) + 3·0 = 0 exactly in every accumulator.
        let zero = try evaluate(module, ["a": .vector([1, 1, 3]), "b": .vector([1, -1, 0])])
        XCTAssertEqual(zero.number("exact"), 0)
        XCTAssertEqual(zero.number("relative_error_low"), 0)
        XCTAssertEqual(zero.number("error_ratio"), 1)
        XCTAssertEqual(zero.number("condition_number"), .infinity)
        XCTAssertEqual(zero["swallowed_low"], .integer(0))  // the zero product is not counted
        // 60000 + 60000 = 120000 > 65504: the FP16 accumulator overflows, FP32 does not.
        let big = try evaluate(module, ["a": .vector([60000, 60000]), "b": .vector([1, 1])])
        XCTAssertEqual(big.number("low"), .infinity)
        XCTAssertEqual(big.number("error_low"), .infinity)
        XCTAssertEqual(big.number("fp32"), 2 * FloatFormat.fp16.round(60000).value)
        XCTAssertEqual(big.number("error_ratio"), .infinity)
    }

    // MARK: Properties

    func testDefaultCellShowsFP32OverAHundredTimesMoreAccurate() throws {
        let out = try evaluate(module)
        XCTAssertEqual(out["n"], .integer(4096))
        XCTAssertGreaterThan(out.number("error_ratio"), 100)
        XCTAssertEqual(out.number("error_ratio"), abs(out.number("error_low")) / abs(out.number("error_fp32")))
        XCTAssertEqual(out["products_exact_in_fp32"], .bool(true))
        // Each accumulator is within the classical bound n·u·Σ|aᵢbᵢ| of the exact sum.
        let sumAbs = out.number("sum_abs_products")
        XCTAssertLessThan(abs(out.number("error_low")), 4096 * 0x1p-11 * sumAbs)
        XCTAssertLessThan(abs(out.number("error_fp32")), 4096 * 0x1p-24 * sumAbs)
    }

    func testSeedsAndDistributions() throws {
        let one = try evaluate(module, ["n": .integer(500)])
        XCTAssertEqual(try evaluate(module, ["n": .integer(500)]).number("low"), one.number("low"))
        XCTAssertNotEqual(try evaluate(module, ["n": .integer(500), "seed": .integer(2)]).number("exact"), one.number("exact"))
        // Uniform draws are non-negative: no cancellation, the sum only grows.
        let uniform = try evaluate(module, ["n": .integer(2000), "distribution": .text("uniform")])
        XCTAssertEqual(uniform.number("condition_number"), 1)
        XCTAssertGreaterThan(uniform.number("exact"), 0)
        // The draws themselves: uniform in [0, 1), normal with mean ≈ 0 and variance ≈ 1.
        let (u, _) = dotVectors(n: 20_000, seed: 5, distribution: .uniform)
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })
        let (z, w) = dotVectors(n: 20_000, seed: 5, distribution: .normal)
        let mean = z.reduce(0, +) / 20_000, variance = z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 20_000
        XCTAssertEqual(mean, 0, accuracy: 0.05)  // 7 standard errors (σ/√n ≈ 0.007)
        XCTAssertEqual(variance, 1, accuracy: 0.05)
        XCTAssertEqual(w.count, 20_000)
    }

    func testFP16ProductsAreAlwaysExactInFP32() throws {
        // 11 + 11 ≤ 24 bits, exponents −48 … 32 inside FP32's −149 … 127: whatever the values.
        var rng = TestRandom(seed: 11)
        for _ in 0..<20 {
            let a = (0..<200).map { _ in Double(sign: .plus, exponent: Int.random(in: -24...15, using: &rng), significand: Double.random(in: 1..<2, using: &rng)) * (Bool.random(using: &rng) ? 1 : -1) }
            let b = (0..<200).map { _ in Double(sign: .plus, exponent: Int.random(in: -24...15, using: &rng), significand: Double.random(in: 1..<2, using: &rng)) }
            let out = try evaluate(module, ["a": .vector(a), "b": .vector(b)])
            XCTAssertEqual(out["products_exact_in_fp32"], .bool(true))
        }
        // BF16's range is FP32's, so a product can leave it: 1e30·1e30.
        let wide = try evaluate(module, ["a": .vector([1e30]), "b": .vector([1e30]), "format": .text("bf16")])
        XCTAssertEqual(wide["products_exact_in_fp32"], .bool(false))
    }

    func testExactSum() {
        var s = ExactSum()
        for x in [1e100, 1, -1e100] { s.add(x) }
        XCTAssertEqual(s.value, 1)
        var tenth = ExactSum()
        for _ in 0..<10 { tenth.add(0.1) }
        XCTAssertEqual(tenth.value, 1)  // math.fsum([0.1] * 10) == 1.0; the plain sum is 0.9999999999999999
        // A shuffled set of x and −x plus 2^−60 sums to exactly 2^−60.
        var rng = TestRandom(seed: 3)
        var xs = rng.vector(500, in: -1e10...1e10)
        xs += xs.map { -$0 }
        xs.append(0x1p-60)
        xs.shuffle(using: &rng)
        var c = ExactSum()
        for x in xs { c.add(x) }
        XCTAssertEqual(c.value, 0x1p-60)
        XCTAssertEqual(c.error(of: 0), -0x1p-60)
        XCTAssertEqual(c.error(of: .infinity), .infinity)
        XCTAssertEqual(ExactSum().value, 0)
    }

    // MARK: Bad input

    func testBadInput() {
        XCTAssertEqual(evaluationError(module, ["a": .vector([1, 2])])?.parameter, "b")
        XCTAssertEqual(evaluationError(module, ["b": .vector([1, 2])])?.parameter, "a")
        let lengths = evaluationError(module, ["a": .vector([1, 2]), "b": .vector([1])])
        XCTAssertEqual(lengths?.parameter, "b")
        XCTAssertTrue(lengths?.message.contains("a has 2") ?? false, lengths?.message ?? "")
        XCTAssertEqual(evaluationError(module, ["a": .vector([1, 2]), "b": .vector([1, 2]), "n": .integer(3)])?.parameter, "n")
        XCTAssertNoThrow(try module.evaluate(["a": .vector([1, 2]), "b": .vector([1, 2]), "n": .integer(2)]))
        let overflow = evaluationError(module, ["a": .vector([1, 1e6]), "b": .vector([1, 1])])
        XCTAssertEqual(overflow?.parameter, "a")
        XCTAssertTrue(overflow?.message.contains("[1]") ?? false, overflow?.message ?? "")
        XCTAssertNoThrow(try module.evaluate(["a": .vector([1]), "b": .vector([65519])]))  // rounds to 65504
        XCTAssertEqual(evaluationError(module, ["a": .vector([1]), "b": .vector([65520])])?.parameter, "b")
        XCTAssertEqual(evaluationError(module, ["a": .vector([.nan]), "b": .vector([1])])?.parameter, "a")
        XCTAssertEqual(evaluationError(module, ["n": .integer(0)])?.parameter, "n")
        XCTAssertEqual(evaluationError(module, ["n": .integer(100_001)])?.parameter, "n")
        XCTAssertEqual(evaluationError(module, ["seed": .integer(-1)])?.parameter, "seed")
        XCTAssertEqual(evaluationError(module, ["format": .text("fp32")])?.parameter, "format")
        XCTAssertEqual(evaluationError(module, ["format": .text("fp8-e4m3")])?.parameter, "format")
        XCTAssertEqual(evaluationError(module, ["distribution": .text("gauss")])?.parameter, "distribution")
        XCTAssertEqual(evaluationError(module, ["a": .vector(Array(repeating: 1, count: 100_001)),
                                                "b": .vector([1])])?.parameter, "a")
    }
}
