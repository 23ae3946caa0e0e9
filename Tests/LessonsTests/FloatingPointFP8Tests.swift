import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// One FP8 encoding and its exact value, as ml_dtypes decodes it (fp8.json "patterns").
private struct FP8Entry {
    let pattern: UInt64
    let value: Double
    let isNaN: Bool
}

private func fp8Table(_ format: FloatFormat) throws -> [FP8Entry] {
    let root = try XCTUnwrap(loadFixture("fp8.json") as? [String: Any])
    let all = try XCTUnwrap(root["patterns"] as? [String: Any])
    let rows = try XCTUnwrap(all[format.rawValue] as? [[Any]])
    return try rows.map { row in
        FP8Entry(pattern: try XCTUnwrap((row[0] as? NSNumber)?.uint64Value),
                 value: try XCTUnwrap(fixtureDoubleBits(row[1])),
                 isNaN: try XCTUnwrap(row[2] as? Bool))
    }
}

/// Rounding by enumeration over ml_dtypes' table of values, written without `FloatFormat`:
/// the candidates are the non-negative finite values plus one "virtual" value past the largest
/// (largest + the top spacing, the encoding right after the largest), which stands for the
/// overflow. Nearest picks the closest, a tie going to the even encoding; up, down and toward
/// zero pick the nearest candidate on their side. The sign is the input's. Landing on the
/// virtual value (or beyond it) is an overflow: ±inf in E5M2, NaN in E4M3.
private func bruteForceRound(_ x: Double, _ mode: RoundingMode, _ table: [FP8Entry], hasInfinity: Bool) -> UInt64 {
    let sign: UInt64 = x.sign == .minus ? 0x80 : 0
    let nanPattern: UInt64 = hasInfinity ? 0x7e : 0x7f
    if x.isNaN { return sign | nanPattern }
    let magnitudes = table.filter { $0.pattern < 0x80 && $0.value.isFinite && !$0.isNaN }.sorted { $0.value < $1.value }
    let largest = magnitudes[magnitudes.count - 1], below = magnitudes[magnitudes.count - 2]
    let virtual = FP8Entry(pattern: largest.pattern + 1, value: 2 * largest.value - below.value, isNaN: false)
    let overflowPattern: UInt64 = hasInfinity ? virtual.pattern : 0x7f
    if x.isInfinite { return sign | overflowPattern }
    let ax = abs(x)
    let candidates = magnitudes + [virtual]
    let awayFromZero: Bool
    switch mode {
    case .nearestEven:
        // Past the virtual value, the nearest candidate is the virtual one (said outright, since
        // Double distances from a huge x all round to the same number).
        if ax > virtual.value { return sign | overflowPattern }
        var best = candidates[0]
        for c in candidates.dropFirst() {
            let d = abs(c.value - ax), bd = abs(best.value - ax)
            if d < bd || (d == bd && c.pattern & 1 == 0) { best = c }
        }
        return sign | (best.pattern == virtual.pattern ? overflowPattern : best.pattern)
    case .towardZero: awayFromZero = false
    case .up: awayFromZero = sign == 0
    case .down: awayFromZero = sign != 0
    }
    if awayFromZero {
        guard let c = candidates.first(where: { $0.value >= ax }), c.pattern != virtual.pattern else {
            return sign | overflowPattern
        }
        return sign | c.pattern
    }
    return sign | magnitudes.last(where: { $0.value <= ax })!.pattern
}

final class FloatingPointFP8Tests: XCTestCase {
    let module = FPRoundModule()
    let formats: [FloatFormat] = [.fp8E4M3, .fp8E5M2]

    private func round(_ x: Double, _ format: String, _ mode: String = "nearest-even",
                       saturate: Bool = false) throws -> Outputs {
        try evaluate(module, ["value": .number(x), "format": .text(format), "mode": .text(mode),
                              "saturate": .bool(saturate)])
    }

    // MARK: Exhaustive: all 256 patterns of each format

    func testEveryPatternDecodesAsMLDtypesAndRoundTrips() throws {
        for format in formats {
            let table = try fp8Table(format)
            XCTAssertEqual(table.map(\.pattern), Array(0..<256))
            for e in table {
                let mine = format.value(ofBits: e.pattern)
                let back = format.round(e.value)
                if e.isNaN {
                    XCTAssertTrue(mine.isNaN, "\(format) \(e.pattern)")
                    // NaN comes back as the canonical NaN of its sign.
                    XCTAssertEqual(back.bits, e.pattern & 0x80 | format.quietNaNBits, "\(format) \(e.pattern)")
                    XCTAssertEqual(back.classification, "nan")
                } else {
                    XCTAssertEqual(mine.bitPattern, e.value.bitPattern, "\(format) \(e.pattern)")
                    XCTAssertEqual(back.bits, e.pattern, "\(format) \(e.pattern) = \(e.value)")
                    XCTAssertEqual(back.guardBit | back.stickyBit, 0, "a value of the format is exact")
                    XCTAssertEqual(back.overflow, .none)
                    let expectedClass = e.value.isInfinite ? "infinity" : e.value == 0 ? "zero"
                        : abs(e.value) < format.smallestNormal ? "subnormal" : "normal"
                    XCTAssertEqual(back.classification, expectedClass, "\(format) \(e.pattern)")
                }
            }
        }
    }

    func testPatternCountsByEnumeration() throws {
        for format in formats {
            let table = try fp8Table(format)
            let out = try evaluate(FPFormatModule(), ["format": .text(format.rawValue)])
            XCTAssertEqual(out["nan_patterns"], .integer(table.filter(\.isNaN).count))
            XCTAssertEqual(out["finite_patterns"], .integer(table.filter { !$0.isNaN && $0.value.isFinite }.count))
            XCTAssertEqual(out["has_infinity"], .bool(table.contains { $0.value.isInfinite }))
            let finite = table.filter { !$0.isNaN && $0.value.isFinite }.map(\.value)
            XCTAssertEqual(out.number("largest_finite"), finite.max())
            XCTAssertEqual(out.number("smallest_subnormal"), finite.filter { $0 > 0 }.min())
        }
        // The IEEE formats by the same enumeration over all 2^16 patterns.
        for format in [FloatFormat.fp16, .bf16] {
            var nan = 0, finite = 0
            for p in 0...UInt64(0xffff) {
                let v = format.value(ofBits: p)
                if v.isNaN { nan += 1 } else if v.isFinite { finite += 1 }
            }
            XCTAssertEqual(format.nanPatterns, nan)
            XCTAssertEqual(format.finitePatterns, finite)
        }
        XCTAssertEqual(FloatFormat.fp16.finitePatterns, 63_488)  // the lesson's count
        XCTAssertEqual(FloatFormat.fp32.finitePatterns, (1 << 32) - (1 << 24))
    }

    // MARK: Against ml_dtypes and a brute-force enumeration

    func testMLDtypesCastFixture() throws {
        let root = try XCTUnwrap(loadFixture("fp8.json") as? [String: Any])
        let rounds = try XCTUnwrap(root["round"] as? [String: Any])
        let saturated = try XCTUnwrap(root["saturate"] as? [String: Any])
        for format in formats {
            let cases = try XCTUnwrap(rounds[format.rawValue] as? [[Any]])
            let sat = try XCTUnwrap(saturated[format.rawValue] as? [Any])
            XCTAssertGreaterThan(cases.count, 2000)
            XCTAssertEqual(sat.count, cases.count)
            for (c, s) in zip(cases, sat) {
                let x = try XCTUnwrap(fixtureDoubleBits(c[0]))
                for (expected, saturate) in [(c[1], false), (s, true)] {
                    let want = try XCTUnwrap((expected as? NSNumber)?.uint64Value)
                    let mine = format.round(x, saturate: saturate).bits
                    let wantNaN = format.isNaN(magnitude: want & 0x7f)
                    if wantNaN {
                        // ml_dtypes may keep a NaN payload in E5M2; NaN-ness and sign must agree.
                        XCTAssertTrue(format.isNaN(magnitude: mine & 0x7f), "\(format) \(x) saturate \(saturate)")
                        XCTAssertEqual(mine & 0x80, want & 0x80, "sign of NaN, \(format) \(x)")
                    } else if mine != want {
                        XCTFail("\(format) \(x) (\(c[0])) saturate \(saturate): \(String(mine, radix: 16)) vs ml_dtypes \(String(want, radix: 16))")
                        return
                    }
                }
            }
        }
    }

    func testEveryModeAgainstBruteForce() throws {
        var rng = TestRandom(seed: 8)
        for format in formats {
            let table = try fp8Table(format)
            var inputs: [Double] = [0, -0.0, .infinity, -.infinity, 1e6, -1e6, .greatestFiniteMagnitude,
                                    .leastNonzeroMagnitude, -.leastNonzeroMagnitude]
            // Every value, every midpoint (and past the largest), and their Double neighbours.
            let values = table.filter { !$0.isNaN && $0.value.isFinite && $0.pattern < 0x80 }.map(\.value).sorted()
            let grid = values + [2 * values[values.count - 1] - values[values.count - 2]]
            for (a, b) in zip(grid, grid.dropFirst()) {
                for x in [a, (a + b) / 2, ((a + b) / 2).nextUp, ((a + b) / 2).nextDown, a.nextUp] {
                    inputs += [x, -x]
                }
            }
            for _ in 0..<2000 {
                let e = Int.random(in: -22...20, using: &rng)
                let x = Double(sign: rng.next() & 1 == 0 ? .plus : .minus, exponent: e,
                               significand: Double.random(in: 1..<2, using: &rng))
                inputs.append(x)
            }
            for mode in RoundingMode.allCases {
                for x in inputs {
                    let mine = format.round(x, mode: mode).bits
                    let reference = bruteForceRound(x, mode, table, hasInfinity: format.hasInfinity)
                    if mine != reference {
                        XCTFail("\(format) \(mode) \(x): \(String(mine, radix: 16)) vs brute force \(String(reference, radix: 16))")
                        return
                    }
                }
            }
        }
    }

    // MARK: Hand-derived cases

    func testE4M3ByHand() throws {
        // 448 = 1.75·2^8: field 8 + 7 = 15 = 1111, mantissa 110. The pattern 1111 111 is NaN.
        let top = try round(448, "fp8-e4m3")
        XCTAssertEqual(top["bits"], .text("0 1111 110"))
        XCTAssertEqual(top["hex"], .text("0x7e"))
        XCTAssertEqual(top["class"], .text("normal"))
        XCTAssertEqual(top["exponent"], .integer(8))
        XCTAssertEqual(top.number("ulp"), 32)
        // 464 = 448 + 16 is half an ulp: kept 1110 (even), guard 1, sticky 0: stays 448.
        let tie = try round(464, "fp8-e4m3")
        XCTAssertEqual(tie["hex"], .text("0x7e"))
        XCTAssertEqual(tie["guard"], .integer(1))
        XCTAssertEqual(tie["sticky"], .integer(0))
        XCTAssertEqual(tie["overflow"], .text("none"))
        // Just above the tie it rounds to 1111 111, which is NaN: overflow without infinity.
        let over = try round(464.0.nextUp, "fp8-e4m3")
        XCTAssertEqual(over["hex"], .text("0x7f"))
        XCTAssertEqual(over["class"], .text("nan"))
        XCTAssertEqual(over["exponent"], .integer(9))  // emax + 1, as for every NaN
        XCTAssertEqual(over["overflow"], .text("past-largest"))
        XCTAssertEqual(try round(-465, "fp8-e4m3")["hex"], .text("0xff"))
        // 480 would be 1.875·2^8, exactly the NaN pattern: toward zero saturates, up overflows.
        XCTAssertEqual(try round(480, "fp8-e4m3", "toward-zero")["hex"], .text("0x7e"))
        XCTAssertEqual(try round(480, "fp8-e4m3", "up")["hex"], .text("0x7f"))
        XCTAssertEqual(try round(-480, "fp8-e4m3", "up")["hex"], .text("0xfe"))
        XCTAssertEqual(try round(449, "fp8-e4m3", "up")["hex"], .text("0x7f"))
        // No infinity: ±inf becomes NaN of its sign, or ±448 when saturating.
        let inf = try round(.infinity, "fp8-e4m3")
        XCTAssertEqual(inf["hex"], .text("0x7f"))
        XCTAssertEqual(inf["exact"], .bool(false))
        XCTAssertEqual(try round(-.infinity, "fp8-e4m3")["hex"], .text("0xff"))
        XCTAssertEqual(try round(.infinity, "fp8-e4m3", saturate: true)["hex"], .text("0x7e"))
        XCTAssertEqual(try round(-1e6, "fp8-e4m3", saturate: true).number("rounded"), -448)
        XCTAssertEqual(try round(.nan, "fp8-e4m3", saturate: true)["hex"], .text("0x7f"))
        XCTAssertEqual(try round(-Double.nan, "fp8-e4m3")["hex"], .text("0xff"))
        // Subnormals are multiples of 2^−9; 2^−10 is a tie with the even 0, 3·2^−11 rounds up.
        XCTAssertEqual(try round(0x1p-9, "fp8-e4m3")["bits"], .text("0 0000 001"))
        XCTAssertEqual(try round(0x1p-10, "fp8-e4m3")["hex"], .text("0x00"))
        XCTAssertEqual(try round(3 * 0x1p-11, "fp8-e4m3")["hex"], .text("0x01"))
        // 0.1 = 1.6·2^−4: field 3, mantissa 0.6·8 = 4.8 → 5 = 101.
        let tenth = try round(0.1, "fp8-e4m3")
        XCTAssertEqual(tenth["bits"], .text("0 0011 101"))
        XCTAssertEqual(tenth.number("rounded"), 13.0 / 128)
    }

    func testE5M2ByHand() throws {
        // 57344 = 1.75·2^15 is the largest; 61440 = 1.875·2^15 is the tie with the odd 11,
        // so it goes up to 2^16: infinity, as in FP16.
        XCTAssertEqual(try round(57344, "fp8-e5m2")["bits"], .text("0 11110 11"))
        let tie = try round(61440, "fp8-e5m2")
        XCTAssertEqual(tie["hex"], .text("0x7c"))
        XCTAssertEqual(tie["class"], .text("infinity"))
        XCTAssertEqual(tie["overflow"], .text("past-largest"))
        XCTAssertEqual(try round(61440.0.nextDown, "fp8-e5m2")["hex"], .text("0x7b"))
        XCTAssertEqual(try round(61440, "fp8-e5m2", saturate: true)["hex"], .text("0x7b"))
        XCTAssertEqual(try round(.nan, "fp8-e5m2")["hex"], .text("0x7e"))
        XCTAssertEqual(try round(-.infinity, "fp8-e5m2")["hex"], .text("0xfc"))
        XCTAssertEqual(try round(0x1p-16, "fp8-e5m2")["bits"], .text("0 00000 01"))
        // E5M2 is FP16 with the mantissa cut to 2 bits: same exponent range and thresholds.
        XCTAssertEqual(FloatFormat.fp8E5M2.smallestNormal, FloatFormat.fp16.smallestNormal)
        XCTAssertEqual(FloatFormat.fp8E5M2.emax, FloatFormat.fp16.emax)
    }

    func testFormatConstantsAgainstMLDtypesFinfo() throws {
        // ml_dtypes.finfo(float8_e4m3fn): max 448, tiny 2^−6, smallest_subnormal 2^−9, eps 2^−3;
        // finfo(float8_e5m2): max 57344, tiny 2^−14, smallest_subnormal 2^−16, eps 2^−2.
        let e4 = try evaluate(FPFormatModule(), ["format": .text("fp8-e4m3")])
        XCTAssertEqual(e4["bias"], .integer(7))
        XCTAssertEqual(e4["emax"], .integer(8))
        XCTAssertEqual(e4["emin"], .integer(-6))
        XCTAssertEqual(e4.number("largest_finite"), 448)
        XCTAssertEqual(e4.number("smallest_normal"), 0x1p-6)
        XCTAssertEqual(e4.number("smallest_subnormal"), 0x1p-9)
        XCTAssertEqual(e4.number("epsilon"), 0.125)
        XCTAssertEqual(e4.number("overflow_threshold"), 464)
        XCTAssertEqual(e4["threshold_overflows"], .bool(false))
        XCTAssertEqual(e4["has_infinity"], .bool(false))
        XCTAssertEqual(e4["width"], .integer(8))
        let e5 = try evaluate(FPFormatModule(), ["format": .text("fp8-e5m2")])
        XCTAssertEqual(e5["bias"], .integer(15))
        XCTAssertEqual(e5["emax"], .integer(15))
        XCTAssertEqual(e5.number("largest_finite"), 57344)
        XCTAssertEqual(e5.number("smallest_normal"), 0x1p-14)
        XCTAssertEqual(e5.number("smallest_subnormal"), 0x1p-16)
        XCTAssertEqual(e5.number("epsilon"), 0.25)
        XCTAssertEqual(e5.number("overflow_threshold"), 61440)
        XCTAssertEqual(e5["threshold_overflows"], .bool(true))
        // FP16's threshold is the lesson's 65520, not 65504, and the tie itself overflows.
        let h = try evaluate(FPFormatModule(), ["format": .text("fp16")])
        XCTAssertEqual(h.number("overflow_threshold"), 65520)
        XCTAssertEqual(h["threshold_overflows"], .bool(true))
        XCTAssertEqual(h["nan_patterns"], .integer(2046))
        XCTAssertEqual(try evaluate(FPFormatModule(), ["format": .text("fp32")])["nan_patterns"], .integer(2 * ((1 << 23) - 1)))
    }

    // MARK: Overflow: the two paths the review asks a cell to tell apart

    func testOverflowPathsByHand() throws {
        // 65520 has exponent 15 = emax; only the rounding carry takes it to 2^16.
        let carry = try round(65520, "fp16")
        XCTAssertEqual(carry["input_exponent"], .integer(15))
        XCTAssertEqual(carry["overflow"], .text("past-largest"))
        XCTAssertEqual(carry["class"], .text("infinity"))
        // 1e6 = 1.907·2^19: its exponent is above emax before any bit is dropped.
        let big = try round(1e6, "fp16")
        XCTAssertEqual(big["input_exponent"], .integer(19))
        XCTAssertEqual(big["overflow"], .text("exponent-above-emax"))
        XCTAssertEqual(big["hex"], .text("0x7c00"))
        // Toward zero it saturates, and the overflow is still reported.
        let trunc = try round(1e6, "fp16", "toward-zero")
        XCTAssertEqual(trunc.number("rounded"), 65504)
        XCTAssertEqual(trunc["overflow"], .text("exponent-above-emax"))
        // The largest Double, 1.797e308 = 1.99…·2^1023.
        let huge = try round(.greatestFiniteMagnitude, "fp16")
        XCTAssertEqual(huge["input_exponent"], .integer(1023))
        XCTAssertEqual(huge["overflow"], .text("exponent-above-emax"))
        // 65519 stays finite; 65520 toward zero does not overflow either (kept 2047, no carry).
        XCTAssertEqual(try round(65519, "fp16")["overflow"], .text("none"))
        XCTAssertEqual(try round(65520, "fp16", "toward-zero")["overflow"], .text("none"))
        // Up overflows on the inexact 65504.5 (IEEE's overflow: the unbounded result 65536 > 65504).
        XCTAssertEqual(try round(65504.5, "fp16", "up")["overflow"], .text("past-largest"))
        XCTAssertEqual(try round(1e39, "fp32")["overflow"], .text("exponent-above-emax"))
        XCTAssertEqual(try round(1e39, "bf16")["input_exponent"], .integer(129))
        // An infinity is not an overflow, and zero, inf and NaN report input exponent 0.
        XCTAssertEqual(try round(.infinity, "fp16")["overflow"], .text("none"))
        XCTAssertEqual(try round(0, "fp16")["input_exponent"], .integer(0))
        XCTAssertEqual(try round(.leastNonzeroMagnitude, "fp16")["input_exponent"], .integer(-1074))
    }

    func testOverflowMatchesItsDefinitionEverywhere() {
        // IEEE 754 overflow: the value rounded with an unbounded exponent exceeds the largest
        // finite. In nearest that is |x| > threshold, or = threshold when the tie goes up; toward
        // zero |x| ≥ largest + ulp (the next value of the unbounded grid); away from zero
        // |x| > largest. And `exponent-above-emax` exactly when |x| ≥ 2^(emax+1).
        var rng = TestRandom(seed: 1985)
        for format in FloatFormat.allCases {
            let largest = format.largestFinite, threshold = format.overflowThreshold
            let next = 2 * threshold - largest
            let edge = Double(sign: .plus, exponent: format.emax + 1, significand: 1)
            var xs: [Double] = [largest, largest.nextUp, threshold, threshold.nextDown, threshold.nextUp,
                                next, next.nextDown, edge, edge.nextDown, .greatestFiniteMagnitude]
            for _ in 0..<3000 { xs.append(largest * Double.random(in: 0.5...3, using: &rng)) }
            for x in xs {
                for negative in [false, true] {
                    let v = negative ? -x : x
                    for mode in RoundingMode.allCases {
                        let r = format.round(v, mode: mode)
                        let away: Bool
                        switch mode {
                        case .nearestEven: away = false
                        case .towardZero: away = false
                        case .up: away = !negative
                        case .down: away = negative
                        }
                        let expected: Bool
                        if mode == .nearestEven {
                            expected = x > threshold || (x == threshold && format.thresholdOverflows)
                        } else {
                            expected = away ? x > largest : x >= next
                        }
                        XCTAssertEqual(r.overflow != .none, expected, "\(format) \(mode) \(v)")
                        if r.overflow != .none {
                            XCTAssertEqual(r.overflow == .exponentAboveEmax, x >= edge, "\(format) \(v)")
                        }
                    }
                }
            }
        }
    }

    func testSaturateIsClampThenRound() {
        var rng = TestRandom(seed: 44)
        for format in FloatFormat.allCases {
            let largest = format.largestFinite
            var xs: [Double] = [.infinity, -.infinity, .greatestFiniteMagnitude, format.overflowThreshold, 0, -0.0]
            for _ in 0..<2000 { xs.append(largest * Double.random(in: -4...4, using: &rng)) }
            for x in xs {
                for mode in RoundingMode.allCases {
                    let clamped = Swift.min(Swift.max(x, -largest), largest)
                    let r = format.round(x, mode: mode, saturate: true)
                    XCTAssertEqual(r.bits, format.round(clamped, mode: mode).bits, "\(format) \(mode) \(x)")
                    XCTAssertFalse(r.isInfinite || r.isNaN)
                }
            }
            XCTAssertTrue(format.round(.nan, saturate: true).isNaN)
        }
    }

    // MARK: Bad input

    func testFP8FormatsAreChoicesAndOthersAreNot() {
        let e = evaluationError(module, ["format": .text("fp8")])
        XCTAssertEqual(e?.parameter, "format")
        XCTAssertTrue(e?.message.contains("fp8-e4m3, fp8-e5m2") ?? false, e?.message ?? "")
        XCTAssertEqual(evaluationError(module, ["saturate": .text("yes")])?.parameter, "saturate")
        // fp.sweep stays FP16/BF16 only.
        XCTAssertEqual(evaluationError(FPSweepModule(), ["format": .text("fp8-e4m3")])?.parameter, "format")
        XCTAssertEqual(evaluationError(FPLossScaleModule(), ["format": .text("fp8-e5m2")])?.parameter, "format")
    }
}
