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

/// `fp.dynamic-scale`: the loss-scale schedule of a dynamic scaler over a run of steps.
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
        .integer("steps", 10, range: .closed(1, Double(FPDynamicScaleModule.maxSteps)), doc: "steps to simulate"),
        .vector("overflow_steps", [4], range: .atLeast(1), minElements: 0, maxElements: 100_000,
                doc: "1-based steps whose gradients overflow (those beyond `steps` are ignored)"),
    ]
    public let outputs: [OutputSpec] = [
        .init("scale", .vector, hint: .chart, doc: "the scale used at each step"),
        .init("skipped", .vector, doc: "1 where the step overflowed and its update was skipped, else 0"),
        .init("final_scale", .number, doc: "the scale after the last step"),
        .init("good_run", .vector, doc: "good steps in a row since the last change, after each step"),
        .init("updates", .integer, doc: "steps whose update was applied"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        var scale = try inputs.number("init_scale")
        let growth = try inputs.number("growth")
        let backoff = try inputs.number("backoff")
        let interval = try inputs.integer("interval")
        let steps = try inputs.integer("steps")
        var overflowAt = Set<Int>()
        for x in try inputs.vector("overflow_steps") {
            guard x == x.rounded() else {
                throw .invalid("overflow_steps", "expects whole step numbers (1-based), got \(NumberText.shortest(x))")
            }
            if x <= Double(steps) { overflowAt.insert(Int(x)) }
        }
        var scales: [Double] = [], skipped: [Double] = [], runs: [Double] = []
        var goodRun = 0, updates = 0
        for step in 1...steps {
            scales.append(scale)
            if overflowAt.contains(step) {
                // Inf/NaN in the gradients: the update would poison the weights, so drop it.
                skipped.append(1)
                scale *= backoff
                goodRun = 0
            } else {
                skipped.append(0)
                updates += 1
                goodRun += 1
                if goodRun == interval {
                    scale *= growth
                    goodRun = 0
                }
            }
            runs.append(Double(goodRun))
        }
        return [
            "scale": .vector(scales),
            "skipped": .vector(skipped),
            "final_scale": .number(scale),
            "good_run": .vector(runs),
            "updates": .integer(updates),
        ]
    }
}
