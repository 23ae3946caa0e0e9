import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

final class DeformBilinearTests: XCTestCase {
    let module = DeformBilinearModule()
    let map: [[Double]] = [[1, 2, 3], [4, 5, 6], [7, 8, 10]]

    func testInteriorPointByHand() throws {
        // (0.25, 1.5): corners (0,1), (0,2), (1,1), (1,2); ly = 0.25, lx = 0.5, so the weights are
        // 0.75·0.5, 0.75·0.5, 0.25·0.5, 0.25·0.5 and the value 0.375·(2 + 3) + 0.125·(5 + 6) = 3.25.
        let out = try evaluate(module, ["feature": .matrix(map), "y": .number(0.25), "x": .number(1.5)])
        XCTAssertEqual(out.number("value"), 3.25)
        XCTAssertEqual(out.matrix("corners"), [[0, 1], [0, 2], [1, 1], [1, 2]])
        XCTAssertEqual(out.vector("weights"), [0.375, 0.375, 0.125, 0.125])
        XCTAssertEqual(out.vector("corner_values"), [2, 3, 5, 6])
        XCTAssertEqual(out["inside"], .bool(true))
    }

    func testFringeCellsOutsideTheMapCountZero() throws {
        // (−0.5, 0): the top corners (−1, 0), (−1, 1) are outside; weights 0.5, 0, 0.5, 0 → 0.5·1.
        let top = try evaluate(module, ["feature": .matrix(map), "y": .number(-0.5), "x": .number(0)])
        XCTAssertEqual(top.vector("weights"), [0.5, 0, 0.5, 0])
        XCTAssertEqual(top.vector("corner_values"), [0, 0, 1, 2])
        XCTAssertEqual(top.number("value"), 0.5)
        // (2.5, 2.5) with H = W = 3: only (2, 2) = 10 is inside, weight 1/4.
        let corner = try evaluate(module, ["feature": .matrix(map), "y": .number(2.5), "x": .number(2.5)])
        XCTAssertEqual(corner.number("value"), 2.5)
        XCTAssertEqual(corner.vector("corner_values"), [10, 0, 0, 0])
        // y = −1 or y = H (x likewise) is outside: the value is 0 whatever the weights say.
        for (y, x) in [(-1.0, 1.0), (3, 1), (1, -1), (1, 3), (-7, 40)] {
            let out = try evaluate(module, ["feature": .matrix(map), "y": .number(y), "x": .number(x)])
            XCTAssertEqual(out.number("value"), 0, "(\(y), \(x))")
            XCTAssertEqual(out["inside"], .bool(false))
            assertClose(out.vector("weights").reduce(0, +), 1, tol: 1e-15)
        }
        // Just inside the fringe the value is small but not 0.
        let near = try evaluate(module, ["feature": .matrix(map), "y": .number(-0.99), "x": .number(0)])
        assertClose(near.number("value"), 0.01 * 1, tol: 1e-15)
    }

    func testAgreesWithTheTentFunctionSumAndReproducesCells() throws {
        // Bilinear interpolation is Σ_ij max(0, 1 − |y − i|)·max(0, 1 − |x − j|)·f[i][j]
        // (zero outside the map), a formula that never looks at floor(y).
        var random = TestRandom(seed: 31)
        let feature = (0..<5).map { _ in random.vector(7, in: -3...3) }
        for _ in 0..<200 {
            let y = Double.random(in: -1.5...5.5, using: &random), x = Double.random(in: -1.5...7.5, using: &random)
            let out = try evaluate(module, ["feature": .matrix(feature), "y": .number(y), "x": .number(x)])
            var tent = 0.0
            for i in 0..<5 { for j in 0..<7 {
                tent += max(0, 1 - abs(y - Double(i))) * max(0, 1 - abs(x - Double(j))) * feature[i][j]
            } }
            let inside = y > -1 && y < 5 && x > -1 && x < 7
            assertClose(out.number("value"), inside ? tent : 0, tol: 1e-14, "(\(y), \(x))")
            assertClose(out.vector("weights").reduce(0, +), 1, tol: 1e-15)
            XCTAssertTrue(out.vector("weights").allSatisfy { $0 >= 0 })
        }
        for i in 0..<5 { for j in 0..<7 {
            let out = try evaluate(module, ["feature": .matrix(feature), "y": .number(Double(i)), "x": .number(Double(j))])
            XCTAssertEqual(out.number("value"), feature[i][j])
        } }
    }

    func testAgainstTorchvisionDeformConv() throws {
        let fixture = try XCTUnwrap(loadFixture("deformable_conv.json") as? [String: Any])
        let bilinear = try XCTUnwrap(fixture["bilinear"] as? [String: Any])
        let feature = fixtureMatrix(bilinear["feature"])
        let points = fixtureMatrix(bilinear["points"])
        XCTAssertEqual(points.count, 20)
        for p in points {
            let out = try evaluate(module, ["feature": .matrix(feature), "y": .number(p[0]), "x": .number(p[1])])
            assertClose(out.number("value"), p[2], tol: 1e-12, "(\(p[0]), \(p[1]))")
        }
    }

    func testBadInputNamesTheParameter() {
        XCTAssertEqual(evaluationError(module, ["y": .number(.nan)])?.parameter, "y")
        XCTAssertEqual(evaluationError(module, ["x": .number(.infinity)])?.parameter, "x")
        XCTAssertEqual(evaluationError(module, ["feature": .matrix([[1, 2], [3]])])?.parameter, "feature")
        XCTAssertEqual(evaluationError(module, ["feature": .matrix([[]])])?.parameter, "feature")
    }
}

final class DeformConvTests: XCTestCase {
    let module = DeformConvModule()

    func testHalfCellOffsetByHand() throws {
        // A 1×1 kernel of weight 2 reading half a cell down: output (i, j) = 2·bilinear(i + 0.5, j)
        // on [[1, 2], [3, 4]]: (0,0) 2·(1 + 3)/2 = 4, (0,1) 2·(2 + 4)/2 = 6, and on the bottom row
        // the lower neighbour is outside the map: (1,0) 2·3/2 = 3, (1,1) 2·4/2 = 4.
        let out = try evaluate(module, ["input": .matrix([[1, 2], [3, 4]]), "weight": .matrix([[2]]),
                                        "offsets": .matrix([[0.5, 0]])])
        XCTAssertEqual(out.matrix("output"), [[4, 6], [3, 4]])
        XCTAssertEqual(out.matrix("regular"), [[2, 4], [6, 8]])
        XCTAssertEqual(out.matrix("positions"), [[0, 0.5, 0, 2]])
        XCTAssertEqual(out.vector("contributions"), [4])
        XCTAssertEqual(out.number("max_abs_diff_vs_regular"), 4)
    }

    func testRegularCorrelationByHand() throws {
        // On the ramp 3y + x, weight [[1, 0], [0, −1]] gives x[i][j] − x[i+1][j+1] = −4 everywhere.
        let ramp: [[Double]] = (0..<3).map { y in (0..<3).map { x in Double(3 * y + x) } }
        let out = try evaluate(module, ["input": .matrix(ramp), "weight": .matrix([[1, 0], [0, -1]])])
        XCTAssertEqual(out.matrix("regular"), [[-4, -4], [-4, -4]])
        // Padding 1: output (0, 0) reads (−1, −1) (zero) and (0, 0) with weight −1: 0.
        // Output (0, 1) reads (−1, 0) = 0 and (0, 1) = 1: −1. Output (3, 3) reads (2, 2) = 8 only.
        let padded = try evaluate(module, ["input": .matrix(ramp), "weight": .matrix([[1, 0], [0, -1]]), "padding": .integer(1)])
        let r = padded.matrix("regular")
        XCTAssertEqual(r.count, 4)
        XCTAssertEqual(r[0], [0, -1, -2, 0])
        XCTAssertEqual(r[3], [0, 6, 7, 8])
        XCTAssertEqual(r[1][1], -4)
        // Stride 2 and dilation 2 on a 5×5 ramp: taps (0,0) and (2,2), outputs at 0 and 2:
        // x[i][j] − x[i+2][j+2] = −12.
        let ramp5: [[Double]] = (0..<5).map { y in (0..<5).map { x in Double(5 * y + x) } }
        let dilated = try evaluate(module, ["input": .matrix(ramp5), "weight": .matrix([[1, 0], [0, -1]]),
                                            "stride": .integer(2), "dilation": .integer(2)])
        XCTAssertEqual(dilated.matrix("regular"), [[-12, -12], [-12, -12]])
    }

    func testZeroOffsetsAndAUnitMaskGiveTheRegularConvolutionExactly() throws {
        var random = TestRandom(seed: 13)
        for (kh, kw, stride, padding, dilation) in [(3, 3, 1, 0, 1), (3, 3, 2, 1, 1), (2, 3, 1, 2, 2), (3, 1, 3, 1, 1), (1, 1, 1, 0, 1), (3, 2, 2, 2, 3)] {
            let input = (0..<7).map { _ in random.vector(8, in: -2...2) }
            let weight = (0..<kh).map { _ in random.vector(kw, in: -1...1) }
            let out = try evaluate(module, ["input": .matrix(input), "weight": .matrix(weight), "stride": .integer(stride),
                                            "padding": .integer(padding), "dilation": .integer(dilation),
                                            "mask": .vector([Double](repeating: 1, count: kh * kw))])
            XCTAssertEqual(out.matrix("output"), out.matrix("regular"), "\(kh)×\(kw) s\(stride) p\(padding) d\(dilation)")
            XCTAssertEqual(out.number("max_abs_diff_vs_regular"), 0)
        }
    }

    func testAUniformIntegerOffsetShiftsTheInput() throws {
        // Every tap moved by (dy, dx) reads input[y + dy][x + dx]: the regular convolution of the
        // input shifted the other way, with zeros brought in from outside.
        var random = TestRandom(seed: 19)
        let input = (0..<6).map { _ in random.vector(7, in: -2...2) }
        for (dy, dx, stride, dilation) in [(1, 0, 1, 1), (-2, 1, 1, 1), (2, 3, 2, 1), (-1, -1, 1, 2), (0, -3, 2, 2), (7, 0, 1, 1)] {
            let weight = (0..<3).map { _ in random.vector(2, in: -1...1) }
            let shifted = (0..<6).map { y in (0..<7).map { x in
                (0..<6).contains(y + dy) && (0..<7).contains(x + dx) ? input[y + dy][x + dx] : 0
            } }
            let offsets = [[Double]](repeating: [Double(dy), Double(dx)], count: 6)
            let deformed = try evaluate(module, ["input": .matrix(input), "weight": .matrix(weight), "offsets": .matrix(offsets),
                                                 "stride": .integer(stride), "dilation": .integer(dilation)])
            let plain = try evaluate(module, ["input": .matrix(shifted), "weight": .matrix(weight),
                                              "stride": .integer(stride), "dilation": .integer(dilation)])
            XCTAssertEqual(deformed.matrix("output"), plain.matrix("regular"), "shift (\(dy), \(dx))")
        }
    }

    func testTheOutputIsLinearInTheMaskTapByTap() throws {
        var random = TestRandom(seed: 37)
        let input = (0..<5).map { _ in random.vector(6, in: -2...2) }
        let weight = (0..<2).map { _ in random.vector(3, in: -1...1) }
        let offsets = (0..<6).map { _ in random.vector(2, in: -1.5...1.5) }
        let mask = random.vector(6, in: -0.5...1.5)
        func run(_ m: [Double]) throws -> [[Double]] {
            try evaluate(module, ["input": .matrix(input), "weight": .matrix(weight), "offsets": .matrix(offsets),
                                  "mask": .vector(m), "padding": .integer(1)]).matrix("output")
        }
        let full = try run(mask)
        var sum = full.map { $0.map { _ in 0.0 } }
        for t in 0..<6 {
            var oneHot = [Double](repeating: 0, count: 6)
            oneHot[t] = 1
            let part = try run(oneHot)
            for i in sum.indices { for j in sum[i].indices { sum[i][j] += mask[t] * part[i][j] } }
        }
        assertClose(full, sum, tol: 1e-13)
    }

    func testPositionsTableAndContributions() throws {
        // Padding 1, dilation 2: tap (u, v) of output (0, 0) reads (−1 + 2u + dy, −1 + 2v + dx).
        let input: [[Double]] = (0..<5).map { y in (0..<5).map { x in Double(y * y + x) } }
        let offsets: [[Double]] = [[0.5, 0.25], [-0.5, 1], [2, -3], [0, 0]]
        let weight: [[Double]] = [[1, -2], [0.5, 3]]
        let mask = [1, 0.5, 2, -1.0]
        let out = try evaluate(module, ["input": .matrix(input), "weight": .matrix(weight), "offsets": .matrix(offsets),
                                        "mask": .vector(mask), "padding": .integer(1), "dilation": .integer(2)])
        let positions = out.matrix("positions")
        let expected: [(Double, Double)] = [(-0.5, -0.75), (-1.5, 2), (3, -4), (1, 1)]
        let bilinear = DeformBilinearModule()
        for (t, row) in positions.enumerated() {
            XCTAssertEqual(row[0], Double(t))
            XCTAssertEqual(row[1], expected[t].0)
            XCTAssertEqual(row[2], expected[t].1)
            let value = try evaluate(bilinear, ["feature": .matrix(input), "y": .number(row[1]), "x": .number(row[2])]).number("value")
            XCTAssertEqual(row[3], value)
        }
        // (−1.5, 2) and (3, −4) are outside: they read 0. (1, 1) holds 1·1 + 1 = 2.
        XCTAssertEqual(positions[1][3], 0)
        XCTAssertEqual(positions[2][3], 0)
        XCTAssertEqual(positions[3][3], 2)
        let contributions = out.vector("contributions")
        assertClose(contributions[3], 3 * -1 * 2, tol: 0)
        assertClose(contributions.reduce(0, +), out.matrix("output")[0][0], tol: 1e-14)
    }

    func testAgainstTorchvision() throws {
        let fixture = try XCTUnwrap(loadFixture("deformable_conv.json") as? [String: Any])
        let maps = try XCTUnwrap(fixture["maps"] as? [String: Any]).mapValues(fixtureMatrix)
        let cases = try XCTUnwrap(fixture["conv"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 20)
        for c in cases {
            let label = c["label"] as? String ?? ""
            var values: [String: Value] = [
                "input": .matrix(try XCTUnwrap(maps[try XCTUnwrap(c["map"] as? String)])),
                "weight": .matrix(fixtureMatrix(c["weight"])),
                "offsets": .matrix(fixtureMatrix(c["offsets"])),
                "stride": .integer(try XCTUnwrap(fixtureInt(c["stride"]))),
                "padding": .integer(try XCTUnwrap(fixtureInt(c["padding"]))),
                "dilation": .integer(try XCTUnwrap(fixtureInt(c["dilation"]))),
            ]
            if c["mask"] is [Any] { values["mask"] = .vector(fixtureVector(c["mask"])) }
            let out = try evaluate(module, values)
            assertClose(out.matrix("output"), fixtureMatrix(c["output"]), tol: 1e-12, label)
            assertClose(out.matrix("regular"), fixtureMatrix(c["regular"]), tol: 1e-12, label)
        }
    }

    func testMismatchedShapesAndSizesNameTheParameter() {
        XCTAssertEqual(evaluationError(module, ["offsets": .matrix([[0, 0], [0, 0]])])?.parameter, "offsets")
        let threeColumns = [[Double]](repeating: [0, 0, 0], count: 9)
        XCTAssertEqual(evaluationError(module, ["offsets": .matrix(threeColumns)])?.parameter, "offsets")
        let wrongMask = evaluationError(module, ["mask": .vector([1, 1, 1, 1])])
        XCTAssertEqual(wrongMask?.parameter, "mask")
        XCTAssertTrue(wrongMask?.message.contains("9 taps") == true, "\(String(describing: wrongMask))")
        XCTAssertEqual(evaluationError(module, ["weight": .matrix([[1, 2], [3]])])?.parameter, "weight")
        XCTAssertEqual(evaluationError(module, ["weight": .matrix([[]])])?.parameter, "weight")
        XCTAssertEqual(evaluationError(module, ["input": .matrix([[1, 2, 3], [4, 5]])])?.parameter, "input")
        XCTAssertEqual(evaluationError(module, ["input": .matrix([[1, 2], [3, 4]])])?.parameter, "weight", "3×3 kernel on 2×2")
        XCTAssertEqual(evaluationError(module, ["dilation": .integer(3)])?.parameter, "dilation", "reach 7 on 5×5")
        // (2 − 3) / 2 + 1 truncates to 1 output row; the kernel still does not fit.
        XCTAssertEqual(evaluationError(module, ["input": .matrix([[1, 2], [3, 4]]), "stride": .integer(2)])?.parameter, "weight")
        XCTAssertEqual(evaluationError(module, ["stride": .integer(0)])?.parameter, "stride")
        XCTAssertEqual(evaluationError(module, ["padding": .integer(65)])?.parameter, "padding")
        XCTAssertEqual(evaluationError(module, ["offsets": .matrix([[Double]](repeating: [.nan, 0], count: 9))])?.parameter, "offsets")
        let big = [[Double]](repeating: [Double](repeating: 0.5, count: 256), count: 256)
        let nine = [[Double]](repeating: [Double](repeating: 1, count: 9), count: 9)
        let work = evaluationError(module, ["input": .matrix(big), "weight": .matrix(nine)])
        XCTAssertEqual(work?.parameter, "input")
        XCTAssertTrue(work?.message.contains("limit") == true)
        let tooBig = [[Double]](repeating: [Double](repeating: 0, count: 257), count: 256)
        XCTAssertEqual(evaluationError(module, ["input": .matrix(tooBig)])?.parameter, "input")
        let tooManyTaps = [[Double]](repeating: [Double](repeating: 1, count: 10), count: 9)
        XCTAssertEqual(evaluationError(module, ["weight": .matrix(tooManyTaps)])?.parameter, "weight")
    }
}
