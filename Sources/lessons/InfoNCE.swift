import Foundation
import NotebookCore

// InfoNCE (van den Oord, Li & Vinyals, 2018, "Representation Learning with Contrastive
// Predictive Coding"): each row scores one positive among N candidates; the loss is the
// categorical cross-entropy of the softmax over the row, and log N − loss is a lower bound
// on the mutual information between the two views. `infonce.batch` is the in-batch form of
// SimCLR (Chen et al., 2020) and CLIP (Radford et al., 2021): the other rows' positives are
// the negatives, scored by cosine similarity over a temperature.

/// Scores and temperatures are bounded so that every logit s/τ and every difference of two
/// logits is finite (|s/τ| ≤ 10²⁰⁰): the stable formulas below then never see ±∞.
let contrastiveScoreLimit = 1e100
let contrastiveTemperatureRange = NumberRange.closed(1e-100, 1e100)

/// Softmax cross-entropy of one row of logits against the entry `positive`, with its gradient.
struct CrossEntropyRow {
    /// softmax(logits)
    let probabilities: [Double]
    /// logsumexp(logits) − logits[positive], ≥ 0
    let loss: Double
    /// ∂loss/∂logits = p − onehot(positive)
    let gradient: [Double]

    init(_ logits: [Double], positive: Int) {
        let top = firstArgmax(logits)
        let m = logits[top]
        let e = logits.map { exp($0 - m) }
        // Σ_{j≠top} e_j and Σ_{j≠positive} e_j, summed apart from the 1 at the top so that
        // log(Σ e) = log1p(othersTop) and 1 − p_pos = othersPositive/Σ e keep full relative
        // precision when one logit dominates (loss ≈ e^(−gap), not a rounded log 1 = 0).
        var othersTop = 0.0, othersPositive = 0.0
        for j in e.indices {
            if j != top { othersTop += e[j] }
            if j != positive { othersPositive += e[j] }
        }
        let sum = 1 + othersTop
        probabilities = e.map { $0 / sum }
        loss = (m - logits[positive]) + log1p(othersTop)
        var g = probabilities
        // `+ 0` turns the −0 of a lone candidate (N = 1) into 0.
        g[positive] = -(othersPositive / sum) + 0
        gradient = g
    }
}

/// "1 row", "3 rows", "2 entries": counts in error messages.
func countedNoun(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
    "\(n) \(n == 1 ? singular : plural ?? singular + "s")"
}

/// The first index of the largest value.
func firstArgmax(_ xs: [Double]) -> Int {
    var top = 0
    for j in xs.indices where xs[j] > xs[top] { top = j }
    return top
}

/// `infonce.loss`: InfoNCE from a matrix of critic scores.
public struct InfoNCELossModule: ComputeModule {
    public init() {}
    public let name = "infonce.loss"
    public let summary = "InfoNCE: cross-entropy of one positive among N candidates per row, and the bound I ≥ log N − loss."
    public let parameters: [ParameterSpec] = [
        .matrix("scores", [[3, 1, 0.2, -1], [0.5, 2, 0.1, 0.3]],
                range: .closed(-contrastiveScoreLimit, contrastiveScoreLimit), maxElements: 1_000_000,
                doc: "critic scores f(x, c), B×N: one row per context, one column per candidate"),
        .integer("positive", 0, range: .atLeast(0), doc: "column of the positive candidate in every row"),
        .number("temperature", 1, range: contrastiveTemperatureRange, doc: "τ: logits = scores/τ"),
    ]
    public let outputs: [OutputSpec] = [
        .init("logits", .matrix, hint: .table, doc: "scores/τ"),
        .init("probabilities", .matrix, hint: .heatmap, doc: "row softmax of the logits"),
        .init("row_loss", .vector, doc: "logsumexp(logits) − logits[positive] for each row, nats"),
        .init("loss", .number, doc: "mean row loss L_N, nats"),
        .init("grad", .matrix, hint: .table, doc: "∂loss/∂scores = (p − onehot)/(τ·B)"),
        .init("mi_bound", .number, doc: "log N − loss: InfoNCE's lower bound on I(X;C), nats"),
        .init("accuracy", .number, hint: .percent, doc: "share of rows whose first largest score is the positive"),
        .init("p_positive", .vector, doc: "probability the softmax gives the positive, per row"),
        .init("log_n", .number, doc: "log N, the most the bound can ever show"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let scores = try inputs.matrix("scores")
        let positive = try inputs.integer("positive")
        let tau = try inputs.number("temperature")
        let b = scores.count, n = scores[0].count
        guard positive < n else {
            throw .invalid("positive", "is \(positive) but the rows have \(n) candidates (columns 0..<\(n))")
        }
        var logits: [[Double]] = [], probabilities: [[Double]] = [], grad: [[Double]] = []
        var rowLoss: [Double] = [], pPositive: [Double] = []
        var correct = 0
        let scale = tau * Double(b)
        for row in scores {
            let z = row.map { $0 / tau }
            let ce = CrossEntropyRow(z, positive: positive)
            logits.append(z)
            probabilities.append(ce.probabilities)
            rowLoss.append(ce.loss)
            pPositive.append(ce.probabilities[positive])
            grad.append(ce.gradient.map { $0 / scale })
            // Ranked by the scores themselves: dividing by τ could round two close scores into a tie.
            if firstArgmax(row) == positive { correct += 1 }
        }
        let loss = rowLoss.reduce(0, +) / Double(b)
        let logN = log(Double(n))
        return [
            "logits": .matrix(logits),
            "probabilities": .matrix(probabilities),
            "row_loss": .vector(rowLoss),
            "loss": .number(loss),
            "grad": .matrix(grad),
            "mi_bound": .number(logN - loss),
            "accuracy": .number(Double(correct) / Double(b)),
            "p_positive": .vector(pPositive),
            "log_n": .number(logN),
        ]
    }
}

/// `infonce.batch`: in-batch contrastive loss on embeddings, as in SimCLR and CLIP.
public struct InfoNCEBatchModule: ComputeModule {
    public init() {}
    public let name = "infonce.batch"
    public let summary = "In-batch InfoNCE on embeddings: cosine similarities over τ, targets on the diagonal, gradient through the normalisation."
    public let parameters: [ParameterSpec] = [
        .matrix("anchors", [[1, 0.2, 0], [0.1, 1, 0.3], [-0.5, 0.2, 1]],
                range: .closed(-contrastiveScoreLimit, contrastiveScoreLimit), maxElements: 262_144,
                doc: "anchor embeddings, B×d (one view of each example)"),
        .matrix("positives", [[0.9, 0.4, 0.1], [0.3, 0.8, -0.2], [-0.2, 0.5, 0.9]],
                range: .closed(-contrastiveScoreLimit, contrastiveScoreLimit), maxElements: 262_144,
                doc: "positive embeddings, B×d (the other view; row i belongs with anchor i)"),
        .number("temperature", 0.1, range: contrastiveTemperatureRange, doc: "τ: logits = similarity/τ"),
        .bool("normalize", true, doc: "L2-normalise every row first, so similarities are cosines"),
        .bool("symmetric", false, doc: "average with the positives→anchors direction (columns), as in CLIP"),
    ]
    public let outputs: [OutputSpec] = [
        .init("similarity", .matrix, hint: .heatmap, doc: "â p̂ᵀ, B×B (cosines when normalised)"),
        .init("logits", .matrix, hint: .table, doc: "similarity/τ"),
        .init("loss", .number, doc: "mean cross-entropy with targets on the diagonal (both directions averaged when symmetric), nats"),
        .init("grad_anchors", .matrix, hint: .table, doc: "∂loss/∂anchors of the loss reported, through the normalisation"),
        .init("mi_bound", .number, doc: "log B − loss, nats"),
        .init("accuracy", .number, hint: .percent, doc: "share of rows whose first largest similarity is on the diagonal (mean with columns when symmetric)"),
        .init("loss_rows", .number, doc: "anchors→positives direction: each anchor picks its positive among B"),
        .init("loss_columns", .number, doc: "positives→anchors direction: each positive picks its anchor among B"),
        .init("probabilities", .matrix, hint: .heatmap, doc: "row softmax of the logits"),
        .init("grad_positives", .matrix, hint: .table, doc: "∂loss/∂positives of the loss reported"),
        .init("grad_radial", .vector, doc: "âᵢ·∂loss/∂anchorsᵢ per row: 0 when normalising, since rescaling an anchor changes no cosine"),
    ]

    /// Limits on the B×B similarity matrix and on the B·B·d multiply-adds.
    static let maxBatch = 1_000
    static let maxWork = 50_000_000

    /// Row norms, scaled by the largest entry so that squares neither overflow nor underflow.
    static func norm(_ x: [Double]) -> Double {
        let s = x.reduce(0.0) { max($0, abs($1)) }
        guard s > 0 else { return 0 }
        return s * sqrt(x.reduce(0.0) { $0 + ($1 / s) * ($1 / s) })
    }

    static func normalized(_ rows: [[Double]], parameter: String) throws(ComputeError) -> (unit: [[Double]], norms: [Double]) {
        var unit: [[Double]] = [], norms: [Double] = []
        for (i, row) in rows.enumerated() {
            let r = norm(row)
            guard r > 0 else {
                throw .invalid(parameter, "row \(i) is all zeros and has no direction to normalise; give it a non-zero entry or set normalize = false")
            }
            unit.append(row.map { $0 / r })
            norms.append(r)
        }
        return (unit, norms)
    }

    /// ∂L/∂x from ∂L/∂x̂ for x̂ = x/‖x‖: the component along x̂ is removed and the rest scaled by 1/‖x‖.
    static func backThroughNormalization(_ g: [Double], unit: [Double], norm: Double) -> [Double] {
        let radial = zip(g, unit).reduce(0.0) { $0 + $1.0 * $1.1 }
        return zip(g, unit).map { ($0 - radial * $1) / norm }
    }

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let anchors = try inputs.matrix("anchors"), positives = try inputs.matrix("positives")
        let tau = try inputs.number("temperature")
        let normalize = try inputs.bool("normalize"), symmetric = try inputs.bool("symmetric")
        let b = anchors.count, d = anchors[0].count
        guard positives.count == b else {
            throw .invalid("positives", "has \(countedNoun(positives.count, "row")) but anchors has \(countedNoun(b, "row")); row i of each is one positive pair")
        }
        guard positives[0].count == d else {
            throw .invalid("positives", "has \(countedNoun(positives[0].count, "column")) but anchors has \(countedNoun(d, "column")); both embeddings need the same width d")
        }
        guard b <= Self.maxBatch else {
            throw .invalid("anchors", "has \(b) rows; the B×B similarity matrix is limited to B ≤ \(Self.maxBatch)")
        }
        guard b * b * d <= Self.maxWork else {
            throw .invalid("anchors", "with positives needs \(b)×\(b)×\(d) multiply-adds; the limit is \(Self.maxWork)")
        }

        var a = anchors, p = positives
        var aNorms = [Double](repeating: 1, count: b), pNorms = aNorms
        if normalize {
            (a, aNorms) = try Self.normalized(anchors, parameter: "anchors")
            (p, pNorms) = try Self.normalized(positives, parameter: "positives")
        }
        func dot(_ x: [Double], _ y: [Double]) -> Double {
            var s = 0.0
            for t in 0..<d { s += x[t] * y[t] }
            return s
        }
        let similarity = a.map { ai in p.map { pj in dot(ai, pj) } }
        let logits = similarity.map { $0.map { $0 / tau } }

        // Rows: anchor i against every positive. ∂loss_rows/∂S = (P − I)/(τB).
        let scale = tau * Double(b)
        var gS = [[Double]](repeating: [Double](repeating: 0, count: b), count: b)
        var probabilities: [[Double]] = []
        var lossRows = 0.0, correctRows = 0
        for i in 0..<b {
            let ce = CrossEntropyRow(logits[i], positive: i)
            probabilities.append(ce.probabilities)
            lossRows += ce.loss
            for j in 0..<b { gS[i][j] = ce.gradient[j] / scale }
            if firstArgmax(similarity[i]) == i { correctRows += 1 }
        }
        lossRows /= Double(b)

        // Columns: positive j against every anchor, the softmax running down column j.
        var lossColumns = 0.0, correctColumns = 0
        var gColumns = [[Double]](repeating: [Double](repeating: 0, count: b), count: b)
        for j in 0..<b {
            let column = (0..<b).map { logits[$0][j] }
            let ce = CrossEntropyRow(column, positive: j)
            lossColumns += ce.loss
            for i in 0..<b { gColumns[i][j] = ce.gradient[i] / scale }
            if firstArgmax((0..<b).map { similarity[$0][j] }) == j { correctColumns += 1 }
        }
        lossColumns /= Double(b)

        let loss: Double, accuracy: Double
        if symmetric {
            loss = (lossRows + lossColumns) / 2
            accuracy = Double(correctRows + correctColumns) / Double(2 * b)
            for i in 0..<b { for j in 0..<b { gS[i][j] = (gS[i][j] + gColumns[i][j]) / 2 } }
        } else {
            loss = lossRows
            accuracy = Double(correctRows) / Double(b)
        }

        // S = â p̂ᵀ: ∂L/∂âᵢ = Σⱼ G_ij p̂ⱼ and ∂L/∂p̂ⱼ = Σᵢ G_ij âᵢ.
        var gradA: [[Double]] = [], gradP: [[Double]] = [], radial: [Double] = []
        for i in 0..<b {
            var g = [Double](repeating: 0, count: d)
            for j in 0..<b where gS[i][j] != 0 {
                for t in 0..<d { g[t] += gS[i][j] * p[j][t] }
            }
            let full = normalize ? Self.backThroughNormalization(g, unit: a[i], norm: aNorms[i]) : g
            gradA.append(full)
            // Measured along the unit anchor whether or not the loss normalises.
            let unit = normalize ? a[i] : anchors[i].map { $0 / max(Self.norm(anchors[i]), .leastNormalMagnitude) }
            radial.append(dot(unit, full))
        }
        for j in 0..<b {
            var g = [Double](repeating: 0, count: d)
            for i in 0..<b where gS[i][j] != 0 {
                for t in 0..<d { g[t] += gS[i][j] * a[i][t] }
            }
            gradP.append(normalize ? Self.backThroughNormalization(g, unit: p[j], norm: pNorms[j]) : g)
        }
        return [
            "similarity": .matrix(similarity),
            "logits": .matrix(logits),
            "loss": .number(loss),
            "grad_anchors": .matrix(gradA),
            "mi_bound": .number(log(Double(b)) - loss),
            "accuracy": .number(accuracy),
            "loss_rows": .number(lossRows),
            "loss_columns": .number(lossColumns),
            "probabilities": .matrix(probabilities),
            "grad_positives": .matrix(gradP),
            "grad_radial": .vector(radial),
        ]
    }
}
