import CF16C
import Dispatch
import FloatLanes
import FloatLanesAVX2
import Foundation
import NotebookCore
import Synchronization

// Proof by exhaustion: every float32 bit pattern converted by the lesson's bit-level algorithm
// and by an independent conversion, all cores working on chunks of the pattern space. The
// lesson's side is `RoundingLanes` (Sources/FloatLanes), the SIMD form of `FloatFormat.round`,
// eight patterns at a time; the reference converts a block of patterns into a buffer small
// enough to stay in the L1 cache, and the lanes read it back.

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
    var kernel: LaneKernel = .current
    var name: String { "integer round-to-nearest-even on the float32 bits" }

    func convert(first: UInt32, count: Int, into out: UnsafeMutablePointer<Int32>) {
        kernel.bf16Reference(first, count, out)
    }
}

extension LaneKernel {
    /// The widest copy this CPU runs: AVX2 where CPUID reports it, the baseline elsewhere.
    static let current: LaneKernel = cf16c_avx2_available() != 0 ? .avx2 : .baseline
}

extension RoundingLanes {
    /// The lanes of FP16 or BF16 (16 bits wide, emin ≥ −126; not FP32).
    init(_ format: FloatFormat) {
        precondition(format.width == 16, "RoundingLanes handles the 16-bit formats")
        self.init(fractionBits: format.fractionBits, qmin: format.qmin, infinityBits: Int(format.infinityBits),
                  quietNaNBits: Int(format.quietNaNBits), signMask: Int(format.signMask))
    }
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
           kernel: LaneKernel = .current, context: RunContext) throws(ComputeError) -> SweepTally {
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
        let local = check(lanes, against: reference, kernel: kernel, from: max(start, chunkStart),
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
private func check(_ lanes: RoundingLanes, against reference: any SweepReference, kernel: LaneKernel,
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
            let found = kernel.identical(block) ? 0 : kernel.mismatches(block)
            if found > 0 {
                tally.mismatches += UInt64(found)
                if tally.firstMismatch == nil { tally.firstMismatch = first + UInt64(kernel.firstMismatch(block)) }
            }
            first += UInt64(count)
        }
    }
    return tally
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
        .init("lanes", .text, doc: "the vector unit the lesson's lanes ran on: AVX2 where the CPU has it, else the baseline SSE2"),
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
            "lanes": .text(LaneKernel.current.name),
        ]
    }
}
