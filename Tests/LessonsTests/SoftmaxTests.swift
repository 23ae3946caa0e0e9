import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

final class SoftmaxTests: XCTestCase {
    let safe = SafeSoftmaxModule()
    let online = OnlineSoftmaxModule()

    func testSafeSoftmaxByHand() throws {
        // x = [0, ln 3]: e^x = [1, 3], so softmax = [1/4, 3/4] and logsumexp = ln 4.
        let out = try evaluate(safe, ["x": .vector([0, log(3)])])
        XCTAssertEqual(out.number("max"), log(3))
        assertClose(out.vector("softmax"), [0.25, 0.75], tol: 1e-15)
        assertClose(out.number("logsumexp"), log(4), tol: 1e-15)
        assertClose(out.vector("exp"), [1.0 / 3, 1], tol: 1e-15)
        assertClose(out.number("sum"), 4.0 / 3, tol: 1e-15)
        XCTAssertEqual(out.vector("shifted"), [-log(3), 0])
    }

    func testLargeScoresStayFiniteWhileTheNaiveFormOverflows() throws {
        let out = try evaluate(safe, ["x": .vector([1000, 1001])])
        let e = exp(-1.0)
        assertClose(out.vector("softmax"), [e / (1 + e), 1 / (1 + e)], tol: 1e-15)
        assertClose(out.number("logsumexp"), 1001 + log(1 + e), tol: 1e-12)
        XCTAssertEqual(out.number("naive_sum"), .infinity)
        XCTAssertTrue(out.vector("naive_softmax").allSatisfy(\.isNaN))

        let stream = try evaluate(online, ["x": .vector([1000, 1001]), "block": .integer(1)])
        assertClose(stream.vector("softmax"), [e / (1 + e), 1 / (1 + e)], tol: 1e-15)
        XCTAssertEqual(stream.vector("m"), [1000, 1001])
        assertClose(stream.vector("rescale"), [0, e], tol: 1e-16)
    }

    func testNaNAndPositiveInfinityAreRejectedNegativeInfinityMasks() throws {
        for module in [safe, online] as [any ComputeModule] {
            let nan = evaluationError(module, ["x": .vector([1, .nan])])
            XCTAssertEqual(nan?.parameter, "x")
            XCTAssertTrue(nan?.message.contains("NaN at index 1") == true, "\(String(describing: nan))")
            XCTAssertEqual(evaluationError(module, ["x": .vector([.infinity, 1])])?.parameter, "x")
            XCTAssertEqual(evaluationError(module, ["x": .vector([-.infinity, -.infinity])])?.parameter, "x")
        }
        let masked = try evaluate(safe, ["x": .vector([1, -.infinity, 2])])
        assertClose(masked.vector("softmax"), [1 / (1 + M_E), 0, M_E / (1 + M_E)], tol: 1e-15)
        let streamMasked = try evaluate(online, ["x": .vector([-.infinity, 1, -.infinity, 2]), "block": .integer(1)])
        assertClose(streamMasked.vector("softmax"), [0, 1 / (1 + M_E), 0, M_E / (1 + M_E)], tol: 1e-15)
        XCTAssertEqual(streamMasked.vector("rescale")[0...1], [0, 0])
    }

    func testEmptyAndOversizedInputsAreClearErrors() {
        XCTAssertEqual(evaluationError(safe, ["x": .vector([])])?.parameter, "x")
        XCTAssertEqual(evaluationError(online, ["block": .integer(0)])?.parameter, "block")
        XCTAssertEqual(evaluationError(online, ["x": .vector(Array(repeating: 0, count: 1_000_001))])?.parameter, "x")
    }

    func testOnlineRecurrenceMatchesTheDefinitionBlockByBlock() throws {
        // From the example in docs/lesson-format.md: x = [2, 1, 3, 5, 4], block 2.
        let out = try evaluate(online, ["x": .vector([2, 1, 3, 5, 4]), "block": .integer(2)])
        XCTAssertEqual(out.vector("m"), [2, 5, 5])
        // Block 2 raises m from 2 to 5, so l₁ is rescaled by e^(2−5); block 3 (x = 4) keeps m = 5.
        let l2: Double = (1 + exp(-1.0)) * exp(-3.0) + exp(-2.0) + 1
        assertClose(out.vector("l"), [1 + exp(-1), l2, l2 + exp(-1)], tol: 1e-15)
        assertClose(out.vector("rescale"), [0, exp(-3.0), 1], tol: 1e-17)
        XCTAssertEqual(out["blocks"], .integer(3))
    }

    func testOnlineEqualsSafeForRandomInputsAndEveryBlockSize() throws {
        var random = TestRandom(seed: 7)
        for n in [1, 2, 3, 8, 31] {
            for scale in [1.0, 50.0, 800.0] {
                let x = random.vector(n, in: -scale...scale)
                let reference = try evaluate(safe, ["x": .vector(x)])
                for block in 1...(n + 1) {
                    let out = try evaluate(online, ["x": .vector(x), "block": .integer(block)])
                    assertClose(out.vector("softmax"), reference.vector("softmax"), tol: 1e-14, "n=\(n) block=\(block)")
                    assertClose(out.number("logsumexp"), reference.number("logsumexp"), tol: 1e-12 * max(1, scale))
                    XCTAssertLessThan(out.number("max_abs_diff_vs_safe"), 1e-14)
                    XCTAssertEqual(out.vector("m").last, reference.number("max"))
                    assertClose(out.vector("l").last ?? .nan, reference.number("sum"), tol: 1e-12 * Double(n))
                }
            }
        }
    }

    func testAgainstNumpyFixtures() throws {
        let fixture = try XCTUnwrap(loadFixture("softmax.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["softmax"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 15)
        for c in cases {
            let x = fixtureVector(c["x"])
            let out = try evaluate(safe, ["x": .vector(x)])
            assertClose(out.vector("softmax"), fixtureVector(c["softmax"]), tol: 1e-14)
            let lse = try XCTUnwrap(fixtureNumber(c["logsumexp"]))
            assertClose(out.number("logsumexp"), lse, tol: 1e-13 * max(1, abs(lse)))
            for (blockText, value) in try XCTUnwrap(c["blocks"] as? [String: Any]) {
                let block = try XCTUnwrap(Int(blockText))
                let expected = try XCTUnwrap(value as? [String: Any])
                let stream = try evaluate(online, ["x": .vector(x), "block": .integer(block)])
                XCTAssertEqual(stream.vector("m"), fixtureVector(expected["m"]), "block \(block)")
                assertClose(stream.vector("l"), fixtureVector(expected["l"]), tol: 1e-12, "block \(block)")
            }
        }
    }
}

final class TiledAttentionTests: XCTestCase {
    let module = TiledAttentionModule()

    func testSingleKeyGivesItsValue() throws {
        let out = try evaluate(module, ["q": .matrix([[3, -1]]), "k": .matrix([[2, 5]]), "v": .matrix([[7, -2, 0.5]])])
        XCTAssertEqual(out.matrix("output"), [[7, -2, 0.5]])
        XCTAssertEqual(out.vector("l"), [1])
        assertClose(out.vector("m"), [(6 - 5) / sqrt(2)], tol: 1e-15)
    }

    func testEqualScoresAverageTheValues() throws {
        // Orthogonal q and k give every score 0: attention is the plain mean of v.
        let out = try evaluate(module, ["q": .matrix([[0, 1]]), "k": .matrix([[1, 0], [2, 0], [3, 0]]),
                                        "v": .matrix([[1, 10], [2, 20], [6, 60]]), "block": .integer(2)])
        assertClose(out.matrix("output"), [[3, 30]], tol: 1e-15)
        assertClose(out.vector("lse"), [log(3)], tol: 1e-15)
        XCTAssertEqual(out["tiles"], .integer(2))
    }

    func testTiledEqualsNaiveForEveryBlockSizeCausalOrNot() throws {
        let fixture = try XCTUnwrap(loadFixture("softmax.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["attention"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 10)
        for c in cases {
            let q = fixtureMatrix(c["q"]), k = fixtureMatrix(c["k"]), v = fixtureMatrix(c["v"])
            let causal = try XCTUnwrap(c["causal"] as? Bool)
            for block in 1...(k.count + 1) {
                let out = try evaluate(module, ["q": .matrix(q), "k": .matrix(k), "v": .matrix(v),
                                                "block": .integer(block), "causal": .bool(causal)])
                assertClose(out.matrix("output"), fixtureMatrix(c["output"]), tol: 1e-12, "block \(block) causal \(causal)")
                assertClose(out.matrix("reference"), fixtureMatrix(c["output"]), tol: 1e-12)
                XCTAssertLessThan(out.number("max_abs_diff"), 1e-12)
                assertClose(out.vector("m"), fixtureVector(c["m"]), tol: 1e-13)
                assertClose(out.vector("l"), fixtureVector(c["l"]), tol: 1e-12)
                assertClose(out.vector("lse"), fixtureVector(c["lse"]), tol: 1e-12)
                XCTAssertEqual(out["tiles"], .integer((k.count + block - 1) / block))
                XCTAssertEqual(out["score_elements_naive"], .integer(q.count * k.count))
                XCTAssertEqual(out["score_elements_tiled"], .integer(q.count * min(block, k.count)))
            }
        }
    }

    func testExplicitScaleIsUsed() throws {
        let out = try evaluate(module, ["q": .matrix([[1]]), "k": .matrix([[1], [0]]), "v": .matrix([[1], [0]]),
                                        "scale": .number(log(3))])
        // Scores [ln 3, 0] give weights [3/4, 1/4].
        assertClose(out.matrix("output"), [[0.75]], tol: 1e-15)
        XCTAssertEqual(out.number("scale"), log(3))
    }

    func testShapeMismatchesAndBadSizesNameTheParameter() {
        XCTAssertEqual(evaluationError(module, ["k": .matrix([[1, 2, 3]])])?.parameter, "k")
        XCTAssertEqual(evaluationError(module, ["v": .matrix([[1, 2]])])?.parameter, "v")
        XCTAssertEqual(evaluationError(module, ["block": .integer(0)])?.parameter, "block")
        XCTAssertEqual(evaluationError(module, ["scale": .number(-1)])?.parameter, "scale")
        XCTAssertEqual(evaluationError(module, ["q": .matrix([[.nan, 1]])])?.parameter, "q")
        let big = [[Double]](repeating: [Double](repeating: 1, count: 64), count: 4096)
        XCTAssertEqual(evaluationError(module, ["q": .matrix(big), "k": .matrix(big), "v": .matrix(big)])?.parameter, "q")
    }
}
