import Foundation
import NotebookCore

// Per-tensor scaling, the generalisation of loss scaling that FP8 training needs
// (Micikevicius et al., 2022, "FP8 Formats for Deep Learning"): FP8 E4M3 spans only about
// 2^−9 … 448, so each tensor is multiplied by its own scale before the cast, chosen from its
// largest magnitude amax so that amax lands on the format's largest finite value, and divided
// by it again after. Loss scaling is the special case of one scale for all gradients, found by
// trial (`fp.dynamic-scale`) instead of from amax.

/// The scale that maps `amax` onto the largest finite value of `format`, with `margin` binades
/// of headroom: largestFinite / amax / 2^margin (Transformer Engine's recipe). An all-zero
/// tensor has nothing to scale and gets 1; a scale past the largest Double (amax tiny) is
/// capped there.
func amaxScale(amax: Double, format: FloatFormat, margin: Int) -> Double {
    guard amax > 0 else { return 1 }
    let s = format.largestFinite / amax / Double(sign: .plus, exponent: margin, significand: 1)
    return s.isFinite ? s : .greatestFiniteMagnitude
}

/// One tensor cast to a narrow format, plainly and with a scale.
struct TensorCast {
    /// Each value rounded to the format.
    var cast: [RoundedValue] = []
    /// Each value times the scale, rounded to the format.
    var scaledCast: [RoundedValue] = []

    init(values: [Double], scale: Double, format: FloatFormat, saturate: Bool) {
        cast.reserveCapacity(values.count)
        scaledCast.reserveCapacity(values.count)
        for x in values {
            cast.append(format.round(x, saturate: saturate))
            // x·scale is formed in Double and rounded once to the format; a product past the
            // largest Double is as far out of range as an exponent can be.
            let product = x * scale
            var r = format.round(product, saturate: saturate)
            if product.isInfinite { r.overflow = .exponentAboveEmax }
            scaledCast.append(r)
        }
    }
}

/// ‖approx − x‖₂ / ‖x‖₂, with both norms taken relative to amax so that no square overflows;
/// 0 for an all-zero x (whose casts are zeros too); inf or NaN when an approximation is.
func relativeNormError(_ approx: [Double], _ x: [Double], amax: Double) -> Double {
    if amax == 0 {
        // x is all zeros, and so is every cast of it.
        return 0
    }
    var num = 0.0, den = 0.0
    for (a, xi) in zip(approx, x) {
        let d = (a - xi) / amax, r = xi / amax
        num += d * d
        den += r * r
    }
    return (num / den).squareRoot()
}

/// `fp.scale-tensor`: a tensor cast to FP8 (or FP16/BF16) with and without an amax-based scale.
public struct FPScaleTensorModule: ComputeModule {
    public init() {}
    public let name = "fp.scale-tensor"
    public let summary = "Per-tensor scaling: cast a tensor to FP8/FP16/BF16 with scale = largest finite / amax, and without."
    /// Activation-like values over eight decades, two above E4M3's 448 and two below its
    /// smallest subnormal 2^−9 ≈ 0.00195.
    public static let defaultValues: [Double] = [0.002, -0.5, 3.1, 1200, -7e-4, 0.03, 45, -2e-5, 0.8, 600]
    public let parameters: [ParameterSpec] = [
        .vector("values", FPScaleTensorModule.defaultValues, maxElements: 100_000, doc: "the tensor's values (finite)"),
        .choice("format", FloatFormat.self, default: .fp8E4M3, among: [.fp8E4M3, .fp8E5M2, .fp16, .bf16],
                doc: "the narrow format"),
        .number("scale", computed: "largest_finite / amax / 2^margin", range: .positive,
                doc: "the scale applied before the cast"),
        .integer("margin", 0, range: .closed(0, 64),
                 doc: "binades of headroom below the largest finite (unused when scale is given)"),
        .bool("saturate", false, doc: "clamp overflows to ± the largest finite value instead of inf/NaN"),
    ]
    public let outputs: [OutputSpec] = [
        .init("amax", .number, doc: "max |value|"),
        .init("scale", .number, doc: "the scale used"),
        .init("largest_finite", .number, doc: "the format's largest finite value"),
        .init("scaled_amax", .number, doc: "amax·scale as the format holds it"),
        .init("cast", .vector, doc: "each value rounded to the format, unscaled"),
        .init("scaled_cast", .vector, doc: "each value·scale rounded to the format"),
        .init("recovered", .vector, doc: "scaled_cast / scale, back in Double"),
        .init("underflow", .integer, doc: "non-zero values whose cast is 0"),
        .init("overflow", .integer, doc: "values whose cast overflowed (to inf, to NaN in fp8-e4m3, or clamped with saturate)"),
        .init("subnormal", .integer, doc: "non-zero values whose cast is subnormal (fewer than p bits kept)"),
        .init("underflow_scaled", .integer, doc: "non-zero values whose scaled cast is 0"),
        .init("overflow_scaled", .integer, doc: "values whose scaled cast overflowed"),
        .init("subnormal_scaled", .integer, doc: "non-zero values whose scaled cast is subnormal"),
        .init("relative_error", .number, doc: "‖cast − values‖₂ / ‖values‖₂ (inf or NaN once a cast is)"),
        .init("relative_error_scaled", .number, doc: "‖recovered − values‖₂ / ‖values‖₂"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let values = try inputs.vector("values")
        let format = try inputs.choice("format", as: FloatFormat.self)
        let margin = try inputs.integer("margin")
        let saturate = try inputs.bool("saturate")
        let amax = values.reduce(0) { Swift.max($0, abs($1)) }
        let scale = try inputs.optionalNumber("scale") ?? amaxScale(amax: amax, format: format, margin: margin)
        let t = TensorCast(values: values, scale: scale, format: format, saturate: saturate)
        let cast = t.cast.map(\.value), scaled = t.scaledCast.map(\.value)
        let recovered = scaled.map { $0 / scale }
        func count(_ rs: [RoundedValue], _ test: (RoundedValue) -> Bool) -> Int {
            zip(rs, values).filter { r, x in test(r) && x != 0 }.count
        }
        return [
            "amax": .number(amax),
            "scale": .number(scale),
            "largest_finite": .number(format.largestFinite),
            "scaled_amax": .number(format.round(amax * scale, saturate: saturate).value),
            "cast": .vector(cast),
            "scaled_cast": .vector(scaled),
            "recovered": .vector(recovered),
            "underflow": .integer(count(t.cast) { $0.classification == "zero" }),
            "overflow": .integer(count(t.cast) { $0.overflow != .none }),
            "subnormal": .integer(count(t.cast) { $0.classification == "subnormal" }),
            "underflow_scaled": .integer(count(t.scaledCast) { $0.classification == "zero" }),
            "overflow_scaled": .integer(count(t.scaledCast) { $0.overflow != .none }),
            "subnormal_scaled": .integer(count(t.scaledCast) { $0.classification == "subnormal" }),
            "relative_error": .number(relativeNormError(cast, values, amax: amax)),
            "relative_error_scaled": .number(relativeNormError(recovered, values, amax: amax)),
        ]
    }
}
