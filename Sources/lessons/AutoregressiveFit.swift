import Dispatch
import Foundation
import NotebookCore
import Synchronization

// Two companions of `ar.fvsbn` and `ar.sample` for the autoregressive lesson.
//
// `ar.exact` enumerates all 2ⁿ images of a small FVSBN (n ≤ 20) and sums: the total
// probability, every marginal p(x_i = 1), the entropy, the mode, and the probability of an
// event (some pixels fixed on or off) with the marginals given it. These are the quantities
// `ar.sample` can only estimate; the sums have 2ⁿ terms, trivial at n = 16 and impossible at 784.
//
// `ar.fit` fits an FVSBN or a NADE (Larochelle & Murray, 2011, "The neural autoregressive
// distribution estimator") to a data set of binary images by full-batch gradient ascent on the
// mean log-likelihood, in raster order or its reverse, and scores a held-out set.
//
// NADE, for pixels in chain order 1..n, with H hidden units:
//     h_i = σ(c + Σ_{j<i} A[:, j]·x_j),   p(x_i = 1 | x_<i) = σ(b_i + V[i, :]·h_i),
// evaluated incrementally: the hidden pre-activation starts at c and gains A[:, i]·x_i after
// pixel i, so all n conditionals cost O(nH).

enum ExactLimits {
    /// Largest pixel count of the enumeration: 2²⁰ images of up to 210 multiply-adds each.
    static let pixels = 20
}

enum FitLimits {
    /// Rows of the training or the held-out set, as a matrix of at most this many entries.
    static let entries = 1_000_000
    static let steps = 100_000
    static let hidden = 1_000
    /// steps × distinct training images × multiply-adds per image (n(n+1)/2 for FVSBN, nH for NADE).
    static let work = 500_000_000.0
}

/// `ar.exact`: exact sums over every image of a small FVSBN.
public struct FVSBNExactModule: ComputeModule {
    public init() {}
    public let name = "ar.exact"
    public let summary = "Exact enumeration of a small FVSBN (n ≤ 20): total probability, marginals, entropy, mode, and the probability of an event with the marginals given it."

    public let parameters: [ParameterSpec] = [
        biasSpec,
        weightsSpec,
        .integer("h", 4, range: .closed(1, Double(ExactLimits.pixels)), doc: "image height (h·w = n ≤ 20)"),
        .integer("w", 4, range: .closed(1, Double(ExactLimits.pixels)), doc: "image width (h·w = n ≤ 20)"),
        ParameterSpec(name: "event", kind: .matrix, defaultValue: .computed("every pixel free"),
                      doc: "h×w: 1 = pixel on, 0 = pixel off, −1 = either; the event whose probability is summed",
                      range: .closed(-1, 1), maxElements: ExactLimits.pixels),
    ]
    public let outputs: [OutputSpec] = [
        .init("images", .integer, doc: "2ⁿ, the number of terms of every sum"),
        .init("total_probability", .number, doc: "Σ_x p(x), 1 up to rounding"),
        .init("marginals", .matrix, hint: .heatmap, doc: "p(x_i = 1), h×w"),
        .init("entropy", .number, doc: "−Σ_x p(x) log p(x), nats"),
        .init("mode_image", .matrix, hint: .heatmap, doc: "the most probable image (the first in binary order if tied), h×w"),
        .init("mode_log_likelihood", .number, doc: "log p of the mode, nats"),
        .init("event_probability", .number, doc: "Σ p(x) over the images that match event"),
        .init("conditional_marginals", .matrix, hint: .heatmap, doc: "p(x_i = 1 | event), h×w (NaN if the event has probability 0)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let h = try inputs.integer("h"), w = try inputs.integer("w")
        let n = h * w
        guard n <= ExactLimits.pixels else {
            throw .invalid("w", "gives h·w = \(h)·\(w) = \(n) pixels; the enumeration is limited to \(ExactLimits.pixels) pixels (2²⁰ images)")
        }
        let model = try readModel(inputs, height: h, width: w, shapeText: "an \(h)×\(w) image")
        var event = [Double](repeating: -1, count: n)
        if inputs["event"] != nil {
            let rows = try inputs.matrix("event")
            guard rows.count == h, rows[0].count == w else {
                throw .invalid("event", "is \(rows.count)×\(rows[0].count); it must be \(h)×\(w), like the image")
            }
            event = rows.flatMap { $0 }
            if let bad = event.first(where: { $0 != 0 && $0 != 1 && $0 != -1 }) {
                throw .invalid("event", "has \(NumberText.shortest(bad)); entries must be 1 (on), 0 (off) or −1 (either)")
            }
        }

        var total = 0.0, entropy = 0.0, eventTotal = 0.0
        var marginals = [Double](repeating: 0, count: n)
        var given = [Double](repeating: 0, count: n)
        var bestK = 0, bestLog = -Double.infinity
        var x = [Double](repeating: 0, count: n)
        let count = 1 << n
        for k in 0..<count {
            if k & 0xFFFF == 0 { try context.checkCancelled() }
            // Pixel 0 is the most significant bit of k.
            for i in 0..<n { x[i] = Double((k >> (n - 1 - i)) & 1) }
            var lp = 0.0
            for i in 0..<n {
                lp += FVSBN.logProbability(of: x[i], activation: model.activation(i, given: x))
            }
            let p = exp(lp)
            total += p
            if p > 0 { entropy -= p * lp }
            if lp > bestLog { bestLog = lp; bestK = k }
            var matches = true
            for i in 0..<n {
                if x[i] == 1 { marginals[i] += p }
                if event[i] != -1 && event[i] != x[i] { matches = false }
            }
            if matches {
                eventTotal += p
                for i in 0..<n where x[i] == 1 { given[i] += p }
            }
        }
        func layout(_ xs: [Double]) -> [[Double]] {
            (0..<h).map { r in Array(xs[(r * w)..<(r * w + w)]) }
        }
        let mode = (0..<n).map { i in Double((bestK >> (n - 1 - i)) & 1) }
        return [
            "images": .integer(count),
            "total_probability": .number(total),
            "marginals": .matrix(layout(marginals)),
            "entropy": .number(entropy),
            "mode_image": .matrix(layout(mode)),
            "mode_log_likelihood": .number(bestLog),
            "event_probability": .number(eventTotal),
            "conditional_marginals": .matrix(layout(given.map { $0 / eventTotal })),
        ]
    }
}

enum FitFamily: String, CaseIterable {
    case fvsbn, nade
}

enum PixelOrder: String, CaseIterable {
    /// x_1, …, x_n: the pixels in row-major order.
    case raster
    /// x_n, …, x_1.
    case reverse
}

/// A model in chain order: `fvsbn` uses b and the strictly lower triangle of W; `nade` uses
/// b, c, A (H×n) and V (n×H).
struct AutoregressiveFit {
    let family: FitFamily
    let n: Int
    let hiddenCount: Int
    var b: [Double]
    var W: [[Double]]
    var c: [Double]
    var A: [[Double]]
    var V: [[Double]]

    /// FVSBN: every parameter 0 (every conditional ½). NADE: b = c = 0 and A, V uniform in
    /// [−scale, scale], A row by row, then V row by row, from the seeded generator.
    init(family: FitFamily, pixels n: Int, hidden: Int, scale: Double, seed: Int) {
        self.family = family
        self.n = n
        b = [Double](repeating: 0, count: n)
        if family == .fvsbn {
            hiddenCount = 0
            W = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
            c = []; A = []; V = []
        } else {
            hiddenCount = hidden
            W = []
            c = [Double](repeating: 0, count: hidden)
            var rng = Xoshiro256StarStar(parameterSeed: seed)
            A = (0..<hidden).map { _ in (0..<n).map { _ in scale * (2 * rng.nextUnit() - 1) } }
            V = (0..<n).map { _ in (0..<hidden).map { _ in scale * (2 * rng.nextUnit() - 1) } }
        }
    }

    var parameterCount: Int {
        family == .fvsbn ? AutoregressiveParameterCounts.fvsbn(n) : AutoregressiveParameterCounts.nade(n, hidden: hiddenCount)
    }

    /// The conditionals p(x_i = 1 | x_<i) and log p(x) of one image in chain order.
    func evaluate(_ x: [Double]) -> (conditionals: [Double], logLikelihood: Double) {
        var p = [Double](repeating: 0, count: n)
        var total = 0.0
        switch family {
        case .fvsbn:
            for i in 0..<n {
                var a = b[i]
                let row = W[i]
                for j in 0..<i where x[j] != 0 { a += row[j] }
                p[i] = sigmoid(a)
                total += FVSBN.logProbability(of: x[i], activation: a)
            }
        case .nade:
            var act = c
            var hidden = [Double](repeating: 0, count: hiddenCount)
            for i in 0..<n {
                var a = b[i]
                for k in 0..<hiddenCount {
                    hidden[k] = sigmoid(act[k])
                    a += V[i][k] * hidden[k]
                }
                p[i] = sigmoid(a)
                total += FVSBN.logProbability(of: x[i], activation: a)
                if x[i] != 0 { for k in 0..<hiddenCount { act[k] += A[k][i] } }
            }
        }
        return (p, total)
    }

    /// One gradient-ascent step of size lr on Σ_r weight_r · log p(row_r); returns that sum
    /// at the parameters before the step.
    mutating func step(rows: [[Double]], weights: [Double], lr: Double) -> Double {
        var total = 0.0
        switch family {
        case .fvsbn:
            // The rows are split into a fixed number of chunks, fitted on every core and summed
            // in chunk order, so the result depends on the data alone, not on the machine.
            let n = self.n
            let flatW = W.flatMap { $0 }
            let bias = b
            let chunks = max(1, min(8, rows.count / 256))
            let partials = Mutex([FVSBNGradient?](repeating: nil, count: chunks))
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                var part = FVSBNGradient(pixels: n)
                let lo = chunk * rows.count / chunks, hi = (chunk + 1) * rows.count / chunks
                // The pixels that are on, in order: the sums below run over them alone, in the
                // same order as over every j with x[j] ≠ 0, so the result is the same to the bit,
                // without a branch per pixel that the binary data would mispredict half the time.
                var on = [Int](repeating: 0, count: n)
                var total = 0.0
                flatW.withUnsafeBufferPointer { w in
                    part.bias.withUnsafeMutableBufferPointer { gb in
                        part.weights.withUnsafeMutableBufferPointer { gw in
                            for r in lo..<hi {
                                let weight = weights[r]
                                rows[r].withUnsafeBufferPointer { x in
                                    var below = 0  // on[0 ..< below] are the on pixels before i
                                    for i in 0..<n {
                                        let base = i * n
                                        var a = bias[i]
                                        for k in 0..<below { a += w[base + on[k]] }
                                        total += weight * FVSBN.logProbability(of: x[i], activation: a)
                                        let residual = weight * (x[i] - sigmoid(a))
                                        gb[i] += residual
                                        for k in 0..<below { gw[base + on[k]] += residual }
                                        if x[i] != 0 {
                                            on[below] = i
                                            below += 1
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                part.total = total
                partials.withLock { $0[chunk] = part }
            }
            var sum = FVSBNGradient(pixels: n)
            for part in partials.withLock({ $0 }) {
                guard let part else { continue }
                sum.total += part.total
                for i in 0..<n { sum.bias[i] += part.bias[i] }
                for k in 0..<(n * n) { sum.weights[k] += part.weights[k] }
            }
            total = sum.total
            for i in 0..<n {
                b[i] += lr * sum.bias[i]
                for j in 0..<i { W[i][j] += lr * sum.weights[i * n + j] }
            }
        case .nade:
            let H = hiddenCount
            var gb = [Double](repeating: 0, count: n)
            var gc = [Double](repeating: 0, count: H)
            var gA = [[Double]](repeating: [Double](repeating: 0, count: n), count: H)
            var gV = [[Double]](repeating: [Double](repeating: 0, count: H), count: n)
            var hs = [[Double]](repeating: [Double](repeating: 0, count: H), count: n)
            var residual = [Double](repeating: 0, count: n)
            for (x, weight) in zip(rows, weights) {
                var act = c
                for i in 0..<n {
                    var a = b[i]
                    for k in 0..<H {
                        let hk = sigmoid(act[k])
                        hs[i][k] = hk
                        a += V[i][k] * hk
                    }
                    total += weight * FVSBN.logProbability(of: x[i], activation: a)
                    residual[i] = weight * (x[i] - sigmoid(a))
                    if x[i] != 0 { for k in 0..<H { act[k] += A[k][i] } }
                }
                // Backwards: dAct holds ∂/∂(pre-activation after pixel i), which A[:, i]·x_i feeds.
                var dAct = [Double](repeating: 0, count: H)
                for i in stride(from: n - 1, through: 0, by: -1) {
                    if x[i] != 0 { for k in 0..<H { gA[k][i] += dAct[k] } }
                    let r = residual[i]
                    gb[i] += r
                    for k in 0..<H {
                        let hk = hs[i][k]
                        gV[i][k] += r * hk
                        dAct[k] += r * V[i][k] * hk * (1 - hk)
                    }
                }
                for k in 0..<H { gc[k] += dAct[k] }
            }
            for i in 0..<n {
                b[i] += lr * gb[i]
                for k in 0..<H { V[i][k] += lr * gV[i][k] }
            }
            for k in 0..<H {
                c[k] += lr * gc[k]
                for i in 0..<n { A[k][i] += lr * gA[k][i] }
            }
        }
        return total
    }
}

/// `ar.fit`: maximum likelihood by gradient ascent for an FVSBN or a NADE on binary images.
/// One chunk's share of an FVSBN step: Σ weight·log p, and the gradient of it in b and W
/// (W flat, row-major).
private struct FVSBNGradient: Sendable {
    var total = 0.0
    var bias: [Double]
    var weights: [Double]

    init(pixels n: Int) {
        bias = [Double](repeating: 0, count: n)
        weights = [Double](repeating: 0, count: n * n)
    }
}

public struct AutoregressiveFitModule: ComputeModule {
    public init() {}
    public let name = "ar.fit"
    public let summary = "Fit an FVSBN or a NADE to binary images by full-batch gradient ascent on the mean log-likelihood; score a held-out set."

    /// The exclusive or of two fair coins: x₃ = x₁ XOR x₂, each of the four images with probability ¼.
    static let xor: [[Double]] = [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]

    public let parameters: [ParameterSpec] = [
        .matrix("data", AutoregressiveFitModule.xor, range: .unit, maxElements: FitLimits.entries,
                doc: "training images, one per row (n pixels in row-major order, 0/1); repeated rows count as often as they appear"),
        ParameterSpec(name: "test", kind: .matrix, defaultValue: .computed("the training data"),
                      doc: "held-out images, one per row, n columns", range: .unit, maxElements: FitLimits.entries),
        .choice("model", FitFamily.self, default: .nade, doc: "fvsbn (logistic conditionals) or nade (one shared sigmoid hidden layer)"),
        .integer("hidden", 2, range: .closed(1, Double(FitLimits.hidden)), doc: "NADE's hidden units H (ignored by fvsbn)"),
        .choice("order", PixelOrder.self, default: .raster, doc: "chain order: raster (x_1 first) or reverse (x_n first)"),
        .integer("steps", 2000, range: .closed(0, Double(FitLimits.steps)), doc: "full-batch gradient-ascent steps"),
        .number("lr", 1, range: .closed(0, 100), doc: "step size on the mean log-likelihood (nats per image)"),
        .number("init", 1, range: .closed(0, 10), doc: "NADE's A and V start uniform in [−init, init]; biases at 0; FVSBN starts at 0"),
        .integer("seed", 1, range: .nonNegative, doc: "seed of NADE's initial weights (xoshiro256**)"),
    ]
    public let outputs: [OutputSpec] = [
        .init("train_log_likelihood", .number, doc: "mean log p over the training rows after the last step, nats"),
        .init("test_log_likelihood", .number, doc: "mean log p over the held-out rows, nats"),
        .init("curve", .vector, hint: .chart, doc: "mean training log p before each step and after the last (steps + 1 values)"),
        .init("test_log_likelihoods", .vector, doc: "log p of each held-out row"),
        .init("test_conditionals", .matrix, doc: "p(x_i = 1 | the pixels before i in the order), one row per held-out image, pixels in row-major order"),
        .init("bias", .vector, doc: "the fitted output biases b_i, pixels in row-major order"),
        .init("weights", .matrix, hint: .heatmap, doc: "fvsbn: the fitted W, n×n, W[i][j] the weight of pixel j on pixel i (non-zero only where j comes first in the order); nade: zeros"),
        .init("params", .integer, doc: "parameters of the model: n(n + 1)/2 or 2nH + n + H"),
        .init("distinct", .integer, doc: "distinct training images (the gradient sums over these, weighted by their counts)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let data = try inputs.matrix("data")
        let n = data[0].count
        guard n <= AutoregressiveLimits.pixels else {
            throw .invalid("data", "has \(n) columns; the limit is \(AutoregressiveLimits.pixels) pixels")
        }
        func checkBinary(_ rows: [[Double]], _ name: String) throws(ComputeError) {
            for (r, row) in rows.enumerated() {
                if let c = row.firstIndex(where: { $0 != 0 && $0 != 1 }) {
                    throw .invalid(name, "has \(NumberText.shortest(row[c])) at row \(r), column \(c); pixels must be 0 or 1")
                }
            }
        }
        try checkBinary(data, "data")
        let test = inputs["test"] != nil ? try inputs.matrix("test") : data
        guard test[0].count == n else {
            throw .invalid("test", "has \(test[0].count) columns but data has \(n); both need one column per pixel")
        }
        try checkBinary(test, "test")
        let family = try inputs.choice("model", as: FitFamily.self)
        let hidden = try inputs.integer("hidden")
        let order = try inputs.choice("order", as: PixelOrder.self)
        let steps = try inputs.integer("steps")
        let lr = try inputs.number("lr")
        let scale = try inputs.number("init")
        let seed = try inputs.integer("seed")

        // Chain position c holds pixel pixel(c).
        func pixel(_ c: Int) -> Int { order == .raster ? c : n - 1 - c }
        func toChain(_ row: [Double]) -> [Double] { (0..<n).map { row[pixel($0)] } }

        // Distinct training rows in order of first appearance, weighted by count / N.
        var index: [[Double]: Int] = [:]
        var rows: [[Double]] = [], counts: [Double] = []
        for row in data {
            let x = toChain(row)
            if let k = index[x] {
                counts[k] += 1
            } else {
                index[x] = rows.count
                rows.append(x)
                counts.append(1)
            }
        }
        let weights = counts.map { $0 / Double(data.count) }
        let perImage = family == .fvsbn ? Double(n * (n + 1) / 2) : Double(n * hidden)
        let work = Double(steps) * Double(rows.count) * perImage
        guard work <= FitLimits.work else {
            throw .invalid("steps", "is \(steps) for \(rows.count) distinct images; steps × distinct images × \(family == .fvsbn ? "n(n+1)/2" : "nH") may be at most \(NumberText.shortest(FitLimits.work)), so use at most \(Int(FitLimits.work / (Double(rows.count) * perImage))) steps")
        }

        var model = AutoregressiveFit(family: family, pixels: n, hidden: hidden, scale: scale, seed: seed)
        var curve: [Double] = []
        curve.reserveCapacity(steps + 1)
        for step in 0..<steps {
            try context.checkCancelled()
            if step % 8 == 0 { context.reportProgress(Double(step) / Double(steps)) }
            curve.append(model.step(rows: rows, weights: weights, lr: lr))
        }
        var trainTotal = 0.0
        for (x, weight) in zip(rows, weights) { trainTotal += weight * model.evaluate(x).logLikelihood }
        curve.append(trainTotal)

        var testLogs: [Double] = [], testConditionals: [[Double]] = []
        testLogs.reserveCapacity(test.count)
        for row in test {
            let e = model.evaluate(toChain(row))
            testLogs.append(e.logLikelihood)
            var p = [Double](repeating: 0, count: n)
            for c in 0..<n { p[pixel(c)] = e.conditionals[c] }
            testConditionals.append(p)
        }
        var bias = [Double](repeating: 0, count: n)
        var W = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            bias[pixel(i)] = model.b[i]
            if family == .fvsbn { for j in 0..<i { W[pixel(i)][pixel(j)] = model.W[i][j] } }
        }
        return [
            "train_log_likelihood": .number(trainTotal),
            "test_log_likelihood": .number(testLogs.reduce(0, +) / Double(test.count)),
            "curve": .vector(curve),
            "test_log_likelihoods": .vector(testLogs),
            "test_conditionals": .matrix(testConditionals),
            "bias": .vector(bias),
            "weights": .matrix(W),
            "params": .integer(model.parameterCount),
            "distinct": .integer(rows.count),
        ]
    }
}
