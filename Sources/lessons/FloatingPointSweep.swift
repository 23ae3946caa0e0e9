import CF16C
import Dispatch
import Foundation
import NotebookCore
import Synchronization

// Proof by exhaustion: every float32 bit pattern converted by the lesson's bit-level algorithm
// and by an independent conversion, all cores working on chunks of the pattern space. The
// lesson's side is `RoundingLanes` (FloatingPointRoundingLanes.swift), the SIMD form of
// `FloatFormat.round`, eight patterns at a time; the reference converts a block of patterns
// into a buffer small enough to stay in the L1 cache, and the lanes read it back.

// MARK: - References

/// An independent conversion of float32 bit patterns to a 16-bit format, a block at a time.
protocol SweepReference: Sendable {
    /// What the `reference` output reports.
    var name: String { get }
    /// Writes the encodings of the patterns first, first + 1, …, first + count − 1 (wrapping
    /// past 2^32 − 1 to 0) to out[0 ..< count], zero-extended.
    func convert(first: UInt32, count: Int, into out: UnsafeMutablePointer<Int32>)
}

/// FP16 by the CPU's own conversion instruction, vcvtps2ph (F16C), eight patterns at a time.
struct F16CReference: SweepReference {
    /// `nil` where the CPU has no F16C (or is not x86).
    init?() {
        guard cf16c_available() != 0 else { return nil }
    }

    var name: String { "F16C vcvtps2ph, the CPU's own conversion instruction" }

    func convert(first: UInt32, count: Int, into out: UnsafeMutablePointer<Int32>) {
        cf16c_round_patterns(first, count, out)
    }
}

#if !(arch(x86_64) && os(macOS))
/// FP16 by Swift's native `Float16(Float)`: a hardware instruction or a routine of the
/// compiler's runtime library, depending on the target. The FP16 reference where F16C is absent.
struct NativeFloat16Reference: SweepReference {
    var name: String { "native Float16(Float) conversion (no F16C on this CPU)" }

    func convert(first: UInt32, count: Int, into out: UnsafeMutablePointer<Int32>) {
        for i in 0..<count {
            let pattern = first &+ UInt32(truncatingIfNeeded: i)
            out[i] = Int32(Float16(Float(bitPattern: pattern)).bitPattern)
        }
    }
}
#endif

/// BF16 by the integer trick ``bf16BitTrick(_:)`` on lanes, eight patterns at a time.
struct BF16IntegerReference: SweepReference {
    var name: String { "integer round-to-nearest-even on the float32 bits" }

    func convert(first: UInt32, count: Int, into out: UnsafeMutablePointer<Int32>) {
        let width = Lanes.scalarCount
        var patterns = Lanes.laneNumbers &+ Int32(bitPattern: first)
        var i = 0
        while i + width <= count {
            UnsafeMutableRawPointer(out + i).storeBytes(of: bf16BitTrick(patterns), as: Lanes.self)
            patterns &+= Int32(width)
            i += width
        }
        while i < count {
            out[i] = Int32(bf16BitTrick(first &+ UInt32(truncatingIfNeeded: i)))
            i += 1
        }
    }
}

/// Round-to-nearest-even from float32 to bfloat16 by the well-known integer trick, written
/// independently of `FloatFormat.round`: BF16 is the top half of a float32, so add
/// 0x7fff plus the lowest kept bit and truncate. Ties go to even because an odd kept bit
/// makes the addend 0x8000, which carries at exactly half an ulp; carries ripple into the
/// exponent and past the largest finite value into the infinity encoding on their own.
@inline(__always)
func bf16BitTrick(_ pattern: UInt32) -> UInt16 {
    if pattern & 0x7fff_ffff > 0x7f80_0000 {
        return UInt16(pattern >> 16) | 0x0040  // NaN: keep the sign, force the quiet bit
    }
    let lsb = (pattern >> 16) & 1
    return UInt16((pattern &+ 0x7fff &+ lsb) >> 16)
}

// MARK: - The sweep

/// The tally of a sweep, merged across chunks.
struct SweepTally: Sendable {
    var checked: UInt64 = 0
    var mismatches: UInt64 = 0
    var firstMismatch: UInt64? = nil
    var chunks = 0

    mutating func merge(_ other: SweepTally) {
        checked += other.checked
        mismatches += other.mismatches
        if let f = other.firstMismatch { firstMismatch = min(firstMismatch ?? f, f) }
    }
}

/// Patterns per chunk, the unit of scheduling, progress and cancellation: large enough that
/// scheduling costs nothing, small enough (a fraction of a millisecond) that progress moves
/// smoothly and cancellation answers at once. Chunks are aligned to it, so each lies inside
/// one binade (2^23 patterns share a sign and exponent field).
let sweepChunkSize: UInt64 = 1 << 20

/// Patterns per block within a chunk: the reference's 16 KB of results stay in the L1 cache
/// while the lanes read them back.
let sweepBlockSize = 1 << 12

/// Checks patterns `start ..< start + count` in parallel chunks.
///
/// Throws ``ComputeError/cancelled`` when the context is cancelled; chunks not yet started
/// are skipped as soon as any worker sees the cancellation.
func sweep(_ lanes: RoundingLanes, against reference: any SweepReference, start: UInt64, count: UInt64,
           context: RunContext) throws(ComputeError) -> SweepTally {
    let end = start + count
    let base = start & ~(sweepChunkSize - 1)
    let chunks = Int((end - base + sweepChunkSize - 1) / sweepChunkSize)
    let tally = Mutex(SweepTally())
    let stopped = Atomic<Bool>(false)
    context.reportProgress(0)
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        if stopped.load(ordering: .relaxed) { return }
        if context.isCancelled() {
            stopped.store(true, ordering: .relaxed)
            return
        }
        let chunkStart = base + UInt64(chunk) * sweepChunkSize
        let local = check(lanes, against: reference, from: max(start, chunkStart),
                          to: min(end, chunkStart + sweepChunkSize))
        // Report under the lock so that progress never goes backwards.
        tally.withLock { total in
            total.merge(local)
            total.chunks += 1
            context.reportProgress(Double(total.chunks) / Double(chunks))
        }
    }
    if stopped.load(ordering: .relaxed) { throw .cancelled }
    try context.checkCancelled()
    return tally.withLock { $0 }
}

/// One chunk, `lo ..< hi`, inside one aligned 2^20 block and so inside one binade.
private func check(_ lanes: RoundingLanes, against reference: any SweepReference,
                   from lo: UInt64, to hi: UInt64) -> SweepTally {
    var tally = SweepTally(checked: hi - lo)
    let width = Lanes.scalarCount
    withUnsafeTemporaryAllocation(of: Int32.self, capacity: sweepBlockSize) { buffer in
        let results = buffer.baseAddress!
        var first = lo
        while first < hi {
            let count = Int(min(UInt64(sweepBlockSize), hi - first))
            let pattern = UInt32(truncatingIfNeeded: first)
            // Whole lanes of reference results; the lanes past `count` are not counted.
            reference.convert(first: pattern, count: (count + width - 1) / width * width, into: results)
            let block = CheckedBlock(lanes: lanes, first: pattern, count: count, reference: results)
            let found = block.identical() ? 0 : block.mismatches()
            if found > 0 {
                tally.mismatches += UInt64(found)
                if tally.firstMismatch == nil { tally.firstMismatch = first + UInt64(block.firstMismatch()) }
            }
            first += UInt64(count)
        }
    }
    return tally
}

/// A block of patterns `first ..< first + count` inside one binade (one aligned 2^20 chunk),
/// with the reference's encodings of them.
private struct CheckedBlock {
    let lanes: RoundingLanes
    let first: UInt32
    let count: Int
    let reference: UnsafePointer<Int32>

    /// Stage one of the rounding, once for the block: every pattern in it has the sign and
    /// exponent field of `first`. Computed where it is used, so that the compiler sees each
    /// field as one value in all lanes.
    @inline(__always)
    var binade: RoundingLanes.Binade {
        lanes.binade(of: Lanes(repeating: Int32(bitPattern: first))).uniform
    }

    /// The reference's encodings of the `group`-th lanes' worth of patterns.
    @inline(__always)
    func theirs(_ group: Int) -> Lanes {
        UnsafeRawPointer(reference).loadUnaligned(fromByteOffset: group &* MemoryLayout<Lanes>.stride, as: Lanes.self)
    }

    /// All ones in the lanes of the `group`-th lanes' worth of patterns (from `patterns`) that
    /// disagree; lanes past `count` in a last, partial group may hold anything.
    @inline(__always)
    func disagreement(_ group: Int, _ patterns: Lanes, _ binade: RoundingLanes.Binade) -> Lanes {
        lanes.disagreement(lanes.round(patterns, in: binade), theirs(group))
    }

    /// All ones in the lanes of the `group`-th lanes' worth of patterns that lie in the block.
    func inside(_ group: Int) -> Lanes {
        lanesBelow(Lanes.laneNumbers, Lanes(repeating: Int32(min(count - group * Lanes.scalarCount, Lanes.scalarCount))))
    }

    /// Whether every encoding equals the reference's bit for bit: the XORs of all lanes, OR-ed
    /// together, are zero. That is two instructions a group against some ten for the count
    /// with its NaN rule, and it settles most blocks; the others (NaN blocks, whose payloads
    /// may differ, and blocks with a real mismatch) go to ``mismatches()``.
    func identical() -> Bool {
        let binade = self.binade
        let whole = count / Lanes.scalarCount
        var patterns = Lanes.laneNumbers &+ Int32(bitPattern: first)
        var differences = Lanes()
        for group in 0..<whole {
            differences |= lanes.round(patterns, in: binade) ^ theirs(group)
            patterns &+= Int32(Lanes.scalarCount)
        }
        if whole * Lanes.scalarCount < count {
            differences |= (lanes.round(patterns, in: binade) ^ theirs(whole)) & inside(whole)
        }
        return differences.indices.allSatisfy { differences[$0] == 0 }
    }

    /// How many patterns disagree.
    func mismatches() -> Int {
        let binade = self.binade
        let whole = count / Lanes.scalarCount
        var patterns = Lanes.laneNumbers &+ Int32(bitPattern: first)
        var perLane = Lanes()  // at most 2^12 / 16 per lane
        for group in 0..<whole {
            perLane &-= disagreement(group, patterns, binade)
            patterns &+= Int32(Lanes.scalarCount)
        }
        if whole * Lanes.scalarCount < count {
            perLane &-= disagreement(whole, patterns, binade) & inside(whole)
        }
        return Int(perLane.wrappedSum())
    }

    /// The offset of the first pattern that disagrees; call only when ``mismatches()`` > 0.
    func firstMismatch() -> Int {
        let binade = self.binade
        var patterns = Lanes.laneNumbers &+ Int32(bitPattern: first)
        for group in 0..<((count + Lanes.scalarCount - 1) / Lanes.scalarCount) {
            let disagree = disagreement(group, patterns, binade) & inside(group)
            for lane in disagree.indices where disagree[lane] != 0 {
                return group * Lanes.scalarCount + lane
            }
            patterns &+= Int32(Lanes.scalarCount)
        }
        return count
    }
}

/// `0x3f800000`: a float32 bit pattern, zero-padded to 8 hex digits.
func patternHex(_ pattern: UInt64) -> String {
    let digits = String(pattern, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

/// `fp.sweep`: the lesson's FP16/BF16 rounding checked against an independent conversion on
/// every float32 bit pattern in a range (by default all 2^32 of them): for FP16 the CPU's own
/// instruction where it has one, for BF16 an integer trick.
public struct FPSweepModule: ComputeModule {
    public init() {}
    public let name = "fp.sweep"
    public let summary = "Check the bit-level rounding against an independent conversion on every float32 pattern."
    public let isHeavy = true
    static let patternCount: Int = 1 << 32
    public let parameters: [ParameterSpec] = [
        .choice("format", FloatFormat.self, default: .fp16, among: [.fp16, .bf16],
                doc: "fp16 (checked against the CPU's F16C instruction, or the native Float16 conversion) or bf16 (against an integer bit trick)"),
        .integer("start", 0, range: .closed(0, Double(FPSweepModule.patternCount - 1)),
                 doc: "first float32 bit pattern, 0 ... 2^32 − 1"),
        .integer("count", FPSweepModule.patternCount, range: .closed(1, Double(FPSweepModule.patternCount)),
                 doc: "number of patterns, at most 2^32 − start"),
    ]
    public let outputs: [OutputSpec] = [
        .init("checked", .integer, doc: "patterns converted both ways"),
        .init("mismatches", .integer, doc: "patterns whose results differ (two NaNs match)"),
        .init("first_mismatch", .text, doc: "hex of the first mismatching input pattern, or empty"),
        .init("seconds", .number, doc: "wall-clock time of the sweep"),
        .init("rate", .number, doc: "patterns per second (both conversions and the comparison)"),
        .init("threads", .integer, doc: "cores the chunks were spread over"),
        .init("reference", .text, doc: "what the lesson's algorithm was compared with (for fp16, which conversion ran)"),
    ]

    /// The CPU's instruction where it has one (chosen at run time, by CPUID), else the native
    /// `Float16` conversion; `nil` on an Intel Mac without F16C, which has neither.
    static var fp16Reference: (any SweepReference)? {
        if let f16c = F16CReference() { return f16c }
        #if arch(x86_64) && os(macOS)
        return nil
        #else
        return NativeFloat16Reference()
        #endif
    }

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let format = try inputs.choice("format", as: FloatFormat.self)
        let start = try inputs.integer("start")
        let count = try inputs.integer("count")
        guard start >= 0, start < Self.patternCount else {
            throw .invalid("start", "must be a float32 bit pattern in 0 ... 4294967295, got \(start)")
        }
        guard count >= 1, count <= Self.patternCount - start else {
            throw .invalid("count", "must be in 1 ... \(Self.patternCount - start) (2^32 − start), got \(count)")
        }
        let reference: any SweepReference
        switch format {
        case .fp16:
            guard let fp16Reference = Self.fp16Reference else {
                throw .invalid("format", "fp16 needs the CPU's F16C conversion or the native Float16 type, which this platform lacks")
            }
            reference = fp16Reference
        case .bf16:
            reference = BF16IntegerReference()
        case .fp32, .fp8E4M3, .fp8E5M2:
            // The parameter declares only fp16 and bf16; FP8's 256 patterns are tested exhaustively.
            throw .invalid("format", "expects fp16 or bf16, got \(format.rawValue)")
        }
        let begin = ContinuousClock.now
        let tally = try sweep(RoundingLanes(format), against: reference, start: UInt64(start), count: UInt64(count),
                              context: context)
        let elapsed = ContinuousClock.now - begin
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return [
            "checked": .integer(Int(tally.checked)),
            "mismatches": .integer(Int(tally.mismatches)),
            "first_mismatch": .text(tally.firstMismatch.map(patternHex) ?? ""),
            "seconds": .number(seconds),
            "rate": .number(seconds > 0 ? Double(tally.checked) / seconds : .infinity),
            "threads": .integer(ProcessInfo.processInfo.activeProcessorCount),
            "reference": .text(reference.name),
        ]
    }
}
