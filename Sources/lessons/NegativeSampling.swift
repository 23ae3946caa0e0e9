import Foundation
import NotebookCore

// Three ways to learn a score s(w, c) for word–context pairs from a table of co-occurrences,
// compared at the population level (expectations over the table, per positive pair):
//
// - Full softmax: −Σ p(w,c) log softmax_c(s(w, ·)), which scores all |V| contexts per example.
// - NCE (Gutmann & Hyvärinen, 2012; Mnih & Teh, 2012, "A fast and simple algorithm for training
//   neural probabilistic language models"): logistic regression of each observed context
//   against k contexts from a noise distribution p_n, with logit G = s − log(k·p_n(c)). It scores
//   k + 1 contexts per example and its optimum is s = log p(c|w): fixing the normaliser at 0
//   makes the model self-normalised.
// - Negative sampling (Mikolov et al., 2013, "Distributed representations of words and phrases
//   and their compositionality"): the same logistic regression with logit G = s, dropping the
//   log(k·p_n) term. Levy & Goldberg (2014, "Neural word embedding as implicit matrix
//   factorization") showed its optimum is s = log[p(w,c)/(p(w)·p_n(c))] − log k, the shifted
//   PMI when p_n is the context marginal.
//
// Both logistic losses are, per cell, p(w,c)·softplus(−G) + k·p(w)·p_n(c)·softplus(G): observed
// pairs weigh the first term, expected noise draws the second. Its derivative in G vanishes where
// e^G = p(w,c)/(k·p(w)·p_n(c)), which gives both optima. word2vec smooths the noise as
// p_n(c) ∝ p(c)^0.75; `noise_power` sets that exponent.

/// The co-occurrence table with its noise distribution and the three losses as functions of s.
struct WordContextTable {
    let joint: JointDistribution
    /// Noise samples per observed pair.
    let k: Double
    /// p_n(c) ∝ p(c)^α.
    let noise: [Double]

    init(_ joint: JointDistribution, k: Double, noisePower alpha: Double) {
        self.joint = joint
        self.k = k
        // Through logs, so tiny marginals raised to α neither underflow nor lose precision.
        noise = SafeSoftmax(joint.py.map { alpha * log($0) }).probabilities
    }

    var words: Int { joint.px.count }
    var contexts: Int { joint.py.count }

    /// log(k·p_n(c)): what NCE subtracts from the score and negative sampling does not.
    var logNoiseOffset: [Double] { noise.map { log(k) + log($0) } }

    /// log[p(w,c)/(p(w)·p_n(c))] − log k, −∞ where p(w,c) = 0: where negative sampling's loss is
    /// stationary.
    func sgnsOptimum() -> [[Double]] {
        let offset = logNoiseOffset
        return (0..<words).map { w in
            (0..<contexts).map { c in
                let p = joint.pxy[w][c]
                return p > 0 ? log(p) - log(joint.px[w]) - offset[c] : -.infinity
            }
        }
    }

    /// log p(c|w), −∞ where p(w,c) = 0: where NCE's loss is stationary.
    func nceOptimum() -> [[Double]] {
        (0..<words).map { w in
            (0..<contexts).map { c in
                let p = joint.pxy[w][c]
                return p > 0 ? log(p) - log(joint.px[w]) : -.infinity
            }
        }
    }

    /// Σ p(w,c)·softplus(−G) + k·p(w)·p_n(c)·softplus(G) and its gradient in s, with
    /// G = s − offset(c). A cell with p(w,c) = 0 has no data term, so s = −∞ there costs nothing.
    func logisticLoss(_ s: [[Double]], offset: [Double]) -> (loss: Double, gradient: [[Double]]) {
        var loss = 0.0
        var gradient = s.map { $0.map { _ in 0.0 } }
        for w in 0..<words {
            for c in 0..<contexts {
                let g = s[w][c] - offset[c]
                let data = joint.pxy[w][c], noiseWeight = k * joint.px[w] * noise[c]
                if data > 0 { loss += data * softplus(-g) }
                loss += noiseWeight * softplus(g)
                gradient[w][c] = (data > 0 ? -data * sigmoid(-g) : 0) + noiseWeight * sigmoid(g)
            }
        }
        return (loss, gradient)
    }

    /// −Σ p(w,c)·log softmax_c(s(w, ·)) and its gradient p(w)·softmax − p(w,c).
    func softmaxLoss(_ s: [[Double]]) -> (loss: Double, gradient: [[Double]]) {
        var loss = 0.0
        var gradient: [[Double]] = []
        for w in 0..<words {
            let row = SafeSoftmax(s[w])
            let lse = row.logSumExp
            let p = row.probabilities
            for c in 0..<contexts where joint.pxy[w][c] > 0 { loss += joint.pxy[w][c] * (lse - s[w][c]) }
            gradient.append((0..<contexts).map { joint.px[w] * p[$0] - joint.pxy[w][$0] })
        }
        return (loss, gradient)
    }
}

/// `nce.negative-sampling`: optima and losses of full softmax, NCE and word2vec's negative sampling.
public struct NegativeSamplingModule: ComputeModule {
    public init() {}
    public let name = "nce.negative-sampling"
    public let summary = "Word–context scores: NCE's optimum log p(c|w) (self-normalised), negative sampling's PMI − log k, and the O(|V|) vs O(k + 1) cost."

    static let scoreRange = NumberRange.closed(-contrastiveScoreLimit, contrastiveScoreLimit)

    public let parameters: [ParameterSpec] = [
        .matrix("joint", [[30, 2, 18], [3, 27, 20]], maxElements: 10_000,
                doc: "co-occurrence counts or probabilities; rows are words w, columns contexts c; no row or column may be all zero"),
        .integer("k", 2, range: .closed(1, 1_000_000), doc: "noise contexts per observed pair, 1 to 1,000,000"),
        .number("noise_power", 1, range: .closed(0, 2),
                doc: "α in p_n(c) ∝ p(c)^α: 1 is the context marginal, 0.75 word2vec's, 0 uniform"),
        ParameterSpec(name: "scores", kind: .matrix, defaultValue: .computed("zeros"),
                      doc: "scores s(w, c) at which the three losses and their gradients are evaluated, the shape of joint (|s| ≤ 1e100)",
                      range: NegativeSamplingModule.scoreRange, maxElements: 10_000),
    ]
    public let outputs: [OutputSpec] = [
        .init("p_wc", .matrix, hint: .heatmap, doc: "the joint distribution of words and contexts"),
        .init("noise", .vector, hint: .chart, doc: "p_n(c) ∝ p(c)^α"),
        .init("pmi", .matrix, hint: .table, doc: "log[p(w,c)/(p(w)p(c))], −inf where p(w,c) = 0"),
        .init("sgns_optimum", .matrix, hint: .table,
              doc: "negative sampling's optimal s = log[p(w,c)/(p(w)p_n(c))] − log k: pmi − log k when α = 1"),
        .init("nce_optimum", .matrix, hint: .table, doc: "NCE's optimal s = log p(c|w), whatever the noise"),
        .init("log_k_noise", .vector, doc: "log(k·p_n(c)): the term negative sampling drops, nce_optimum − sgns_optimum"),
        .init("nce_row_sum", .vector, doc: "Σ_c exp(nce_optimum) per word: 1, the self-normalisation"),
        .init("sgns_row_sum", .vector, doc: "Σ_c exp(sgns_optimum) per word: not 1, negative sampling learns no normalised model"),
        .init("softmax_loss", .number, doc: "−Σ p(w,c) log softmax_c(s) at scores, nats per pair"),
        .init("nce_loss", .number, doc: "Σ p(w,c) softplus(−G) + k p(w) p_n(c) softplus(G) at scores, G = s − log(k p_n(c))"),
        .init("sgns_loss", .number, doc: "the same with G = s"),
        .init("grad_softmax", .matrix, hint: .table, doc: "∂softmax_loss/∂scores = p(w)·softmax − p(w,c)"),
        .init("grad_nce", .matrix, hint: .table, doc: "∂nce_loss/∂scores = −p(w,c)σ(−G) + k p(w) p_n(c) σ(G)"),
        .init("grad_sgns", .matrix, hint: .table, doc: "∂sgns_loss/∂scores, the same with G = s"),
        .init("nce_loss_optimum", .number, doc: "nce_loss at nce_optimum, its minimum"),
        .init("sgns_loss_optimum", .number, doc: "sgns_loss at sgns_optimum, its minimum"),
        .init("softmax_loss_optimum", .number, doc: "softmax_loss at nce_optimum: H(C|W), its minimum"),
        .init("cost_softmax", .integer, doc: "contexts scored per example by the full softmax: |V|, the column count"),
        .init("cost_nce", .integer, doc: "contexts scored per example by NCE or negative sampling: k + 1"),
        .init("cost_ratio", .number, doc: "cost_softmax / cost_nce"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let joint = try JointDistribution(inputs.matrix("joint"), parameter: "joint")
        for (w, p) in joint.px.enumerated() where p == 0 {
            throw .invalid("joint", "row \(w) is all zeros: a word that never occurs has no scores to learn; remove it")
        }
        for (c, p) in joint.py.enumerated() where p == 0 {
            throw .invalid("joint", "column \(c) is all zeros: a context that never occurs has no noise probability; remove it")
        }
        let k = try inputs.integer("k"), alpha = try inputs.number("noise_power")
        let table = WordContextTable(joint, k: Double(k), noisePower: alpha)
        let words = table.words, contexts = table.contexts
        let scores: [[Double]]
        if inputs["scores"] != nil {
            scores = try inputs.matrix("scores")
            guard scores.count == words, scores[0].count == contexts else {
                throw .invalid("scores", "is \(scores.count)×\(scores[0].count) but joint is \(words)×\(contexts); give one score per word–context cell")
            }
        } else {
            scores = [[Double]](repeating: [Double](repeating: 0, count: contexts), count: words)
        }

        let offset = table.logNoiseOffset
        let zero = [Double](repeating: 0, count: contexts)
        let sgnsStar = table.sgnsOptimum(), nceStar = table.nceOptimum()
        let pmi = (0..<words).map { w in
            (0..<contexts).map { c in joint.pxy[w][c] > 0 ? joint.pointwiseMutualInformation(w, c) : -.infinity }
        }
        let softmax = table.softmaxLoss(scores)
        let nce = table.logisticLoss(scores, offset: offset)
        let sgns = table.logisticLoss(scores, offset: zero)
        func rowSums(_ m: [[Double]]) -> [Double] {
            m.map { row in row.reduce(0.0) { $0 + exp($1) } }
        }
        return [
            "p_wc": .matrix(joint.pxy),
            "noise": .vector(table.noise),
            "pmi": .matrix(pmi),
            "sgns_optimum": .matrix(sgnsStar),
            "nce_optimum": .matrix(nceStar),
            "log_k_noise": .vector(offset),
            "nce_row_sum": .vector(rowSums(nceStar)),
            "sgns_row_sum": .vector(rowSums(sgnsStar)),
            "softmax_loss": .number(softmax.loss),
            "nce_loss": .number(nce.loss),
            "sgns_loss": .number(sgns.loss),
            "grad_softmax": .matrix(softmax.gradient),
            "grad_nce": .matrix(nce.gradient),
            "grad_sgns": .matrix(sgns.gradient),
            "nce_loss_optimum": .number(table.logisticLoss(nceStar, offset: offset).loss),
            "sgns_loss_optimum": .number(table.logisticLoss(sgnsStar, offset: zero).loss),
            "softmax_loss_optimum": .number(table.softmaxLoss(nceStar).loss),
            "cost_softmax": .integer(contexts),
            "cost_nce": .integer(k + 1),
            "cost_ratio": .number(Double(contexts) / Double(k + 1)),
        ]
    }
}
