import Foundation
import NotebookCore

// Split-KV attention (Flash-Decoding, ring attention): the keys are cut into parts, each part
// yields a partial state (m, l, acc) per query row on its own, and the states are merged:
//
//   (m, l, a) ⊕ (m', l', a') = (M, l·e^(m − M) + l'·e^(m' − M), a·e^(m − M) + a'·e^(m' − M)),  M = max(m, m').
//
// The operator is associative and commutative with identity (−∞, 0, 0), the state of a part
// in which the row sees no key, so the parts may be merged in any order or as a tree.

/// The softmax state of one query row over some keys: the online softmax's (m, l) plus the
/// unnormalised output accumulator.
struct SoftmaxPartial: Equatable {
    /// Max of the scores seen; −∞ when none is visible.
    var m: Double
    /// Σ e^(s − m).
    var l: Double
    /// Σ e^(s − m) v.
    var acc: [Double]

    /// The identity of ⊕: no key seen.
    static func empty(width: Int) -> SoftmaxPartial {
        SoftmaxPartial(m: -.infinity, l: 0, acc: [Double](repeating: 0, count: width))
    }

    /// The state of one row over the given scores (−∞ masks) and their value rows.
    init(scores: ArraySlice<Double>, values: ArraySlice<[Double]>, width: Int) {
        self = .empty(width: width)
        m = scores.max() ?? -.infinity
        for (s, row) in zip(scores, values) where s > -.infinity {
            let w = exp(s - m)
            l += w
            for c in 0..<width { acc[c] += w * row[c] }
        }
    }

    init(m: Double, l: Double, acc: [Double]) {
        self.m = m
        self.l = l
        self.acc = acc
    }

    /// self ⊕ other. A side whose max is −∞ gets weight 0, not e^(−∞ − (−∞)) = NaN.
    func merged(with other: SoftmaxPartial) -> SoftmaxPartial {
        let top = max(m, other.m)
        let a = expDifference(m, top), b = expDifference(other.m, top)
        return SoftmaxPartial(m: top, l: l * a + other.l * b,
                              acc: zip(acc, other.acc).map { $0 * a + $1 * b })
    }

    /// acc / l: the part's own attention output; 0 for a part with no visible key.
    var output: [Double] { l > 0 ? acc.map { $0 / l } : acc.map { _ in 0 } }
    /// m + log l; −∞ for a part with no visible key.
    var lse: Double { l > 0 ? m + log(l) : -.infinity }
}

/// Split-KV attention: every part's states, merged in several orders.
struct SplitKVAttention {
    /// Keys per part, as equal as possible (the first m mod P parts hold one more).
    let partSizes: [Int]
    /// states[i][p]: row i's state over part p.
    let states: [[SoftmaxPartial]]
    /// Per row, ((s₁ ⊕ s₂) ⊕ s₃) ⊕ …
    let leftFold: [SoftmaxPartial]
    /// Per row, the outputs of the other orders: right fold s₁ ⊕ (s₂ ⊕ (…)), the reversed
    /// left fold (… ⊕ s₂) ⊕ s₁, and the pairwise tree.
    let otherOrders: [[[Double]]]
    /// Per row, Σ_p e^(lse_p − lse) o_p: the merge from normalised outputs and log-sum-exps,
    /// as Flash-Decoding stores them.
    let lseMerged: [[Double]]

    init(scores: [[Double]], v: [[Double]], parts: Int) {
        let m = v.count, width = v[0].count
        partSizes = (0..<parts).map { m / parts + ($0 < m % parts ? 1 : 0) }
        var bounds = [0]
        for size in partSizes { bounds.append(bounds.last! + size) }
        states = scores.map { row in
            (0..<parts).map { SoftmaxPartial(scores: row[bounds[$0]..<bounds[$0 + 1]], values: v[bounds[$0]..<bounds[$0 + 1]], width: width) }
        }
        let identity = SoftmaxPartial.empty(width: width)
        leftFold = states.map { $0.reduce(identity) { $0.merged(with: $1) } }
        func tree(_ xs: [SoftmaxPartial]) -> SoftmaxPartial {
            if xs.count == 1 { return xs[0] }
            let half = xs.count / 2
            return tree(Array(xs[..<half])).merged(with: tree(Array(xs[half...])))
        }
        otherOrders = states.map { row in
            [row.reversed().reduce(identity) { $1.merged(with: $0) }.output,
             row.reversed().reduce(identity) { $0.merged(with: $1) }.output,
             tree(row).output]
        }
        lseMerged = states.map { row in
            let lses = row.map(\.lse)
            let top = lses.max() ?? -.infinity
            // Some part is visible (every row sees key 0), so top is finite.
            let total = top + log(lses.reduce(0.0) { $0 + expDifference($1, top) })
            var o = [Double](repeating: 0, count: width)
            for part in row {
                let w = expDifference(part.lse, total)
                for c in 0..<width { o[c] += w * part.output[c] }
            }
            return o
        }
    }
}

/// `attention.split-kv`: attention over key parts computed separately and merged.
public struct AttentionSplitKVModule: ComputeModule {
    public init() {}
    public let name = "attention.split-kv"
    public let summary = "Split the keys into parts, compute each part's (m, l, acc) and merge them: the result equals full attention in any merge order."
    public let parameters: [ParameterSpec] = [
        .matrix("q", [[1, 0], [0, 1], [1, 1]], range: .closed(-1e100, 1e100), maxElements: 262_144, doc: "queries, n×d"),
        .matrix("k", [[1, 0], [0, 1], [1, 1], [-1, 0]], range: .closed(-1e100, 1e100), maxElements: 262_144, doc: "keys, m×d"),
        .matrix("v", [[1, 2], [3, 4], [5, 6], [7, 8]], range: .closed(-1e100, 1e100), maxElements: 262_144, doc: "values, m×dv"),
        .integer("parts", 2, range: .atLeast(1), doc: "number of key parts P, contiguous and as equal as possible"),
        .number("scale", computed: "1/sqrt(d)", range: NumberRange(lower: 0, lowerInclusive: false, upper: 1e100),
                doc: "multiplies q·k before the softmax"),
        .bool("causal", false, doc: "key j visible to query i only when j ≤ i"),
        .integer("row", 0, range: .atLeast(0), doc: "the query row whose part states the part_ and merged_ outputs show"),
    ]
    public let outputs: [OutputSpec] = [
        .init("output", .matrix, hint: .table, doc: "merged attention, n×dv: left fold of the parts, divided by l"),
        .init("reference", .matrix, hint: .table, doc: "softmax(q kᵀ·scale) v over all keys at once"),
        .init("max_abs_diff", .number, doc: "largest |output − reference|"),
        .init("lse", .vector, doc: "merged m + log l per row"),
        .init("part_sizes", .vector, doc: "keys in each part"),
        .init("part_m", .vector, doc: "row's max over each part (−inf where the row sees none of its keys)"),
        .init("part_l", .vector, doc: "row's Σ e^(s − m_p) over each part"),
        .init("part_acc", .matrix, hint: .table, doc: "row's Σ e^(s − m_p) v over each part, one row per part"),
        .init("part_lse", .vector, doc: "row's m_p + log l_p per part"),
        .init("part_output", .matrix, hint: .table, doc: "row's acc_p / l_p per part: each part's attention on its own (0 if masked)"),
        .init("merged_m", .number, doc: "row's merged max"),
        .init("merged_l", .number, doc: "row's merged sum"),
        .init("merged_acc", .vector, doc: "row's merged accumulator"),
        .init("max_abs_diff_orders", .number, doc: "largest output difference between the left fold, right fold, reversed fold and pairwise tree"),
        .init("output_lse_merge", .matrix, hint: .table, doc: "Σ_p e^(lse_p − lse) o_p: the same merge from part outputs and log-sum-exps"),
        .init("max_abs_diff_lse_merge", .number, doc: "largest |output_lse_merge − reference|"),
        .init("masked_parts", .integer, doc: "(row, part) pairs in which the row sees no key: the state (−inf, 0, 0), the identity of the merge"),
    ]

    static let maxWork = 50_000_000

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let q = try inputs.matrix("q"), k = try inputs.matrix("k"), v = try inputs.matrix("v")
        let parts = try inputs.integer("parts"), row = try inputs.integer("row")
        let causal = try inputs.bool("causal")
        let n = q.count, m = k.count, d = q[0].count, dv = v[0].count
        guard k[0].count == d else {
            throw .invalid("k", "has \(k[0].count) columns but q has \(d); queries and keys need the same width d")
        }
        guard v.count == m else {
            throw .invalid("v", "has \(v.count) rows but k has \(m); every key needs one value row")
        }
        let pairs = n.multipliedReportingOverflow(by: m), work = pairs.partialValue.multipliedReportingOverflow(by: d + dv)
        guard !pairs.overflow, !work.overflow, work.partialValue <= Self.maxWork else {
            throw .invalid("q", "with k and v needs \(n)×\(m)×\(d + dv) multiply-adds; the limit is \(Self.maxWork)")
        }
        guard parts <= m else { throw .invalid("parts", "is \(parts) but there are only \(m) keys; use 1 to \(m) parts") }
        guard row < n else { throw .invalid("row", "is \(row) but q has \(n) rows; pick a row in 0..<\(n)") }
        let scale = try inputs.optionalNumber("scale") ?? 1 / sqrt(Double(d))

        let scores = attentionScores(q, k, scale: scale, causal: causal)
        let split = SplitKVAttention(scores: scores, v: v, parts: parts)
        let reference = naiveAttention(scores: scores, v)
        let output = split.leftFold.map(\.output)
        var orders = 0.0
        for (o, others) in zip(output, split.otherOrders) {
            for other in others { orders = max(orders, maxAbsDifference(o, other)) }
        }
        let shown = split.states[row], merged = split.leftFold[row]
        return [
            "output": .matrix(output),
            "reference": .matrix(reference),
            "max_abs_diff": .number(maxAbsDifference(output, reference)),
            "lse": .vector(split.leftFold.map(\.lse)),
            "part_sizes": .vector(split.partSizes.map(Double.init)),
            "part_m": .vector(shown.map(\.m)),
            "part_l": .vector(shown.map(\.l)),
            "part_acc": .matrix(shown.map(\.acc)),
            "part_lse": .vector(shown.map(\.lse)),
            "part_output": .matrix(shown.map(\.output)),
            "merged_m": .number(merged.m),
            "merged_l": .number(merged.l),
            "merged_acc": .vector(merged.acc),
            "max_abs_diff_orders": .number(orders),
            "output_lse_merge": .matrix(split.lseMerged),
            "max_abs_diff_lse_merge": .number(maxAbsDifference(split.lseMerged, reference)),
            "masked_parts": .integer(split.states.reduce(0) { $0 + $1.filter { $0.m == -.infinity }.count }),
        ]
    }
}
