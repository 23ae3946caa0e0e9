import CF16C
import Dispatch
import FloatLanes
import FloatLanesAVX2
import Foundation
import NotebookCore
import Synchronization
import TestSupport
import XCTest

@testable import Lessons

/// Unoptimised, every SIMD operation is a call into generic standard-library code and the
/// lanes run about a thousand times slower than in a release build (a chunk of 2^20 patterns
/// takes a second). A debug run checks fewer patterns; a release run checks them all:
/// `swift test -c release -Xswiftc -enable-testing --scratch-path .build-release --filter FloatingPointSweepTests`.
#if DEBUG
private let fullSize = false
#else
private let fullSize = true
#endif

// MARK: - References for the tests

/// The lesson's scalar algorithm as a sweep reference: `FloatFormat.round`, the function behind
/// `fp.round`, fed each float32 as a Double.
private struct ScalarRounding: SweepReference {
    let format: FloatFormat
    var mode: RoundingMode = .nearestEven
    var name: String { "FloatFormat.round \(format) \(mode)" }

    func convert(first: UInt32, count: Int, into out: UnsafeMutablePointer<Int32>) {
        for i in 0..<count {
            out[i] = Int32(scalarBits(format, first &+ UInt32(i), mode))
        }
    }
}

/// Another reference with its answers changed by `change(pattern, answer)`: a deliberately
/// wrong reference the sweep must catch.
private struct Altered: SweepReference {
    let base: any SweepReference
    let change: @Sendable (UInt32, Int32) -> Int32
    var name: String { "altered \(base.name)" }

    func convert(first: UInt32, count: Int, into out: UnsafeMutablePointer<Int32>) {
        base.convert(first: first, count: count, into: out)
        for i in 0..<count { out[i] = change(first &+ UInt32(i), out[i]) }
    }
}

private func scalarBits(_ format: FloatFormat, _ pattern: UInt32, _ mode: RoundingMode = .nearestEven) -> UInt16 {
    UInt16(truncatingIfNeeded: format.round(Double(Float(bitPattern: pattern)), mode: mode).bits)
}

/// The lanes' general path (both stages in every lane, no shared binade) on any patterns.
private func laneBits(_ format: FloatFormat, _ patterns: [UInt32]) -> [UInt16] {
    let lanes = RoundingLanes(format)
    var out: [UInt16] = []
    out.reserveCapacity(patterns.count)
    var i = 0
    while i < patterns.count {
        var group = Lanes()
        for lane in group.indices where i + lane < patterns.count {
            group[lane] = Int32(bitPattern: patterns[i + lane])
        }
        let rounded = lanes.round(group)
        for lane in rounded.indices where i + lane < patterns.count {
            out.append(UInt16(truncatingIfNeeded: rounded[lane]))
        }
        i += Lanes.scalarCount
    }
    return out
}

private func hex(_ pattern: UInt32) -> String { patternHex(UInt64(pattern)) }

/// Every boundary pattern: for each sign and float32 exponent field, the fractions at the ends
/// and middle of the binade (±0, float32 subnormals, ∞, the NaNs at the ends of both payload
/// classes); NaNs of every payload class (signalling and quiet, each single payload bit, all
/// ones, payloads only in the bits FP16 or BF16 drop); and, for every finite encoding of FP16
/// and of BF16, the float32 at it and at the midpoint to the next encoding with its two
/// float32 neighbours (every tie, every rounding edge, the overflow threshold).
private let boundaryPatterns: [UInt32] = {
    var patterns: [UInt32] = []
    for sign: UInt32 in [0, 0x8000_0000] {
        for field: UInt32 in 0...255 {
            for fraction: UInt32 in [0, 1, 2, 3, 0x1fff, 0x2000, 0xffff, 0x1_0000, 0x3f_ffff, 0x40_0000, 0x40_0001,
                                     0x7f_fffe, 0x7f_ffff] {
                patterns.append(sign | field << 23 | fraction)
            }
        }
        for quiet: UInt32 in [0, 0x40_0000] {
            for bit in 0..<22 { patterns.append(sign | 0x7f80_0000 | quiet | 1 << bit) }
            for low: UInt32 in [0x1fff, 0xffff, 0x3f_ffff] { patterns.append(sign | 0x7f80_0000 | quiet | low) }
        }
    }
    // FP16: the float32 at each finite encoding, and around the midpoint to the next one up in
    // magnitude (65504's next is ∞, so its midpoint is the overflow threshold 65520).
    for encoding in UInt16(0)..<0x7c00 {
        let value = Double(Float16(bitPattern: encoding))
        let next = encoding == 0x7bff ? 65536.0 : Double(Float16(bitPattern: encoding + 1))
        let midpoint = Float((value + next) / 2)  // exact: FP16 midpoints need 12 bits
        for sign: UInt32 in [0, 0x8000_0000] {
            patterns.append(sign | Float(value).bitPattern)
            let m = midpoint.bitPattern
            patterns += [sign | (m - 1), sign | m, sign | (m + 1)]
        }
    }
    // BF16: the top half of a float32 is the encoding; the midpoint has 0x8000 below it.
    for encoding in UInt32(0)..<0x7f80 {
        for sign: UInt32 in [0, 0x8000_0000] {
            let m = sign | encoding << 16 | 0x8000
            patterns += [sign | encoding << 16, m - 1, m, m + 1]
        }
    }
    return patterns
}()

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

    // MARK: The lanes against the scalar algorithm

    /// Worked by hand from the bit layouts (FP16: 5-bit exponent, bias 15, 10 mantissa bits,
    /// smallest subnormal 2^−24; BF16: the top 16 bits of a float32, smallest subnormal 2^−133).
    func testLanesByHand() {
        let fp16: [(UInt32, UInt16)] = [
            (0x3f80_0000, 0x3c00),  // 1 = 1.0·2^0: field 15 → 0 01111 0000000000
            (0x477f_e000, 0x7bff),  // 65504, the largest FP16
            (0x477f_efff, 0x7bff),  // just below 65520: guard 0 at 2^4 → stays 65504
            (0x477f_f000, 0x7c00),  // 65520: a tie, 65504's mantissa is odd (all ones) → up, to ∞
            (0x3380_0000, 0x0001),  // 2^−24, the smallest subnormal
            (0x3300_0000, 0x0000),  // 2^−25: a tie between 0 and 2^−24; 0 is even
            (0x3300_0001, 0x0001),  // just above 2^−25: sticky set → up
            (0x33c0_0000, 0x0002),  // 1.5·2^−24: a tie between 1 and 2 units; 2 is even
            (0x3880_0000, 0x0400),  // 2^−14, the smallest normal
            (0x387f_e000, 0x0400),  // (2 − 2^−10)·2^−15 = 1023.5 units of 2^−24: tie → 1024
            (0x0000_0001, 0x0000),  // the smallest float32 subnormal flushes to 0
            (0x8000_0000, 0x8000),  // −0 keeps its sign
            (0x7f80_0000, 0x7c00), (0xff80_0000, 0xfc00),  // ±∞
            (0x7f80_0001, 0x7e00), (0xffc1_2345, 0xfe00),  // NaNs: canonical quiet NaN, sign kept
        ]
        XCTAssertEqual(laneBits(.fp16, fp16.map(\.0)).map { String($0, radix: 16) },
                       fp16.map { String($0.1, radix: 16) })
        let bf16: [(UInt32, UInt16)] = [
            (0x3f80_8000, 0x3f80),  // tie, even kept bit: down
            (0x3f81_8000, 0x3f82),  // tie, odd kept bit: up
            (0x3f80_8001, 0x3f81),  // above the tie: up
            (0x7f7f_ffff, 0x7f80),  // the largest float32 rounds up into ∞
            (0x0000_8000, 0x0000),  // 2^−134: a tie between 0 and 2^−133; 0 is even
            (0x0001_8000, 0x0002),  // 3·2^−134: a tie between 1 and 2 units; 2 is even
            (0x0000_0001, 0x0000),
            (0x807f_ffff, 0x8080),  // −(2^−126 − 2^−149) rounds to −2^−126, the smallest normal
            (0xff80_0001, 0xffc0),
        ]
        XCTAssertEqual(laneBits(.bf16, bf16.map(\.0)).map { String($0, radix: 16) },
                       bf16.map { String($0.1, radix: 16) })
    }

    func testLanesMatchTheScalarAlgorithmOnEveryBoundaryPattern() {
        XCTAssertGreaterThan(boundaryPatterns.count, 500_000)
        for format in [FloatFormat.fp16, .bf16] {
            let lanes = laneBits(format, boundaryPatterns)
            var mismatches: [String] = []
            for (pattern, mine) in zip(boundaryPatterns, lanes) where mine != scalarBits(format, pattern) {
                mismatches.append(hex(pattern))
            }
            XCTAssertEqual(mismatches.count, 0, "\(format): \(mismatches.prefix(10))")
        }
    }

    /// 2^24 patterns from the seeded xoshiro256** (2^20 in a debug build), on both cores, in
    /// both formats.
    func testLanesMatchTheScalarAlgorithmOnRandomPatterns() {
        let slices = 64, perSlice = (fullSize ? 1 << 24 : 1 << 20) / slices
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: slices) { slice in
            var generator = Xoshiro256StarStar(seed: UInt64(slice))
            let patterns = (0..<perSlice).map { _ in UInt32(truncatingIfNeeded: generator.next() >> 32) }
            for format in [FloatFormat.fp16, .bf16] {
                for (pattern, mine) in zip(patterns, laneBits(format, patterns)) where mine != scalarBits(format, pattern) {
                    failures.withLock { $0.append("\(format) \(hex(pattern))") }
                }
            }
        }
        XCTAssertEqual(failures.withLock { $0.prefix(10) }, [])
    }

    func testBF16LanesMatchTheScalarTrick() {
        var generator = Xoshiro256StarStar(seed: 19)
        let patterns = boundaryPatterns + (0..<(1 << 18)).map { _ in UInt32(truncatingIfNeeded: generator.next()) }
        var i = 0, failures: [String] = []
        while i + Lanes.scalarCount <= patterns.count {
            var group = Lanes()
            for lane in group.indices { group[lane] = Int32(bitPattern: patterns[i + lane]) }
            let lanes = bf16BitTrick(group)
            for lane in group.indices where UInt16(lanes[lane]) != bf16BitTrick(patterns[i + lane]) {
                failures.append(hex(patterns[i + lane]))
            }
            i += Lanes.scalarCount
        }
        XCTAssertEqual(failures.prefix(10), [])
    }

    // MARK: The sweep's own path (one binade per chunk)

    /// The sweep computes stage one once per chunk. Against the scalar algorithm it must agree
    /// on either side of every binade edge, both signs, with chunks, blocks and groups of lanes
    /// cut at odd places.
    func testSweepPathMatchesTheScalarAlgorithmAcrossEveryBinadeEdge() throws {
        for format in [FloatFormat.fp16, .bf16] {
            let lanes = RoundingLanes(format), reference = ScalarRounding(format: format)
            var checked: UInt64 = 0
            let before: UInt64 = fullSize ? 2_053 : 301, count = 2 * before + 1
            // Every edge between two binades: the 510 exponent steps, and +NaN to −0.
            for edge in stride(from: UInt64(1) << 23, to: 1 << 32, by: 1 << 23) {
                let tally = try sweep(lanes, against: reference, start: edge - before, count: count, context: .silent)
                XCTAssertEqual(tally.mismatches, 0, "\(format) around \(patternHex(edge)): first \(String(describing: tally.firstMismatch.map(patternHex)))")
                checked += tally.checked
            }
            XCTAssertEqual(checked, 511 * count)
            // Single patterns and short runs: a partial group of lanes on its own.
            for (start, count) in [(0x477f_f000, 1), (0x477f_efff, 3), (0xffff_fff0, 16), (0x7f7f_fffe, 5), (0, 17)] as [(UInt64, UInt64)] {
                let tally = try sweep(lanes, against: reference, start: start, count: count, context: .silent)
                XCTAssertEqual(tally.checked, count)
                XCTAssertEqual(tally.mismatches, 0, "\(format) \(patternHex(start)) +\(count)")
            }
        }
    }

    // MARK: The references

    /// CPUID as the C shim reads it, against the kernel's own list of CPU flags.
    func testF16CIsDetectedWhereTheCPUHasIt() throws {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            throw XCTSkip("no /proc/cpuinfo")
        }
        let words = Set(flags.split(separator: " "))
        XCTAssertEqual(cf16c_available() == 1, words.contains("f16c") && words.contains("avx"))
        let out = try run("fp16", start: 0x3f80_0000, count: 1000)
        guard case .text(let reference)? = out["reference"] else { return XCTFail("no reference output") }
        XCTAssertEqual(reference.contains("F16C vcvtps2ph"), cf16c_available() == 1, reference)
        XCTAssertEqual(reference.contains("native Float16"), cf16c_available() == 0, reference)
    }

    /// The instruction against Swift's own Float16 conversion, on the boundary patterns and on
    /// a run that is not a multiple of eight and wraps past 0xffffffff (the C loop's tail).
    func testF16CMatchesTheNativeFloat16Conversion() throws {
        guard let f16c = F16CReference() else { throw XCTSkip("this CPU has no F16C") }
        func native(_ p: UInt32) -> UInt16 { Float16(Float(bitPattern: p)).bitPattern }
        func agree(_ a: UInt16, _ b: UInt16) -> Bool { a == b || (a & 0x7fff > 0x7c00 && b & 0x7fff > 0x7c00) }
        var failures: [String] = []
        var out = [Int32](repeating: -1, count: 1)
        for p in boundaryPatterns {
            f16c.convert(first: p, count: 1, into: &out)
            if !agree(UInt16(out[0]), native(p)) { failures.append(hex(p)) }
        }
        var run = [Int32](repeating: -1, count: 35)
        f16c.convert(first: 0xffff_fff0, count: 35, into: &run)
        for (i, bits) in run.enumerated() where !agree(UInt16(truncatingIfNeeded: bits), native(0xffff_fff0 &+ UInt32(i))) || bits >> 16 != 0 {
            failures.append("run \(i)")
        }
        XCTAssertEqual(failures.prefix(10), [])
    }

    // MARK: Whole sweeps through the module

    /// 2^24 patterns (2^21 in a debug build) from 2^−25 up: the bottom of FP16's subnormals,
    /// where everything rounds to 0 or 2^−24 with ties.
    func testFP16SweepWithProgress() throws {
        let chunks = fullSize ? 16 : 2
        let progress = Mutex<[Double]>([])
        let context = RunContext(reportProgress: { p in progress.withLock { $0.append(p) } })
        let out = try run("fp16", start: 0x3300_0000, count: chunks << 20, context: context)
        XCTAssertEqual(out["checked"], .integer(chunks << 20))
        XCTAssertEqual(out["mismatches"], .integer(0))
        XCTAssertEqual(out["first_mismatch"], .text(""))
        XCTAssertGreaterThan(out.number("seconds"), 0)
        assertClose(out.number("rate"), Double(chunks << 20) / out.number("seconds"), tol: 1e-6 * out.number("rate"))
        let reports = progress.withLock { $0 }
        XCTAssertEqual(reports.count, chunks + 1, "0 and one report per chunk of 2^20")
        XCTAssertEqual(reports.last, 1)
        XCTAssertEqual(reports.sorted(), reports, "progress never goes backwards")
    }

    func testFP16SweepOverBoundaryRegions() throws {
        let small = fullSize ? 1 : 16  // debug: a sixteenth of each region
        let regions: [(Int, Int)] = [
            (0x0000_0000, 1 << 20),          // float32 zeros and subnormals: all flush to ±0
            (0x8000_0000, 1 << 20),
            (0x3870_0000, 1 << 21),          // across FP16's smallest normal 2^−14 (0x38800000)
            (0x477f_0000, 1 << 20),          // across 65504 … 65520 and into overflow
            (0xc77f_0000, 1 << 20),
            (0x7f70_0000, 1 << 21),          // largest floats, infinity and the NaNs
            (0xff70_0000, (1 << 32) - 0xff70_0000),  // up to the very last pattern
            (0x3f80_0123, 1_000_001),        // ordinary ties, cut at odd places
        ]
        for (start, whole) in regions {
            let count = max(1, whole / small)
            let out = try run("fp16", start: start, count: count)
            XCTAssertEqual(out["mismatches"], .integer(0), "region \(String(start, radix: 16))")
            XCTAssertEqual(out["checked"], .integer(count))
        }
    }

    func testBF16SweepAcrossTheTop() throws {
        // The top of the float32 range: overflow to infinity, infinity, the NaNs.
        // All of the top binade, or (debug) its last 2^16 patterns and the first NaNs.
        let (start, count) = fullSize ? (0x7f00_0000, 1 << 24) : (0x7f7f_0000, 1 << 20)
        let out = try run("bf16", start: start, count: count)
        XCTAssertEqual(out["mismatches"], .integer(0))
        XCTAssertEqual(out["checked"], .integer(count))
        XCTAssertEqual(out["reference"], .text("integer round-to-nearest-even on the float32 bits"))
        for start in [0x0000_0000, 0x8070_0000, 0x3f80_0000, 0xbf7f_0000] {
            XCTAssertEqual(try run("bf16", start: start, count: fullSize ? 1 << 21 : 1 << 16)["mismatches"], .integer(0))
        }
    }

    // MARK: A wrong reference is caught

    func testPlantedMismatchesAreCountedAndLocatedAcrossChunks() throws {
        // Patterns 3_000_123 … are float32 subnormals: FP16 +0 (0x0000). The reference answers
        // 0x0001 instead on every multiple of 1000 from 4_500_000 on.
        let wrong = Altered(base: ScalarRounding(format: .fp16)) { p, bits in p >= 4_500_000 && p % 1000 == 0 ? bits ^ 1 : bits }
        let start: UInt64 = 3_000_123, count: UInt64 = fullSize ? 5 << 20 : (2 << 20) + 4_321  // over 3 chunks at least
        let tally = try sweep(RoundingLanes(.fp16), against: wrong, start: start, count: count, context: .silent)
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
        // From 1 up, toward-zero and nearest FP16 differ exactly when the 13 dropped bits are
        // above half (0x1000 < low bits ≤ 0x1fff: 4095 of every 2^13 patterns) or a tie (low
        // bits 0x1000) with an odd kept bit, which happens in every second run of 2^13.
        let runs: UInt64 = fullSize ? 1 << 10 : 1 << 6  // all of [1, 2), or its first 2^19 patterns
        let start: UInt64 = 0x3f80_0000, count = runs << 13
        let truncating = ScalarRounding(format: .fp16, mode: .towardZero)
        let tally = try sweep(RoundingLanes(.fp16), against: truncating, start: start, count: count, context: .silent)
        XCTAssertEqual(tally.mismatches, runs * 4095 + runs / 2)
        XCTAssertEqual(tally.firstMismatch, start + 0x1001)
    }

    /// The AVX2 copy of the loops is the baseline's source compiled for wider registers: both
    /// count and locate the same planted mismatches, and give the same BF16 encodings.
    func testTheAVX2CopyAgreesWithTheBaseline() throws {
        guard cf16c_avx2_available() != 0 else { throw XCTSkip("this CPU has no AVX2") }
        let planted = Altered(base: ScalarRounding(format: .fp16)) { p, bits in p % 977 == 0 ? bits ^ 1 : bits }
        let ranges: [(UInt64, UInt64)] = [(0x3f7f_f000, (1 << 16) + 5), (0x7f7f_0000, 1 << 17), (0x8000_0000, 4099)]
        for (start, count) in ranges {
            let base = try sweep(RoundingLanes(.fp16), against: planted, start: start, count: count, kernel: .baseline, context: .silent)
            let wide = try sweep(RoundingLanes(.fp16), against: planted, start: start, count: count, kernel: .avx2, context: .silent)
            XCTAssertGreaterThan(base.mismatches, 0)
            XCTAssertEqual(wide.mismatches, base.mismatches, patternHex(start))
            XCTAssertEqual(wide.firstMismatch, base.firstMismatch, patternHex(start))
        }
        // No NaN in the first range: every multiple of 977 is a mismatch, counted by hand.
        let (start, count) = ranges[0]
        let first = try sweep(RoundingLanes(.fp16), against: planted, start: start, count: count, kernel: .avx2, context: .silent)
        XCTAssertEqual(first.mismatches, (start + count - 1) / 977 - (start - 1) / 977)
        XCTAssertEqual(first.firstMismatch, (start + 976) / 977 * 977)
        // The boundary patterns one at a time (a block of one), against the scalar algorithm.
        let stride = fullSize ? 1 : 61
        for format in [FloatFormat.fp16, .bf16] {
            let lanes = RoundingLanes(format)
            var disagree: [String] = []
            for k in Swift.stride(from: 0, to: boundaryPatterns.count, by: stride) {
                let pattern = boundaryPatterns[k]
                var theirs = [Int32](repeating: Int32(scalarBits(format, pattern)), count: Lanes.scalarCount)
                let found = theirs.withUnsafeMutableBufferPointer { buffer in
                    LaneKernel.avx2.mismatches(CheckedBlock(lanes: lanes, first: pattern, count: 1, reference: UnsafePointer(buffer.baseAddress!)))
                }
                if found != 0 { disagree.append(hex(pattern)) }
            }
            XCTAssertEqual(disagree, [], "\(format)")
        }
        for pattern in [0, 0x7f7f_fff0, 0xffff_f000] as [UInt32] {
            var base = [Int32](repeating: 0, count: 4099), wide = base
            LaneKernel.baseline.bf16Reference(pattern, base.count, &base)
            LaneKernel.avx2.bf16Reference(pattern, wide.count, &wide)
            XCTAssertEqual(base, wide)
            XCTAssertEqual(base[5], Int32(bf16BitTrick(pattern &+ 5)))
        }
    }

    /// Two NaNs match whatever their payloads; a NaN against a number does not.
    func testTheNaNRule() throws {
        let lanes = RoundingLanes(.fp16), scalar = ScalarRounding(format: .fp16)
        let otherPayload = Altered(base: scalar) { p, bits in p & 0x7fff_ffff > 0x7f80_0000 ? bits | 0x01ff : bits }
        let infinityForNaN = Altered(base: scalar) { p, bits in p & 0x7fff_ffff > 0x7f80_0000 ? bits & 0xfc00 : bits }
        // All 2^24 − 2 NaNs, or (debug) runs at the ends of both payload classes and signs.
        let n: UInt64 = fullSize ? (1 << 23) - 1 : 1 << 12
        let runs: [UInt64] = fullSize ? [0x7f80_0001, 0xff80_0001]
            : [0x7f80_0001, 0x7fc0_0000 - n / 2, 0x8000_0000 - n, 0xff80_0001, 0xffc0_0000 - n / 2, (1 << 32) - n]
        for start in runs {
            XCTAssertEqual(try sweep(lanes, against: otherPayload, start: start, count: n, context: .silent).mismatches, 0)
            let caught = try sweep(lanes, against: infinityForNaN, start: start, count: n, context: .silent)
            XCTAssertEqual(caught.mismatches, n, patternHex(start))
            XCTAssertEqual(caught.firstMismatch, start)
        }
        let nanForInfinity = Altered(base: scalar) { p, bits in p == 0x7f80_0000 ? 0x7e00 : bits }
        let one = try sweep(lanes, against: nanForInfinity, start: 0x7f7f_ff00, count: 0x200, context: .silent)
        XCTAssertEqual(one.mismatches, 1)
        XCTAssertEqual(one.firstMismatch, 0x7f80_0000)
    }

    // MARK: Cancellation

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

    /// Once the flag is raised, no chunk starts: only those in flight (one per core) finish,
    /// and a chunk takes well under a millisecond in a release build, so the sweep answers in
    /// far less than 100 ms (in a debug build a chunk takes about a second).
    func testCancellationAnswersWithinTheChunksInFlight() throws {
        let raised = Mutex<ContinuousClock.Instant?>(nil)
        let doneAfter = Atomic<Int>(0)
        let context = RunContext(reportProgress: { _ in
            if raised.withLock({ $0 }) != nil { doneAfter.add(1, ordering: .relaxed) }
        }, isCancelled: { raised.withLock { $0 } != nil })
        DispatchQueue.global().asyncAfter(deadline: .now() + (fullSize ? 0.2 : 2)) {
            raised.withLock { $0 = ContinuousClock.now }
        }
        XCTAssertThrowsError(try run("bf16", start: 0, count: 1 << 32, context: context)) { error in
            XCTAssertEqual(error as? ComputeError, .cancelled)
        }
        let latency = ContinuousClock.now - (raised.withLock { $0 } ?? .now)
        XCTAssertLessThanOrEqual(doneAfter.load(ordering: .relaxed), ProcessInfo.processInfo.activeProcessorCount)
        if fullSize { XCTAssertLessThan(latency, .milliseconds(100)) }
    }

    // MARK: Parameters

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
