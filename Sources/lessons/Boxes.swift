import Foundation
import NotebookCore

// Boxes as Faster R-CNN uses them (Ren et al., 2015): [x1, y1, x2, y2] with width x2 − x1 and
// height y2 − y1 (torchvision's convention; no "+1" as in the original Caffe code).
// Intersection over union scores how well two boxes overlap, the box coder turns a ground-truth
// box into the regression targets of an anchor, and greedy non-maximum suppression keeps the
// best of a cluster of overlapping detections. The arithmetic follows torchvision's
// `box_iou`, `BoxCoder.encode_single`/`decode_single` and `nms` operation by operation.

/// Coordinates are kept within ±1e12 so that every area and difference is finite and exact
/// enough to mean something.
let boxCoordinateLimit = 1e12

/// An axis-aligned box [x1, y1, x2, y2] with x1 ≤ x2 and y1 ≤ y2.
struct Box: Equatable {
    var x1, y1, x2, y2: Double

    var width: Double { x2 - x1 }
    var height: Double { y2 - y1 }
    var area: Double { width * height }
    /// x1 + w/2, as torchvision's box coder writes it.
    var centreX: Double { x1 + 0.5 * width }
    var centreY: Double { y1 + 0.5 * height }

    var coordinates: [Double] { [x1, y1, x2, y2] }

    /// The area both boxes cover (0 when they are apart or only touch).
    func intersection(_ other: Box) -> Double {
        let w = Swift.max(0, Swift.min(x2, other.x2) - Swift.max(x1, other.x1))
        let h = Swift.max(0, Swift.min(y2, other.y2) - Swift.max(y1, other.y1))
        return w * h
    }

    /// Intersection over union; 0 when the union is 0 (two empty boxes).
    func iou(_ other: Box) -> Double {
        let inter = intersection(other)
        let union = area + other.area - inter
        return union > 0 ? inter / union : 0
    }
}

/// Reads rows of `[x1, y1, x2, y2]`, refusing a row whose corners are the wrong way round.
func checkedBoxes(_ rows: [[Double]], parameter: String) throws(ComputeError) -> [Box] {
    guard rows[0].count == 4 else {
        throw .invalid(parameter, "has \(rows[0].count) columns; each box is one row [x1, y1, x2, y2]")
    }
    var boxes: [Box] = []
    boxes.reserveCapacity(rows.count)
    for (i, r) in rows.enumerated() {
        let box = Box(x1: r[0], y1: r[1], x2: r[2], y2: r[3])
        let label = rows.count == 1 ? "" : " (row \(i))"
        guard box.x2 >= box.x1 else {
            throw .invalid(parameter, "has x2 < x1\(label): \(NumberText.shortest(box.x2)) < \(NumberText.shortest(box.x1)); a box is [x1, y1, x2, y2] with x1 ≤ x2")
        }
        guard box.y2 >= box.y1 else {
            throw .invalid(parameter, "has y2 < y1\(label): \(NumberText.shortest(box.y2)) < \(NumberText.shortest(box.y1)); a box is [x1, y1, x2, y2] with y1 ≤ y2")
        }
        boxes.append(box)
    }
    return boxes
}

private let coordinateRange = NumberRange.closed(-boxCoordinateLimit, boxCoordinateLimit)

// MARK: - IoU

/// `box.iou`: every pairwise intersection over union between two sets of boxes.
public struct BoxIoUModule: ComputeModule {
    public init() {}
    public let name = "box.iou"
    public let summary = "Pairwise intersection over union of two sets of boxes [x1, y1, x2, y2]."
    /// 500 boxes a side keeps each n×m table at a quarter of a million entries.
    static let maxBoxes = 500
    public let parameters: [ParameterSpec] = [
        .matrix("a", [[0, 0, 4, 4], [2, 2, 6, 6]], range: coordinateRange, maxElements: 4 * maxBoxes,
                doc: "boxes, n×4 rows [x1, y1, x2, y2] (a vector is one box; at most 500)"),
        .matrix("b", [[1, 1, 5, 5], [4, 0, 8, 2], [10, 10, 12, 12]], range: coordinateRange, maxElements: 4 * maxBoxes,
                doc: "boxes, m×4 rows [x1, y1, x2, y2] (a vector is one box; at most 500)"),
    ]
    public let outputs: [OutputSpec] = [
        .init("iou", .matrix, hint: .table, doc: "n×m: intersection / union, in [0, 1]; 0 where the union is 0"),
        .init("intersection", .matrix, hint: .table, doc: "n×m: area covered by both boxes"),
        .init("union", .matrix, hint: .table, doc: "n×m: area_a + area_b − intersection"),
        .init("area_a", .vector, doc: "(x2 − x1)·(y2 − y1) of each box of a"),
        .init("area_b", .vector, doc: "(x2 − x1)·(y2 − y1) of each box of b"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let a = try checkedBoxes(inputs.matrix("a"), parameter: "a")
        let b = try checkedBoxes(inputs.matrix("b"), parameter: "b")
        let intersection = a.map { p in b.map { p.intersection($0) } }
        let union = a.indices.map { i in b.indices.map { j in a[i].area + b[j].area - intersection[i][j] } }
        // The same arithmetic as Box.iou, from the tables already built.
        let iou = zip(intersection, union).map { zip($0, $1).map { $1 > 0 ? $0 / $1 : 0 } }
        return [
            "iou": .matrix(iou),
            "intersection": .matrix(intersection),
            "union": .matrix(union),
            "area_a": .vector(a.map(\.area)),
            "area_b": .vector(b.map(\.area)),
        ]
    }
}

// MARK: - Box coder

/// Faster R-CNN's box parametrisation of a ground-truth box relative to an anchor.
struct BoxCoder {
    /// (wx, wy, ww, wh): torchvision's detectors use (1, 1, 1, 1) for the RPN and
    /// (10, 10, 5, 5) for the box head.
    let weights: [Double]

    /// (tx, ty, tw, th): the centre offset in anchor widths and heights, and the log size ratios.
    func encode(_ gt: Box, relativeTo anchor: Box) -> [Double] {
        [weights[0] * (gt.centreX - anchor.centreX) / anchor.width,
         weights[1] * (gt.centreY - anchor.centreY) / anchor.height,
         weights[2] * log(gt.width / anchor.width),
         weights[3] * log(gt.height / anchor.height)]
    }

    /// The box the deltas describe: the exact inverse of ``encode(_:relativeTo:)``.
    ///
    /// torchvision's `decode_single` also clamps dw and dh at log(1000/16) before the exponential;
    /// this one does not, so that decode(encode(gt)) = gt holds for every pair a lesson tries.
    func decode(_ deltas: [Double], relativeTo anchor: Box) -> Box {
        let cx = deltas[0] / weights[0] * anchor.width + anchor.centreX
        let cy = deltas[1] / weights[1] * anchor.height + anchor.centreY
        let halfW = 0.5 * (exp(deltas[2] / weights[2]) * anchor.width)
        let halfH = 0.5 * (exp(deltas[3] / weights[3]) * anchor.height)
        return Box(x1: cx - halfW, y1: cy - halfH, x2: cx + halfW, y2: cy + halfH)
    }
}

/// `box.encode`: the regression targets (tx, ty, tw, th) of a ground-truth box for an anchor.
public struct BoxEncodeModule: ComputeModule {
    public init() {}
    public let name = "box.encode"
    public let summary = "Box regression targets: centre offsets in anchor units and log size ratios, decoded back."
    public let parameters: [ParameterSpec] = [
        .vector("anchor", [0, 0, 10, 20], range: coordinateRange, minElements: 4, maxElements: 4,
                doc: "the anchor (or proposal) [x1, y1, x2, y2]; width and height must be > 0"),
        .vector("gt", [2, 4, 14, 20], range: coordinateRange, minElements: 4, maxElements: 4,
                doc: "the ground-truth box [x1, y1, x2, y2]; width and height must be > 0"),
        .vector("weights", [1, 1, 1, 1], range: .closed(1e-6, 1e6), minElements: 4, maxElements: 4,
                doc: "(wx, wy, ww, wh) scaling the four deltas; the box head uses (10, 10, 5, 5)"),
    ]
    public let outputs: [OutputSpec] = [
        .init("deltas", .vector, doc: "[tx, ty, tw, th] = [wx·(cx_g − cx_a)/w_a, wy·(cy_g − cy_a)/h_a, ww·log(w_g/w_a), wh·log(h_g/h_a)]"),
        .init("decoded", .vector, doc: "the deltas applied back to the anchor: gt again, up to rounding"),
        .init("anchor_centre", .vector, doc: "[cx, cy, w, h] of the anchor, cx = x1 + w/2"),
        .init("gt_centre", .vector, doc: "[cx, cy, w, h] of the ground-truth box"),
        .init("max_abs_decode_error", .number, doc: "largest |decoded − gt| over the four coordinates"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let anchor = try checkedBoxes([inputs.vector("anchor")], parameter: "anchor")[0]
        let gt = try checkedBoxes([inputs.vector("gt")], parameter: "gt")[0]
        for (box, parameter) in [(anchor, "anchor"), (gt, "gt")] where !(box.width > 0 && box.height > 0) {
            let why = parameter == "anchor" ? "the deltas divide by its width and height" : "tw and th are logs of its width and height"
            throw .invalid(parameter, "has width \(NumberText.shortest(box.width)) and height \(NumberText.shortest(box.height)); both must be > 0 because \(why)")
        }
        let coder = BoxCoder(weights: try inputs.vector("weights"))
        let deltas = coder.encode(gt, relativeTo: anchor)
        let decoded = coder.decode(deltas, relativeTo: anchor)
        let error = zip(decoded.coordinates, gt.coordinates).map { abs($0 - $1) }.max() ?? 0
        return [
            "deltas": .vector(deltas),
            "decoded": .vector(decoded.coordinates),
            "anchor_centre": .vector([anchor.centreX, anchor.centreY, anchor.width, anchor.height]),
            "gt_centre": .vector([gt.centreX, gt.centreY, gt.width, gt.height]),
            "max_abs_decode_error": .number(error),
        ]
    }
}

// MARK: - Non-maximum suppression

/// Greedy non-maximum suppression: the highest-scoring box left is kept, and every box left
/// whose IoU with it is above the threshold is dropped.
struct GreedyNMS {
    /// Indices of the kept boxes, best score first.
    let keep: [Int]
    /// For each box, the kept box that suppressed it, or nil for a kept box.
    let suppressedBy: [Int?]
    /// Every index, best score first; equal scores keep their input order (a stable sort,
    /// as torchvision's `nms` uses).
    let order: [Int]

    init(boxes: [Box], scores: [Double], threshold: Double) {
        order = boxes.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        var suppressedBy = [Int?](repeating: nil, count: boxes.count)
        var done = [Bool](repeating: false, count: boxes.count)
        var keep: [Int] = []
        for (rank, i) in order.enumerated() where !done[i] {
            keep.append(i)
            for j in order[(rank + 1)...] where !done[j] && boxes[i].iou(boxes[j]) > threshold {
                done[j] = true
                suppressedBy[j] = i
            }
        }
        self.keep = keep
        self.suppressedBy = suppressedBy
    }
}

/// `box.nms`: greedy non-maximum suppression over scored boxes.
public struct BoxNMSModule: ComputeModule {
    public init() {}
    public let name = "box.nms"
    public let summary = "Greedy non-maximum suppression: keep the best box, drop those overlapping it above the IoU threshold, repeat."
    /// n² IoUs at most; 500 boxes is a quarter of a million.
    static let maxBoxes = 500
    public let parameters: [ParameterSpec] = [
        .matrix("boxes", [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 2, 10, 12], [21, 19, 31, 29]],
                range: coordinateRange, maxElements: 4 * maxBoxes,
                doc: "n×4 rows [x1, y1, x2, y2] (at most 500)"),
        .vector("scores", [0.9, 0.8, 0.7, 0.95, 0.6], range: .closed(-1e300, 1e300), maxElements: maxBoxes,
                doc: "one score per box; higher is better"),
        .number("iou_threshold", 0.5, range: .unit, doc: "a box is dropped when its IoU with a kept box is above this"),
    ]
    public let outputs: [OutputSpec] = [
        .init("keep", .vector, doc: "indices (0-based) of the kept boxes, best score first"),
        .init("suppressed_by", .vector, doc: "per box: the index of the kept box that dropped it, −1 for a kept box"),
        .init("order", .vector, doc: "every index by decreasing score (ties in input order): the order boxes are visited"),
        .init("kept_boxes", .matrix, hint: .table, doc: "the kept boxes, in the order of keep"),
        .init("iou", .matrix, hint: .table, doc: "n×n IoU between the boxes, the numbers compared to the threshold"),
        .init("kept", .integer, doc: "how many boxes survive"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let boxes = try checkedBoxes(inputs.matrix("boxes"), parameter: "boxes")
        let scores = try inputs.vector("scores")
        guard scores.count == boxes.count else {
            throw .invalid("scores", "has \(scores.count) entries but boxes has \(boxes.count) rows; give one score per box")
        }
        let nms = GreedyNMS(boxes: boxes, scores: scores, threshold: try inputs.number("iou_threshold"))
        return [
            "keep": .vector(nms.keep.map(Double.init)),
            "suppressed_by": .vector(nms.suppressedBy.map { Double($0 ?? -1) }),
            "order": .vector(nms.order.map(Double.init)),
            "kept_boxes": .matrix(nms.keep.map { boxes[$0].coordinates }),
            "iou": .matrix(boxes.map { p in boxes.map { p.iou($0) } }),
            "kept": .integer(nms.keep.count),
        ]
    }
}
