// The lesson's rounding (`FloatFormat.round(_:mode:)` in Sources/lessons/FloatingPointRounding.swift) written
// for SIMD, so that `fp.sweep` can check it on all 2^32 float32 inputs in about a second. It is
// the same algorithm restricted to what the sweep feeds it: float32 inputs (24-bit significands
// instead of 53), round-to-nearest-even, and the 16-bit formats FP16 and BF16. Each step below
// quotes the line of `round` it stands for. Every `if` of `round` becomes arithmetic on masks
// (all ones or all zeros in each lane), so eight inputs go through the same instructions and no
// lane branches.
//
// Everything here is `@inlinable`, and this module depends on nothing, so that a second module
// compiled for a wider vector unit (FloatLanesAVX2) can inline the same source into its own
// copy of the sweep's loops; `LaneKernel` picks one at run time.

/// Eight 32-bit lanes: float32 bit patterns going in, 16-bit encodings (zero-extended) coming
/// out. Eight, not sixteen: the baseline x86-64 vector unit (SSE2) has 16 registers of four
/// lanes, and with sixteen lanes (four registers a value) the sweep spilled more of its
/// intermediate values to memory and ran 15% slower. The lanes are signed because SSE2
/// compares only signed integers; no value compared here comes near the sign bit.
public typealias Lanes = SIMD8<Int32>
/// The same lanes read as unsigned, where a right shift must bring in zeros.
public typealias UnsignedLanes = SIMD8<UInt32>

extension Lanes {
    /// 0, 1, 2, …: added to a first pattern, the patterns of consecutive lanes.
    @inlinable
    public static var laneNumbers: Lanes {
        var lanes = Lanes()
        for i in lanes.indices { lanes[i] = Int32(i) }
        return lanes
    }
}

// MARK: - Masks

// A comparison with `.<` yields a `SIMDMask`, which on baseline x86-64 compiles to a round trip
// through general-purpose registers; the sign of a difference is one subtraction and one shift.

/// All ones in the lanes where a < b, zero elsewhere, for operands less than 2^31 apart (true of
/// every use here), so that the difference cannot wrap.
@inlinable @inline(__always)
public func lanesBelow(_ a: Lanes, _ b: Lanes) -> Lanes { (a &- b) &>> 31 }

/// All ones in the lanes where x == 0, for x ≥ 0 (x − 1 is negative only at zero).
@inlinable @inline(__always)
public func lanesZero(_ x: Lanes) -> Lanes { (x &- 1) &>> 31 }

/// `mask ? a : b` in every lane, for a mask of all ones or all zeros per lane.
@inlinable @inline(__always)
public func choose(_ mask: Lanes, _ a: Lanes, _ b: Lanes) -> Lanes { (a & mask) | (b & ~mask) }

@inlinable @inline(__always)
public func lanesMax(_ a: Lanes, _ b: Lanes) -> Lanes { choose(lanesBelow(a, b), b, a) }

@inlinable @inline(__always)
public func lanesMin(_ a: Lanes, _ b: Lanes) -> Lanes { choose(lanesBelow(a, b), a, b) }

// MARK: - The rounding

/// `FloatFormat.round(x, mode: .nearestEven)` for float32 inputs x and a 16-bit format, on
/// eight bit patterns at once.
///
/// It runs in two stages, cut where `round` stops looking at the exponent: ``binade(of:)``
/// works out what the sign and exponent field decide (the result's sign, the hidden bit, where
/// the last kept bit falls, whether the input is ∞ or NaN) and ``round(_:in:)`` rounds the
/// fraction there. ``round(_:)`` runs both on each lane; the sweep, whose blocks of patterns
/// each lie in one binade, runs the first stage once per block.
public struct RoundingLanes: Sendable {
    /// m, the stored mantissa bits.
    public let fractionBits: Int32
    /// The exponent of a subnormal's last mantissa bit: the smallest subnormal is 2^qmin.
    public let qmin: Int32
    public let infinityBits: Int32
    public let quietNaNBits: Int32
    /// Where the float32 sign (bit 31) lands: bit width − 1.
    public let signShift: Int32
    public let signMask: Int32

    /// The lanes of a 16-bit format with emin ≥ −126 (FP16, BF16) from its constants.
    public init(fractionBits: Int, qmin: Int, infinityBits: Int, quietNaNBits: Int, signMask: Int) {
        self.fractionBits = Int32(fractionBits)
        self.qmin = Int32(qmin)
        self.infinityBits = Int32(infinityBits)
        self.quietNaNBits = Int32(quietNaNBits)
        signShift = 16
        self.signMask = Int32(signMask)
    }

    /// What each lane's sign and exponent field decide, before its fraction is looked at.
    public struct Binade: Sendable {
        /// The result's sign bit, in place.
        public var sign: Lanes
        /// 2^23 for a normal float32, 0 for zero and subnormals.
        public var hidden: Lanes
        /// The weight 2^qt of the last kept bit.
        public var qt: Lanes
        /// Bits of the 24-bit significand that fall below the last kept one.
        public var shift: Lanes
        /// All ones for ∞ and NaN (the exponent field all ones).
        public var special: Lanes

        @inlinable
        public init(sign: Lanes, hidden: Lanes, qt: Lanes, shift: Lanes, special: Lanes) {
            (self.sign, self.hidden, self.qt, self.shift, self.special) = (sign, hidden, qt, shift, special)
        }

        /// Lane 0's binade in every lane, for lanes that all hold the same one already: built from
        /// one value, it lets the compiler shift all lanes by one count (one instruction) instead
        /// of lane by lane.
        @inlinable
        public var uniform: Binade {
            Binade(sign: Lanes(repeating: sign[0]), hidden: Lanes(repeating: hidden[0]),
                   qt: Lanes(repeating: qt[0]), shift: Lanes(repeating: shift[0]),
                   special: Lanes(repeating: special[0]))
        }
    }

    /// Stage one: the steps of `round` that read only the sign and the exponent field.
    @inlinable @inline(__always)
    public func binade(of b: Lanes) -> Binade {
        // let negative = b >> 63 != 0; let sign = negative ? signMask : 0
        //   The float32 sign is bit 31; the format's is bit 15.
        let sign = (b &>> signShift) & signMask
        // let doubleField = Int((b >> 52) & 0x7ff)
        //   A float32's field is 8 bits from bit 23.
        let field = (b &>> 23) & 0xff
        // let significand = doubleField == 0 ? doubleFraction : doubleFraction | (1 << 52)
        //   Here just the hidden bit, 2^23; the fraction is added in stage two.
        let hidden = ~lanesZero(field) & (1 << 23)
        // let q = (doubleField == 0 ? 1 : doubleField) - 1075
        //   |x| = significand·2^q; 1075 = 1023 + 52 becomes 150 = 127 + 23.
        let q = lanesMax(field, Lanes(repeating: 1)) &- 150
        // let e = q + 63 - significand.leadingZeroBitCount
        //   For a normal float32 that is field − 127. A subnormal one (field 0) has e ≤ −127,
        //   and e is used only in qt = max(e − m, qmin) below, where qmin = emin − m ≥ −126 − m
        //   for FP16 and BF16: any e ≤ −127 gives qt = qmin. So field − 127 serves for every
        //   lane, and no leading-zero count is needed (SSE2 has none).
        let e = field &- 127
        // let qt = Swift.max(e - fractionBits, qmin)
        let qt = lanesMax(e &- fractionBits, Lanes(repeating: qmin))
        // let shift = qt - q
        //   `if shift <= 0` cannot happen: a float32 has 24 significant bits, FP16 keeps at most
        //   11 and BF16 8, so shift ≥ 13. A float32 significand is below 2^24, so every shift
        //   ≥ 25 (through `round`'s general branch or its `shift > 53` one) gives kept 0, guard
        //   0 and sticky 1; capped at 25, the formulas of stage two give the same (and 0 for a
        //   zero, which `round` returns early), with every shift count below 32.
        let shift = lanesMin(qt &- q, Lanes(repeating: 25))
        // if doubleField == 0x7ff: ∞ or NaN, settled at the end of stage two.
        let special = lanesZero(field ^ 0xff)
        return Binade(sign: sign, hidden: hidden, qt: qt, shift: shift, special: special)
    }

    /// Stage two: the rest of `round`, given each lane's binade. Returns the encodings.
    @inlinable @inline(__always)
    public func round(_ b: Lanes, in binade: Binade) -> Lanes {
        // let doubleFraction = b & ((1 << 52) - 1); significand = fraction | hidden bit
        let fraction = b & 0x7f_ffff
        let significand = fraction | binade.hidden
        // if significand == 0 { return sign }
        //   No branch needed: a zero's qt is qmin and its kept, guard and sticky bits are 0, so
        //   the magnitude below comes out 0.
        //
        // kept = significand >> shift
        // guardBit = (significand >> (shift - 1)) & 1
        // sticky = significand & ((1 << (shift - 1)) - 1) != 0 ? 1 : 0
        let keptAndGuard = significand &>> (binade.shift &- 1)
        let kept = keptAndGuard &>> 1
        let guardBit = keptAndGuard & 1
        let belowGuard = (Lanes(repeating: 1) &<< (binade.shift &- 1)) &- 1
        let sticky = ~lanesZero(significand & belowGuard) & 1
        // case .nearestEven: roundUp = guardBit != 0 && (sticky != 0 || kept & 1 != 0)
        //   guardBit is 0 or 1, so the AND keeps bit 0 only: roundUp is 0 or 1.
        let roundUp = guardBit & (sticky | kept)
        // var magnitude = (UInt64(qt - qmin) << fractionBits) + kept + (roundUp ? 1 : 0)
        var magnitude = ((binade.qt &- qmin) &<< fractionBits) &+ kept &+ roundUp
        // if magnitude >= infinityBits { magnitude = infinityBits }  (nearest-even: toward ∞)
        magnitude = lanesMin(magnitude, Lanes(repeating: infinityBits))
        // if doubleField == 0x7ff: doubleFraction != 0 ? quietNaNBits : infinityBits
        let nonzeroFraction = ~lanesZero(fraction)
        let specialBits = Lanes(repeating: infinityBits) | (nonzeroFraction & (quietNaNBits ^ infinityBits))
        magnitude = choose(binade.special, specialBits, magnitude)
        // return sign | magnitude
        return binade.sign | magnitude
    }

    /// Both stages on each lane: `FloatFormat.round` of eight float32 bit patterns.
    @inlinable @inline(__always)
    public func round(_ patterns: Lanes) -> Lanes {
        round(patterns, in: binade(of: patterns))
    }

    /// All ones in the lanes where the lesson's encodings and a reference's disagree: their bits
    /// differ and they are not both NaN (IEEE 754 leaves NaN payloads open).
    @inlinable @inline(__always)
    public func disagreement(_ mine: Lanes, _ theirs: Lanes) -> Lanes {
        let magnitude = signMask - 1
        let infinity = Lanes(repeating: infinityBits)
        let bothNaN = lanesBelow(infinity, mine & magnitude) & lanesBelow(infinity, theirs & magnitude)
        return ~lanesZero(mine ^ theirs) & ~bothNaN
    }
}

// MARK: - The BF16 reference on lanes

/// ``bf16BitTrick(_:)`` on eight patterns at once: the independent BF16 reference, written
/// like the scalar one (NaN first, then add 0x7fff plus the lowest kept bit and keep the top
/// half), with the NaN test as a mask.
@inlinable @inline(__always)
public func bf16BitTrick(_ patterns: Lanes) -> Lanes {
    let b = UnsignedLanes(truncatingIfNeeded: patterns)
    let top = b &>> 16
    let rounded = (b &+ 0x7fff &+ (top & 1)) &>> 16
    let isNaN = lanesBelow(Lanes(repeating: 0x7f80_0000), patterns & 0x7fff_ffff)
    return choose(isNaN, Lanes(truncatingIfNeeded: top | 0x0040), Lanes(truncatingIfNeeded: rounded))
}
