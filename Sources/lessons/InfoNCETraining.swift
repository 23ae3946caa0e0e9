import Foundation
import NotebookCore

// Training a pair of linear encoders with InfoNCE on a task whose mutual information is known.
//
// The task: x ~ N(0, I_d) and two noisy views v₁ = x + σ⊙ε₁, v₂ = x + σ⊙ε₂ with independent
// ε ~ N(0, I_d) and one noise scale σ_t per coordinate (one number σ means σ_t = σ for every t).
// Coordinate t of (v₁, v₂) is a Gaussian pair with variances a_t = 1 + σ_t² and covariance 1, so
// correlation ρ_t = 1/a_t and
//     I(v₁; v₂) = Σ_t −½ log(1 − ρ_t²) = Σ_t ½ log(1 + 1/(σ_t²(2 + σ_t²))).
// The encoders are g = W₁v₁ and h = W₂v₂ (k × d each). A minibatch of B pairs scores every g_i
// against every h_j; row i's positive is h_i and the other rows' views are its negatives
// (in-batch negatives, as in SimCLR and CLIP). The critic is one of
//     distance:  s = −‖g − h‖²/(2τ)   (contains the ideal critic of the isotropic task, below)
//     bilinear:  s = g·h/τ
//     cosine:    s = ĝ·ĥ/τ            (bounded by 1/τ, so the bound stays below 2/τ)
// and plain SGD with the analytic gradient steps W₁ and W₂ on the mean row loss. With
// `negatives = false` SGD instead steps on the positive term alone, the mean of −s_ii (for the
// distance critic ‖g_i − h_i‖²/(2τ), which W₁ = W₂ = 0 minimises: the features collapse); the
// evaluations still score InfoNCE.
//
// The ideal critic is the log density ratio, log p(v₂|v₁)/p(v₂) = Σ_t [v₁ₜv₂ₜ − v₂ₜ²/(2a_t)]/(a_t² − 1)
// up to a term in v₁ alone, which cancels in the softmax. When every σ_t is equal the distance
// critic equals it for W₁ = a·β·I and W₂ = β·I with β² = τ/(a(a² − 1)), so a trained encoder can
// approach the best bound the batch allows. On every batch log B − loss ≤ log B (the loss is a
// cross-entropy); only in expectation is it also below the true I, so single batches can
// overshoot I.
//
// The representation is scored exactly, as population values: I(W₁v₁; W₂v₂), the R² of the best
// linear probe from g = W₁v₁ to each coordinate of x (the downstream target), and the feature
// scale √E‖g‖².
//
// Randomness: one seeded stream draws W₁ then W₂ (row by row, entries N(0, 1/d)) and then, per
// step and per example, x, ε₁ and ε₂ (d normals each, Box–Muller). Evaluation batches come from
// a second stream seeded with seed XOR 0x5851F42D4C957F2D, the same batches before and after
// training, so initial_bound and final_bound differ only by what was learned.

/// The critic that scores an anchor's features g against a candidate's h.
enum EncoderCritic: String, CaseIterable {
    case distance, bilinear, cosine
}

/// The two-view Gaussian task, with one noise scale per coordinate.
struct TwoViewGaussianTask {
    let dims: Int
    /// σ_t, the noise added to coordinate t of each view (d entries).
    let noise: [Double]

    init(dims: Int, noise: [Double]) {
        precondition(noise.count == dims, "one noise scale per coordinate")
        self.dims = dims
        self.noise = noise
    }

    /// The same noise σ in every coordinate.
    init(dims: Int, noise: Double) {
        self.init(dims: dims, noise: [Double](repeating: noise, count: dims))
    }

    /// a_t = Var(v_t) = 1 + σ_t².
    var viewVariance: [Double] { noise.map { 1 + $0 * $0 } }
    /// a_t² − 1 = σ_t²(2 + σ_t²), written so that a small σ loses nothing to cancellation.
    var varianceGap: [Double] { noise.map { $0 * $0 * (2 + $0 * $0) } }

    /// I(v₁ₜ; v₂ₜ) of each coordinate: −½ log(1 − ρ_t²) = ½ log(1 + 1/(σ_t²(2 + σ_t²))).
    var coordinateInformation: [Double] { varianceGap.map { 0.5 * log1p(1 / $0) } }
    var mutualInformation: Double { coordinateInformation.reduce(0, +) }

    /// The most k linear features of each view can share: the k largest coordinate informations.
    /// The whitened cross-covariance of (v₁, v₂) is diagonal with entries 1/a_t, so the canonical
    /// correlations are the 1/a_t, and k-dimensional projections keep at most the k largest.
    func maxEncoderInformation(width k: Int) -> Double {
        coordinateInformation.sorted(by: >).prefix(k).reduce(0, +)
    }

    /// B pairs of views: per example x, ε₁, ε₂ in that order.
    func batch(_ size: Int, _ normal: inout GaussianSampler) -> (v1: [[Double]], v2: [[Double]]) {
        var v1: [[Double]] = [], v2: [[Double]] = []
        v1.reserveCapacity(size)
        v2.reserveCapacity(size)
        for _ in 0..<size {
            let x = (0..<dims).map { _ in normal.next() }
            let e1 = (0..<dims).map { _ in normal.next() }
            let e2 = (0..<dims).map { _ in normal.next() }
            v1.append((0..<dims).map { x[$0] + noise[$0] * e1[$0] })
            v2.append((0..<dims).map { x[$0] + noise[$0] * e2[$0] })
        }
        return (v1, v2)
    }

    /// log p(v₂ⱼ|v₁ᵢ)/p(v₂ⱼ) up to a term in v₁ᵢ alone: the ideal critic's scores.
    func idealScores(_ v1: [[Double]], _ v2: [[Double]]) -> [[Double]] {
        let a = viewVariance, gap = varianceGap
        return v1.map { u in
            v2.map { w in
                var s = 0.0
                for t in 0..<dims { s += (u[t] * w[t] - w[t] * w[t] / (2 * a[t])) / gap[t] }
                return s
            }
        }
    }

    /// An orthonormal basis of the row space of W·A^{1/2}, A = diag(a): the whitened view
    /// u = A^{−1/2}v has identity covariance, and g = W v = (W A^{1/2}) u is an invertible
    /// function of Q u for this basis Q.
    func whitenedBasis(_ w: [[Double]]) -> [[Double]] {
        let root = viewVariance.map { $0.squareRoot() }
        return orthonormalRows(w.map { row in (0..<dims).map { row[$0] * root[$0] } })
    }

    /// I(W₁v₁; W₂v₂) exactly. The features are Gaussian; with the bases Q₁, Q₂ of the whitened
    /// views (whitenedBasis), Cov(Q₁u₁) = Cov(Q₂u₂) = I and Cov(Q₁u₁, Q₂u₂) = M = Q₁A⁻¹Q₂ᵀ, so
    /// I = −½ log det(I − M Mᵀ) (the canonical correlations are M's singular values).
    /// Rank-deficient W are handled by the bases.
    func encoderInformation(_ w1: [[Double]], _ w2: [[Double]]) -> Double {
        let q1 = whitenedBasis(w1), q2 = whitenedBasis(w2)
        guard !q1.isEmpty, !q2.isEmpty else { return 0 }
        let inverse = viewVariance.map { 1 / $0 }
        let m = q1.map { r in q2.map { c in (0..<dims).reduce(0.0) { $0 + r[$1] * inverse[$1] * c[$1] } } }
        let r = q1.count
        var matrix = [[Double]](repeating: [Double](repeating: 0, count: r), count: r)
        for i in 0..<r {
            for j in 0..<r {
                var s = 0.0
                for t in 0..<q2.count { s += m[i][t] * m[j][t] }
                matrix[i][j] = (i == j ? 1 : 0) - s
            }
        }
        // Positive definite: every singular value of M is at most max 1/a_t < 1.
        guard let logDet = choleskyLogDeterminant(matrix) else { return .nan }
        return max(0, -0.5 * logDet)
    }

    /// The R² of the best linear prediction of each coordinate x_j from g = W v₁ (a linear probe
    /// with unlimited data). Cov(x, u₁) = A^{−1/2} and Var(x_j) = 1, so with the basis Q of
    /// whitenedBasis, R²_j = ‖Q e_j‖²/a_j: at most 1/a_j, the R² of the whole view.
    func probeR2(_ w: [[Double]]) -> [Double] {
        let q = whitenedBasis(w), a = viewVariance
        return (0..<dims).map { j in q.reduce(0.0) { $0 + $1[j] * $1[j] } / a[j] }
    }

    /// √E‖W v‖² = √(Σ_r Σ_t W_rt² a_t), the root-mean-square size of the features.
    func featureScale(_ w: [[Double]]) -> Double {
        let a = viewVariance
        return w.reduce(0.0) { total, row in total + (0..<dims).reduce(0.0) { $0 + row[$1] * row[$1] * a[$1] } }.squareRoot()
    }
}

/// An orthonormal basis of the row space of `rows` by modified Gram–Schmidt, dropping rows
/// that are (numerically) combinations of earlier ones.
func orthonormalRows(_ rows: [[Double]]) -> [[Double]] {
    var basis: [[Double]] = []
    let scale = rows.reduce(0.0) { m, r in max(m, InfoNCEBatchModule.norm(r)) }
    guard scale > 0 else { return [] }
    for row in rows {
        var v = row.map { $0 / scale }
        for b in basis {
            let dot = zip(v, b).reduce(0.0) { $0 + $1.0 * $1.1 }
            for t in v.indices { v[t] -= dot * b[t] }
        }
        let n = InfoNCEBatchModule.norm(v)
        if n > 1e-10 { basis.append(v.map { $0 / n }) }
    }
    return basis
}

/// log det of a symmetric positive definite matrix by Cholesky, nil if it is not positive definite.
func choleskyLogDeterminant(_ a: [[Double]]) -> Double? {
    let n = a.count
    var l = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    var logDet = 0.0
    for j in 0..<n {
        var d = a[j][j]
        for t in 0..<j { d -= l[j][t] * l[j][t] }
        guard d > 0 else { return nil }
        l[j][j] = d.squareRoot()
        logDet += 2 * log(l[j][j])
        for i in (j + 1)..<n {
            var s = a[i][j]
            for t in 0..<j { s -= l[i][t] * l[j][t] }
            l[i][j] = s / l[j][j]
        }
    }
    return logDet
}

/// Two linear encoders and the InfoNCE loss of their features on one batch.
struct LinearEncoderPair {
    var w1: [[Double]]
    var w2: [[Double]]
    let critic: EncoderCritic
    let tau: Double

    /// The loss and its gradients on one batch.
    struct Evaluation {
        /// Mean over rows of logsumexp_j s_ij − s_ii, nats.
        let loss: Double
        let gradW1: [[Double]]
        let gradW2: [[Double]]
        /// Rows whose first largest score is their own positive.
        let correct: Int
    }

    static func apply(_ w: [[Double]], _ v: [Double]) -> [Double] {
        w.map { row in
            var s = 0.0
            for t in row.indices { s += row[t] * v[t] }
            return s
        }
    }

    /// Row i scores features g_i against every h_j. A zero feature vector under the cosine
    /// critic has no direction: it is scored as the zero vector and passes no gradient.
    /// With `negatives` false the loss is the positive term alone, the mean of −s_ii, and the
    /// other scores pass no gradient.
    func evaluate(_ v1: [[Double]], _ v2: [[Double]], gradients: Bool = true, negatives: Bool = true) -> Evaluation {
        let b = v1.count, k = w1.count
        var g = v1.map { Self.apply(w1, $0) }, h = v2.map { Self.apply(w2, $0) }
        var gNorm = [Double](repeating: 1, count: b), hNorm = gNorm
        if critic == .cosine {
            for i in 0..<b {
                gNorm[i] = InfoNCEBatchModule.norm(g[i])
                g[i] = gNorm[i] > 0 ? g[i].map { $0 / gNorm[i] } : g[i]
                hNorm[i] = InfoNCEBatchModule.norm(h[i])
                h[i] = hNorm[i] > 0 ? h[i].map { $0 / hNorm[i] } : h[i]
            }
        }
        // The B²·k loops run on flat row-major copies: indexing nested arrays there (a
        // uniqueness check per write) was most of a training run. Same operations, same order.
        let gFlat = g.flatMap { $0 }, hFlat = h.flatMap { $0 }
        var scores = [Double](repeating: 0, count: b * b)
        gFlat.withUnsafeBufferPointer { g in
            hFlat.withUnsafeBufferPointer { h in
                scores.withUnsafeMutableBufferPointer { scores in
                    for i in 0..<b {
                        for j in 0..<b {
                            var s = 0.0
                            switch critic {
                            case .distance:
                                for t in 0..<k {
                                    let d = g[i * k + t] - h[j * k + t]
                                    s += d * d
                                }
                                s = -0.5 * s / tau
                            case .bilinear, .cosine:
                                for t in 0..<k { s += g[i * k + t] * h[j * k + t] }
                                s /= tau
                            }
                            scores[i * b + j] = s
                        }
                    }
                }
            }
        }
        var loss = 0.0, correct = 0
        var dScores = [Double](repeating: 0, count: b * b)
        for i in 0..<b {
            let row = Array(scores[i * b ..< (i + 1) * b])
            if firstArgmax(row) == i { correct += 1 }
            if negatives {
                let entropy = CrossEntropyRow(row, positive: i)
                loss += entropy.loss
                for j in 0..<b { dScores[i * b + j] = entropy.gradient[j] / Double(b) }
            } else {
                loss -= row[i]
                dScores[i * b + i] = -1 / Double(b)
            }
        }
        loss /= Double(b)
        let d1 = w1[0].count
        guard gradients else {
            return Evaluation(loss: loss, gradW1: [], gradW2: [], correct: correct)
        }

        // ∂loss/∂g_i and ∂loss/∂h_j through the critic.
        var dg = [Double](repeating: 0, count: b * k)
        var dh = dg
        gFlat.withUnsafeBufferPointer { g in
            hFlat.withUnsafeBufferPointer { h in
                dg.withUnsafeMutableBufferPointer { dg in
                    dh.withUnsafeMutableBufferPointer { dh in
                        for i in 0..<b {
                            for j in 0..<b {
                                let c = dScores[i * b + j] / tau
                                switch critic {
                                case .distance:
                                    // s = −‖g − h‖²/(2τ): ∂s/∂g = (h − g)/τ, ∂s/∂h = (g − h)/τ.
                                    for t in 0..<k {
                                        let d = h[j * k + t] - g[i * k + t]
                                        dg[i * k + t] += c * d
                                        dh[j * k + t] -= c * d
                                    }
                                case .bilinear, .cosine:
                                    for t in 0..<k {
                                        dg[i * k + t] += c * h[j * k + t]
                                        dh[j * k + t] += c * g[i * k + t]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if critic == .cosine {
            func backThrough(_ gradient: inout [Double], _ i: Int, unit: [Double], norm: Double) {
                let back = norm > 0
                    ? InfoNCEBatchModule.backThroughNormalization(Array(gradient[i * k ..< (i + 1) * k]), unit: unit, norm: norm)
                    : [Double](repeating: 0, count: k)
                gradient.replaceSubrange(i * k ..< (i + 1) * k, with: back)
            }
            for i in 0..<b {
                backThrough(&dg, i, unit: g[i], norm: gNorm[i])
                backThrough(&dh, i, unit: h[i], norm: hNorm[i])
            }
        }
        let v1Flat = v1.flatMap { $0 }, v2Flat = v2.flatMap { $0 }
        var gw1 = [Double](repeating: 0, count: k * d1)
        var gw2 = gw1
        for i in 0..<b {
            for r in 0..<k {
                for t in 0..<d1 {
                    gw1[r * d1 + t] += dg[i * k + r] * v1Flat[i * d1 + t]
                    gw2[r * d1 + t] += dh[i * k + r] * v2Flat[i * d1 + t]
                }
            }
        }
        func rows(_ flat: [Double]) -> [[Double]] { (0..<k).map { Array(flat[$0 * d1 ..< ($0 + 1) * d1]) } }
        return Evaluation(loss: loss, gradW1: rows(gw1), gradW2: rows(gw2), correct: correct)
    }

    mutating func step(_ e: Evaluation, lr: Double) {
        for r in w1.indices {
            for t in w1[r].indices {
                w1[r][t] -= lr * e.gradW1[r][t]
                w2[r][t] -= lr * e.gradW2[r][t]
            }
        }
    }

    var isFinite: Bool {
        w1.allSatisfy { $0.allSatisfy(\.isFinite) } && w2.allSatisfy { $0.allSatisfy(\.isFinite) }
    }
}

/// `infonce.train`: a seeded InfoNCE training run of linear encoders on two Gaussian views.
public struct InfoNCETrainModule: ComputeModule {
    public init() {}
    public let name = "infonce.train"
    public let summary = "Train linear encoders g = W₁v₁, h = W₂v₂ with in-batch InfoNCE on two noisy Gaussian views (noise per coordinate) whose mutual information is known; the bound rises toward min(I, log B)."

    static let evaluationSeedMask: UInt64 = 0x5851_F42D_4C95_7F2D
    /// Multiply-adds per run: (steps + 2·eval_batches)·B·k·(B + 2d).
    static let maxWork = 30_000_000

    public let parameters: [ParameterSpec] = [
        .integer("dims", 2, range: .closed(1, 16), doc: "d, the dimension of x and of each view, 1 to 16"),
        .integer("width", 2, range: .closed(1, 16), doc: "k, the features per encoder, 1 to 16"),
        .vector("noise", [0.5], range: .closed(0.01, 10), maxElements: 16,
                doc: "σ, the noise in each view: one number for every coordinate, or d numbers, one per coordinate; each in [0.01, 10]"),
        .integer("batch", 32, range: .closed(2, 256), doc: "B, pairs per batch (each row has B − 1 negatives), 2 to 256"),
        .integer("steps", 300, range: .closed(1, 5_000), doc: "SGD steps, 1 to 5000, each on a fresh batch"),
        .number("lr", 0.3, range: .closed(0, 100), doc: "SGD step size, in [0, 100]"),
        .number("tau", 1, range: .closed(0.01, 100), doc: "τ, the critic's temperature, in [0.01, 100]"),
        .choice("critic", EncoderCritic.self, default: .distance,
                doc: "distance −‖g − h‖²/(2τ), bilinear g·h/τ, or cosine ĝ·ĥ/τ"),
        .bool("negatives", true, doc: "true: train on InfoNCE; false: train on the positive term alone, the mean of −s_ii (the evaluations still score InfoNCE)"),
        .integer("seed", 1, range: .nonNegative, doc: "seed of the generator (initial weights, batches)"),
        .integer("points", 20, range: .closed(1, 500), doc: "points on each curve: the mean of each of that many equal runs of steps"),
        .integer("eval_batches", 20, range: .closed(1, 500),
                 doc: "fresh batches scored before and after training for initial_bound, final_bound and ideal_bound"),
    ]
    public let outputs: [OutputSpec] = [
        .init("loss_curve", .vector, hint: .chart, doc: "mean training loss over each run of steps, nats (with negatives = false, the positive term alone)"),
        .init("bound_curve", .vector, hint: .chart, doc: "log B − loss over each run of steps: the batch estimate of the bound (not a bound when negatives = false)"),
        .init("initial_bound", .number, doc: "mean log B − loss of the untrained encoders on the evaluation batches"),
        .init("final_bound", .number, doc: "the same after training"),
        .init("final_bound_se", .number, doc: "standard error of final_bound over the evaluation batches"),
        .init("ideal_bound", .number, doc: "the same batches scored by the ideal critic log p(v₂|v₁)/p(v₂): the best any critic does at this B"),
        .init("final_loss", .number, doc: "mean loss after training on the evaluation batches, nats"),
        .init("final_accuracy", .number, hint: .percent, doc: "share of evaluation rows whose positive scores highest"),
        .init("max_batch_bound", .number, doc: "the largest log B − loss of any InfoNCE training batch or evaluation batch: never above log B"),
        .init("mi_true", .number, doc: "I(v₁; v₂) = Σ_t ½ log(1 + 1/(σ_t²(2 + σ_t²))), nats"),
        .init("mi_encoder", .number, doc: "I(W₁v₁; W₂v₂) of the trained encoders, exact: ≤ mi_encoder_max ≤ mi_true"),
        .init("mi_encoder_initial", .number, doc: "the same for the initial encoders"),
        .init("mi_encoder_max", .number, doc: "the sum of the min(k, d) largest per-coordinate informations: the most k linear features of each view can share"),
        .init("probe_r2", .vector, doc: "for each coordinate x_t of the hidden x, the R² of the best linear probe from the trained features g = W₁v₁ (exact, unlimited data): at most 1/(1 + σ_t²)"),
        .init("probe_r2_initial", .vector, doc: "the same for the initial W₁"),
        .init("view_r2", .vector, doc: "for each coordinate, 1/(1 + σ_t²): the R² of the best linear probe from the whole view v₁, the most any features of it reach"),
        .init("feature_rms", .number, doc: "√E‖W₁v₁‖² after training, the size of the features"),
        .init("feature_rms_initial", .number, doc: "the same for the initial W₁"),
        .init("log_b", .number, doc: "log B, the most one batch can show"),
        .init("ceiling", .number, doc: "min(mi_true, log B): where the bound can head at best"),
        .init("w1", .matrix, hint: .table, doc: "W₁ after training, k × d"),
        .init("w2", .matrix, hint: .table, doc: "W₂ after training, k × d"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let dims = try inputs.integer("dims"), width = try inputs.integer("width")
        let sigma = try inputs.vector("noise")
        guard sigma.count == 1 || sigma.count == dims else {
            throw .invalid("noise", "has \(sigma.count) entries; give one number for every coordinate or one per coordinate (dims = \(dims))")
        }
        let task = TwoViewGaussianTask(dims: dims, noise: sigma.count == 1 ? [Double](repeating: sigma[0], count: dims) : sigma)
        let negatives = try inputs.bool("negatives")
        let batch = try inputs.integer("batch"), steps = try inputs.integer("steps")
        let lr = try inputs.number("lr"), tau = try inputs.number("tau")
        let critic = try inputs.choice("critic", as: EncoderCritic.self)
        let seed = try inputs.integer("seed")
        let points = try inputs.integer("points"), evalBatches = try inputs.integer("eval_batches")
        guard points <= steps else {
            throw .invalid("points", "is \(points) but there are only \(steps) steps; each point averages at least one step")
        }
        let work = (steps + 2 * evalBatches) * batch * width * (batch + 2 * dims)
        guard work <= Self.maxWork else {
            throw .invalid("steps", "with batch = \(batch), width = \(width), dims = \(dims) and eval_batches = \(evalBatches) needs \(work) multiply-adds; the limit is \(Self.maxWork): use fewer steps or a smaller batch")
        }

        var normal = GaussianSampler(Xoshiro256StarStar(parameterSeed: seed))
        let initScale = 1 / Double(dims).squareRoot()
        let w1 = (0..<width).map { _ in (0..<dims).map { _ in normal.next() * initScale } }
        let w2 = (0..<width).map { _ in (0..<dims).map { _ in normal.next() * initScale } }
        var encoders = LinearEncoderPair(w1: w1, w2: w2, critic: critic, tau: tau)
        let logB = log(Double(batch))

        func evaluation(_ pair: LinearEncoderPair) -> (bounds: [Double], ideal: [Double], loss: Double, correct: Int) {
            var evalNormal = GaussianSampler(Xoshiro256StarStar(seed: UInt64(truncatingIfNeeded: seed) ^ Self.evaluationSeedMask))
            var bounds: [Double] = [], ideal: [Double] = [], loss = 0.0, correct = 0
            for _ in 0..<evalBatches {
                let (v1, v2) = task.batch(batch, &evalNormal)
                let e = pair.evaluate(v1, v2, gradients: false)
                bounds.append(logB - e.loss)
                loss += e.loss
                correct += e.correct
                let scores = task.idealScores(v1, v2)
                var idealLoss = 0.0
                for i in 0..<batch { idealLoss += CrossEntropyRow(scores[i], positive: i).loss }
                ideal.append(logB - idealLoss / Double(batch))
            }
            return (bounds, ideal, loss / Double(evalBatches), correct)
        }

        let before = evaluation(encoders)
        let miInitial = task.encoderInformation(encoders.w1, encoders.w2)
        var losses: [Double] = []
        losses.reserveCapacity(steps)
        for t in 0..<steps {
            if t % 64 == 0 { try context.checkCancelled() }
            let (v1, v2) = task.batch(batch, &normal)
            let e = encoders.evaluate(v1, v2, negatives: negatives)
            guard e.loss.isFinite else {
                throw .invalid("lr", "made training diverge: the loss is \(NumberText.shortest(e.loss)) at step \(t + 1); use a smaller lr")
            }
            losses.append(e.loss)
            encoders.step(e, lr: lr)
            guard encoders.isFinite else {
                throw .invalid("lr", "made training diverge: the weights overflowed at step \(t + 1); use a smaller lr")
            }
        }
        let after = evaluation(encoders)

        let lossCurve = (0..<points).map { j -> Double in
            let lo = j * steps / points, hi = (j + 1) * steps / points
            var s = 0.0
            for t in lo..<hi { s += losses[t] }
            return s / Double(hi - lo)
        }
        let finalMean = after.bounds.reduce(0, +) / Double(evalBatches)
        var squares = 0.0
        for b in after.bounds { squares += (b - finalMean) * (b - finalMean) }
        let se = evalBatches > 1 ? (squares / Double(evalBatches - 1) / Double(evalBatches)).squareRoot() : 0
        let maxBound = ((negatives ? losses.map { logB - $0 } : []) + before.bounds + after.bounds).max() ?? logB
        // The exact formulas can differ from each other by a few ulps, so each value is capped at
        // the one above it: mi_encoder ≤ mi_encoder_max ≤ mi_true.
        let mi = task.mutualInformation
        let miMax = min(task.maxEncoderInformation(width: width), mi)
        return [
            "loss_curve": .vector(lossCurve),
            "bound_curve": .vector(lossCurve.map { logB - $0 }),
            "initial_bound": .number(before.bounds.reduce(0, +) / Double(evalBatches)),
            "final_bound": .number(finalMean),
            "final_bound_se": .number(se),
            "ideal_bound": .number(after.ideal.reduce(0, +) / Double(evalBatches)),
            "final_loss": .number(after.loss),
            "final_accuracy": .number(Double(after.correct) / Double(evalBatches * batch)),
            "max_batch_bound": .number(maxBound),
            "mi_true": .number(mi),
            "mi_encoder": .number(min(task.encoderInformation(encoders.w1, encoders.w2), miMax)),
            "mi_encoder_initial": .number(min(miInitial, miMax)),
            "mi_encoder_max": .number(miMax),
            "probe_r2": .vector(task.probeR2(encoders.w1)),
            "probe_r2_initial": .vector(task.probeR2(w1)),
            "view_r2": .vector(task.viewVariance.map { 1 / $0 }),
            "feature_rms": .number(task.featureScale(encoders.w1)),
            "feature_rms_initial": .number(task.featureScale(w1)),
            "log_b": .number(logB),
            "ceiling": .number(min(mi, logB)),
            "w1": .matrix(encoders.w1),
            "w2": .matrix(encoders.w2),
        ]
    }
}
