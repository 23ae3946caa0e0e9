import Foundation
import NotebookCore

// The seeded generator behind every sampling module (REINFORCE episodes, autoregressive samples).
//
// Cells must give the same numbers on every run and every platform, so the generator is fixed
// here rather than taken from the standard library (whose `SystemRandomNumberGenerator` cannot
// be seeded, and whose `random(in:using:)` algorithms are not promised to stay the same):
//
// - SplitMix64 (Steele, Lea & Flood, 2014, "Fast splittable pseudorandom number generators";
//   the constants of Vigna's splitmix64.c) expands the 64-bit seed into 256 bits of state.
//   It never yields the all-zero state xoshiro must avoid, for any seed.
// - xoshiro256** 1.0 (Blackman & Vigna, 2021, "Scrambled linear pseudorandom number
//   generators") produces the stream.
// - A uniform double is the top 53 bits of one output times 2⁻⁵³: every value k·2⁻⁵³ in
//   [0, 1) with equal probability, and never 1.
//
// All of it is integer arithmetic with wrapping, so the stream is bit-for-bit the same
// everywhere. Tests check both generators against the published reference outputs.

/// SplitMix64: a 64-bit-state generator, used here to seed ``Xoshiro256StarStar``.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The state: the seed plus the number of outputs so far times the golden-ratio increment.
    public private(set) var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** 1.0, seeded through ``SplitMix64``: the generator of every seeded module.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    /// The 256-bit state s[0..3]; never all zero.
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// The state is four consecutive SplitMix64 outputs from `seed`, as Vigna recommends.
    public init(seed: UInt64) {
        var mixer = SplitMix64(seed: seed)
        state = (mixer.next(), mixer.next(), mixer.next(), mixer.next())
    }

    /// Starts from an explicit state (for the reference vectors); an all-zero state is replaced
    /// by the seeded one for 0, since xoshiro would output zeros forever.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        self.state = state == (0, 0, 0, 0) ? Xoshiro256StarStar(seed: 0).state : state
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    /// A uniform double in [0, 1): the top 53 bits of the next output, times 2⁻⁵³.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    @inline(__always)
    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}

extension Xoshiro256StarStar {
    /// The generator for a module's `seed` parameter (declared non-negative).
    init(parameterSeed seed: Int) {
        self.init(seed: UInt64(truncatingIfNeeded: seed))
    }

    /// Index i drawn with probability `probabilities[i]` by inverting the cumulative sum with
    /// one uniform u: the first i with u < p₀ + … + pᵢ. Rounding can leave the total just
    /// under 1; a u above it falls to the last index with non-zero probability.
    mutating func categorical(_ probabilities: [Double]) -> Int {
        let u = nextUnit()
        var cumulative = 0.0
        var lastPositive = 0
        for (i, p) in probabilities.enumerated() {
            cumulative += p
            if p > 0 { lastPositive = i }
            if u < cumulative { return i }
        }
        return lastPositive
    }

    /// 1 with probability p, else 0: one uniform u, success when u < p.
    mutating func bernoulli(_ p: Double) -> Double {
        nextUnit() < p ? 1 : 0
    }
}

/// Standard normal draws from a ``Xoshiro256StarStar`` stream by the Box–Muller transform
/// (Box & Muller, 1958): two uniforms u₁, u₂ give r = √(−2 log(1 − u₁)) and the pair
/// r·cos(2πu₂), r·sin(2πu₂); the sine is kept for the next call. 1 − u₁ lies in (0, 1], so the
/// log is finite and |z| ≤ √(2·53·log 2) ≈ 8.6.
///
/// Unlike the integer stream, the values go through log, sqrt, cos and sin, so they are
/// bit-for-bit reproducible on one platform's libm (the Python replay in the fixture scripts
/// uses the same C library) and within an ulp or so elsewhere.
struct GaussianSampler {
    private(set) var generator: Xoshiro256StarStar
    private var spare: Double?

    init(_ generator: Xoshiro256StarStar) {
        self.generator = generator
    }

    mutating func next() -> Double {
        if let z = spare {
            spare = nil
            return z
        }
        let u1 = generator.nextUnit(), u2 = generator.nextUnit()
        let r = (-2 * log(1 - u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        spare = r * sin(angle)
        return r * cos(angle)
    }
}
