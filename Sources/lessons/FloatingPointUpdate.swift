import Foundation
import NotebookCore

// The first reason Micikevicius et al. (2018) give for FP32 master weights: the update lr·g
// can be too small for FP16 before it ever meets the weight (1e-3 · 1e-5 = 1e-8, below half
// of FP16's smallest subnormal 2^−24 ≈ 5.96e−8, becomes 0). The second: a representable
// update can still be lost when added to a much larger weight (see `fp.accumulate`). Adam
// adds a third trap: ε = 1e-8 itself is 0 in FP16, so when v underflows the denominator
// √v̂ + ε is 0 and the step is infinite (or NaN when m is 0 too).

/// Arithmetic in one precision: every operation is done in Double and rounded once to the
/// format (nearest-even), or kept in Double when `format` is nil.
///
/// For +, −, ×, ÷ and √ of two values of a format with p ≤ 24 bits, the Double result rounded
/// to the format equals the format's own correctly rounded operation: Double has
/// 53 ≥ 2p + 2 bits, which makes the double rounding innocuous (Figueroa, "When is double
/// rounding innocuous?", 1995).
struct PrecisionArithmetic {
    /// The format every result is rounded to; nil for plain Double.
    let format: FloatFormat?

    @inline(__always) func r(_ x: Double) -> Double { format?.round(x).value ?? x }
    func add(_ a: Double, _ b: Double) -> Double { r(a + b) }
    func sub(_ a: Double, _ b: Double) -> Double { r(a - b) }
    func mul(_ a: Double, _ b: Double) -> Double { r(a * b) }
    func div(_ a: Double, _ b: Double) -> Double { r(a / b) }
    func sqrt(_ a: Double) -> Double { r(a.squareRoot()) }
}

/// One SGD step w − lr·g in a low format, with FP32 master weights, and exactly.
struct SGDUpdate {
    /// lr and g as the low format holds them.
    var lrLow, gLow: Double
    /// lr·g in the low format: the product of the held values, rounded.
    var updateLow: Double
    /// The weight as the low format holds it, and after the step.
    var wLow, wLowAfter: Double
    /// The step as one fused operation: w − lr·g with the exact product, rounded once.
    var wLowFused: Double
    /// lr (in FP32) times the low-format gradient, rounded to FP32.
    var updateFP32: Double
    /// The FP32 master weight and the master weight after the step.
    var wFP32, wFP32After: Double

    init(w: Double, g: Double, lr: Double, format: FloatFormat) {
        let low = PrecisionArithmetic(format: format)
        let fp32 = PrecisionArithmetic(format: .fp32)
        lrLow = low.r(lr)
        gLow = low.r(g)
        wLow = low.r(w)
        updateLow = low.mul(lrLow, gLow)
        wLowAfter = low.sub(wLow, updateLow)
        // lrLow·gLow is exact in Double (at most 22 significant bits); roundSum rounds the
        // exact difference once.
        wLowFused = format.roundSum(wLow, -(lrLow * gLow)).value
        // Mixed precision: the gradient arrives in the low format and is upcast (exactly);
        // lr, the product and the weight are FP32.
        updateFP32 = fp32.mul(fp32.r(lr), gLow)
        wFP32 = fp32.r(w)
        wFP32After = fp32.sub(wFP32, updateFP32)
    }
}

/// `fp.update`: an SGD step whose update underflows in FP16 before it meets the weight.
public struct FPUpdateModule: ComputeModule {
    public init() {}
    public let name = "fp.update"
    public let summary = "One SGD step w − lr·g in FP16/BF16 and with FP32 master weights: where lr·g underflows."
    public let parameters: [ParameterSpec] = [
        .number("w", 0.01, doc: "the weight"),
        .number("g", 1e-5, doc: "the gradient (held in the low format, as the backward pass produces it)"),
        .number("lr", 1e-3, range: .nonNegative, doc: "the learning rate"),
        .choice("format", FloatFormat.self, default: .fp16, among: [.fp16, .bf16], doc: "the low-precision format"),
    ]
    public let outputs: [OutputSpec] = [
        .init("lr_low", .number, doc: "lr as the format holds it"),
        .init("g_low", .number, doc: "g as the format holds it"),
        .init("g_underflow", .bool, doc: "whether a non-zero g is 0 in the format"),
        .init("update_exact", .number, doc: "lr·g in Double"),
        .init("update_low", .number, doc: "lr·g computed in the format: the held values' product, rounded"),
        .init("update_underflow", .bool, doc: "whether that product of non-zero values rounded to 0"),
        .init("w_low", .number, doc: "w − update_low in the format (w as the format holds it)"),
        .init("moved_low", .bool, doc: "whether the low-format weight changed"),
        .init("w_low_fused", .number, doc: "w − lr·g with the exact product, rounded once to the format (a fused multiply-add)"),
        .init("moved_low_fused", .bool, doc: "whether the fused step changed the weight: false when the weight's spacing swallows the update"),
        .init("update_fp32", .number, doc: "lr (FP32) times the low-format gradient, rounded to FP32"),
        .init("w_fp32", .number, doc: "the FP32 master weight after the step"),
        .init("moved_fp32", .bool, doc: "whether the FP32 master weight changed (an update below about 2^−24·|w| still vanishes)"),
        .init("w_exact", .number, doc: "w − lr·g in Double"),
        .init("ulp_w_low", .number, doc: "spacing of the format at w: an update below half of it is lost"),
        .init("ulp_w_fp32", .number, doc: "spacing of FP32 at w"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let w = try inputs.number("w"), g = try inputs.number("g"), lr = try inputs.number("lr")
        let format = try inputs.choice("format", as: FloatFormat.self)
        let s = SGDUpdate(w: w, g: g, lr: lr, format: format)
        return [
            "lr_low": .number(s.lrLow),
            "g_low": .number(s.gLow),
            "g_underflow": .bool(g != 0 && s.gLow == 0),
            "update_exact": .number(lr * g),
            "update_low": .number(s.updateLow),
            "update_underflow": .bool(s.lrLow * s.gLow != 0 && s.updateLow == 0),
            "w_low": .number(s.wLowAfter),
            "moved_low": .bool(s.wLowAfter != s.wLow),
            "w_low_fused": .number(s.wLowFused),
            "moved_low_fused": .bool(s.wLowFused != s.wLow),
            "update_fp32": .number(s.updateFP32),
            "w_fp32": .number(s.wFP32After),
            "moved_fp32": .bool(s.wFP32After != s.wFP32),
            "w_exact": .number(w - lr * g),
            "ulp_w_low": .number(format.round(w).ulp),
            "ulp_w_fp32": .number(FloatFormat.fp32.round(w).ulp),
        ]
    }
}

/// One Adam step (Kingma & Ba, 2015, Algorithm 1) with every operation in one precision.
///
/// The hyper-parameters are rounded to the precision first, as tensors or scalars of that
/// type would hold them; the bias corrections 1 − βᵗ are computed in Double and then rounded.
/// In order: m' = β₁m + (1 − β₁)g; v' = β₂v + (1 − β₂)g²; m̂ = m'/(1 − β₁ᵗ);
/// v̂ = v'/(1 − β₂ᵗ); d = √v̂ + ε; u = lr·(m̂/d); w' = w − u, each operation rounded.
struct AdamStep {
    var eps, gSquared, m, v, mHat, vHat, denominator, update, w: Double

    init(w w0: Double, g g0: Double, m m0: Double, v v0: Double, lr lr0: Double, beta1: Double, beta2: Double,
         eps eps0: Double, step: Int, in p: PrecisionArithmetic) {
        let b1 = p.r(beta1), c1 = p.r(1 - beta1), b2 = p.r(beta2), c2 = p.r(1 - beta2)
        let t = Double(step)
        let bc1 = p.r(1 - Foundation.pow(beta1, t)), bc2 = p.r(1 - Foundation.pow(beta2, t))
        let g = p.r(g0), lr = p.r(lr0)
        eps = p.r(eps0)
        gSquared = p.mul(g, g)
        m = p.add(p.mul(b1, p.r(m0)), p.mul(c1, g))
        v = p.add(p.mul(b2, p.r(v0)), p.mul(c2, gSquared))
        mHat = p.div(m, bc1)
        vHat = p.div(v, bc2)
        denominator = p.add(p.sqrt(vHat), eps)
        update = p.mul(lr, p.div(mHat, denominator))
        w = p.sub(p.r(w0), update)
    }
}

/// `fp.adam`: one Adam step in FP16/BF16, in FP32 and in Double, where ε = 1e-8 vanishes in FP16.
public struct FPAdamModule: ComputeModule {
    public init() {}
    public let name = "fp.adam"
    public let summary = "One Adam step in FP16/BF16, FP32 and Double: ε = 1e-8 is 0 in FP16, so v = 0 gives an infinite step."
    public let parameters: [ParameterSpec] = [
        .number("w", 0.01, doc: "the weight"),
        .number("g", 1e-5, doc: "the gradient"),
        .number("m", 0, doc: "the first moment before the step"),
        .number("v", 0, range: .nonNegative, doc: "the second moment before the step"),
        .number("lr", 1e-3, range: .nonNegative, doc: "the learning rate"),
        .number("beta1", 0.9, range: .init(lower: 0, upper: 1, upperInclusive: false), doc: "first-moment decay β₁"),
        .number("beta2", 0.999, range: .init(lower: 0, upper: 1, upperInclusive: false), doc: "second-moment decay β₂"),
        .number("eps", 1e-8, range: .nonNegative, doc: "ε added to √v̂"),
        .integer("step", 1, range: .atLeast(1), doc: "the step number t of the bias corrections 1 − βᵗ (1-based)"),
        .choice("format", FloatFormat.self, default: .fp16, among: [.fp16, .bf16], doc: "the low-precision format"),
    ]
    public let outputs: [OutputSpec] = {
        var specs: [OutputSpec] = [
            .init("eps_low", .number, doc: "ε as the low format holds it (0 for 1e-8 in FP16: below 2^−25)"),
            .init("eps_underflow", .bool, doc: "whether a non-zero ε is 0 in the low format"),
            .init("g_squared_low", .number, doc: "g² in the low format (0 when it underflows, which starves v)"),
        ]
        for (suffix, what) in [("low", "in the low format"), ("fp32", "in FP32"), ("exact", "in Double")] {
            specs += [
                .init("m_\(suffix)", .number, doc: "m' = β₁m + (1 − β₁)g, \(what)"),
                .init("v_\(suffix)", .number, doc: "v' = β₂v + (1 − β₂)g², \(what)"),
                .init("m_hat_\(suffix)", .number, doc: "m'/(1 − β₁ᵗ), \(what)"),
                .init("v_hat_\(suffix)", .number, doc: "v'/(1 − β₂ᵗ), \(what)"),
                .init("denominator_\(suffix)", .number, doc: "√v̂ + ε, \(what)"),
                .init("update_\(suffix)", .number, doc: "lr·m̂/(√v̂ + ε), \(what) (inf or NaN when the denominator is 0)"),
                .init("w_\(suffix)", .number, doc: "w − update, \(what)"),
            ]
        }
        return specs
    }()

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let format = try inputs.choice("format", as: FloatFormat.self)
        let eps = try inputs.number("eps")
        var steps: [(String, AdamStep)] = []
        for (suffix, format) in [("low", Optional(format)), ("fp32", .fp32), ("exact", nil)] {
            steps.append((suffix, AdamStep(
                w: try inputs.number("w"), g: try inputs.number("g"), m: try inputs.number("m"),
                v: try inputs.number("v"), lr: try inputs.number("lr"), beta1: try inputs.number("beta1"),
                beta2: try inputs.number("beta2"), eps: eps, step: try inputs.integer("step"),
                in: PrecisionArithmetic(format: format))))
        }
        let low = steps[0].1
        var out: Outputs = [
            "eps_low": .number(low.eps),
            "eps_underflow": .bool(eps != 0 && low.eps == 0),
            "g_squared_low": .number(low.gSquared),
        ]
        for (suffix, s) in steps {
            out["m_\(suffix)"] = .number(s.m)
            out["v_\(suffix)"] = .number(s.v)
            out["m_hat_\(suffix)"] = .number(s.mHat)
            out["v_hat_\(suffix)"] = .number(s.vHat)
            out["denominator_\(suffix)"] = .number(s.denominator)
            out["update_\(suffix)"] = .number(s.update)
            out["w_\(suffix)"] = .number(s.w)
        }
        return out
    }
}
