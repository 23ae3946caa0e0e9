import Foundation
import NotebookCore

// The backward pass of attention as FlashAttention-2 runs it (Dao 2023, Algorithm 2): the
// forward pass saved only O and one log-sum-exp L_i per row; the backward pass rebuilds each
// tile of probabilities from them and needs one more number per row, D_i = rowsum(dO ∘ O)_i.
//
// With S = scale·QKᵀ (masked entries −∞), P = softmax(S) row by row, O = PV and an upstream
// gradient dO, for the scalar loss L = Σ dO ∘ O:
//   P_ij  = e^(S_ij − L_i)                   (line 11)
//   dV    = Pᵀ dO                            (line 12)
//   dP    = dO Vᵀ                            (line 13)
//   D_i   = Σ_j P_ij dP_ij = dO_i · O_i      (line 4)
//   dS    = P ∘ (dP − D)                     (line 14)
//   dQ    = scale · dS K,  dK = scale · dSᵀ Q (lines 15, 16; the paper folds the scale into S)
// D replaces the softmax Jacobian diag(p) − p pᵀ: row i of J·dP is p ∘ (dP_i − p·dP_i), and
// p·dP_i = Σ_j p_j (dO_i · v_j) = dO_i · o_i.

/// Gradients of L = Σ dO ∘ O for attention, tiled as FlashAttention-2's backward pass.
struct AttentionBackward {
    /// O from the forward pass.
    var output: [[Double]] = []
    /// L_i = m_i + log ℓ_i from the forward pass.
    var lse: [Double] = []
    /// P rebuilt tile by tile as e^(S − L); 0 where masked.
    var p: [[Double]] = []
    /// D_i = dO_i · O_i.
    var delta: [Double] = []
    /// dO Vᵀ.
    var dp: [[Double]] = []
    /// P ∘ (dP − D).
    var ds: [[Double]] = []
    var dq: [[Double]] = [], dk: [[Double]] = [], dv: [[Double]] = []
    /// (key block, query block) pairs computed and skipped (causal).
    var tilesComputed = 0, tilesSkipped = 0

    init(q: [[Double]], k: [[Double]], v: [[Double]], dOut: [[Double]], scale: Double, causal: Bool,
         blockQ: Int, blockK: Int) throws(ComputeError) {
        let n = q.count, m = k.count, d = q[0].count, dv = v[0].count
        // A block wider than the matrix is the whole matrix; clamping also keeps start + block from overflowing.
        let blockQ = min(blockQ, n), blockK = min(blockK, m)
        let forward = try TiledAttention(q: q, k: k, v: v, scale: scale, causal: causal, blockQ: blockQ,
                                         blockK: blockK, precision: .float64, traceRow: 0)
        output = forward.output
        lse = forward.lse
        // Line 4: one number per row, from O and dO alone.
        delta = (0..<n).map { i in (0..<dv).reduce(0.0) { $0 + dOut[i][$1] * output[i][$1] } }
        p = [[Double]](repeating: [Double](repeating: 0, count: m), count: n)
        ds = p
        var visited = [[Bool]](repeating: [Bool](repeating: false, count: m), count: n)
        dp = p
        dq = [[Double]](repeating: [Double](repeating: 0, count: d), count: n)
        dk = [[Double]](repeating: [Double](repeating: 0, count: d), count: m)
        self.dv = [[Double]](repeating: [Double](repeating: 0, count: dv), count: m)

        func dot(_ a: [Double], _ b: [Double]) -> Double {
            var s = 0.0
            for t in a.indices { s += a[t] * b[t] }
            return s
        }
        // Line 5: key blocks outside, so dK_j and dV_j accumulate on chip; dQ_i is read,
        // updated and written back for every visit (line 15).
        var keyStart = 0
        while keyStart < m {
            let keys = keyStart..<min(keyStart + blockK, m)
            keyStart = keys.upperBound
            var rowStart = 0
            while rowStart < n {
                let rows = rowStart..<min(rowStart + blockQ, n)
                rowStart = rows.upperBound
                if causal && keys.lowerBound > rows.upperBound - 1 {
                    tilesSkipped += 1
                    continue
                }
                tilesComputed += 1
                for i in rows {
                    for j in keys {
                        visited[i][j] = true
                        // Lines 10-11: the score, then the probability from the saved L_i.
                        let pij = !causal || j <= i ? exp(dot(q[i], k[j]) * scale - lse[i]) : 0
                        let dpij = dot(dOut[i], v[j])               // line 13
                        let dsij = pij * (dpij - delta[i])          // line 14
                        p[i][j] = pij
                        dp[i][j] = dpij
                        ds[i][j] = dsij
                        for c in 0..<dv { self.dv[j][c] += pij * dOut[i][c] }    // line 12
                        for t in 0..<d {
                            dq[i][t] += scale * dsij * k[j][t]                    // line 15
                            dk[j][t] += scale * dsij * q[i][t]                    // line 16
                        }
                    }
                }
            }
        }
        // dP of skipped tiles is never computed by the kernel (P is 0 there, so it does not
        // matter); fill it in so the displayed dP is the whole dO Vᵀ.
        for i in 0..<n {
            for j in 0..<m where !visited[i][j] { dp[i][j] = dot(dOut[i], v[j]) }
        }
    }
}

/// The same gradients by the textbook route: P from the safe softmax, and dS from the explicit
/// softmax Jacobian diag(p) − p pᵀ of each row, with no D and no saved log-sum-exp.
struct NaiveAttentionGradients {
    let p: [[Double]]
    let delta: [Double]
    let ds: [[Double]]
    let dq: [[Double]], dk: [[Double]], dv: [[Double]]

    init(q: [[Double]], k: [[Double]], v: [[Double]], dOut: [[Double]], scale: Double, causal: Bool) {
        let n = q.count, m = k.count, width = q[0].count, valueWidth = v[0].count
        let p = attentionScores(q, k, scale: scale, causal: causal).map { SafeSoftmax($0).probabilities }
        var dp = [[Double]](repeating: [Double](repeating: 0, count: m), count: n)
        var delta = [Double](repeating: 0, count: n)
        var ds = dp
        for i in 0..<n {
            for j in 0..<m {
                for c in 0..<valueWidth { dp[i][j] += dOut[i][c] * v[j][c] }
                delta[i] += p[i][j] * dp[i][j]
            }
            for j in 0..<m {
                // Σ_k J_jk dP_ik with J_jk = p_j δ_jk − p_j p_k.
                for kk in 0..<m {
                    let jacobian = (j == kk ? p[i][j] : 0) - p[i][j] * p[i][kk]
                    ds[i][j] += jacobian * dp[i][kk]
                }
            }
        }
        var dq = [[Double]](repeating: [Double](repeating: 0, count: width), count: n)
        var dk = [[Double]](repeating: [Double](repeating: 0, count: width), count: m)
        var dv = [[Double]](repeating: [Double](repeating: 0, count: valueWidth), count: m)
        for i in 0..<n {
            for j in 0..<m {
                for c in 0..<valueWidth { dv[j][c] += p[i][j] * dOut[i][c] }
                for t in 0..<width {
                    dq[i][t] += scale * ds[i][j] * k[j][t]
                    dk[j][t] += scale * ds[i][j] * q[i][t]
                }
            }
        }
        self.p = p
        self.delta = delta
        self.ds = ds
        self.dq = dq
        self.dk = dk
        self.dv = dv
    }
}

/// `attention.backward`: dQ, dK, dV from the saved log-sum-exp and D, beside the textbook gradients.
public struct AttentionBackwardModule: ComputeModule {
    public init() {}
    public let name = "attention.backward"
    public let summary = "The attention backward pass of FlashAttention-2: P rebuilt from the log-sum-exp, D = rowsum(dO∘O), dS = P∘(dP − D), dQ, dK, dV against the textbook gradients."
    public let parameters: [ParameterSpec] = [
        // ±1e30 and a scale up to 1e30 keep every gradient below 1e135, far from overflow.
        .matrix("q", [[1, 0], [0, 1], [1, 1]], range: .closed(-1e30, 1e30), maxElements: 65_536, doc: "queries, n×d"),
        .matrix("k", [[1, 0], [0, 1], [1, 1], [-1, 0]], range: .closed(-1e30, 1e30), maxElements: 65_536, doc: "keys, m×d"),
        .matrix("v", [[1, 2], [3, 4], [5, 6], [7, 8]], range: .closed(-1e30, 1e30), maxElements: 65_536, doc: "values, m×dv"),
        .matrix("d_out", [[1, 0], [0, 1], [1, -1]], range: .closed(-1e30, 1e30), maxElements: 65_536,
                doc: "dO = ∂L/∂O, n×dv (L = Σ dO ∘ O)"),
        .number("scale", computed: "1/sqrt(d)", range: NumberRange(lower: 0, lowerInclusive: false, upper: 1e30),
                doc: "multiplies q·k before the softmax"),
        .bool("causal", false, doc: "key j visible to query i only when j ≤ i"),
        .integer("block", 2, range: .atLeast(1), doc: "keys per block B_c (the outer loop of the backward pass)"),
        .integer("block_q", 2, range: .atLeast(1), doc: "queries per block B_r (the inner loop)"),
    ]
    public let outputs: [OutputSpec] = [
        .init("output", .matrix, hint: .table, doc: "O = softmax(q kᵀ·scale) v from the forward pass"),
        .init("lse", .vector, doc: "L = m + log l per row, saved by the forward pass"),
        .init("loss", .number, doc: "L = Σ dO ∘ O, the scalar these are the gradients of"),
        .init("p", .matrix, hint: .heatmap, doc: "P rebuilt tile by tile as e^(S − L)"),
        .init("delta", .vector, doc: "D = rowsum(dO ∘ O), one number per row"),
        .init("dp", .matrix, hint: .table, doc: "dP = dO vᵀ"),
        .init("ds", .matrix, hint: .table, doc: "dS = P ∘ (dP − D), the gradient of the scaled scores"),
        .init("dq", .matrix, hint: .table, doc: "dQ = scale · dS k"),
        .init("dk", .matrix, hint: .table, doc: "dK = scale · dSᵀ q"),
        .init("dv", .matrix, hint: .table, doc: "dV = Pᵀ dO"),
        .init("dq_reference", .matrix, hint: .table, doc: "dQ through the explicit softmax Jacobian diag(p) − p pᵀ"),
        .init("dk_reference", .matrix, hint: .table, doc: "dK through the explicit Jacobian"),
        .init("dv_reference", .matrix, hint: .table, doc: "dV from the safe-softmax P"),
        .init("max_abs_diff_p", .number, doc: "largest |P rebuilt from L − P from the safe softmax|"),
        .init("max_abs_diff_delta", .number, doc: "largest |dO·O − Σ_j P_ij dP_ij|: the two sides of D's identity"),
        .init("max_abs_diff_ds", .number, doc: "largest |dS − J·dP|"),
        .init("max_abs_diff_dq", .number, doc: "largest |dq − dq_reference|"),
        .init("max_abs_diff_dk", .number, doc: "largest |dk − dk_reference|"),
        .init("max_abs_diff_dv", .number, doc: "largest |dv − dv_reference|"),
        .init("tiles_computed", .integer, doc: "(key block, query block) pairs the backward pass computed"),
        .init("tiles_skipped", .integer, doc: "pairs skipped because the causal mask hides all their scores"),
        .init("scale", .number, doc: "the scale used"),
    ]

    /// n·m·(d + dv + m): the pairwise work plus the explicit Jacobians of the reference.
    static let maxWork = 10_000_000

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let q = try inputs.matrix("q"), k = try inputs.matrix("k"), v = try inputs.matrix("v")
        let dOut = try inputs.matrix("d_out")
        let causal = try inputs.bool("causal")
        let block = try inputs.integer("block"), blockQ = try inputs.integer("block_q")
        let n = q.count, m = k.count, d = q[0].count, dv = v[0].count
        guard k[0].count == d else {
            throw .invalid("k", "has \(k[0].count) columns but q has \(d); queries and keys need the same width d")
        }
        guard v.count == m else {
            throw .invalid("v", "has \(v.count) rows but k has \(m); every key needs one value row")
        }
        guard dOut.count == n, dOut[0].count == dv else {
            throw .invalid("d_out", "is \(dOut.count)×\(dOut[0].count) but the output O is \(n)×\(dv); dO has O's shape")
        }
        // Each factor is at most 65,536 (maxElements), so the sums and products below cannot overflow.
        let pairs = n.multipliedReportingOverflow(by: m)
        let work = pairs.partialValue.multipliedReportingOverflow(by: d + dv + m)
        guard !pairs.overflow, !work.overflow, work.partialValue <= Self.maxWork else {
            throw .invalid("q", "with k and v needs \(n)×\(m)×\(d + dv + m) multiply-adds; the limit is \(Self.maxWork)")
        }
        let scale = try inputs.optionalNumber("scale") ?? 1 / sqrt(Double(d))

        let grads = try AttentionBackward(q: q, k: k, v: v, dOut: dOut, scale: scale, causal: causal,
                                          blockQ: blockQ, blockK: block)
        let naive = NaiveAttentionGradients(q: q, k: k, v: v, dOut: dOut, scale: scale, causal: causal)
        var loss = 0.0
        for (o, g) in zip(grads.output, dOut) { for (x, y) in zip(o, g) { loss += x * y } }
        return [
            "output": .matrix(grads.output),
            "lse": .vector(grads.lse),
            "loss": .number(loss),
            "p": .matrix(grads.p),
            "delta": .vector(grads.delta),
            "dp": .matrix(grads.dp),
            "ds": .matrix(grads.ds),
            "dq": .matrix(grads.dq),
            "dk": .matrix(grads.dk),
            "dv": .matrix(grads.dv),
            "dq_reference": .matrix(naive.dq),
            "dk_reference": .matrix(naive.dk),
            "dv_reference": .matrix(naive.dv),
            "max_abs_diff_p": .number(maxAbsDifference(grads.p, naive.p)),
            "max_abs_diff_delta": .number(maxAbsDifference(grads.delta, naive.delta)),
            "max_abs_diff_ds": .number(maxAbsDifference(grads.ds, naive.ds)),
            "max_abs_diff_dq": .number(maxAbsDifference(grads.dq, naive.dq)),
            "max_abs_diff_dk": .number(maxAbsDifference(grads.dk, naive.dk)),
            "max_abs_diff_dv": .number(maxAbsDifference(grads.dv, naive.dv)),
            "tiles_computed": .integer(grads.tilesComputed),
            "tiles_skipped": .integer(grads.tilesSkipped),
            "scale": .number(scale),
        ]
    }
}
