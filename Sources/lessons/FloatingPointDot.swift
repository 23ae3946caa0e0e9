import Foundation
import NotebookCore

// Why tensor cores accumulate in FP32 (Micikevicius et al., 2018): the product of two FP16
// numbers has at most 11 + 11 = 22 significant bits and exponents in [−48, 32], so it is
// exact in FP32 (24 bits, exponents down to −149); a dot product of FP16 vectors can take
// every product exactly into an FP32 sum and round only the sum. An FP16 accumulator instead
// rounds every partial sum to 11 bits, and its error grows with the size of the running
// total.

/// Exact summation of Doubles by Shewchuk's non-overlapping expansions ("Adaptive precision
/// floating-point arithmetic", 1997), the algorithm of Python's `math.fsum`.
///
/// The partials are Doubles whose exact sum is the exact sum of everything added (no
/// overflow can occur here: the dot products' terms stay below 2^257). ``value`` rounds that
/// exact sum once to the nearest Double, ties to even.
struct ExactSum {
    /// Non-overlapping partials, increasing in magnitude.
    private(set) var partials: [Double] = []

    mutating func add(_ value: Double) {
        var x = value
        var kept = 0
        for j in partials.indices {
            var y = partials[j]
            if abs(x) < abs(y) { swap(&x, &y) }
            let hi = x + y
            let lo = y - (hi - x)
            if lo != 0 {
                partials[kept] = lo
                kept += 1
            }
            x = hi
        }
        partials.removeSubrange(kept...)
        partials.append(x)
    }

    /// The exact sum rounded once to Double (CPython's `math_fsum` final step, with its
    /// correction for a tie spread over several partials).
    var value: Double {
        var n = partials.count
        guard n > 0 else { return 0 }
        n -= 1
        var hi = partials[n]
        var lo = 0.0
        while n > 0 {
            let x = hi
            let y = partials[n - 1]
            n -= 1
            hi = x + y
            lo = y - (hi - x)
            if lo != 0 { break }
        }
        if n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0)) {
            let y = lo * 2
            let x = hi + y
            if y == x - hi { hi = x }
        }
        return hi
    }

    /// x − (this sum), exact, rounded once to Double: the error of `x` as an approximation of
    /// the sum. An infinite `x` is its own error.
    func error(of x: Double) -> Double {
        guard x.isFinite else { return x }
        var copy = self
        copy.add(-x)
        return 0 - copy.value  // not −value: an exact x gives +0, not −0
    }
}

/// How the seeded vectors are drawn.
public enum DotDistribution: String, Sendable, CaseIterable {
    /// Standard normal, by the Box–Muller transform of pairs of uniforms.
    case normal
    /// Uniform on [0, 1): every product is ≥ 0, so the running sum only grows.
    case uniform
}

/// The draws for `fp.dot`: 2n values from one seeded stream, `a` the first n, `b` the next n.
///
/// Normal values come in Box–Muller pairs r·cos(2πu₂), r·sin(2πu₂) with r = √(−2 ln(1 − u₁))
/// (1 − u₁ lies in (0, 1], so the log is finite). They use the platform's `log`, `cos`, `sin`
/// and `sqrt`; a libm that differs in the last bit could change a draw, which the rounding to
/// FP16 or BF16 then almost always absorbs.
func dotVectors(n: Int, seed: Int, distribution: DotDistribution) -> (a: [Double], b: [Double]) {
    var rng = Xoshiro256StarStar(parameterSeed: seed)
    var draws: [Double] = []
    draws.reserveCapacity(2 * n)
    switch distribution {
    case .uniform:
        for _ in 0..<(2 * n) { draws.append(rng.nextUnit()) }
    case .normal:
        for _ in 0..<n {
            let u1 = rng.nextUnit(), u2 = rng.nextUnit()
            let r = (-2 * log(1 - u1)).squareRoot()
            let angle = 2 * Double.pi * u2
            draws.append(r * cos(angle))
            draws.append(r * sin(angle))
        }
    }
    return (Array(draws[0..<n]), Array(draws[n..<(2 * n)]))
}

/// A dot product of vectors held in a low format, accumulated three ways.
///
/// Every product aᵢ·bᵢ of two values of the format is exact in Double (at most 22 significant
/// bits for FP16, 16 for BF16, exponents far inside Double's range), and each one enters a sum
/// exactly, as in a fused multiply-add: s ← round(s + aᵢ·bᵢ), from s = 0, in index order.
struct DotAccumulation {
    /// Σ aᵢbᵢ accumulated in the low format.
    var low: Double
    /// The same accumulated in FP32.
    var fp32: Double
    /// The plain left-to-right Double sum of the products (one rounding per addition).
    var double: Double
    /// The exact sum of the products.
    var exact = ExactSum()
    /// The exact sum of |aᵢbᵢ|.
    var exactAbs = ExactSum()
    /// Additions of a non-zero product that left the low sum unchanged.
    var swallowedLow = 0
    /// The same for the FP32 sum.
    var swallowedFP32 = 0
    /// Whether every product is a value of FP32 (always so for FP16 inputs).
    var productsExactInFP32 = true

    /// `a` and `b` hold values of `format` (already rounded), of equal length.
    init(a: [Double], b: [Double], format: FloatFormat) {
        var low = format.round(0), high = FloatFormat.fp32.round(0)
        var plain = 0.0
        for (x, y) in zip(a, b) {
            let p = x * y
            exact.add(p)
            exactAbs.add(abs(p))
            plain += p
            if productsExactInFP32 && FloatFormat.fp32.round(p).value != p { productsExactInFP32 = false }
            let nextLow = format.roundSum(low.value, p)
            let nextHigh = FloatFormat.fp32.roundSum(high.value, p)
            if p != 0 && nextLow.bits == low.bits { swallowedLow += 1 }
            if p != 0 && nextHigh.bits == high.bits { swallowedFP32 += 1 }
            low = nextLow
            high = nextHigh
        }
        self.low = low.value
        self.fp32 = high.value
        double = plain
    }
}

/// `fp.dot`: an FP16 (or BF16) dot product accumulated in FP16 and in FP32, against the exact sum.
public struct FPDotModule: ComputeModule {
    public init() {}
    public let name = "fp.dot"
    public let summary = "A dot product of FP16/BF16 vectors accumulated in the low format and in FP32, against the exact sum."
    static let maxLength = 100_000
    public let parameters: [ParameterSpec] = [
        ParameterSpec(name: "n", kind: .integer, defaultValue: .computed("4096, or len(a)"),
                      doc: "vector length of the seeded draws", range: .closed(1, Double(FPDotModule.maxLength))),
        .integer("seed", 1, range: .nonNegative, doc: "seed of the draws (xoshiro256**)"),
        .choice("distribution", DotDistribution.self, default: .normal,
                doc: "normal (standard normal) or uniform (on [0, 1)) draws"),
        ParameterSpec(name: "a", kind: .vector, defaultValue: .computed("n seeded draws"),
                      doc: "explicit first vector (rounded to the format); replaces the draws, with b",
                      maxElements: FPDotModule.maxLength),
        ParameterSpec(name: "b", kind: .vector, defaultValue: .computed("n seeded draws"),
                      doc: "explicit second vector, the length of a", maxElements: FPDotModule.maxLength),
        .choice("format", FloatFormat.self, default: .fp16, among: [.fp16, .bf16], doc: "the inputs' format"),
    ]
    public let outputs: [OutputSpec] = [
        .init("exact", .number, doc: "Σ aᵢbᵢ of the rounded inputs, computed exactly and rounded once to Double"),
        .init("low", .number, doc: "the sum accumulated in the low format: every partial sum rounded to it"),
        .init("fp32", .number, doc: "the sum accumulated in FP32: exact products, every partial sum rounded to FP32"),
        .init("error_low", .number, doc: "low − exact, signed (computed exactly, rounded once)"),
        .init("error_fp32", .number, doc: "fp32 − exact, signed"),
        .init("relative_error_low", .number, doc: "|low − exact| / |exact| (inf when only the exact sum is 0)"),
        .init("relative_error_fp32", .number, doc: "|fp32 − exact| / |exact|"),
        .init("error_ratio", .number,
              doc: "|error_low| / |error_fp32|: how many times more accurate FP32 is (inf when only fp32 is exact, 1 when both are)"),
        .init("double_sum", .number, doc: "the plain Double sum of the products, one rounding per addition"),
        .init("error_double", .number, doc: "double_sum − exact: 0 whenever Double's 53 bits held every partial sum"),
        .init("products_exact_in_fp32", .bool, doc: "whether every product aᵢbᵢ is an FP32 value (always for fp16 inputs)"),
        .init("swallowed_low", .integer, doc: "additions of a non-zero product that left the low sum unchanged"),
        .init("swallowed_fp32", .integer, doc: "the same for the FP32 sum"),
        .init("sum_abs_products", .number, doc: "Σ |aᵢbᵢ|, exact, rounded once"),
        .init("condition_number", .number, doc: "Σ|aᵢbᵢ| / |Σ aᵢbᵢ|: how much cancellation magnifies relative error (inf when the sum is 0)"),
        .init("n", .integer, doc: "the vector length"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let format = try inputs.choice("format", as: FloatFormat.self)
        let raw: (a: [Double], b: [Double])
        switch (inputs["a"] != nil, inputs["b"] != nil) {
        case (true, true):
            let a = try inputs.vector("a"), b = try inputs.vector("b")
            guard a.count == b.count else {
                throw .invalid("b", "has \(b.count) elements but a has \(a.count); a dot product needs equal lengths")
            }
            if inputs["n"] != nil, try inputs.integer("n") != a.count {
                throw .invalid("n", "is \(try inputs.integer("n")) but a and b have \(a.count) elements; leave n out when giving a and b")
            }
            raw = (a, b)
        case (true, false):
            throw .invalid("b", "is required when a is given (the same length as a)")
        case (false, true):
            throw .invalid("a", "is required when b is given (the same length as b)")
        case (false, false):
            let n = inputs["n"] == nil ? 4096 : try inputs.integer("n")
            raw = dotVectors(n: n, seed: try inputs.integer("seed"),
                             distribution: try inputs.choice("distribution", as: DotDistribution.self))
        }
        let a = try rounded(raw.a, to: format, parameter: "a")
        let b = try rounded(raw.b, to: format, parameter: "b")

        let dot = DotAccumulation(a: a, b: b, format: format)
        let exact = dot.exact.value
        let errorLow = dot.exact.error(of: dot.low)
        let errorFP32 = dot.exact.error(of: dot.fp32)
        let sumAbs = dot.exactAbs.value
        func relative(_ error: Double) -> Double {
            exact == 0 ? (error == 0 ? 0 : .infinity) : abs(error) / abs(exact)
        }
        let ratio: Double = errorFP32 == 0 ? (errorLow == 0 ? 1 : .infinity) : abs(errorLow) / abs(errorFP32)
        return [
            "exact": .number(exact),
            "low": .number(dot.low),
            "fp32": .number(dot.fp32),
            "error_low": .number(errorLow),
            "error_fp32": .number(errorFP32),
            "relative_error_low": .number(relative(errorLow)),
            "relative_error_fp32": .number(relative(errorFP32)),
            "error_ratio": .number(ratio),
            "double_sum": .number(dot.double),
            "error_double": .number(dot.exact.error(of: dot.double)),
            "products_exact_in_fp32": .bool(dot.productsExactInFP32),
            "swallowed_low": .integer(dot.swallowedLow),
            "swallowed_fp32": .integer(dot.swallowedFP32),
            "sum_abs_products": .number(sumAbs),
            "condition_number": .number(exact == 0 ? .infinity : sumAbs / abs(exact)),
            "n": .integer(a.count),
        ]
    }

    /// The vector as the format holds it; a value the format cannot hold finitely is refused,
    /// since this module is about accumulation error, not overflow.
    private func rounded(_ xs: [Double], to format: FloatFormat, parameter: String) throws(ComputeError) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(xs.count)
        for (i, x) in xs.enumerated() {
            let r = format.round(x)
            guard !r.isInfinite && !r.isNaN else {
                throw .invalid(parameter, "[\(i)] = \(NumberText.shortest(x)) overflows \(format.rawValue) (largest finite \(NumberText.shortest(format.largestFinite)))")
            }
            out.append(r.value)
        }
        return out
    }
}
