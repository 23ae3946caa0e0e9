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

final class DeformConvPerPositionTests: XCTestCase {
    let module = DeformConvModule()

    func fixture() throws -> [String: Any] {
        try XCTUnwrap(loadFixture("deformable_conv.json") as? [String: Any])
    }

    func testOffsetAndMaskMapsAgainstTorchvisionAutograd() throws {
        let f = try fixture()
        let maps = try XCTUnwrap(f["maps"] as? [String: Any]).mapValues(fixtureMatrix)
        let cases = try XCTUnwrap(f["conv_maps"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 10)
        for c in cases {
            let label = c["label"] as? String ?? ""
            var values: [String: Value] = [
                "input": .matrix(try XCTUnwrap(maps[try XCTUnwrap(c["map"] as? String)])),
                "weight": .matrix(fixtureMatrix(c["weight"])),
                "stride": .integer(try XCTUnwrap(fixtureInt(c["stride"]))),
                "padding": .integer(try XCTUnwrap(fixtureInt(c["padding"]))),
                "dilation": .integer(try XCTUnwrap(fixtureInt(c["dilation"]))),
            ]
            if c["offset_map"] is [Any] { values["offset_map"] = .matrix(fixtureMatrix(c["offset_map"])) }
            if c["offset_weight"] is [Any] {
                values["offset_weight"] = .matrix(fixtureMatrix(c["offset_weight"]))
                values["offset_bias"] = .vector(fixtureVector(c["offset_bias"]))
            }
            let withMask = c["mask_map"] is [Any]
            if withMask { values["mask_map"] = .matrix(fixtureMatrix(c["mask_map"])) }
            let out = try evaluate(module, values)
            let expected = fixtureMatrix(c["output"])
            assertClose(out.matrix("output"), expected, tol: 1e-12, label)
            // Every output position: its offset and mask derivatives, and (predicted) its offsets.
            let gradOffset = fixtureMatrix(c["grad_offset"]), gradMask = fixtureMatrix(c["grad_mask"])
            let predicted = fixtureMatrix(c["predicted_offsets"])
            let width = expected[0].count
            for r in 0..<gradOffset.count {
                values["at"] = .vector([Double(r / width), Double(r % width)])
                let here = try evaluate(module, values)
                assertClose(here.matrix("offset_grad").flatMap { $0 }, gradOffset[r], tol: 1e-12, "\(label) at \(r)")
                if withMask { assertClose(here.vector("mask_grad"), gradMask[r], tol: 1e-12, "\(label) at \(r)") }
                if !predicted.isEmpty {
                    assertClose(here.matrix("tap_offsets").flatMap { $0 }, predicted[r], tol: 1e-12, "\(label) at \(r)")
                }
                assertClose(here.vector("contributions").reduce(0, +), expected[r / width][r % width], tol: 1e-12)
            }
        }
    }

    func testUniformOffsetGradientsAgainstTorchvisionAutograd() throws {
        let f = try fixture()
        let maps = try XCTUnwrap(f["maps"] as? [String: Any]).mapValues(fixtureMatrix)
        let cases = try XCTUnwrap(f["conv_uniform_grads"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            var values: [String: Value] = [
                "input": .matrix(try XCTUnwrap(maps[try XCTUnwrap(c["map"] as? String)])),
                "weight": .matrix(fixtureMatrix(c["weight"])),
                "offsets": .matrix(fixtureMatrix(c["offsets"])),
                "mask": .vector(fixtureVector(c["mask"])),
                "stride": .integer(try XCTUnwrap(fixtureInt(c["stride"]))),
                "padding": .integer(try XCTUnwrap(fixtureInt(c["padding"]))),
                "dilation": .integer(try XCTUnwrap(fixtureInt(c["dilation"]))),
            ]
            let expected = fixtureMatrix(c["output"])
            assertClose(try evaluate(module, values).matrix("output"), expected, tol: 1e-12)
            let gradOffset = fixtureMatrix(c["grad_offset"]), gradMask = fixtureMatrix(c["grad_mask"])
            let width = expected[0].count
            for r in 0..<gradOffset.count {
                values["at"] = .vector([Double(r / width), Double(r % width)])
                let here = try evaluate(module, values)
                assertClose(here.matrix("offset_grad").flatMap { $0 }, gradOffset[r], tol: 1e-12, "at \(r)")
                assertClose(here.vector("mask_grad"), gradMask[r], tol: 1e-12, "at \(r)")
            }
        }
    }

    func testGradientsMatchFiniteDifferencesAwayFromWholeNumbers() throws {
        // Offsets whose fractional parts stay in [0.2, 0.8]: the sample is bilinear there, so a
        // central difference of ±1e-6 is exact to rounding, and linear in the mask.
        var random = TestRandom(seed: 53)
        let input = (0..<6).map { _ in random.vector(7, in: -2...2) }
        let weight = (0..<3).map { _ in random.vector(3, in: -1...1) }
        let positions = 6 * 7  // padding 1 keeps the 6×7 grid
        var offsets = (0..<positions).map { _ in
            (0..<18).map { _ in Double(Int.random(in: -2...2, using: &random)) + Double.random(in: 0.2...0.8, using: &random) }
        }
        let mask = (0..<positions).map { _ in random.vector(9, in: 0...1) }
        func run(_ offsets: [[Double]], _ mask: [[Double]], at r: Int = 0) throws -> Outputs {
            try evaluate(module, ["input": .matrix(input), "weight": .matrix(weight), "offset_map": .matrix(offsets),
                                  "mask_map": .matrix(mask), "padding": .integer(1), "at": .vector([Double(r / 7), Double(r % 7)])])
        }
        let h = 1e-6
        for r in [0, 8, 17, 41] {
            let base = try run(offsets, mask, at: r)
            let grad = base.matrix("offset_grad").flatMap { $0 }
            for c in 0..<18 {
                offsets[r][c] += h
                let up = try run(offsets, mask).matrix("output")[r / 7][r % 7]
                offsets[r][c] -= 2 * h
                let down = try run(offsets, mask).matrix("output")[r / 7][r % 7]
                offsets[r][c] += h
                assertClose(grad[c], (up - down) / (2 * h), tol: 1e-8, "position \(r), channel \(c)")
            }
            // The output is linear in each mask: o(m = 1) − o(m = 0) is the derivative.
            let maskGrad = base.vector("mask_grad")
            for t in 0..<9 {
                var one = mask, zero = mask
                one[r][t] = 1
                zero[r][t] = 0
                let difference = try run(offsets, one).matrix("output")[r / 7][r % 7] - run(offsets, zero).matrix("output")[r / 7][r % 7]
                assertClose(maskGrad[t], difference, tol: 1e-12, "position \(r), tap \(t)")
            }
        }
    }

    func testOneSidedSlopesAtWholeNumbersAndAtTheEdges() throws {
        // One row [1, 4, 2, 7, 3, 0, 5, 1, 6], a 1×1 kernel of weight 1, every tap moved by dx:
        // output j reads x = j + dx, and ∂o/∂dx is the slope of the piece to the right of x.
        let row: [[Double]] = [[1, 4, 2, 7, 3, 0, 5, 1, 6]]
        func slope(at x: Double) throws -> Double {
            // Read with output 0 and an offset x, so every coordinate is reachable.
            try evaluate(module, ["input": .matrix(row), "weight": .matrix([[1]]), "offsets": .matrix([[0, x]])])
                .matrix("offset_grad")[0][1]
        }
        XCTAssertEqual(try slope(at: 1), 2 - 4, "right-hand at a cell")
        XCTAssertEqual(try slope(at: 1.25), 2 - 4)
        XCTAssertEqual(try slope(at: 0.75), 4 - 1)
        XCTAssertEqual(try slope(at: -1), 1, "at −1 the right-hand slope reaches into the map")
        XCTAssertEqual(try slope(at: -0.5), 1)
        XCTAssertEqual(try slope(at: -1.5), 0, "beyond one cell off the map")
        XCTAssertEqual(try slope(at: 8), -6, "at the last cell the right-hand slope points into the padding")
        XCTAssertEqual(try slope(at: 8.5), -6)
        XCTAssertEqual(try slope(at: 9), 0)
        XCTAssertEqual(try slope(at: -1e300), 0)
        // Along y on a one-row map every piece reaches padding: from y = 0 down to y = 1 it falls
        // to 0, so ∂o/∂dy = −f at y = 0, and +f just above the map.
        let down = try evaluate(module, ["input": .matrix(row), "weight": .matrix([[1]]), "offsets": .matrix([[0, 3]])])
        XCTAssertEqual(down.matrix("offset_grad")[0][0], -7)
        let above = try evaluate(module, ["input": .matrix(row), "weight": .matrix([[1]]), "offsets": .matrix([[-0.5, 3]])])
        XCTAssertEqual(above.matrix("offset_grad")[0][0], 7)
    }

    func testTheUniformFormIsTheMapWithEqualRows() throws {
        var random = TestRandom(seed: 61)
        let input = (0..<6).map { _ in random.vector(6, in: -2...2) }
        let weight = (0..<2).map { _ in random.vector(3, in: -1...1) }
        let offsets = (0..<6).map { _ in random.vector(2, in: -2...2) }
        let mask = random.vector(6, in: 0...1)
        let uniform = try evaluate(module, ["input": .matrix(input), "weight": .matrix(weight), "offsets": .matrix(offsets),
                                            "mask": .vector(mask), "stride": .integer(2), "padding": .integer(1), "at": .vector([1, 2])])
        // 6×6 padded by 1 is 8×8; a 2×3 kernel with stride 2 gives a 4×3 grid of outputs.
        let rows = [[Double]](repeating: offsets.flatMap { $0 }, count: 12)
        let masks = [[Double]](repeating: mask, count: 12)
        let map = try evaluate(module, ["input": .matrix(input), "weight": .matrix(weight), "offset_map": .matrix(rows),
                                        "mask_map": .matrix(masks), "stride": .integer(2), "padding": .integer(1), "at": .vector([1, 2])])
        for name in ["output", "positions", "tap_offsets", "offset_grad"] {
            XCTAssertEqual(uniform.matrix(name), map.matrix(name), name)
        }
        XCTAssertEqual(uniform.vector("mask_grad"), map.vector("mask_grad"))
        XCTAssertEqual(uniform.matrix("tap_offsets"), offsets)
    }

    func testAZeroOffsetBranchGivesTheRegularConvolution() throws {
        let zeros = [[Double]](repeating: [Double](repeating: 0, count: 9), count: 18)
        let out = try evaluate(module, ["offset_weight": .matrix(zeros), "padding": .integer(1)])
        XCTAssertEqual(out.matrix("output"), out.matrix("regular"))
        // A bias alone gives every position the same offsets: the uniform form.
        let bias = (0..<18).map { Double($0 % 5) * 0.25 - 0.5 }
        let biased = try evaluate(module, ["offset_weight": .matrix(zeros), "offset_bias": .vector(bias), "padding": .integer(1)])
        let offsets = (0..<9).map { [bias[2 * $0], bias[2 * $0 + 1]] }
        let uniform = try evaluate(module, ["offsets": .matrix(offsets), "padding": .integer(1)])
        XCTAssertEqual(biased.matrix("output"), uniform.matrix("output"))
    }

    func testAPredictedStretchByHand() throws {
        // A 1×3 kernel [1, −2, 1] on one row; the branch predicts s = 0.1·(right − left) of each
        // window and moves the outer taps by −s and +s. Output 0 reads the window [2, 6, 1]:
        // s = 0.1·(1 − 2) = −0.1, so the outer taps read at 0.1 and 1.9, giving 2.4 and 1.5, and
        // the output is 2.4 − 12 + 1.5 = −8.1 where the plain layer gives 2 − 12 + 1 = −9.
        let branch: [[Double]] = [[0, 0, 0], [0.1, 0, -0.1], [0, 0, 0], [0, 0, 0], [0, 0, 0], [-0.1, 0, 0.1]]
        let out = try evaluate(module, ["input": .matrix([[2, 6, 1, 0, 3]]), "weight": .matrix([[1, -2, 1]]),
                                        "offset_weight": .matrix(branch)])
        assertClose(out.matrix("tap_offsets").flatMap { $0 }, [0, 0.1, 0, 0, 0, -0.1], tol: 1e-15)
        assertClose(out.matrix("output")[0][0], -8.1, tol: 1e-12)
        XCTAssertEqual(out.matrix("regular")[0], [-9, 4, 4])
        // Output 2 reads [1, 0, 3]: s = 0.2, another shape at another position.
        let last = try evaluate(module, ["input": .matrix([[2, 6, 1, 0, 3]]), "weight": .matrix([[1, -2, 1]]),
                                         "offset_weight": .matrix(branch), "at": .vector([0, 2])])
        assertClose(last.matrix("tap_offsets").flatMap { $0 }, [0, -0.2, 0, 0, 0, 0.2], tol: 1e-15)
    }

    func testAUniformOffsetUnderStrideTwoIsASubStridePhase() throws {
        // The referee's counterexample: the Laplacian with stride 2, padding 1, every tap moved one
        // row down, reads the stride-1 layer's rows 1 and 3 (at columns 0, 2, 4), which the plain
        // stride-2 layer (rows 0, 2, 4) never computes.
        let dense = try evaluate(module, ["padding": .integer(1)]).matrix("regular")
        let down = [[Double]](repeating: [1, 0], count: 9)
        let strided = try evaluate(module, ["padding": .integer(1), "stride": .integer(2), "offsets": .matrix(down)])
        XCTAssertEqual(strided.matrix("output")[0], [dense[1][0], dense[1][2], dense[1][4]])
        XCTAssertEqual(strided.matrix("output")[1], [dense[3][0], dense[3][2], dense[3][4]])
        XCTAssertEqual(strided.matrix("regular")[1], [dense[2][0], dense[2][2], dense[2][4]])
        XCTAssertEqual(strided.matrix("output")[0], [-13, -18, -3])
    }

    func testConflictingAndMisshapenPerPositionInputsNameTheParameter() {
        let zeros18 = [[Double]](repeating: [Double](repeating: 0, count: 9), count: 18)
        let map = [[Double]](repeating: [Double](repeating: 0, count: 18), count: 9)
        XCTAssertEqual(evaluationError(module, ["offsets": .matrix([[Double]](repeating: [0, 0], count: 9)), "offset_map": .matrix(map)])?.parameter, "offset_map")
        XCTAssertEqual(evaluationError(module, ["offset_map": .matrix(map), "offset_weight": .matrix(zeros18)])?.parameter, "offset_weight")
        XCTAssertEqual(evaluationError(module, ["offset_bias": .vector([Double](repeating: 0, count: 18))])?.parameter, "offset_bias")
        XCTAssertEqual(evaluationError(module, ["offset_weight": .matrix(zeros18), "offset_bias": .vector([0, 0])])?.parameter, "offset_bias")
        XCTAssertEqual(evaluationError(module, ["offset_weight": .matrix([[Double]](repeating: [0, 0, 0], count: 18))])?.parameter, "offset_weight")
        // 5×5 with a 3×3 kernel and no padding: a 3×3 grid, so 9 rows; padding 1 needs 25.
        let wrongRows = evaluationError(module, ["offset_map": .matrix(map), "padding": .integer(1)])
        XCTAssertEqual(wrongRows?.parameter, "offset_map")
        XCTAssertTrue(wrongRows?.message.contains("25×18") == true, "\(String(describing: wrongRows))")
        XCTAssertEqual(evaluationError(module, ["mask_map": .matrix([[Double]](repeating: [1, 1], count: 9))])?.parameter, "mask_map")
        XCTAssertEqual(evaluationError(module, ["mask": .vector([Double](repeating: 1, count: 9)), "mask_map": .matrix([[Double]](repeating: [Double](repeating: 1, count: 9), count: 9))])?.parameter, "mask_map")
        XCTAssertEqual(evaluationError(module, ["at": .vector([3, 0])])?.parameter, "at")
        XCTAssertEqual(evaluationError(module, ["at": .vector([0, 0.5])])?.parameter, "at")
        XCTAssertEqual(evaluationError(module, ["at": .vector([0])])?.parameter, "at")
        XCTAssertEqual(evaluationError(module, ["offset_map": .matrix([[Double]](repeating: [Double](repeating: .nan, count: 18), count: 9))])?.parameter, "offset_map")
    }
}

final class DeformRoIPoolTests: XCTestCase {
    let module = DeformRoIPoolModule()

    func testAgainstTheOperatorTransliterationAndTorch() throws {
        let f = try XCTUnwrap(loadFixture("deformable_conv.json") as? [String: Any])
        let features = try XCTUnwrap(f["roi_features"] as? [String: Any]).mapValues(fixtureMatrix)
        let cases = try XCTUnwrap(f["roi_deform"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 8)
        var torchChecked = 0
        for c in cases {
            let label = c["label"] as? String ?? ""
            let out = try evaluate(module, [
                "feature": .matrix(try XCTUnwrap(features[try XCTUnwrap(c["feature"] as? String)])),
                "box": .vector(fixtureVector(c["box"])),
                "scale": .number(try XCTUnwrap(fixtureNumber(c["scale"]))),
                "size": .integer(try XCTUnwrap(fixtureInt(c["size"]))),
                "offsets": .matrix(fixtureMatrix(c["offsets"])),
                "gamma": .number(try XCTUnwrap(fixtureNumber(c["gamma"]))),
                "sample_per_part": .integer(try XCTUnwrap(fixtureInt(c["sample_per_part"]))),
            ])
            assertClose(out.matrix("pooled"), fixtureMatrix(c["pooled"]), tol: 1e-12, label)
            XCTAssertEqual(out.matrix("count"), fixtureMatrix(c["count"]), label)
            assertClose(out.matrix("offset_grad"), fixtureMatrix(c["offset_grad"]), tol: 1e-12, label)
            assertClose(out.vector("roi"), fixtureVector(c["roi"]), tol: 1e-12, label)
            assertClose(out.number("roi_width"), try XCTUnwrap(fixtureNumber(c["roi_width"])), tol: 1e-12, label)
            assertClose(out.number("roi_height"), try XCTUnwrap(fixtureNumber(c["roi_height"])), tol: 1e-12, label)
            if c["torch_pooled"] is [Any] {
                torchChecked += 1
                assertClose(out.matrix("pooled"), fixtureMatrix(c["torch_pooled"]), tol: 1e-12, label)
                assertClose(out.matrix("offset_grad"), fixtureMatrix(c["torch_offset_grad"]), tol: 1e-12, label)
            }
        }
        XCTAssertEqual(torchChecked, 3)
    }

    func testARampShowsTheShiftAsAFractionOfTheBox() throws {
        // On f(y, x) = x a kept, unclamped sample reads its own x, so pooled − pooled_plain is the
        // bin's horizontal shift, γ·dx̂·roi_width, and the same dx̂ moves a box twice as wide twice
        // as far: the same fraction of either box.
        let ramp: [[Double]] = (0..<12).map { _ in (0..<12).map(Double.init) }
        func pool(_ box: [Double]) throws -> Outputs {
            try evaluate(module, ["feature": .matrix(ramp), "box": .vector(box), "size": .integer(1),
                                  "sample_per_part": .integer(2), "offsets": .matrix([[0, 1]])])
        }
        let small = try pool([2, 2, 5, 5]), big = try pool([2, 2, 9, 9])
        XCTAssertEqual(small.number("roi_width"), 4)
        XCTAssertEqual(big.number("roi_width"), 8)
        // Samples of the small box at 1.5 and 3.5 before the shift: mean 2.5, then 2.5 + 0.4.
        assertClose(small.matrix("pooled_plain")[0][0], 2.5, tol: 1e-12)
        assertClose(small.matrix("pooled")[0][0] - small.matrix("pooled_plain")[0][0], 0.1 * 4, tol: 1e-12)
        assertClose(big.matrix("pooled")[0][0] - big.matrix("pooled_plain")[0][0], 0.1 * 8, tol: 1e-12)
        assertClose(small.matrix("shifts")[0], [0, 0.4], tol: 1e-15)
        // The gradient is γ·roi_width times the slope 1, and 0 along y on this map.
        assertClose(small.matrix("offset_grad")[0], [0, 0.4], tol: 1e-12)
        assertClose(big.matrix("offset_grad")[0], [0, 0.8], tol: 1e-12)
    }

    func testSkippedSamplesLeaveTheAverage() throws {
        // A 2×2 box at the top-left corner of a 4×4 map of ones pushed up by one box height·γ·dŷ:
        // samples more than half a cell above the map are skipped, the rest clamped, so the bin
        // averages only what it kept: still 1, where a zero-padded mean would be smaller.
        let ones = [[Double]](repeating: [1, 1, 1, 1], count: 4)
        let out = try evaluate(module, ["feature": .matrix(ones), "box": .vector([0, 0, 1, 1]), "size": .integer(1),
                                        "sample_per_part": .integer(2), "gamma": .number(0.5), "offsets": .matrix([[-0.5, 0]])])
        // roi starts at −0.5, height 2, shift −0.5: samples at y = −1 (skipped) and y = 0 (kept).
        XCTAssertEqual(out.matrix("count"), [[2]])
        XCTAssertEqual(out.matrix("pooled"), [[1]])
        XCTAssertEqual(out.matrix("samples").map { $0[2] }, [0, 0, 1, 1])
        // Nothing kept: 0.
        let gone = try evaluate(module, ["feature": .matrix(ones), "box": .vector([0, 0, 1, 1]), "size": .integer(1),
                                         "gamma": .number(1), "offsets": .matrix([[-5, 0]])])
        XCTAssertEqual(gone.matrix("count"), [[0]])
        XCTAssertEqual(gone.matrix("pooled"), [[0]])
        XCTAssertEqual(gone.matrix("offset_grad"), [[0, 0]])
    }

    func testZeroOffsetsGiveThePlainPoolingAndBadInputNamesTheParameter() throws {
        let out = try evaluate(module, [:])
        XCTAssertEqual(out.matrix("pooled"), out.matrix("pooled_plain"))
        XCTAssertEqual(out.vector("roi"), [0.5, 0.5, 4.5, 4.5])
        XCTAssertEqual(out.matrix("samples").count, 16)
        XCTAssertEqual(evaluationError(module, ["offsets": .matrix([[0, 0]])])?.parameter, "offsets")
        XCTAssertEqual(evaluationError(module, ["offsets": .matrix([[Double]](repeating: [0, 0, 0], count: 4))])?.parameter, "offsets")
        XCTAssertEqual(evaluationError(module, ["box": .vector([3, 0, 1, 2])])?.parameter, "box")
        XCTAssertEqual(evaluationError(module, ["size": .integer(17)])?.parameter, "size")
        XCTAssertEqual(evaluationError(module, ["gamma": .number(-1)])?.parameter, "gamma")
    }
}
