import Foundation
import NotebookCore

// Noise-contrastive estimation (Gutmann & Hyvärinen, 2010): fit a model density p_m by
// logistic regression that tells T_d data samples from T_n = k·T_d noise samples of a known
// density p_n. The classifier's logit is G(u) = log p_m(u) − log p_n(u) − log k, its output
// h = σ(G), and the loss the mean (per data sample) logistic loss
//     J = −(1/T_d)[Σ_data log h + Σ_noise log(1 − h)].
// Because G uses p_m itself, not p_m normalised, an unknown normaliser can be a parameter
// c added to log p_m; the loss is minimised where p_m = p_d, so c is learned with the rest.

/// log(1 + eˣ) without overflow for large x or loss of precision for very negative x.
@inline(__always)
func softplus(_ x: Double) -> Double {
    max(x, 0) + log1p(exp(-abs(x)))
}

/// σ(x) = 1/(1 + e^(−x)), evaluated on the side where the exponential cannot overflow.
@inline(__always)
func sigmoid(_ x: Double) -> Double {
    if x >= 0 { return 1 / (1 + exp(-x)) }
    let e = exp(x)
    return e / (1 + e)
}

/// `nce.binary`: the NCE classifier and loss for given model and noise log-densities.
public struct NCEBinaryModule: ComputeModule {
    public init() {}
    public let name = "nce.binary"
    public let summary = "Noise-contrastive estimation: classify data against k noise samples with the logit log p_m − log p_n − log k."

    // Default: data and noise points of the lesson; p_n = N(0, 2²) and p_m the true
    // density N(0, 1), log-densities rounded to 4 decimals.
    // data u = [−1.8, −0.2, 0.3, 0.8]; noise u = [−3.1, −1.8, −1, −0.3, 0.3, 1, 1.8, 3.1].
    public let parameters: [ParameterSpec] = [
        .vector("model_logp_data", [-2.5389, -0.9389, -0.9639, -1.2389], minElements: 0, maxElements: 1_000_000,
                doc: "log p_m at each data sample (unnormalised model allowed)"),
        .vector("noise_logp_data", [-2.0171, -1.6171, -1.6233, -1.6921], minElements: 0, maxElements: 1_000_000,
                doc: "log p_n at each data sample"),
        .vector("model_logp_noise", [-5.7239, -2.5389, -1.4189, -0.9639, -0.9639, -1.4189, -2.5389, -5.7239],
                minElements: 0, maxElements: 1_000_000, doc: "log p_m at each noise sample"),
        .vector("noise_logp_noise", [-2.8133, -2.0171, -1.7371, -1.6233, -1.6233, -1.7371, -2.0171, -2.8133],
                minElements: 0, maxElements: 1_000_000, doc: "log p_n at each noise sample"),
    ]
    public let outputs: [OutputSpec] = [
        .init("k", .number, doc: "noise samples per data sample, T_n / T_d"),
        .init("g_data", .vector, doc: "G(u) = log p_m − log p_n − log k at each data sample"),
        .init("g_noise", .vector, doc: "G(u) at each noise sample"),
        .init("h_data", .vector, hint: .chart, doc: "h = σ(G): the classifier's probability that a data sample is data"),
        .init("h_noise", .vector, hint: .chart, doc: "h at each noise sample (1 − h is the probability it is noise)"),
        .init("loss", .number, doc: "−(1/T_d)[Σ_data log h + Σ_noise log(1 − h)], nats"),
        .init("grad_data", .vector, doc: "∂loss/∂model_logp_data = −(1 − h)/T_d"),
        .init("grad_noise", .vector, doc: "∂loss/∂model_logp_noise = h/T_d"),
        .init("grad_c", .number, doc: "∂loss/∂c for a log-normaliser c added to every model log-density: the sum of both gradients"),
        .init("log_k", .number, doc: "log k, the offset in G that accounts for noise outnumbering data"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let modelData = try inputs.vector("model_logp_data"), noiseData = try inputs.vector("noise_logp_data")
        let modelNoise = try inputs.vector("model_logp_noise"), noiseNoise = try inputs.vector("noise_logp_noise")
        guard !modelData.isEmpty else {
            throw .invalid("model_logp_data", "is empty; NCE needs at least one data sample")
        }
        guard !modelNoise.isEmpty else {
            throw .invalid("model_logp_noise", "is empty; NCE needs at least one noise sample")
        }
        guard noiseData.count == modelData.count else {
            throw .invalid("noise_logp_data", "has \(countedNoun(noiseData.count, "entry", "entries")) but model_logp_data has \(countedNoun(modelData.count, "entry", "entries")); both are evaluated at the same data samples")
        }
        guard noiseNoise.count == modelNoise.count else {
            throw .invalid("noise_logp_noise", "has \(countedNoun(noiseNoise.count, "entry", "entries")) but model_logp_noise has \(countedNoun(modelNoise.count, "entry", "entries")); both are evaluated at the same noise samples")
        }
        let nce = NCEClassifier(modelData: modelData, noiseData: noiseData, modelNoise: modelNoise, noiseNoise: noiseNoise)
        return [
            "k": .number(nce.k),
            "g_data": .vector(nce.gData),
            "g_noise": .vector(nce.gNoise),
            "h_data": .vector(nce.gData.map(sigmoid)),
            "h_noise": .vector(nce.gNoise.map(sigmoid)),
            "loss": .number(nce.loss),
            "grad_data": .vector(nce.gradData),
            "grad_noise": .vector(nce.gradNoise),
            "grad_c": .number(nce.gradC),
            "log_k": .number(nce.logK),
        ]
    }
}

/// The NCE classifier on given log-densities: T_d data samples, T_n noise samples, k = T_n/T_d.
struct NCEClassifier {
    let k: Double
    let logK: Double
    /// G(u) = log p_m(u) − log p_n(u) − log k at each data sample.
    let gData: [Double]
    /// G at each noise sample.
    let gNoise: [Double]
    /// −(1/T_d)[Σ_data log h + Σ_noise log(1 − h)], h = σ(G).
    let loss: Double
    /// ∂loss/∂log p_m at each data sample: −(1 − h)/T_d.
    let gradData: [Double]
    /// ∂loss/∂log p_m at each noise sample: h/T_d.
    let gradNoise: [Double]
    /// ∂loss/∂c for a log-normaliser c added to every model log-density.
    let gradC: Double

    /// Both data vectors have the same non-zero length, and both noise vectors.
    init(modelData: [Double], noiseData: [Double], modelNoise: [Double], noiseNoise: [Double]) {
        let td = Double(modelData.count)
        let ratio = Double(modelNoise.count) / td
        // A local copy: the closures below cannot capture self before every field is set.
        let logK = log(ratio)
        k = ratio
        self.logK = logK
        // Log-densities within ±Double.greatestFiniteMagnitude can still differ by more than it;
        // G is then ±∞ and the loss terms below stay exact (0, or an overflow that is real).
        gData = zip(modelData, noiseData).map { $0 - $1 - logK }
        gNoise = zip(modelNoise, noiseNoise).map { $0 - $1 - logK }
        // −log σ(G) = softplus(−G) and −log(1 − σ(G)) = softplus(G): no log of a rounded 1 − h.
        var sum = 0.0
        for g in gData { sum += softplus(-g) }
        for g in gNoise { sum += softplus(g) }
        loss = sum / td
        gradData = gData.map { -sigmoid(-$0) / td }
        gradNoise = gNoise.map { sigmoid($0) / td }
        gradC = gradData.reduce(0, +) + gradNoise.reduce(0, +)
    }
}
