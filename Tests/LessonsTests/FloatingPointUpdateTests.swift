import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

final class FloatingPointUpdateTests: XCTestCase {
    let sgd = FPUpdateModule()
    let adam = FPAdamModule()

    private func bits(_ any: Any?) throws -> Double { try XCTUnwrap(fixtureDoubleBits(any)) }

    /// Equal as Doubles (so −0 equals +0), or both NaN.
    private func assertSame(_ a: Double, _ b: Double, _ message: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(a == b || (a.isNaN && b.isNaN), "\(message): \(a) vs \(b)", file: file, line: line)
    }

    // MARK: SGD: fixtures and hand-derived cases

    func testSGDFixture() throws {
        let root = try XCTUnwrap(loadFixture("fp_training.json") as? [String: Any])
        let cases = try XCTUnwrap(root["update"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 16)
        for c in cases {
            let format = try XCTUnwrap(c["format"] as? String)
            let out = try evaluate(sgd, ["w": .number(try bits(c["w"])), "g": .number(try bits(c["g"])),
                                         "lr": .number(try bits(c["lr"])), "format": .text(format)])
            let label = "\(format) w=\(try bits(c["w"])) g=\(try bits(c["g"])) lr=\(try bits(c["lr"]))"
            for name in ["lr_low", "g_low", "update_low", "w_low", "w_low_fused", "update_fp32", "w_fp32"] {
                assertSame(out.number(name), try bits(c[name]), "\(label) \(name)")
            }
        }
    }

    func testTheUnderflowOfTheReview() throws {
        // lr = 1e-3 = 1.024·2^−10 is 1049·2^−20 in FP16 (0.024·1024 = 24.6 → 25); g = 1e-5 is
        // below 2^−14, a subnormal: 1e-5/2^−24 = 167.8 → 168·2^−24. Their product
        // 1049·168·2^−44 ≈ 1.0018e-8 is below 2^−25 ≈ 2.98e-8, half the smallest subnormal: 0.
        let out = try evaluate(sgd, ["w": .number(1)])
        XCTAssertEqual(out.number("lr_low"), 1049 * 0x1p-20)
        XCTAssertEqual(out.number("g_low"), 168 * 0x1p-24)
        XCTAssertEqual(out["g_underflow"], .bool(false))
        XCTAssertEqual(out.number("update_low"), 0)
        XCTAssertEqual(out["update_underflow"], .bool(true))
        XCTAssertEqual(out["moved_low"], .bool(false))
        XCTAssertEqual(out["moved_low_fused"], .bool(false))
        // FP32 holds the update (1049·2^−20 as FP32 is not 1e-3, so update_fp32 is lr·g_low
        // rounded), but at w = 1 half the FP32 spacing is 2^−24 ≈ 5.96e-8 > 1e-8: it vanishes
        // too. The review's "in FP32 an update below about 2^−24·|w| still vanishes".
        XCTAssertEqual(out.number("update_fp32"), FloatFormat.fp32.round(FloatFormat.fp32.round(1e-3).value * 168 * 0x1p-24).value)
        XCTAssertEqual(out["moved_fp32"], .bool(false))
        XCTAssertEqual(out.number("ulp_w_fp32"), 0x1p-23)
        // At w = 0.01 (the default) the FP32 spacing is 2^−30 ≈ 9.3e-10 and the master weight moves.
        let small = try evaluate(sgd)
        XCTAssertEqual(small["moved_fp32"], .bool(true))
        XCTAssertEqual(small["moved_low_fused"], .bool(false))  // FP16's spacing at 0.01 is 2^−17
        XCTAssertEqual(small.number("ulp_w_low"), 0x1p-17)
        XCTAssertEqual(small.number("w_exact"), 0.01 - 1e-3 * 1e-5)
        // BF16 has FP32's range: lr·g = 1e-8 is a normal BF16 number.
        let bf = try evaluate(sgd, ["format": .text("bf16")])
        XCTAssertEqual(bf["update_underflow"], .bool(false))
        XCTAssertGreaterThan(bf.number("update_low"), 0)
        XCTAssertLessThanOrEqual(abs(bf.number("update_low") - 1e-8) / 1e-8, 3 * 0x1p-8)  // three roundings
    }

    func testStepsAgainstNativeFloat16() throws {
        // Native Float16 arithmetic is correctly rounded, one operation at a time: the plain step
        // is an independent reference. The fused step is checked where the Double difference is
        // exact, so that one native conversion is its single rounding.
        var rng = TestRandom(seed: 1618)
        var fusedChecked = 0
        for _ in 0..<2000 {
            let w = Double.random(in: -4...4, using: &rng)
            let g = Double.random(in: -1...1, using: &rng) * 0x1p-8
            let lr = Double.random(in: 0...0.5, using: &rng)
            let out = try evaluate(sgd, ["w": .number(w), "g": .number(g), "lr": .number(lr)])
            let plain = Float16(w) - Float16(lr) * Float16(g)
            XCTAssertEqual(out.number("w_low"), Double(plain), "w \(w) g \(g) lr \(lr)")
            let p = Double(Float16(lr)) * Double(Float16(g))
            let (hi, lo) = twoSum(Double(Float16(w)), -p)
            if lo == 0 {
                fusedChecked += 1
                XCTAssertEqual(out.number("w_low_fused"), Double(Float16(hi)), "w \(w) g \(g) lr \(lr)")
            }
        }
        XCTAssertGreaterThan(fusedChecked, 1000)
    }

    // MARK: Adam

    func testAdamFixture() throws {
        let root = try XCTUnwrap(loadFixture("fp_training.json") as? [String: Any])
        let cases = try XCTUnwrap(root["adam"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 12)
        let names = ["w", "g", "m", "v", "lr", "beta1", "beta2", "eps"]
        for c in cases {
            let p = try XCTUnwrap(c["params"] as? [Any])
            var params: [String: Value] = ["format": .text(try XCTUnwrap(c["format"] as? String)),
                                           "step": .integer(try XCTUnwrap(p[8] as? Int))]
            for (i, name) in names.enumerated() { params[name] = .number(try bits(p[i])) }
            let out = try evaluate(adam, params)
            for suffix in ["low", "fp32", "exact"] {
                let expected = try XCTUnwrap(c[suffix] as? [String: Any])
                for name in ["m", "v", "m_hat", "v_hat", "denominator", "update", "w"] {
                    assertSame(out.number("\(name)_\(suffix)"), try bits(expected[name]), "\(params) \(name)_\(suffix)")
                }
                if suffix == "low" {
                    assertSame(out.number("eps_low"), try bits(expected["eps"]), "eps_low")
                    assertSame(out.number("g_squared_low"), try bits(expected["g_squared"]), "g_squared_low")
                }
            }
        }
    }

    func testEpsilonVanishesInFP16() throws {
        // ε = 1e-8 < 2^−25: 0 in FP16. g² = 1e-10 is 0 too, so v stays 0, √v̂ + ε = 0 and
        // m̂/0 = inf: the weight becomes −inf after one step.
        let out = try evaluate(adam)
        XCTAssertEqual(out.number("eps_low"), 0)
        XCTAssertEqual(out["eps_underflow"], .bool(true))
        XCTAssertEqual(out.number("g_squared_low"), 0)
        XCTAssertEqual(out.number("v_low"), 0)
        XCTAssertEqual(out.number("denominator_low"), 0)
        XCTAssertEqual(out.number("update_low"), .infinity)
        XCTAssertEqual(out.number("w_low"), -.infinity)
        // In FP32 and Double the first step from m = v = 0 is m̂/(√v̂ + ε) = g/(|g| + ε):
        // lr·1e-5/(1e-5 + 1e-8) = lr·1000/1001.
        XCTAssertEqual(out.number("update_exact"), 1e-3 * 1e-5 / (1e-5 + 1e-8), accuracy: 1e-18)
        XCTAssertEqual(out.number("update_fp32"), 1e-3 * 1000 / 1001, accuracy: 1e-9)
        // A zero gradient: 0/0 in FP16 is NaN; FP32 takes a zero step.
        let zero = try evaluate(adam, ["g": .number(0)])
        XCTAssertTrue(zero.number("update_low").isNaN)
        XCTAssertTrue(zero.number("w_low").isNaN)
        XCTAssertEqual(zero.number("update_fp32"), 0)
        XCTAssertEqual(zero.number("w_fp32"), FloatFormat.fp32.round(0.01).value)
        // BF16 keeps ε (and g²) in range: a finite step.
        let bf = try evaluate(adam, ["format": .text("bf16")])
        XCTAssertGreaterThan(bf.number("eps_low"), 0)
        XCTAssertEqual(bf["eps_underflow"], .bool(false))
        XCTAssertTrue(bf.number("update_low").isFinite)
        XCTAssertEqual(bf.number("update_low"), 1e-3, accuracy: 1e-5)
    }

    func testAdamIdentities() throws {
        // With β₁ = β₂ = 0 and t = 1 the step is lr·g/(|g| + ε) exactly in Double arithmetic order.
        let out = try evaluate(adam, ["beta1": .number(0), "beta2": .number(0), "g": .number(-0.25),
                                      "eps": .number(0), "m": .number(3), "v": .number(7)])
        XCTAssertEqual(out.number("m_exact"), -0.25)
        XCTAssertEqual(out.number("v_exact"), 0.0625)
        XCTAssertEqual(out.number("update_exact"), -1e-3)
        XCTAssertEqual(out.number("update_low"), FloatFormat.fp16.round(-1e-3).value)  // every step exact but lr
        // Late steps: the bias corrections tend to 1.
        let late = try evaluate(adam, ["step": .integer(1_000_000), "m": .number(0.5), "v": .number(0.25), "g": .number(0)])
        XCTAssertEqual(late.number("m_hat_exact"), 0.45, accuracy: 1e-15)
        XCTAssertEqual(late.number("v_hat_exact"), 0.24975, accuracy: 1e-15)
    }

    // MARK: Bad input

    func testBadInput() {
        XCTAssertEqual(evaluationError(sgd, ["lr": .number(-1)])?.parameter, "lr")
        XCTAssertEqual(evaluationError(sgd, ["w": .number(.nan)])?.parameter, "w")
        XCTAssertEqual(evaluationError(sgd, ["g": .number(.infinity)])?.parameter, "g")
        XCTAssertEqual(evaluationError(sgd, ["format": .text("fp32")])?.parameter, "format")
        XCTAssertEqual(evaluationError(adam, ["beta1": .number(1)])?.parameter, "beta1")
        XCTAssertEqual(evaluationError(adam, ["beta2": .number(-0.1)])?.parameter, "beta2")
        XCTAssertEqual(evaluationError(adam, ["v": .number(-1)])?.parameter, "v")
        XCTAssertEqual(evaluationError(adam, ["eps": .number(-1e-8)])?.parameter, "eps")
        XCTAssertEqual(evaluationError(adam, ["step": .integer(0)])?.parameter, "step")
        XCTAssertEqual(evaluationError(adam, ["lr": .number(.nan)])?.parameter, "lr")
        XCTAssertEqual(evaluationError(adam, ["format": .text("fp8-e4m3")])?.parameter, "format")
    }
}
