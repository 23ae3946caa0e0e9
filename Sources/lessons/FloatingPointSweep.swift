import Dispatch
import Foundation
import NotebookCore
import Synchronization

// Proof by exhaustion: every float32 bit pattern converted by the lesson's bit-level
// algorithm (`FloatFormat.round`, the same function `fp.round` calls; a Float is exactly a
// Double, so the Double path is the float32 path) and by an independent conversion, all
// cores working on chunks of the pattern space.

/// One side-by-side check of a float32 bit pattern.
protocol SweepComparison: Sendable {
    /// Whether the lesson's algorithm and the reference agree on `pattern`.
    func agrees(_ pattern: UInt32) -> Bool
}

/// The lesson's algorithm against the platform's native `Float16(Float)` conversion.
struct FP16NativeComparison: SweepComparison {
    @inline(__always)
    func agrees(_ pattern: UInt32) -> Bool {
        #if arch(x86_64) && os(macOS)
        return false  // no Float16 on Intel Macs; the module refuses fp16 there
        #else
        let f = Float(bitPattern: pattern)
        let mine = UInt16(truncatingIfNeeded: FloatFormat.fp16.round(Double(f), mode: .nearestEven).bits)
        let native = Float16(f).bitPattern
        // Both NaN counts as a match: NaN payloads are not specified by IEEE 754.
        return mine == native || (mine & 0x7fff > 0x7c00 && native & 0x7fff > 0x7c00)
        #endif
    }
}

/// The lesson's algorithm against a separately written BF16 conversion.
struct BF16BitTrickComparison: SweepComparison {
    @inline(__always)
    func agrees(_ pattern: UInt32) -> Bool {
        let mine = UInt16(truncatingIfNeeded: FloatFormat.bf16.round(Double(Float(bitPattern: pattern)), mode: .nearestEven).bits)
        let reference = bf16BitTrick(pattern)
        return mine == reference || (mine & 0x7fff > 0x7f80 && reference & 0x7fff > 0x7f80)
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

/// Patterns per chunk: large enough that scheduling costs nothing, small enough that
/// progress moves smoothly and cancellation answers within milliseconds.
let sweepChunkSize: UInt64 = 1 << 20

/// Checks patterns `start ..< start + count` in parallel chunks.
///
/// Throws ``ComputeError/cancelled`` when the context is cancelled; chunks not yet started
/// are skipped as soon as any worker sees the cancellation.
func sweep<C: SweepComparison>(_ comparison: C, start: UInt64, count: UInt64,
                               context: RunContext) throws(ComputeError) -> SweepTally {
    let chunks = Int((count + sweepChunkSize - 1) / sweepChunkSize)
    let tally = Mutex(SweepTally())
    let stopped = Atomic<Bool>(false)
    context.reportProgress(0)
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        if stopped.load(ordering: .relaxed) { return }
        if context.isCancelled() {
            stopped.store(true, ordering: .relaxed)
            return
        }
        let lo = start + UInt64(chunk) * sweepChunkSize
        let hi = min(lo + sweepChunkSize, start + count)
        var local = SweepTally(checked: hi - lo)
        var p = lo
        while p < hi {
            if !comparison.agrees(UInt32(truncatingIfNeeded: p)) {
                local.mismatches += 1
                if local.firstMismatch == nil { local.firstMismatch = p }
            }
            p += 1
        }
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

/// `0x3f800000`: a float32 bit pattern, zero-padded to 8 hex digits.
func patternHex(_ pattern: UInt64) -> String {
    let digits = String(pattern, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

/// `fp.sweep`: the lesson's FP16/BF16 rounding checked against an independent conversion on
/// every float32 bit pattern in a range (by default all 2^32 of them).
public struct FPSweepModule: ComputeModule {
    public init() {}
    public let name = "fp.sweep"
    public let summary = "Check the bit-level rounding against an independent conversion on every float32 pattern."
    public let isHeavy = true
    static let patternCount: Int = 1 << 32
    public let parameters: [ParameterSpec] = [
        .choice("format", FloatFormat.self, default: .fp16, among: [.fp16, .bf16],
                doc: "fp16 (checked against the native Float16 conversion) or bf16 (against an integer bit trick)"),
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
        .init("reference", .text, doc: "what the lesson's algorithm was compared with"),
    ]

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
        let begin = ContinuousClock.now
        let tally: SweepTally
        let reference: String
        switch format {
        case .fp16:
            #if arch(x86_64) && os(macOS)
            throw .invalid("format", "fp16 needs the native Float16 type, which this platform lacks")
            #else
            tally = try sweep(FP16NativeComparison(), start: UInt64(start), count: UInt64(count), context: context)
            reference = "native Float16(Float) conversion"
            #endif
        case .bf16:
            tally = try sweep(BF16BitTrickComparison(), start: UInt64(start), count: UInt64(count), context: context)
            reference = "integer round-to-nearest-even on the float32 bits"
        case .fp32, .fp8E4M3, .fp8E5M2:
            // The parameter declares only fp16 and bf16; FP8's 256 patterns are tested exhaustively.
            throw .invalid("format", "expects fp16 or bf16, got \(format.rawValue)")
        }
        let elapsed = ContinuousClock.now - begin
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return [
            "checked": .integer(Int(tally.checked)),
            "mismatches": .integer(Int(tally.mismatches)),
            "first_mismatch": .text(tally.firstMismatch.map(patternHex) ?? ""),
            "seconds": .number(seconds),
            "rate": .number(seconds > 0 ? Double(tally.checked) / seconds : .infinity),
            "threads": .integer(ProcessInfo.processInfo.activeProcessorCount),
            "reference": .text(reference),
        ]
    }
}
