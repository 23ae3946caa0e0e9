import Foundation
import NotebookCore

// The safe (three-pass) softmax and the online (one-pass) softmax of Milakov & Gimelshein (2018).
//
// Input rule shared by both: −∞ is allowed and means "masked" (probability 0); NaN and +∞
// are rejected with the offending index, since softmax of them has no meaningful value;
// a vector that is entirely −∞ is rejected as well (nothing to normalise).

/// Checks the softmax input rule and returns the scores unchanged.
func checkedScores(_ x: [Double], parameter: String) throws(ComputeError) -> [Double] {
    for (i, xi) in x.enumerated() {
        if xi.isNaN { throw .invalid(parameter, "has NaN at index \(i); softmax of NaN is undefined") }
        if xi == .infinity { throw .invalid(parameter, "has +inf at index \(i); use finite scores (−inf masks an entry)") }
    }
    guard x.contains(where: { $0 > -.infinity }) else {
        throw .invalid(parameter, "is entirely −inf; at least one score must be finite")
    }
    return x
}

/// e^(a − b), with e^(−∞ − (−∞)) taken as 0: a masked score contributes nothing.
@inline(__always)
func expDifference(_ a: Double, _ b: Double) -> Double {
    a == -.infinity ? 0 : exp(a - b)
}

/// The largest |a_i − b_i|, NaN when any difference is NaN (`Array.max()` would hide it).
func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    var largest = 0.0
    for (x, y) in zip(a, b) {
        let gap = abs(x - y)
        if gap.isNaN { return .nan }
        largest = Swift.max(largest, gap)
    }
    return largest
}

/// `maxAbsDifference` over the rows of two matrices of the same shape.
func maxAbsDifference(_ a: [[Double]], _ b: [[Double]]) -> Double {
    var largest = 0.0
    for (x, y) in zip(a, b) {
        let gap = maxAbsDifference(x, y)
        if gap.isNaN { return .nan }
        largest = Swift.max(largest, gap)
    }
    return largest
}

/// The numerically safe softmax: subtract the maximum, exponentiate, normalise.
struct SafeSoftmax {
    let max: Double
    let exps: [Double]
    let sum: Double

    init(_ x: [Double]) {
        max = x.max() ?? -.infinity
        let m = max
        exps = x.map { expDifference($0, m) }
        sum = exps.reduce(0, +)
    }

    var probabilities: [Double] { exps.map { $0 / sum } }
    var logSumExp: Double { max + log(sum) }
}

/// `softmax.safe`: the three-pass softmax, every intermediate shown.
public struct SafeSoftmaxModule: ComputeModule {
    public init() {}
    public let name = "softmax.safe"
    public let summary = "Softmax in three passes: max, shifted exponentials and their sum, normalise."
    public let parameters: [ParameterSpec] = [
        .vector("x", [2, 1, 3, 5, 4], allowsNonFinite: true, maxElements: 1_000_000,
                doc: "scores (logits); −inf masks an entry"),
    ]
    public let outputs: [OutputSpec] = [
        .init("x", .vector, doc: "the scores"),
        .init("max", .number, doc: "max of x (pass 1)"),
        .init("shifted", .vector, doc: "x − max: every entry ≤ 0, so exp cannot overflow"),
        .init("exp", .vector, doc: "e^(x − max) (pass 2)"),
        .init("sum", .number, doc: "Σ e^(x − max), between 1 and len(x)"),
        .init("softmax", .vector, hint: .chart, doc: "e^(x − max) / sum (pass 3)"),
        .init("logsumexp", .number, doc: "log Σ eˣ = max + log sum"),
        .init("naive_sum", .number, doc: "Σ eˣ without the shift: overflows to inf once some x > 709.78"),
        .init("naive_softmax", .vector, doc: "eˣ / Σ eˣ without the shift: NaN where the sum overflowed or underflowed"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let x = try checkedScores(inputs.vector("x"), parameter: "x")
        let s = SafeSoftmax(x)
        // Kept deliberately unsafe: the lesson shows what the shift by the max prevents.
        let naiveExp = x.map { exp($0) }
        let naiveSum = naiveExp.reduce(0, +)
        return [
            "x": .vector(x),
            "max": .number(s.max),
            "shifted": .vector(x.map { $0 - s.max }),
            "exp": .vector(s.exps),
            "sum": .number(s.sum),
            "softmax": .vector(s.probabilities),
            "logsumexp": .number(s.logSumExp),
            "naive_sum": .number(naiveSum),
            "naive_softmax": .vector(naiveExp.map { $0 / naiveSum }),
        ]
    }
}

/// The running state of the online softmax after some blocks.
struct OnlineSoftmaxState {
    /// Running maximum m_j.
    var m = -Double.infinity
    /// Running denominator l_j, relative to m_j.
    var l = 0.0

    /// Folds in one block and returns the rescale factor e^(m_{j−1} − m_j) that l needs.
    ///
    /// - Parameters:
    ///   - rescaling: `false` adds the block's terms to l without applying the factor: the
    ///     classic bug, which leaves l a sum of terms measured against different maxima.
    ///   - guarded: `false` evaluates every e^(a − b) literally. While m is still −∞, a block
    ///     that is entirely −∞ then computes e^(−∞ − (−∞)) = e^NaN, and the NaN poisons l for
    ///     good: the fully-masked-tile bug of real kernels. `true` takes those terms as 0.
    mutating func absorb(_ block: ArraySlice<Double>, rescaling: Bool = true, guarded: Bool = true) -> Double {
        let newMax = Swift.max(m, block.max() ?? -.infinity)
        // Before any finite score, l is 0 and the factor is irrelevant: report 0, as the `rescale` output's doc says.
        let rescale = guarded && m == -.infinity ? 0 : exp(m - newMax)
        var blockSum = 0.0
        for xi in block { blockSum += guarded ? expDifference(xi, newMax) : exp(xi - newMax) }
        l = (rescaling ? l * rescale : l) + blockSum
        m = newMax
        return rescale
    }
}

/// `softmax.online`: one pass over blocks, rescaling the running sum as the maximum moves.
///
/// Besides the recurrence it measures what the recurrence costs in accuracy (`l_ulps_vs_safe`,
/// `rescales`) and shows two ways to break it: `rescale = false` skips the factor on l, and
/// `guard = false` drops the rule that a fully masked block contributes 0 instead of NaN.
public struct OnlineSoftmaxModule: ComputeModule {
    public init() {}
    public let name = "softmax.online"
    public let summary = "Softmax in one pass: running max m and running sum l, rescaled as m grows."
    public let parameters: [ParameterSpec] = [
        .vector("x", [2, 1, 3, 5, 4], allowsNonFinite: true, maxElements: 1_000_000,
                doc: "scores (logits); −inf masks an entry"),
        .integer("block", 1, range: .atLeast(1), doc: "elements read per step"),
        .bool("rescale", true, doc: "false skips l·e^(m_{j−1} − m_j) and just adds each block: the classic bug"),
        .bool("guard", true, doc: "false computes e^(−∞ − (−∞)) literally, so a fully masked first block gives NaN"),
    ]
    public let outputs: [OutputSpec] = [
        .init("m", .vector, doc: "running max after each block (−inf while every score so far is masked)"),
        .init("l", .vector, doc: "running sum Σ e^(x − m_j) after each block"),
        .init("rescale", .vector, doc: "e^(m_{j−1} − m_j), the factor l needs (0 while m was −∞; not applied when rescale = false)"),
        .init("softmax", .vector, hint: .chart, doc: "e^(x − m) / l with the final m and l"),
        .init("logsumexp", .number, doc: "m + log l"),
        .init("max_abs_diff_vs_safe", .number, doc: "largest |online − safe| over the probabilities"),
        .init("blocks", .integer, doc: "number of blocks read"),
        .init("rescales", .integer, doc: "blocks that raised a finite running max, so that l was multiplied by a factor below 1"),
        .init("masked_blocks", .integer, doc: "blocks whose every score is −inf: they add 0 to l (NaN with guard = false while m is −∞)"),
        .init("l_ulps_vs_safe", .number, doc: "|final l − safe sum| in units in the last place of the safe sum (a Double ulp)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let x = try checkedScores(inputs.vector("x"), parameter: "x")
        let block = try inputs.integer("block")
        let rescaling = try inputs.bool("rescale"), guarded = try inputs.bool("guard")
        var state = OnlineSoftmaxState()
        var ms: [Double] = [], ls: [Double] = [], factors: [Double] = []
        var rescales = 0, maskedBlocks = 0
        var start = 0
        while start < x.count {
            let end = start + Swift.min(block, x.count - start)
            let previous = state.m
            factors.append(state.absorb(x[start..<end], rescaling: rescaling, guarded: guarded))
            if previous > -.infinity && state.m > previous { rescales += 1 }
            if x[start..<end].allSatisfy({ $0 == -.infinity }) { maskedBlocks += 1 }
            ms.append(state.m)
            ls.append(state.l)
            start = end
        }
        let softmax = x.map { (guarded ? expDifference($0, state.m) : exp($0 - state.m)) / state.l }
        let safe = SafeSoftmax(x)
        let diff = maxAbsDifference(softmax, safe.probabilities)
        return [
            "m": .vector(ms),
            "l": .vector(ls),
            "rescale": .vector(factors),
            "softmax": .vector(softmax),
            "logsumexp": .number(state.m + log(state.l)),
            "max_abs_diff_vs_safe": .number(diff),
            "blocks": .integer(ms.count),
            "rescales": .integer(rescales),
            "masked_blocks": .integer(maskedBlocks),
            // safe.sum ≥ 1 (the maximum contributes e^0), so its ulp is a positive normal number.
            "l_ulps_vs_safe": .number(abs(state.l - safe.sum) / safe.sum.ulp),
        ]
    }
}
