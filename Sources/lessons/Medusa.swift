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

/// Expected tokens per step of an arbitrary (sparse) candidate tree under Medusa's independence
/// assumption, and the greedy tree of `medusa/eval/gen_results.py` built from the same numbers.
/// Head i's rank-r guess is right with probability π_i(r) = top(r+1)_i − top(r)_i, independently
/// of the other heads; ranks past the columns given count as never right. Under greedy
/// verification at most one child of a node matches, so the nodes of one depth are disjoint
/// events and E[tokens] = 1 + Σ_nodes Π_j π_j(r_j).
struct MedusaSparseTree {
    /// π_i(r), heads × ranks.
    let rankAccuracy: [[Double]]

    init(topkAccuracy: [[Double]]) {
        rankAccuracy = topkAccuracy.map { row in
            row.indices.map { r in row[r] - (r == 0 ? 0 : row[r - 1]) }
        }
    }

    /// Π_j π_j(r_j) for one path (0 when a rank or the depth is past the data).
    func probability(_ path: [Int]) -> Double {
        var p = 1.0
        for (i, r) in path.enumerated() {
            guard i < rankAccuracy.count, r < rankAccuracy[i].count else { return 0 }
            p *= rankAccuracy[i][r]
        }
        return p
    }

    /// Expected tokens of the best-first greedy trees of 1 … n nodes: repeatedly add the most
    /// probable path whose parent is already in the tree (children never beat their parent, so
    /// this is the n most probable prefix-closed paths), depth ≤ heads, ranks < columns.
    func greedyTokens(upTo n: Int) -> [Double] {
        var frontier: [(p: Double, path: [Int])] = []
        func addChildren(of path: [Int]) {
            let d = path.count
            guard d < rankAccuracy.count else { return }
            for r in rankAccuracy[d].indices {
                let child = path + [r]
                frontier.append((probability(child), child))
            }
        }
        addChildren(of: [])
        var total = 1.0, result: [Double] = []
        while result.count < n, !frontier.isEmpty {
            // First maximum in insertion order: ties go to the earlier (shallower, lower-rank) path.
            var best = 0
            for k in frontier.indices where frontier[k].p > frontier[best].p { best = k }
            let node = frontier.remove(at: best)
            total += node.p
            result.append(total)
            addChildren(of: node.path)
        }
        return result
    }
}

/// `medusa.sparse`: expected tokens per step of a given sparse tree, and of greedy trees.
public struct MedusaSparseModule: ComputeModule {
    public init() {}
    public let name = "medusa.sparse"
    public let summary = "Medusa's sparse tree: expected tokens 1 + Σ_nodes Π π_j(r_j) from per-rank head accuracies, and greedily built trees of 1 … n nodes."
    public let parameters: [ParameterSpec] = [
        .matrix("paths", [[0, -1], [1, -1], [0, 0]], maxElements: 4_096,
                doc: "one row per node: its ranks (0 = a head's best guess) from head 1 down, padded with −1; every prefix must be a row too"),
        .matrix("topk_acc", [[0.6, 0.7], [0.3, 0.4]], range: .unit, maxElements: 1_000,
                doc: "row i: head i's top-1, top-2, … accuracies (non-decreasing); rank r is right with probability top(r+1) − top(r)"),
        .integer("greedy_max", 255, range: .closed(1, 1_000), doc: "largest greedy tree to build, in nodes"),
    ]
    public let outputs: [OutputSpec] = [
        .init("nodes", .integer, doc: "rows of paths, root excluded"),
        .init("expected_tokens", .number, doc: "1 + Σ_nodes Π_j π_j(r_j): the root plus the expected accepted depth"),
        .init("node_probs", .vector, doc: "Π_j π_j(r_j) per node: the chance its whole path is right"),
        .init("depth_probs", .vector, hint: .chart, doc: "per depth d, Σ of node_probs at depth d: the chance of accepting at least d head tokens"),
        .init("rank_acc", .matrix, hint: .heatmap, doc: "π_i(r) = top(r+1)_i − top(r)_i"),
        .init("greedy_tokens", .vector, hint: .chart, doc: "expected tokens of the greedy tree of n nodes, n = 1 … greedy_max"),
        .init("greedy_sizes", .vector, doc: "n = 1 … greedy_max, the node counts of greedy_tokens"),
        .init("greedy_same_size", .number, doc: "expected tokens of the greedy tree with as many nodes as paths"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let acc = try inputs.matrix("topk_acc")
        guard let width = acc.first?.count, width > 0, acc.allSatisfy({ $0.count == width }) else {
            throw .invalid("topk_acc", "must be a non-empty matrix with rows of equal length")
        }
        for (i, row) in acc.enumerated() {
            for r in 1..<row.count where row[r] < row[r - 1] {
                throw .invalid("topk_acc", "row \(i) falls from \(NumberText.shortest(row[r - 1])) to \(NumberText.shortest(row[r])); top-k accuracies cannot decrease with k")
            }
        }
        let rows = try inputs.matrix("paths")
        guard !rows.isEmpty else { throw .invalid("paths", "has no rows; a tree needs at least one node") }
        var paths: [[Int]] = []
        var seen = Set<[Int]>()
        for (n, row) in rows.enumerated() {
            var path: [Int] = []
            var ended = false
            for x in row {
                guard x == x.rounded(), x >= -1, x <= 1e6 else {
                    throw .invalid("paths", "row \(n) has \(NumberText.shortest(x)); ranks are whole numbers ≥ 0, and −1 pads")
                }
                if x < 0 { ended = true; continue }
                guard !ended else { throw .invalid("paths", "row \(n) has a rank after a −1; pad only at the end") }
                path.append(Int(x))
            }
            guard !path.isEmpty else { throw .invalid("paths", "row \(n) is empty; the root is implicit") }
            guard seen.insert(path).inserted else { throw .invalid("paths", "row \(n) repeats an earlier node") }
            paths.append(path)
        }
        for (n, path) in paths.enumerated() where path.count > 1 && !seen.contains(Array(path.dropLast())) {
            throw .invalid("paths", "row \(n)'s parent \(Array(path.dropLast())) is not a row; a node is reachable only through its parent")
        }
        let tree = MedusaSparseTree(topkAccuracy: acc)
        let probs = paths.map(tree.probability)
        var depthProbs = [Double](repeating: 0, count: paths.map(\.count).max() ?? 0)
        for (path, p) in zip(paths, probs) { depthProbs[path.count - 1] += p }
        var total = 1.0
        for p in probs { total += p }
        let greedyMax = try inputs.integer("greedy_max")
        let greedy = tree.greedyTokens(upTo: max(greedyMax, paths.count))
        let sameSize = paths.count <= greedy.count ? greedy[paths.count - 1] : greedy.last ?? 1
        let shown = Array(greedy.prefix(greedyMax))
        return [
            "nodes": .integer(paths.count),
            "expected_tokens": .number(total),
            "node_probs": .vector(probs),
            "depth_probs": .vector(depthProbs),
            "rank_acc": .matrix(tree.rankAccuracy),
            "greedy_tokens": .vector(shown),
            "greedy_sizes": .vector(shown.indices.map { Double($0 + 1) }),
            "greedy_same_size": .number(sameSize),
        ]
    }
}

/// `medusa.rules`: tokens per step of a chain of top-1 head guesses under rejection sampling and
/// under typical acceptance, at several temperatures. Every position's base distribution is
/// `probs` at temperature T (p^{1/T} renormalised); head i's guess is the base model's top token
/// with probability a_i, otherwise some other token, which has probability at most the
/// second-largest p_T. A top-token guess is kept with probability p_T(top) by rejection against
/// a point-mass draft, and always by typical acceptance when it clears min(ε, δ·e^{−H}); so
/// rejection yields at most 1 + Σ_i Π_{j≤i} (a_j p_T(top) + (1 − a_j) p_T(second)) tokens and
/// typical acceptance at least 1 + Σ_i Π_{j≤i} a_j·[p_T(top) > threshold].
public struct MedusaRulesModule: ComputeModule {
    public init() {}
    public let name = "medusa.rules"
    public let summary = "Tokens per step of a top-1 chain under rejection sampling (upper bound) and typical acceptance (lower bound), per temperature."
    public let parameters: [ParameterSpec] = [
        .vector("probs", [0.5, 0.2, 0.15, 0.1, 0.05], range: .nonNegative, maxElements: MedusaLimits.vocabulary,
                doc: "the base model's distribution at T = 1 at every position (non-negative weights, normalised here)"),
        .vector("head_acc", [0.5604, 0.3164, 0.2010, 0.1474, 0.1175], range: .unit, maxElements: MedusaLimits.heads,
                doc: "a_i: the chance head i's top guess is the base model's top token"),
        .vector("temperatures", [0.7, 1, 2], range: .positive, maxElements: 1_000, doc: "sampling temperatures T"),
        .number("epsilon", 0.09, range: .unit, doc: "ε of typical acceptance"),
        .number("delta", 0.3, range: .unit, doc: "δ of typical acceptance"),
    ]
    public let outputs: [OutputSpec] = [
        .init("p_top", .vector, doc: "per T, the largest probability of probs at T"),
        .init("p_second", .vector, doc: "per T, the second-largest probability (0 for a single token)"),
        .init("threshold", .vector, doc: "per T, min(ε, δ·e^(−H)) of probs at T"),
        .init("rejection_max", .vector, hint: .chart, doc: "per T, 1 + Σ_i Π_{j≤i} (a_j·p_top + (1 − a_j)·p_second): at most this many tokens per step under rejection sampling"),
        .init("typical_min", .vector, hint: .chart, doc: "per T, 1 + Σ_i Π_{j≤i} a_j·[p_top > threshold]: at least this many tokens per step under typical acceptance"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let weights = try inputs.vector("probs")
        guard weights.contains(where: { $0 > 0 }) else {
            throw .invalid("probs", "is all zeros; a distribution needs at least one positive entry")
        }
        let acc = try inputs.vector("head_acc")
        let temps = try inputs.vector("temperatures")
        guard !temps.isEmpty else { throw .invalid("temperatures", "is empty; give at least one temperature") }
        let epsilon = try inputs.number("epsilon"), delta = try inputs.number("delta")
        let top = weights.max() ?? 1
        let logs = weights.map { $0 > 0 ? log($0 / top) : -Double.infinity }
        var pTop: [Double] = [], pSecond: [Double] = [], thresholds: [Double] = []
        var rejection: [Double] = [], typical: [Double] = []
        for t in temps {
            // p^{1/T} relative to the largest weight: exp((log p − log p_max)/T) ≤ 1, never overflowing.
            let test = TypicalAcceptance(weights: logs.map { exp($0 / t) }, epsilon: epsilon, delta: delta)
            let sorted = test.probabilities.sorted(by: >)
            let first = sorted[0], second = sorted.count > 1 ? sorted[1] : 0
            let kept: Double = test.accepts(first) ? 1 : 0
            rejection.append(MedusaSpeedup(headAccuracy: acc.map { $0 * first + (1 - $0) * second }).expectedTokens)
            typical.append(MedusaSpeedup(headAccuracy: acc.map { $0 * kept }).expectedTokens)
            pTop.append(first)
            pSecond.append(second)
            thresholds.append(test.threshold)
        }
        return [
            "p_top": .vector(pTop),
            "p_second": .vector(pSecond),
            "threshold": .vector(thresholds),
            "rejection_max": .vector(rejection),
            "typical_min": .vector(typical),
        ]
    }
}
