import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// `medusa.typical`: fixtures (scipy's entropy), hand cases, the strict threshold, scale
/// invariance and bad input.
final class MedusaTypicalTests: XCTestCase {
    let module = MedusaTypicalModule()

    func testMatchesScipyFixture() throws {
        let fixture = try XCTUnwrap(loadFixture("medusa.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["typical"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 17)
        var accepted = 0
        for (n, c) in cases.enumerated() {
            let out = try evaluate(module, [
                "probs": .vector(fixtureVector(c["probs"])), "candidate": .integer(try XCTUnwrap(c["candidate"] as? Int)),
                "epsilon": .number(try XCTUnwrap(fixtureNumber(c["epsilon"]))),
                "delta": .number(try XCTUnwrap(fixtureNumber(c["delta"]))),
            ])
            let label = "case \(n)"
            assertClose(out.number("entropy"), try XCTUnwrap(fixtureNumber(c["entropy"])), tol: 1e-13, label)
            assertClose(out.number("threshold"), try XCTUnwrap(fixtureNumber(c["threshold"])), tol: 1e-15, label)
            assertClose(out.number("p_candidate"), try XCTUnwrap(fixtureNumber(c["p_candidate"])), tol: 1e-15, label)
            let expected = try XCTUnwrap(c["accepted"] as? Bool)
            XCTAssertEqual(out["accepted"], .bool(expected), label)
            XCTAssertEqual(out.vector("accepted_tokens"), fixtureVector(c["accepted_tokens"]), label)
            if expected { accepted += 1 }
        }
        XCTAssertGreaterThan(accepted, 4)
        XCTAssertLessThan(accepted, cases.count - 4)
    }

    /// Uniform over 4 tokens: H = log 4, e^{−H} = ¼, δ·¼ = 0.075 < ε = 0.09, so the threshold is
    /// 0.075 and p = ¼ passes. One-hot: H = 0, the threshold is min(ε, δ) = 0.09, the sure token
    /// passes and the others (p = 0) do not.
    func testHandCases() throws {
        let uniform = try evaluate(module, ["probs": .vector([1, 1, 1, 1]), "candidate": .integer(2)])
        assertClose(uniform.number("entropy"), log(4), tol: 1e-15)
        assertClose(uniform.number("threshold"), 0.075, tol: 1e-16)
        XCTAssertEqual(uniform.number("p_candidate"), 0.25)
        XCTAssertEqual(uniform["accepted"], .bool(true))
        XCTAssertEqual(uniform.vector("probs_normalized"), [0.25, 0.25, 0.25, 0.25])

        let sure = try evaluate(module, ["probs": .vector([0, 0, 3]), "candidate": .integer(2)])
        XCTAssertEqual(sure.number("entropy"), 0)
        XCTAssertEqual(sure.number("threshold"), 0.09)
        XCTAssertEqual(sure["accepted"], .bool(true))
        XCTAssertEqual(sure.vector("accepted_tokens"), [0, 0, 1])
        let impossible = try evaluate(module, ["probs": .vector([0, 0, 3]), "candidate": .integer(0)])
        XCTAssertEqual(impossible.number("p_candidate"), 0)
        XCTAssertEqual(impossible["accepted"], .bool(false))

        // Flat distributions lower the threshold: the entropy term takes over from ε.
        let flat = try evaluate(module, ["probs": .vector([Double](repeating: 1, count: 100)), "candidate": .integer(0)])
        assertClose(flat.number("threshold"), 0.3 / 100, tol: 1e-15)
        XCTAssertEqual(flat["accepted"], .bool(true))
    }

    /// Acceptance needs p strictly above the threshold: a sure token with ε = δ = 1 has
    /// p = 1 = threshold and is refused.
    func testThresholdIsStrict() throws {
        let out = try evaluate(module, ["probs": .vector([1, 0]), "candidate": .integer(0),
                                        "epsilon": .number(1), "delta": .number(1)])
        XCTAssertEqual(out.number("threshold"), 1)
        XCTAssertEqual(out.number("p_candidate"), 1)
        XCTAssertEqual(out["accepted"], .bool(false))
        let zero = try evaluate(module, ["probs": .vector([1, 1e-300]), "candidate": .integer(1), "epsilon": .number(0)])
        XCTAssertEqual(zero.number("threshold"), 0)
        XCTAssertEqual(zero["accepted"], .bool(true))
    }

    func testNormalisationIsScaleInvariant() throws {
        let base = try evaluate(module, [:])
        for factor in [1e-300, 1e-3, 7.0, 1e300] {
            let out = try evaluate(module, ["probs": .vector([0.5, 0.2, 0.15, 0.1, 0.05].map { $0 * factor })])
            assertClose(out.number("entropy"), base.number("entropy"), tol: 1e-14, "×\(factor)")
            assertClose(out.vector("probs_normalized"), base.vector("probs_normalized"), tol: 1e-15, "×\(factor)")
            XCTAssertEqual(out["accepted"], base["accepted"])
        }
    }

    func testBadInputNamesTheParameter() {
        XCTAssertEqual(evaluationError(module, ["probs": .vector([0.5, -0.1, 0.6])])?.parameter, "probs")
        let zeros = evaluationError(module, ["probs": .vector([0, 0, 0, 0])])
        XCTAssertEqual(zeros?.parameter, "probs")
        XCTAssertTrue(zeros?.message.contains("all zeros") == true, String(describing: zeros))
        XCTAssertEqual(evaluationError(module, ["probs": .vector([.nan, 1])])?.parameter, "probs")
        XCTAssertEqual(evaluationError(module, ["probs": .vector([])])?.parameter, "probs")
        XCTAssertEqual(evaluationError(module, ["candidate": .integer(5)])?.parameter, "candidate")
        XCTAssertEqual(evaluationError(module, ["candidate": .integer(-1)])?.parameter, "candidate")
        XCTAssertEqual(evaluationError(module, ["candidate": .integer(Int.max)])?.parameter, "candidate")
        XCTAssertEqual(evaluationError(module, ["epsilon": .number(1.5)])?.parameter, "epsilon")
        XCTAssertEqual(evaluationError(module, ["delta": .number(-0.3)])?.parameter, "delta")
    }
}

/// The tree enumerated by brute force: every tuple (c_1 … c_d) with c_i < k_i for every depth d,
/// sorted by (depth, tuple); parents found by lookup and the mask by testing prefixes.
fileprivate struct BruteForceTree {
    let paths: [[Int]]
    let parent: [Int]
    let mask: [[Double]]

    init(_ topk: [Int]) {
        var paths: [[Int]] = []
        func extend(_ prefix: [Int]) {
            if !prefix.isEmpty { paths.append(prefix) }
            guard prefix.count < topk.count else { return }
            for c in 0..<topk[prefix.count] { extend(prefix + [c]) }
        }
        extend([])
        paths.sort { a, b in a.count != b.count ? a.count < b.count : a.lexicographicallyPrecedes(b) }
        var index: [[Int]: Int] = [:]
        for (i, p) in paths.enumerated() { index[p] = i }
        self.paths = paths
        parent = paths.map { $0.count == 1 ? -1 : index[Array($0.dropLast())]! }
        mask = paths.map { row in paths.map { col in col.count <= row.count && Array(row.prefix(col.count)) == col ? 1 : 0 } }
    }
}

/// `medusa.tree`: brute-force enumeration (in Swift and in the Python fixture), a tree by hand,
/// the node limit and bad input.
final class MedusaTreeTests: XCTestCase {
    let module = MedusaTreeModule()

    func testMatchesBruteForceEnumeration() throws {
        var topks: [[Int]] = [[1], [2], [7], [2, 2], [3, 2, 2], [2, 3], [1, 1, 1, 1], [4, 1, 3], [2, 2, 2, 2, 2], [16, 15]]
        var random = TestRandom(seed: 29)
        while topks.count < 30 {
            let depth = Int.random(in: 1...5, using: &random)
            let k = (0..<depth).map { _ in Int.random(in: 1...4, using: &random) }
            if BruteForceTree(k).paths.count <= 256 { topks.append(k) }
        }
        for k in topks {
            let out = try evaluate(module, ["topk": .vector(k.map(Double.init))])
            let reference = BruteForceTree(k)
            let label = "topk \(k)"
            XCTAssertEqual(out["nodes"], .integer(reference.paths.count), label)
            XCTAssertEqual(out["leaves"], .integer(reference.paths.filter { $0.count == k.count }.count), label)
            XCTAssertEqual(out.vector("depth"), reference.paths.map { Double($0.count) }, label)
            XCTAssertEqual(out.vector("parent"), reference.parent.map(Double.init), label)
            XCTAssertEqual(out.vector("choice"), reference.paths.map { Double($0.last!) }, label)
            XCTAssertEqual(out.matrix("mask"), reference.mask, label)
            // Closed forms: Σ_i Π_{j≤i} k_j nodes, Π k_i leaves.
            var level = 1, total = 0, sizes: [Double] = []
            for ki in k {
                level *= ki
                total += level
                sizes.append(Double(level))
            }
            XCTAssertEqual(out["nodes"], .integer(total), label)
            XCTAssertEqual(out["leaves"], .integer(level), label)
            XCTAssertEqual(out.vector("level_sizes"), sizes, label)
        }
    }

    func testMatchesPythonFixture() throws {
        let fixture = try XCTUnwrap(loadFixture("medusa.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["tree"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 9)
        for c in cases {
            let topk = fixtureVector(c["topk"])
            let out = try evaluate(module, ["topk": .vector(topk)])
            XCTAssertEqual(out["nodes"], .integer(try XCTUnwrap(c["nodes"] as? Int)), "\(topk)")
            XCTAssertEqual(out["leaves"], .integer(try XCTUnwrap(c["leaves"] as? Int)), "\(topk)")
            for name in ["depth", "parent", "choice"] {
                XCTAssertEqual(out.vector(name), fixtureVector(c[name]), "\(name) \(topk)")
            }
            XCTAssertEqual(out.matrix("mask"), fixtureMatrix(c["mask"]), "\(topk)")
        }
    }

    /// topk (2, 2): depth 1 holds (0), (1); depth 2 holds (0,0), (0,1), (1,0), (1,1), children of
    /// nodes 0, 0, 1, 1. Each row of the mask marks the node and its depth-1 ancestor.
    func testTwoByTwoByHand() throws {
        let out = try evaluate(module, ["topk": .vector([2, 2])])
        XCTAssertEqual(out["nodes"], .integer(6))
        XCTAssertEqual(out["leaves"], .integer(4))
        XCTAssertEqual(out.vector("depth"), [1, 1, 2, 2, 2, 2])
        XCTAssertEqual(out.vector("parent"), [-1, -1, 0, 0, 1, 1])
        XCTAssertEqual(out.vector("choice"), [0, 1, 0, 1, 0, 1])
        XCTAssertEqual(out.matrix("mask"), [
            [1, 0, 0, 0, 0, 0],
            [0, 1, 0, 0, 0, 0],
            [1, 0, 1, 0, 0, 0],
            [1, 0, 0, 1, 0, 0],
            [0, 1, 0, 0, 1, 0],
            [0, 1, 0, 0, 0, 1],
        ])
    }

    func testNodeLimitIsEnforcedWithoutOverflow() throws {
        // 16 + 16·15 = 256 nodes: exactly at the limit.
        let atLimit = try evaluate(module, ["topk": .vector([16, 15])])
        XCTAssertEqual(atLimit["nodes"], .integer(256))
        XCTAssertEqual(atLimit.matrix("mask").count, 256)
        for topk: [Double] in [[16, 16], [257], [4, 4, 4, 3], [2, 2, 2, 2, 2, 2, 2, 2], [1e18, 1e18], [1e308],
                               [256, 256, 256, 256], [Double](repeating: 1, count: 257),
                               [Double](repeating: 2, count: 1_000)] {
            let error = evaluationError(module, ["topk": .vector(topk)])
            XCTAssertEqual(error?.parameter, "topk", "\(topk.prefix(5))")
            XCTAssertTrue(error?.message.contains("256") == true, String(describing: error))
        }
    }

    func testBadInputNamesTheParameter() {
        XCTAssertEqual(evaluationError(module, ["topk": .vector([2.5, 2])])?.parameter, "topk")
        XCTAssertEqual(evaluationError(module, ["topk": .vector([2, 0])])?.parameter, "topk")
        XCTAssertEqual(evaluationError(module, ["topk": .vector([-1])])?.parameter, "topk")
        XCTAssertEqual(evaluationError(module, ["topk": .vector([.nan])])?.parameter, "topk")
        XCTAssertEqual(evaluationError(module, ["topk": .vector([])])?.parameter, "topk")
    }
}

/// `medusa.speedup`: fixtures that enumerate every right/wrong outcome of the heads, the
/// defaults by hand, identities and bad input.
final class MedusaSpeedupTests: XCTestCase {
    let module = MedusaSpeedupModule()

    func testMatchesEnumerationFixture() throws {
        let fixture = try XCTUnwrap(loadFixture("medusa.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["speedup"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 8)
        for (n, c) in cases.enumerated() {
            let out = try evaluate(module, ["head_acc": .vector(fixtureVector(c["head_acc"])),
                                            "overhead": .number(try XCTUnwrap(fixtureNumber(c["overhead"])))])
            for name in ["expected_tokens", "speedup"] {
                assertClose(out.number(name), try XCTUnwrap(fixtureNumber(c[name])), tol: 1e-14, "\(name) case \(n)")
            }
            assertClose(out.vector("depth_probs"), fixtureVector(c["depth_probs"]), tol: 1e-15, "case \(n)")
            assertClose(out.vector("accepted_count_probs"), fixtureVector(c["accepted_count_probs"]), tol: 1e-15, "case \(n)")
        }
    }

    /// Defaults a = (0.6, 0.5, 0.4, 0.3): prefix products 0.6, 0.3, 0.12, 0.036, so
    /// 1 + 1.056 = 2.056 tokens per step; P(exactly i) = (0.4, 0.3, 0.18, 0.084, 0.036).
    /// With 25% overhead the speedup is 2.056/1.25 = 1.6448.
    func testDefaultsByHand() throws {
        let out = try evaluate(module, [:])
        assertClose(out.vector("depth_probs"), [0.6, 0.3, 0.12, 0.036], tol: 1e-16)
        assertClose(out.number("expected_tokens"), 2.056, tol: 1e-15)
        XCTAssertEqual(out.number("speedup"), out.number("expected_tokens"))
        assertClose(out.vector("accepted_count_probs"), [0.4, 0.3, 0.18, 0.084, 0.036], tol: 1e-16)
        let slower = try evaluate(module, ["overhead": .number(0.25)])
        assertClose(slower.number("speedup"), 1.6448, tol: 1e-15)
    }

    func testEdgesAndIdentities() throws {
        let perfect = try evaluate(module, ["head_acc": .vector([1, 1, 1, 1, 1])])
        XCTAssertEqual(perfect.number("expected_tokens"), 6)
        XCTAssertEqual(perfect.vector("accepted_count_probs"), [0, 0, 0, 0, 0, 1])
        let firstWrong = try evaluate(module, ["head_acc": .vector([0, 1, 1])])
        XCTAssertEqual(firstWrong.number("expected_tokens"), 1)
        XCTAssertEqual(firstWrong.vector("depth_probs"), [0, 0, 0])
        var random = TestRandom(seed: 17)
        for k in [1, 3, 8, 40] {
            let a = random.vector(k, in: 0...1)
            let out = try evaluate(module, ["head_acc": .vector(a)])
            let counts = out.vector("accepted_count_probs")
            XCTAssertEqual(counts.count, k + 1)
            XCTAssertEqual(counts.reduce(0, +), 1, accuracy: 1e-14)
            // E[tokens] = 1 + E[accepted head tokens].
            let mean = counts.enumerated().reduce(0) { $0 + Double($1.offset) * $1.element }
            assertClose(out.number("expected_tokens"), 1 + mean, tol: 1e-13, "k=\(k)")
            XCTAssertLessThanOrEqual(out.number("expected_tokens"), Double(k + 1))
        }
    }

    func testBadInputNamesTheParameter() {
        XCTAssertEqual(evaluationError(module, ["head_acc": .vector([0.5, 1.2])])?.parameter, "head_acc")
        XCTAssertEqual(evaluationError(module, ["head_acc": .vector([-0.1])])?.parameter, "head_acc")
        XCTAssertEqual(evaluationError(module, ["head_acc": .vector([.nan])])?.parameter, "head_acc")
        XCTAssertEqual(evaluationError(module, ["head_acc": .vector([])])?.parameter, "head_acc")
        XCTAssertEqual(evaluationError(module, ["overhead": .number(-0.5)])?.parameter, "overhead")
        XCTAssertEqual(evaluationError(module, ["overhead": .number(.infinity)])?.parameter, "overhead")
    }
}

/// `medusa.sparse`: the defaults by hand, the full tree against `medusa.speedup`'s product of
/// top-k accuracies, the greedy tree's ordering, and bad input.
final class MedusaSparseTests: XCTestCase {
    let module = MedusaSparseModule()

    /// π = ((0.6, 0.1), (0.3, 0.1)); nodes [0], [1], [0,0] have 0.6, 0.1, 0.18: 1.88 tokens.
    /// Greedy: 0.6, then [0,0] 0.18, [1] 0.1, [0,1] 0.06, [1,0] 0.03, [1,1] 0.01.
    func testDefaultsByHand() throws {
        let out = try evaluate(module, [:])
        XCTAssertEqual(out["nodes"], .integer(3))
        assertClose(out.vector("node_probs"), [0.6, 0.1, 0.18], tol: 1e-15)
        assertClose(out.number("expected_tokens"), 1.88, tol: 1e-15)
        assertClose(out.vector("depth_probs"), [0.7, 0.18], tol: 1e-15)
        assertClose(out.vector("greedy_tokens"), [1.6, 1.78, 1.88, 1.94, 1.97, 1.98], tol: 1e-15)
        XCTAssertEqual(out.vector("greedy_sizes"), [1, 2, 3, 4, 5, 6])
        assertClose(out.number("greedy_same_size"), 1.88, tol: 1e-15)
    }

    /// Every path of a full k = (5, 5, 5) tree: per depth the ranks' π sum to top-5, so the
    /// expectation is medusa.speedup's 1 + Σ_i Π_{j≤i} top5_j; the greedy tree of all 155
    /// nodes is the same tree, and greedy trees never do worse than the given one of equal size.
    func testFullTreeMatchesSpeedup() throws {
        var random = TestRandom(seed: 5)
        for _ in 0..<20 {
            var acc: [[Double]] = []
            for _ in 0..<3 {
                var row: [Double] = [], x = 0.0
                for _ in 0..<5 { x += Double.random(in: 0...1, using: &random) * (1 - x) * 0.5; row.append(x) }
                acc.append(row)
            }
            var paths: [[Double]] = []
            for d in 1...3 {
                for m in 0..<Int(pow(5, Double(d))) {
                    var ranks: [Double] = [], v = m
                    for _ in 0..<d { ranks.insert(Double(v % 5), at: 0); v /= 5 }
                    paths.append(ranks + [Double](repeating: -1, count: 3 - d))
                }
            }
            let out = try evaluate(module, ["paths": .matrix(paths), "topk_acc": .matrix(acc), "greedy_max": .integer(155)])
            let chain = try evaluate(MedusaSpeedupModule(), ["head_acc": .vector(acc.map { $0[4] })])
            assertClose(out.number("expected_tokens"), chain.number("expected_tokens"), tol: 1e-14)
            assertClose(out.vector("depth_probs"), chain.vector("depth_probs"), tol: 1e-15)
            assertClose(out.vector("greedy_tokens").last ?? 0, chain.number("expected_tokens"), tol: 1e-14)
            let g = out.vector("greedy_tokens")
            for n in 1..<g.count { XCTAssertLessThanOrEqual(g[n] - g[n - 1], (n == 1 ? g[0] - 1 : g[n - 1] - g[n - 2]) + 1e-15) }
            let sparse = try evaluate(module, ["paths": .matrix(Array(paths.prefix(30))), "topk_acc": .matrix(acc)])
            XCTAssertGreaterThanOrEqual(sparse.number("greedy_same_size"), sparse.number("expected_tokens") - 1e-15)
        }
    }

    /// Ranks past the columns and depths past the rows are never right.
    func testPastTheData() throws {
        let out = try evaluate(module, ["paths": .matrix([[0, -1, -1], [2, -1, -1], [0, 0, -1], [0, 0, 0]]),
                                        "topk_acc": .matrix([[0.5, 0.8], [0.5, 0.6]])])
        assertClose(out.vector("node_probs"), [0.5, 0, 0.25, 0], tol: 1e-16)
        assertClose(out.number("expected_tokens"), 1.75, tol: 1e-15)
    }

    func testBadInputNamesTheParameter() {
        let acc: Value = .matrix([[0.5, 0.6]])
        for paths: [[Double]] in [[[0, 0]], [[0.5]], [[-1]], [[0], [0]], [[-1, 0]], [[-2]]] {
            XCTAssertEqual(evaluationError(module, ["paths": .matrix(paths), "topk_acc": acc])?.parameter, "paths", "\(paths)")
        }
        XCTAssertEqual(evaluationError(module, ["topk_acc": .matrix([[0.6, 0.5]])])?.parameter, "topk_acc")
        XCTAssertEqual(evaluationError(module, ["topk_acc": .matrix([[0.6, 0.7], [0.5]])])?.parameter, "topk_acc")
    }
}

/// `medusa.rules`: the defaults against numpy, the T → 0 limit where the two rules meet, a
/// single token, and bad input.
final class MedusaRulesTests: XCTestCase {
    let module = MedusaRulesModule()

    /// numpy: p = (0.5, 0.2, 0.15, 0.1, 0.05)^(1/T) renormalised, a = the five Vicuna-7B top-1
    /// accuracies; E = 1 + cumprod(v).sum().
    func testDefaultsMatchNumpy() throws {
        let out = try evaluate(module, [:])
        assertClose(out.vector("p_top")[1], 0.5, tol: 1e-15)
        assertClose(out.vector("p_second")[1], 0.2, tol: 1e-15)
        let expectedRejection = [1.6089777174, 1.5134708539, 1.3796490167]
        for (x, y) in zip(out.vector("rejection_max"), expectedRejection) { assertClose(x, y, tol: 1e-9) }
        for x in out.vector("typical_min") { assertClose(x, 1.7792204904, tol: 1e-9) }
        for (r, t) in zip(out.vector("rejection_max"), out.vector("typical_min")) { XCTAssertLessThan(r, t) }
    }

    /// Near T = 0 the distribution is one-hot: rejection keeps the top token almost surely, so
    /// both yields approach the greedy chain's. A single token has no second and is sure.
    func testLimits() throws {
        let cold = try evaluate(module, ["temperatures": .vector([1e-3])])
        assertClose(cold.vector("rejection_max")[0], cold.vector("typical_min")[0], tol: 1e-12)
        let one = try evaluate(module, ["probs": .vector([2]), "head_acc": .vector([0.5, 0.5])])
        XCTAssertEqual(one.vector("p_second"), [0, 0, 0])
        for x in one.vector("rejection_max") { assertClose(x, 1.75, tol: 1e-15) }
        for x in one.vector("typical_min") { assertClose(x, 1.75, tol: 1e-15) }
        // δ = ε = 1 on a sure token: the strict test refuses it, so typical acceptance yields the root only.
        let refused = try evaluate(module, ["probs": .vector([1, 0]), "epsilon": .number(1), "delta": .number(1)])
        XCTAssertEqual(refused.vector("typical_min"), [1, 1, 1])
    }

    func testBadInputNamesTheParameter() {
        XCTAssertEqual(evaluationError(module, ["probs": .vector([0, 0])])?.parameter, "probs")
        XCTAssertEqual(evaluationError(module, ["temperatures": .vector([0])])?.parameter, "temperatures")
        XCTAssertEqual(evaluationError(module, ["temperatures": .vector([])])?.parameter, "temperatures")
        XCTAssertEqual(evaluationError(module, ["head_acc": .vector([1.5])])?.parameter, "head_acc")
    }
}
