import Foundation
import NotebookCore

// HBM traffic of one attention head of length N and width d, counted exactly for the
// algorithms as the papers write them:
//
// - standard attention: Algorithm 0 of Dao et al. (2022), three kernels that materialise S and P;
// - FlashAttention: Algorithm 1 of Dao et al. (2022), K/V blocks in the outer loop, with the
//   block sizes of its line 1 and the per-visit loads and stores of lines 6, 8, 12 and 13
//   (Theorem 2 and its proof in Appendix C bound the total by Θ(N²d²/M));
// - FlashAttention-2: Algorithm 1 of Dao (2023), Q blocks in the outer loop (lines 4, 7, 14, 15).
//
// An "access" is one element read from or written to HBM; on-chip work is free. A matrix
// multiplication inside one kernel reads each input once, as Theorem 2 assumes. Matrices
// (Q, K, V, S, P, O) take `bytes` per element; the row statistics m, ℓ and L are float32
// (4 bytes), as the flash-attn kernels store them.

/// One line of an algorithm's HBM traffic.
struct HBMTerm: Equatable {
    /// Elements moved.
    let elements: Int
    let isWrite: Bool
    /// Bytes per element: the matrix format, or 4 for a float32 statistic.
    let elementBytes: Int
}

/// The HBM traffic of one algorithm, term by term in the order its lines run.
struct HBMTraffic: Equatable {
    let terms: [HBMTerm]
    var reads: Int { terms.filter { !$0.isWrite }.reduce(0) { $0 + $1.elements } }
    var writes: Int { terms.filter(\.isWrite).reduce(0) { $0 + $1.elements } }
    var accesses: Int { reads + writes }
    var bytes: Int { terms.reduce(0) { $0 + $1.elements * $1.elementBytes } }
}

/// Exact HBM accesses of standard attention, FlashAttention and FlashAttention-2 for one head.
struct AttentionIO {
    /// Query rows per block B_r, after clamping to N.
    let blockR: Int
    /// Key rows per block B_c, after clamping to N.
    let blockC: Int
    /// T_r = ⌈N / B_r⌉.
    let tilesR: Int
    /// T_c = ⌈N / B_c⌉.
    let tilesC: Int
    /// (query block, key block) pairs with at least one visible score.
    let tilesComputed: Int
    /// Algorithm 0 (2022): read Q, K, write S; read S, write P; read P, V, write O.
    let standard: HBMTraffic
    /// Algorithm 1 (2022): init O, ℓ, m; K, V once; Q, O, ℓ, m read and O, ℓ, m written per visit.
    let flash1: HBMTraffic
    /// Algorithm 1 (2023): Q once; K, V per visit; O and L written once.
    let flash2: HBMTraffic
    /// On-chip elements one inner step holds: K_j, V_j, Q_i, O_i, ℓ_i, m_i and the S_ij tile.
    let sramElements: Int

    /// - Parameters:
    ///   - blockR: B_r; `nil` takes line 1 of the 2022 Algorithm 1, min(⌈M/(4d)⌉, d).
    ///   - blockC: B_c; `nil` takes ⌈M/(4d)⌉.
    ///   - causal: skip every pair of blocks the mask hides entirely (block-sparse FlashAttention,
    ///     2022 Algorithm 5; FlashAttention-2 stops its inner loop at the diagonal). Standard
    ///     attention still materialises the full S and P, so its count does not change.
    init(n: Int, d: Int, sram: Int, bytes: Int, causal: Bool, blockR: Int?, blockC: Int?) {
        let fromSRAM = (sram + 4 * d - 1) / (4 * d)
        let bc = min(blockC ?? fromSRAM, n), br = min(blockR ?? min(fromSRAM, d), n)
        self.blockR = br
        self.blockC = bc
        tilesR = (n + br - 1) / br
        tilesC = (n + bc - 1) / bc
        let nd = n * d, nn = n * n

        standard = HBMTraffic(terms: [
            HBMTerm(elements: nd, isWrite: false, elementBytes: bytes),  // line 1: read Q
            HBMTerm(elements: nd, isWrite: false, elementBytes: bytes),  // line 1: read K
            HBMTerm(elements: nn, isWrite: true, elementBytes: bytes),   // line 1: write S
            HBMTerm(elements: nn, isWrite: false, elementBytes: bytes),  // line 2: read S
            HBMTerm(elements: nn, isWrite: true, elementBytes: bytes),   // line 2: write P
            HBMTerm(elements: nn, isWrite: false, elementBytes: bytes),  // line 3: read P
            HBMTerm(elements: nd, isWrite: false, elementBytes: bytes),  // line 3: read V
            HBMTerm(elements: nd, isWrite: true, elementBytes: bytes),   // line 3: write O
        ])

        // FlashAttention (2022): for key block j, the query blocks that see any of its keys.
        // Query block i (rows up to r1 − 1) sees key block j (keys from c0) iff c0 ≤ r1 − 1, so
        // the visible blocks are those from ⌊c0 / B_r⌋ on.
        var kvRows1 = 0, visitRows1 = 0, pairs = 0
        for j in 0..<tilesC {
            let c0 = j * bc, keyRows = min(bc, n - c0)
            let firstBlock = causal ? c0 / br : 0
            let rows = n - firstBlock * br
            guard rows > 0 else { continue }
            kvRows1 += keyRows
            visitRows1 += rows
            pairs += tilesR - firstBlock
        }
        tilesComputed = pairs
        flash1 = HBMTraffic(terms: [
            HBMTerm(elements: nd, isWrite: true, elementBytes: bytes),         // line 2: O = 0 in HBM
            HBMTerm(elements: 2 * n, isWrite: true, elementBytes: 4),          // line 2: ℓ = 0, m = −∞
            HBMTerm(elements: 2 * kvRows1 * d, isWrite: false, elementBytes: bytes),  // line 6: K_j, V_j
            HBMTerm(elements: visitRows1 * d, isWrite: false, elementBytes: bytes),   // line 8: Q_i
            HBMTerm(elements: visitRows1 * d, isWrite: false, elementBytes: bytes),   // line 8: O_i
            HBMTerm(elements: 2 * visitRows1, isWrite: false, elementBytes: 4),       // line 8: ℓ_i, m_i
            HBMTerm(elements: visitRows1 * d, isWrite: true, elementBytes: bytes),    // line 12: O_i
            HBMTerm(elements: 2 * visitRows1, isWrite: true, elementBytes: 4),        // line 13: ℓ_i, m_i
        ])

        // FlashAttention-2: for query block i, the key blocks up to the one holding key r1 − 1.
        var kvRows2 = 0
        for i in 0..<tilesR {
            let r1 = min((i + 1) * br, n)
            kvRows2 += causal ? min(((r1 - 1) / bc + 1) * bc, n) : n
        }
        flash2 = HBMTraffic(terms: [
            HBMTerm(elements: nd, isWrite: false, elementBytes: bytes),          // line 4: Q_i
            HBMTerm(elements: 2 * kvRows2 * d, isWrite: false, elementBytes: bytes),  // line 7: K_j, V_j
            HBMTerm(elements: nd, isWrite: true, elementBytes: bytes),           // line 14: O_i
            HBMTerm(elements: n, isWrite: true, elementBytes: 4),                // line 15: L_i
        ])

        sramElements = 2 * bc * d + 2 * br * d + 2 * br + br * bc
    }
}

/// `attention.io`: HBM element and byte counts of standard attention and both FlashAttention loop orders.
public struct AttentionIOModule: ComputeModule {
    public init() {}
    public let name = "attention.io"
    public let summary = "HBM reads and writes of standard attention, FlashAttention (K/V outer) and FlashAttention-2 (Q outer), counted line by line; P kept vs one log-sum-exp per row."
    public let parameters: [ParameterSpec] = [
        .integer("n", 1024, range: .closed(1, 1_048_576), doc: "sequence length N (queries = keys)"),
        .integer("d", 64, range: .closed(1, 1024), doc: "head dimension d"),
        // 192 KiB at 2 bytes: the per-SM SRAM of an A100 that Dao et al. (2022, sec. 2.1) quote.
        .integer("sram", 98_304, range: .closed(1, 16_777_216), doc: "on-chip memory M in elements (98304 = 192 KiB of 2-byte elements)"),
        .integer("bytes", 2, range: .closed(1, 8), doc: "bytes per element of Q, K, V, S, P, O (2 for fp16/bf16)"),
        .bool("causal", false, doc: "skip blocks the causal mask hides entirely (standard attention still writes all of S and P)"),
        ParameterSpec(name: "block_r", kind: .integer, defaultValue: .computed("min(⌈M/(4d)⌉, d)"),
                      doc: "query rows per block B_r (2022 Algorithm 1, line 1)", range: .closed(1, 1_048_576)),
        ParameterSpec(name: "block_c", kind: .integer, defaultValue: .computed("⌈M/(4d)⌉"),
                      doc: "key rows per block B_c (2022 Algorithm 1, line 1)", range: .closed(1, 1_048_576)),
    ]
    public let outputs: [OutputSpec] = [
        .init("block_r", .integer, doc: "B_r used (clamped to N)"),
        .init("block_c", .integer, doc: "B_c used (clamped to N)"),
        .init("tiles_r", .integer, doc: "T_r = ⌈N/B_r⌉ query blocks"),
        .init("tiles_c", .integer, doc: "T_c = ⌈N/B_c⌉ key blocks"),
        .init("tiles_computed", .integer, doc: "(query block, key block) pairs visited: T_r·T_c, or those with a visible score when causal"),
        .init("tiles_skipped", .integer, doc: "pairs the causal mask hides entirely"),
        .init("sram_elements", .integer, doc: "on-chip elements of one inner step: 2·B_c·d (K_j, V_j) + 2·B_r·d (Q_i, O_i) + 2·B_r (ℓ_i, m_i) + B_r·B_c (S_ij)"),
        .init("fits_sram", .bool, doc: "sram_elements ≤ M"),
        .init("standard_terms", .vector, doc: "elements: read Q, read K, write S, read S, write P, read P, read V, write O (Algorithm 0, lines 1-3)"),
        .init("standard_reads", .integer, doc: "3Nd + 2N²"),
        .init("standard_writes", .integer, doc: "2N² + Nd"),
        .init("standard_accesses", .integer, doc: "4N² + 4Nd elements"),
        .init("standard_bytes", .integer, doc: "standard_accesses × bytes"),
        .init("fa1_terms", .vector, doc: "elements: init O; init ℓ, m; K_j, V_j; Q_i; O_i; ℓ_i, m_i (reads); O_i; ℓ_i, m_i (writes) — 2022 Algorithm 1, lines 2, 6, 8, 12, 13"),
        .init("fa1_reads", .integer, doc: "2Nd + T_c·(2Nd + 2N) without the mask"),
        .init("fa1_writes", .integer, doc: "Nd + 2N + T_c·(Nd + 2N) without the mask"),
        .init("fa1_accesses", .integer, doc: "all elements FlashAttention (K/V outer) moves"),
        .init("fa1_bytes", .integer, doc: "matrix elements × bytes + statistics × 4"),
        .init("fa1_ratio", .number, doc: "standard_accesses / fa1_accesses: times fewer elements moved"),
        .init("fa1_constant", .number, doc: "fa1_accesses / (N²d²/M): the constant Theorem 2's Θ hides"),
        .init("fa2_terms", .vector, doc: "elements: Q_i; K_j, V_j; O_i; L_i — 2023 Algorithm 1, lines 4, 7, 14, 15"),
        .init("fa2_reads", .integer, doc: "Nd + T_r·2Nd without the mask"),
        .init("fa2_writes", .integer, doc: "Nd + N"),
        .init("fa2_accesses", .integer, doc: "all elements FlashAttention-2 (Q outer) moves"),
        .init("fa2_bytes", .integer, doc: "matrix elements × bytes + L × 4"),
        .init("fa2_ratio", .number, doc: "standard_accesses / fa2_accesses: times fewer elements moved"),
        .init("p_bytes", .integer, doc: "N²·bytes: P kept for the backward pass by standard attention, per head"),
        .init("p_mib", .number, doc: "p_bytes / 2²⁰"),
        .init("lse_bytes", .integer, doc: "N·4: one float32 log-sum-exp per row, all FlashAttention-2 keeps"),
        .init("fa1_stats_bytes", .integer, doc: "2N·4: ℓ and m per row, what FlashAttention (2022) keeps"),
        .init("p_over_lse", .number, doc: "p_bytes / lse_bytes = N·bytes/4"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let n = try inputs.integer("n"), d = try inputs.integer("d")
        let sram = try inputs.integer("sram"), bytes = try inputs.integer("bytes")
        let causal = try inputs.bool("causal")
        let blockR = inputs["block_r"] == nil ? nil : try inputs.integer("block_r")
        let blockC = inputs["block_c"] == nil ? nil : try inputs.integer("block_c")
        // With N ≤ 2²⁰ and d ≤ 2¹⁰ the largest term, 2·d·N² (B_r = 1), is 2⁵¹ elements and
        // 2⁵⁴ bytes: every count fits an Int.
        let io = AttentionIO(n: n, d: d, sram: sram, bytes: bytes, causal: causal, blockR: blockR, blockC: blockC)
        let bound = Double(n) * Double(n) * Double(d) * Double(d) / Double(sram)
        let pBytes = n * n * bytes, lseBytes = n * 4
        func terms(_ t: HBMTraffic) -> Value { .vector(t.terms.map { Double($0.elements) }) }
        return [
            "block_r": .integer(io.blockR),
            "block_c": .integer(io.blockC),
            "tiles_r": .integer(io.tilesR),
            "tiles_c": .integer(io.tilesC),
            "tiles_computed": .integer(io.tilesComputed),
            "tiles_skipped": .integer(io.tilesR * io.tilesC - io.tilesComputed),
            "sram_elements": .integer(io.sramElements),
            "fits_sram": .bool(io.sramElements <= sram),
            "standard_terms": terms(io.standard),
            "standard_reads": .integer(io.standard.reads),
            "standard_writes": .integer(io.standard.writes),
            "standard_accesses": .integer(io.standard.accesses),
            "standard_bytes": .integer(io.standard.bytes),
            "fa1_terms": terms(io.flash1),
            "fa1_reads": .integer(io.flash1.reads),
            "fa1_writes": .integer(io.flash1.writes),
            "fa1_accesses": .integer(io.flash1.accesses),
            "fa1_bytes": .integer(io.flash1.bytes),
            "fa1_ratio": .number(Double(io.standard.accesses) / Double(io.flash1.accesses)),
            "fa1_constant": .number(Double(io.flash1.accesses) / bound),
            "fa2_terms": terms(io.flash2),
            "fa2_reads": .integer(io.flash2.reads),
            "fa2_writes": .integer(io.flash2.writes),
            "fa2_accesses": .integer(io.flash2.accesses),
            "fa2_bytes": .integer(io.flash2.bytes),
            "fa2_ratio": .number(Double(io.standard.accesses) / Double(io.flash2.accesses)),
            "p_bytes": .integer(pBytes),
            "p_mib": .number(Double(pBytes) / 1_048_576),
            "lse_bytes": .integer(lseBytes),
            "fa1_stats_bytes": .integer(2 * lseBytes),
            "p_over_lse": .number(Double(pBytes) / Double(lseBytes)),
        ]
    }
}
