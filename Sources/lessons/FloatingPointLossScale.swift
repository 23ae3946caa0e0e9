import Foundation
import NotebookCore

// Loss scaling (Micikevicius et al., 2018, "Mixed Precision Training"): gradients too small
// for FP16 flush to zero; multiplying the loss by S multiplies every gradient by S (the chain
// rule is linear), lifting them into range; the optimizer divides by S again in FP32.
// Dynamic loss scaling picks S on the fly: back off when a step overflows, grow after a run
// of clean steps.

/// `fp.loss-scale`: which gradients survive the cast to FP16/BF16, with and without scaling.
public struct FPLossScaleModule: ComputeModule {
    public init() {}
    public let name = "fp.loss-scale"
    public let summary = "Cast gradients to FP16/BF16 with and without a loss scale: underflow, overflow, recovery."
    /// Magnitudes from 0.5 down to 1e-10, the spread of activation gradients in Micikevicius
    /// et al. (2018, Figure 3), many of them below FP16's smallest subnormal 2^−24 ≈ 6e−8.
    public static let defaultGradients: [Double] = [0.5, -3e-2, 1e-3, -6e-5, 2e-6, -1e-7, 4e-8, -1e-8, 3e-9, -1e-10]
    public let parameters: [ParameterSpec] = [
        .vector("gradients", FPLossScaleModule.defaultGradients, allowsNonFinite: true, maxElements: 100_000,
                doc: "gradient values (Double); nan and ±inf pass through as a real cast would"),
        .number("scale", 1024, range: .positive, doc: "loss scale S (finite, > 0)"),
        .choice("format", FloatFormat.self, default: .fp16, among: [.fp16, .bf16], doc: "the low-precision format"),
    ]
    public let outputs: [OutputSpec] = [
        .init("cast", .vector, doc: "each g rounded to the format"),
        .init("scaled_cast", .vector, doc: "each g·S rounded to the format"),
        .init("recovered", .vector, doc: "scaled_cast / S, back in FP32/Double"),
        .init("underflow", .integer, doc: "non-zero g whose cast is 0"),
        .init("underflow_scaled", .integer, doc: "non-zero g whose scaled cast is 0"),
        .init("overflow_scaled", .integer, doc: "finite g whose scaled cast is infinite"),
        .init("relative_error_cast", .vector, doc: "|cast − g| / |g| (0 where g is 0, NaN where g is not finite)"),
        .init("relative_error_recovered", .vector, doc: "|recovered − g| / |g|"),
        .init("subnormal_scaled", .integer, doc: "non-zero g whose scaled cast is subnormal (fewer than p bits kept)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let g = try inputs.vector("gradients")
        let scale = try inputs.number("scale")
        let format = try inputs.choice("format", as: FloatFormat.self)
        var cast: [Double] = [], scaledCast: [Double] = [], recovered: [Double] = []
        var errCast: [Double] = [], errRecovered: [Double] = []
        var underflow = 0, underflowScaled = 0, overflowScaled = 0, subnormalScaled = 0
        func relative(_ approx: Double, _ exact: Double) -> Double {
            guard exact.isFinite else { return .nan }
            return exact == 0 ? (approx == 0 ? 0 : .infinity) : abs(approx - exact) / abs(exact)
        }
        for gi in g {
            let c = format.round(gi)
            let s = format.round(gi * scale)
            let r = s.value / scale
            cast.append(c.value)
            scaledCast.append(s.value)
            recovered.append(r)
            errCast.append(relative(c.value, gi))
            errRecovered.append(relative(r, gi))
            if gi != 0 && !gi.isNaN {
                if c.value == 0 { underflow += 1 }
                if s.value == 0 { underflowScaled += 1 }
                if s.classification == "subnormal" { subnormalScaled += 1 }
            }
            if gi.isFinite && s.isInfinite { overflowScaled += 1 }
        }
        return [
            "cast": .vector(cast),
            "scaled_cast": .vector(scaledCast),
            "recovered": .vector(recovered),
            "underflow": .integer(underflow),
            "underflow_scaled": .integer(underflowScaled),
            "overflow_scaled": .integer(overflowScaled),
            "relative_error_cast": .vector(errCast),
            "relative_error_recovered": .vector(errRecovered),
            "subnormal_scaled": .integer(subnormalScaled),
        ]
    }
}

/// A dynamic loss scaler run over a number of steps (PyTorch's `GradScaler` update rule).
///
/// On an overflow step the update is skipped, scale ·= backoff and the good-step counter
/// resets; otherwise the counter grows, and after `interval` good steps in a row
/// scale ·= growth and the counter resets.
struct DynamicLossScaler {
    /// The scale used at each step.
    var scales: [Double] = []
    /// Whether each step overflowed (and so was skipped).
    var overflowed: [Bool] = []
    /// The good-step counter after each step.
    var goodRuns: [Int] = []
    /// The scale after the last step.
    var finalScale: Double

    /// Runs `steps` steps from `initScale`; `overflows(step, scale)` says whether the 1-based
    /// `step` overflows at `scale`.
    init(initScale: Double, growth: Double, backoff: Double, interval: Int, steps: Int,
         overflows: (Int, Double) -> Bool) {
        var scale = initScale
        var goodRun = 0
        for step in stride(from: 1, through: steps, by: 1) {
            scales.append(scale)
            if overflows(step, scale) {
                // Inf/NaN in the gradients: the update would poison the weights, so drop it.
                overflowed.append(true)
                scale *= backoff
                goodRun = 0
            } else {
                overflowed.append(false)
                goodRun += 1
                if goodRun == interval {
                    scale *= growth
                    goodRun = 0
                }
            }
            goodRuns.append(goodRun)
        }
        finalScale = scale
    }
}

/// The overflow test of a data-driven scaler: the largest gradient magnitude of a step, scaled,
/// as the low format holds it. The step overflows when that is ±inf or NaN: with
/// round-to-nearest-even that is scale·max|g| ≥ 65520 in FP16 (not 65504), > 464 in FP8 E4M3
/// (whose overflow is NaN), or a max|g| that is itself inf or NaN.
@inline(__always)
func scaledGradient(_ maxGrad: Double, scale: Double, format: FloatFormat) -> RoundedValue {
    format.round(maxGrad * scale)
}

/// `fp.dynamic-scale`: the loss-scale schedule of a dynamic scaler over a run of steps, its
/// overflows either scripted (`overflow_steps`) or computed from a trajectory of max|g|.
public struct FPDynamicScaleModule: ComputeModule {
    public init() {}
    public let name = "fp.dynamic-scale"
    public let summary = "Dynamic loss scaling: skip and back off on overflow, grow after a run of good steps."
    static let maxSteps = 100_000
    public let parameters: [ParameterSpec] = [
        .number("init_scale", 65536, range: .positive, doc: "scale at step 1"),
        .number("growth", 2, range: .atLeast(1), doc: "factor applied after `interval` good steps in a row (≥ 1)"),
        .number("backoff", 0.5, range: .init(lower: 0, lowerInclusive: false, upper: 1), doc: "factor applied on an overflow step, in (0, 1]"),
        .integer("interval", 3, range: .atLeast(1), doc: "good steps in a row before the scale grows"),
        ParameterSpec(name: "steps", kind: .integer, defaultValue: .computed("10, or len(max_grad)"),
                      doc: "steps to simulate (at most len(max_grad) when max_grad is given)",
                      range: .closed(1, Double(FPDynamicScaleModule.maxSteps))),
        ParameterSpec(name: "overflow_steps", kind: .vector, defaultValue: .computed("[4] unless max_grad is given"),
                      doc: "1-based steps whose gradients overflow, scripted (those beyond `steps` are ignored)",
                      range: .atLeast(1), maxElements: 100_000, minElements: 0),
        ParameterSpec(name: "max_grad", kind: .vector, defaultValue: .computed("none: overflows are scripted"),
                      doc: "max|g| of each step's unscaled gradients; a step overflows when scale·max|g| rounds to inf or NaN",
                      range: .nonNegative, allowsNonFinite: true, maxElements: FPDynamicScaleModule.maxSteps),
        .choice("format", FloatFormat.self, default: .fp16, among: [.fp16, .bf16, .fp8E4M3, .fp8E5M2],
                doc: "the gradients' format, for the overflow test with max_grad"),
    ]
    public let outputs: [OutputSpec] = [
        .init("scale", .vector, hint: .chart, doc: "the scale used at each step"),
        .init("skipped", .vector, doc: "1 where the step overflowed and its update was skipped, else 0"),
        .init("final_scale", .number, doc: "the scale after the last step"),
        .init("good_run", .vector, doc: "good steps in a row since the last change, after each step"),
        .init("updates", .integer, doc: "steps whose update was applied"),
        .init("overflowed_at", .vector, doc: "the 1-based steps that overflowed, scripted or computed"),
        .init("scaled_max_grad", .vector,
              doc: "with max_grad: scale·max|g| as the format holds it at each step (inf or NaN where it overflowed); empty otherwise"),
        .init("overflow_threshold", .number,
              doc: "the format's largest finite + ulp/2: scaled magnitudes above it overflow (at it too, except in fp8-e4m3)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let initScale = try inputs.number("init_scale")
        let growth = try inputs.number("growth")
        let backoff = try inputs.number("backoff")
        let interval = try inputs.integer("interval")
        let format = try inputs.choice("format", as: FloatFormat.self)
        let maxGrad: [Double]? = inputs["max_grad"] == nil ? nil : try inputs.vector("max_grad")
        let steps: Int
        if inputs["steps"] == nil {
            steps = maxGrad?.count ?? 10
        } else {
            steps = try inputs.integer("steps")
        }
        if let maxGrad, steps > maxGrad.count {
            throw .invalid("steps", "is \(steps) but max_grad has \(maxGrad.count) entries, one per step; give at most \(maxGrad.count) steps or a longer max_grad")
        }

        let scaler: DynamicLossScaler
        var scaledMax: [Double] = []
        if let maxGrad {
            if inputs["overflow_steps"] != nil {
                throw .invalid("overflow_steps", "scripts the overflows, and max_grad computes them; give one of the two")
            }
            scaledMax.reserveCapacity(steps)
            scaler = DynamicLossScaler(initScale: initScale, growth: growth, backoff: backoff,
                                       interval: interval, steps: steps) { step, scale in
                let r = scaledGradient(maxGrad[step - 1], scale: scale, format: format)
                scaledMax.append(r.value)
                return r.isInfinite || r.isNaN
            }
        } else {
            var overflowAt = Set<Int>()
            for x in inputs["overflow_steps"] == nil ? [4] : try inputs.vector("overflow_steps") {
                guard x == x.rounded() else {
                    throw .invalid("overflow_steps", "expects whole step numbers (1-based), got \(NumberText.shortest(x))")
                }
                // Compared as Doubles first, so a huge step number never reaches Int(_:).
                if x <= Double(steps) { overflowAt.insert(Int(x)) }
            }
            scaler = DynamicLossScaler(initScale: initScale, growth: growth, backoff: backoff,
                                       interval: interval, steps: steps) { step, _ in overflowAt.contains(step) }
        }
        let overflowedAt = scaler.overflowed.enumerated().filter(\.element).map { Double($0.offset + 1) }
        return [
            "scale": .vector(scaler.scales),
            "skipped": .vector(scaler.overflowed.map { $0 ? 1 : 0 }),
            "final_scale": .number(scaler.finalScale),
            "good_run": .vector(scaler.goodRuns.map(Double.init)),
            "updates": .integer(scaler.overflowed.filter { !$0 }.count),
            "overflowed_at": .vector(overflowedAt),
            "scaled_max_grad": .vector(scaledMax),
            "overflow_threshold": .number(format.overflowThreshold),
        ]
    }
}
