import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// The 6×6 map whose cell (y, x) holds 6y + x, so a flat index is also the value there.
let ramp6: [[Double]] = (0..<6).map { y in (0..<6).map { x in Double(6 * y + x) } }

/// The named feature maps of faster_rcnn.json.
func roiFixtureMaps(_ fixture: [String: Any]) throws -> [String: [[Double]]] {
    let maps = try XCTUnwrap(fixture["maps"] as? [String: Any])
    return maps.mapValues(fixtureMatrix)
}

final class RoIPoolTests: XCTestCase {
    let module = RoIPoolModule()

    func testDefaultBoxByHand() throws {
        // box [0.6, 1.2, 4.3, 3.9] rounds to [1, 1, 4, 4]: 4×4 cells, bins of 2, so the bins are
        // rows [1,3) and [3,5) by columns [1,3) and [3,5) of the default map:
        //   rows 1–2, cols 1–2: 9 8 / 12 6  → 12 at (2,1), flat 13
        //   rows 1–2, cols 3–4: 3 2 / 5 14  → 14 at (2,4), flat 16
        //   rows 3–4, cols 1–2: 2 11 / 1 2  → 11 at (3,2), flat 20
        //   rows 3–4, cols 3–4: 10 7 / 13 4 → 13 at (4,3), flat 27
        let out = try evaluate(module, [:])
        XCTAssertEqual(out.matrix("pooled"), [[12, 14], [11, 13]])
        XCTAssertEqual(out.matrix("argmax"), [[13, 16], [20, 27]])
        XCTAssertEqual(out.vector("roi"), [1, 1, 4, 4])
        XCTAssertEqual(out.vector("roi_exact"), [0.6, 1.2, 4.3, 3.9])
        assertClose(out.vector("quantisation_error"), [0.4, -0.2, -0.3, 0.1], tol: 1e-15)
        assertClose(out.number("max_quantisation_error"), 0.4, tol: 1e-15)
        XCTAssertEqual(out["roi_height"], .integer(4))
        XCTAssertEqual(out["roi_width"], .integer(4))
        XCTAssertEqual(out.number("bin_height"), 2)
        XCTAssertEqual(out.matrix("bins"), [[0, 0, 1, 3, 1, 3, 4], [0, 1, 1, 3, 3, 5, 4],
                                            [1, 0, 3, 5, 1, 3, 4], [1, 1, 3, 5, 3, 5, 4]])
        XCTAssertEqual(out["empty_bins"], .integer(0))
    }

    func testABoxSmallerThanABinGetsOverlappingBins() throws {
        // [2.2, 2.4, 2.6, 2.9] rounds to [2, 2, 3, 3]: 2 cells a side, 3 bins of 2/3 cell.
        // Bin edges: [floor(0), ceil(2/3)) = [0, 1), [floor(2/3), ceil(4/3)) = [0, 2),
        // [floor(4/3), ceil(2)) = [1, 2), offset by 2: rows [2,3), [2,4), [3,4). Cells repeat.
        let out = try evaluate(module, ["feature": .matrix(ramp6), "box": .vector([2.2, 2.4, 2.6, 2.9]), "size": .integer(3)])
        XCTAssertEqual(out.vector("roi"), [2, 2, 3, 3])
        assertClose(out.number("bin_height"), 2.0 / 3, tol: 1e-16)
        let rows = [[2.0, 3], [2, 4], [3, 4]]
        for (k, bin) in out.matrix("bins").enumerated() {
            XCTAssertEqual(Array(bin[2...5]), rows[k / 3] + rows[k % 3], "bin \(k)")
        }
        // On the ramp the max of a bin is its bottom-right cell: rows end at 2, 3, 3 and columns too.
        XCTAssertEqual(out.matrix("pooled"), [[14, 15, 15], [20, 21, 21], [20, 21, 21]])
        XCTAssertEqual(out.matrix("argmax"), out.matrix("pooled"))
    }

    func testCornersOnHalvesRoundAwayFromZero() throws {
        // [5, 1, 10, 3] × 0.5 = [2.5, 0.5, 5, 1.5] → [3, 1, 5, 2];
        // [−1, −5, 3, 3] × 0.5 = [−0.5, −2.5, 1.5, 1.5] → [−1, −3, 2, 2].
        let a = try evaluate(module, ["feature": .matrix(ramp6), "box": .vector([5, 1, 10, 3]), "scale": .number(0.5)])
        XCTAssertEqual(a.vector("roi"), [3, 1, 5, 2])
        XCTAssertEqual(a.vector("quantisation_error"), [0.5, 0.5, 0, 0.5])
        let b = try evaluate(module, ["feature": .matrix(ramp6), "box": .vector([-1, -5, 3, 3]), "scale": .number(0.5)])
        XCTAssertEqual(b.vector("roi"), [-1, -3, 2, 2])
    }

    func testABoxPastEveryEdgeIsClippedAndOneOutsideIsEmpty() throws {
        // [−3, −3, 9, 9]: 13 cells a side, bins of 6.5: rows [floor(0) − 3, ceil(6.5) − 3) = [−3, 4)
        // and [6 − 3, 13 − 3) = [3, 10), clipped to [0, 4) and [3, 6). On the ramp each bin's max
        // is its last cell: (3,3) = 21, (3,5) = 23, (5,3) = 33, (5,5) = 35.
        let big = try evaluate(module, ["feature": .matrix(ramp6), "box": .vector([-3, -3, 9, 9])])
        XCTAssertEqual(big.matrix("pooled"), [[21, 23], [33, 35]])
        XCTAssertEqual(big.matrix("bins").map { Array($0[2...5]) }, [[0, 4, 0, 4], [0, 4, 3, 6], [3, 6, 0, 4], [3, 6, 3, 6]])
        let outside = try evaluate(module, ["feature": .matrix(ramp6), "box": .vector([7, 7, 12, 12]), "size": .integer(3)])
        XCTAssertEqual(outside.matrix("pooled"), [[Double]](repeating: [0, 0, 0], count: 3))
        XCTAssertEqual(outside.matrix("argmax"), [[Double]](repeating: [-1, -1, -1], count: 3))
        XCTAssertEqual(outside["empty_bins"], .integer(9))
        // A bin that is empty gives 0 even when every cell of the map is negative.
        let negative = ramp6.map { $0.map { -1 - $0 } }
        let partly = try evaluate(module, ["feature": .matrix(negative), "box": .vector([4, 4, 8, 8])])
        XCTAssertEqual(partly.matrix("pooled"), [[-29, 0], [0, 0]])
        XCTAssertEqual(partly.matrix("argmax"), [[28, -1], [-1, -1]])
    }

    func testEqualMaximaReportTheFirstInRowMajorOrder() throws {
        let flat = [[Double]](repeating: [Double](repeating: 2, count: 4), count: 4)
        let out = try evaluate(module, ["feature": .matrix(flat), "box": .vector([0, 0, 3, 3])])
        // Bins start at rows and columns 0 and 2: the first cell of each.
        XCTAssertEqual(out.matrix("argmax"), [[0, 2], [8, 10]])
    }

    func testPooledIsTheMaxOverTheReportedBinsBruteForce() throws {
        var random = TestRandom(seed: 41)
        for _ in 0..<30 {
            let h = Int.random(in: 1...9, using: &random), w = Int.random(in: 1...9, using: &random)
            let feature = (0..<h).map { _ in random.vector(w, in: -5...5) }
            let box = randomBox(&random, lo: -4, span: 12, maxSize: 10)
            let size = Int.random(in: 1...5, using: &random)
            let out = try evaluate(module, ["feature": .matrix(feature), "box": .vector(box), "size": .integer(size)])
            let pooled = out.matrix("pooled").joined().map { $0 }, argmax = out.matrix("argmax").joined().map { Int($0) }
            for (k, bin) in out.matrix("bins").enumerated() {
                let cells = (Int(bin[2])..<Int(bin[3])).flatMap { y in (Int(bin[4])..<Int(bin[5])).map { x in (y, x) } }
                XCTAssertEqual(Double(cells.count), bin[6])
                if let best = cells.max(by: { feature[$0.0][$0.1] < feature[$1.0][$1.1] }) {
                    XCTAssertEqual(pooled[k], feature[best.0][best.1])
                    XCTAssertEqual(argmax[k], best.0 * w + best.1)
                } else {
                    XCTAssertEqual(pooled[k], 0)
                    XCTAssertEqual(argmax[k], -1)
                }
            }
        }
    }

    func testAgainstTorchvision() throws {
        let fixture = try XCTUnwrap(loadFixture("faster_rcnn.json") as? [String: Any])
        let maps = try roiFixtureMaps(fixture)
        let cases = try XCTUnwrap(fixture["roi_pool"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 124)
        for c in cases {
            let feature = try XCTUnwrap(maps[try XCTUnwrap(c["map"] as? String)])
            let out = try evaluate(module, ["feature": .matrix(feature), "box": .vector(fixtureVector(c["box"])),
                                            "scale": .number(try XCTUnwrap(fixtureNumber(c["scale"]))),
                                            "size": .integer(try XCTUnwrap(fixtureInt(c["size"])))])
            let label = "\(c["map"] ?? "") \(c["box"] ?? "") size \(c["size"] ?? "")"
            assertClose(out.matrix("pooled"), fixtureMatrix(c["pooled"]), tol: 1e-12, label)
            XCTAssertEqual(out.matrix("argmax"), fixtureMatrix(c["argmax"]), label)
        }
    }

    func testBadInputNamesTheParameter() {
        let flipped = evaluationError(module, ["box": .vector([4, 1, 2, 3])])
        XCTAssertEqual(flipped?.parameter, "box")
        XCTAssertTrue(flipped?.message.contains("x2 < x1") == true)
        XCTAssertEqual(evaluationError(module, ["box": .vector([1, 4, 2, 3])])?.parameter, "box")
        XCTAssertEqual(evaluationError(module, ["box": .vector([1, 1, 2])])?.parameter, "box")
        XCTAssertEqual(evaluationError(module, ["box": .vector([0, 0, 2e6, 1])])?.parameter, "box")
        XCTAssertEqual(evaluationError(module, ["scale": .number(1e300)])?.parameter, "scale")
        XCTAssertEqual(evaluationError(module, ["scale": .number(0)])?.parameter, "scale")
        XCTAssertEqual(evaluationError(module, ["size": .integer(0)])?.parameter, "size")
        XCTAssertEqual(evaluationError(module, ["size": .integer(33)])?.parameter, "size")
        XCTAssertEqual(evaluationError(module, ["feature": .matrix([[1, 2], [3]])])?.parameter, "feature")
        XCTAssertEqual(evaluationError(module, ["feature": .matrix([[]])])?.parameter, "feature")
        XCTAssertEqual(evaluationError(module, ["feature": .matrix([[1, .nan]])])?.parameter, "feature")
        XCTAssertEqual(evaluationError(module, ["feature": .matrix([[1, 1e31]])])?.parameter, "feature")
        let tooBig = [[Double]](repeating: [Double](repeating: 0, count: 256), count: 257)
        XCTAssertEqual(evaluationError(module, ["feature": .matrix(tooBig)])?.parameter, "feature")
    }
}

final class RoIAlignTests: XCTestCase {
    let module = RoIAlignModule()

    func testALinearMapPoolsToTheBinCentres() throws {
        // Bilinear interpolation reproduces 6y + x exactly away from the edges, and the samples of
        // a bin are symmetric about its centre, so each bin's mean is 6·cy + cx.
        // box [1, 1, 4, 4], aligned: [0.5, 3.5] a side, bins of 1.5 with centres 1.25 and 2.75.
        for samplingRatio in [0, 1, 2, 3, 4] {
            let out = try evaluate(module, ["feature": .matrix(ramp6), "box": .vector([1, 1, 4, 4]),
                                            "sampling_ratio": .integer(samplingRatio)])
            assertClose(out.matrix("pooled"), [[7 * 1.25, 6 * 1.25 + 2.75], [6 * 2.75 + 1.25, 7 * 2.75]], tol: 1e-13,
                        "sampling_ratio \(samplingRatio)")
            XCTAssertEqual(out.vector("roi"), [0.5, 0.5, 3.5, 3.5])
            XCTAssertEqual(out.number("bin_height"), 1.5)
        }
        // Not aligned: [1, 4] a side, centres 1.75 and 3.25.
        let plain = try evaluate(module, ["feature": .matrix(ramp6), "box": .vector([1, 1, 4, 4]), "aligned": .bool(false)])
        assertClose(plain.matrix("pooled"), [[7 * 1.75, 6 * 1.75 + 3.25], [6 * 3.25 + 1.75, 7 * 3.25]], tol: 1e-13)
    }

    func testAdaptiveGridAndSamplesOfTheFirstBin() throws {
        // box [−0.9, 2, 4.3, 3.5], aligned: x in [−1.4, 3.8], width 5.2, so with size 2 there are
        // ceil(2.6) = 3 samples across; y in [1.5, 3], height 1.5: ceil(0.75) = 1 sample down.
        let out = try evaluate(module, ["feature": .matrix(ramp6), "box": .vector([-0.9, 2, 4.3, 3.5]),
                                        "sampling_ratio": .integer(0)])
        XCTAssertEqual(out["grid_width"], .integer(3))
        XCTAssertEqual(out["grid_height"], .integer(1))
        XCTAssertEqual(out["count"], .integer(3))
        let samples = out.matrix("samples")
        XCTAssertEqual(samples.count, 3)
        // Bin (0,0) spans x in [−1.4, 1.2]: samples at −1.4 + (i + 0.5)·2.6/3 = −0.967, −0.1, 0.767;
        // y at 1.5 + 0.5·0.75 = 1.875. The two negative x are kept (≥ −1) and clamped to 0.
        for (i, s) in samples.enumerated() {
            assertClose(s[0], 1.875, tol: 1e-14)
            assertClose(s[1], -1.4 + (Double(i) + 0.5) * 2.6 / 3, tol: 1e-14)
            assertClose(s[2...5].reduce(0, +), 1, tol: 1e-15, "weights of a kept sample sum to 1")
            assertClose(s[6], 6 * 1.875 + max(s[1], 0), tol: 1e-13)
        }
        XCTAssertEqual(samples.filter { $0[1] < 0 }.count, 2)
        assertClose(out.matrix("pooled")[0][0], samples.map { $0[6] }.reduce(0, +) / 3, tol: 1e-14)
    }

    func testSamplesOnTheKeepOrDropBoundary() throws {
        // size 1, one sample at the box centre. Not aligned, [−2,−2,0,0] puts it at (−1, −1):
        // kept (only y < −1 is dropped) and clamped to (0, 0), which holds 0 on the ramp plus 100.
        let map = ramp6.map { $0.map { $0 + 100 } }
        func sample(_ box: [Double], aligned: Bool) throws -> Double {
            try evaluate(module, ["feature": .matrix(map), "box": .vector(box), "size": .integer(1),
                                  "sampling_ratio": .integer(1), "aligned": .bool(aligned)]).matrix("pooled")[0][0]
        }
        XCTAssertEqual(try sample([-2, -2, 0, 0], aligned: false), 100)
        XCTAssertEqual(try sample([-2, -2, 0, 0], aligned: true), 0, "centre at −1.5: dropped")
        XCTAssertEqual(try sample([-1.5, -1.5, 0.5, 0.5], aligned: true), 100, "centre at −1: kept")
        // Centre at y = x = H = 6: kept, clamped to the last cell (5, 5) = 135; at 6.5 dropped.
        XCTAssertEqual(try sample([5, 5, 7, 7], aligned: false), 135)
        XCTAssertEqual(try sample([5.5, 5.5, 7.5, 7.5], aligned: true), 135)
        XCTAssertEqual(try sample([5.5, 5.5, 7.5, 7.5], aligned: false), 0)
    }

    func testTinyBoxesAreOneCellWhenNotAlignedAndEmptyWhenAlignedAndAdaptive() throws {
        // Not aligned, a 0.4×0.5 box is stretched to 1×1 from its top-left corner.
        let plain = try evaluate(module, ["feature": .matrix(ramp6), "box": .vector([2.2, 2.4, 2.6, 2.9]),
                                          "size": .integer(1), "sampling_ratio": .integer(1), "aligned": .bool(false)])
        XCTAssertEqual(plain.number("bin_width"), 1)
        assertClose(plain.matrix("pooled"), [[6 * 2.9 + 2.7]], tol: 1e-13)
        // A point box with adaptive sampling has an empty grid: no samples, pooled 0 (count stays 1).
        let point = try evaluate(module, ["feature": .matrix(ramp6), "box": .vector([3, 3, 3, 3]), "sampling_ratio": .integer(0)])
        XCTAssertEqual(point["grid_height"], .integer(0))
        XCTAssertEqual(point["count"], .integer(1))
        XCTAssertEqual(point.matrix("pooled"), [[0, 0], [0, 0]])
        XCTAssertEqual(point.matrix("samples"), [])
    }

    func testAgainstTorchvision() throws {
        let fixture = try XCTUnwrap(loadFixture("faster_rcnn.json") as? [String: Any])
        let maps = try roiFixtureMaps(fixture)
        let cases = try XCTUnwrap(fixture["roi_align"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 992)
        for c in cases {
            let feature = try XCTUnwrap(maps[try XCTUnwrap(c["map"] as? String)])
            let aligned = try XCTUnwrap(c["aligned"] as? Bool)
            let out = try evaluate(module, ["feature": .matrix(feature), "box": .vector(fixtureVector(c["box"])),
                                            "scale": .number(try XCTUnwrap(fixtureNumber(c["scale"]))),
                                            "size": .integer(try XCTUnwrap(fixtureInt(c["size"]))),
                                            "sampling_ratio": .integer(try XCTUnwrap(fixtureInt(c["sampling_ratio"]))),
                                            "aligned": .bool(aligned)])
            let label = "\(c["map"] ?? "") \(c["box"] ?? "") size \(c["size"] ?? "") ratio \(c["sampling_ratio"] ?? "") aligned \(aligned)"
            assertClose(out.matrix("pooled"), fixtureMatrix(c["pooled"]), tol: 1e-12, label)
        }
    }

    func testBadInputNamesTheParameter() {
        XCTAssertEqual(evaluationError(module, ["box": .vector([4, 1, 2, 3])])?.parameter, "box")
        XCTAssertEqual(evaluationError(module, ["box": .vector([1, 1, 2, 0.5])])?.parameter, "box")
        XCTAssertEqual(evaluationError(module, ["sampling_ratio": .integer(-1)])?.parameter, "sampling_ratio")
        XCTAssertEqual(evaluationError(module, ["sampling_ratio": .integer(17)])?.parameter, "sampling_ratio")
        XCTAssertEqual(evaluationError(module, ["feature": .matrix([[1, 2, 3], [4, 5]])])?.parameter, "feature")
        XCTAssertEqual(evaluationError(module, ["scale": .number(-0.5)])?.parameter, "scale")
        // Adaptive sampling of a 10⁵-cell box would need 10¹⁰ samples.
        let huge = evaluationError(module, ["box": .vector([0, 0, 1e5, 1e5]), "size": .integer(1), "sampling_ratio": .integer(0)])
        XCTAssertEqual(huge?.parameter, "box")
        XCTAssertTrue(huge?.message.contains("limit") == true)
    }
}
