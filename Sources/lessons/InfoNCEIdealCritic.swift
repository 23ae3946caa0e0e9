import Foundation
import NotebookCore

// The expected InfoNCE bound as the number of candidates N grows, for a discrete joint table.
//
// Rows of the table are contexts x, columns candidates y. A row of the contrastive task holds
// the positive y₊ ~ p(y|x) and N − 1 negatives drawn iid from p(y); a critic s(x, y) scores them
// and the row's loss is log(e^{s(x,y₊)} + Σⱼ e^{s(x,yⱼ)}) − s(x, y₊). The expected bound is
// log N − E[loss] ≤ I(X;Y) (Poole et al., 2019). With the ideal critic s = log p(y|x)/p(y) the
// gap I − bound = E[log f̄] (f̄ the row mean of e^s) is a KL divergence that vanishes as N grows.
//
// Exact: within a row x only the multiset of critic values among the negatives matters. Group the
// candidates by critic value (k = 1 … K, with q_k = Σ p(y) over the group); the negatives' counts
// (c₁ … c_K) are multinomial(N − 1; q), so the expectation is a finite sum over the compositions
// of N − 1 into K parts. For the lesson's channel K = 2 and the sum is binomial, N terms per row.
// When the compositions are too many, `method = sample` estimates the same expectation by
// seeded Monte Carlo with its standard error.
//
// A critic bounded by |s| ≤ 1/τ (a cosine over a temperature) pays at least
// log(1 + (N − 1)e^{−2/τ}) on every row, so its bound is at most
// log N − log(1 + (N − 1)e^{−2/τ}) < min(log N, 2/τ) for any data and any N.

/// log Γ(x) for x > 0 (the C library's lgamma; the overlay's tuple-returning variant is not it).
@inline(__always)
func logGamma(_ x: Double) -> Double {
    let value: Double = lgamma(x)
    return value
}

/// How the expectation over the negatives is taken.
enum ExpectationMethod: String, CaseIterable {
    /// A sum over every composition of the negatives' critic values.
    case exact
    /// Seeded Monte Carlo over the negatives, exact over the positive.
    case sample
}

/// One context row, its candidates grouped by critic value.
struct CriticRow {
    /// The distinct critic values s_k among candidates with p(y) > 0, in increasing order.
    let scores: [Double]
    /// q_k: the probability that a negative falls in group k.
    let negativeMass: [Double]
    /// w_k: the probability that the positive falls in group k, Σ p(y|x) over the group.
    let positiveMass: [Double]

    /// Critic values within this relative distance of a group's first value join that group:
    /// table marginals summed in different orders differ in the last bits, and without merging
    /// the channel's three equal off-diagonal scores would be three groups. Moving a score by
    /// δ moves every row loss by at most 2δ, so the merge costs at most ~1e-12 in the bound.
    static let mergeTolerance = 1e-12

    init(critic: [Double], pxy: [Double], px: Double, py: [Double]) {
        let candidates = py.indices.filter { py[$0] > 0 }.sorted { critic[$0] < critic[$1] }
        var scores: [Double] = [], negative: [Double] = [], positive: [Double] = []
        for j in candidates {
            let s = critic[j]
            if let first = scores.last,
               s == first || (first.isFinite && abs(s - first) <= Self.mergeTolerance * max(1, abs(first))) {
                negative[negative.count - 1] += py[j]
                positive[positive.count - 1] += pxy[j] / px
            } else {
                scores.append(s)
                negative.append(py[j])
                positive.append(pxy[j] / px)
            }
        }
        self.scores = scores
        negativeMass = negative
        positiveMass = positive
    }

    /// E over the positive of the row loss softplus(lse − s₊), given the log of the negatives'
    /// summed e^s (−∞ when there are none).
    func expectedLoss(negativesLogSum lse: Double) -> Double {
        var loss = 0.0
        for (s, w) in zip(scores, positiveMass) where w > 0 { loss += w * softplus(lse - s) }
        return loss
    }

    /// The number of compositions of `negatives` into the groups, C(negatives + K − 1, K − 1),
    /// as a Double (so that it cannot overflow).
    func compositions(_ negatives: Int) -> Double {
        let k = scores.count
        guard k > 1 else { return 1 }
        return exp(logGamma(Double(negatives + k)) - logGamma(Double(negatives + 1)) - logGamma(Double(k)))
    }

    /// E[row loss] over multinomial negatives, summed over every composition.
    ///
    /// The multinomial probability is a chain of binomials, P(c) = Πₖ Bin(cₖ; mₖ, qₖ/rₖ) with mₖ the
    /// negatives not yet placed and rₖ = q_k + … + q_{K−1}, each by Loader's saddle-point form
    /// (``BinomialProbability``): a log-gamma difference would lose ~10⁻¹² of each term at
    /// N = 1024, where log Γ(N) is in the thousands.
    func exactExpectedLoss(negatives m: Int) -> Double {
        let k = scores.count
        // rest[g] = q_g + … + q_{K−1}, summed from the end so that no 1 − (…) cancels.
        var rest = [Double](repeating: 0, count: k + 1)
        for g in stride(from: k - 1, through: 0, by: -1) { rest[g] = rest[g + 1] + negativeMass[g] }
        var counts = [Int](repeating: 0, count: k)
        var total = 0.0
        func visit(_ logP: Double) {
            var top = -Double.infinity
            for g in 0..<k where counts[g] > 0 && scores[g] > -.infinity {
                top = max(top, log(Double(counts[g])) + scores[g])
            }
            var lse = -Double.infinity
            if top > -.infinity {
                var sum = 0.0
                for g in 0..<k where counts[g] > 0 && scores[g] > -.infinity {
                    sum += exp(log(Double(counts[g])) + scores[g] - top)
                }
                lse = top + log(sum)
            }
            total += exp(logP) * expectedLoss(negativesLogSum: lse)
        }
        func fill(_ g: Int, _ remaining: Int, _ logP: Double) {
            if g == k - 1 {
                counts[g] = remaining
                visit(logP)
                return
            }
            let p = negativeMass[g] / rest[g], q = rest[g + 1] / rest[g]
            for c in 0...remaining {
                counts[g] = c
                let term = BinomialProbability.logPMF(c, trials: remaining, p: p, q: q)
                if term > -.infinity { fill(g + 1, remaining - c, logP + term) }
            }
        }
        fill(0, m, 0)
        return total
    }
}

/// Binomial probabilities to full relative precision by Loader's algorithm (C. Loader, 2000,
/// "Fast and accurate computation of binomial probabilities"; the method of R's dbinom):
/// log P(x) = δ(n) − δ(x) − δ(n − x) − D(x, np) − D(n − x, nq) − ½ log(2π x(n − x)/n), with δ
/// the Stirling-series error and D(x, μ) = x log(x/μ) + μ − x computed without cancellation.
enum BinomialProbability {
    /// δ(n) = log n! − (n + ½) log n + n − ½ log 2π.
    static func stirlingError(_ n: Double) -> Double {
        if n <= 15 {
            // Small n: the difference is of log-gammas below 30, exact to a few 10⁻¹⁵.
            return logGamma(n + 1) - (n + 0.5) * log(n) + n - 0.5 * log(2 * Double.pi)
        }
        let s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680, s4 = 1.0 / 1188
        let nn = n * n
        if n > 500 { return (s0 - s1 / nn) / n }
        if n > 80 { return (s0 - (s1 - s2 / nn) / nn) / n }
        if n > 35 { return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n }
        return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n
    }

    /// D(x, μ) = x log(x/μ) + μ − x, by its series in v = (x − μ)/(x + μ) when x is near μ.
    static func deviance(_ x: Double, _ mu: Double) -> Double {
        if abs(x - mu) < 0.1 * (x + mu) {
            let v = (x - mu) / (x + mu)
            var s = (x - mu) * v
            var ej = 2 * x * v
            let v2 = v * v
            for j in 1..<1000 {
                ej *= v2
                let next = s + ej / Double(2 * j + 1)
                if next == s { return next }
                s = next
            }
            return s
        }
        return x * log(x / mu) + mu - x
    }

    /// log P(X = x) for X ~ Bin(n, p), given p and q = 1 − p separately so that neither is
    /// rounded from the other; −∞ for an impossible x.
    static func logPMF(_ x: Int, trials n: Int, p: Double, q: Double) -> Double {
        if p == 0 { return x == 0 ? 0 : -.infinity }
        if q == 0 { return x == n ? 0 : -.infinity }
        let nd = Double(n), xd = Double(x)
        if x == 0 {
            if n == 0 { return 0 }
            return p < 0.1 ? -deviance(nd, nd * q) - nd * p : nd * log(q)
        }
        if x == n {
            return q < 0.1 ? -deviance(nd, nd * p) - nd * q : nd * log(p)
        }
        let lc = stirlingError(nd) - stirlingError(xd) - stirlingError(nd - xd)
            - deviance(xd, nd * p) - deviance(nd - xd, nd * q)
        let lf = log(2 * Double.pi) + log(xd) + log1p(-xd / nd)
        return lc - 0.5 * lf
    }
}

/// Draws an index with the given probabilities from one uniform by binary search over the
/// cumulative sums: the first i with u < p₀ + … + pᵢ, or the last index with positive
/// probability when rounding leaves the total just under u.
struct CumulativeSampler {
    let cumulative: [Double]
    let lastPositive: Int

    init(_ probabilities: [Double]) {
        var c: [Double] = [], total = 0.0
        for p in probabilities {
            total += p
            c.append(total)
        }
        cumulative = c
        lastPositive = probabilities.lastIndex { $0 > 0 } ?? 0
    }

    func index(_ u: Double) -> Int {
        var lo = 0, hi = cumulative.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if u < cumulative[mid] { hi = mid } else { lo = mid + 1 }
        }
        return lo < cumulative.count ? lo : lastPositive
    }
}

/// `infonce.ideal`: the expected InfoNCE bound against N, and the ceiling of a bounded critic.
public struct InfoNCEIdealModule: ComputeModule {
    public init() {}
    public let name = "infonce.ideal"
    public let summary = "Expected InfoNCE bound log N − E[loss] with iid negatives on a joint table, for the ideal critic log p(y|x)/p(y) or a given one, against N."

    static let maxN = 1_000_000
    /// Composition terms (times groups) summed by the exact method.
    static let maxExactWork = 1_000_000
    /// Negative draws (plus positives scored) by the sampling method.
    static let maxSampleWork = 5_000_000

    public let parameters: [ParameterSpec] = [
        .matrix("joint", [[7, 1, 1, 1], [1, 7, 1, 1], [1, 1, 7, 1], [1, 1, 1, 7]], maxElements: 10_000,
                doc: "non-negative counts or probabilities; rows are contexts x, columns candidates y (transpose to rank rows)"),
        .vector("n", [2, 4, 8, 16, 64, 256, 1024], range: .closed(1, Double(InfoNCEIdealModule.maxN)), maxElements: 64,
                doc: "candidates per row N (the positive and N − 1 negatives), whole numbers 1 to 1,000,000"),
        ParameterSpec(name: "critic", kind: .matrix, defaultValue: .computed("log p(y|x)/p(y), the ideal critic"),
                      doc: "scores s(x, y), the shape of joint (|s| ≤ 1e100); only differences within a row matter",
                      range: .closed(-contrastiveScoreLimit, contrastiveScoreLimit), maxElements: 10_000),
        .choice("method", ExpectationMethod.self, default: .exact,
                doc: "exact (a sum over every composition of the negatives) or sample (seeded Monte Carlo)"),
        .integer("samples", 2_000, range: .closed(1, 1_000_000), doc: "Monte Carlo rows per N when method = sample"),
        .integer("seed", 1, range: .nonNegative, doc: "seed of the generator for method = sample (reset for each N)"),
        .number("tau", 1, range: contrastiveTemperatureRange, doc: "τ of a critic bounded by |s| ≤ 1/τ, for the ceiling outputs"),
    ]
    public let outputs: [OutputSpec] = [
        .init("bound", .vector, hint: .chart, doc: "log N − E[loss] for each N, nats: at most mi"),
        .init("loss", .vector, doc: "E[loss] for each N, nats"),
        .init("mi", .number, doc: "I(X;Y) of the table, nats: the limit of the ideal critic's bound as N → ∞"),
        .init("gap", .vector, doc: "mi − bound; for the ideal critic E[log f̄] = KL(q_sym ‖ p^N) ≥ 0"),
        .init("log_n", .vector, doc: "log N, the bound's other ceiling"),
        .init("standard_error", .vector, doc: "Monte Carlo standard error of each bound (0 for exact)"),
        .init("ceiling_bounded", .vector, hint: .chart,
              doc: "log N − log(1 + (N − 1)e^{−2/τ}): the most a critic with |s| ≤ 1/τ can certify with N candidates"),
        .init("ceiling_limit", .number, doc: "2/τ: the bounded critic's ceiling as N → ∞"),
        .init("critic_used", .matrix, hint: .table, doc: "the scores s(x, y) used (ideal: pmi, −inf where p(x, y) = 0)"),
        .init("terms", .integer, doc: "compositions summed (exact) or rows sampled (sample), over all N"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let table = try JointDistribution(inputs.matrix("joint"), parameter: "joint")
        let rows = table.pxy.count, columns = table.py.count
        let ns = try Self.candidateCounts(inputs.vector("n"))
        let critic: [[Double]]
        if inputs["critic"] != nil {
            critic = try inputs.matrix("critic")
            guard critic.count == rows, critic[0].count == columns else {
                throw .invalid("critic", "is \(critic.count)×\(critic[0].count) but joint is \(rows)×\(columns); give one score per cell of the table")
            }
        } else {
            critic = (0..<rows).map { i in
                (0..<columns).map { j in table.pxy[i][j] > 0 ? table.pointwiseMutualInformation(i, j) : -.infinity }
            }
        }
        let method = try inputs.choice("method", as: ExpectationMethod.self)
        let samples = try inputs.integer("samples"), seed = try inputs.integer("seed")
        let tau = try inputs.number("tau")

        let contexts = (0..<rows).filter { table.px[$0] > 0 }
        let groups = contexts.map { CriticRow(critic: critic[$0], pxy: table.pxy[$0], px: table.px[$0], py: table.py) }

        var losses: [Double] = [], errors: [Double] = [], terms = 0
        switch method {
        case .exact:
            var work = 0.0
            for n in ns {
                for g in groups { work += g.compositions(n - 1) * Double(2 * g.scores.count) }
            }
            guard work <= Double(Self.maxExactWork) else {
                throw .invalid("n", "needs about \(NumberText.shortest(work.rounded())) terms for the exact sum (the limit is \(Self.maxExactWork)): the negatives' critic values have too many compositions; use method = sample or smaller N")
            }
            for n in ns {
                try context.checkCancelled()
                var loss = 0.0
                for (x, g) in zip(contexts, groups) {
                    loss += table.px[x] * g.exactExpectedLoss(negatives: n - 1)
                    terms += Int(g.compositions(n - 1).rounded())
                }
                losses.append(loss)
                errors.append(0)
            }
        case .sample:
            var work = 0.0
            for n in ns { work += Double(samples) * Double(n + columns) }
            guard work <= Double(Self.maxSampleWork) else {
                throw .invalid("samples", "× (N + columns) summed over n is \(NumberText.shortest(work)); the limit is \(Self.maxSampleWork): use fewer samples or smaller N")
            }
            let contextSampler = CumulativeSampler(table.px), candidateSampler = CumulativeSampler(table.py)
            for n in ns {
                try context.checkCancelled()
                var rng = Xoshiro256StarStar(parameterSeed: seed)
                // Welford's running mean and sum of squared deviations.
                var mean = 0.0, squares = 0.0
                for t in 0..<samples {
                    let x = contextSampler.index(rng.nextUnit())
                    // Running log-sum-exp of the negatives' scores.
                    var top = -Double.infinity, scaled = 0.0
                    for _ in 0..<(n - 1) {
                        let s = critic[x][candidateSampler.index(rng.nextUnit())]
                        if s == -.infinity { continue }
                        if s > top {
                            scaled = scaled * exp(top - s) + 1
                            top = s
                        } else {
                            scaled += exp(s - top)
                        }
                    }
                    let lse = top > -.infinity ? top + log(scaled) : -.infinity
                    // Exact over the positive given the negatives: a Rao–Blackwellised draw.
                    var loss = 0.0
                    for j in 0..<columns where table.pxy[x][j] > 0 {
                        loss += table.pxy[x][j] / table.px[x] * softplus(lse - critic[x][j])
                    }
                    let delta = loss - mean
                    mean += delta / Double(t + 1)
                    squares += delta * (loss - mean)
                }
                let variance = samples > 1 ? squares / Double(samples - 1) : 0
                losses.append(mean)
                errors.append((variance / Double(samples)).squareRoot())
                terms += samples
            }
        }

        let mi = table.mutualInformation
        let logN = ns.map { log(Double($0)) }
        let bound = zip(logN, losses).map { $0 - $1 }
        let floor = exp(-2 / tau)
        return [
            "bound": .vector(bound),
            "loss": .vector(losses),
            "mi": .number(mi),
            "gap": .vector(bound.map { mi - $0 }),
            "log_n": .vector(logN),
            "standard_error": .vector(errors),
            "ceiling_bounded": .vector(zip(ns, logN).map { n, l in l - log1p(Double(n - 1) * floor) }),
            "ceiling_limit": .number(2 / tau),
            "critic_used": .matrix(critic),
            "terms": .integer(terms),
        ]
    }

    /// The `n` parameter as whole numbers of candidates.
    static func candidateCounts(_ xs: [Double]) throws(ComputeError) -> [Int] {
        var ns: [Int] = []
        for x in xs {
            guard x == x.rounded(), x >= 1, x <= Double(maxN) else {
                throw .invalid("n", "expects whole numbers of candidates from 1 to \(maxN), got \(NumberText.shortest(x))")
            }
            ns.append(Int(x))
        }
        return ns
    }
}
