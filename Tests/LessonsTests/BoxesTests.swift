import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// A whole number read from a fixture.
func fixtureInt(_ any: Any?) -> Int? {
    fixtureNumber(any).flatMap { Int(exactly: $0) }
}

/// A random box [x1, y1, x2, y2] with x1 ≤ x2, y1 ≤ y2 inside [lo, lo + span + maxSize].
func randomBox(_ random: inout TestRandom, lo: Double = -10, span: Double = 20, maxSize: Double = 12,
               minSize: Double = 0) -> [Double] {
    let x1 = Double.random(in: lo...(lo + span), using: &random), y1 = Double.random(in: lo...(lo + span), using: &random)
    let w = Double.random(in: minSize...maxSize, using: &random), h = Double.random(in: minSize...maxSize, using: &random)
    return [x1, y1, x1 + w, y1 + h]
}

final class BoxIoUTests: XCTestCase {
    let module = BoxIoUModule()

    func testOverlapNestedTouchingAndEmptyByHand() throws {
        let out = try evaluate(module, [
            "a": .matrix([[0, 0, 4, 4]]),
            "b": .matrix([[2, 2, 6, 6], [1, 1, 2, 2], [4, 0, 8, 4], [4, 4, 5, 5], [0, 0, 4, 4], [3, 3, 3, 9]]),
        ])
        // [2,2,6,6]: the overlap is [2,4]×[2,4], area 4; union 16 + 16 − 4 = 28, IoU 1/7.
        // [1,1,2,2] lies inside: intersection 1, union 16, IoU 1/16.
        // [4,0,8,4] shares an edge and [4,4,5,5] a corner: intersection 0, IoU 0.
        // The same box: IoU 1. A zero-width box inside: intersection 0, union 16, IoU 0.
        XCTAssertEqual(out.matrix("intersection"), [[4, 1, 0, 0, 16, 0]])
        XCTAssertEqual(out.matrix("union"), [[28, 16, 32, 17, 16, 16]])
        assertClose(out.matrix("iou"), [[1.0 / 7, 1.0 / 16, 0, 0, 1, 0]], tol: 1e-16)
        XCTAssertEqual(out.vector("area_a"), [16])
        XCTAssertEqual(out.vector("area_b"), [16, 1, 16, 1, 16, 0])
    }

    func testTwoEmptyBoxesHaveIoUZeroNotNaN() throws {
        // 0/0: torchvision gives NaN; box.iou's contract says 0 where the union is 0.
        let out = try evaluate(module, ["a": .vector([1, 1, 1, 1]), "b": .vector([1, 1, 1, 1])])
        XCTAssertEqual(out.matrix("iou"), [[0]])
        XCTAssertEqual(out.matrix("union"), [[0]])
    }

    func testIoUIsSymmetricOneOnTheDiagonalAndWithinTheUnitInterval() throws {
        var random = TestRandom(seed: 11)
        let a = (0..<12).map { _ in randomBox(&random, minSize: 0.01) }
        let b = (0..<9).map { _ in randomBox(&random) }
        let ab = try evaluate(module, ["a": .matrix(a), "b": .matrix(b)]).matrix("iou")
        let ba = try evaluate(module, ["a": .matrix(b), "b": .matrix(a)]).matrix("iou")
        let aa = try evaluate(module, ["a": .matrix(a), "b": .matrix(a)]).matrix("iou")
        for i in a.indices {
            XCTAssertEqual(aa[i][i], 1, "IoU(a, a) for box \(i)")
            for j in b.indices {
                XCTAssertEqual(ab[i][j], ba[j][i], "symmetry at \(i), \(j)")
                XCTAssertTrue((0...1).contains(ab[i][j]), "\(ab[i][j]) outside [0, 1]")
            }
        }
        XCTAssertTrue(ab.joined().contains { $0 > 0 } && ab.joined().contains(0), "the draw should mix overlaps and misses")
    }

    func testIoUAgreesWithAFineGridCount() throws {
        // Boxes on a 1/8 grid: count the 1/8-cells each covers, brute force.
        var random = TestRandom(seed: 5)
        for _ in 0..<20 {
            let a = (0..<4).map { _ in Double(Int.random(in: 0...40, using: &random)) / 8 }
            let b = (0..<4).map { _ in Double(Int.random(in: 0...40, using: &random)) / 8 }
            let boxA = [min(a[0], a[2]), min(a[1], a[3]), max(a[0], a[2]), max(a[1], a[3])]
            let boxB = [min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3])]
            func covers(_ box: [Double], _ i: Int, _ j: Int) -> Bool {
                let x = (Double(i) + 0.5) / 8, y = (Double(j) + 0.5) / 8
                return x > box[0] && x < box[2] && y > box[1] && y < box[3]
            }
            var inter = 0, union = 0
            for i in 0..<40 { for j in 0..<40 {
                let ca = covers(boxA, i, j), cb = covers(boxB, i, j)
                if ca && cb { inter += 1 }
                if ca || cb { union += 1 }
            } }
            let out = try evaluate(module, ["a": .vector(boxA), "b": .vector(boxB)])
            XCTAssertEqual(out.matrix("intersection")[0][0], Double(inter) / 64)
            XCTAssertEqual(out.matrix("iou")[0][0], union == 0 ? 0 : Double(inter) / Double(union), accuracy: 1e-15)
        }
    }

    func testAgainstTorchvision() throws {
        let fixture = try XCTUnwrap(loadFixture("faster_rcnn.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["iou"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 6)
        for c in cases {
            let out = try evaluate(module, ["a": .matrix(fixtureMatrix(c["a"])), "b": .matrix(fixtureMatrix(c["b"]))])
            assertClose(out.matrix("iou"), fixtureMatrix(c["iou"]), tol: 1e-12)
            assertClose(out.matrix("intersection"), fixtureMatrix(c["intersection"]), tol: 1e-12)
            assertClose(out.matrix("union"), fixtureMatrix(c["union"]), tol: 1e-12)
            assertClose(out.vector("area_a"), fixtureVector(c["area_a"]), tol: 1e-12)
            assertClose(out.vector("area_b"), fixtureVector(c["area_b"]), tol: 1e-12)
        }
    }

    func testBadBoxesNameTheParameter() {
        let flipped = evaluationError(module, ["a": .matrix([[0, 0, 1, 1], [3, 0, 2, 1]])])
        XCTAssertEqual(flipped?.parameter, "a")
        XCTAssertTrue(flipped?.message.contains("x2 < x1 (row 1)") == true, "\(String(describing: flipped))")
        XCTAssertEqual(evaluationError(module, ["b": .vector([0, 2, 1, 1])])?.parameter, "b")
        XCTAssertEqual(evaluationError(module, ["b": .matrix([[0, 0, 1]])])?.parameter, "b")
        XCTAssertEqual(evaluationError(module, ["a": .matrix([[0, 0, .nan, 1]])])?.parameter, "a")
        XCTAssertEqual(evaluationError(module, ["a": .matrix([[0, 0, 1e13, 1]])])?.parameter, "a")
        let many = [[Double]](repeating: [0, 0, 1, 1], count: 501)
        XCTAssertEqual(evaluationError(module, ["b": .matrix(many)])?.parameter, "b")
    }
}

final class BoxEncodeTests: XCTestCase {
    let module = BoxEncodeModule()

    func testDeltasByHand() throws {
        // anchor [0,0,10,20]: centre (5, 10), size 10×20. gt [2,4,14,20]: centre (8, 12), size 12×16.
        // tx = 3/10, ty = 2/20, tw = log(12/10), th = log(16/20).
        let out = try evaluate(module, ["anchor": .vector([0, 0, 10, 20]), "gt": .vector([2, 4, 14, 20])])
        assertClose(out.vector("deltas"), [0.3, 0.1, log(1.2), log(0.8)], tol: 1e-15)
        XCTAssertEqual(out.vector("anchor_centre"), [5, 10, 10, 20])
        XCTAssertEqual(out.vector("gt_centre"), [8, 12, 12, 16])
        assertClose(out.vector("decoded"), [2, 4, 14, 20], tol: 1e-14)
        // The box head's weights (10, 10, 5, 5) scale each delta.
        let head = try evaluate(module, ["anchor": .vector([0, 0, 10, 20]), "gt": .vector([2, 4, 14, 20]),
                                         "weights": .vector([10, 10, 5, 5])])
        assertClose(head.vector("deltas"), [3, 1, 5 * log(1.2), 5 * log(0.8)], tol: 1e-14)
        assertClose(head.vector("decoded"), [2, 4, 14, 20], tol: 1e-14)
    }

    func testTheSameBoxHasZeroDeltas() throws {
        let out = try evaluate(module, ["anchor": .vector([-3, 1.5, 7.25, 4]), "gt": .vector([-3, 1.5, 7.25, 4])])
        XCTAssertEqual(out.vector("deltas"), [0, 0, 0, 0])
    }

    func testDecodeInvertsEncodeAndDeltasIgnoreShiftAndScale() throws {
        var random = TestRandom(seed: 3)
        for _ in 0..<50 {
            let anchor = randomBox(&random, lo: -100, span: 200, maxSize: 80, minSize: 1)
            let gt = randomBox(&random, lo: -100, span: 200, maxSize: 80, minSize: 1)
            let weights = random.vector(4, in: 0.5...10)
            let out = try evaluate(module, ["anchor": .vector(anchor), "gt": .vector(gt), "weights": .vector(weights)])
            assertClose(out.vector("decoded"), gt, tol: 1e-11)
            XCTAssertLessThan(out.number("max_abs_decode_error"), 1e-11)
            // Moving both boxes together, or scaling both about the origin, leaves the deltas alone.
            let shift = Double.random(in: -50...50, using: &random), k = Double.random(in: 0.25...4, using: &random)
            let moved = try evaluate(module, ["anchor": .vector(anchor.map { $0 + shift }), "gt": .vector(gt.map { $0 + shift }),
                                              "weights": .vector(weights)])
            let scaled = try evaluate(module, ["anchor": .vector(anchor.map { $0 * k }), "gt": .vector(gt.map { $0 * k }),
                                               "weights": .vector(weights)])
            assertClose(moved.vector("deltas"), out.vector("deltas"), tol: 1e-10)
            assertClose(scaled.vector("deltas"), out.vector("deltas"), tol: 1e-12)
        }
    }

    func testAgainstTorchvisionBoxCoder() throws {
        let fixture = try XCTUnwrap(loadFixture("faster_rcnn.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["encode"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 27)
        for c in cases {
            let out = try evaluate(module, ["anchor": .vector(fixtureVector(c["anchor"])), "gt": .vector(fixtureVector(c["gt"])),
                                            "weights": .vector(fixtureVector(c["weights"]))])
            assertClose(out.vector("deltas"), fixtureVector(c["deltas"]), tol: 1e-12)
            assertClose(out.vector("decoded"), fixtureVector(c["decoded"]), tol: 1e-12)
        }
    }

    func testDegenerateAndMisshapenBoxesNameTheParameter() {
        XCTAssertEqual(evaluationError(module, ["anchor": .vector([0, 0, 0, 5])])?.parameter, "anchor")
        XCTAssertEqual(evaluationError(module, ["gt": .vector([0, 3, 4, 3])])?.parameter, "gt")
        XCTAssertEqual(evaluationError(module, ["gt": .vector([5, 0, 4, 3])])?.parameter, "gt")
        XCTAssertEqual(evaluationError(module, ["anchor": .vector([0, 0, 1])])?.parameter, "anchor")
        XCTAssertEqual(evaluationError(module, ["gt": .vector([0, 0, 1, 1, 2])])?.parameter, "gt")
        XCTAssertEqual(evaluationError(module, ["weights": .vector([1, 1, 0, 1])])?.parameter, "weights")
        XCTAssertEqual(evaluationError(module, ["weights": .vector([1, 1, 1])])?.parameter, "weights")
    }
}

final class BoxNMSTests: XCTestCase {
    let module = BoxNMSModule()

    func testTwoClustersByHand() throws {
        // Visit order by score: 3 (0.95), 0 (0.9), 1 (0.8), 2 (0.7), 4 (0.6).
        // Keep 3 = [0,2,10,12]. IoU with 0 = [0,0,10,10]: overlap 10×8 = 80, union 200 − 80 = 120,
        // 2/3 > 0.5: dropped. With 1 = [1,1,11,11]: overlap 9×9 = 81, union 119, 0.68: dropped.
        // With 2 = [20,20,30,30]: 0, so 2 is kept next; it drops 4 = [21,19,31,29] (81/119).
        let out = try evaluate(module, [:])
        XCTAssertEqual(out.vector("order"), [3, 0, 1, 2, 4])
        XCTAssertEqual(out.vector("keep"), [3, 2])
        XCTAssertEqual(out.vector("suppressed_by"), [3, 3, -1, -1, 2])
        XCTAssertEqual(out.matrix("kept_boxes"), [[0, 2, 10, 12], [20, 20, 30, 30]])
        XCTAssertEqual(out["kept"], .integer(2))
        assertClose(out.matrix("iou")[3][0], 2.0 / 3, tol: 1e-16)
        assertClose(out.matrix("iou")[3][1], 81.0 / 119, tol: 1e-16)
    }

    func testThresholdIsStrictAndTiesKeepInputOrder() throws {
        // IoU([0,0,2,1], [1,0,3,1]) = 1/3 exactly as computed: not above a threshold of 1/3.
        let kept = try evaluate(module, ["boxes": .matrix([[0, 0, 2, 1], [1, 0, 3, 1]]), "scores": .vector([0.9, 0.8]),
                                         "iou_threshold": .number(1.0 / 3)])
        XCTAssertEqual(kept.vector("keep"), [0, 1])
        let dropped = try evaluate(module, ["boxes": .matrix([[0, 0, 2, 1], [1, 0, 3, 1]]), "scores": .vector([0.9, 0.8]),
                                            "iou_threshold": .number(0.33)])
        XCTAssertEqual(dropped.vector("keep"), [0])
        let ties = try evaluate(module, ["boxes": .matrix([[0, 0, 1, 1], [5, 5, 6, 6], [0, 0, 1, 1]]),
                                         "scores": .vector([1, 1, 1])])
        XCTAssertEqual(ties.vector("order"), [0, 1, 2])
        XCTAssertEqual(ties.vector("keep"), [0, 1])
        XCTAssertEqual(ties.vector("suppressed_by"), [-1, -1, 0])
    }

    func testGreedyInvariantsOnRandomClusters() throws {
        var random = TestRandom(seed: 23)
        for threshold in [0.0, 0.2, 0.5, 0.8, 1.0] {
            let boxes = (0..<40).map { _ in randomBox(&random, lo: 0, span: 30, maxSize: 10, minSize: 2) }
            let scores = random.vector(40, in: 0...1)
            let out = try evaluate(module, ["boxes": .matrix(boxes), "scores": .vector(scores),
                                            "iou_threshold": .number(threshold)])
            let keep = out.vector("keep").map { Int($0) }, by = out.vector("suppressed_by").map { Int($0) }
            let iou = out.matrix("iou")
            // Kept boxes come best first and never overlap each other above the threshold.
            XCTAssertEqual(keep.map { scores[$0] }, keep.map { scores[$0] }.sorted(by: >))
            for (p, i) in keep.enumerated() { for j in keep[(p + 1)...] { XCTAssertLessThanOrEqual(iou[i][j], threshold) } }
            // Every other box was dropped by a better kept box it overlaps above the threshold,
            // and no earlier kept box would already have dropped it.
            for j in boxes.indices where !keep.contains(j) {
                let i = by[j]
                XCTAssertTrue(keep.contains(i), "box \(j) dropped by \(i), which is not kept")
                XCTAssertGreaterThan(iou[i][j], threshold)
                XCTAssertGreaterThanOrEqual(scores[i], scores[j])
                let before = keep.prefix { $0 != i }
                XCTAssertTrue(before.allSatisfy { iou[$0][j] <= threshold }, "box \(j) should have gone to an earlier box")
            }
            for i in keep { XCTAssertEqual(by[i], -1) }
            if threshold == 1 { XCTAssertEqual(keep.count, 40, "IoU never exceeds 1") }
        }
    }

    func testAgainstTorchvision() throws {
        let fixture = try XCTUnwrap(loadFixture("faster_rcnn.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["nms"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 8)
        for c in cases {
            let out = try evaluate(module, ["boxes": .matrix(fixtureMatrix(c["boxes"])), "scores": .vector(fixtureVector(c["scores"])),
                                            "iou_threshold": .number(try XCTUnwrap(fixtureNumber(c["iou_threshold"])))])
            XCTAssertEqual(out.vector("keep"), fixtureVector(c["keep"]))
        }
    }

    func testMismatchedScoresAndBadBoxesNameTheParameter() {
        XCTAssertEqual(evaluationError(module, ["scores": .vector([1, 2])])?.parameter, "scores")
        XCTAssertEqual(evaluationError(module, ["boxes": .matrix([[0, 0, 1, 1], [2, 2, 1, 3]]), "scores": .vector([1, 2])])?.parameter, "boxes")
        XCTAssertEqual(evaluationError(module, ["iou_threshold": .number(1.5)])?.parameter, "iou_threshold")
        XCTAssertEqual(evaluationError(module, ["scores": .vector([1, .nan, 1, 1, 1])])?.parameter, "scores")
    }
}
