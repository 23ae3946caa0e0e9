import Foundation
import NotebookCore

// Rounding a Double to a narrower IEEE 754 binary format by integer operations on its bits,
// the way a learner would by hand: split sign, exponent and significand; keep p bits; look at
// the guard bit (the first one dropped) and the sticky bit (the OR of all after it); round;
// let a carry ripple into the exponent; saturate or overflow at the top; fall into
// subnormals at the bottom. No hardware conversion is used, so tests and `fp.sweep` can
// compare this algorithm against the hardware's.

/// A binary floating-point format: 1 sign bit, `exponentBits` biased exponent bits and
/// `fractionBits` stored mantissa bits (the leading 1 of a normal number is implicit).
public enum FloatFormat: String, Sendable, CaseIterable {
    case fp16, bf16, fp32

    /// Width w of the biased exponent field.
    @inline(__always) public var exponentBits: Int {
        switch self {
        case .fp16: 5
        case .bf16, .fp32: 8
        }
    }

    /// Stored mantissa bits m; the precision is p = m + 1 with the hidden bit.
    @inline(__always) public var fractionBits: Int {
        switch self {
        case .fp16: 10
        case .bf16: 7
        case .fp32: 23
        }
    }

    /// Total width in bits.
    public var width: Int { 1 + exponentBits + fractionBits }
    /// Significant bits including the hidden one.
    public var precision: Int { fractionBits + 1 }
    /// 2^(w−1) − 1: 15 for FP16, 127 for BF16 and FP32.
    @inline(__always) public var bias: Int { (1 << (exponentBits - 1)) - 1 }
    /// Largest unbiased exponent of a finite number (= bias).
    public var emax: Int { bias }
    /// Smallest unbiased exponent of a normal number (1 − bias); subnormals share it.
    @inline(__always) public var emin: Int { 1 - bias }
    /// The exponent of the last mantissa bit of a subnormal: the smallest subnormal is 2^qmin.
    @inline(__always) var qmin: Int { emin - fractionBits }
    /// The all-ones exponent field that marks infinity and NaN.
    @inline(__always) var exponentAllOnes: UInt64 { (UInt64(1) << exponentBits) - 1 }
    /// The magnitude bits of +infinity.
    @inline(__always) var infinityBits: UInt64 { exponentAllOnes << fractionBits }
    /// The magnitude bits of the canonical quiet NaN (top mantissa bit set).
    var quietNaNBits: UInt64 { infinityBits | (UInt64(1) << (fractionBits - 1)) }
    var signMask: UInt64 { UInt64(1) << (width - 1) }

    /// Largest finite value, (2 − 2^(1−p))·2^emax.
    public var largestFinite: Double { value(ofBits: infinityBits - 1) }
    /// Smallest positive normal value, 2^emin.
    public var smallestNormal: Double { value(ofBits: UInt64(1) << fractionBits) }
    /// Smallest positive subnormal value, 2^(emin − m).
    public var smallestSubnormal: Double { value(ofBits: 1) }
    /// Machine epsilon: the gap between 1 and the next larger value, 2^(1−p).
    public var epsilon: Double { Double(sign: .plus, exponent: -fractionBits, significand: 1) }

    /// The exact value of an encoding (the low `width` bits of `bits`).
    public func value(ofBits bits: UInt64) -> Double {
        let sign: FloatingPointSign = (bits & signMask) != 0 ? .minus : .plus
        let field = Int((bits >> fractionBits) & exponentAllOnes)
        let mantissa = bits & ((UInt64(1) << fractionBits) - 1)
        if UInt64(field) == exponentAllOnes {
            if mantissa != 0 { return sign == .minus ? -Double.nan : .nan }
            return sign == .minus ? -.infinity : .infinity
        }
        // A subnormal is mantissa·2^qmin; a normal (2^m + mantissa)·2^(field − bias − m).
        let (significand, exponent) = field == 0
            ? (mantissa, qmin)
            : (mantissa | (UInt64(1) << fractionBits), field - bias - fractionBits)
        let magnitude = Double(sign: .plus, exponent: exponent, significand: Double(significand))
        return sign == .minus ? -magnitude : magnitude
    }
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

    public var signBit: Int { Int(bits >> (format.width - 1) & 1) }
    public var exponentField: Int { Int((bits >> format.fractionBits) & format.exponentAllOnes) }
    public var mantissaField: Int { Int(bits & ((UInt64(1) << format.fractionBits) - 1)) }
    public var value: Double { format.value(ofBits: bits) }
    public var isNaN: Bool { UInt64(exponentField) == format.exponentAllOnes && mantissaField != 0 }
    public var isInfinite: Bool { UInt64(exponentField) == format.exponentAllOnes && mantissaField == 0 }

    /// zero, subnormal, normal, infinity or nan.
    public var classification: String {
        if UInt64(exponentField) == format.exponentAllOnes { return mantissaField == 0 ? "infinity" : "nan" }
        if exponentField == 0 { return mantissaField == 0 ? "zero" : "subnormal" }
        return "normal"
    }

    /// Unbiased exponent: emin for zero and subnormals, emax + 1 for infinity and NaN.
    public var exponent: Int { exponentField == 0 ? format.emin : exponentField - format.bias }

    /// The spacing of the result's binade, 2^(max(e, emin) − p + 1); NaN for infinity and NaN,
    /// which have no binade (as Swift's `Double.infinity.ulp`).
    public var ulp: Double {
        if UInt64(exponentField) == format.exponentAllOnes { return .nan }
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
    /// A NaN becomes the canonical quiet NaN with the input's sign; ±0 and ±∞ keep their
    /// sign; a finite value too large for the format becomes ∞ or the largest finite value,
    /// whichever the rounding direction points to.
    @inline(__always)
    public func round(_ x: Double, mode: RoundingMode = .nearestEven) -> RoundedValue {
        let b = x.bitPattern
        let negative = b >> 63 != 0
        let sign = negative ? signMask : 0
        let doubleField = Int((b >> 52) & 0x7ff)
        let doubleFraction = b & ((UInt64(1) << 52) - 1)

        if doubleField == 0x7ff {
            let magnitude = doubleFraction != 0 ? quietNaNBits : infinityBits
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
        // largest finite value all land on the right encoding by plain integer addition.
        var magnitude = (UInt64(qt - qmin) << UInt64(fractionBits)) + kept + (roundUp ? 1 : 0)
        if magnitude >= infinityBits {
            let towardInfinity: Bool
            switch mode {
            case .nearestEven: towardInfinity = true
            case .towardZero: towardInfinity = false
            case .up: towardInfinity = !negative
            case .down: towardInfinity = negative
            }
            magnitude = towardInfinity ? infinityBits : infinityBits - 1
        }
        return RoundedValue(format: self, bits: sign | magnitude, guardBit: guardBit, stickyBit: sticky)
    }
}

/// `fp.round`: one value rounded to FP16, BF16 or FP32 with every field and bit shown.
public struct FPRoundModule: ComputeModule {
    public init() {}
    public let name = "fp.round"
    public let summary = "Round a number to FP16, BF16 or FP32 bit by bit: fields, guard and sticky bits, error."
    public let parameters: [ParameterSpec] = [
        .number("value", 0.1, allowsNonFinite: true, doc: "the number to round (read as a Double; nan and ±inf allowed)"),
        .choice("format", FloatFormat.self, default: .fp16, doc: "target format"),
        .choice("mode", RoundingMode.self, default: .nearestEven, doc: "rounding direction"),
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
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let x = try inputs.number("value")
        let format = try inputs.choice("format", as: FloatFormat.self)
        let mode = try inputs.choice("mode", as: RoundingMode.self)
        let r = format.round(x, mode: mode)
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
        ]
    }
}

/// `fp.format`: the constants of a format, each computed from its bit layout.
public struct FPFormatModule: ComputeModule {
    public init() {}
    public let name = "fp.format"
    public let summary = "The layout and limits of FP16, BF16 or FP32: bias, range, precision, epsilon."
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
        .init("emax", .integer, doc: "bias, exponent of the largest finite"),
        .init("largest_finite", .number, doc: "(2 − 2^(1−p))·2^emax"),
        .init("smallest_normal", .number, doc: "2^emin"),
        .init("smallest_subnormal", .number, doc: "2^(emin − m)"),
        .init("epsilon", .number, doc: "machine epsilon 2^(1−p): gap between 1 and the next value"),
        .init("unit_roundoff", .number, doc: "ε/2: the largest relative error of round-to-nearest for normal numbers"),
        .init("decimal_digits", .number, doc: "p·log10(2): about how many decimal digits the format carries"),
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
        ]
    }
}
