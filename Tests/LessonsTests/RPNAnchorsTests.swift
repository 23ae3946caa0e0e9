import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

final class RPNAnchorsTests: XCTestCase {
    let module = RPNAnchorsModule()

    func testTheFasterRCNNGridByHand() throws {
        // 1000×600 at stride 16: ceil(62.5) = 63 columns, ceil(37.5) = 38 rows, 2394 positions,
        // nine shapes each. The 128² anchor of ratio 1 is [−64, −64, 64, 64]; ratio 0.5 (wide) is
        // 128·√2 ≈ 181.02 by 128/√2 ≈ 90.51, corners ±90.51 → ±91 and ±45.25 → ±45.
        let out = try evaluate(module)
        XCTAssertEqual(out.vector("feature"), [63, 38])
        XCTAssertEqual(out["positions"], .integer(2394))
        XCTAssertEqual(out["per_position"], .integer(9))
        XCTAssertEqual(out["anchors"], .integer(21546))
        let base = out.matrix("base")
        XCTAssertEqual(base[0], [-91, -45, 91, 45])
        XCTAssertEqual(base[3], [-64, -64, 64, 64])
        XCTAssertEqual(base[6], [-45, -91, 45, 91])
        XCTAssertEqual(base[5], [-256, -256, 256, 256])
        // A 512×512 anchor fits a 600-pixel-high image only with its centre in [256, 344]:
        // rows 16…21 (centres 256…336), columns 16…46 (centres 256…736): 6·31 = 186.
        XCTAssertEqual(out.vector("inside_by_shape")[5], 186)
        let inside = try XCTUnwrap(out["inside"]?.scalar)
        XCTAssertEqual(out.vector("inside_by_shape").reduce(0, +), inside)
    }

    func testLabelsByHandOnATinyImage() throws {
        // A 4×4 image, stride 2: positions (0, 0), (2, 0), (0, 2), (2, 2); one shape, 2×2, so the
        // anchors are [−1, −1, 1, 1], [1, −1, 3, 1], [−1, 1, 1, 3], [1, 1, 3, 3]: only the last is inside.
        // gt [1, 1, 3, 3] matches it exactly (IoU 1).
        let one = try evaluate(module, ["image": .vector([4, 4]), "stride": .integer(2), "sizes": .vector([2]),
                                        "ratios": .vector([1]), "gt": .matrix([[1, 1, 3, 3]])])
        XCTAssertEqual(one["anchors"], .integer(4))
        XCTAssertEqual(one["inside"], .integer(1))
        XCTAssertEqual(one["positive"], .integer(1))
        XCTAssertEqual(one["by_threshold"], .integer(1))
        XCTAssertEqual(one.matrix("best"), [[1, 1, 3, 3, 1, 0]])
        // With the border at 1 pixel all four are kept.
        let all = try evaluate(module, ["image": .vector([4, 4]), "stride": .integer(2), "sizes": .vector([2]),
                                        "ratios": .vector([1]), "gt": .matrix([[0, 0, 2, 2]]), "border": .number(1)])
        // gt [0, 0, 2, 2] overlaps each of the four anchors in a 1×1 square: IoU 1/7 each, a four-way tie.
        XCTAssertEqual(all["inside"], .integer(4))
        XCTAssertEqual(all["positive"], .integer(4))
        XCTAssertEqual(all["best_match_only"], .integer(4))
        XCTAssertEqual(all["negative"], .integer(0))
        assertClose(all.matrix("best")[0], [-1, -1, 1, 1, 1.0 / 7, 0], tol: 1e-15)
    }

    func testThresholdsSplitTheAnchors() throws {
        // One 10×10 anchor at the origin in a 10×10 image; gt boxes chosen for IoU 0.8, 0.5, 0.2.
        func label(_ gt: [Double], positive: Double = 0.7, negative: Double = 0.3) throws -> Outputs {
            try evaluate(module, ["image": .vector([10, 10]), "stride": .integer(10), "sizes": .vector([10]),
                                  "ratios": .vector([1]), "border": .number(5), "gt": .matrix([gt, [100, 100, 110, 110]]),
                                  "positive_iou": .number(positive), "negative_iou": .number(negative)])
        }
        // Anchor [−5, −5, 5, 5]. gt [−5, −5, 5, 3] (80 of 100): IoU 0.8 → positive by threshold.
        let high = try label([-5, -5, 5, 3])
        XCTAssertEqual(high["by_threshold"], .integer(1))
        // gt [−5, −5, 5, 0] (50 inside 100): IoU 0.5. Below 0.7 yet the anchor is this gt's best: positive.
        let middle = try label([-5, -5, 5, 0])
        XCTAssertEqual(middle["best_match_only"], .integer(1))
        XCTAssertEqual(middle["by_threshold"], .integer(0))
        // The second gt [100, 100, 110, 110] overlaps no inside anchor: no best match, no positives.
        XCTAssertEqual(middle.vector("positive_per_gt"), [1, 0])
        XCTAssertEqual(middle.matrix("best")[1], [-1, -1, -1, -1, 0, -1])
        // Thresholds at 0.6/0.55 with the 0.5 box: still positive as the best match.
        XCTAssertEqual(try label([-5, -5, 5, 0], positive: 0.6, negative: 0.55)["positive"], .integer(1))
    }

    func testNoGroundTruthOverlapMeansNoPositives() throws {
        // A gt box outside every inside anchor: the best-match rule does not fire (torchvision's
        // Matcher would mark every zero-IoU anchor positive here).
        let out = try evaluate(module, ["gt": .matrix([[5000, 5000, 5100, 5100]])])
        XCTAssertEqual(out["positive"], .integer(0))
        XCTAssertEqual(out["negative"], out["inside"])
        XCTAssertEqual(out["sampled_negative"], .integer(256))
        XCTAssertEqual(out.matrix("gt"), [[5000, 5000, 5100, 5100]], "gt is echoed for later cells")
    }

    func testMinibatchCounts() throws {
        let out = try evaluate(module)
        let positive = try XCTUnwrap(out["positive"]?.scalar)
        XCTAssertLessThan(positive, 128)
        XCTAssertEqual(out["sampled_positive"]?.scalar, positive)
        XCTAssertEqual(out["sampled_negative"]?.scalar, 256 - positive)
        let many = try evaluate(module, ["positive_iou": .number(0.3), "negative_iou": .number(0.1)])
        XCTAssertGreaterThan(try XCTUnwrap(many["positive"]?.scalar), 128)
        XCTAssertEqual(many["sampled_positive"], .integer(128))
        XCTAssertEqual(many["sampled_negative"], .integer(128))
    }

    func testAgainstTorchvision() throws {
        let fixture = try XCTUnwrap(loadFixture("rpn_anchors.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 7)
        for c in cases {
            let p = try XCTUnwrap(c["params"] as? [String: Any])
            let values: [String: Value] = [
                "image": .vector(fixtureVector(p["image"])),
                "stride": .integer(try XCTUnwrap(fixtureInt(p["stride"]))),
                "sizes": .vector(fixtureVector(p["sizes"])),
                "ratios": .vector(fixtureVector(p["ratios"])),
                "gt": .matrix(fixtureMatrix(p["gt"])),
                "border": .number(try XCTUnwrap(fixtureNumber(p["border"]))),
                "positive_iou": .number(try XCTUnwrap(fixtureNumber(p["positive_iou"]))),
                "negative_iou": .number(try XCTUnwrap(fixtureNumber(p["negative_iou"]))),
                "batch": .integer(try XCTUnwrap(fixtureInt(p["batch"]))),
                "positive_fraction": .number(try XCTUnwrap(fixtureNumber(p["positive_fraction"]))),
            ]
            let out = try evaluate(module, values)
            let label = "\(fixtureVector(p["image"])) stride \(p["stride"] ?? "")"
            XCTAssertEqual(out.vector("feature"), fixtureVector(c["feature"]), label)
            XCTAssertEqual(out.matrix("base"), fixtureMatrix(c["base"]), label)
            for name in ["anchors", "inside", "positive", "by_threshold", "best_match_only", "negative", "ignored",
                         "sampled_positive", "sampled_negative"] {
                XCTAssertEqual(out[name]?.scalar, fixtureNumber(c[name]), "\(name) for \(label)")
            }
            for name in ["inside_by_shape", "positive_by_shape", "positive_per_gt"] {
                XCTAssertEqual(out.vector(name), fixtureVector(c[name]), "\(name) for \(label)")
            }
            assertClose(out.matrix("best"), fixtureMatrix(c["best"]), tol: 1e-12, label)
        }
    }

    func testBadInputsNameTheParameter() {
        XCTAssertEqual(evaluationError(module, ["negative_iou": .number(0.8)])?.parameter, "negative_iou")
        XCTAssertEqual(evaluationError(module, ["image": .vector([100_000, 100_000]), "stride": .integer(1)])?.parameter, "image")
        XCTAssertEqual(evaluationError(module, ["gt": .matrix([[0, 0, 1]])])?.parameter, "gt")
        XCTAssertEqual(evaluationError(module, ["gt": .matrix([[5, 0, 1, 1]])])?.parameter, "gt")
        XCTAssertEqual(evaluationError(module, ["ratios": .vector([0])])?.parameter, "ratios")
        XCTAssertEqual(evaluationError(module, ["image": .vector([1000])])?.parameter, "image")
    }
}
