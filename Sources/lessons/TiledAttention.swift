import Foundation
import NotebookCore

// The FlashAttention tile (Dao et al., 2022): attention computed one tile of keys at a time,
// keeping per query row a running max m, a running sum l and an unnormalised output
// accumulator, all rescaled when m grows. The full n×m score matrix never exists.

/// `attention.tiled`: tiled attention beside the naive reference.
public struct TiledAttentionModule: ComputeModule {
    public init() {}
    public let name = "attention.tiled"
    public let summary = "Attention one key tile at a time with online-softmax rescaling, checked against the naive form."
    public let parameters: [ParameterSpec] = [
        // Elements within ±1e100 keep every q·k product finite, so finite input never gives NaN.
        .matrix("q", [[1, 0], [0, 1], [1, 1]], range: .closed(-1e100, 1e100), maxElements: 262_144, doc: "queries, n×d"),
        .matrix("k", [[1, 0], [0, 1], [1, 1], [-1, 0]], range: .closed(-1e100, 1e100), maxElements: 262_144, doc: "keys, m×d"),
        .matrix("v", [[1, 2], [3, 4], [5, 6], [7, 8]], range: .closed(-1e100, 1e100), maxElements: 262_144, doc: "values, m×dv"),
        .integer("block", 2, range: .atLeast(1), doc: "keys per tile"),
        .number("scale", computed: "1/sqrt(d)", range: .positive, doc: "multiplies q·k before the softmax"),
        .bool("causal", false, doc: "key j visible to query i only when j ≤ i"),
    ]
    public let outputs: [OutputSpec] = [
        .init("output", .matrix, hint: .table, doc: "tiled result, n×dv"),
        .init("reference", .matrix, hint: .table, doc: "softmax(q kᵀ·scale) v computed naively"),
        .init("max_abs_diff", .number, doc: "largest |output − reference|"),
        .init("m", .vector, doc: "row max of the scaled scores"),
        .init("l", .vector, doc: "row sum of e^(score − m)"),
        .init("lse", .vector, doc: "m + log l: all the backward pass needs to rebuild the probabilities"),
        .init("tiles", .integer, doc: "number of key tiles, masked ones included"),
        .init("score_elements_naive", .integer, doc: "n·m scores held at once by the naive form"),
        .init("score_elements_tiled", .integer, doc: "n·min(block, m) scores held at once per tile"),
        .init("scale", .number, doc: "the scale used"),
    ]

    /// Pairwise work is n·m·(d + dv); keep a single evaluation well under a second.
    static let maxWork = 50_000_000

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let q = try inputs.matrix("q"), k = try inputs.matrix("k"), v = try inputs.matrix("v")
        let block = try inputs.integer("block")
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
        let scale = try inputs.optionalNumber("scale") ?? 1 / sqrt(Double(d))
        func visible(_ i: Int, _ j: Int) -> Bool { !causal || j <= i }
        func score(_ i: Int, _ j: Int) -> Double {
            var s = 0.0
            for t in 0..<d { s += q[i][t] * k[j][t] }
            return s * scale
        }

        var output = [[Double]](), rowMax = [Double](), rowSum = [Double]()
        for i in 0..<n {
            var mi = -Double.infinity, li = 0.0
            var acc = [Double](repeating: 0, count: dv)
            var start = 0
            while start < m {
                let end = start + min(block, m - start)
                let scores = (start..<end).map { j in visible(i, j) ? score(i, j) : -.infinity }
                let tileMax = scores.max() ?? -.infinity
                if tileMax > -.infinity {
                    let newMax = max(mi, tileMax)
                    let alpha = mi == -.infinity ? 0 : exp(mi - newMax)
                    li *= alpha
                    for c in 0..<dv { acc[c] *= alpha }
                    for (offset, s) in scores.enumerated() where s > -.infinity {
                        let p = exp(s - newMax)
                        li += p
                        for c in 0..<dv { acc[c] += p * v[start + offset][c] }
                    }
                    mi = newMax
                }
                start = end
            }
            // Every row sees at least key 0, so li > 0.
            output.append(acc.map { $0 / li })
            rowMax.append(mi)
            rowSum.append(li)
        }

        var reference = [[Double]]()
        for i in 0..<n {
            let scores = (0..<m).map { j in visible(i, j) ? score(i, j) : -.infinity }
            let p = SafeSoftmax(scores).probabilities
            reference.append((0..<dv).map { c in (0..<m).reduce(0.0) { $0 + p[$1] * v[$1][c] } })
        }
        var diff = 0.0
        for (a, b) in zip(output, reference) { for (x, y) in zip(a, b) { diff = max(diff, abs(x - y)) } }
        let tiles = m / block + (m % block == 0 ? 0 : 1)
        return [
            "output": .matrix(output),
            "reference": .matrix(reference),
            "max_abs_diff": .number(diff),
            "m": .vector(rowMax),
            "l": .vector(rowSum),
            "lse": .vector(zip(rowMax, rowSum).map { $0 + log($1) }),
            "tiles": .integer(tiles),
            "score_elements_naive": .integer(n * m),
            "score_elements_tiled": .integer(n * min(block, m)),
            "scale": .number(scale),
        ]
    }
}
