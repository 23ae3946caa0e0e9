import FloatLanes
import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// Directed rounding to FP16 built from the native nearest conversion: round to nearest,
/// then step one value back when it landed on the wrong side of x. Independent of the
/// lesson's algorithm (it uses only `Float16(Double)`, `nextUp` and `nextDown`).
private func referenceFP16(_ x: Double, _ mode: RoundingMode) -> Float16 {
    let n = Float16(x)
    if x.isNaN || Double(n) == x { return n }
    switch mode {
    case .nearestEven: return n
    case .up: return Double(n) < x ? n.nextUp : n
    case .down: return Double(n) > x ? n.nextDown : n
    case .towardZero:
        if abs(Double(n)) <= abs(x) { return n }
        return x > 0 ? n.nextDown : n.nextUp
    }
}

/// The same construction for FP32 from `Float(Double)`.
private func referenceFP32(_ x: Double, _ mode: RoundingMode) -> Float {
    let n = Float(x)
    if x.isNaN || Double(n) == x { return n }
    switch mode {
    case .nearestEven: return n
    case .up: return Double(n) < x ? n.nextUp : n
    case .down: return Double(n) > x ? n.nextDown : n
    case .towardZero:
        if abs(Double(n)) <= abs(x) { return n }
        return x > 0 ? n.nextDown : n.nextUp
    }
}

/// A random Double with random mantissa bits and an exponent spread over `exponents`.
private func randomDouble(_ rng: inout TestRandom, exponents: ClosedRange<Int>) -> Double {
    let e = Int.random(in: exponents, using: &rng)
    let fraction = rng.next() & ((1 << 52) - 1)
    let x = Double(sign: rng.next() & 1 == 0 ? .plus : .minus, exponent: e,
                   significand: Double(bitPattern: 0x3ff0_0000_0000_0000 | fraction))
    return x
}

private func hexBits(_ s: Any) -> UInt64? {
    guard let text = s as? String, text.hasPrefix("0x") else { return nil }
    return UInt64(text.dropFirst(2), radix: 16)
}

/// A Double stored in fp16.json as its bit pattern (`"0x3fb999999999999a"`): exact, whatever
/// the JSON parser does with decimals.
func fixtureDoubleBits(_ any: Any?) -> Double? {
    guard let any, let bits = hexBits(any) else { return nil }
    return Double(bitPattern: bits)
}

/// Equal as bit patterns, so that −0 and +0 differ and NaN equals NaN.
func sameDoubles(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
}

final class FloatingPointRoundingTests: XCTestCase {
    let module = FPRoundModule()

    private func round(_ x: Double, _ format: String = "fp16", _ mode: String = "nearest-even") throws -> Outputs {
        try evaluate(module, ["value": .number(x), "format": .text(format), "mode": .text(mode)])
    }

    private func hex(_ x: Double, _ format: String = "fp16", _ mode: String = "nearest-even",
                     file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let out = try round(x, format, mode)
        guard case .text(let h)? = out["hex"] else { XCTFail("no hex", file: file, line: line); return "" }
        return h
    }

    // MARK: The worked examples of the lesson, derived by hand

    func testPointOneByHand() throws {
        // 0.1 = 1.6·2^−4: biased exponent 11; 0.6·1024 = 614.4 keeps 614 = 1001100110,
        // the next bit (0.4·2 < 1) is 0 and the rest is non-zero.
        let out = try round(0.1)
        XCTAssertEqual(out["bits"], .text("0 01011 1001100110"))
        XCTAssertEqual(out["hex"], .text("0x2e66"))
        XCTAssertEqual(out["exponent_field"], .integer(11))
        XCTAssertEqual(out["exponent"], .integer(-4))
        XCTAssertEqual(out["mantissa_field"], .integer(614))
        XCTAssertEqual(out["guard"], .integer(0))
        XCTAssertEqual(out["sticky"], .integer(1))
        XCTAssertEqual(out["class"], .text("normal"))
        XCTAssertEqual(out.number("rounded"), 1638.0 / 16384.0)
        XCTAssertEqual(out.number("error"), 1638.0 / 16384.0 - 0.1)
        XCTAssertEqual(out.number("relative_error"), (1638.0 / 16384.0 - 0.1) / 0.1)
        XCTAssertEqual(out.number("ulp"), 1.0 / 16384.0)
        XCTAssertEqual(out["exact"], .bool(false))
    }

    func testOneThirdByHand() throws {
        // 1/3 = 1.0101…·2^−2: mantissa 0101010101, then 0101… (guard 0, sticky 1).
        let out = try round(1.0 / 3.0)
        XCTAssertEqual(out["bits"], .text("0 01101 0101010101"))
        XCTAssertEqual(out["hex"], .text("0x3555"))
        XCTAssertEqual(out.number("rounded"), 1365.0 / 4096.0)
        XCTAssertEqual(out["guard"], .integer(0))
        XCTAssertEqual(out["sticky"], .integer(1))
    }

    func testTopOfTheRange() throws {
        // ulp is 32 in [32768, 65536): 65519 = 2047.47·32 rounds down, 65520 = 2047.5·32 is a
        // tie whose kept 2047 is odd, so it rounds up to 2048·32 = 2^16: infinity.
        let below = try round(65519)
        XCTAssertEqual(below["hex"], .text("0x7bff"))
        XCTAssertEqual(below.number("rounded"), 65504)
        XCTAssertEqual(below.number("ulp"), 32)
        XCTAssertEqual(below["guard"], .integer(0))
        let tie = try round(65520)
        XCTAssertEqual(tie["hex"], .text("0x7c00"))
        XCTAssertEqual(tie["class"], .text("infinity"))
        XCTAssertEqual(tie["exponent"], .integer(16))
        XCTAssertEqual(tie["guard"], .integer(1))
        XCTAssertEqual(tie["sticky"], .integer(0))
        XCTAssertEqual(tie.number("error"), .infinity)
        XCTAssertEqual(tie.number("relative_error"), .infinity)
        XCTAssertTrue(tie.number("ulp").isNaN)
        XCTAssertEqual(try hex(65520.0.nextDown), "0x7bff")
        XCTAssertEqual(try hex(-65520), "0xfc00")
        XCTAssertEqual(try hex(65504), "0x7bff")
        XCTAssertEqual(try round(65504)["exact"], .bool(true))
    }

    func testSubnormalsAndUnderflow() throws {
        let tiny = try round(0x1p-24)
        XCTAssertEqual(tiny["bits"], .text("0 00000 0000000001"))
        XCTAssertEqual(tiny["class"], .text("subnormal"))
        XCTAssertEqual(tiny["exponent"], .integer(-14))
        XCTAssertEqual(tiny.number("error"), 0)
        XCTAssertEqual(tiny.number("ulp"), 0x1p-24)
        // 3·2^−26 = 0.11 (binary)·2^−24: kept 0, guard 1, sticky 1: up to 2^−24.
        let up = try round(3 * 0x1p-26)
        XCTAssertEqual(up["hex"], .text("0x0001"))
        XCTAssertEqual(up["guard"], .integer(1))
        XCTAssertEqual(up["sticky"], .integer(1))
        XCTAssertEqual(up.number("error"), 0x1p-26)
        XCTAssertEqual(up.number("relative_error"), 1.0 / 3.0)
        // 2^−25 is exactly half of the smallest subnormal: the tie goes to even, 0.
        let half = try round(0x1p-25)
        XCTAssertEqual(half["hex"], .text("0x0000"))
        XCTAssertEqual(half["class"], .text("zero"))
        XCTAssertEqual(half.number("relative_error"), -1)
        XCTAssertEqual(try hex(0x1p-25.nextUp), "0x0001")
        XCTAssertEqual(try hex(-0x1p-25.nextUp), "0x8001")
        XCTAssertEqual(try hex(0x1p-26), "0x0000")
        XCTAssertEqual(try hex(Double.leastNonzeroMagnitude), "0x0000")
        XCTAssertEqual(try hex(-Double.leastNonzeroMagnitude), "0x8000")
        XCTAssertEqual(try hex(1e-300, "fp16", "up"), "0x0001")
        XCTAssertEqual(try hex(-1e-300, "fp16", "down"), "0x8001")
        // The largest subnormal plus half an ulp: 1023 is odd, the carry makes 2^−14, normal.
        let carry = try round(1023.5 * 0x1p-24)
        XCTAssertEqual(carry["hex"], .text("0x0400"))
        XCTAssertEqual(carry["class"], .text("normal"))
        XCTAssertEqual(carry.number("rounded"), 0x1p-14)
    }

    func testTiesToEvenAndCarry() throws {
        let tie = try round(1 + 0x1p-11)
        XCTAssertEqual(tie["hex"], .text("0x3c00"))
        XCTAssertEqual(tie["guard"], .integer(1))
        XCTAssertEqual(tie["sticky"], .integer(0))
        XCTAssertEqual(tie.number("error"), -0x1p-11)
        XCTAssertEqual(try hex(1 + 3 * 0x1p-11), "0x3c02")
        XCTAssertEqual(try hex(1 + 0x1p-11 + 0x1p-40), "0x3c01")
        // 2047.5: kept 2047 (odd) rounds up to 2048 = 2^11, the carry bumps the exponent.
        let carry = try round(2047.5)
        XCTAssertEqual(carry["bits"], .text("0 11010 0000000000"))
        XCTAssertEqual(carry.number("rounded"), 2048)
        XCTAssertEqual(try hex(2048.5), "0x6800")
        XCTAssertEqual(try hex(2049), "0x6800")
        XCTAssertEqual(try hex(2051), "0x6802")
    }

    func testSpecialValues() throws {
        let nan = try round(.nan)
        XCTAssertEqual(nan["hex"], .text("0x7e00"))
        XCTAssertEqual(nan["class"], .text("nan"))
        XCTAssertEqual(nan["exponent"], .integer(16))
        XCTAssertTrue(nan.number("rounded").isNaN)
        XCTAssertTrue(nan.number("error").isNaN)
        XCTAssertEqual(nan["exact"], .bool(true))
        XCTAssertEqual(try hex(-Double.nan), "0xfe00")
        XCTAssertEqual(try hex(Double(bitPattern: 0x7ff0_0000_0000_0001)), "0x7e00")  // signalling in, quiet out
        XCTAssertEqual(try hex(-Double.nan, "bf16"), "0xffc0")
        XCTAssertEqual(try hex(.nan, "bf16"), "0x7fc0")
        XCTAssertEqual(try hex(.nan, "fp32"), "0x7fc00000")
        XCTAssertEqual(try hex(-Double.nan, "fp32"), "0xffc00000")
        let inf = try round(.infinity)
        XCTAssertEqual(inf["bits"], .text("0 11111 0000000000"))
        XCTAssertEqual(inf.number("error"), 0)
        XCTAssertEqual(inf.number("relative_error"), 0)
        XCTAssertEqual(try hex(-.infinity), "0xfc00")
        XCTAssertEqual(try hex(.infinity, "fp16", "toward-zero"), "0x7c00")
        let negZero = try round(-0.0)
        XCTAssertEqual(negZero["bits"], .text("1 00000 0000000000"))
        XCTAssertEqual(negZero["sign"], .integer(1))
        XCTAssertEqual(negZero.number("rounded").sign, .minus)
        XCTAssertEqual(negZero.number("relative_error"), 0)
        XCTAssertEqual(try hex(0), "0x0000")
        XCTAssertEqual(try hex(-0.0, "fp32"), "0x80000000")
    }

    func testLargestDoubleInEveryMode() throws {
        let big = Double.greatestFiniteMagnitude
        XCTAssertEqual(try hex(big), "0x7c00")
        XCTAssertEqual(try hex(big, "fp16", "toward-zero"), "0x7bff")
        XCTAssertEqual(try hex(big, "fp16", "up"), "0x7c00")
        XCTAssertEqual(try hex(big, "fp16", "down"), "0x7bff")
        XCTAssertEqual(try hex(-big, "fp16", "up"), "0xfbff")
        XCTAssertEqual(try hex(-big, "fp16", "down"), "0xfc00")
        XCTAssertEqual(try hex(-big, "fp16", "toward-zero"), "0xfbff")
        XCTAssertEqual(try hex(big, "bf16"), "0x7f80")
        XCTAssertEqual(try hex(big, "bf16", "toward-zero"), "0x7f7f")
        XCTAssertEqual(try hex(big, "fp32", "toward-zero"), "0x7f7fffff")
        XCTAssertEqual(try hex(65536, "fp16", "toward-zero"), "0x7bff")
        let saturated = try round(big, "fp16", "toward-zero")
        XCTAssertEqual(saturated.number("rounded"), 65504)
        XCTAssertEqual(saturated["exact"], .bool(false))
        XCTAssertEqual(try round(65536)["exact"], .bool(false))
        // 65504.5 is inexact: up must leave the finite range, nearest and toward zero not.
        XCTAssertEqual(try hex(65504.5, "fp16", "up"), "0x7c00")
        XCTAssertEqual(try hex(65504.5, "fp16", "nearest-even"), "0x7bff")
    }

    func testOtherFormatsByHand() throws {
        let one = try round(1, "fp32")
        XCTAssertEqual(one["bits"], .text("0 01111111 00000000000000000000000"))
        XCTAssertEqual(one["hex"], .text("0x3f800000"))
        XCTAssertEqual(one.number("ulp"), 0x1p-23)
        let bf = try round(65520, "bf16")
        // 65520 = 1.1111111111·2^15; BF16 keeps 7 bits after the point, the rest rounds up.
        XCTAssertEqual(bf["bits"], .text("0 10001111 0000000"))
        XCTAssertEqual(bf["hex"], .text("0x4780"))
        XCTAssertEqual(bf.number("rounded"), 65536)
        XCTAssertEqual(try round(0.1, "bf16").number("rounded"), 205.0 / 2048.0)  // 1.6·128 = 204.8 → 205
        XCTAssertEqual(try hex(0x1p-133, "bf16"), "0x0001")  // smallest BF16 subnormal
        XCTAssertEqual(try hex(0x1p-149, "fp32"), "0x00000001")
        XCTAssertEqual(try hex(0x1p-150, "fp32"), "0x00000000")
        XCTAssertEqual(try hex(0x1p-150.nextUp, "fp32"), "0x00000001")
    }

    // MARK: Exhaustive and random checks against independent conversions

    func testEveryFP16ValueRoundTrips() throws {
        for pattern in 0...UInt16.max {
            let h = Float16(bitPattern: pattern)
            let r = FloatFormat.fp16.round(Double(h))
            if h.isNaN {
                XCTAssertEqual(r.bits, UInt64(pattern & 0x8000 | 0x7e00), "NaN \(pattern)")
            } else if r.bits != UInt64(pattern) {
                XCTFail("pattern \(String(pattern, radix: 16)) came back as \(String(r.bits, radix: 16))")
                return
            }
            if !h.isNaN { XCTAssertEqual(FloatFormat.fp16.value(ofBits: UInt64(pattern)), Double(h)) }
        }
    }

    func testEveryBF16ValueRoundTrips() {
        for pattern in 0...UInt16.max {
            let f = Float(bitPattern: UInt32(pattern) << 16)
            let r = FloatFormat.bf16.round(Double(f))
            let expected = f.isNaN ? UInt64(pattern & 0x8000 | 0x7fc0) : UInt64(pattern)
            if r.bits != expected {
                XCTFail("pattern \(String(pattern, radix: 16)) came back as \(String(r.bits, radix: 16))")
                return
            }
        }
    }

    func testRandomDoublesAgainstNativeFloat16() {
        var rng = TestRandom(seed: 16)
        for i in 0..<200_000 {
            // Exponents from well below the subnormals to well past the largest finite.
            let x = randomDouble(&rng, exponents: -30...17)
            let mine = FloatFormat.fp16.round(x).bits
            let native = UInt64(Float16(x).bitPattern)
            if mine != native {
                XCTFail("#\(i) \(x): \(String(mine, radix: 16)) vs native \(String(native, radix: 16))")
                return
            }
        }
    }

    func testRandomTiesAgainstNativeFloat16() {
        // Exact midpoints and their neighbours one Double ulp away: where rounding is decided.
        var rng = TestRandom(seed: 1611)
        for _ in 0..<50_000 {
            let pattern = UInt16.random(in: 0...0x7bfe, using: &rng)
            let lo = Double(Float16(bitPattern: pattern)), hi = Double(Float16(bitPattern: pattern + 1))
            let mid = (lo + hi) / 2  // exact: a few more bits than FP16 has
            for x in [mid, mid.nextUp, mid.nextDown, -mid, -mid.nextUp] {
                let mine = FloatFormat.fp16.round(x).bits, native = UInt64(Float16(x).bitPattern)
                if mine != native {
                    XCTFail("\(x): \(String(mine, radix: 16)) vs \(String(native, radix: 16))")
                    return
                }
            }
        }
    }

    func testRandomDoublesAgainstNativeFloat() {
        var rng = TestRandom(seed: 32)
        for _ in 0..<200_000 {
            let x = randomDouble(&rng, exponents: -155...130)
            let mine = FloatFormat.fp32.round(x).bits, native = UInt64(Float(x).bitPattern)
            if mine != native {
                XCTFail("\(x): \(String(mine, radix: 16)) vs \(String(native, radix: 16))")
                return
            }
        }
    }

    func testDirectedModesAgainstStepReference() {
        var rng = TestRandom(seed: 4)
        let special: [Double] = [0, -0.0, 65504, 65504.5, 65519, 65520, 65536, 1e10, -1e10,
                                 .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0x1p-25, 3 * 0x1p-26,
                                 -0x1p-25, 1e-300, -1e-300, 1 + 0x1p-11, .infinity, -.infinity]
        for mode in RoundingMode.allCases {
            for i in 0..<(40_000 + special.count) {
                let x = i < special.count ? special[i] : randomDouble(&rng, exponents: -28...17)
                let h = FloatFormat.fp16.round(x, mode: mode).bits
                let hr = UInt64(referenceFP16(x, mode).bitPattern)
                let f = FloatFormat.fp32.round(x, mode: mode).bits
                let fr = UInt64(referenceFP32(x, mode).bitPattern)
                if h != hr || f != fr {
                    XCTFail("\(mode) \(x): fp16 \(String(h, radix: 16)) vs \(String(hr, radix: 16)), fp32 \(String(f, radix: 16)) vs \(String(fr, radix: 16))")
                    return
                }
            }
        }
    }

    func testBF16AgainstBitTrickOnRandomFloats() {
        var rng = TestRandom(seed: 1616)
        for _ in 0..<300_000 {
            let p = UInt32(truncatingIfNeeded: rng.next())
            let f = Float(bitPattern: p)
            let mine = UInt16(FloatFormat.bf16.round(Double(f)).bits)
            let trick = bf16BitTrick(p)
            if f.isNaN {
                // The trick keeps the payload; the lesson gives the canonical quiet NaN.
                XCTAssertEqual(mine, UInt16(p >> 16) & 0x8000 | 0x7fc0)
                XCTAssertTrue(trick & 0x7fff > 0x7f80 && trick & 0x8000 == mine & 0x8000)
            } else if mine != trick {
                XCTFail("\(String(p, radix: 16)): \(String(mine, radix: 16)) vs \(String(trick, radix: 16))")
                return
            }
        }
    }

    // MARK: Fixtures from numpy and ml_dtypes

    func testNumpyFloat16Fixture() throws {
        let root = try XCTUnwrap(loadFixture("fp16.json") as? [String: Any])
        let cases = try XCTUnwrap(root["fp16"] as? [[Any]])
        XCTAssertGreaterThan(cases.count, 4000)
        for c in cases {
            let x = Double(bitPattern: try XCTUnwrap(hexBits(c[0])))
            let expected = try XCTUnwrap((c[1] as? NSNumber)?.uint64Value)
            let mine = FloatFormat.fp16.round(x).bits
            let bothNaN = mine & 0x7fff > 0x7c00 && expected & 0x7fff > 0x7c00
            // numpy keeps a NaN's sign (and payload); compare the sign bit for NaNs.
            if bothNaN {
                XCTAssertEqual(mine & 0x8000, expected & 0x8000, "sign of NaN \(x)")
            } else if mine != expected {
                XCTFail("\(x) (\(c[0])): \(String(mine, radix: 16)) vs numpy \(String(expected, radix: 16))")
                return
            }
        }
    }

    func testMLDtypesBFloat16Fixture() throws {
        let root = try XCTUnwrap(loadFixture("fp16.json") as? [String: Any])
        let cases = try XCTUnwrap(root["bf16"] as? [[Any]])
        XCTAssertGreaterThan(cases.count, 7000)
        for c in cases {
            let pattern = try XCTUnwrap(hexBits(c[0]))
            let f = Float(bitPattern: UInt32(pattern))
            let expected = try XCTUnwrap((c[1] as? NSNumber)?.uint64Value)
            let mine = FloatFormat.bf16.round(Double(f)).bits
            let bothNaN = mine & 0x7fff > 0x7f80 && expected & 0x7fff > 0x7f80
            if !bothNaN && mine != expected {
                XCTFail("\(c[0]): \(String(mine, radix: 16)) vs ml_dtypes \(String(expected, radix: 16))")
                return
            }
        }
    }

    // MARK: Format constants

    func testFormatConstants() throws {
        let fp16 = try evaluate(FPFormatModule(), ["format": .text("fp16")])
        XCTAssertEqual(fp16.number("largest_finite"), 65504)
        XCTAssertEqual(fp16.number("smallest_normal"), 1.0 / 16384)
        XCTAssertEqual(fp16.number("smallest_subnormal"), 5.9604644775390625e-08)
        XCTAssertEqual(fp16.number("epsilon"), 0.0009765625)
        XCTAssertEqual(fp16["bias"], .integer(15))
        XCTAssertEqual(fp16["emin"], .integer(-14))
        let bf16 = try evaluate(FPFormatModule(), ["format": .text("bf16")])
        XCTAssertEqual(bf16.number("largest_finite"), 3.3895313892515355e38)  // ml_dtypes finfo(bfloat16).max
        XCTAssertEqual(bf16.number("smallest_normal"), Double(Float.leastNormalMagnitude))
        XCTAssertEqual(bf16.number("smallest_subnormal"), 0x1p-133)
        XCTAssertEqual(bf16.number("epsilon"), 0.0078125)
        let fp32 = try evaluate(FPFormatModule(), ["format": .text("fp32")])
        XCTAssertEqual(fp32.number("largest_finite"), Double(Float.greatestFiniteMagnitude))
        XCTAssertEqual(fp32.number("smallest_subnormal"), Double(Float.leastNonzeroMagnitude))
        XCTAssertEqual(fp32.number("smallest_normal"), Double(Float.leastNormalMagnitude))
        XCTAssertEqual(fp32.number("epsilon"), Double(Float.ulpOfOne))
        XCTAssertEqual(fp32["precision"], .integer(24))
    }

    // MARK: Bad input

    func testUnknownFormatOrModeIsAClearError() {
        let f = evaluationError(module, ["format": .text("fp8")])
        XCTAssertEqual(f?.parameter, "format")
        XCTAssertTrue(f?.message.contains("fp16, bf16, fp32") ?? false, f?.message ?? "")
        let m = evaluationError(module, ["mode": .text("nearest")])
        XCTAssertEqual(m?.parameter, "mode")
        XCTAssertTrue(m?.message.contains("nearest-even") ?? false)
        XCTAssertEqual(evaluationError(module, ["value": .text("x")])?.parameter, "value")
        XCTAssertEqual(evaluationError(module, ["precision": .integer(3)])?.parameter, "precision")
    }

    func testDefaultsRun() throws {
        let out = try evaluate(module)
        XCTAssertEqual(out["hex"], .text("0x2e66"))
        XCTAssertEqual(out.names.prefix(13), ["bits", "hex", "sign", "exponent_field", "exponent", "mantissa_field",
                                              "class", "rounded", "error", "relative_error", "ulp", "guard", "sticky"])
        XCTAssertEqual(module.output(named: "bits")?.hint, .bits)
    }
}
