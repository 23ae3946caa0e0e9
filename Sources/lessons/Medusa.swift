import Foundation
import NotebookCore

// Medusa (Cai et al., 2024, "Medusa: Simple LLM inference acceleration framework with
// multiple decoding heads"): K extra heads on the base model each guess one more future token,
// head i the token i + 1 steps ahead. Their top-k_i guesses form a tree of candidate
// continuations that the base model verifies in a single forward pass, using an attention
// mask in which each node sees only its ancestors (tree attention). A candidate token is kept
// by the typical-acceptance rule: its base-model probability must exceed
// min(ε, δ·e^{−H}), a threshold that is lower where the base distribution is flat (high
// entropy H), so a plausible token is not refused merely because no token is likely.

/// Largest tree `medusa.tree` builds: the mask alone is nodes² entries.
enum MedusaLimits {
    static let treeNodes = 256
    static let heads = 1_000
    static let vocabulary = 1_000_000
}

/// The typical-acceptance test of one candidate token.
struct TypicalAcceptance {
    /// The distribution after normalisation.
    let probabilities: [Double]
    /// H = −Σ p log p in nats, with 0·log 0 = 0.
    let entropy: Double
    /// δ·e^{−H}.
    let entropyThreshold: Double
    /// min(ε, δ·e^{−H}).
    let threshold: Double

    /// `weights` must be non-negative with a positive entry.
    init(weights: [Double], epsilon: Double, delta: Double) {
        // Dividing by the largest weight first keeps the sum finite for weights near 1e308.
        let top = weights.max() ?? 1
        let scaled = weights.map { $0 / top }
        var sum = 0.0
        for w in scaled { sum += w }
        probabilities = scaled.map { $0 / sum }
        var h = 0.0
        for p in probabilities where p > 0 { h -= p * log(p) }
        entropy = h
        entropyThreshold = delta * exp(-h)
        threshold = min(epsilon, entropyThreshold)
    }

    func accepts(_ p: Double) -> Bool { p > threshold }
}

/// `medusa.typical`: Medusa's typical acceptance of one candidate token.
public struct MedusaTypicalModule: ComputeModule {
    public init() {}
    public let name = "medusa.typical"
    public let summary = "Medusa typical acceptance: keep a candidate when p > min(ε, δ·e^(−H)) under the base model."
    public let parameters: [ParameterSpec] = [
        .vector("probs", [0.5, 0.2, 0.15, 0.1, 0.05], range: .nonNegative, maxElements: MedusaLimits.vocabulary,
                doc: "the base model's next-token distribution (non-negative weights, normalised here)"),
        .integer("candidate", 3, range: .nonNegative, doc: "the token a Medusa head proposes (index into probs)"),
        .number("epsilon", 0.09, range: .unit, doc: "ε, the hard threshold's ceiling"),
        .number("delta", 0.3, range: .unit, doc: "δ, the entropy-scaled threshold's scale (the paper uses about sqrt(ε))"),
    ]
    public let outputs: [OutputSpec] = [
        .init("entropy", .number, doc: "H = −Σ p log p of the normalised probs, nats"),
        .init("threshold", .number, doc: "min(ε, δ·e^(−H))"),
        .init("p_candidate", .number, doc: "the candidate's normalised probability"),
        .init("accepted", .bool, doc: "p_candidate > threshold"),
        .init("probs_normalized", .vector, hint: .chart, doc: "probs / Σ probs"),
        .init("entropy_threshold", .number, doc: "δ·e^(−H): lower for flatter distributions"),
        .init("accepted_tokens", .vector, doc: "1 for every token that would pass the same test, 0 otherwise"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let weights = try inputs.vector("probs")
        guard weights.contains(where: { $0 > 0 }) else {
            throw .invalid("probs", "is all zeros; a distribution needs at least one positive entry")
        }
        let candidate = try inputs.integer("candidate")
        try checkIndex(candidate, below: weights.count, parameter: "candidate", of: "tokens (entries of probs)")
        let t = TypicalAcceptance(weights: weights, epsilon: try inputs.number("epsilon"), delta: try inputs.number("delta"))
        let p = t.probabilities[candidate]
        return [
            "entropy": .number(t.entropy),
            "threshold": .number(t.threshold),
            "p_candidate": .number(p),
            "accepted": .bool(t.accepts(p)),
            "probs_normalized": .vector(t.probabilities),
            "entropy_threshold": .number(t.entropyThreshold),
            "accepted_tokens": .vector(t.probabilities.map { t.accepts($0) ? 1 : 0 }),
        ]
    }
}

/// The candidate tree of Medusa's heads: every prefix (c_1 … c_d) with c_i < k_i, root excluded.
struct MedusaTree {
    /// k_1 … k_K.
    let topk: [Int]
    /// Nodes at depth d, Π_{j≤d} k_j, for d = 1 … K.
    let levelSizes: [Int]
    /// Per node, in order (depth, then lexicographic path): depth, parent index, last choice.
    let depth: [Int]
    let parent: [Int]
    let choice: [Int]

    var nodeCount: Int { depth.count }

    /// `topk` must have entries ≥ 1 and a total node count of at most `MedusaLimits.treeNodes`.
    init(topk: [Int]) {
        self.topk = topk
        var sizes: [Int] = [], depth: [Int] = [], parent: [Int] = [], choice: [Int] = []
        var previousStart = 0, previousSize = 1
        for (d, k) in topk.enumerated() {
            let start = depth.count
            // Within a depth, lexicographic order of (c_1 … c_d) is mixed-radix counting: node m
            // has last choice m mod k and its parent is node m / k of the depth above.
            for m in 0..<(previousSize * k) {
                depth.append(d + 1)
                parent.append(d == 0 ? -1 : previousStart + m / k)
                choice.append(m % k)
            }
            sizes.append(previousSize * k)
            previousStart = start
            previousSize *= k
        }
        levelSizes = sizes
        self.depth = depth
        self.parent = parent
        self.choice = choice
    }

    /// mask[i][j] = 1 where node j is node i or one of its ancestors.
    var mask: [[Double]] {
        var rows = [[Double]](repeating: [Double](repeating: 0, count: nodeCount), count: nodeCount)
        for i in 0..<nodeCount {
            var j = i
            while j >= 0 {
                rows[i][j] = 1
                j = parent[j]
            }
        }
        return rows
    }
}

/// `medusa.tree`: the tree of candidate continuations from the heads' top-k choices.
public struct MedusaTreeModule: ComputeModule {
    public init() {}
    public let name = "medusa.tree"
    public let summary = "Medusa's candidate tree from the heads' top-k: nodes, leaves, depth, parent and the tree-attention mask."
    public let parameters: [ParameterSpec] = [
        .vector("topk", [3, 2, 2], range: .atLeast(1), maxElements: MedusaLimits.heads,
                doc: "k_1 … k_K, the choices kept from each head (whole numbers; at most 256 nodes in all)"),
    ]
    public let outputs: [OutputSpec] = [
        .init("nodes", .integer, doc: "Σ_i Π_{j≤i} k_j, root excluded"),
        .init("leaves", .integer, doc: "Π k_i, the full-length candidates"),
        .init("depth", .vector, doc: "depth of each node, 1-based (node order: by depth, then lexicographic)"),
        .init("parent", .vector, doc: "index of each node's parent node, −1 at depth 1 (the parent is the root)"),
        .init("mask", .matrix, hint: .heatmap, doc: "nodes×nodes tree-attention mask: 1 where the column is the row's node or an ancestor"),
        .init("choice", .vector, doc: "each node's rank c_d among its head's top-k (0 = the head's best guess)"),
        .init("level_sizes", .vector, doc: "nodes at each depth, Π_{j≤i} k_j"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let values = try inputs.vector("topk")
        var topk: [Int] = []
        var nodes = 0, levelSize = 1
        for (i, k) in values.enumerated() {
            guard k == k.rounded() else {
                throw .invalid("topk", "has \(NumberText.shortest(k)) at index \(i); each k_i counts choices, a whole number ≥ 1")
            }
            // Checked before converting and multiplying: levelSize ≤ 256 and k ≤ 256 here, so
            // neither Int(k) nor levelSize·k can overflow.
            guard k <= Double(MedusaLimits.treeNodes) else {
                throw .invalid("topk", "has \(NumberText.shortest(k)) at index \(i); the tree is limited to \(MedusaLimits.treeNodes) nodes")
            }
            levelSize *= Int(k)
            nodes += levelSize
            guard nodes <= MedusaLimits.treeNodes else {
                throw .invalid("topk", "makes a tree of more than \(MedusaLimits.treeNodes) nodes (\(nodes) through depth \(i + 1)); the limit is \(MedusaLimits.treeNodes), so keep fewer choices or heads")
            }
            topk.append(Int(k))
        }
        let tree = MedusaTree(topk: topk)
        return [
            "nodes": .integer(tree.nodeCount),
            "leaves": .integer(tree.levelSizes.last ?? 0),
            "depth": .vector(tree.depth.map(Double.init)),
            "parent": .vector(tree.parent.map(Double.init)),
            "mask": .matrix(tree.mask),
            "choice": .vector(tree.choice.map(Double.init)),
            "level_sizes": .vector(tree.levelSizes.map(Double.init)),
        ]
    }
}

/// Expected tokens per verification step when head i is right with probability a_i given
/// that heads 1 … i − 1 were.
struct MedusaSpeedup {
    /// Π_{j≤i} a_j: the chance that heads 1 … i are all accepted.
    let depthProbabilities: [Double]
    /// P(exactly i head tokens accepted), i = 0 … K.
    let acceptedCountProbabilities: [Double]
    /// 1 + Σ_i Π_{j≤i} a_j: the base model's own token plus the accepted head tokens.
    let expectedTokens: Double

    init(headAccuracy: [Double]) {
        var running = 1.0, prefix: [Double] = []
        for a in headAccuracy {
            running *= a
            prefix.append(running)
        }
        depthProbabilities = prefix
        // Exactly i accepted: heads 1 … i right, head i + 1 wrong (the last one has no successor).
        acceptedCountProbabilities = (0...headAccuracy.count).map { i in
            let reached = i == 0 ? 1 : prefix[i - 1]
            return i == headAccuracy.count ? reached : reached * (1 - headAccuracy[i])
        }
        var total = 1.0
        for p in prefix { total += p }
        expectedTokens = total
    }
}

/// `medusa.speedup`: expected tokens per step from the heads' accuracies.
public struct MedusaSpeedupModule: ComputeModule {
    public init() {}
    public let name = "medusa.speedup"
    public let summary = "Medusa's expected tokens per decoding step, 1 + Σ_i Π_{j≤i} a_j, and the speedup after overhead."
    public let parameters: [ParameterSpec] = [
        .vector("head_acc", [0.6, 0.5, 0.4, 0.3], range: .unit, maxElements: MedusaLimits.heads,
                doc: "a_i: head i's top guess is right given the heads before it were"),
        .number("overhead", 0, range: .closed(0, 1e6), doc: "extra cost of a Medusa step relative to a plain step (0.1 = 10% slower)"),
    ]
    public let outputs: [OutputSpec] = [
        .init("expected_tokens", .number, doc: "1 + Σ_i Π_{j≤i} a_j tokens per step"),
        .init("speedup", .number, doc: "expected_tokens / (1 + overhead), against one token per plain step"),
        .init("depth_probs", .vector, hint: .chart, doc: "Π_{j≤i} a_j: the chance the first i head tokens are all accepted"),
        .init("accepted_count_probs", .vector, hint: .chart,
              doc: "P(exactly i head tokens accepted), i = 0 … K: Π_{j≤i} a_j·(1 − a_{i+1})"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let s = MedusaSpeedup(headAccuracy: try inputs.vector("head_acc"))
        let overhead = try inputs.number("overhead")
        return [
            "expected_tokens": .number(s.expectedTokens),
            "speedup": .number(s.expectedTokens / (1 + overhead)),
            "depth_probs": .vector(s.depthProbabilities),
            "accepted_count_probs": .vector(s.acceptedCountProbabilities),
        ]
    }
}
