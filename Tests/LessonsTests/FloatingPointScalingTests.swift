import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// `fp.dynamic-scale` driven by max|g| and `fp.scale-tensor`.
final class FloatingPointScalingTests: XCTestCase {
    let dynamic = FPDynamicScaleModule()
    let tensor = FPScaleTensorModule()

    private func bits(_ any: Any?) throws -> Double { try XCTUnwrap(fixtureDoubleBits(any)) }
    private func bitsVector(_ any: Any?) -> [Double] { (any as? [Any] ?? []).compactMap(fixtureDoubleBits) }

    // MARK: Dynamic scaling computed from max|g|

    func testDynamicFixture() throws {
        let root = try XCTUnwrap(loadFixture("fp_training.json") as? [String: Any])
        let cases = try XCTUnwrap(root["dynamic"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 6)
        for c in cases {
            let params: [String: Value] = [
                "max_grad": .vector(bitsVector(c["max_grad"])), "format": .text(try XCTUnwrap(c["format"] as? String)),
                "init_scale": .number(try bits(c["init_scale"])), "growth": .number(try bits(c["growth"])),
                "backoff": .number(try bits(c["backoff"])), "interval": .integer(try XCTUnwrap(c["interval"] as? Int)),
                "steps": .integer(try XCTUnwrap(c["steps"] as? Int)),
            ]
            let out = try evaluate(dynamic, params)
            let label = "\(c["format"] ?? "") init \(try bits(c["init_scale"]))"
            XCTAssertEqual(out.vector("scale"), bitsVector(c["scale"]), label)
            XCTAssertEqual(out.vector("skipped"), (c["skipped"] as? [Int] ?? []).map(Double.init), label)
            XCTAssertTrue(sameDoubles(out.vector("scaled_max_grad"), bitsVector(c["scaled_max_grad"])), label)
            XCTAssertEqual(out.number("final_scale"), try bits(c["final_scale"]), label)
        }
    }

    func testTheThresholdIs65520ByHand() throws {
        // At scale 2^16 the scaled gradient is 2^16·max|g| exactly. 65504 fits; 65519.98 rounds
        // down to 65504 (less than half of the ulp 32 above it); 65520 is the tie that goes to
        // the even 2^16, which is infinity: that step overflows and the scale halves.
        let out = try evaluate(dynamic, ["max_grad": .vector([65504 / 65536, 65519.984375 / 65536, 65520.0 / 65536, 1]),
                                         "interval": .integer(10)])
        XCTAssertEqual(out.vector("scaled_max_grad"), [65504, 65504, .infinity, 32768])
        XCTAssertEqual(out.vector("skipped"), [0, 0, 1, 0])
        XCTAssertEqual(out.vector("scale"), [65536, 65536, 65536, 32768])
        XCTAssertEqual(out.vector("overflowed_at"), [3])
        XCTAssertEqual(out.number("overflow_threshold"), 65520)
        XCTAssertEqual(out["updates"], .integer(3))
    }

    func testConstantGradientGivesASawtooth() throws {
        // max|g| = 1 every step, interval 3: step 1 at 65536 overflows (65536 ≥ 65520) → 32768;
        // steps 2–4 are clean and grow it back to 65536 for step 5, which overflows again: a
        // period of four steps, computed, not scripted.
        let out = try evaluate(dynamic, ["max_grad": .vector(Array(repeating: 1, count: 12))])
        XCTAssertEqual(out.vector("skipped"), [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0])
        XCTAssertEqual(out.vector("scale"), [65536, 32768, 32768, 32768, 65536, 32768, 32768, 32768, 65536, 32768, 32768, 32768])
        XCTAssertEqual(out.vector("overflowed_at"), [1, 5, 9])
        XCTAssertEqual(out.number("final_scale"), 65536)
        // BF16 has FP32's range: the same gradients never overflow.
        let bf = try evaluate(dynamic, ["max_grad": .vector(Array(repeating: 1, count: 12)), "format": .text("bf16")])
        XCTAssertEqual(bf.vector("skipped"), Array(repeating: 0, count: 12))
        // E4M3's overflow is NaN, and counts: 1·448 fits, 465 does not (464 would: the tie keeps 448).
        let e4 = try evaluate(dynamic, ["max_grad": .vector([464.0 / 256, 465.0 / 256]), "init_scale": .number(256),
                                        "format": .text("fp8-e4m3"), "interval": .integer(5)])
        XCTAssertEqual(e4.vector("skipped"), [0, 1])
        XCTAssertTrue(e4.vector("scaled_max_grad")[1].isNaN)
        XCTAssertEqual(e4.number("overflow_threshold"), 464)
    }

    func testComputedOverflowsReplayedAsScriptedGiveTheSameRun() throws {
        var rng = TestRandom(seed: 2000)
        let maxGrad = (0..<200).map { _ in exp(Double.random(in: -3...3, using: &rng)) }
        let computed = try evaluate(dynamic, ["max_grad": .vector(maxGrad), "interval": .integer(7)])
        XCTAssertEqual(computed.vector("scale").count, 200)  // steps defaults to len(max_grad)
        XCTAssertGreaterThan(computed.vector("overflowed_at").count, 3)
        let scripted = try evaluate(dynamic, ["overflow_steps": .vector(computed.vector("overflowed_at")),
                                              "steps": .integer(200), "interval": .integer(7)])
        XCTAssertEqual(scripted.vector("scale"), computed.vector("scale"))
        XCTAssertEqual(scripted.vector("skipped"), computed.vector("skipped"))
        XCTAssertEqual(scripted.number("final_scale"), computed.number("final_scale"))
        XCTAssertEqual(scripted.vector("scaled_max_grad"), [])
        // Every step's verdict is the FP16 cast of scale·max|g|.
        for (i, (s, g)) in zip(computed.vector("scale"), maxGrad).enumerated() {
            XCTAssertEqual(computed.vector("skipped")[i] == 1, s * g >= 65520, "step \(i + 1)")
        }
        // A non-finite max|g| (the backward pass itself overflowed) always skips.
        let bad = try evaluate(dynamic, ["max_grad": .vector([0.001, .infinity, .nan, 0.001])])
        XCTAssertEqual(bad.vector("skipped"), [0, 1, 1, 0])
        // Fewer steps than entries: the first `steps` entries are used.
        let short = try evaluate(dynamic, ["max_grad": .vector([1, 0.001, 0.001]), "steps": .integer(2)])
        XCTAssertEqual(short.vector("skipped"), [1, 0])
    }

    func testScriptedDefaultsStillHold() throws {
        let out = try evaluate(dynamic)
        XCTAssertEqual(out.vector("overflowed_at"), [4])
        XCTAssertEqual(out.vector("scaled_max_grad"), [])
        XCTAssertEqual(out.vector("scale").count, 10)
    }

    func testDynamicBadInput() {
        let both = evaluationError(dynamic, ["max_grad": .vector([1]), "overflow_steps": .vector([1])])
        XCTAssertEqual(both?.parameter, "overflow_steps")
        XCTAssertEqual(evaluationError(dynamic, ["max_grad": .vector([1, 2]), "steps": .integer(3)])?.parameter, "steps")
        XCTAssertEqual(evaluationError(dynamic, ["max_grad": .vector([1, -2])])?.parameter, "max_grad")
        XCTAssertEqual(evaluationError(dynamic, ["max_grad": .vector([])])?.parameter, "max_grad")
        XCTAssertEqual(evaluationError(dynamic, ["format": .text("fp32")])?.parameter, "format")
        XCTAssertEqual(evaluationError(dynamic, ["max_grad": .vector(Array(repeating: 1, count: 100_001))])?.parameter, "max_grad")
    }

    // MARK: Per-tensor scaling

    func testScaleTensorFixture() throws {
        let root = try XCTUnwrap(loadFixture("fp8.json") as? [String: Any])
        let tensors = try XCTUnwrap(root["tensors"] as? [[Any]]).map { $0.compactMap(fixtureDoubleBits) }
        let cases = try XCTUnwrap(root["scale_tensor"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 32)
        for c in cases {
            let values = tensors[try XCTUnwrap(c["tensor"] as? Int)]
            let format = try XCTUnwrap(c["format"] as? String)
            let margin = try XCTUnwrap(c["margin"] as? Int)
            let out = try evaluate(tensor, ["values": .vector(values), "format": .text(format), "margin": .integer(margin)])
            let label = "tensor \(c["tensor"] ?? "") \(format) margin \(margin)"
            XCTAssertEqual(out.number("amax"), try bits(c["amax"]), label)
            XCTAssertEqual(out.number("scale"), try bits(c["scale"]), label)
            XCTAssertTrue(sameDoubles(out.vector("cast"), bitsVector(c["cast"])), label)
            XCTAssertTrue(sameDoubles(out.vector("scaled_cast"), bitsVector(c["scaled_cast"])), label)
            for name in ["underflow", "overflow", "subnormal", "underflow_scaled", "overflow_scaled", "subnormal_scaled"] {
                XCTAssertEqual(out[name], .integer(try XCTUnwrap(c[name] as? Int)), "\(label) \(name)")
            }
            for name in ["relative_error", "relative_error_scaled"] {
                let expected = try bits(c[name])
                let mine = out.number(name)
                XCTAssertTrue(mine == expected || mine.isNaN && expected.isNaN || abs(mine - expected) <= 1e-12 * expected,
                              "\(label) \(name): \(mine) vs \(expected)")
            }
        }
    }

    func testDefaultTensorByHand() throws {
        // amax = 1200, scale = 448/1200. Unscaled, 1200 and 600 are above 464: NaN in E4M3;
        // 7e-4 and 2e-5 are below 2^−10, half the smallest subnormal 2^−9: zeros. Scaled,
        // 1200 → 448 exactly, 600 → 224, but 0.002·0.3733 = 7.5e-4 now underflows too.
        let out = try evaluate(tensor)
        XCTAssertEqual(out.number("amax"), 1200)
        XCTAssertEqual(out.number("scale"), 448.0 / 1200)
        XCTAssertEqual(out.number("scaled_amax"), 448)
        let cast = out.vector("cast"), scaled = out.vector("scaled_cast")
        XCTAssertTrue(cast[3].isNaN && cast[9].isNaN)
        XCTAssertEqual(cast[4], 0)
        XCTAssertEqual(cast[0], 0x1p-9)  // 0.002 = 1.02·2^−9
        XCTAssertEqual(scaled[3], 448)
        XCTAssertEqual(scaled[9], 224)
        XCTAssertEqual(scaled[0], 0)
        XCTAssertEqual(out["overflow"], .integer(2))
        XCTAssertEqual(out["underflow"], .integer(2))
        XCTAssertEqual(out["overflow_scaled"], .integer(0))
        XCTAssertEqual(out["underflow_scaled"], .integer(3))
        XCTAssertTrue(out.number("relative_error").isNaN)
        XCTAssertLessThan(out.number("relative_error_scaled"), 0x1p-4)  // E4M3's unit roundoff
        // Saturating: 1200 and 600 clamp to 448, still counted as overflows, and the error is finite.
        let sat = try evaluate(tensor, ["saturate": .bool(true)])
        XCTAssertEqual(sat.vector("cast")[3], 448)
        XCTAssertEqual(sat["overflow"], .integer(2))
        XCTAssertTrue(sat.number("relative_error").isFinite)
        // E5M2 reaches 57344: nothing overflows; 1200 = 1.17·2^10 rounds to 1.25·2^10 = 1280.
        let e5 = try evaluate(tensor, ["format": .text("fp8-e5m2")])
        XCTAssertEqual(e5.vector("cast")[3], 1280)
        XCTAssertEqual(e5["overflow"], .integer(0))
        XCTAssertEqual(e5.number("scale"), 57344.0 / 1200)
    }

    func testScaleIdentities() throws {
        // A power-of-two scale only shifts exponents: where neither cast under- or overflows
        // (normal numbers), the recovered values equal the plain cast.
        let values: [Double] = [0.3, -1.7, 5.5, 12.25, -0.0625, 100]
        let out = try evaluate(tensor, ["values": .vector(values), "scale": .number(4)])
        XCTAssertEqual(out.vector("recovered"), out.vector("cast"))
        XCTAssertEqual(out.number("relative_error"), out.number("relative_error_scaled"))
        // margin m divides the amax scale by 2^m.
        let m0 = try evaluate(tensor, ["values": .vector(values)])
        let m3 = try evaluate(tensor, ["values": .vector(values), "margin": .integer(3)])
        XCTAssertEqual(m3.number("scale"), m0.number("scale") / 8)
        XCTAssertEqual(m3.number("scaled_amax"), 56)  // 448/8
        // An all-zero tensor has nothing to scale.
        let zeros = try evaluate(tensor, ["values": .vector([0, 0, -0.0])])
        XCTAssertEqual(zeros.number("scale"), 1)
        XCTAssertEqual(zeros.number("relative_error"), 0)
        XCTAssertEqual(zeros["underflow"], .integer(0))
        // A tiny amax would need a scale past the largest Double: capped there.
        let tiny = try evaluate(tensor, ["values": .vector([.leastNonzeroMagnitude])])
        XCTAssertEqual(tiny.number("scale"), .greatestFiniteMagnitude)
        XCTAssertTrue(tiny.number("relative_error_scaled").isFinite)
        // An explicit scale whose product leaves Double's range is an overflow, not a crash.
        let huge = try evaluate(tensor, ["values": .vector([1e300, 1e-300]), "scale": .number(1e300), "saturate": .bool(true)])
        XCTAssertEqual(huge["overflow_scaled"], .integer(1))
        XCTAssertEqual(huge.vector("scaled_cast"), [448, 1])
    }

    func testScaleTensorBadInput() {
        XCTAssertEqual(evaluationError(tensor, ["scale": .number(0)])?.parameter, "scale")
        XCTAssertEqual(evaluationError(tensor, ["scale": .number(-2)])?.parameter, "scale")
        XCTAssertEqual(evaluationError(tensor, ["scale": .number(.infinity)])?.parameter, "scale")
        XCTAssertEqual(evaluationError(tensor, ["margin": .integer(65)])?.parameter, "margin")
        XCTAssertEqual(evaluationError(tensor, ["margin": .integer(-1)])?.parameter, "margin")
        XCTAssertEqual(evaluationError(tensor, ["values": .vector([1, .nan])])?.parameter, "values")
        XCTAssertEqual(evaluationError(tensor, ["values": .vector([])])?.parameter, "values")
        XCTAssertEqual(evaluationError(tensor, ["format": .text("fp32")])?.parameter, "format")
    }
}
