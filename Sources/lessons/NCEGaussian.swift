import Foundation
import NotebookCore

// NCE for a one-dimensional Gaussian model with a learned normaliser, from sample points rather
// than hand-typed log-densities.
//
// Data come from p_d = N(μ_d, σ_d²), noise from p_n = N(μ_n, σ_n²), and the model is
// log p_m(u) = log N(u; μ, s²) + c: the right family, with c = 0 its true normaliser. The points
// are given, or drawn from the seeded generator (the data first, then k per datum of noise).
// The classifier, loss and gradients are those of `nce.binary` on the four log-density vectors
// these points give, plus the chain rule into μ, s and c:
//     ∂ log p_m/∂μ = (u − μ)/s²,   ∂ log p_m/∂s = ((u − μ)²/s² − 1)/s,   ∂ log p_m/∂c = 1.
// The `expected_*` outputs are the same loss and gradients with infinitely many samples (T_d → ∞,
// k fixed): J = E_{p_d}[softplus(−G)] + k·E_{p_n}[softplus(G)], by quadrature.

/// log N(u; mean, sd²).
@inline(__always)
func logNormalDensity(_ u: Double, mean: Double, sd: Double) -> Double {
    let z = (u - mean) / sd
    return -0.5 * log(2 * Double.pi) - log(sd) - 0.5 * z * z
}

/// Where the NCE sample points come from.
enum SamplePoints: String, CaseIterable {
    /// The `data` and `noise` vectors.
    case given
    /// Drawn from N(data_mean, data_sd²) and N(noise_mean, noise_sd²) with the seed.
    case sampled
}

/// The model N(μ, s²) + c against the noise N(μ_n, σ_n²), at given points and in expectation.
struct GaussianNCE {
    let mu: Double, s: Double, c: Double
    let noiseMean: Double, noiseSD: Double

    func modelLogDensity(_ u: Double) -> Double { logNormalDensity(u, mean: mu, sd: s) + c }
    func noiseLogDensity(_ u: Double) -> Double { logNormalDensity(u, mean: noiseMean, sd: noiseSD) }
    /// ∂ log p_m(u)/∂μ.
    func dMu(_ u: Double) -> Double { (u - mu) / (s * s) }
    /// ∂ log p_m(u)/∂s.
    func dS(_ u: Double) -> Double {
        let z = (u - mu) / s
        return (z * z - 1) / s
    }

    /// Population loss and its gradients in (c, μ, s) for data from N(dataMean, dataSD²):
    ///     J = E_d[softplus(−G)] + k·E_n[softplus(G)],
    ///     ∂J/∂θ = E_d[−σ(−G)·∂θ log p_m] + k·E_n[σ(G)·∂θ log p_m].
    /// Each expectation over N(m, σ²) is the trapezoid rule in z = (u − m)/σ over |z| ≤ 14, with a
    /// step of 1/16 of the narrowest of the three widths (in units of σ): the integrands are smooth
    /// and decay like e^{−z²/2}, so the rule converges exponentially in the number of points.
    func expected(dataMean: Double, dataSD: Double, k: Double)
        -> (loss: Double, gradC: Double, gradMu: Double, gradS: Double) {
        let logK = log(k)
        var total = (loss: 0.0, gradC: 0.0, gradMu: 0.0, gradS: 0.0)
        for (mean, sd, weight, isData) in [(dataMean, dataSD, 1.0, true), (noiseMean, noiseSD, k, false)] {
            let h = min(1, s / sd, noiseSD / sd, dataSD / sd) / 16
            let steps = Int((14 / h).rounded(.up))
            var loss = 0.0, gradC = 0.0, gradMu = 0.0, gradS = 0.0
            for i in -steps...steps {
                let z = Double(i) * h
                let u = mean + sd * z
                let density = exp(-0.5 * z * z)
                let g = modelLogDensity(u) - noiseLogDensity(u) - logK
                // Data push log p_m up by σ(−G); noise pushes it down by σ(G).
                let push = isData ? -sigmoid(-g) : sigmoid(g)
                loss += density * (isData ? softplus(-g) : softplus(g))
                gradC += density * push
                gradMu += density * push * dMu(u)
                gradS += density * push * dS(u)
            }
            let scale = weight * h / (2 * Double.pi).squareRoot()
            total.loss += scale * loss
            total.gradC += scale * gradC
            total.gradMu += scale * gradMu
            total.gradS += scale * gradS
        }
        return total
    }
}

/// `nce.gaussian`: NCE of a Gaussian model with a learned normaliser, from points.
public struct NCEGaussianModule: ComputeModule {
    public init() {}
    public let name = "nce.gaussian"
    public let summary = "NCE for the model N(μ, s²) + c against Gaussian noise, from given or seeded sample points: the nce.binary outputs plus ∂/∂μ, ∂/∂s, ∂/∂c and their population values."

    static let locationRange = NumberRange.closed(-1_000, 1_000)
    static let widthRange = NumberRange.closed(0.05, 20)
    static let maxPoints = 1_000_000

    public let parameters: [ParameterSpec] = [
        .choice("points", SamplePoints.self, default: .given,
                doc: "given (the data and noise vectors) or sampled (data_count from p_d, then k·data_count from p_n, seeded)"),
        .vector("data", [-1.8, -0.2, 0.3, 0.8], range: .closed(-1e6, 1e6), maxElements: NCEGaussianModule.maxPoints,
                doc: "data points when points = given"),
        .vector("noise", [-3.1, -1.8, -1, -0.3, 0.3, 1, 1.8, 3.1], range: .closed(-1e6, 1e6),
                maxElements: NCEGaussianModule.maxPoints, doc: "noise points when points = given (k = their count / data's)"),
        .integer("data_count", 4, range: .closed(1, 100_000), doc: "data points drawn when points = sampled"),
        .integer("k", 2, range: .closed(1, 1_000), doc: "noise points per data point when points = sampled"),
        .number("data_mean", 0, range: NCEGaussianModule.locationRange, doc: "μ_d of the data density N(μ_d, σ_d²) (sampling and expected_*)"),
        .number("data_sd", 1, range: NCEGaussianModule.widthRange, doc: "σ_d, in [0.05, 20]"),
        .number("mu", 0, range: NCEGaussianModule.locationRange, doc: "the model's mean μ"),
        .number("s", 1, range: NCEGaussianModule.widthRange, doc: "the model's standard deviation s, in [0.05, 20]"),
        .number("c", 0, range: .closed(-50, 50), doc: "the learned log-normaliser c added to log N(u; μ, s²); 0 is a normalised model"),
        .number("noise_mean", 0, range: NCEGaussianModule.locationRange, doc: "μ_n of the noise density N(μ_n, σ_n²)"),
        .number("noise_sd", 2, range: NCEGaussianModule.widthRange, doc: "σ_n, in [0.05, 20]"),
        .integer("seed", 1, range: .nonNegative, doc: "seed of the generator when points = sampled"),
    ]
    public let outputs: [OutputSpec] = [
        .init("k", .number, doc: "noise samples per data sample, T_n / T_d"),
        .init("g_data", .vector, doc: "G(u) = log p_m − log p_n − log k at each data point"),
        .init("g_noise", .vector, doc: "G(u) at each noise point"),
        .init("h_data", .vector, hint: .chart, doc: "h = σ(G): the classifier's probability that a data point is data"),
        .init("h_noise", .vector, hint: .chart, doc: "h at each noise point"),
        .init("loss", .number, doc: "−(1/T_d)[Σ_data log h + Σ_noise log(1 − h)], nats"),
        .init("grad_data", .vector, doc: "∂loss/∂log p_m at each data point = −(1 − h)/T_d"),
        .init("grad_noise", .vector, doc: "∂loss/∂log p_m at each noise point = h/T_d"),
        .init("grad_c", .number, doc: "∂loss/∂c: the sum of both gradients"),
        .init("log_k", .number, doc: "log k"),
        .init("grad_mu", .number, doc: "∂loss/∂μ"),
        .init("grad_s", .number, doc: "∂loss/∂s"),
        .init("data", .vector, doc: "the data points used"),
        .init("noise", .vector, doc: "the noise points used"),
        .init("model_logp_data", .vector, doc: "log p_m at the data points (nce.binary's input of that name)"),
        .init("noise_logp_data", .vector, doc: "log p_n at the data points"),
        .init("model_logp_noise", .vector, doc: "log p_m at the noise points"),
        .init("noise_logp_noise", .vector, doc: "log p_n at the noise points"),
        .init("expected_loss", .number, doc: "the loss with infinitely many samples: E_d[softplus(−G)] + k·E_n[softplus(G)]"),
        .init("expected_grad_c", .number, doc: "its ∂/∂c = k∫p_n (p_m − p_d)/(p_m + k p_n): 0 at c = 0 when μ, s match the data"),
        .init("expected_grad_mu", .number, doc: "its ∂/∂μ"),
        .init("expected_grad_s", .number, doc: "its ∂/∂s"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let mode = try inputs.choice("points", as: SamplePoints.self)
        let dataMean = try inputs.number("data_mean"), dataSD = try inputs.number("data_sd")
        let noiseMean = try inputs.number("noise_mean"), noiseSD = try inputs.number("noise_sd")
        let model = GaussianNCE(mu: try inputs.number("mu"), s: try inputs.number("s"), c: try inputs.number("c"),
                                noiseMean: noiseMean, noiseSD: noiseSD)
        let data: [Double], noise: [Double]
        switch mode {
        case .given:
            data = try inputs.vector("data")
            noise = try inputs.vector("noise")
        case .sampled:
            let count = try inputs.integer("data_count"), k = try inputs.integer("k")
            guard count * k <= Self.maxPoints else {
                throw .invalid("k", "with data_count = \(count) asks for \(count * k) noise points; the limit is \(Self.maxPoints)")
            }
            var normal = GaussianSampler(Xoshiro256StarStar(parameterSeed: try inputs.integer("seed")))
            data = (0..<count).map { _ in dataMean + dataSD * normal.next() }
            noise = (0..<(count * k)).map { _ in noiseMean + noiseSD * normal.next() }
        }

        let nce = NCEClassifier(modelData: data.map(model.modelLogDensity), noiseData: data.map(model.noiseLogDensity),
                                modelNoise: noise.map(model.modelLogDensity), noiseNoise: noise.map(model.noiseLogDensity))
        var gradMu = 0.0, gradS = 0.0
        for (u, g) in zip(data, nce.gradData) {
            gradMu += g * model.dMu(u)
            gradS += g * model.dS(u)
        }
        for (u, g) in zip(noise, nce.gradNoise) {
            gradMu += g * model.dMu(u)
            gradS += g * model.dS(u)
        }
        let population = model.expected(dataMean: dataMean, dataSD: dataSD, k: nce.k)
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
            "grad_mu": .number(gradMu),
            "grad_s": .number(gradS),
            "data": .vector(data),
            "noise": .vector(noise),
            "model_logp_data": .vector(data.map(model.modelLogDensity)),
            "noise_logp_data": .vector(data.map(model.noiseLogDensity)),
            "model_logp_noise": .vector(noise.map(model.modelLogDensity)),
            "noise_logp_noise": .vector(noise.map(model.noiseLogDensity)),
            "expected_loss": .number(population.loss),
            "expected_grad_c": .number(population.gradC),
            "expected_grad_mu": .number(population.gradMu),
            "expected_grad_s": .number(population.gradS),
        ]
    }
}
