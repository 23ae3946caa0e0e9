import FloatLanes
import Foundation
import NotebookCore
import XCTest

@testable import Lessons

final class FloatingPointLossScaleTests: XCTestCase {
    let module = FPLossScaleModule()
    let dynamic = FPDynamicScaleModule()

    func testNumpyFixture() throws {
        let root = try XCTUnwrap(loadFixture("fp16.json") as? [String: Any])
        let cases = try XCTUnwrap(root["loss_scale"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 4)
        for c in cases {
            let scale = try XCTUnwrap(fixtureNumber(c["scale"]))
            let g = (c["gradients"] as? [Any] ?? []).compactMap(fixtureDoubleBits)
            let cast = (c["cast"] as? [Any] ?? []).compactMap(fixtureDoubleBits)
            let scaled = (c["scaled_cast"] as? [Any] ?? []).compactMap(fixtureDoubleBits)
            XCTAssertEqual(g.count, 210)
            XCTAssertEqual(cast.count, g.count)
            XCTAssertEqual(scaled.count, g.count)
            let out = try evaluate(module, ["gradients": .vector(g), "scale": .number(scale)])
            XCTAssertTrue(sameDoubles(out.vector("cast"), cast), "scale \(scale)")
            XCTAssertTrue(sameDoubles(out.vector("scaled_cast"), scaled), "scale \(scale)")
            XCTAssertEqual(out["underflow"], .integer(try XCTUnwrap(c["underflow"] as? Int)))
            XCTAssertEqual(out["underflow_scaled"], .integer(try XCTUnwrap(c["underflow_scaled"] as? Int)))
            XCTAssertEqual(out["overflow_scaled"], .integer(try XCTUnwrap(c["overflow_scaled"] as? Int)))
            XCTAssertEqual(out.vector("recovered"), zip(out.vector("scaled_cast"), g).map { s, _ in s / scale })
        }
    }

    func testDefaultsByHand() throws {
        // FP16's smallest subnormal is 2^−24 ≈ 5.96e−8; half of it rounds to 0. Unscaled, −1e−8,
        // 3e−9 and −1e−10 vanish. Scaled by 1024 (2^10) the floor moves to 2^−34 ≈ 5.8e−11,
        // so every gradient survives; 0.5·1024 = 512 is far from 65504.
        let out = try evaluate(module)
        XCTAssertEqual(out["underflow"], .integer(3))
        XCTAssertEqual(out["underflow_scaled"], .integer(0))
        XCTAssertEqual(out["overflow_scaled"], .integer(0))
        let cast = out.vector("cast")
        XCTAssertEqual(cast[6], 0x1p-24)  // 4e−8 = 0.67·2^−24 rounds up to one subnormal step
        XCTAssertEqual(out.vector("relative_error_cast")[6], abs(0x1p-24 - 4e-8) / 4e-8)
        XCTAssertEqual(cast[7], 0)
        XCTAssertEqual(cast[7].sign, .minus)  // −1e−8 keeps its sign as −0
        // −1e−10·1024 = −1.024e−7 = −1.72·2^−24: rounds to −2·2^−24; recovered −2^−33.
        XCTAssertEqual(out.vector("scaled_cast")[9], -0x1p-23)
        XCTAssertEqual(out.vector("recovered")[9], -0x1p-33)
        XCTAssertEqual(out.vector("scaled_cast")[0], 512)
    }

    func testOverflowAndBF16() throws {
        // 100·1024 > 65504 overflows FP16 but not BF16, whose range is FP32's.
        let g: [Double] = [100, -70, 63, 1e-9, 0, .nan, .infinity]
        let fp16 = try evaluate(module, ["gradients": .vector(g)])
        XCTAssertEqual(fp16["overflow_scaled"], .integer(2))  // 100 and −70; 63·1024 = 64512 fits
        XCTAssertEqual(fp16.vector("scaled_cast")[2], 64512)
        XCTAssertEqual(fp16.vector("scaled_cast")[1], -.infinity)
        XCTAssertEqual(fp16["underflow"], .integer(1))  // 1e−9; 0 and NaN are not counted
        XCTAssertTrue(fp16.vector("cast")[5].isNaN)
        XCTAssertEqual(fp16.vector("cast")[6], .infinity)
        let bf16 = try evaluate(module, ["gradients": .vector(g), "format": .text("bf16")])
        XCTAssertEqual(bf16["overflow_scaled"], .integer(0))
        XCTAssertEqual(bf16["underflow"], .integer(0))
        // 1e−9 in BF16: 8 significant bits, relative error at most 2^−8 (half an ulp).
        XCTAssertLessThanOrEqual(bf16.vector("relative_error_cast")[3], 0x1p-8)
        XCTAssertEqual(bf16.vector("cast")[3], Double(Float(bitPattern: bf16BitTrick(Float(1e-9).bitPattern).asHighHalf)))
    }

    func testLossScaleBadInput() {
        XCTAssertEqual(evaluationError(module, ["scale": .number(0)])?.parameter, "scale")
        XCTAssertEqual(evaluationError(module, ["scale": .number(-8)])?.parameter, "scale")
        XCTAssertEqual(evaluationError(module, ["scale": .number(.infinity)])?.parameter, "scale")
        XCTAssertEqual(evaluationError(module, ["gradients": .vector([])])?.parameter, "gradients")
        XCTAssertEqual(evaluationError(module, ["gradients": .vector(Array(repeating: 1, count: 100_001))])?.parameter, "gradients")
        XCTAssertEqual(evaluationError(module, ["format": .text("fp32")])?.parameter, "format")
    }

    // MARK: Dynamic loss scaling

    func testDynamicDefaultsByHand() throws {
        // interval 3: good steps 1–3 grow the scale after step 3; step 4 overflows (halve,
        // skip); 5–7 grow it again; 8–10 once more.
        let out = try evaluate(dynamic)
        XCTAssertEqual(out.vector("scale"), [65536, 65536, 65536, 131072, 65536, 65536, 65536, 131072, 131072, 131072])
        XCTAssertEqual(out.vector("skipped"), [0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(out.number("final_scale"), 262144)
        XCTAssertEqual(out["updates"], .integer(9))
        XCTAssertEqual(out.vector("good_run"), [1, 2, 0, 0, 1, 2, 0, 1, 2, 0])
    }

    func testDynamicBackToBackOverflowsAndIgnoredSteps() throws {
        let out = try evaluate(dynamic, ["init_scale": .number(1024), "interval": .integer(2), "steps": .integer(6),
                                         "overflow_steps": .vector([1, 2, 5, 9, 100])])
        // 1: 1024 skip → 512; 2: 512 skip → 256; 3: good; 4: good → 512; 5: skip → 256; 6: good.
        XCTAssertEqual(out.vector("scale"), [1024, 512, 256, 256, 512, 256])
        XCTAssertEqual(out.vector("skipped"), [1, 1, 0, 0, 1, 0])
        XCTAssertEqual(out.number("final_scale"), 256)
        let none = try evaluate(dynamic, ["overflow_steps": .vector([]), "steps": .integer(7), "growth": .number(3)])
        XCTAssertEqual(none.number("final_scale"), 65536 * 9)
    }

    func testDynamicBadInput() {
        XCTAssertEqual(evaluationError(dynamic, ["overflow_steps": .vector([0])])?.parameter, "overflow_steps")
        XCTAssertEqual(evaluationError(dynamic, ["overflow_steps": .vector([2.5])])?.parameter, "overflow_steps")
        XCTAssertEqual(evaluationError(dynamic, ["steps": .integer(0)])?.parameter, "steps")
        XCTAssertEqual(evaluationError(dynamic, ["steps": .integer(1_000_000)])?.parameter, "steps")
        XCTAssertEqual(evaluationError(dynamic, ["interval": .integer(0)])?.parameter, "interval")
        XCTAssertEqual(evaluationError(dynamic, ["backoff": .number(1.5)])?.parameter, "backoff")
        XCTAssertEqual(evaluationError(dynamic, ["backoff": .number(0)])?.parameter, "backoff")
        XCTAssertEqual(evaluationError(dynamic, ["growth": .number(0.5)])?.parameter, "growth")
        XCTAssertEqual(evaluationError(dynamic, ["init_scale": .number(.nan)])?.parameter, "init_scale")
    }
}

private extension UInt16 {
    /// The float32 pattern whose top half is this BF16 pattern.
    var asHighHalf: UInt32 { UInt32(self) << 16 }
}
