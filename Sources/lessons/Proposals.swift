import Foundation
import NotebookCore

// From anchors to proposals: the inference path of Faster R-CNN's region proposal network
// (Ren et al., 2015, sec. 3.3), in the order of py-faster-rcnn's `proposal_layer`. The predicted
// deltas are decoded onto their anchors, the boxes are clipped to the image, boxes narrower or
// shorter than `min_size` are dropped, the rest are sorted by objectness and the best
// `pre_nms_top_n` go through greedy NMS, of which the best `post_nms_top_n` are the proposals.
// torchvision's `RegionProposalNetwork.filter_proposals` takes the pre-NMS top-N before it clips
// and filters; the two orders differ only when a dropped box was among the top N.

/// The RPN's proposal stage for a list of anchors with their predicted deltas and scores.
struct ProposalStage {
    /// torchvision's cap on dw and dh before the exponential, log(1000/16).
    static let maxLogRatio = log(1000.0 / 16)

    /// Each anchor's deltas applied to it (dw, dh capped), before and after clipping.
    let decoded: [Box]
    let clipped: [Box]
    /// Per anchor: 0 a proposal, 1 too small, 2 below the pre-NMS top-N, 3 suppressed by NMS,
    /// 4 survived NMS but below the post-NMS top-N.
    let fate: [Int]
    /// The proposals' anchor indices, best score first.
    let keep: [Int]
    /// Boxes entering NMS, and boxes NMS removed.
    let candidates: Int
    let suppressed: Int

    init(anchors: [Box], deltas: [[Double]], scores: [Double], imageWidth: Double, imageHeight: Double,
         weights: [Double], minSize: Double, preNMSTopN: Int, iouThreshold: Double, postNMSTopN: Int) {
        let coder = BoxCoder(weights: weights)
        let decoded = zip(anchors, deltas).map { anchor, d in
            var capped = d
            capped[2] = Swift.min(d[2], weights[2] * Self.maxLogRatio)
            capped[3] = Swift.min(d[3], weights[3] * Self.maxLogRatio)
            return coder.decode(capped, relativeTo: anchor)
        }
        func clamp(_ v: Double, _ hi: Double) -> Double { Swift.min(Swift.max(v, 0), hi) }
        let clipped = decoded.map {
            Box(x1: clamp($0.x1, imageWidth), y1: clamp($0.y1, imageHeight),
                x2: clamp($0.x2, imageWidth), y2: clamp($0.y2, imageHeight))
        }
        var fate = [Int](repeating: 0, count: anchors.count)
        var big: [Int] = []
        for (i, b) in clipped.enumerated() {
            if b.width >= minSize && b.height >= minSize { big.append(i) } else { fate[i] = 1 }
        }
        // A stable sort by decreasing score, as GreedyNMS orders its boxes.
        let ranked = big.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        for i in ranked.dropFirst(preNMSTopN) { fate[i] = 2 }
        let top = Array(ranked.prefix(preNMSTopN))
        let nms = GreedyNMS(boxes: top.map { clipped[$0] }, scores: top.map { scores[$0] }, threshold: iouThreshold)
        let survivors = nms.keep.map { top[$0] }
        for (j, i) in top.enumerated() where nms.suppressedBy[j] != nil { fate[i] = 3 }
        for i in survivors.dropFirst(postNMSTopN) { fate[i] = 4 }
        keep = Array(survivors.prefix(postNMSTopN))
        self.clipped = clipped
        self.decoded = decoded
        candidates = top.count
        suppressed = top.count - survivors.count
        self.fate = fate
    }
}

/// `rpn.proposals`: decode, clip, filter, top-N, NMS, top-N.
public struct RPNProposalsModule: ComputeModule {
    public init() {}
    public let name = "rpn.proposals"
    public let summary = "RPN proposals: deltas decoded onto anchors, clipped, small boxes dropped, top-N by score, NMS, top-N."
    static let maxAnchors = 500
    private static let coordinates = NumberRange.closed(-boxCoordinateLimit, boxCoordinateLimit)
    public let parameters: [ParameterSpec] = [
        .matrix("anchors", [[0, 0, 64, 64], [8, 0, 72, 64], [100, 100, 228, 228]], range: coordinates,
                maxElements: 4 * maxAnchors,
                doc: "n×4 anchors [x1, y1, x2, y2], width and height > 0 (at most 500)"),
        .matrix("deltas", [[0, 0, 0, 0], [-0.1, 0, 0, 0], [0, 0, -0.2, 0.1]], range: .closed(-1e3, 1e3),
                maxElements: 4 * maxAnchors,
                doc: "n×4 predicted [tx, ty, tw, th], one row per anchor"),
        .vector("scores", [0.9, 0.8, 0.7], range: .closed(-1e300, 1e300), maxElements: maxAnchors,
                doc: "objectness per anchor; higher is better"),
        .vector("image", [1000, 600], range: .closed(1, 100_000), minElements: 2, maxElements: 2,
                doc: "[width, height]: boxes are clipped to [0, width] × [0, height]"),
        .vector("weights", [1, 1, 1, 1], range: .closed(1e-6, 1e6), minElements: 4, maxElements: 4,
                doc: "(wx, wy, ww, wh) dividing the deltas, as in box.encode; the RPN uses (1, 1, 1, 1)"),
        .number("min_size", 1e-3, range: .closed(0, 1e6),
                doc: "a clipped box narrower or shorter than this is dropped (torchvision 1e-3; py-faster-rcnn 16 at scale 1)"),
        .integer("pre_nms_top_n", 6000, range: .closed(1, 1_000_000), doc: "best-scoring boxes that enter NMS"),
        .number("iou_threshold", 0.7, range: .unit, doc: "NMS drops a box whose IoU with a kept box is above this"),
        .integer("post_nms_top_n", 300, range: .closed(1, 1_000_000), doc: "best-scoring NMS survivors kept as proposals"),
    ]
    public let outputs: [OutputSpec] = [
        .init("decoded", .matrix, hint: .table, doc: "n×4: each anchor's deltas applied to it (dw, dh capped at ww·log(1000/16), wh·log(1000/16)), before clipping"),
        .init("clipped", .matrix, hint: .table, doc: "n×4: the decoded boxes clipped to the image"),
        .init("clipped_count", .integer, doc: "boxes that clipping changed"),
        .init("too_small", .integer, doc: "clipped boxes with width or height below min_size, dropped"),
        .init("candidates", .integer, doc: "boxes entering NMS: the best pre_nms_top_n of those left"),
        .init("suppressed", .integer, doc: "candidates NMS removed"),
        .init("fate", .vector, doc: "per anchor: 0 proposal, 1 too small, 2 below the pre-NMS top-N, 3 suppressed by NMS, 4 below the post-NMS top-N"),
        .init("keep", .vector, doc: "anchor indices (0-based) of the proposals, best score first"),
        .init("proposals", .matrix, hint: .table, doc: "the proposals [x1, y1, x2, y2], in the order of keep"),
        .init("proposal_scores", .vector, doc: "their scores, in the order of keep"),
        .init("kept", .integer, doc: "how many proposals: min(NMS survivors, post_nms_top_n)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let anchors = try checkedBoxes(inputs.matrix("anchors"), parameter: "anchors")
        for (i, a) in anchors.enumerated() where !(a.width > 0 && a.height > 0) {
            throw .invalid("anchors", "row \(i) has width \(NumberText.shortest(a.width)) and height \(NumberText.shortest(a.height)); both must be > 0 because the deltas scale them")
        }
        let deltas = try inputs.matrix("deltas")
        guard deltas[0].count == 4 else {
            throw .invalid("deltas", "has \(deltas[0].count) columns; each row is [tx, ty, tw, th]")
        }
        guard deltas.count == anchors.count else {
            throw .invalid("deltas", "has \(deltas.count) rows but anchors has \(anchors.count); give one row per anchor")
        }
        let scores = try inputs.vector("scores")
        guard scores.count == anchors.count else {
            throw .invalid("scores", "has \(scores.count) entries but anchors has \(anchors.count) rows; give one score per anchor")
        }
        let image = try inputs.vector("image")
        let stage = ProposalStage(
            anchors: anchors, deltas: deltas, scores: scores, imageWidth: image[0], imageHeight: image[1],
            weights: try inputs.vector("weights"), minSize: try inputs.number("min_size"),
            preNMSTopN: try inputs.integer("pre_nms_top_n"), iouThreshold: try inputs.number("iou_threshold"),
            postNMSTopN: try inputs.integer("post_nms_top_n"))
        return [
            "decoded": .matrix(stage.decoded.map(\.coordinates)),
            "clipped": .matrix(stage.clipped.map(\.coordinates)),
            "clipped_count": .integer(zip(stage.decoded, stage.clipped).filter { $0 != $1 }.count),
            "too_small": .integer(stage.fate.filter { $0 == 1 }.count),
            "candidates": .integer(stage.candidates),
            "suppressed": .integer(stage.suppressed),
            "fate": .vector(stage.fate.map(Double.init)),
            "keep": .vector(stage.keep.map(Double.init)),
            "proposals": .matrix(stage.keep.map { stage.clipped[$0].coordinates }),
            "proposal_scores": .vector(stage.keep.map { scores[$0] }),
            "kept": .integer(stage.keep.count),
        ]
    }
}
