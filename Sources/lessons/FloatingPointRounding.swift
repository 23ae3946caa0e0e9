import Foundation
import NotebookCore

// Rounding a Double to a narrower IEEE 754 binary format by integer operations on its bits,
// the way a learner would by hand: split sign, exponent and significand; keep p bits; look at
// the guard bit (the first one dropped) and the sticky bit (the OR of all after it); round;
// let a carry ripple into the exponent; saturate or overflow at the top (a value whose
// exponent is already above emax overflows without any carry); fall into subnormals at the
// bottom. No hardware conversion is used, so tests and `fp.sweep` can compare this algorithm
// against the hardware's. The same algorithm serves the OCP FP8 formats, whose only
// difference is where the finite range ends (FP8 E4M3 has no infinity).

/// A binary floating-point format: 1 sign bit, `exponentBits` biased exponent bits and
/// `fractionBits` stored mantissa bits (the leading 1 of a normal number is implicit).
///
/// FP16, BF16, FP32 and FP8 E5M2 follow IEEE 754's layout: the all-ones exponent field holds
/// ±∞ (mantissa 0) and NaNs (any other mantissa). FP8 E4M3 is the OCP 8-bit format
/// "E4M3FN" (ml_dtypes `float8_e4m3fn`): it has no infinities, and only S.1111.111 is NaN, so
/// the all-ones exponent field holds the seven finite values 256 … 448 and emax = bias + 1 = 8.
public enum FloatFormat: String, Sendable, CaseIterable {
    case fp16, bf16, fp32
    /// OCP FP8 E4M3 ("E4M3FN"): bias 7, largest finite 448, no infinity, NaN = S.1111.111.
    case fp8E4M3 = "fp8-e4m3"
    /// OCP FP8 E5M2: IEEE-like, bias 15, largest finite 57344, ±∞ and NaNs.
    case fp8E5M2 = "fp8-e5m2"

    /// Width w of the biased exponent field.
    @inline(__always) public var exponentBits: Int {
        switch self {
        case .fp16, .fp8E5M2: 5
        case .bf16, .fp32: 8
        case .fp8E4M3: 4
        }
    }

    /// Stored mantissa bits m; the precision is p = m + 1 with the hidden bit.
    @inline(__always) public var fractionBits: Int {
        switch self {
        case .fp16: 10
        case .bf16: 7
        case .fp32: 23
        case .fp8E4M3: 3
        case .fp8E5M2: 2
        }
    }

    /// Whether the all-ones exponent field is reserved for ±∞ and NaN (IEEE 754). False only
    /// for FP8 E4M3, which reserves just the all-ones pattern S.1111.111, for NaN.
    @inline(__always) public var hasInfinity: Bool { self != .fp8E4M3 }

    /// Total width in bits.
    public var width: Int { 1 + exponentBits + fractionBits }
    /// Significant bits including the hidden one.
    public var precision: Int { fractionBits + 1 }
    /// 2^(w−1) − 1: 15 for FP16 and FP8 E5M2, 127 for BF16 and FP32, 7 for FP8 E4M3.
    @inline(__always) public var bias: Int { (1 << (exponentBits - 1)) - 1 }
    /// Largest unbiased exponent of a finite number: the bias, or bias + 1 for FP8 E4M3,
    /// whose all-ones exponent field still holds finite numbers.
    @inline(__always) public var emax: Int { hasInfinity ? bias : bias + 1 }
    /// Smallest unbiased exponent of a normal number (1 − bias); subnormals share it.
    @inline(__always) public var emin: Int { 1 - bias }
    /// The exponent of the last mantissa bit of a subnormal: the smallest subnormal is 2^qmin.
    @inline(__always) var qmin: Int { emin - fractionBits }
    /// The all-ones exponent field.
    @inline(__always) var exponentAllOnes: UInt64 { (UInt64(1) << exponentBits) - 1 }
    /// The mask of the mantissa field.
    @inline(__always) var fractionMask: UInt64 { (UInt64(1) << fractionBits) - 1 }
    /// The magnitude bits of +infinity (IEEE formats; for FP8 E4M3 this pattern is 256).
    @inline(__always) var infinityBits: UInt64 { exponentAllOnes << fractionBits }
    /// The magnitude bits of the largest finite value.
    @inline(__always) var largestFiniteBits: UInt64 {
        hasInfinity ? infinityBits - 1 : (infinityBits | fractionMask) - 1
    }
    /// What a magnitude that overflows toward infinity becomes: +∞, or NaN in FP8 E4M3.
    @inline(__always) var overflowBits: UInt64 { hasInfinity ? infinityBits : quietNaNBits }
    /// The magnitude bits of the canonical quiet NaN: the top mantissa bit set (IEEE), or the
    /// only NaN pattern S.1111.111 (FP8 E4M3).
    @inline(__always) var quietNaNBits: UInt64 {
        hasInfinity ? infinityBits | (UInt64(1) << (fractionBits - 1)) : infinityBits | fractionMask
    }
    var signMask: UInt64 { UInt64(1) << (width - 1) }

    /// Whether the magnitude bits `m` (sign cleared) encode a NaN.
    @inline(__always) func isNaN(magnitude m: UInt64) -> Bool {
        hasInfinity ? m > infinityBits : m == (infinityBits | fractionMask)
    }

    /// Whether the magnitude bits `m` (sign cleared) encode an infinity.
    @inline(__always) func isInfinite(magnitude m: UInt64) -> Bool {
        hasInfinity && m == infinityBits
    }

    /// Largest finite value: (2 − 2^(1−p))·2^emax, or 1.75·2^8 = 448 for FP8 E4M3.
    public var largestFinite: Double { value(ofBits: largestFiniteBits) }
    /// Smallest positive normal value, 2^emin.
    public var smallestNormal: Double { value(ofBits: UInt64(1) << fractionBits) }
    /// Smallest positive subnormal value, 2^(emin − m).
    public var smallestSubnormal: Double { value(ofBits: 1) }
    /// Machine epsilon: the gap between 1 and the next larger value, 2^(1−p).
    public var epsilon: Double { Double(sign: .plus, exponent: -fractionBits, significand: 1) }
    /// The midpoint between the largest finite value and the next value the exponent range
    /// would hold, largestFinite + ulp/2: 65520 for FP16, 464 for FP8 E4M3. In
    /// round-to-nearest every magnitude above it overflows; at it, see ``thresholdOverflows``.
    public var overflowThreshold: Double {
        largestFinite + Double(sign: .plus, exponent: emax - fractionBits - 1, significand: 1)
    }
    /// Whether a magnitude exactly at ``overflowThreshold`` overflows in round-to-nearest-even:
    /// true for the IEEE formats (the largest finite has an odd mantissa, so the tie goes up),
    /// false for FP8 E4M3 (448 = 1.110·2^8 is even, so 464 rounds down to it).
    public var thresholdOverflows: Bool { largestFiniteBits & 1 == 1 }
    /// Encodings that hold finite values, both zeros included (63,488 for FP16).
    public var finitePatterns: Int { 2 * (Int(largestFiniteBits) + 1) }
    /// Encodings that hold NaN, both signs (2 for FP8 E4M3, 2046 for FP16).
    public var nanPatterns: Int { hasInfinity ? 2 * Int(fractionMask) : 2 }

    /// The exact value of an encoding (the low `width` bits of `bits`).
    public func value(ofBits bits: UInt64) -> Double {
        let sign: FloatingPointSign = (bits & signMask) != 0 ? .minus : .plus
        let magnitudeBits = bits & (signMask - 1)
        if isNaN(magnitude: magnitudeBits) { return sign == .minus ? -Double.nan : .nan }
        if isInfinite(magnitude: magnitudeBits) { return sign == .minus ? -.infinity : .infinity }
        let field = Int(magnitudeBits >> fractionBits)
        let mantissa = magnitudeBits & fractionMask
        // A subnormal is mantissa·2^qmin; a normal (2^m + mantissa)·2^(field − bias − m).
        let (significand, exponent) = field == 0
            ? (mantissa, qmin)
            : (mantissa | (UInt64(1) << fractionBits), field - bias - fractionBits)
        let magnitude = Double(sign: .plus, exponent: exponent, significand: Double(significand))
        return sign == .minus ? -magnitude : magnitude
    }
}

/// How a rounding left the finite range, if it did (IEEE 754's overflow: the result rounded
/// as if the exponent range were unbounded exceeds the largest finite value).
public enum RoundingOverflow: String, Sendable, CaseIterable {
    /// The result is in range, or the input was ±∞ or NaN (nothing overflowed).
    case none
    /// The input's exponent ⌊log2|x|⌋ is at most emax, but its rounded value is past the
    /// largest finite: a carry out of the mantissa (65520 ≤ |x| < 65536 in FP16), or in FP8
    /// E4M3 a value that rounds to the pattern reserved for NaN (|x| > 464).
    case pastLargest = "past-largest"
    /// The input's exponent is already above emax (1e6 or the largest Double in FP16): no
    /// rounding step is involved, the value is out of range from the start.
    case exponentAboveEmax = "exponent-above-emax"
}

/// The four IEEE 754 rounding directions.
public enum RoundingMode: String, Sendable, CaseIterable {
    /// Round to nearest, ties to the even neighbour (the default everywhere).
    case nearestEven = "nearest-even"
    /// Truncate: round toward zero.
    case towardZero = "toward-zero"
    /// Round toward +∞.
    case up
    /// Round toward −∞.
    case down
}

/// The result of rounding one value, with the bits the algorithm looked at.
public struct RoundedValue: Sendable, Equatable {
    public let format: FloatFormat
    /// The encoding in the low `format.width` bits.
    public let bits: UInt64
    /// The first discarded bit.
    public let guardBit: UInt64
    /// 1 when any bit after the guard bit was non-zero.
    public let stickyBit: UInt64
    /// Whether, and how, the rounding left the finite range (whatever the mode then did).
    public var overflow: RoundingOverflow = .none

    public var signBit: Int { Int(bits >> (format.width - 1) & 1) }
    public var exponentField: Int { Int((bits >> format.fractionBits) & format.exponentAllOnes) }
    public var mantissaField: Int { Int(bits & format.fractionMask) }
    public var value: Double { format.value(ofBits: bits) }
    private var magnitudeBits: UInt64 { bits & (format.signMask - 1) }
    public var isNaN: Bool { format.isNaN(magnitude: magnitudeBits) }
    public var isInfinite: Bool { format.isInfinite(magnitude: magnitudeBits) }

    /// zero, subnormal, normal, infinity or nan.
    public var classification: String {
        if isNaN { return "nan" }
        if isInfinite { return "infinity" }
        if exponentField == 0 { return mantissaField == 0 ? "zero" : "subnormal" }
        return "normal"
    }

    /// Unbiased exponent: emin for zero and subnormals, emax + 1 for infinity and NaN.
    public var exponent: Int {
        if isNaN || isInfinite { return format.emax + 1 }
        return exponentField == 0 ? format.emin : exponentField - format.bias
    }

    /// The spacing of the result's binade, 2^(max(e, emin) − p + 1); NaN for infinity and NaN,
    /// which have no binade (as Swift's `Double.infinity.ulp`).
    public var ulp: Double {
        if isNaN || isInfinite { return .nan }
        return Double(sign: .plus, exponent: exponent - format.fractionBits, significand: 1)
    }

    /// `s eeeee mmmmmmmmmm`: the three fields in binary, separated by spaces.
    public var bitString: String {
        func binary(_ v: Int, _ width: Int) -> String {
            String((0..<width).reversed().map { (v >> $0) & 1 == 1 ? "1" : "0" })
        }
        return "\(signBit) \(binary(exponentField, format.exponentBits)) \(binary(mantissaField, format.fractionBits))"
    }

    /// `0x3c00`: lower case, zero-padded to the format's width.
    public var hexString: String {
        let digits = String(bits, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, format.width / 4 - digits.count)) + digits
    }
}

extension FloatFormat {
    /// Rounds `x` once to this format, by integer operations on the Double's bits.
    ///
    /// A NaN becomes the canonical quiet NaN with the input's sign (the one NaN pattern of
    /// that sign in FP8 E4M3). ±0 keeps its sign. A finite value too large for the format
    /// overflows (``RoundedValue/overflow`` says how) to ∞ or to the largest finite value,
    /// whichever the rounding direction points to: nearest-even sends it to ∞, toward-zero to
    /// the largest finite, up and down each one way by sign. FP8 E4M3 has no ∞, so where IEEE
    /// 754 would give ±∞ it gives NaN of that sign, and ±∞ itself becomes NaN (ml_dtypes'
    /// `float8_e4m3fn` cast does both in round-to-nearest: 465 and ∞ become NaN, 464 is 448).
    ///
    /// With `saturate` (the OCP FP8 specification's saturating conversion, PTX's `.satfinite`)
    /// every overflow and every ±∞ becomes ± the largest finite value, in every mode; NaN
    /// stays NaN. `overflow` still reports the overflow.
    @inline(__always)
    public func round(_ x: Double, mode: RoundingMode = .nearestEven, saturate: Bool = false) -> RoundedValue {
        let b = x.bitPattern
        let negative = b >> 63 != 0
        let sign = negative ? signMask : 0
        let doubleField = Int((b >> 52) & 0x7ff)
        let doubleFraction = b & ((UInt64(1) << 52) - 1)

        if doubleField == 0x7ff {
            let magnitude: UInt64
            if doubleFraction != 0 {
                magnitude = quietNaNBits
            } else {
                magnitude = saturate ? largestFiniteBits : (hasInfinity ? infinityBits : quietNaNBits)
            }
            return RoundedValue(format: self, bits: sign | magnitude, guardBit: 0, stickyBit: 0)
        }
        // |x| = significand·2^q exactly; a Double subnormal has no hidden bit and q = −1074.
        let significand = doubleField == 0 ? doubleFraction : doubleFraction | (UInt64(1) << 52)
        if significand == 0 {
            return RoundedValue(format: self, bits: sign, guardBit: 0, stickyBit: 0)
        }
        let q = (doubleField == 0 ? 1 : doubleField) - 1075
        // e = ⌊log2|x|⌋: the position of the leading 1.
        let e = q + 63 - significand.leadingZeroBitCount
        // The last kept bit has weight 2^qt: p bits below the leading 1, but never below the
        // subnormal quantum 2^qmin (gradual underflow keeps fewer bits instead).
        let qt = Swift.max(e - fractionBits, qmin)
        let shift = qt - q

        var kept: UInt64, guardBit: UInt64, sticky: UInt64
        if shift <= 0 {
            // Only reachable by a format at least as wide as Double: nothing is dropped.
            kept = significand << UInt64(-shift)
            guardBit = 0
            sticky = 0
        } else if shift > 53 {
            // The whole significand (< 2^53) lies below the guard position.
            kept = 0
            guardBit = 0
            sticky = 1
        } else {
            kept = significand >> UInt64(shift)
            guardBit = (significand >> UInt64(shift - 1)) & 1
            sticky = significand & ((UInt64(1) << UInt64(shift - 1)) - 1) != 0 ? 1 : 0
        }

        let inexact = (guardBit | sticky) != 0
        let roundUp: Bool
        switch mode {
        case .nearestEven: roundUp = guardBit != 0 && (sticky != 0 || kept & 1 != 0)
        case .towardZero: roundUp = false
        case .up: roundUp = inexact && !negative
        case .down: roundUp = inexact && negative
        }

        // Exponent field and kept bits in one integer: for a normal result the kept bits hold
        // the hidden 1, which adds one to the field (hence qt − qmin, the field minus one). A
        // carry out of the mantissa, a subnormal rounding up to 2^emin and rounding past the
        // largest finite value all land on the right encoding by plain integer addition. An
        // exponent above emax gives a field past the largest finite one directly: qt − qmin
        // grows with e, and stays far below 2^64 (e ≤ 1023).
        var magnitude = (UInt64(qt - qmin) << UInt64(fractionBits)) + kept + (roundUp ? 1 : 0)
        var overflow = RoundingOverflow.none
        if magnitude > largestFiniteBits {
            overflow = e > emax ? .exponentAboveEmax : .pastLargest
            let towardInfinity: Bool
            switch mode {
            case .nearestEven: towardInfinity = true
            case .towardZero: towardInfinity = false
            case .up: towardInfinity = !negative
            case .down: towardInfinity = negative
            }
            magnitude = towardInfinity && !saturate ? overflowBits : largestFiniteBits
        }
        return RoundedValue(format: self, bits: sign | magnitude, guardBit: guardBit, stickyBit: sticky,
                            overflow: overflow)
    }

    /// `a + b` rounded once to this format in round-to-nearest-even: the exact sum, not the
    /// Double sum, whatever the magnitudes of `a` and `b`.
    ///
    /// The Double sum `hi` and its exact error `lo` (Knuth's TwoSum) carry the exact sum. The
    /// format keeps at most 24 bits, so `hi` rounds the same way as the exact sum unless `hi`
    /// is exactly halfway between two values of the format while `lo` ≠ 0; then the exact sum
    /// lies on `lo`'s side of the tie, and moving `hi` one Double ulp that way (far less than
    /// any gap of the format) decides it.
    func roundSum(_ a: Double, _ b: Double) -> RoundedValue {
        let (hi, lo) = twoSum(a, b)
        let r = round(hi)
        guard lo != 0, hi.isFinite else { return r }
        let tie = r.guardBit == 1 && r.stickyBit == 0
        return tie ? round(lo > 0 ? hi.nextUp : hi.nextDown) : r
    }
}

/// Knuth's TwoSum: `hi` = fl(a + b) and `lo` = (a + b) − hi exactly, for any finite a, b
/// whose sum does not overflow (Knuth, TAOCP vol. 2, §4.2.2; no ordering of |a|, |b| needed).
@inline(__always)
func twoSum(_ a: Double, _ b: Double) -> (hi: Double, lo: Double) {
    let hi = a + b
    let bVirtual = hi - a
    let aVirtual = hi - bVirtual
    return (hi, (a - aVirtual) + (b - bVirtual))
}

/// `fp.round`: one value rounded to FP16, BF16, FP32 or FP8 with every field and bit shown.
public struct FPRoundModule: ComputeModule {
    public init() {}
    public let name = "fp.round"
    public let summary = "Round a number to FP16, BF16, FP32 or FP8 bit by bit: fields, guard and sticky bits, error."
    public let parameters: [ParameterSpec] = [
        .number("value", 0.1, allowsNonFinite: true, doc: "the number to round (read as a Double; nan and ±inf allowed)"),
        .choice("format", FloatFormat.self, default: .fp16, doc: "target format"),
        .choice("mode", RoundingMode.self, default: .nearestEven, doc: "rounding direction"),
        .bool("saturate", false,
              doc: "clamp every overflow and ±inf to ± the largest finite value (OCP FP8's saturating cast)"),
    ]
    public let outputs: [OutputSpec] = [
        .init("bits", .text, hint: .bits, doc: "sign, exponent and mantissa fields in binary, separated by spaces"),
        .init("hex", .text, doc: "the encoding in hexadecimal, zero-padded to the format's width"),
        .init("sign", .integer, doc: "sign bit"),
        .init("exponent_field", .integer, doc: "biased exponent field"),
        .init("exponent", .integer, doc: "unbiased exponent (emin for zero and subnormals, emax + 1 for inf and NaN)"),
        .init("mantissa_field", .integer, doc: "stored mantissa bits (without the hidden bit)"),
        .init("class", .text, doc: "zero, subnormal, normal, infinity or nan"),
        .init("rounded", .number, doc: "the exact value of the result"),
        .init("error", .number, doc: "rounded − value (0 when exact, infinities included)"),
        .init("relative_error", .number, doc: "error / value (0 when value is 0)"),
        .init("ulp", .number, doc: "spacing of the result's binade, 2^(max(e, emin) − p + 1); NaN for inf and NaN"),
        .init("guard", .integer, doc: "the first discarded bit"),
        .init("sticky", .integer, doc: "OR of the discarded bits after the guard bit"),
        .init("exact", .bool, doc: "whether the result equals the input (a NaN counts as kept)"),
        .init("value", .number, doc: "the input, as a Double"),
        .init("input_exponent", .integer,
              doc: "⌊log2|value|⌋, the exponent e of step 1 before any rounding; 0 for ±0, ±inf and NaN"),
        .init("overflow", .text,
              doc: "none, past-largest (e ≤ emax but rounds past the largest finite) or exponent-above-emax (e > emax from the start)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let x = try inputs.number("value")
        let format = try inputs.choice("format", as: FloatFormat.self)
        let mode = try inputs.choice("mode", as: RoundingMode.self)
        let r = format.round(x, mode: mode, saturate: try inputs.bool("saturate"))
        let rounded = r.value
        // inf − inf is NaN; an infinity kept as itself was rounded exactly.
        let error = rounded == x ? 0 : rounded - x
        let relative = x == 0 ? 0 : error / x
        return [
            "bits": .text(r.bitString),
            "hex": .text(r.hexString),
            "sign": .integer(r.signBit),
            "exponent_field": .integer(r.exponentField),
            "exponent": .integer(r.exponent),
            "mantissa_field": .integer(r.mantissaField),
            "class": .text(r.classification),
            "rounded": .number(rounded),
            "error": .number(x.isNaN ? .nan : error),
            "relative_error": .number(x.isNaN ? .nan : relative),
            "ulp": .number(r.ulp),
            "guard": .integer(Int(r.guardBit)),
            "sticky": .integer(Int(r.stickyBit)),
            "exact": .bool(rounded == x || (x.isNaN && rounded.isNaN)),
            "value": .number(x),
            // Double.exponent is ⌊log2|x|⌋ for every finite non-zero x, subnormals included.
            "input_exponent": .integer(x.isFinite && x != 0 ? Int(x.exponent) : 0),
            "overflow": .text(r.overflow.rawValue),
        ]
    }
}

/// `fp.format`: the constants of a format, each computed from its bit layout.
public struct FPFormatModule: ComputeModule {
    public init() {}
    public let name = "fp.format"
    public let summary = "The layout and limits of FP16, BF16, FP32 or FP8: bias, range, precision, epsilon."
    public let parameters: [ParameterSpec] = [
        .choice("format", FloatFormat.self, default: .fp16, doc: "the format"),
    ]
    public let outputs: [OutputSpec] = [
        .init("width", .integer, doc: "total bits"),
        .init("exponent_bits", .integer, doc: "exponent field width w"),
        .init("mantissa_bits", .integer, doc: "stored mantissa bits m"),
        .init("precision", .integer, doc: "p = m + 1 significant bits with the hidden bit"),
        .init("bias", .integer, doc: "2^(w−1) − 1"),
        .init("emin", .integer, doc: "1 − bias, exponent of the smallest normal"),
        .init("emax", .integer, doc: "exponent of the largest finite: the bias (bias + 1 for fp8-e4m3)"),
        .init("largest_finite", .number, doc: "(2 − 2^(1−p))·2^emax; 1.75·2^8 = 448 for fp8-e4m3, whose top pattern is NaN"),
        .init("smallest_normal", .number, doc: "2^emin"),
        .init("smallest_subnormal", .number, doc: "2^(emin − m)"),
        .init("epsilon", .number, doc: "machine epsilon 2^(1−p): gap between 1 and the next value"),
        .init("unit_roundoff", .number, doc: "ε/2: the largest relative error of round-to-nearest for normal numbers"),
        .init("decimal_digits", .number, doc: "p·log10(2): about how many decimal digits the format carries"),
        .init("has_infinity", .bool, doc: "whether the format has ±inf (false for fp8-e4m3: its overflow is NaN)"),
        .init("nan_patterns", .integer, doc: "encodings that are NaN, both signs"),
        .init("finite_patterns", .integer, doc: "encodings that are finite, both zeros included"),
        .init("overflow_threshold", .number,
              doc: "largest_finite + ulp/2: in round-to-nearest every larger magnitude overflows (65520 for fp16)"),
        .init("threshold_overflows", .bool,
              doc: "whether the threshold itself overflows (a tie: yes for IEEE formats, no for fp8-e4m3, whose 448 is even)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let f = try inputs.choice("format", as: FloatFormat.self)
        return [
            "width": .integer(f.width),
            "exponent_bits": .integer(f.exponentBits),
            "mantissa_bits": .integer(f.fractionBits),
            "precision": .integer(f.precision),
            "bias": .integer(f.bias),
            "emin": .integer(f.emin),
            "emax": .integer(f.emax),
            "largest_finite": .number(f.largestFinite),
            "smallest_normal": .number(f.smallestNormal),
            "smallest_subnormal": .number(f.smallestSubnormal),
            "epsilon": .number(f.epsilon),
            "unit_roundoff": .number(f.epsilon / 2),
            "decimal_digits": .number(Double(f.precision) * log10(2.0)),
            "has_infinity": .bool(f.hasInfinity),
            "nan_patterns": .integer(f.nanPatterns),
            "finite_patterns": .integer(f.finitePatterns),
            "overflow_threshold": .number(f.overflowThreshold),
            "threshold_overflows": .bool(f.thresholdOverflows),
        ]
    }
}
