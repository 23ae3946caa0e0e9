import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

final class FloatingPointAccumulateTests: XCTestCase {
    let module = FPAccumulateModule()

    func testNumpyAndMLDtypesFixture() throws {
        let root = try XCTUnwrap(loadFixture("fp16.json") as? [String: Any])
        let cases = try XCTUnwrap(root["accumulate"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 7)
        for c in cases {
            let params: [String: Value] = [
                "start": .number(try XCTUnwrap(fixtureDoubleBits(c["start"]))),
                "value": .number(try XCTUnwrap(fixtureDoubleBits(c["value"]))),
                "count": .integer(try XCTUnwrap(c["count"] as? Int)),
            ]
            for format in ["fp16", "bf16"] {
                var p = params
                p["format"] = .text(format)
                let out = try evaluate(module, p)
                XCTAssertEqual(out.number("low"), fixtureDoubleBits(c[format]), "\(format) \(params)")
                XCTAssertEqual(out["stalled_at"], .integer(try XCTUnwrap(c["\(format)_stalled_at"] as? Int)), "\(format) \(params)")
                XCTAssertEqual(out.number("fp32"), fixtureDoubleBits(c["fp32"]), "\(params)")
                XCTAssertEqual(out["fp32_stalled_at"], .integer(try XCTUnwrap(c["fp32_stalled_at"] as? Int)))
            }
        }
    }

    func testAgainstNativeLoops() throws {
        // Float16 and Float arithmetic are correctly rounded: the loop in those types is an
        // independent reference for the rounding-in-Double the module does.
        var rng = TestRandom(seed: 2018)
        for _ in 0..<20 {
            let start = Double.random(in: -50...50, using: &rng)
            let value = Double.random(in: -0.02...0.05, using: &rng)
            let count = Int.random(in: 0...3000, using: &rng)
            var h = Float16(start), f = Float(start)
            let hv = Float16(value), fv = Float(value)
            for _ in 0..<count { h += hv; f += fv }
            let out = try evaluate(module, ["start": .number(start), "value": .number(value), "count": .integer(count)])
            XCTAssertEqual(out.number("low"), Double(h), "\(start) \(value) \(count)")
            XCTAssertEqual(out.number("fp32"), Double(f), "\(start) \(value) \(count)")
            XCTAssertEqual(out.number("exact"), start + Double(count) * value)
        }
    }

    func testDefaultsStallAtOnce() throws {
        // Spacing of FP16 at 1 is 2^−10 ≈ 9.8e−4; 1e−4 is below half of it, so 1 + 1e−4 = 1.
        let out = try evaluate(module)
        XCTAssertEqual(out.number("low"), 1)
        XCTAssertEqual(out["stalled_at"], .integer(1))
        XCTAssertEqual(out.number("spacing_at_start"), 0x1p-10)
        XCTAssertEqual(out["fp32_stalled_at"], .integer(-1))
        XCTAssertEqual(out.number("exact"), 1 + 10_000 * 1e-4)
        // In FP32 each addition still rounds (to a multiple of 2^−23 in [1, 2)), so the sum
        // drifts from 2 but stays within count·2^−24 of it.
        XCTAssertLessThan(abs(out.number("fp32") - 2), 10_000 * 0x1p-24)
        XCTAssertNotEqual(out.number("fp32"), 2)
    }

    func testTwoThousandFortyEightPlusOne() throws {
        let out = try evaluate(module, ["start": .number(2048), "value": .number(1), "count": .integer(5)])
        XCTAssertEqual(out.number("low"), 2048)
        XCTAssertEqual(out["stalled_at"], .integer(1))
        XCTAssertEqual(out.number("spacing_at_start"), 2)
        XCTAssertEqual(out.number("fp32"), 2053)
        let below = try evaluate(module, ["start": .number(2046), "value": .number(1), "count": .integer(5)])
        // 2047 is exact, 2048 is exact, 2049 is a tie that goes to even 2048.
        XCTAssertEqual(below.number("low"), 2048)
        XCTAssertEqual(below["stalled_at"], .integer(3))
    }

    func testSpacingAtEdges() throws {
        func spacing(_ start: Double, _ format: String = "fp16") throws -> Double {
            try evaluate(module, ["start": .number(start), "count": .integer(0), "format": .text(format)]).number("spacing_at_start")
        }
        XCTAssertEqual(try spacing(0), 0x1p-24)
        XCTAssertEqual(try spacing(-0.0), 0x1p-24)
        XCTAssertEqual(try spacing(-1), 0x1p-11)  // toward zero the binade below is finer
        XCTAssertEqual(try spacing(65504), .infinity)
        XCTAssertTrue(try spacing(1e6).isNaN)  // 1e6 is infinite in FP16
        XCTAssertEqual(try spacing(1, "bf16"), 0x1p-7)
        let inf = try evaluate(module, ["start": .number(1e6), "count": .integer(3)])
        XCTAssertEqual(inf.number("low"), .infinity)
        XCTAssertEqual(inf["stalled_at"], .integer(1))
    }

    func testBadInput() {
        XCTAssertEqual(evaluationError(module, ["count": .integer(-1)])?.parameter, "count")
        XCTAssertEqual(evaluationError(module, ["count": .integer(10_000_001)])?.parameter, "count")
        XCTAssertEqual(evaluationError(module, ["value": .number(.nan)])?.parameter, "value")
        XCTAssertEqual(evaluationError(module, ["start": .number(.infinity)])?.parameter, "start")
        XCTAssertEqual(evaluationError(module, ["format": .text("fp64")])?.parameter, "format")
    }
}
