import Foundation
import NotebookCore

// The FlashAttention tile in FlashAttention-2's loop order (Dao 2023, Algorithm 1): blocks of
// B_r queries outside, tiles of B_c keys inside. Per query row the loop keeps a running max m,
// a running sum l and an unnormalised output accumulator, rescales l and the accumulator when
// m grows (line 9-10), and divides by l once after the last tile (line 12). Only one B_r×B_c
// tile of the n×m score matrix exists at any moment.

/// The number format attention runs in.
public enum AttentionPrecision: String, Sendable, CaseIterable {
    /// Everything in Double: the exact algorithm.
    case float64
    /// Q, K, V rounded to float32, and every operation on the scores, m, l and the
    /// accumulator rounded to float32.
    case fp32
    /// Q, K, V rounded to FP16; scores, m, l and the accumulator in float32; each probability
    /// rounded to FP16 before it multiplies V (the second matrix product takes FP16 operands);
    /// O written in FP16. This is the data flow of the flash-attn kernels for half inputs.
    case fp16
    /// As `fp16`, with BF16 in place of FP16.
    case bf16

    /// The format Q, K, V (and P before P·V, and O) are rounded to; `nil` for float64.
    var inputFormat: FloatFormat? {
        switch self {
        case .float64: nil
        case .fp32: .fp32
        case .fp16: .fp16
        case .bf16: .bf16
        }
    }
}

/// Scaled scores q_i·k_j·scale of the naive form, −∞ where the causal mask hides key j from
/// query i (visible iff j ≤ i, top-left aligned as `derive modules attention.tiled` states).
func attentionScores(_ q: [[Double]], _ k: [[Double]], scale: Double, causal: Bool) -> [[Double]] {
    q.indices.map { i in
        k.indices.map { j in
            guard !causal || j <= i else { return -.infinity }
            var s = 0.0
            for t in q[i].indices { s += q[i][t] * k[j][t] }
            return s * scale
        }
    }
}

/// softmax(scores) · v row by row, each row by the safe softmax.
func naiveAttention(scores: [[Double]], _ v: [[Double]]) -> [[Double]] {
    let dv = v[0].count
    return scores.map { row in
        let p = SafeSoftmax(row).probabilities
        return (0..<dv).map { c in p.indices.reduce(0.0) { $0 + p[$1] * v[$1][c] } }
    }
}

/// One forward pass of FlashAttention-2 over q (n×d), k (m×d), v (m×dv), with what it did.
struct TiledAttention {
    /// The per-tile state of one query row: the inner loop made visible.
    struct Trace {
        /// Running max after each key tile the row's block computed.
        var m: [Double] = []
        /// Running sum after each tile.
        var l: [Double] = []
        /// e^(m_old − m_new) applied to l and the accumulator at each tile (0 at the first).
        var rescale: [Double] = []
        /// Unnormalised accumulator Σ e^(s_j − m) v_j after each tile.
        var accumulator: [[Double]] = []
        /// accumulator / l after each tile: the normalised partial output that
        /// FlashAttention (2022) writes to HBM after every tile.
        var output: [[Double]] = []
    }

    /// O, n×dv, after the final division (line 12), in the precision's output format.
    var output: [[Double]] = []
    /// Final m per row: the row max of the visible scaled scores.
    var rowMax: [Double] = []
    /// Final l per row.
    var rowSum: [Double] = []
    /// m + log l per row (line 13): what the backward pass keeps.
    var lse: [Double] = []
    /// ⌈n / B_r⌉.
    var queryBlocks = 0
    /// ⌈m / B_c⌉.
    var keyTiles = 0
    /// (query block, key tile) pairs whose scores were computed.
    var tilesComputed = 0
    /// Pairs never visited because the causal mask hides every score in them.
    var tilesSkipped = 0
    /// (row, computed tile) pairs in which every key of the tile is masked for the row; the row's
    /// state is left as it was. Harmless once an earlier tile gave the row a key (e^(−∞ − m) = 0).
    var maskedRowTiles = 0
    /// (row, tile) pairs in which a finite running max grew, so l and the accumulator shrank.
    var rescales = 0
    /// The largest score tile held at once, rows × columns, counted as the tiles were allocated.
    var liveScores = 0
    var trace = Trace()

    /// - Parameter inputs: q, k, v already rounded to `precision`'s input format.
    /// - Throws: `.invalid` naming `q` when a score overflows float32, `v` when the
    ///   accumulator does (float64 cannot overflow within the parameters' ranges).
    init(q: [[Double]], k: [[Double]], v: [[Double]], scale: Double, causal: Bool,
         blockQ: Int, blockK: Int, precision: AttentionPrecision, traceRow: Int) throws(ComputeError) {
        let n = q.count, m = k.count, d = q[0].count, dv = v[0].count
        // A block wider than the matrix is the whole matrix; clamping also keeps start + block from overflowing.
        let blockQ = min(blockQ, n), blockK = min(blockK, m)
        let exact = precision == .float64
        // Figueroa (1995): rounding a Double result to float32 gives the correctly rounded
        // float32 result for + − × ÷, because 53 ≥ 2·24 + 2. So each operation done in Double
        // and rounded here is exactly the float32 operation; exp and log are rounded from
        // their Double values, closer than a hardware expf.
        let r: (Double) -> Double = exact ? { $0 } : { Double(Float($0)) }
        let probabilityFormat: FloatFormat? = precision == .fp16 || precision == .bf16 ? precision.inputFormat : nil
        let scale = r(scale)

        func score(_ i: Int, _ j: Int) -> Double {
            var s = 0.0
            if exact {
                for t in 0..<d { s += q[i][t] * k[j][t] }
                return s * scale
            }
            for t in 0..<d { s = r(s + r(q[i][t] * k[j][t])) }
            return r(s * scale)
        }

        keyTiles = (m + blockK - 1) / blockK
        var rowStart = 0
        while rowStart < n {
            let rows = rowStart..<min(rowStart + blockQ, n)
            queryBlocks += 1
            // Line 5: on-chip state for the block's rows.
            var mi = [Double](repeating: -.infinity, count: rows.count)
            var li = [Double](repeating: 0, count: rows.count)
            var acc = [[Double]](repeating: [Double](repeating: 0, count: dv), count: rows.count)
            var keyStart = 0
            while keyStart < m {
                let keys = keyStart..<min(keyStart + blockK, m)
                keyStart = keys.upperBound
                // The last row of the block sees keys ≤ rows.upperBound − 1; a tile past that is
                // masked for every row, and FlashAttention-2 ends the inner loop before it.
                if causal && keys.lowerBound > rows.upperBound - 1 {
                    tilesSkipped += 1
                    continue
                }
                tilesComputed += 1
                // Line 8: S = Q_i K_jᵀ for this tile only.
                var tile = [[Double]](repeating: [Double](repeating: -.infinity, count: keys.count), count: rows.count)
                liveScores = max(liveScores, rows.count * keys.count)
                for (a, i) in rows.enumerated() {
                    for (b, j) in keys.enumerated() where !causal || j <= i {
                        let s = score(i, j)
                        guard s.isFinite else {
                            throw .invalid("q", "gives the score \(NumberText.shortest(s)) at query \(i), key \(j): q·k·scale overflows float32; scale q or k down")
                        }
                        tile[a][b] = s
                    }
                }
                for (a, i) in rows.enumerated() {
                    let tileMax = tile[a].max() ?? -.infinity
                    var applied = mi[a] == -.infinity ? 0.0 : 1.0
                    if tileMax == -.infinity {
                        // Every score of this row is masked in this tile: e^(s − m) would be
                        // e^(−∞ − (−∞)) = NaN while m is still −∞, so the row is left as it was.
                        maskedRowTiles += 1
                    } else {
                        // Line 9-10: new max, rescale l and the accumulator, add the tile.
                        let newMax = max(mi[a], tileMax)
                        if mi[a] > -.infinity && newMax > mi[a] { rescales += 1 }
                        let alpha = mi[a] == -.infinity ? 0 : r(exp(r(mi[a] - newMax)))
                        applied = alpha
                        li[a] = r(li[a] * alpha)
                        for c in 0..<dv { acc[a][c] = r(acc[a][c] * alpha) }
                        for (b, s) in tile[a].enumerated() where s > -.infinity {
                            let p = r(exp(r(s - newMax)))
                            li[a] = r(li[a] + p)
                            let operand = probabilityFormat.map { $0.round(p).value } ?? p
                            for c in 0..<dv { acc[a][c] = r(acc[a][c] + r(operand * v[keys.lowerBound + b][c])) }
                        }
                        mi[a] = newMax
                    }
                    if i == traceRow {
                        trace.m.append(mi[a])
                        trace.l.append(li[a])
                        trace.rescale.append(applied)
                        trace.accumulator.append(acc[a])
                        trace.output.append(acc[a].map { li[a] > 0 ? r($0 / li[a]) : 0 })
                    }
                }
            }
            // Line 12-15: divide once, form the log-sum-exp, write O_i and L_i.
            for a in 0..<rows.count {
                // Every row sees key 0, and key 0 lies in the first tile, which is never skipped: li > 0.
                var o = acc[a].map { r($0 / li[a]) }
                if let format = probabilityFormat { o = o.map { format.round($0).value } }
                guard o.allSatisfy(\.isFinite) else {
                    throw .invalid("v", "overflows the float32 accumulator Σ e^(s − m)·v in query row \(rows.lowerBound + a); scale v down")
                }
                output.append(o)
                rowMax.append(mi[a])
                rowSum.append(li[a])
                lse.append(r(mi[a] + r(log(li[a]))))
            }
            rowStart = rows.upperBound
        }
    }
}

/// `attention.tiled`: FlashAttention-2's forward loop beside the naive reference, with a
/// count of what it computed and skipped and a per-tile trace of one query row.
public struct TiledAttentionModule: ComputeModule {
    public init() {}
    public let name = "attention.tiled"
    public let summary = "Attention by query blocks and key tiles with online-softmax rescaling (FlashAttention-2), checked against the naive form."
    public let parameters: [ParameterSpec] = [
        // Elements within ±1e100 and a scale up to 1e100 keep every q·k·scale finite in Double
        // (|score| ≤ d·1e300 < 1e306), so float64 never meets inf − inf.
        .matrix("q", [[1, 0], [0, 1], [1, 1]], range: .closed(-1e100, 1e100), maxElements: 262_144, doc: "queries, n×d"),
        .matrix("k", [[1, 0], [0, 1], [1, 1], [-1, 0]], range: .closed(-1e100, 1e100), maxElements: 262_144, doc: "keys, m×d"),
        .matrix("v", [[1, 2], [3, 4], [5, 6], [7, 8]], range: .closed(-1e100, 1e100), maxElements: 262_144, doc: "values, m×dv"),
        .integer("block", 2, range: .atLeast(1), doc: "keys per tile B_c (the inner loop)"),
        ParameterSpec(name: "block_q", kind: .integer, defaultValue: .computed("n"),
                      doc: "queries per block B_r (the outer loop); the default n puts every query in one block",
                      range: .atLeast(1)),
        .number("scale", computed: "1/sqrt(d)", range: NumberRange(lower: 0, lowerInclusive: false, upper: 1e100),
                doc: "multiplies q·k before the softmax"),
        .bool("causal", false, doc: "key j visible to query i only when j ≤ i"),
        .choice("precision", AttentionPrecision.self, default: .float64,
                doc: "float64; fp32; fp16 or bf16 inputs with float32 m, l and accumulator"),
        .integer("trace_query", 0, range: .atLeast(0), doc: "the query row whose per-tile state the trace_ outputs show"),
    ]
    public let outputs: [OutputSpec] = [
        .init("output", .matrix, hint: .table, doc: "tiled result, n×dv (in the precision's format)"),
        .init("reference", .matrix, hint: .table, doc: "softmax(q kᵀ·scale) v computed naively in Double from the inputs as given"),
        .init("max_abs_diff", .number, doc: "largest |output − reference|: the whole error, input rounding included"),
        .init("m", .vector, doc: "row max of the scaled scores"),
        .init("l", .vector, doc: "row sum of e^(score − m)"),
        .init("lse", .vector, doc: "m + log l: all the backward pass needs to rebuild the probabilities"),
        .init("tiles", .integer, doc: "number of key tiles ⌈m/block⌉, masked ones included"),
        .init("score_elements_naive", .integer, doc: "scores the naive reference held at once (its whole n×m matrix)"),
        .init("score_elements_tiled", .integer, doc: "largest score tile the tiled loop held at once, B_r·B_c (n·min(block, m) with the default block_q)"),
        .init("scale", .number, doc: "the scale used (rounded to float32 unless precision is float64)"),
        .init("query_blocks", .integer, doc: "number of query blocks ⌈n/block_q⌉"),
        .init("tiles_computed", .integer, doc: "(query block, key tile) pairs whose scores were computed"),
        .init("tiles_skipped", .integer, doc: "pairs skipped because the causal mask hides all their scores"),
        .init("masked_row_tiles", .integer, doc: "(row, computed tile) pairs where every key of the tile is masked for the row; the row's state is left as it was (the guard only matters if no earlier tile gave the row a key)"),
        .init("rescales", .integer, doc: "(row, tile) pairs where a finite running max grew and l and the accumulator were rescaled"),
        .init("max_abs_diff_same_inputs", .number, doc: "largest |output − naive Double attention of the rounded q, k, v|: the arithmetic's error alone"),
        .init("trace_m", .vector, doc: "trace_query's running max after each tile its block computed"),
        .init("trace_l", .vector, doc: "trace_query's running sum after each tile"),
        .init("trace_rescale", .vector, doc: "e^(m_old − m_new) applied at each tile (0 at the first, 1 when m did not move)"),
        .init("trace_acc", .matrix, hint: .table, doc: "trace_query's unnormalised accumulator after each tile, one row per tile"),
        .init("trace_o", .matrix, hint: .table, doc: "accumulator / l after each tile: the normalised partial output"),
    ]

    /// Pairwise work is n·m·(d + dv); keep a single evaluation well under a second.
    static let maxWork = 50_000_000

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let q = try inputs.matrix("q"), k = try inputs.matrix("k"), v = try inputs.matrix("v")
        let block = try inputs.integer("block")
        let causal = try inputs.bool("causal")
        let precision = try inputs.choice("precision", as: AttentionPrecision.self)
        let traceRow = try inputs.integer("trace_query")
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
        guard traceRow < n else {
            throw .invalid("trace_query", "is \(traceRow) but q has \(n) rows; pick a row in 0..<\(n)")
        }
        let blockQ = inputs["block_q"] == nil ? n : try inputs.integer("block_q")
        let scale = try inputs.optionalNumber("scale") ?? 1 / sqrt(Double(d))

        let format = precision.inputFormat
        func rounded(_ x: [[Double]], _ name: String) throws(ComputeError) -> [[Double]] {
            guard let format else { return x }
            var result = x
            for i in x.indices {
                for j in x[i].indices {
                    result[i][j] = format.round(x[i][j]).value
                    guard result[i][j].isFinite else {
                        throw .invalid(name, "has \(NumberText.shortest(x[i][j])) at [\(i)][\(j)], beyond \(format.rawValue)'s largest finite value \(NumberText.shortest(format.largestFinite))")
                    }
                }
            }
            return result
        }
        let qr = try rounded(q, "q"), kr = try rounded(k, "k"), vr = try rounded(v, "v")
        if format != nil, !Float(scale).isFinite {
            throw .invalid("scale", "is \(NumberText.shortest(scale)), beyond float32's largest finite value")
        }

        let tiled = try TiledAttention(q: qr, k: kr, v: vr, scale: scale, causal: causal,
                                       blockQ: blockQ, blockK: block, precision: precision, traceRow: traceRow)
        let scores = attentionScores(q, k, scale: scale, causal: causal)
        let reference = naiveAttention(scores: scores, v)
        let sameInputs = format == nil
            ? reference
            : naiveAttention(scores: attentionScores(qr, kr, scale: scale, causal: causal), vr)
        return [
            "output": .matrix(tiled.output),
            "reference": .matrix(reference),
            "max_abs_diff": .number(maxAbsDifference(tiled.output, reference)),
            "m": .vector(tiled.rowMax),
            "l": .vector(tiled.rowSum),
            "lse": .vector(tiled.lse),
            "tiles": .integer(tiled.keyTiles),
            "score_elements_naive": .integer(scores.reduce(0) { $0 + $1.count }),
            "score_elements_tiled": .integer(tiled.liveScores),
            "scale": .number(format == nil ? scale : Double(Float(scale))),
            "query_blocks": .integer(tiled.queryBlocks),
            "tiles_computed": .integer(tiled.tilesComputed),
            "tiles_skipped": .integer(tiled.tilesSkipped),
            "masked_row_tiles": .integer(tiled.maskedRowTiles),
            "rescales": .integer(tiled.rescales),
            "max_abs_diff_same_inputs": .number(maxAbsDifference(tiled.output, sameInputs)),
            "trace_m": .vector(tiled.trace.m),
            "trace_l": .vector(tiled.trace.l),
            "trace_rescale": .vector(tiled.trace.rescale),
            "trace_acc": .matrix(tiled.trace.accumulator),
            "trace_o": .matrix(tiled.trace.output),
        ]
    }
}
