import Foundation
import NotebookCore

// Two pretext tasks of self-supervised learning, where the labels come from the data itself.
//
// Masked prediction (as in denoising autoencoders, BERT and MAE, with a linear predictor):
// hide some columns of a table and predict them from the rest by ridge regression with an
// intercept, W = (XᵀX + λI)⁻¹XᵀY with X = [observed | 1]. λ shrinks the intercept too, as
// `derive modules ssl.masked` states (so the fit is not invariant to shifting the data; with
// the default λ = 1e-6 the difference is negligible). The (d_obs + 1)² system is solved by
// Cholesky: XᵀX + λI is symmetric and, unless singular, positive definite. By default the fit is scored on the rows it
// was fitted to; `holdout` keeps the last rows out of the fit and scores the fitted weights on them
// against the training means, the only baseline a predictor fitted to the other rows could know.
//
// `ssl.strip` generates the table instead: rows of a strip of pixels, each a random polynomial
// of degree dof − 1 in the pixel's position (dof = 2: a brightness and a gradient) plus noise,
// and runs the same fit on it.
//
// Rotation prediction (Gidaris, Singh & Komodakis, 2018): rotate an image by 0°, 90°, 180° and
// 270° counter-clockwise; the rotation index is a free label for a classifier. The module also
// reports the four copies' edge sums and, from how many copies are the same picture, the best
// accuracy and cross-entropy any classifier can reach on them.

enum MaskedRegressionLimits {
    /// Entries of `data` (N·d): the normal equations cost about N·(d_obs + 1)² multiply-adds.
    static let entries = 100_000
    static let columns = 100
    /// Largest |entry| of `data`, so that Σ x² over 10⁵ rows stays far from overflow.
    static let magnitude = 1e100
    static let ridge = 1e100
    /// A Cholesky pivot below this fraction of its diagonal entry means the column is, to
    /// about six digits, a linear combination of the columns before it.
    static let singularPivot = 1e-12
}

/// The Cholesky factor L (lower triangular, A = L Lᵀ) of a symmetric matrix, or the first
/// index whose pivot is not safely positive.
struct Cholesky {
    let lower: [[Double]]

    /// Factorises `a`; returns the failing index k when pivot k ≤ threshold·a[k][k], i.e. when
    /// column k is numerically in the span of columns 0..<k.
    static func factor(_ a: [[Double]], threshold: Double) -> Result<Cholesky, SingularPivot> {
        let p = a.count
        var l = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        for k in 0..<p {
            var pivot = a[k][k]
            for j in 0..<k { pivot -= l[k][j] * l[k][j] }
            guard pivot > threshold * a[k][k], pivot > 0 else { return .failure(SingularPivot(index: k)) }
            let d = pivot.squareRoot()
            l[k][k] = d
            for i in (k + 1)..<p {
                var s = a[i][k]
                for j in 0..<k { s -= l[i][j] * l[k][j] }
                l[i][k] = s / d
            }
        }
        return .success(Cholesky(lower: l))
    }

    struct SingularPivot: Error {
        let index: Int
    }

    /// x with L Lᵀ x = b: forward then back substitution.
    func solve(_ b: [Double]) -> [Double] {
        let p = lower.count
        var y = b
        for i in 0..<p {
            for j in 0..<i { y[i] -= lower[i][j] * y[j] }
            y[i] /= lower[i][i]
        }
        for i in stride(from: p - 1, through: 0, by: -1) {
            for j in (i + 1)..<p { y[i] -= lower[j][i] * y[j] }
            y[i] /= lower[i][i]
        }
        return y
    }
}

/// Ridge regression with intercept from the observed columns of a table to the hidden ones.
struct MaskedRegression {
    /// Column indices used as inputs, ascending.
    let observed: [Int]
    /// Column indices predicted, in the order given.
    let hidden: [Int]
    /// (d_obs + 1)×d_hidden; row k < d_obs is the weight of observed column k, the last row
    /// the intercept.
    let weights: [[Double]]
    /// N×d_hidden: the hidden columns of `data`.
    let targets: [[Double]]
    /// N×d_hidden: X·W.
    let predictions: [[Double]]

    /// Pivot `index` of XᵀX + λI vanished: observed column `index` (or the intercept, when
    /// `index` = d_obs) is numerically a combination of those before it.
    struct Singular: Error {
        let index: Int
        /// The largest diagonal entry of XᵀX, the scale a sufficient λ is measured against.
        let maxDiagonal: Double
    }

    init(data: [[Double]], hidden: [Int], ridge: Double) throws(Singular) {
        let hiddenSet = Set(hidden)
        let observed = (0..<data[0].count).filter { !hiddenSet.contains($0) }
        let p = observed.count + 1, q = hidden.count
        let rows = data.map { row in Self.inputs(row, observed: observed) }
        let targets = data.map { row in hidden.map { row[$0] } }

        var gram = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        var cross = [[Double]](repeating: [Double](repeating: 0, count: q), count: p)
        for (x, y) in zip(rows, targets) {
            for i in 0..<p {
                for j in 0...i { gram[i][j] += x[i] * x[j] }
                for c in 0..<q { cross[i][c] += x[i] * y[c] }
            }
        }
        for i in 0..<p {
            gram[i][i] += ridge
            for j in 0..<i { gram[j][i] = gram[i][j] }
        }
        let factor: Cholesky
        switch Cholesky.factor(gram, threshold: MaskedRegressionLimits.singularPivot) {
        case .success(let f): factor = f
        case .failure(let pivot):
            throw Singular(index: pivot.index, maxDiagonal: (0..<p).map { gram[$0][$0] - ridge }.max() ?? 0)
        }
        let solutions = (0..<q).map { c in factor.solve(cross.map { $0[c] }) }
        self.observed = observed
        self.hidden = hidden
        self.targets = targets
        weights = (0..<p).map { k in solutions.map { $0[k] } }
        predictions = rows.map { Self.predict($0, solutions: solutions) }
    }

    /// The regression input of one table row: its observed entries, then 1 for the intercept.
    static func inputs(_ row: [Double], observed: [Int]) -> [Double] {
        observed.map { row[$0] } + [1]
    }

    /// x·W for one input row, given W column by column.
    static func predict(_ x: [Double], solutions: [[Double]]) -> [Double] {
        solutions.map { w in
            var s = 0.0
            for k in 0..<x.count { s += x[k] * w[k] }
            return s
        }
    }

    /// The fitted weights applied to other rows of a table with the same columns.
    func predictions(for data: [[Double]]) -> [[Double]] {
        let solutions = (0..<hidden.count).map { c in weights.map { $0[c] } }
        return data.map { Self.predict(Self.inputs($0, observed: observed), solutions: solutions) }
    }

    /// Each hidden column's mean over the fitted rows.
    var targetMeans: [Double] {
        (0..<hidden.count).map { c in targets.reduce(0) { $0 + $1[c] } / Double(targets.count) }
    }

    /// Mean squared error of each hidden column.
    var mseByColumn: [Double] {
        (0..<hidden.count).map { c in
            var s = 0.0
            for (y, yHat) in zip(targets, predictions) { s += (y[c] - yHat[c]) * (y[c] - yHat[c]) }
            return s / Double(targets.count)
        }
    }

    /// Mean squared error of predicting each hidden column by its mean (its population variance).
    var baselineByColumn: [Double] {
        (0..<hidden.count).map { c in Self.variance(targets.map { $0[c] }) }
    }

    static func variance(_ xs: [Double]) -> Double {
        var mean = 0.0
        for x in xs { mean += x }
        mean /= Double(xs.count)
        var s = 0.0
        for x in xs { s += (x - mean) * (x - mean) }
        return s / Double(xs.count)
    }
}

/// `ssl.masked`: hide columns, predict them from the others by ridge regression.
public struct MaskedPredictionModule: ComputeModule {
    public init() {}
    public let name = "ssl.masked"
    public let summary = "Masked prediction: ridge regression (with intercept) from the observed columns to the hidden ones."

    /// Eight rows; column 3 is column 0 + 2·column 1 − column 2 exactly in rows 0, 3, 4 and 7, and
    /// off by 0.1, 0.3, 0.2 and −0.1 in rows 1, 2, 5 and 6.
    static let table: [[Double]] = [
        [-1.7, -1.1, 1.2, -5.1],
        [0.3, -1.6, -0.3, -2.5],
        [-0.1, -1.4, 0.9, -3.5],
        [-1.5, -0.4, 0.1, -2.4],
        [-0.3, 0.3, 1.0, -0.7],
        [1.8, -0.9, 0.6, -0.4],
        [0.8, -0.8, -2.0, 1.1],
        [1.9, -0.8, -0.7, 1.0],
    ]

    public let parameters: [ParameterSpec] = [
        .matrix("data", MaskedPredictionModule.table,
                range: .closed(-MaskedRegressionLimits.magnitude, MaskedRegressionLimits.magnitude),
                maxElements: MaskedRegressionLimits.entries,
                doc: "N×d table, one example per row; N ≥ 2, d ≤ 100, N·d ≤ 100,000"),
        .vector("hidden", [3], maxElements: MaskedRegressionLimits.columns,
                doc: "column indices to hide and predict, distinct, at least one column left observed"),
        .number("ridge", 1e-6, range: .closed(0, MaskedRegressionLimits.ridge),
                doc: "λ added to the diagonal of XᵀX, the intercept's entry included"),
        .integer("holdout", 0, range: .closed(0, Double(MaskedRegressionLimits.entries)),
                 doc: "rows kept out of the fit, the last ones, and scored with its weights (0: fit and score every row); at least 2 rows stay in the fit"),
        .integer("shift", 0, range: .closed(0, Double(MaskedRegressionLimits.entries)),
                 doc: "move the hidden columns up this many rows, wrapping around (row i gets row (i + shift) mod N's values), before fitting: shift > 0 breaks the rows' pairing"),
    ]
    public static let outputSpecs: [OutputSpec] = [
        .init("weights", .matrix, hint: .table, doc: "(d_obs + 1)×d_hidden: one row per observed column, the intercept last"),
        .init("predictions", .matrix, hint: .table, doc: "N×d_hidden: X·weights for every row (held-out rows last), columns in the order of hidden"),
        .init("mse", .number, doc: "mean squared error over all hidden entries of the fitted rows"),
        .init("baseline_mse", .number, doc: "the same when each hidden column is predicted by its mean"),
        .init("r2", .number, doc: "1 − mse/baseline_mse: the fraction of the hidden columns' variance explained, on the fitted rows"),
        .init("observed", .vector, doc: "indices of the observed columns, in the order of the weights' rows"),
        .init("targets", .matrix, hint: .table, doc: "N×d_hidden: the hidden columns of data (every row), the free labels"),
        .init("mse_per_column", .vector, doc: "mean squared error of each hidden column on the fitted rows"),
        .init("baseline_mse_per_column", .vector, doc: "variance of each hidden column over the fitted rows"),
        .init("r2_per_column", .vector, doc: "1 − mse/baseline_mse of each hidden column on the fitted rows"),
        .init("heldout_mse", .number, doc: "mean squared error of the fitted weights on the held-out rows (nan when holdout = 0)"),
        .init("heldout_baseline_mse", .number, doc: "the same when each hidden column is predicted by its mean over the fitted rows (nan when holdout = 0)"),
        .init("heldout_r2", .number, doc: "1 − heldout_mse/heldout_baseline_mse: negative when the fit does worse on fresh rows than the training mean (nan when holdout = 0)"),
    ]
    public var outputs: [OutputSpec] { Self.outputSpecs }

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        var data = try inputs.matrix("data")
        let shift = try inputs.integer("shift")
        if shift > 0 {
            let hidden = Set(try inputs.indices("hidden", below: data[0].count))
            let original = data
            for i in data.indices {
                for c in hidden { data[i][c] = original[(i + shift) % data.count][c] }
            }
        }
        return try Self.fitAndScore(data: data, hidden: try inputs.indices("hidden", below: data[0].count),
                                    ridge: try inputs.number("ridge"), holdout: try inputs.integer("holdout"))
    }

    /// Validates the hidden columns and holdout against `data`, fits, and scores.
    static func fitAndScore(data: [[Double]], hidden: [Int], ridge: Double, holdout: Int) throws(ComputeError) -> Outputs {
        let n = data.count, d = data[0].count
        guard n >= 2 else { throw .invalid("data", "has one row; fitting and the mean baseline need at least 2") }
        guard d <= MaskedRegressionLimits.columns else {
            throw .invalid("data", "has \(d) columns; the limit is \(MaskedRegressionLimits.columns)")
        }
        var seen = Set<Int>()
        for c in hidden {
            guard seen.insert(c).inserted else {
                throw .invalid("hidden", "lists column \(c) twice; each hidden column must appear once")
            }
        }
        guard hidden.count < d else {
            throw .invalid("hidden", "hides all \(d) columns; leave at least one column observed to predict from")
        }
        guard holdout >= 0, n - holdout >= 2 else {
            throw .invalid("holdout", "is \(holdout) but data has \(n) rows; at least 2 must stay in the fit, so holdout ≤ \(n - 2)")
        }
        let fitted = Array(data.prefix(n - holdout)), heldOut = Array(data.suffix(holdout))

        let fit: MaskedRegression
        do {
            fit = try MaskedRegression(data: fitted, hidden: hidden, ridge: ridge)
        } catch {
            throw Self.singularSystemError(error, rows: fitted.count, columns: d, hidden: seen, ridge: ridge)
        }
        let baseline = fit.baselineByColumn
        if let c = baseline.firstIndex(of: 0) {
            throw .invalid("hidden", "includes column \(hidden[c]), which is constant: its mean predicts it exactly, so r2 = 1 − mse/0 is undefined; hide a column that varies")
        }
        let mse = fit.mseByColumn
        // Every hidden column has N entries, so the means over all entries are the column means' mean.
        let totalMSE = mse.reduce(0, +) / Double(mse.count)
        let totalBaseline = baseline.reduce(0, +) / Double(baseline.count)
        // Held-out rows: the fitted weights and the fitted rows' means, scored on rows neither saw.
        var heldOutMSE = Double.nan, heldOutBaseline = Double.nan
        if !heldOut.isEmpty {
            let predicted = fit.predictions(for: heldOut), means = fit.targetMeans
            var se = 0.0, seMean = 0.0
            for (row, yHat) in zip(heldOut, predicted) {
                for (c, column) in hidden.enumerated() {
                    se += (row[column] - yHat[c]) * (row[column] - yHat[c])
                    seMean += (row[column] - means[c]) * (row[column] - means[c])
                }
            }
            let count = Double(heldOut.count * hidden.count)
            heldOutMSE = se / count
            heldOutBaseline = seMean / count
        }
        return [
            "weights": .matrix(fit.weights),
            "predictions": .matrix(fit.predictions + fit.predictions(for: heldOut)),
            "mse": .number(totalMSE),
            "baseline_mse": .number(totalBaseline),
            "r2": .number(1 - totalMSE / totalBaseline),
            "observed": .vector(fit.observed.map(Double.init)),
            "targets": .matrix(data.map { row in hidden.map { row[$0] } }),
            "mse_per_column": .vector(mse),
            "baseline_mse_per_column": .vector(baseline),
            "r2_per_column": .vector(zip(mse, baseline).map { 1 - $0 / $1 }),
            "heldout_mse": .number(heldOutMSE),
            "heldout_baseline_mse": .number(heldOutBaseline),
            "heldout_r2": .number(1 - heldOutMSE / heldOutBaseline),
        ]
    }

    /// The message for a singular XᵀX + λI, naming `ridge`: the cure is a positive (or larger) λ.
    static func singularSystemError(_ failure: MaskedRegression.Singular, rows n: Int, columns d: Int,
                                    hidden: Set<Int>, ridge: Double) -> ComputeError {
        let dObs = d - hidden.count
        let suggestion = "a ridge of at least \(NumberText.shortest(max(1e-10 * failure.maxDiagonal, 1e-300)))"
        if ridge == 0 && n < dObs + 1 {
            return .invalid("ridge", "is 0 but the fit has \(n) rows for \(dObs) observed columns plus the intercept, so XᵀX is singular; fit at least \(dObs + 1) rows or use \(suggestion)")
        }
        let culprit = failure.index < dObs
            ? "observed column \((0..<d).filter { !hidden.contains($0) }[failure.index]) is (numerically) a linear combination of the observed columns before it"
            : "the intercept is (numerically) a linear combination of the observed columns (is one of them constant?)"
        return .invalid("ridge", ridge == 0
            ? "is 0 and XᵀX is singular: \(culprit); use \(suggestion) or drop the column"
            : "is too small for this data: XᵀX + λI is numerically singular because \(culprit); use \(suggestion)")
    }
}

/// `ssl.strip`: a generated strip table with a known number of degrees of freedom, and the masked fit on it.
public struct StripPredictionModule: ComputeModule {
    public init() {}
    public let name = "ssl.strip"
    public let summary = "Masked prediction on generated strips: each row a random polynomial in the pixel position (dof numbers) plus noise; hide pixels and predict them from the rest."

    public let parameters: [ParameterSpec] = [
        .integer("rows", 24, range: .closed(2, 10_000), doc: "N, rows (strips), 2 to 10,000"),
        .integer("pixels", 8, range: .closed(2, 100), doc: "pixels per strip, 2 to 100 (rows·pixels ≤ 100,000)"),
        .integer("dof", 2, range: .closed(1, 100), doc: "degrees of freedom per row, at most pixels: pixel j is Σ_k c_k t_jᵏ for k < dof, t_j = −1 + 2j/(pixels − 1), c_k ~ N(0, 1)"),
        .number("noise", 0.05, range: .closed(0, 100), doc: "σ of the independent N(0, σ²) noise added to every pixel"),
        .integer("seed", 1, range: .nonNegative, doc: "seed of the generator: per row the dof coefficients, then the pixels' noise (drawn even when noise = 0, so the coefficients do not depend on it)"),
        ParameterSpec(name: "hidden", kind: .vector, defaultValue: .computed("every pixel but the two ends"),
                      doc: "pixel indices to hide and predict, distinct, at least one left observed",
                      maxElements: MaskedRegressionLimits.columns),
        .number("ridge", 1e-6, range: .closed(0, MaskedRegressionLimits.ridge),
                doc: "λ added to the diagonal of XᵀX, the intercept's entry included"),
        .integer("holdout", 16, range: .closed(0, 10_000),
                 doc: "rows kept out of the fit, the last ones, and scored with its weights; at least 2 rows stay in the fit"),
    ]
    public var outputs: [OutputSpec] {
        MaskedPredictionModule.outputSpecs + [
            .init("data", .matrix, hint: .table, doc: "the generated table, rows × pixels (noise = 0 gives the same rows without their noise)"),
        ]
    }

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let rows = try inputs.integer("rows"), pixels = try inputs.integer("pixels")
        let dof = try inputs.integer("dof"), noise = try inputs.number("noise")
        guard rows * pixels <= MaskedRegressionLimits.entries else {
            throw .invalid("rows", "times pixels is \(rows * pixels); the limit is \(MaskedRegressionLimits.entries)")
        }
        guard dof <= pixels else { throw .invalid("dof", "is \(dof) but a strip has \(pixels) pixels; dof ≤ pixels") }
        let hidden = inputs["hidden"] == nil ? Array(1..<(pixels - 1)) : try inputs.indices("hidden", below: pixels)
        guard !hidden.isEmpty else { throw .invalid("pixels", "is 2, so no pixel lies between the ends; give hidden explicitly") }
        var normal = GaussianSampler(Xoshiro256StarStar(parameterSeed: try inputs.integer("seed")))
        let positions = (0..<pixels).map { -1 + 2 * Double($0) / Double(pixels - 1) }
        var data: [[Double]] = []
        for _ in 0..<rows {
            let c = (0..<dof).map { _ in normal.next() }
            let row = positions.map { t in
                var value = 0.0, power = 1.0
                for k in 0..<dof {
                    value += c[k] * power
                    power *= t
                }
                return value
            }
            data.append(row.map { $0 + noise * normal.next() })
        }
        var out = try MaskedPredictionModule.fitAndScore(data: data, hidden: hidden, ridge: try inputs.number("ridge"),
                                                         holdout: try inputs.integer("holdout"))
        out["data"] = .matrix(data)
        return out
    }
}

/// The four counter-clockwise rotations of a square image, as numpy's `rot90(image, k)`.
struct SquareRotation {
    /// `image` turned k quarter turns counter-clockwise: out[i][j] = in[j][n−1−i] for k = 1.
    static func rotate(_ image: [[Double]], quarterTurns k: Int) -> [[Double]] {
        let n = image.count
        return (0..<n).map { i in
            (0..<n).map { j in
                switch k & 3 {
                case 0: image[i][j]
                case 1: image[j][n - 1 - i]
                case 2: image[n - 1 - i][n - 1 - j]
                default: image[n - 1 - j][i]
                }
            }
        }
    }
}

/// `ssl.rotation`: the rotation pretext task's inputs and free labels.
public struct RotationPretextModule: ComputeModule {
    public init() {}
    public let name = "ssl.rotation"
    public let summary = "Rotation prediction: the image turned 90°, 180° and 270° counter-clockwise, labelled 0–3 for free."

    public let parameters: [ParameterSpec] = [
        .matrix("image", FVSBNModule.seven, maxElements: 1_000_000,
                doc: "h×h image (any finite values), at most 1000×1000"),
    ]
    public let outputs: [OutputSpec] = [
        .init("rot90", .matrix, hint: .heatmap, doc: "image turned 90° counter-clockwise (numpy rot90, k = 1)"),
        .init("rot180", .matrix, hint: .heatmap, doc: "image turned 180° (k = 2)"),
        .init("rot270", .matrix, hint: .heatmap, doc: "image turned 270° counter-clockwise, i.e. 90° clockwise (k = 3)"),
        .init("labels", .vector, doc: "[0, 1, 2, 3]: the label of the image and of each rotation, k quarter turns"),
        .init("edges", .matrix, hint: .table, doc: "4×4: row k is the sums along the top, left, bottom and right edges of the copy turned k quarter turns (row 0 the image itself)"),
        .init("distinct", .integer, doc: "how many different pictures the four copies are (1, 2 or 4)"),
        .init("best_accuracy", .number, hint: .percent, doc: "the best accuracy any classifier reaches on the four copies: distinct/4 (identical copies get the same answer)"),
        .init("best_loss", .number, doc: "the least mean cross-entropy on the four copies, nats: ¼ Σ m log m over groups of m identical copies (uniform over each group's labels)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let image = try inputs.matrix("image")
        guard image.count == image[0].count else {
            throw .invalid("image", "is \(image.count)×\(image[0].count); rotating by 90° needs a square image (h = w)")
        }
        let copies = (0..<4).map { SquareRotation.rotate(image, quarterTurns: $0) }
        let n = image.count
        let edges = copies.map { c -> [Double] in
            [c[0].reduce(0, +), c.reduce(0) { $0 + $1[0] }, c[n - 1].reduce(0, +), c.reduce(0) { $0 + $1[n - 1] }]
        }
        // Group identical copies: copy k joins the first earlier copy equal to it.
        var groupSizes: [Int] = []
        var representatives: [[[Double]]] = []
        for c in copies {
            if let g = representatives.firstIndex(of: c) { groupSizes[g] += 1 } else {
                representatives.append(c)
                groupSizes.append(1)
            }
        }
        let bestLoss = groupSizes.reduce(0.0) { $0 + Double($1) * log(Double($1)) } / 4
        return [
            "rot90": .matrix(copies[1]),
            "rot180": .matrix(copies[2]),
            "rot270": .matrix(copies[3]),
            "labels": .vector([0, 1, 2, 3]),
            "edges": .matrix(edges),
            "distinct": .integer(groupSizes.count),
            "best_accuracy": .number(Double(groupSizes.count) / 4),
            "best_loss": .number(bestLoss),
        ]
    }
}
