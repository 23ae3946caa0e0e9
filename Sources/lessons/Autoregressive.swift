import Foundation
import NotebookCore

// The fully visible sigmoid belief network (FVSBN; Neal, 1992, "Connectionist learning of
// belief networks"; Frey, 1998), the autoregressive baseline of Larochelle & Murray (2011,
// "The neural autoregressive distribution estimator"), on binary images. Pixels x_1..x_n in row-major order; the chain rule
//     p(x) = Π_i p(x_i | x_<i),   p(x_i = 1 | x_<i) = σ(b_i + Σ_{j<i} W[i][j]·x_j)
// is a normalised distribution over all 2ⁿ images for every b and W, because each factor is
// a Bernoulli distribution given the pixels before it.
//
// Log-probabilities use log σ(a) = −softplus(−a) and log(1 − σ(a)) = −softplus(a), so a pixel
// that the model gives probability e^(−2·10⁴) has log p = −2·10⁴, not −∞.
//
// Size limit: n ≤ 1023 pixels, the largest n for which 2ⁿ − 1 (the tabular parameter count,
// reported as a Double) is finite; 2¹⁰²⁴ overflows. A 28×28 MNIST image (n = 784) fits.

enum AutoregressiveLimits {
    /// Largest pixel count: 2¹⁰²³ − 1 ≈ 9·10³⁰⁷ is the last finite 2ⁿ − 1.
    static let pixels = 1023
    /// Largest |bias| and |weight|: activations stay below 1e6·1024 in magnitude.
    static let magnitude = 1e6
    static let weightRange = NumberRange.closed(-magnitude, magnitude)
    /// Hidden units of the NADE comparison.
    static let hidden = 1_000_000
    /// Samples per cell, pixels sampled per cell, and multiply-adds per cell (each pixel's
    /// activation sums up to n − 1 products).
    static let samples = 100_000
    static let sampledPixels = 1_000_000
    static let work = 50_000_000

    /// The default model's bias: every pixel is off a priori (σ(−1.5) ≈ 0.18).
    static let defaultBias = -1.5
    /// The default model's coupling to each causal neighbour (left, upper-left, upper,
    /// upper-right): a pixel next to an on pixel is more likely on, so strokes continue.
    static let defaultCoupling = 1.5
    static let defaultBiasText = "−1.5 per pixel"
    static let defaultWeightsText = "1.5 from each pixel's left, upper-left, upper and upper-right neighbour, else 0"
}

/// An FVSBN over n binary pixels: the logistic regression of each pixel on the pixels before it.
struct FVSBN {
    /// b_i, one per pixel.
    let bias: [Double]
    /// W[i][j]; only j < i is read.
    let weights: [[Double]]

    var pixels: Int { bias.count }

    /// The default model for an h×w image: ``AutoregressiveLimits/defaultBias`` everywhere and
    /// ``AutoregressiveLimits/defaultCoupling`` from each causal neighbour.
    static func neighbourModel(height h: Int, width w: Int) -> FVSBN {
        let n = h * w
        var weights = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for r in 0..<h {
            for c in 0..<w {
                // Left, upper-left, upper, upper-right: all earlier in row-major order.
                for (dr, dc) in [(0, -1), (-1, -1), (-1, 0), (-1, 1)] {
                    let rr = r + dr, cc = c + dc
                    guard rr >= 0, cc >= 0, cc < w else { continue }
                    weights[r * w + c][rr * w + cc] = AutoregressiveLimits.defaultCoupling
                }
            }
        }
        return FVSBN(bias: [Double](repeating: AutoregressiveLimits.defaultBias, count: n), weights: weights)
    }

    /// a_i = b_i + Σ_{j<i} W[i][j]·x_j, the logit of p(x_i = 1 | x_<i). Only x[0..<i] is read,
    /// so sampling can call it on a partly filled image.
    @inline(__always)
    func activation(_ i: Int, given x: [Double]) -> Double {
        var a = bias[i]
        let row = weights[i]
        for j in 0..<i where x[j] != 0 { a += row[j] * x[j] }
        return a
    }

    /// log p(x_i | x_<i) for the observed value of x_i (0 or 1), from the logit a.
    @inline(__always)
    static func logProbability(of xi: Double, activation a: Double) -> Double {
        xi == 1 ? -softplus(-a) : -softplus(a)
    }

    /// The chain-rule factors of one image (0/1 entries, row-major).
    struct Evaluation {
        /// p(x_i = 1 | x_<i) for each pixel.
        let conditionals: [Double]
        /// log p(x_i | x_<i) of each observed pixel value, in nats.
        let logProbs: [Double]
        /// log p(x) = Σ_i log p(x_i | x_<i), in nats.
        let logLikelihood: Double
    }

    func evaluate(_ x: [Double]) -> Evaluation {
        var conditionals: [Double] = [], logProbs: [Double] = []
        conditionals.reserveCapacity(pixels)
        logProbs.reserveCapacity(pixels)
        var total = 0.0
        for i in 0..<pixels {
            let a = activation(i, given: x)
            let lp = Self.logProbability(of: x[i], activation: a)
            conditionals.append(sigmoid(a))
            logProbs.append(lp)
            total += lp
        }
        return Evaluation(conditionals: conditionals, logProbs: logProbs, logLikelihood: total)
    }

    /// ∇ log p(x) for one image: ∂/∂b_i = x_i − p_i and ∂/∂W[i][j] = (x_i − p_i)·x_j for
    /// j < i, 0 on and above the diagonal (those weights are not used).
    static func gradient(image x: [Double], conditionals p: [Double]) -> (bias: [Double], weights: [[Double]]) {
        let n = x.count
        var gradBias = [Double](repeating: 0, count: n)
        var gradWeights = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            let residual = x[i] - p[i]
            gradBias[i] = residual
            // x_j is 0 or 1; writing 0 rather than residual·0 keeps −0 out of the output.
            for j in 0..<i where x[j] != 0 { gradWeights[i][j] = residual * x[j] }
        }
        return (gradBias, gradWeights)
    }

    /// Ancestral sampling: pixel i is 1 when a uniform u < p(x_i = 1 | x_<i), one uniform per
    /// pixel in row-major order, image after image. Returns the images and log p of each.
    func sample(count: Int, using rng: inout Xoshiro256StarStar,
                context: RunContext) throws(ComputeError) -> (images: [[Double]], logLikelihoods: [Double]) {
        var images: [[Double]] = [], logLikelihoods: [Double] = []
        images.reserveCapacity(count)
        logLikelihoods.reserveCapacity(count)
        for s in 0..<count {
            if s & 0xFF == 0 { try context.checkCancelled() }
            var x = [Double](repeating: 0, count: pixels)
            var total = 0.0
            for i in 0..<pixels {
                let a = activation(i, given: x)
                x[i] = rng.bernoulli(sigmoid(a))
                total += Self.logProbability(of: x[i], activation: a)
            }
            images.append(x)
            logLikelihoods.append(total)
        }
        return (images, logLikelihoods)
    }
}

/// Parameter counts of three models of n binary pixels, for the lesson's comparison.
enum AutoregressiveParameterCounts {
    /// FVSBN: n biases and n(n − 1)/2 weights below the diagonal.
    static func fvsbn(_ n: Int) -> Int { n * (n + 1) / 2 }
    /// A full table of p(x): 2ⁿ probabilities that sum to 1. Exact for n ≤ 53, finite for n ≤ 1023.
    static func tabular(_ n: Int) -> Double { Double(sign: .plus, exponent: n, significand: 1) - 1 }
    /// NADE with H hidden units: W (H×n), V (n×H), output biases (n) and hidden biases (H).
    static func nade(_ n: Int, hidden: Int) -> Int { 2 * n * hidden + n + hidden }
}

/// Reads `bias` and `weights` for n pixels, or the neighbour model of an h×w image for those
/// left unset; a length or shape that does not fit n names the parameter.
func readModel(_ inputs: Inputs, height h: Int, width w: Int,
                       shapeText: String) throws(ComputeError) -> FVSBN {
    let n = h * w
    let bias: [Double], weights: [[Double]]
    if inputs["bias"] != nil && inputs["weights"] != nil {
        bias = try inputs.vector("bias")
        weights = try inputs.matrix("weights")
    } else {
        let standard = FVSBN.neighbourModel(height: h, width: w)
        bias = inputs["bias"] != nil ? try inputs.vector("bias") : standard.bias
        weights = inputs["weights"] != nil ? try inputs.matrix("weights") : standard.weights
    }
    guard bias.count == n else {
        throw .invalid("bias", "has \(bias.count) entries but \(shapeText) has \(n) pixels; bias needs one entry per pixel")
    }
    guard weights.count == n, weights[0].count == n else {
        throw .invalid("weights", "is \(weights.count)×\(weights[0].count) but \(shapeText) has \(n) pixels; weights must be \(n)×\(n) (row i holds the weights of pixel i on the pixels before it)")
    }
    return FVSBN(bias: bias, weights: weights)
}

let biasSpec = ParameterSpec(
    name: "bias", kind: .vector, defaultValue: .computed(AutoregressiveLimits.defaultBiasText),
    doc: "b, one logit offset per pixel (row-major)",
    range: AutoregressiveLimits.weightRange, maxElements: AutoregressiveLimits.pixels)

let weightsSpec = ParameterSpec(
    name: "weights", kind: .matrix, defaultValue: .computed(AutoregressiveLimits.defaultWeightsText),
    doc: "W, n×n: W[i][j] is the weight of pixel j on pixel i; only j < i is used",
    range: AutoregressiveLimits.weightRange,
    maxElements: AutoregressiveLimits.pixels * AutoregressiveLimits.pixels)

/// `ar.fvsbn`: the chain-rule factors of one binary image, its log-likelihood, one step of
/// maximum-likelihood learning, and the parameter counts of FVSBN, a table and NADE.
public struct FVSBNModule: ComputeModule {
    public init() {}
    public let name = "ar.fvsbn"
    public let summary = "Fully visible sigmoid belief net: p(x_i = 1 | x_<i) = σ(b_i + Σ_{j<i} W_ij x_j), log-likelihood and one gradient step."

    /// A 4×4 binarised "7".
    static let seven: [[Double]] = [
        [1, 1, 1, 1],
        [0, 0, 0, 1],
        [0, 0, 1, 0],
        [0, 1, 0, 0],
    ]

    public let parameters: [ParameterSpec] = [
        .matrix("image", FVSBNModule.seven, range: .unit, maxElements: AutoregressiveLimits.pixels,
                doc: "h×w binary image (0/1), read in row-major order; at most 1023 pixels"),
        biasSpec,
        weightsSpec,
        .integer("hidden", 8, range: .closed(1, Double(AutoregressiveLimits.hidden)),
                 doc: "hidden units H of the NADE the parameter count compares with"),
        .number("lr", 0.1, range: .closed(0, 1000),
                doc: "step size of the one gradient-ascent step on log p(image)"),
    ]
    public let outputs: [OutputSpec] = [
        .init("conditionals", .vector, hint: .chart, doc: "p(x_i = 1 | x_<i) for each pixel"),
        .init("conditionals_image", .matrix, hint: .heatmap, doc: "the conditionals in the image's h×w layout"),
        .init("log_probs", .vector, hint: .chart, doc: "log p(x_i | x_<i) of each observed pixel, nats"),
        .init("log_likelihood", .number, doc: "log p(image) = Σ log_probs, nats"),
        .init("bits_per_dim", .number, doc: "−log_likelihood/(n·ln 2); 1 for the uniform model"),
        .init("params_fvsbn", .integer, doc: "n(n + 1)/2: n biases and the weights below the diagonal"),
        .init("params_tabular", .number, doc: "2ⁿ − 1: free entries of a full probability table"),
        .init("params_nade", .integer, doc: "2·n·hidden + n + hidden"),
        .init("grad_bias", .vector, doc: "∂ log p(image)/∂b_i = x_i − p_i"),
        .init("grad_weights", .matrix, hint: .heatmap, doc: "∂ log p(image)/∂W_ij = (x_i − p_i)·x_j below the diagonal, 0 elsewhere"),
        .init("bias_after_step", .vector, doc: "b + lr·grad_bias"),
        .init("weights_after_step", .matrix, doc: "W + lr·grad_weights"),
        .init("log_likelihood_after_step", .number,
              doc: "log p(image) after the step: never lower, since each pixel's logit moves towards its observed value"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let image = try inputs.matrix("image")
        let h = image.count, w = image[0].count
        guard h * w <= AutoregressiveLimits.pixels else {
            throw .invalid("image", "is \(h)×\(w) = \(h * w) pixels; the limit is \(AutoregressiveLimits.pixels), the largest n for which 2ⁿ − 1 is finite")
        }
        for (r, row) in image.enumerated() {
            if let c = row.firstIndex(where: { $0 != 0 && $0 != 1 }) {
                throw .invalid("image", "has \(NumberText.shortest(row[c])) at row \(r), column \(c); pixels must be 0 or 1")
            }
        }
        let x = image.flatMap { $0 }
        let model = try readModel(inputs, height: h, width: w, shapeText: "the \(h)×\(w) image")
        let hidden = try inputs.integer("hidden")
        let lr = try inputs.number("lr")
        let n = x.count

        let e = model.evaluate(x)
        let grad = FVSBN.gradient(image: x, conditionals: e.conditionals)
        let stepped = FVSBN(
            bias: zip(model.bias, grad.bias).map { $0 + lr * $1 },
            weights: zip(model.weights, grad.weights).map { row, g in zip(row, g).map { $0 + lr * $1 } })
        let after = stepped.evaluate(x)
        return [
            "conditionals": .vector(e.conditionals),
            "conditionals_image": .matrix((0..<h).map { r in Array(e.conditionals[(r * w)..<(r * w + w)]) }),
            "log_probs": .vector(e.logProbs),
            "log_likelihood": .number(e.logLikelihood),
            "bits_per_dim": .number(-e.logLikelihood / (Double(n) * M_LN2)),
            "params_fvsbn": .integer(AutoregressiveParameterCounts.fvsbn(n)),
            "params_tabular": .number(AutoregressiveParameterCounts.tabular(n)),
            "params_nade": .integer(AutoregressiveParameterCounts.nade(n, hidden: hidden)),
            "grad_bias": .vector(grad.bias),
            "grad_weights": .matrix(grad.weights),
            "bias_after_step": .vector(stepped.bias),
            "weights_after_step": .matrix(stepped.weights),
            "log_likelihood_after_step": .number(after.logLikelihood),
        ]
    }
}

/// `ar.sample`: ancestral samples of an FVSBN, pixel by pixel, with a seeded generator.
public struct FVSBNSampleModule: ComputeModule {
    public init() {}
    public let name = "ar.sample"
    public let summary = "Ancestral sampling from an FVSBN: draw x_1, then x_2 given x_1, … in row-major order."

    public let parameters: [ParameterSpec] = [
        biasSpec,
        weightsSpec,
        .integer("h", 4, range: .closed(1, Double(AutoregressiveLimits.pixels)),
                 doc: "image height (h·w = n ≤ 1023)"),
        .integer("w", 4, range: .closed(1, Double(AutoregressiveLimits.pixels)),
                 doc: "image width (h·w = n ≤ 1023)"),
        .integer("samples", 4, range: .closed(1, Double(AutoregressiveLimits.samples)),
                 doc: "images to draw (also samples·n ≤ 1,000,000 and samples·n(n+1)/2 ≤ 5·10⁷)"),
        .integer("seed", 1, range: .nonNegative, doc: "seed of the xoshiro256** generator (SplitMix64-seeded)"),
    ]
    public let outputs: [OutputSpec] = [
        .init("samples", .matrix, hint: .heatmap, doc: "samples×n, one 0/1 image per row (row-major pixels)"),
        .init("log_likelihoods", .vector, doc: "log p of each sample under the model, nats"),
        .init("first_image", .matrix, hint: .heatmap, doc: "the first sample as an h×w image"),
        .init("mean_image", .matrix, hint: .heatmap, doc: "fraction of samples with each pixel on, h×w"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let h = try inputs.integer("h"), w = try inputs.integer("w")
        let n = h * w  // both ≤ 1023: no overflow
        guard n <= AutoregressiveLimits.pixels else {
            throw .invalid("w", "gives h·w = \(h)·\(w) = \(n) pixels; the limit is \(AutoregressiveLimits.pixels)")
        }
        let model = try readModel(inputs, height: h, width: w, shapeText: "an \(h)×\(w) image")
        let count = try inputs.integer("samples")
        guard count <= AutoregressiveLimits.sampledPixels / n else {
            throw .invalid("samples", "is \(count) for \(n) pixels; samples·n may be at most \(AutoregressiveLimits.sampledPixels), so use at most \(AutoregressiveLimits.sampledPixels / n) samples")
        }
        let perSample = n * (n + 1) / 2
        guard count <= AutoregressiveLimits.work / perSample else {
            throw .invalid("samples", "is \(count) for \(n) pixels; samples·n(n+1)/2 may be at most \(AutoregressiveLimits.work), so use at most \(AutoregressiveLimits.work / perSample) samples")
        }
        var rng = Xoshiro256StarStar(parameterSeed: try inputs.integer("seed"))
        let drawn = try model.sample(count: count, using: &rng, context: context)

        var on = [Double](repeating: 0, count: n)
        for image in drawn.images {
            for i in 0..<n { on[i] += image[i] }
        }
        func layout(_ xs: [Double]) -> [[Double]] {
            (0..<h).map { r in Array(xs[(r * w)..<(r * w + w)]) }
        }
        return [
            "samples": .matrix(drawn.images),
            "log_likelihoods": .vector(drawn.logLikelihoods),
            "first_image": .matrix(layout(drawn.images[0])),
            "mean_image": .matrix(layout(on.map { $0 / Double(count) })),
        ]
    }
}
