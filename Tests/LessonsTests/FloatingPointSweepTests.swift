import Foundation
import NotebookCore
import Synchronization
import TestSupport
import XCTest

@testable import Lessons

/// A comparison that disagrees on every multiple of 1000 past a threshold: it shows that the
/// sweep counts, locates and merges mismatches across chunks and threads.
private struct PlantedMismatches: SweepComparison {
    let from: UInt32
    func agrees(_ pattern: UInt32) -> Bool { pattern < from || pattern % 1000 != 0 }
}

/// The lesson's FP16 rounding toward zero against the native nearest conversion: they must
/// differ exactly where the nearest conversion rounded away from zero.
private struct TruncationVersusNearest: SweepComparison {
    func agrees(_ pattern: UInt32) -> Bool {
        let f = Float(bitPattern: pattern)
        let mine = UInt16(FloatFormat.fp16.round(Double(f), mode: .towardZero).bits)
        let native = Float16(f).bitPattern
        return mine == native || (mine & 0x7fff > 0x7c00 && native & 0x7fff > 0x7c00)
    }
}

final class FloatingPointSweepTests: XCTestCase {
    let module = FPSweepModule()

    private func run(_ format: String, start: Int, count: Int, context: RunContext = .silent) throws -> Outputs {
        try module.evaluate(["format": .text(format), "start": .integer(start), "count": .integer(count)],
                            context: context).outputs
    }

    func testIsHeavyWithFullDefaults() {
        XCTAssertTrue(module.isHeavy)
        XCTAssertEqual(module.parameter(named: "count")?.defaultValue, .value(.integer(1 << 32)))
        XCTAssertEqual(module.parameter(named: "start")?.defaultValue, .value(.integer(0)))
    }

    /// 2^24 patterns: the float32 binades 2^−25 and 2^−24 (the bottom of FP16's subnormals,
    /// where everything rounds to 0 or 2^−24 with ties), positive and negative halves.
    func testFP16SweepOverTwoToTheTwentyFour() throws {
        let progress = Mutex<[Double]>([])
        let context = RunContext(reportProgress: { p in progress.withLock { $0.append(p) } })
        let out = try run("fp16", start: 0x3300_0000, count: 1 << 24, context: context)
        XCTAssertEqual(out["checked"], .integer(1 << 24))
        XCTAssertEqual(out["mismatches"], .integer(0))
        XCTAssertEqual(out["first_mismatch"], .text(""))
        XCTAssertGreaterThan(out.number("seconds"), 0)
        assertClose(out.number("rate"), Double(1 << 24) / out.number("seconds"), tol: 1e-6 * out.number("rate"))
        let reports = progress.withLock { $0 }
        XCTAssertEqual(reports.count, 17, "0 and one report per chunk of 2^20")
        XCTAssertEqual(reports.last, 1)
        XCTAssertEqual(reports.sorted(), reports, "progress never goes backwards")
    }

    func testFP16SweepOverBoundaryRegions() throws {
        let regions: [(Int, Int)] = [
            (0x0000_0000, 1 << 20),          // float32 zeros and subnormals: all flush to ±0
            (0x8000_0000, 1 << 20),
            (0x3870_0000, 1 << 21),          // across FP16's smallest normal 2^−14 (0x38800000)
            (0x477f_0000, 1 << 20),          // across 65504 … 65520 and into overflow
            (0xc77f_0000, 1 << 20),
            (0x7f70_0000, 1 << 21),          // largest floats, infinity and the NaNs
            (0xff70_0000, (1 << 32) - 0xff70_0000),  // up to the very last pattern
            (0x3f80_0000, 1 << 20),          // [1, 1.125): ordinary ties
        ]
        for (start, count) in regions {
            let out = try run("fp16", start: start, count: count)
            XCTAssertEqual(out["mismatches"], .integer(0), "region \(String(start, radix: 16))")
            XCTAssertEqual(out["checked"], .integer(count))
        }
    }

    func testBF16SweepOverTwoToTheTwentyFour() throws {
        // Near the top of the float32 range: overflow to infinity, infinity, every NaN.
        let out = try run("bf16", start: 0x7f00_0000, count: 1 << 24)
        XCTAssertEqual(out["mismatches"], .integer(0))
        XCTAssertEqual(out["checked"], .integer(1 << 24))
        for start in [0x0000_0000, 0x8070_0000, 0x3f80_0000, 0xbf7f_0000] {
            XCTAssertEqual(try run("bf16", start: start, count: 1 << 21)["mismatches"], .integer(0))
        }
    }

    func testMismatchesAreCountedAndLocatedAcrossChunks() throws {
        let start: UInt64 = 3_000_123, count: UInt64 = 5 << 20
        let tally = try sweep(PlantedMismatches(from: 4_500_000), start: start, count: count, context: .silent)
        let end = start + count
        // Multiples of 1000 in [4_500_000, end): counted by hand.
        let expected = (end - 1) / 1000 - 4_500_000 / 1000 + 1
        XCTAssertEqual(tally.checked, count)
        XCTAssertEqual(tally.mismatches, expected)
        XCTAssertEqual(tally.firstMismatch, 4_500_000)
        XCTAssertEqual(patternHex(4_500_000), "0x0044aa20")
        XCTAssertEqual(patternHex(0xffff_ffff), "0xffffffff")
    }

    func testSweepSeesARealRoundingDifference() throws {
        // Over [1, 2) float32s, toward-zero and nearest FP16 differ exactly when the 13 dropped
        // bits are above half (0x1000 < low bits) or a tie with an odd kept bit.
        let start: UInt64 = 0x3f80_0000, count: UInt64 = 1 << 23
        let tally = try sweep(TruncationVersusNearest(), start: start, count: count, context: .silent)
        var expected: UInt64 = 0
        for low in 0..<UInt64(1 << 13) where low > 0x1000 { expected += 1 << 10 }  // any kept bits
        expected += 1 << 9  // ties with an odd kept bit: half of the 2^10 kept patterns
        XCTAssertEqual(tally.mismatches, expected)
        XCTAssertEqual(tally.firstMismatch, start + 0x1001)
    }

    func testCancellationStopsTheSweep() {
        let reports = Atomic<Int>(0)
        let context = RunContext(reportProgress: { _ in reports.add(1, ordering: .relaxed) },
                                 isCancelled: { reports.load(ordering: .relaxed) >= 3 })
        XCTAssertThrowsError(try run("fp16", start: 0, count: 1 << 30, context: context)) { error in
            XCTAssertEqual(error as? ComputeError, .cancelled)
        }
        // 1024 chunks were planned; only the few in flight when it stopped ran.
        XCTAssertLessThan(reports.load(ordering: .relaxed), 10)
    }

    func testBadRangesAreClearErrors() {
        let tooMany = evaluationError(module, ["count": .integer((1 << 32) + 1)])
        XCTAssertEqual(tooMany?.parameter, "count")
        XCTAssertEqual(evaluationError(module, ["count": .integer(-1)])?.parameter, "count")
        XCTAssertEqual(evaluationError(module, ["count": .integer(0)])?.parameter, "count")
        XCTAssertEqual(evaluationError(module, ["start": .integer(-5)])?.parameter, "start")
        XCTAssertEqual(evaluationError(module, ["start": .integer(1 << 32)])?.parameter, "start")
        let past = evaluationError(module, ["start": .integer(10), "count": .integer(1 << 32)])
        XCTAssertEqual(past?.parameter, "count")
        XCTAssertTrue(past?.message.contains("4294967286") ?? false, past?.message ?? "")
        XCTAssertEqual(evaluationError(module, ["format": .text("fp32")])?.parameter, "format")
        XCTAssertEqual(evaluationError(module, ["format": .text("fp8")])?.parameter, "format")
        XCTAssertEqual(evaluationError(module, ["count": .number(1.5)])?.parameter, "count")
    }

    func testBF16BitTrickByHand() {
        XCTAssertEqual(bf16BitTrick(0x3f80_8000), 0x3f80)  // tie, even kept bit: down
        XCTAssertEqual(bf16BitTrick(0x3f81_8000), 0x3f82)  // tie, odd kept bit: up
        XCTAssertEqual(bf16BitTrick(0x3f80_8001), 0x3f81)
        XCTAssertEqual(bf16BitTrick(0x7f7f_ffff), 0x7f80)  // largest float rounds to infinity
        XCTAssertEqual(bf16BitTrick(0x7f80_0000), 0x7f80)
        XCTAssertEqual(bf16BitTrick(0xff80_0001) & 0x7fc0, 0x7fc0)
        XCTAssertEqual(bf16BitTrick(0x8000_0000), 0x8000)
    }
}
