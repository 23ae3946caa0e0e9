import Foundation
import NotebookCore

// Mutual information of two discrete variables from their joint table:
// I(X;Y) = Σ p(x,y) log[p(x,y) / (p(x) p(y))] = H(X) + H(Y) − H(X,Y), in nats.
// Cells with p = 0 contribute nothing (0·log 0 = 0, the limit of p log p as p → 0).

/// −Σ p log p over the positive entries, in nats.
func entropy<S: Sequence<Double>>(_ probabilities: S) -> Double {
    var h = 0.0
    for p in probabilities where p > 0 { h -= p * log(p) }
    // A table with a single non-zero cell gives −(1·log 1) = −0; report plain 0.
    return h + 0
}

/// `mi.discrete`: entropies and mutual information of a joint table.
public struct DiscreteMutualInformationModule: ComputeModule {
    public init() {}
    public let name = "mi.discrete"
    public let summary = "Mutual information I(X;Y) and the entropies of a joint table of counts or probabilities."
    public let parameters: [ParameterSpec] = [
        .matrix("joint", [[0.4, 0.1], [0.1, 0.4]], allowsNonFinite: true, maxElements: 250_000,
                doc: "non-negative counts or probabilities (normalised here); rows are values of X, columns values of Y"),
    ]
    public let outputs: [OutputSpec] = [
        .init("p_xy", .matrix, hint: .heatmap, doc: "the joint distribution: joint / its sum"),
        .init("p_x", .vector, hint: .chart, doc: "marginal of X (row sums)"),
        .init("p_y", .vector, hint: .chart, doc: "marginal of Y (column sums)"),
        .init("h_x", .number, doc: "H(X) = −Σ p(x) log p(x), nats"),
        .init("h_y", .number, doc: "H(Y), nats"),
        .init("h_xy", .number, doc: "joint entropy H(X,Y), nats"),
        .init("mi", .number, doc: "I(X;Y) = Σ p(x,y) log[p(x,y)/(p(x)p(y))], nats"),
        .init("mi_bits", .number, doc: "I(X;Y) in bits (mi / ln 2)"),
        .init("h_x_given_y", .number, doc: "conditional entropy H(X|Y) = H(X,Y) − H(Y), nats"),
        .init("h_y_given_x", .number, doc: "conditional entropy H(Y|X) = H(X,Y) − H(X), nats"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let table = try JointDistribution(inputs.matrix("joint"), parameter: "joint")
        let pxy = table.pxy, px = table.px, py = table.py
        let hx = entropy(px), hy = entropy(py), hxy = entropy(pxy.joined())
        let mi = table.mutualInformation
        return [
            "p_xy": .matrix(pxy),
            "p_x": .vector(px),
            "p_y": .vector(py),
            "h_x": .number(hx),
            "h_y": .number(hy),
            "h_xy": .number(hxy),
            "mi": .number(mi),
            "mi_bits": .number(mi / M_LN2),
            "h_x_given_y": .number(max(hxy - hy, 0)),
            "h_y_given_x": .number(max(hxy - hx, 0)),
        ]
    }
}

/// A joint table of counts or probabilities, validated and normalised: rows are values of X,
/// columns values of Y.
struct JointDistribution {
    let pxy: [[Double]]
    /// Row sums.
    let px: [Double]
    /// Column sums.
    let py: [Double]

    /// Refuses non-finite and negative entries and an all-zero table, naming `parameter`.
    init(_ joint: [[Double]], parameter: String) throws(ComputeError) {
        var largest = 0.0
        for (i, row) in joint.enumerated() {
            for (j, x) in row.enumerated() {
                guard x.isFinite else {
                    throw .invalid(parameter, "has \(NumberText.shortest(x)) at [\(i)][\(j)]; entries must be finite counts or probabilities")
                }
                guard x >= 0 else {
                    throw .invalid(parameter, "has a negative entry \(NumberText.shortest(x)) at [\(i)][\(j)]; counts and probabilities are ≥ 0")
                }
                largest = max(largest, x)
            }
        }
        guard largest > 0 else {
            throw .invalid(parameter, "is all zeros; at least one cell needs positive mass to make a distribution")
        }
        // Dividing by the largest entry first keeps the total finite however large the counts are
        // (at most maxElements after scaling), and keeps tiny counts away from underflow.
        let scaled = joint.map { $0.map { $0 / largest } }
        let total = scaled.reduce(0.0) { $0 + $1.reduce(0, +) }
        let pxy = scaled.map { $0.map { $0 / total } }
        let columns = pxy[0].count
        self.pxy = pxy
        px = pxy.map { $0.reduce(0, +) }
        py = (0..<columns).map { j in pxy.reduce(0.0) { $0 + $1[j] } }
    }

    /// log[p(x,y) / (p(x) p(y))] for a cell with p(x,y) > 0.
    func pointwiseMutualInformation(_ i: Int, _ j: Int) -> Double {
        let p = pxy[i][j]
        let ratio = p / px[i] / py[j]
        // p ≤ p(x) and p ≤ p(y), so the ratio only overflows when both marginals are
        // subnormal; the logs are then the safe route.
        return ratio.isFinite && ratio > 0 ? log(ratio) : log(p) - log(px[i]) - log(py[j])
    }

    /// I(X;Y) = Σ p(x,y)·pmi(x;y), nats, clamped at 0.
    var mutualInformation: Double {
        // The direct sum avoids the cancellation in H(X) + H(Y) − H(X,Y) when X and Y are nearly
        // independent, where the three entropies are large and their combination tiny.
        var mi = 0.0
        for (i, row) in pxy.enumerated() {
            for (j, p) in row.enumerated() where p > 0 {
                mi += p * pointwiseMutualInformation(i, j)
            }
        }
        // I(X;Y) ≥ 0; rounding in the sum can leave a few ulps below zero for independent tables.
        return max(mi, 0)
    }
}
