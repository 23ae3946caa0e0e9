import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

final class RPNProposalsTests: XCTestCase {
    let module = RPNProposalsModule()

    /// Seven anchors of the stride-16 grid of a 1000×600 image, with hand-made deltas and scores.
    let anchors: [[Double]] = [
        [597, 195, 779, 285], [613, 195, 795, 285], [560, 112, 816, 368], [112, 160, 368, 416],
        [624, 224, 1136, 736], [-16, -16, 112, 112], [128, 160, 384, 416],
    ]
    let deltas: [[Double]] = [
        [0.02, 0.05, 0, 0.02], [-0.08, 0.04, -0.03, 0.05], [0, 0.02, -0.35, -1.0], [0.03, 0.04, 0.15, 0.16],
        [0, 0, 0, 0], [0, 0, -2.5, -2.5], [-0.05, 0.02, 0.1, 0.2],
    ]
    let scores: [Double] = [0.95, 0.9, 0.6, 0.92, 0.3, 0.2, 0.5]

    func testMatchesTorchvisionDecodeClipFilterAndNMS() throws {
        // Reference: torchvision 0.29 BoxCoder((1, 1, 1, 1)).decode_single, clip_boxes_to_image,
        // remove_small_boxes(·, 16) and nms(·, ·, 0.7), in float64; Fixtures/make_rpn_proposals.py
        // computes and asserts every value typed here.
        let out = try evaluate(module, [
            "anchors": .matrix(anchors), "deltas": .matrix(deltas), "scores": .vector(scores),
            "min_size": .number(16), "post_nms_top_n": .integer(2),
        ])
        let decoded: [[Double]] = [
            [600.64, 198.59093969879598, 782.64, 290.409060301204],
            [601.1294564470858, 196.2928006630789, 777.7505435529143, 290.90719933692105],
            [597.7999245160047, 198.0314315300554, 778.2000754839953, 292.2085684699446],
            [98.96521693077977, 148.0306085130483, 396.39478306922024, 448.44939148695175],
            [624.0, 224.0, 1136.0, 736.0],
            [42.746560088070474, 42.746560088070474, 53.253439911929526, 53.253439911929526],
            [101.73812248631708, 136.78044695549826, 384.6618775136829, 449.4595530445017],
        ]
        assertClose(out.matrix("decoded"), decoded, tol: 1e-9)
        var clipped = decoded
        clipped[4] = [624, 224, 1000, 600]
        assertClose(out.matrix("clipped"), clipped, tol: 1e-9)
        XCTAssertEqual(out["clipped_count"], .integer(1))
        XCTAssertEqual(out["too_small"], .integer(1))
        XCTAssertEqual(out["candidates"], .integer(6))
        // torchvision keeps [0, 3, 4]: the other car and person boxes overlap their best above 0.7.
        XCTAssertEqual(out["suppressed"], .integer(3))
        XCTAssertEqual(out.vector("fate"), [0, 3, 3, 0, 4, 1, 3])
        XCTAssertEqual(out.vector("keep"), [0, 3])
        XCTAssertEqual(out.vector("proposal_scores"), [0.95, 0.92])
        assertClose(out.matrix("proposals"), [decoded[0], decoded[3]], tol: 1e-9)
        XCTAssertEqual(out["kept"], .integer(2))
    }

    func testPreNMSTopNCutsBeforeSuppression() throws {
        let out = try evaluate(module, [
            "anchors": .matrix(anchors), "deltas": .matrix(deltas), "scores": .vector(scores),
            "min_size": .number(16), "pre_nms_top_n": .integer(2),
        ])
        // Sorted survivors of the size filter: 0 (0.95), 3 (0.92), 1, 2, 6, 4; only 0 and 3 enter NMS.
        XCTAssertEqual(out["candidates"], .integer(2))
        XCTAssertEqual(out["suppressed"], .integer(0))
        XCTAssertEqual(out.vector("fate"), [0, 2, 2, 0, 2, 1, 2])
        XCTAssertEqual(out.vector("keep"), [0, 3])
    }

    func testEncodedTargetsDecodeBackAndProposalsStayInTheImage() throws {
        var random = TestRandom(seed: 5)
        let coder = BoxCoder(weights: [1, 1, 1, 1])
        var a: [[Double]] = [], d: [[Double]] = [], gts: [Box] = []
        for _ in 0..<40 {
            let anchor = randomBox(&random, lo: 50, span: 300, maxSize: 200, minSize: 10)
            let g = randomBox(&random, lo: 50, span: 300, maxSize: 200, minSize: 10)
            let gb = Box(x1: g[0], y1: g[1], x2: g[2], y2: g[3])
            a.append(anchor)
            d.append(coder.encode(gb, relativeTo: Box(x1: anchor[0], y1: anchor[1], x2: anchor[2], y2: anchor[3])))
            gts.append(gb)
        }
        let out = try evaluate(module, [
            "anchors": .matrix(a), "deltas": .matrix(d), "scores": .vector((0..<40).map { Double(40 - $0) }),
            "iou_threshold": .number(1),
        ])
        // Every target box lies within [50, 600]², inside the 1000×600 image: nothing is clipped.
        assertClose(out.matrix("decoded"), gts.map(\.coordinates), tol: 1e-9)
        XCTAssertEqual(out["clipped_count"], .integer(0))
        XCTAssertEqual(out["kept"], .integer(40), "threshold 1 suppresses nothing but duplicates")
        // A wild network: every box is clipped into the image.
        let wild = try evaluate(module, [
            "anchors": .matrix(a), "deltas": .matrix(d.map { $0.map { 40 * $0 } }),
            "scores": .vector((0..<40).map(Double.init)),
        ])
        for box in wild.matrix("proposals") {
            XCTAssertTrue(box[0] >= 0 && box[2] <= 1000 && box[1] >= 0 && box[3] <= 600, "\(box)")
        }
    }

    func testSizeDeltasAreCappedAsInTorchvision() throws {
        // decode_single clamps dw at log(1000/16): a 16-pixel anchor grows to at most 1000 pixels.
        let out = try evaluate(module, [
            "anchors": .matrix([[0, 0, 16, 16]]), "deltas": .matrix([[0, 0, 10, -1]]), "scores": .vector([1]),
            "image": .vector([100_000, 100_000]),
        ])
        assertClose(out.matrix("decoded"), [[-492, 5.056964470628461, 508, 10.943035529371539]], tol: 1e-9)
    }

    func testMismatchedRowsAreRefusedByName() {
        XCTAssertEqual(evaluationError(module, ["deltas": .matrix([[0, 0, 0, 0]])])?.parameter, "deltas")
        XCTAssertEqual(evaluationError(module, ["scores": .vector([1])])?.parameter, "scores")
        XCTAssertEqual(evaluationError(module, ["anchors": .matrix([[0, 0, 0, 5], [0, 0, 4, 4], [1, 1, 2, 2]])])?.parameter, "anchors")
    }
}
