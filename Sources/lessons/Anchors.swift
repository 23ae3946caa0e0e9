import Foundation
import NotebookCore

// The anchors of Faster R-CNN's region proposal network (Ren et al., 2015) and their labels.
//
// Every position of a stride-s feature map carries k = |sizes|·|ratios| anchor boxes. Their
// shapes follow torchvision's `AnchorGenerator.generate_anchors` (aspect ratio = height/width,
// w = size/√ratio, h = size·√ratio, corners ±w/2, ±h/2 rounded half to even), and they sit at
// (x·s, y·s) as in its `grid_anchors`. Training then follows the paper (sec. 3.1.2, 3.3) and
// py-faster-rcnn's `anchor_target_layer`: anchors that cross the image boundary are ignored;
// among the rest an anchor is positive when its IoU with some ground-truth box is ≥ the positive
// threshold, or when it is a highest-IoU anchor of some ground-truth box (ties included),
// negative when its best IoU is below the negative threshold, and ignored otherwise; a
// minibatch takes up to batch·fraction positives and fills the rest with negatives.

/// The anchor grid of one image, its cross-boundary test and its IoU labels.
struct AnchorLabelling {
    /// Zero-centred base anchors [x1, y1, x2, y2], ratio-major then size, as torchvision orders them.
    let base: [Box]
    /// Feature-map columns and rows: ceil(image / stride).
    let gridWidth, gridHeight: Int
    /// Anchors whose corners lie within the image widened by `border`: all of them, and per base shape.
    let inside: Int
    let insideByShape: [Int]
    /// Counts over the inside anchors.
    let positive, negative, byThreshold, bestMatchOnly: Int
    /// Positives per base shape, and per ground-truth box (each positive counts for the box it
    /// has the highest IoU with, the first such box on a tie).
    let positiveByShape: [Int]
    let positivePerGT: [Int]
    /// For each ground-truth box, the first inside anchor with the highest IoU, its IoU and its shape.
    let best: [(anchor: Box, iou: Double, shape: Int)?]

    /// torchvision's base anchors: rounded half to even, as `torch.round` does.
    static func baseAnchors(sizes: [Double], ratios: [Double]) -> [Box] {
        ratios.flatMap { ratio in
            sizes.map { size in
                let w = size / ratio.squareRoot(), h = size * ratio.squareRoot()
                let c = [-w / 2, -h / 2, w / 2, h / 2].map { $0.rounded(.toNearestOrEven) }
                return Box(x1: c[0], y1: c[1], x2: c[2], y2: c[3])
            }
        }
    }

    init(imageWidth: Double, imageHeight: Double, stride: Int, sizes: [Double], ratios: [Double],
         border: Double, gt: [Box], positiveIoU: Double, negativeIoU: Double) {
        base = Self.baseAnchors(sizes: sizes, ratios: ratios)
        let s = Double(stride)
        gridWidth = Int((imageWidth / s).rounded(.up))
        gridHeight = Int((imageHeight / s).rounded(.up))
        let k = base.count

        // The inside anchors, position-major (row, column), then shape.
        var anchors: [Box] = [], shapes: [Int] = []
        var insideByShape = [Int](repeating: 0, count: k)
        for y in 0..<gridHeight {
            for x in 0..<gridWidth {
                let dx = Double(x) * s, dy = Double(y) * s
                for (shape, b) in base.enumerated() {
                    let a = Box(x1: b.x1 + dx, y1: b.y1 + dy, x2: b.x2 + dx, y2: b.y2 + dy)
                    guard a.x1 >= -border, a.y1 >= -border, a.x2 <= imageWidth + border, a.y2 <= imageHeight + border
                    else { continue }
                    anchors.append(a)
                    shapes.append(shape)
                    insideByShape[shape] += 1
                }
            }
        }
        self.insideByShape = insideByShape
        inside = anchors.count

        // Each inside anchor's best IoU over the ground truth, and the first box reaching it.
        var bestIoU = [Double](repeating: 0, count: anchors.count)
        var bestGT = [Int](repeating: 0, count: anchors.count)
        var gtBest = [Double](repeating: 0, count: gt.count)
        var ious = [[Double]](repeating: [], count: gt.count)
        for (j, g) in gt.enumerated() {
            ious[j] = anchors.map { $0.iou(g) }
            gtBest[j] = ious[j].max() ?? 0
            for i in anchors.indices where ious[j][i] > bestIoU[i] {
                bestIoU[i] = ious[j][i]
                bestGT[i] = j
            }
        }

        // The paper's two positive rules. A ground-truth box that overlaps no inside anchor has
        // no best match: py-faster-rcnn and torchvision would then make every anchor with IoU 0
        // positive (IoU 0 equals that box's maximum), which this module does not copy.
        var isBestMatch = [Bool](repeating: false, count: anchors.count)
        for j in gt.indices where gtBest[j] > 0 {
            for i in anchors.indices where ious[j][i] == gtBest[j] { isBestMatch[i] = true }
        }
        var positive = 0, negative = 0, byThreshold = 0, bestMatchOnly = 0
        var positiveByShape = [Int](repeating: 0, count: k), positivePerGT = [Int](repeating: 0, count: gt.count)
        for i in anchors.indices {
            let aboveThreshold = !gt.isEmpty && bestIoU[i] >= positiveIoU
            if aboveThreshold || isBestMatch[i] {
                positive += 1
                if aboveThreshold { byThreshold += 1 } else { bestMatchOnly += 1 }
                positiveByShape[shapes[i]] += 1
                positivePerGT[bestGT[i]] += 1
            } else if bestIoU[i] < negativeIoU {
                negative += 1
            }
        }
        self.positive = positive
        self.negative = negative
        self.byThreshold = byThreshold
        self.bestMatchOnly = bestMatchOnly
        self.positiveByShape = positiveByShape
        self.positivePerGT = positivePerGT
        best = gt.indices.map { j in
            guard gtBest[j] > 0, let i = ious[j].firstIndex(of: gtBest[j]) else { return nil }
            return (anchors[i], gtBest[j], shapes[i])
        }
    }

    var ignored: Int { inside - positive - negative }
}

/// `rpn.anchors`: how many anchors an image has, how many the RPN trains on, and their labels.
public struct RPNAnchorsModule: ComputeModule {
    public init() {}
    public let name = "rpn.anchors"
    public let summary = "RPN anchors: k shapes at every stride-s position, cross-boundary ones ignored, IoU labels and the 256-anchor minibatch."
    /// A million anchors keeps the labelling of every cell well under a second.
    static let maxAnchors = 1_000_000
    static let maxGT = 100
    public let parameters: [ParameterSpec] = [
        .vector("image", [1000, 600], range: .closed(1, 100_000), minElements: 2, maxElements: 2,
                doc: "[width, height] of the (rescaled) image in pixels"),
        .integer("stride", 16, range: .closed(1, 1024), doc: "pixels between neighbouring feature-map positions"),
        .vector("sizes", [128, 256, 512], range: .closed(1e-3, 1e6), maxElements: 16,
                doc: "anchor sizes: √(area) in pixels"),
        .vector("ratios", [0.5, 1, 2], range: .closed(1e-3, 1e3), maxElements: 16,
                doc: "aspect ratios height/width"),
        .number("border", 0, range: .closed(0, 1e6),
                doc: "an anchor is kept when it lies within the image widened by this many pixels (the paper: 0)"),
        .matrix("gt", [[100, 150, 400, 450], [600, 200, 780, 290]], range: .closed(-1e6, 1e6), maxElements: 4 * maxGT,
                doc: "ground-truth boxes, rows [x1, y1, x2, y2] (at most 100)"),
        .number("positive_iou", 0.7, range: .unit, doc: "IoU at or above which an anchor is positive"),
        .number("negative_iou", 0.3, range: .unit, doc: "best IoU below which an anchor is negative; at most positive_iou"),
        .integer("batch", 256, range: .closed(1, 1_000_000), doc: "anchors sampled per image"),
        .number("positive_fraction", 0.5, range: .unit, doc: "largest share of positives in the minibatch"),
    ]
    public let outputs: [OutputSpec] = [
        .init("gt", .matrix, hint: .table, doc: "the ground-truth boxes as given, so that later cells can read them"),
        .init("feature", .vector, doc: "[columns, rows] of the feature map: ceil(width / stride), ceil(height / stride)"),
        .init("positions", .integer, doc: "columns · rows"),
        .init("per_position", .integer, doc: "k = |sizes| · |ratios| anchors at each position"),
        .init("anchors", .integer, doc: "positions · k, every anchor of the image"),
        .init("base", .matrix, hint: .table, doc: "k×4 zero-centred anchors [x1, y1, x2, y2], ratio-major then size, corners rounded half to even"),
        .init("inside", .integer, doc: "anchors with x1 ≥ −border, y1 ≥ −border, x2 ≤ width + border, y2 ≤ height + border: those the RPN trains on"),
        .init("inside_by_shape", .vector, doc: "inside anchors per base shape (the rows of base)"),
        .init("positive", .integer, doc: "inside anchors labelled positive by either rule"),
        .init("by_threshold", .integer, doc: "positives whose best IoU is ≥ positive_iou"),
        .init("best_match_only", .integer, doc: "positives below positive_iou, positive only as a highest-IoU anchor of some ground-truth box"),
        .init("negative", .integer, doc: "inside anchors not positive whose best IoU is < negative_iou"),
        .init("ignored", .integer, doc: "inside anchors neither positive nor negative: no loss"),
        .init("positive_by_shape", .vector, doc: "positives per base shape"),
        .init("positive_per_gt", .vector, doc: "positives per ground-truth box (each assigned to the box of its highest IoU, the first on a tie)"),
        .init("best", .matrix, hint: .table, doc: "per ground-truth box: its first highest-IoU inside anchor [x1, y1, x2, y2], that IoU, the anchor's shape (row of base); all −1 with IoU 0 when it overlaps none"),
        .init("sampled_positive", .integer, doc: "min(positive, floor(batch · positive_fraction))"),
        .init("sampled_negative", .integer, doc: "min(negative, batch − sampled_positive)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let image = try inputs.vector("image")
        let stride = try inputs.integer("stride")
        let sizes = try inputs.vector("sizes"), ratios = try inputs.vector("ratios")
        let gt = try checkedBoxes(inputs.matrix("gt"), parameter: "gt")
        let positiveIoU = try inputs.number("positive_iou"), negativeIoU = try inputs.number("negative_iou")
        guard negativeIoU <= positiveIoU else {
            throw .invalid("negative_iou", "is \(NumberText.shortest(negativeIoU)), above positive_iou \(NumberText.shortest(positiveIoU)); an anchor cannot be both")
        }
        let columns = (image[0] / Double(stride)).rounded(.up), rows = (image[1] / Double(stride)).rounded(.up)
        let total = columns * rows * Double(sizes.count * ratios.count)
        guard total <= Double(Self.maxAnchors) else {
            throw .invalid("image", "gives \(NumberText.shortest(total)) anchors at stride \(stride); the limit is \(Self.maxAnchors): use a smaller image, a larger stride or fewer shapes")
        }
        let labels = AnchorLabelling(
            imageWidth: image[0], imageHeight: image[1], stride: stride, sizes: sizes, ratios: ratios,
            border: try inputs.number("border"), gt: gt, positiveIoU: positiveIoU, negativeIoU: negativeIoU)
        let batch = try inputs.integer("batch")
        let wanted = Int((Double(batch) * (try inputs.number("positive_fraction"))).rounded(.down))
        let sampledPositive = min(labels.positive, wanted)
        let sampledNegative = min(labels.negative, batch - sampledPositive)
        return [
            "gt": .matrix(gt.map(\.coordinates)),
            "feature": .vector([columns, rows]),
            "positions": .integer(labels.gridWidth * labels.gridHeight),
            "per_position": .integer(labels.base.count),
            "anchors": .integer(Int(total)),
            "base": .matrix(labels.base.map(\.coordinates)),
            "inside": .integer(labels.inside),
            "inside_by_shape": .vector(labels.insideByShape.map(Double.init)),
            "positive": .integer(labels.positive),
            "by_threshold": .integer(labels.byThreshold),
            "best_match_only": .integer(labels.bestMatchOnly),
            "negative": .integer(labels.negative),
            "ignored": .integer(labels.ignored),
            "positive_by_shape": .vector(labels.positiveByShape.map(Double.init)),
            "positive_per_gt": .vector(labels.positivePerGT.map(Double.init)),
            "best": .matrix(labels.best.map { b in
                guard let b else { return [-1, -1, -1, -1, 0, -1] }
                return b.anchor.coordinates + [b.iou, Double(b.shape)]
            }),
            "sampled_positive": .integer(sampledPositive),
            "sampled_negative": .integer(sampledNegative),
        ]
    }
}
