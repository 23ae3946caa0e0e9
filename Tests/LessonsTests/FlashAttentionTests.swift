import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// The fixture written by `Fixtures/make_attention.py`.
private func attentionFixture(_ key: String) throws -> [[String: Any]] {
    let fixture = try XCTUnwrap(loadFixture("attention.json") as? [String: Any])
    return try XCTUnwrap(fixture[key] as? [[String: Any]], "no \(key) cases")
}

private func integer(_ any: Any?) -> Int? { (any as? NSNumber)?.intValue }

// MARK: - softmax.online: what the recurrence costs, and two ways to break it

final class OnlineSoftmaxDiagnosticsTests: XCTestCase {
    let online = OnlineSoftmaxModule()

    func testForgettingTheRescaleByHand() throws {
        // x = [2, 1, 3, 5, 4], one element at a time, m = 2, 2, 3, 5, 5. Without the rescale every
        // term is measured against the max at its own arrival: l = e^0 + e^(1−2) + e^(3−3) +
        // e^(5−5) + e^(4−5) = 3 + 2/e, so p(5) = 1/(3 + 2/e) = 0.2677 instead of
        // 1/(Σ_i e^(x_i − 5)) = 0.6364.
        let e1 = exp(-1.0)
        let broken = try evaluate(online, ["rescale": .bool(false)])
        assertClose(broken.vector("l"), [1, 1 + e1, 2 + e1, 3 + e1, 3 + 2 * e1], tol: 1e-15)
        assertClose(broken.vector("softmax")[3], 1 / (3 + 2 * e1), tol: 1e-15)
        XCTAssertEqual((broken.vector("softmax")[3] * 1e4).rounded() / 1e4, 0.2677)
        let right = try evaluate(online, [:])
        let safeSum = [2.0, 1, 3, 5, 4].reduce(0) { $0 + exp($1 - 5) }
        assertClose(right.vector("softmax")[3], 1 / safeSum, tol: 1e-15)
        XCTAssertEqual((right.vector("softmax")[3] * 1e4).rounded() / 1e4, 0.6364)
        // The factors that were due are the same either way; 3 displaced 2, and 5 displaced 3.
        assertClose(broken.vector("rescale"), [0, 1, e1, exp(-2.0), 1], tol: 1e-16)
        XCTAssertEqual(broken.vector("rescale"), right.vector("rescale"))
        XCTAssertEqual(broken["rescales"], .integer(2))
        XCTAssertEqual(right["rescales"], .integer(2))
        XCTAssertGreaterThan(broken.number("max_abs_diff_vs_safe"), 0.36)
        XCTAssertEqual(right["masked_blocks"], .integer(0))
    }

    func testAFullyMaskedFirstBlockIsGuardedAndBreaksWithoutTheGuard() throws {
        // Block 1 is [−∞, −∞]: m stays −∞ and l = 0. Block 2 is [1, 2]: m = 2, l = e^−1 + 1.
        let x: Value = .vector([-.infinity, -.infinity, 1, 2])
        let out = try evaluate(online, ["x": x, "block": .integer(2)])
        XCTAssertEqual(out.vector("m"), [-.infinity, 2])
        assertClose(out.vector("l"), [0, 1 + exp(-1.0)], tol: 1e-15)
        XCTAssertEqual((out.vector("l")[1] * 1e4).rounded() / 1e4, 1.3679)
        XCTAssertEqual(out.vector("rescale"), [0, 0])
        XCTAssertEqual(out["masked_blocks"], .integer(1))
        XCTAssertEqual(out["rescales"], .integer(0), "reaching the first finite max is not a rescale")
        assertClose(out.vector("softmax"), [0, 0, 1 / (1 + M_E), M_E / (1 + M_E)], tol: 1e-15)
        // One element at a time: l = [0, 0, 1, 1 + e^−1], as the review says.
        let single = try evaluate(online, ["x": x])
        assertClose(single.vector("l"), [0, 0, 1, 1 + exp(-1.0)], tol: 1e-15)
        XCTAssertEqual(single["masked_blocks"], .integer(2))

        // Without the guard the first block computes e^(−∞ − (−∞)) = NaN, and NaN never leaves l.
        let broken = try evaluate(online, ["x": x, "block": .integer(2), "guard": .bool(false)])
        XCTAssertTrue(broken.vector("l").allSatisfy(\.isNaN))
        XCTAssertTrue(broken.vector("softmax").allSatisfy(\.isNaN))
        XCTAssertTrue(broken.number("max_abs_diff_vs_safe").isNaN, "the NaN must not be hidden by max()")
        XCTAssertTrue(broken.number("l_ulps_vs_safe").isNaN)

        // A masked block after a finite score is harmless even unguarded: e^(−∞ − 1) = 0.
        let later: Value = .vector([1, -.infinity, -.infinity, 2])
        let guarded = try evaluate(online, ["x": later, "block": .integer(1)])
        let unguarded = try evaluate(online, ["x": later, "block": .integer(1), "guard": .bool(false)])
        XCTAssertEqual(guarded.vector("l"), unguarded.vector("l"))
        XCTAssertEqual(guarded["masked_blocks"], .integer(2))
    }

    func testUlpDistanceOnRisingScoresMatchesThePythonLoop() throws {
        let cases = try attentionFixture("online")
        XCTAssertEqual(cases.count, 2)
        for c in cases {
            let count = try XCTUnwrap(integer(c["count"])), divisor = try XCTUnwrap(fixtureNumber(c["divisor"]))
            let x = (0..<count).map { Double($0) / divisor }
            let blocks = try XCTUnwrap(c["blocks"] as? [String: [String: Any]])
            XCTAssertEqual(blocks.count, 3)
            for (blockText, expected) in blocks {
                let block = try XCTUnwrap(Int(blockText))
                let out = try evaluate(online, ["x": .vector(x), "block": .integer(block)])
                XCTAssertEqual(out.number("l_ulps_vs_safe"), try XCTUnwrap(fixtureNumber(expected["l_ulps_vs_safe"])),
                               "x = i/\(divisor), block \(block)")
                // Strictly rising scores: every block after the first raises the max.
                XCTAssertEqual(out["rescales"], .integer((count + block - 1) / block - 1))
                XCTAssertEqual(integer(expected["rescales"]), (count + block - 1) / block - 1)
            }
        }
    }

    func testUlpDistanceIsTheDistanceBetweenTheTwoSums() throws {
        var random = TestRandom(seed: 11)
        let safe = SafeSoftmaxModule()
        for n in [1, 5, 40, 300] {
            let x = random.vector(n, in: -20...20)
            let sum = try evaluate(safe, ["x": .vector(x)]).number("sum")
            for block in [1, 3, n] {
                let out = try evaluate(online, ["x": .vector(x), "block": .integer(block)])
                let l = try XCTUnwrap(out.vector("l").last)
                XCTAssertEqual(out.number("l_ulps_vs_safe"), abs(l - sum) / sum.ulp)
                XCTAssertEqual(out.number("l_ulps_vs_safe"), out.number("l_ulps_vs_safe").rounded(),
                               "two doubles of the same binade differ by whole ulps")
            }
            // One block runs exactly the safe softmax's operations: 0 ulps.
            XCTAssertEqual(try evaluate(online, ["x": .vector(x), "block": .integer(n)]).number("l_ulps_vs_safe"), 0)
        }
    }
}

// MARK: - attention.tiled: FlashAttention-2's loop, measured

final class TiledAttentionLoopTests: XCTestCase {
    let module = TiledAttentionModule()

    func testEveryQueryBlockAndTileSizeAgainstTheDefinitions() throws {
        let cases = try attentionFixture("tiled")
        XCTAssertEqual(cases.count, 10)
        for c in cases {
            let q = fixtureMatrix(c["q"]), k = fixtureMatrix(c["k"]), v = fixtureMatrix(c["v"])
            let causal = try XCTUnwrap(c["causal"] as? Bool)
            let facts = try XCTUnwrap(c["facts"] as? [String: [String: Any]])
            XCTAssertGreaterThanOrEqual(facts.count, 4)
            for (key, f) in facts {
                let sizes = key.split(separator: ",").compactMap { Int($0) }
                let (blockQ, block) = (sizes[0], sizes[1])
                let traceRow = try XCTUnwrap(integer(f["trace_row"]))
                let label = "n=\(q.count) m=\(k.count) causal=\(causal) block_q=\(blockQ) block=\(block)"
                let out = try evaluate(module, ["q": .matrix(q), "k": .matrix(k), "v": .matrix(v), "causal": .bool(causal),
                                                "block": .integer(block), "block_q": .integer(blockQ),
                                                "trace_query": .integer(traceRow)])
                assertClose(out.matrix("output"), fixtureMatrix(c["output"]), tol: 1e-12, label)
                assertClose(out.vector("m"), fixtureVector(c["m"]), tol: 1e-13, label)
                assertClose(out.vector("l"), fixtureVector(c["l"]), tol: 1e-12, label)
                assertClose(out.vector("lse"), fixtureVector(c["lse"]), tol: 1e-12, label)
                for name in ["tiles_computed", "tiles_skipped", "masked_row_tiles", "rescales", "score_elements_tiled"] {
                    XCTAssertEqual(out[name], .integer(try XCTUnwrap(integer(f[name]))), "\(name) \(label)")
                }
                let queryBlocks = (q.count + blockQ - 1) / blockQ, tiles = (k.count + block - 1) / block
                XCTAssertEqual(out["query_blocks"], .integer(queryBlocks))
                XCTAssertEqual(out["tiles"], .integer(tiles))
                if case .integer(let computed)? = out["tiles_computed"], case .integer(let skipped)? = out["tiles_skipped"] {
                    XCTAssertEqual(computed + skipped, queryBlocks * tiles, label)
                }
                let trace = try XCTUnwrap(f["trace"] as? [String: Any])
                assertClose(out.vector("trace_m"), fixtureVector(trace["m"]), tol: 1e-13, label)
                assertClose(out.vector("trace_l"), fixtureVector(trace["l"]), tol: 1e-12, label)
                assertClose(out.matrix("trace_acc"), fixtureMatrix(trace["acc"]), tol: 1e-12, label)
                let normalised = zip(fixtureMatrix(trace["acc"]), fixtureVector(trace["l"])).map { acc, l in acc.map { $0 / l } }
                assertClose(out.matrix("trace_o"), normalised, tol: 1e-12, label)
                // After the block's last tile the trace holds the row's final state.
                XCTAssertEqual(out.vector("trace_m").last, out.vector("m")[traceRow])
                XCTAssertEqual(out.vector("trace_l").last, out.vector("l")[traceRow])
            }
        }
    }

    func testTheTraceOfRisingScoresByHand() throws {
        // d = 1, q = [1], k = [0, 1, 2, 3], scale 1: scores 0, 1, 2, 3, one key per tile, so m
        // grows at every tile after the first and each rescale is e^(−1).
        //   tile 1: m = 0, l = 1,                acc = 1
        //   tile 2: m = 1, l = e^−1 + 1,         acc = 1·e^−1 + 2
        //   tile 3: m = 2, l = (e^−1 + 1)e^−1 + 1, acc = (e^−1 + 2)e^−1 + 3
        //   tile 4: m = 3, l = l₃e^−1 + 1,        acc = acc₃e^−1 + 4
        let e1 = exp(-1.0)
        let out = try evaluate(module, ["q": .matrix([[1]]), "k": .matrix([[0], [1], [2], [3]]),
                                        "v": .matrix([[1], [2], [3], [4]]), "block": .integer(1), "scale": .number(1)])
        XCTAssertEqual(out.vector("trace_m"), [0, 1, 2, 3])
        assertClose(out.vector("trace_rescale"), [0, e1, e1, e1], tol: 1e-16)
        let l3 = (e1 + 1) * e1 + 1, a3 = (e1 + 2) * e1 + 3
        assertClose(out.vector("trace_l"), [1, e1 + 1, l3, l3 * e1 + 1], tol: 1e-15)
        assertClose(out.matrix("trace_acc"), [[1], [e1 + 2], [a3], [a3 * e1 + 4]], tol: 1e-14)
        XCTAssertEqual(out["rescales"], .integer(3))
        // With all keys in one tile the max is found at once and nothing is rescaled.
        let one = try evaluate(module, ["q": .matrix([[1]]), "k": .matrix([[0], [1], [2], [3]]),
                                        "v": .matrix([[1], [2], [3], [4]]), "block": .integer(4), "scale": .number(1)])
        XCTAssertEqual(one["rescales"], .integer(0))
        XCTAssertEqual(one.vector("trace_rescale"), [0])
        assertClose(one.matrix("output"), out.matrix("output"), tol: 1e-15)
    }

    func testCausalSquareSkipsTheTilesAboveTheDiagonal() throws {
        var random = TestRandom(seed: 3)
        let q = (0..<8).map { _ in random.vector(2, in: -1...1) }, k = (0..<8).map { _ in random.vector(2, in: -1...1) }
        let v = (0..<8).map { _ in random.vector(1, in: -1...1) }
        // An 8×8 causal grid cut into b×b tiles has (8/b)² tiles, of which the (8/b)(8/b − 1)/2
        // strictly above the diagonal are masked: b = 2 gives 16 tiles, 6 skipped.
        for (b, skipped) in [(1, 28), (2, 6), (4, 1), (8, 0)] {
            let tiles = (8 / b) * (8 / b)
            let out = try evaluate(module, ["q": .matrix(q), "k": .matrix(k), "v": .matrix(v), "causal": .bool(true),
                                            "block": .integer(b), "block_q": .integer(b)])
            XCTAssertEqual(out["tiles_skipped"], .integer(skipped), "b = \(b)")
            XCTAssertEqual(out["tiles_computed"], .integer(tiles - skipped), "b = \(b)")
            XCTAssertLessThan(out.number("max_abs_diff"), 1e-12)
            let plain = try evaluate(module, ["q": .matrix(q), "k": .matrix(k), "v": .matrix(v),
                                              "block": .integer(b), "block_q": .integer(b)])
            XCTAssertEqual(plain["tiles_skipped"], .integer(0))
            XCTAssertEqual(plain["tiles_computed"], .integer(tiles))
            XCTAssertEqual(plain["score_elements_tiled"], .integer(b * b))
        }
        // One block of 4 queries against key tiles of 1: in tile j, rows 0..<j see nothing, so
        // 0 + 1 + 2 + 3 row-tiles are masked and the guard keeps e^(−∞ − (−∞)) out of them.
        let guarded = try evaluate(module, ["q": .matrix(Array(q[..<4])), "k": .matrix(Array(k[..<4])), "v": .matrix(Array(v[..<4])),
                                            "causal": .bool(true), "block": .integer(1), "block_q": .integer(4)])
        XCTAssertEqual(guarded["masked_row_tiles"], .integer(6))
        XCTAssertEqual(guarded["tiles_skipped"], .integer(0))
        XCTAssertLessThan(guarded.number("max_abs_diff"), 1e-12)
    }

    func testDefaultsKeepTheSpecMeaning() throws {
        // With block_q unset every query is one block, so the live tile is n·min(block, m).
        let q = [[1.0, 1], [0, 1], [-1, 0], [2, 0], [0, 0], [1, -1], [0.5, 2], [-2, -1]]
        for block in [1, 2, 3, 8, 11] {
            let out = try evaluate(module, ["q": .matrix(q), "k": .matrix(q), "v": .matrix(q), "block": .integer(block)])
            XCTAssertEqual(out["score_elements_naive"], .integer(64))
            XCTAssertEqual(out["score_elements_tiled"], .integer(8 * min(block, 8)))
            XCTAssertEqual(out["query_blocks"], .integer(1))
        }
        let defaults = try evaluate(module, [:])
        XCTAssertEqual(defaults.number("max_abs_diff_same_inputs"), defaults.number("max_abs_diff"))
        XCTAssertEqual(defaults["tiles"], .integer(2))
    }

    func testBadNewParametersNameThemselves() {
        XCTAssertEqual(evaluationError(module, ["trace_query": .integer(3)])?.parameter, "trace_query")
        XCTAssertEqual(evaluationError(module, ["trace_query": .integer(-1)])?.parameter, "trace_query")
        XCTAssertEqual(evaluationError(module, ["block_q": .integer(0)])?.parameter, "block_q")
        XCTAssertEqual(evaluationError(module, ["precision": .text("fp8")])?.parameter, "precision")
        XCTAssertEqual(evaluationError(module, ["scale": .number(1e101)])?.parameter, "scale")
    }
}

// MARK: - attention.tiled in fp16, bf16 and fp32

final class AttentionPrecisionTests: XCTestCase {
    let module = TiledAttentionModule()

    func testReducedPrecisionMatchesTheFloat32EmulationBitForBit() throws {
        let cases = try attentionFixture("precision")
        XCTAssertEqual(cases.count, 18)
        for c in cases {
            let format = try XCTUnwrap(c["format"] as? String), causal = try XCTUnwrap(c["causal"] as? Bool)
            let out = try evaluate(module, ["q": .matrix(fixtureMatrix(c["q"])), "k": .matrix(fixtureMatrix(c["k"])),
                                            "v": .matrix(fixtureMatrix(c["v"])), "causal": .bool(causal),
                                            "block": .integer(try XCTUnwrap(integer(c["block"]))), "precision": .text(format)])
            // Float32 values are far coarser than 1e-12 relative, so this is an exact match.
            assertClose(out.matrix("output"), fixtureMatrix(c["output"]), tol: 1e-12, "\(format) causal=\(causal)")
            assertClose(out.matrix("reference"), fixtureMatrix(c["reference"]), tol: 1e-12)
            // torch's own half-precision kernel on the same inputs makes errors of the same size.
            let torchError = try XCTUnwrap(fixtureNumber(c["torch_max_abs_diff"]))
            XCTAssertLessThanOrEqual(out.number("max_abs_diff"), 4 * torchError, "\(format) causal=\(causal)")
            XCTAssertGreaterThan(out.number("max_abs_diff"), 0)
            // The inputs as numpy and torch round them: rounding again changes nothing, and their
            // attention in Double is what max_abs_diff_same_inputs measures against.
            let rounded: [String: Value] = ["q": .matrix(fixtureMatrix(c["q_rounded"])), "k": .matrix(fixtureMatrix(c["k_rounded"])),
                                            "v": .matrix(fixtureMatrix(c["v_rounded"])), "causal": .bool(causal),
                                            "block": .integer(2)]
            var again = rounded
            again["precision"] = .text(format)
            XCTAssertEqual(try evaluate(module, again).matrix("output"), out.matrix("output"), "\(format) causal=\(causal)")
            let exactOfRounded = try evaluate(module, rounded).matrix("reference")
            // (1e-13: JSONSerialization may misread a float32 value of the fixture in its last double bit.)
            assertClose(out.number("max_abs_diff_same_inputs"), maxAbsDifference(out.matrix("output"), exactOfRounded), tol: 1e-13)
        }
    }

    func testFormatsOrderByPrecision() throws {
        var random = TestRandom(seed: 5)
        let q = (0..<6).map { _ in random.vector(8, in: -2...2) }, k = (0..<9).map { _ in random.vector(8, in: -2...2) }
        let v = (0..<9).map { _ in random.vector(3, in: -1...1) }
        func error(_ precision: String) throws -> Double {
            try evaluate(module, ["q": .matrix(q), "k": .matrix(k), "v": .matrix(v), "precision": .text(precision)]).number("max_abs_diff")
        }
        XCTAssertLessThan(try error("float64"), 1e-14)
        // Unit roundoffs: fp32 2^−24 ≈ 6e−8, fp16 2^−11 ≈ 5e−4, bf16 2^−8 ≈ 4e−3.
        XCTAssertLessThan(try error("fp32"), 1e-6)
        XCTAssertLessThan(try error("fp16"), 5e-3)
        XCTAssertLessThan(try error("bf16"), 4e-2)
        XCTAssertLessThan(try error("fp32"), try error("fp16"))
        XCTAssertLessThan(try error("fp16"), try error("bf16"))
        // The state is float32: every m, l and lse is a float32 value.
        let out = try evaluate(module, ["q": .matrix(q), "k": .matrix(k), "v": .matrix(v), "precision": .text("bf16")])
        for x in out.vector("l") + out.vector("m") + out.vector("lse") + out.vector("trace_l") {
            XCTAssertEqual(Double(Float(x)), x)
        }
        for row in out.matrix("output") { for x in row { XCTAssertEqual(FloatFormat.bf16.round(x).value, x) } }
    }

    func testValuesBeyondTheFormatAreRefused() {
        // 70000 exceeds fp16's 65504 but not bf16's range.
        let big: Value = .matrix([[70000, 0], [0, 1], [1, 1]])
        XCTAssertEqual(evaluationError(module, ["q": big, "precision": .text("fp16")])?.parameter, "q")
        XCTAssertNoThrow(try module.evaluate(["q": big, "precision": .text("bf16"), "scale": .number(1e-4)]))
        XCTAssertEqual(evaluationError(module, ["v": .matrix([[1e39, 0], [0, 0], [0, 0], [0, 0]]), "precision": .text("fp32")])?.parameter, "v")
        // q·k = 2·(3e19)² = 1.8e39 overflows float32 even though every input is a bf16 number.
        let huge: Value = .matrix([[3e19, 3e19]])
        XCTAssertEqual(evaluationError(module, ["q": huge, "k": huge, "v": .matrix([[1]]), "precision": .text("bf16"), "scale": .number(1)])?.parameter, "q")
        // Two equal scores give weights 1 and 1: the accumulator 3e38 + 3e38 overflows float32.
        XCTAssertEqual(evaluationError(module, ["q": .matrix([[0]]), "k": .matrix([[0], [0]]), "v": .matrix([[3e38], [3e38]]),
                                                "precision": .text("fp32")])?.parameter, "v")
        XCTAssertEqual(evaluationError(module, ["scale": .number(1e39), "precision": .text("fp32")])?.parameter, "scale")
    }
}

// MARK: - attention.io

final class AttentionIOTests: XCTestCase {
    let module = AttentionIOModule()

    func testCountsMatchALiteralSimulationOfTheLoops() throws {
        let cases = try attentionFixture("io")
        XCTAssertEqual(cases.count, 15)
        for c in cases {
            var values: [String: Value] = [:]
            for name in ["n", "d", "sram", "bytes", "block_r", "block_c"] {
                if let x = integer(c[name]) { values[name] = .integer(x) }
            }
            values["causal"] = .bool(try XCTUnwrap(c["causal"] as? Bool))
            let out = try evaluate(module, values)
            let label = "\(values)"
            XCTAssertEqual(out["block_r"], .integer(try XCTUnwrap(integer(c["used_block_r"]))), label)
            XCTAssertEqual(out["block_c"], .integer(try XCTUnwrap(integer(c["used_block_c"]))), label)
            for name in ["tiles_r", "tiles_c", "tiles_computed", "sram_elements", "standard_bytes", "fa1_bytes", "fa2_bytes"] {
                XCTAssertEqual(out[name], .integer(try XCTUnwrap(integer(c[name]))), "\(name) \(label)")
            }
            for name in ["standard_terms", "fa1_terms", "fa2_terms"] {
                XCTAssertEqual(out.vector(name), fixtureVector(c[name]), "\(name) \(label)")
                let total = fixtureVector(c[name]).reduce(0, +)
                let prefix = String(name.dropLast("_terms".count))
                XCTAssertEqual(out[prefix + "_accesses"], .integer(Int(total)), label)
            }
        }
    }

    func testStandardAttentionByHand() throws {
        // N = 4, d = 2: S and P are 16 elements, Q, K, V, O 8. Reads Q, K, S, P, V = 8+8+16+16+8 = 56;
        // writes S, P, O = 16+16+8 = 40; 96 = 4N² + 4Nd in all, 192 bytes at 2 bytes each.
        let out = try evaluate(module, ["n": .integer(4), "d": .integer(2)])
        XCTAssertEqual(out.vector("standard_terms"), [8, 8, 16, 16, 16, 16, 8, 8])
        XCTAssertEqual(out["standard_reads"], .integer(56))
        XCTAssertEqual(out["standard_writes"], .integer(40))
        XCTAssertEqual(out["standard_accesses"], .integer(96))
        XCTAssertEqual(out["standard_bytes"], .integer(192))
        let causal = try evaluate(module, ["n": .integer(4), "d": .integer(2), "causal": .bool(true)])
        XCTAssertEqual(causal["standard_accesses"], .integer(96), "the mask does not shrink S or P")
    }

    func testTheClosedFormsOfTheTwoLoopOrders() throws {
        // Without the mask, FlashAttention reads K, V once (2Nd), and Q, O, ℓ, m on each of T_c
        // passes; it writes the initial O, ℓ, m and then O, ℓ, m on every pass. FlashAttention-2
        // reads Q once and K, V on each of T_r passes, and writes O and L once.
        var random = TestRandom(seed: 9)
        for _ in 0..<30 {
            let n = Int.random(in: 1...3000, using: &random), d = Int.random(in: 1...256, using: &random)
            let sram = Int.random(in: 1...200_000, using: &random), bytes = Int.random(in: 1...8, using: &random)
            let out = try evaluate(module, ["n": .integer(n), "d": .integer(d), "sram": .integer(sram), "bytes": .integer(bytes)])
            let bc = min((sram + 4 * d - 1) / (4 * d), n), br = min((sram + 4 * d - 1) / (4 * d), d, n)
            let tc = (n + bc - 1) / bc, tr = (n + br - 1) / br
            let label = "n=\(n) d=\(d) M=\(sram)"
            XCTAssertEqual(out["fa1_reads"], .integer(2 * n * d + tc * (2 * n * d + 2 * n)), label)
            XCTAssertEqual(out["fa1_writes"], .integer(n * d + 2 * n + tc * (n * d + 2 * n)), label)
            XCTAssertEqual(out["fa1_bytes"], .integer((n * d + 2 * n * d + tc * 3 * n * d) * bytes + (2 * n + tc * 4 * n) * 4), label)
            XCTAssertEqual(out["fa2_reads"], .integer(n * d + tr * 2 * n * d), label)
            XCTAssertEqual(out["fa2_writes"], .integer(n * d + n), label)
            XCTAssertEqual(out["standard_accesses"], .integer(4 * n * n + 4 * n * d), label)
            XCTAssertEqual(out["tiles_computed"], .integer(tr * tc), label)
            XCTAssertEqual(out["tiles_skipped"], .integer(0), label)
        }
    }

    func testBlockSizesFollowLine1AndTheSweep() throws {
        // M = 98304: ⌈98304/256⌉ = 384 and ⌈98304/512⌉ = 192; B_r = min(that, d).
        for (n, d, bc, br) in [(1024, 64, 384, 64), (8192, 64, 384, 64), (1024, 128, 192, 128), (8192, 128, 192, 128)] {
            let out = try evaluate(module, ["n": .integer(n), "d": .integer(d)])
            XCTAssertEqual(out["block_c"], .integer(bc))
            XCTAssertEqual(out["block_r"], .integer(br))
            XCTAssertGreaterThan(out.number("fa1_ratio"), 1, "n=\(n) d=\(d)")
        }
        // The 2022 loop order loses most of its gain at d = 128: T_c·3Nd ≈ 12N²d²/M doubles with
        // d while standard attention's 4N² does not move.
        let d64 = try evaluate(module, ["n": .integer(8192), "d": .integer(64)])
        let d128 = try evaluate(module, ["n": .integer(8192), "d": .integer(128)])
        XCTAssertGreaterThan(d64.number("fa1_ratio"), 2.5 * d128.number("fa1_ratio"))
        // Theorem 2's Θ(N²d²/M) hides a constant near 12 (3Nd per pass, T_c ≈ 4Nd/M passes).
        XCTAssertGreaterThan(d64.number("fa1_constant"), 12)
        XCTAssertLessThan(d64.number("fa1_constant"), 13.5)
        // d = 128 at these block sizes needs 2·192·128 + 2·128·128 + 256 + 128·192 = 106752 > M.
        XCTAssertEqual(d128["sram_elements"], .integer(106_752))
        XCTAssertEqual(d128["fits_sram"], .bool(false))
        XCTAssertEqual(d64["fits_sram"], .bool(true))
    }

    func testMemoryKeptForTheBackwardPass() throws {
        // 8192² × 2 bytes = 128 MiB of P per head, against 8192 × 4 bytes = 32 KiB of log-sum-exp.
        let out = try evaluate(module, ["n": .integer(8192)])
        XCTAssertEqual(out["p_bytes"], .integer(134_217_728))
        XCTAssertEqual(out.number("p_mib"), 128)
        XCTAssertEqual(out["lse_bytes"], .integer(32_768))
        XCTAssertEqual(out["fa1_stats_bytes"], .integer(65_536))
        XCTAssertEqual(out.number("p_over_lse"), 4096)
    }

    func testCausalCountsByHand() throws {
        // N = 4, d = 1, one row per block: query block i sees key blocks 0...i.
        // FlashAttention-2 loads K_j, V_j 1 + 2 + 3 + 4 = 10 times: 20 elements.
        // FlashAttention visits key block j from query blocks j...3: 4 + 3 + 2 + 1 = 10 visits, each
        // reading Q_i, O_i (1 each) and ℓ_i, m_i (2), and writing O_i (1) and ℓ_i, m_i (2).
        let out = try evaluate(module, ["n": .integer(4), "d": .integer(1), "causal": .bool(true),
                                        "block_r": .integer(1), "block_c": .integer(1)])
        XCTAssertEqual(out.vector("fa2_terms"), [4, 20, 4, 4])
        XCTAssertEqual(out.vector("fa1_terms"), [4, 8, 8, 10, 10, 20, 10, 20])
        XCTAssertEqual(out["tiles_computed"], .integer(10))
        XCTAssertEqual(out["tiles_skipped"], .integer(6))
        // Square tiles of 128 over N = 1024: an 8×8 grid, 28 tiles above the diagonal skipped.
        let grid = try evaluate(module, ["n": .integer(1024), "causal": .bool(true), "block_r": .integer(128), "block_c": .integer(128)])
        XCTAssertEqual(grid["tiles_skipped"], .integer(28))
        XCTAssertEqual(grid["tiles_computed"], .integer(36))
    }

    func testOutOfRangeSizesNameTheParameter() {
        XCTAssertEqual(evaluationError(module, ["n": .integer(0)])?.parameter, "n")
        XCTAssertEqual(evaluationError(module, ["n": .integer(1_048_577)])?.parameter, "n")
        XCTAssertEqual(evaluationError(module, ["d": .integer(1025)])?.parameter, "d")
        XCTAssertEqual(evaluationError(module, ["sram": .integer(0)])?.parameter, "sram")
        XCTAssertEqual(evaluationError(module, ["bytes": .integer(9)])?.parameter, "bytes")
        XCTAssertEqual(evaluationError(module, ["block_r": .integer(0)])?.parameter, "block_r")
        XCTAssertEqual(evaluationError(module, ["block_c": .number(1.5)])?.parameter, "block_c")
        // The largest sizes run and every count stays exact (2·d·N² = 2⁵¹ with B_r = 1).
        XCTAssertNoThrow(try module.evaluate(["n": .integer(1_048_576), "d": .integer(1024), "bytes": .integer(8),
                                              "block_r": .integer(1), "block_c": .integer(1), "causal": .bool(true)]))
    }
}

// MARK: - attention.backward

final class AttentionBackwardTests: XCTestCase {
    let module = AttentionBackwardModule()

    func testAgainstTorchAutograd() throws {
        let cases = try attentionFixture("backward")
        XCTAssertEqual(cases.count, 10)
        for c in cases {
            let causal = try XCTUnwrap(c["causal"] as? Bool)
            let q = fixtureMatrix(c["q"]), k = fixtureMatrix(c["k"])
            for (block, blockQ) in [(1, 1), (2, 3), (k.count, q.count)] {
                let label = "n=\(q.count) m=\(k.count) causal=\(causal) blocks \(block),\(blockQ)"
                let out = try evaluate(module, ["q": .matrix(q), "k": .matrix(k), "v": .matrix(fixtureMatrix(c["v"])),
                                                "d_out": .matrix(fixtureMatrix(c["d_out"])), "causal": .bool(causal),
                                                "block": .integer(block), "block_q": .integer(blockQ)])
                for name in ["output", "p", "ds", "dq", "dk", "dv"] {
                    assertClose(out.matrix(name), fixtureMatrix(c[name]), tol: 1e-12, "\(name) \(label)")
                }
                for name in ["dq", "dk", "dv"] {
                    assertClose(out.matrix(name + "_reference"), fixtureMatrix(c[name]), tol: 1e-12, "\(name)_reference \(label)")
                }
                assertClose(out.vector("lse"), fixtureVector(c["lse"]), tol: 1e-12, label)
                assertClose(out.vector("delta"), fixtureVector(c["delta"]), tol: 1e-12, label)
                assertClose(out.number("loss"), try XCTUnwrap(fixtureNumber(c["loss"])), tol: 1e-12, label)
                for name in ["p", "delta", "ds", "dq", "dk", "dv"] {
                    XCTAssertLessThan(out.number("max_abs_diff_" + name), 1e-13, "\(name) \(label)")
                }
            }
        }
    }

    func testFiniteDifferencesOfTheLoss() throws {
        var random = TestRandom(seed: 21)
        let tiled = TiledAttentionModule()
        for causal in [false, true] {
            let (n, m, d, dv) = (4, 5, 3, 2)
            let q = (0..<n).map { _ in random.vector(d, in: -1.5...1.5) }, k = (0..<m).map { _ in random.vector(d, in: -1.5...1.5) }
            let v = (0..<m).map { _ in random.vector(dv, in: -1...1) }, g = (0..<n).map { _ in random.vector(dv, in: -1...1) }
            func loss(_ q: [[Double]], _ k: [[Double]], _ v: [[Double]]) throws -> Double {
                let o = try evaluate(tiled, ["q": .matrix(q), "k": .matrix(k), "v": .matrix(v), "causal": .bool(causal)]).matrix("output")
                return zip(o, g).reduce(0) { $0 + zip($1.0, $1.1).reduce(0) { $0 + $1.0 * $1.1 } }
            }
            func reshape(_ flat: [Double], _ columns: Int) -> [[Double]] {
                stride(from: 0, to: flat.count, by: columns).map { Array(flat[$0..<$0 + columns]) }
            }
            let out = try evaluate(module, ["q": .matrix(q), "k": .matrix(k), "v": .matrix(v), "d_out": .matrix(g), "causal": .bool(causal)])
            let dq = try numericalGradient(q.flatMap { $0 }) { try loss(reshape($0, d), k, v) }
            let dk = try numericalGradient(k.flatMap { $0 }) { try loss(q, reshape($0, d), v) }
            let dvNumeric = try numericalGradient(v.flatMap { $0 }) { try loss(q, k, reshape($0, dv)) }
            assertClose(out.matrix("dq").flatMap { $0 }, dq, tol: 1e-8, "dq causal=\(causal)")
            assertClose(out.matrix("dk").flatMap { $0 }, dk, tol: 1e-8, "dk causal=\(causal)")
            assertClose(out.matrix("dv").flatMap { $0 }, dvNumeric, tol: 1e-8, "dv causal=\(causal)")
            assertClose(out.number("loss"), try loss(q, k, v), tol: 1e-13)
            if causal {
                // Key 4 comes after the last query (index 3): no query sees it, so it gets no gradient.
                XCTAssertEqual(out.matrix("dk")[4], [0, 0, 0])
                XCTAssertEqual(out.matrix("dv")[4], [0, 0])
            }
        }
    }

    func testTwoKeysByHand() throws {
        // d = 1, q = [ln 3], k = [1, 0], v = [1, 0], dO = [1], scale 1: scores [ln 3, 0], so
        // P = [3/4, 1/4], O = 3/4, dP = dO·v = [1, 0], D = dO·O = 3/4 (= Σ P dP).
        // dS = P ∘ (dP − D) = [3/4·1/4, 1/4·(−3/4)] = [3/16, −3/16];
        // dQ = dS·k = 3/16; dK = dS·q = [3/16 ln 3, −3/16 ln 3]; dV = Pᵀ dO = [3/4, 1/4].
        let out = try evaluate(module, ["q": .matrix([[log(3)]]), "k": .matrix([[1], [0]]), "v": .matrix([[1], [0]]),
                                        "d_out": .matrix([[1]]), "scale": .number(1)])
        assertClose(out.matrix("p"), [[0.75, 0.25]], tol: 1e-15)
        assertClose(out.vector("delta"), [0.75], tol: 1e-15)
        assertClose(out.matrix("dp"), [[1, 0]], tol: 0)
        assertClose(out.matrix("ds"), [[3.0 / 16, -3.0 / 16]], tol: 1e-15)
        assertClose(out.matrix("dq"), [[3.0 / 16]], tol: 1e-15)
        assertClose(out.matrix("dk"), [[3.0 / 16 * log(3)], [-3.0 / 16 * log(3)]], tol: 1e-15)
        assertClose(out.matrix("dv"), [[0.75], [0.25]], tol: 1e-15)
        assertClose(out.vector("lse"), [log(4)], tol: 1e-15)
    }

    func testARowWithConstantDPGetsNoScoreGradient() throws {
        // Softmax ignores a shift of its row, so if dP_i is the same c for every key then
        // dS_i = P_i ∘ (c − Σ_j P_ij c) = 0. In the defaults dO_3 = [1, −1] and each v_j = [a, a + 1],
        // so dP_3j = −1 for all j; that query then gets dQ_3 = 0.
        let out = try evaluate(module, [:])
        XCTAssertEqual(out.matrix("dp")[2], [-1, -1, -1, -1])
        assertClose(out.matrix("ds")[2], [0, 0, 0, 0], tol: 1e-15)
        assertClose(out.matrix("dq")[2], [0, 0], tol: 1e-15)
        XCTAssertEqual(out["tiles_computed"], .integer(4))
        let causal = try evaluate(module, ["causal": .bool(true)])
        XCTAssertEqual(causal["tiles_skipped"], .integer(1), "query block {0, 1} never sees key block {2, 3}")
        XCTAssertEqual(causal.matrix("p")[0], [1, 0, 0, 0])
    }

    func testShapeAndSizeErrorsNameTheParameter() {
        XCTAssertEqual(evaluationError(module, ["d_out": .matrix([[1, 2]])])?.parameter, "d_out")
        XCTAssertEqual(evaluationError(module, ["d_out": .matrix([[1], [2], [3]])])?.parameter, "d_out")
        XCTAssertEqual(evaluationError(module, ["k": .matrix([[1, 2, 3]])])?.parameter, "k")
        XCTAssertEqual(evaluationError(module, ["v": .matrix([[1, 2]])])?.parameter, "v")
        XCTAssertEqual(evaluationError(module, ["block": .integer(0)])?.parameter, "block")
        XCTAssertEqual(evaluationError(module, ["block_q": .integer(0)])?.parameter, "block_q")
        XCTAssertEqual(evaluationError(module, ["q": .matrix([[1e31, 0], [0, 1], [1, 1]])])?.parameter, "q")
        let big = [[Double]](repeating: [Double](repeating: 1, count: 4), count: 300)
        XCTAssertEqual(evaluationError(module, ["q": .matrix(big), "k": .matrix(big), "v": .matrix(big), "d_out": .matrix(big)])?.parameter, "q")
    }
}

// MARK: - attention.split-kv

final class AttentionSplitKVTests: XCTestCase {
    let module = AttentionSplitKVModule()

    func testPartStatesAndTheMergedOutputAgainstTheDefinition() throws {
        let cases = try attentionFixture("split")
        XCTAssertEqual(cases.count, 24)
        for c in cases {
            let parts = try XCTUnwrap(integer(c["parts"])), row = try XCTUnwrap(integer(c["row"]))
            let causal = try XCTUnwrap(c["causal"] as? Bool)
            let label = "parts=\(parts) row=\(row) causal=\(causal)"
            let out = try evaluate(module, ["q": .matrix(fixtureMatrix(c["q"])), "k": .matrix(fixtureMatrix(c["k"])),
                                            "v": .matrix(fixtureMatrix(c["v"])), "parts": .integer(parts),
                                            "row": .integer(row), "causal": .bool(causal)])
            XCTAssertEqual(out.vector("part_sizes"), fixtureVector(c["part_sizes"]), label)
            // numpy's q @ kᵀ sums in another order, so the maxima may differ in the last bit.
            assertClose(out.vector("part_m"), fixtureVector(c["part_m"]), tol: 1e-13, label)
            assertClose(out.vector("part_l"), fixtureVector(c["part_l"]), tol: 1e-13, label)
            assertClose(out.matrix("part_acc"), fixtureMatrix(c["part_acc"]), tol: 1e-13, label)
            assertClose(out.matrix("output"), fixtureMatrix(c["output"]), tol: 1e-12, label)
            assertClose(out.matrix("output_lse_merge"), fixtureMatrix(c["output"]), tol: 1e-12, label)
            XCTAssertLessThan(out.number("max_abs_diff_orders"), 1e-14, label)
            XCTAssertEqual(out["masked_parts"], .integer(try XCTUnwrap(integer(c["masked_parts"]))), label)
        }
    }

    func testTwoPartsByHand() throws {
        // q = [1], k = [0, ln 3], scale 1: scores 0 and ln 3. Part 1 = (m 0, l 1, acc 1·1);
        // part 2 = (m ln 3, l 1, acc 5). Merge: M = ln 3, l = 1·e^(−ln 3) + 1 = 4/3,
        // acc = 1/3 + 5 = 16/3, output 4 = (1·1 + 3·5)/4.
        let out = try evaluate(module, ["q": .matrix([[1]]), "k": .matrix([[0], [log(3)]]), "v": .matrix([[1], [5]]),
                                        "scale": .number(1)])
        XCTAssertEqual(out.vector("part_m"), [0, log(3)])
        XCTAssertEqual(out.vector("part_l"), [1, 1])
        XCTAssertEqual(out.matrix("part_acc"), [[1], [5]])
        XCTAssertEqual(out.number("merged_m"), log(3))
        assertClose(out.number("merged_l"), 4.0 / 3, tol: 1e-15)
        assertClose(out.vector("merged_acc"), [16.0 / 3], tol: 1e-15)
        assertClose(out.matrix("output"), [[4]], tol: 1e-15)
        assertClose(out.vector("part_lse"), [0, log(3)], tol: 1e-16)
        assertClose(out.vector("lse"), [log(4)], tol: 1e-15)
    }

    func testTheMergeIsAMonoid() {
        var random = TestRandom(seed: 17)
        func state() -> SoftmaxPartial {
            let scores = random.vector(3, in: -30...30)
            let values = (0..<3).map { _ in random.vector(2, in: -1...1) }
            return SoftmaxPartial(scores: scores[...], values: values[...], width: 2)
        }
        let identity = SoftmaxPartial.empty(width: 2)
        for _ in 0..<200 {
            let a = state(), b = state(), c = state()
            // Commutative bit for bit: max is symmetric and IEEE addition commutes.
            XCTAssertEqual(a.merged(with: b), b.merged(with: a))
            // The empty state is an identity, exactly.
            XCTAssertEqual(identity.merged(with: a), a)
            XCTAssertEqual(a.merged(with: identity), a)
            XCTAssertEqual(identity.merged(with: identity), identity)
            // Associative up to rounding.
            let left = a.merged(with: b).merged(with: c), right = a.merged(with: b.merged(with: c))
            XCTAssertEqual(left.m, right.m)
            assertClose(left.l, right.l, tol: 2e-15 * left.l)
            assertClose(left.acc, right.acc, tol: 2e-15 * left.l)
        }
        // Merging the states of two halves gives the state of the whole.
        let scores = random.vector(6, in: -5...5), values = (0..<6).map { _ in random.vector(2, in: -1...1) }
        let whole = SoftmaxPartial(scores: scores[...], values: values[...], width: 2)
        let halves = SoftmaxPartial(scores: scores[..<3], values: values[..<3], width: 2)
            .merged(with: SoftmaxPartial(scores: scores[3...], values: values[3...], width: 2))
        XCTAssertEqual(halves.m, whole.m)
        assertClose(halves.l, whole.l, tol: 4e-15 * whole.l)
        assertClose(halves.acc, whole.acc, tol: 4e-15 * whole.l)
    }

    func testCausalPartsThatARowCannotSeeAreTheIdentity() throws {
        // Default q, k (3 queries, 4 keys), causal, one key per part: query i sees keys 0...i, so
        // query 0 misses 3 parts, query 1 misses 2, query 2 misses 1: 6 empty states.
        let out = try evaluate(module, ["parts": .integer(4), "causal": .bool(true)])
        XCTAssertEqual(out["masked_parts"], .integer(6))
        XCTAssertEqual(out.vector("part_m")[1...], [-.infinity, -.infinity, -.infinity])
        XCTAssertEqual(out.vector("part_l")[1...], [0, 0, 0])
        XCTAssertEqual(out.vector("part_lse")[1...], [-.infinity, -.infinity, -.infinity])
        XCTAssertLessThan(out.number("max_abs_diff"), 1e-15)
        XCTAssertLessThan(out.number("max_abs_diff_lse_merge"), 1e-14)
        XCTAssertTrue(out.matrix("output").allSatisfy { $0.allSatisfy(\.isFinite) })
    }

    func testBadPartsAndRowNameTheParameter() {
        XCTAssertEqual(evaluationError(module, ["parts": .integer(5)])?.parameter, "parts")
        XCTAssertEqual(evaluationError(module, ["parts": .integer(0)])?.parameter, "parts")
        XCTAssertEqual(evaluationError(module, ["row": .integer(3)])?.parameter, "row")
        XCTAssertEqual(evaluationError(module, ["k": .matrix([[1, 2, 3]])])?.parameter, "k")
        XCTAssertEqual(evaluationError(module, ["v": .matrix([[1, 2]])])?.parameter, "v")
    }
}
