// The sweep's inner loops: the lanes' encodings of a block of patterns compared with a
// reference's, and the BF16 reference itself, written once and compiled twice (see LaneKernel).

/// A block of patterns `first ..< first + count` inside one binade (one aligned 2^20 chunk),
/// with a reference's encodings of them.
public struct CheckedBlock {
    public let lanes: RoundingLanes
    public let first: UInt32
    public let count: Int
    public let reference: UnsafePointer<Int32>

    @inlinable
    public init(lanes: RoundingLanes, first: UInt32, count: Int, reference: UnsafePointer<Int32>) {
        (self.lanes, self.first, self.count, self.reference) = (lanes, first, count, reference)
    }

    /// Stage one of the rounding, once for the block: every pattern in it has the sign and
    /// exponent field of `first`. Computed where it is used, so that the compiler sees each
    /// field as one value in all lanes.
    @inlinable @inline(__always)
    var binade: RoundingLanes.Binade {
        lanes.binade(of: Lanes(repeating: Int32(bitPattern: first))).uniform
    }

    /// The reference's encodings of the `group`-th lanes' worth of patterns.
    @inlinable @inline(__always)
    func theirs(_ group: Int) -> Lanes {
        UnsafeRawPointer(reference).loadUnaligned(fromByteOffset: group &* MemoryLayout<Lanes>.stride, as: Lanes.self)
    }

    /// All ones in the lanes of the `group`-th lanes' worth of patterns (from `patterns`) that
    /// disagree; lanes past `count` in a last, partial group may hold anything.
    @inlinable @inline(__always)
    func disagreement(_ group: Int, _ patterns: Lanes, _ binade: RoundingLanes.Binade) -> Lanes {
        lanes.disagreement(lanes.round(patterns, in: binade), theirs(group))
    }

    /// All ones in the lanes of the `group`-th lanes' worth of patterns that lie in the block.
    @inlinable
    func inside(_ group: Int) -> Lanes {
        lanesBelow(Lanes.laneNumbers, Lanes(repeating: Int32(min(count - group * Lanes.scalarCount, Lanes.scalarCount))))
    }

    /// Whether every encoding equals the reference's bit for bit: the XORs of all lanes, OR-ed
    /// together, are zero. That is two instructions a group against some ten for the count
    /// with its NaN rule, and it settles most blocks; the others (NaN blocks, whose payloads
    /// may differ, and blocks with a real mismatch) go to ``mismatches()``.
    @inlinable @inline(__always)
    public func identical() -> Bool {
        let binade = self.binade
        let whole = count / Lanes.scalarCount
        var patterns = Lanes.laneNumbers &+ Int32(bitPattern: first)
        var differences = Lanes()
        for group in 0..<whole {
            differences |= lanes.round(patterns, in: binade) ^ theirs(group)
            patterns &+= Int32(Lanes.scalarCount)
        }
        if whole * Lanes.scalarCount < count {
            differences |= (lanes.round(patterns, in: binade) ^ theirs(whole)) & inside(whole)
        }
        return differences.indices.allSatisfy { differences[$0] == 0 }
    }

    /// How many patterns disagree.
    @inlinable @inline(__always)
    public func mismatches() -> Int {
        let binade = self.binade
        let whole = count / Lanes.scalarCount
        var patterns = Lanes.laneNumbers &+ Int32(bitPattern: first)
        var perLane = Lanes()  // at most 2^12 / 16 per lane
        for group in 0..<whole {
            perLane &-= disagreement(group, patterns, binade)
            patterns &+= Int32(Lanes.scalarCount)
        }
        if whole * Lanes.scalarCount < count {
            perLane &-= disagreement(whole, patterns, binade) & inside(whole)
        }
        return Int(perLane.wrappedSum())
    }

    /// The offset of the first pattern that disagrees; call only when ``mismatches()`` > 0.
    @inlinable @inline(__always)
    public func firstMismatch() -> Int {
        let binade = self.binade
        var patterns = Lanes.laneNumbers &+ Int32(bitPattern: first)
        for group in 0..<((count + Lanes.scalarCount - 1) / Lanes.scalarCount) {
            let disagree = disagreement(group, patterns, binade) & inside(group)
            for lane in disagree.indices where disagree[lane] != 0 {
                return group * Lanes.scalarCount + lane
            }
            patterns &+= Int32(Lanes.scalarCount)
        }
        return count
    }
}

/// Round-to-nearest-even from float32 to bfloat16 by the well-known integer trick, written
/// independently of `FloatFormat.round`: BF16 is the top half of a float32, so add
/// 0x7fff plus the lowest kept bit and truncate. Ties go to even because an odd kept bit
/// makes the addend 0x8000, which carries at exactly half an ulp; carries ripple into the
/// exponent and past the largest finite value into the infinity encoding on their own.
@inlinable @inline(__always)
public func bf16BitTrick(_ pattern: UInt32) -> UInt16 {
    if pattern & 0x7fff_ffff > 0x7f80_0000 {
        return UInt16(pattern >> 16) | 0x0040  // NaN: keep the sign, force the quiet bit
    }
    let lsb = (pattern >> 16) & 1
    return UInt16((pattern &+ 0x7fff &+ lsb) >> 16)
}

/// The BF16 reference on a block: ``bf16BitTrick(_:)`` of the patterns first, first + 1, …,
/// first + count − 1 into out[0 ..< count], eight at a time.
@inlinable @inline(__always)
public func bf16Reference(first: UInt32, count: Int, into out: UnsafeMutablePointer<Int32>) {
    let width = Lanes.scalarCount
    var patterns = Lanes.laneNumbers &+ Int32(bitPattern: first)
    var i = 0
    while i + width <= count {
        UnsafeMutableRawPointer(out + i).storeBytes(of: bf16BitTrick(patterns), as: Lanes.self)
        patterns &+= Int32(width)
        i += width
    }
    while i < count {
        out[i] = Int32(bf16BitTrick(first &+ UInt32(truncatingIfNeeded: i)))
        i += 1
    }
}

/// One compiled copy of the sweep's inner loops. ``baseline`` is compiled for any x86-64
/// (SSE2: a lane vector takes two registers); `avx2`, in FloatLanesAVX2, from the same source for
/// AVX2 (one register), about twice as fast. The sweep picks one by what the CPU reports.
public struct LaneKernel: Sendable {
    /// The vector unit this copy is compiled for, for the `lanes` output.
    public let name: String
    public let identical: @Sendable (CheckedBlock) -> Bool
    public let mismatches: @Sendable (CheckedBlock) -> Int
    public let firstMismatch: @Sendable (CheckedBlock) -> Int
    public let bf16Reference: @Sendable (_ first: UInt32, _ count: Int, _ out: UnsafeMutablePointer<Int32>) -> Void

    public init(name: String, identical: @escaping @Sendable (CheckedBlock) -> Bool,
                mismatches: @escaping @Sendable (CheckedBlock) -> Int,
                firstMismatch: @escaping @Sendable (CheckedBlock) -> Int,
                bf16Reference: @escaping @Sendable (UInt32, Int, UnsafeMutablePointer<Int32>) -> Void) {
        self.name = name
        self.identical = identical
        self.mismatches = mismatches
        self.firstMismatch = firstMismatch
        self.bf16Reference = bf16Reference
    }

    /// The copy compiled for the baseline instruction set.
    public static let baseline = LaneKernel(
        name: "SSE2 (baseline x86-64)",
        identical: { $0.identical() }, mismatches: { $0.mismatches() }, firstMismatch: { $0.firstMismatch() },
        bf16Reference: { FloatLanes.bf16Reference(first: $0, count: $1, into: $2) })
}
