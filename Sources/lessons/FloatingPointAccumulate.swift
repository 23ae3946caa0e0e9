import Foundation
import NotebookCore

// Why mixed precision keeps FP32 master weights: a small update added to a large weight in
// FP16 is lost whenever it is below half the spacing of the weight's binade, so the weight
// stops moving ("stalls") though every update is non-zero.

/// Adds `value` to `start` `count` times in `format`, rounding every sum.
///
/// The sum of two values of the format is computed in Double and rounded once: Double has
/// at least 2p + 2 bits for FP16, BF16 and FP32, so this equals the format's own correctly
/// rounded addition (no double-rounding error).
struct Accumulation {
    /// The final sum.
    var sum: Double
    /// 1-based index of the first addition that left the sum unchanged; nil when none did.
    var stalledAt: Int?

    init(format: FloatFormat, start: Double, value: Double, count: Int) {
        let v = format.round(value).value
        var s = format.round(start)
        stalledAt = nil
        var i = 1
        while i <= count {
            let next = format.round(s.value + v)
            if next.bits == s.bits {
                // The same sum plus the same addend gives the same result from now on.
                stalledAt = i
                break
            }
            s = next
            i += 1
        }
        sum = s.value
    }
}

/// `fp.accumulate`: repeated small updates to a weight, in a low format and in FP32.
public struct FPAccumulateModule: ComputeModule {
    public init() {}
    public let name = "fp.accumulate"
    public let summary = "Add a small update many times in FP16/BF16 and in FP32: where the low format stalls."
    static let maxCount = 10_000_000
    public let parameters: [ParameterSpec] = [
        .number("start", 1, doc: "initial weight (rounded to the format first)"),
        .number("value", 1e-4, doc: "update added each step (rounded to the format first)"),
        .integer("count", 10_000, range: .closed(0, Double(FPAccumulateModule.maxCount)),
                 doc: "number of additions, 0 ... 10^7"),
        .choice("format", FloatFormat.self, default: .fp16, among: [.fp16, .bf16], doc: "the low-precision format"),
    ]
    public let outputs: [OutputSpec] = [
        .init("low", .number, doc: "the sum accumulated in the low format"),
        .init("fp32", .number, doc: "the same sum accumulated in FP32"),
        .init("exact", .number, doc: "start + count·value in Double, from the unrounded inputs"),
        .init("stalled_at", .integer, doc: "1-based index of the first addition that left the low sum unchanged, −1 if none"),
        .init("spacing_at_start", .number, doc: "gap between start (in the format) and the next larger value of the format"),
        .init("fp32_stalled_at", .integer, doc: "the same for the FP32 sum, −1 if none"),
        .init("value_in_format", .number, doc: "the update as the low format holds it"),
        .init("start_in_format", .number, doc: "the start as the low format holds it"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let start = try inputs.number("start")
        let value = try inputs.number("value")
        let count = try inputs.integer("count")
        let format = try inputs.choice("format", as: FloatFormat.self)
        let low = Accumulation(format: format, start: start, value: value, count: count)
        let high = Accumulation(format: .fp32, start: start, value: value, count: count)
        let s = format.round(start)
        // The next larger encoding: one more for a positive magnitude (or +0), one less for a
        // negative one; −0 steps to the smallest positive subnormal.
        let nextBits: UInt64
        if s.isInfinite || s.isNaN {
            nextBits = s.bits
        } else if s.signBit == 0 {
            nextBits = s.bits + 1
        } else if s.bits == s.format.signMask {
            nextBits = 1
        } else {
            nextBits = s.bits - 1
        }
        let spacing = s.isInfinite || s.isNaN ? Double.nan : format.value(ofBits: nextBits) - s.value
        return [
            "low": .number(low.sum),
            "fp32": .number(high.sum),
            "exact": .number(start + Double(count) * value),
            "stalled_at": .integer(low.stalledAt ?? -1),
            "spacing_at_start": .number(spacing),
            "fp32_stalled_at": .integer(high.stalledAt ?? -1),
            "value_in_format": .number(format.round(value).value),
            "start_in_format": .number(s.value),
        ]
    }
}
