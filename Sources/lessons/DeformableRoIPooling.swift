import Foundation
import NotebookCore

// Deformable RoI pooling (Dai et al., 2017, §2.2) as the authors' released operator computes it
// for one channel: `DeformablePSROIPooling` in msracver/Deformable-ConvNets
// (faster_rcnn/operator_cxx/deformable_psroi_pooling.cu) with group_size = 1 and
// part_size = pooled_size, the configuration their deformable Faster R-CNN uses.
//
// The box is rounded to whole image cells, scaled into the map and shifted by half a cell; it
// is divided into size×size bins, and bin (i, j) is moved by
//     (γ·Δp̂_y·roi_height, γ·Δp̂_x·roi_width),
// the normalised offset times the box size. Each bin averages sample_per_part² bilinear samples
// on a grid that starts at the bin's top-left corner. A sample more than half a cell outside
// the map is skipped; the rest are clamped onto the map, and the bin is the mean of the samples
// it kept (0 when none). The offset gradient follows the operator's backward, which takes the
// slope between floor and ceil of each sample: 0 at a whole-number coordinate.
//
// The operator's offset tensor holds x in channel 0 and y in channel 1; this module takes the
// offsets as (dy, dx) per bin, the order deform.conv uses.

struct DeformableRoIPool {
    struct Sample {
        let y, x: Double
        let kept: Bool
        let value: Double
    }

    let startX, startY, endX, endY: Double
    let roiWidth, roiHeight: Double
    let binHeight, binWidth: Double
    let size, samplesPerPart: Int
    let gamma: Double

    init(box: Box, scale: Double, size: Int, samplesPerPart: Int, gamma: Double) {
        // As the operator: round the image-space corners, scale, and move by half a cell, so that
        // with scale 1 the box covers cells round(x1) … round(x2) whole.
        startX = box.x1.rounded(.toNearestOrAwayFromZero) * scale - 0.5
        startY = box.y1.rounded(.toNearestOrAwayFromZero) * scale - 0.5
        endX = (box.x2.rounded(.toNearestOrAwayFromZero) + 1) * scale - 0.5
        endY = (box.y2.rounded(.toNearestOrAwayFromZero) + 1) * scale - 0.5
        roiWidth = Swift.max(endX - startX, 0.1)
        roiHeight = Swift.max(endY - startY, 0.1)
        binHeight = roiHeight / Double(size)
        binWidth = roiWidth / Double(size)
        self.size = size
        self.samplesPerPart = samplesPerPart
        self.gamma = gamma
    }

    /// The shift of bin (i, j) in map cells for normalised offsets (dy, dx).
    func shift(_ offset: [Double]) -> (y: Double, x: Double) {
        (offset[0] * gamma * roiHeight, offset[1] * gamma * roiWidth)
    }

    /// Bin (ph, pw): its samples, their mean over the kept ones, and the derivative of that mean
    /// with respect to the bin's normalised offset (dy, dx).
    func bin(_ feature: FeatureMap, _ ph: Int, _ pw: Int, offset: [Double])
        -> (samples: [Sample], value: Double, count: Int, gradY: Double, gradX: Double) {
        let h = Double(feature.height), w = Double(feature.width)
        let subHeight = binHeight / Double(samplesPerPart), subWidth = binWidth / Double(samplesPerPart)
        // The operator's order: bin start, then the offset · γ · box size.
        let hStart = Double(ph) * binHeight + startY + offset[0] * gamma * roiHeight
        let wStart = Double(pw) * binWidth + startX + offset[1] * gamma * roiWidth
        var samples: [Sample] = []
        var sum = 0.0, count = 0, slopeY = 0.0, slopeX = 0.0
        for ih in 0..<samplesPerPart {
            for iw in 0..<samplesPerPart {
                let x = wStart + Double(iw) * subWidth, y = hStart + Double(ih) * subHeight
                guard !(x < -0.5 || x > w - 0.5 || y < -0.5 || y > h - 0.5) else {
                    samples.append(Sample(y: y, x: x, kept: false, value: 0))
                    continue
                }
                let cx = Swift.min(Swift.max(x, 0), w - 1), cy = Swift.min(Swift.max(y, 0), h - 1)
                // Clamped onto the map, so the indices are in range.
                let x0 = Int(floor(cx)), x1 = Int(ceil(cx)), y0 = Int(floor(cy)), y1 = Int(ceil(cy))
                let dx = cx - Double(x0), dy = cy - Double(y0)
                let v00 = feature[y0, x0], v01 = feature[y1, x0], v10 = feature[y0, x1], v11 = feature[y1, x1]
                let value = (1 - dx) * (1 - dy) * v00 + (1 - dx) * dy * v01 + dx * (1 - dy) * v10 + dx * dy * v11
                samples.append(Sample(y: y, x: x, kept: true, value: value))
                sum += value
                count += 1
                // The operator's backward: slopes between floor and ceil (0 when they coincide).
                slopeX += v11 * dy + v10 * (1 - dy) - v01 * dy - v00 * (1 - dy)
                slopeY += v11 * dx + v01 * (1 - dx) - v10 * dx - v00 * (1 - dx)
            }
        }
        guard count > 0 else { return (samples, 0, 0, 0, 0) }
        let n = Double(count)
        return (samples, sum / n, count, slopeY * gamma * roiHeight / n, slopeX * gamma * roiWidth / n)
    }
}

/// `roi.deform`: deformable RoI pooling, one channel, as the authors' operator computes it.
public struct DeformRoIPoolModule: ComputeModule {
    public init() {}
    public let name = "roi.deform"
    public let summary = "Deformable RoI pooling (Dai et al. 2017): each bin moves by γ·(normalised offset)·(box height, width) and averages bilinear samples."
    public let parameters: [ParameterSpec] = [
        FeatureMap.parameter,
        .vector("box", [1, 1, 4, 4], minElements: 4, maxElements: 4,
                doc: "[x1, y1, x2, y2] in image coordinates, x1 ≤ x2, y1 ≤ y2; rounded to whole cells as the operator does"),
        .number("scale", 1, range: .positive, doc: "multiplies the rounded box into map coordinates (1/16 for a stride-16 map)"),
        .integer("size", 2, range: .closed(1, 16), doc: "bins per side of the output"),
        ParameterSpec(name: "offsets", kind: .matrix, defaultValue: .computed("zeros, size²×2"),
                      doc: "normalised offsets (dy, dx) per bin, row-major over the bins (the operator's tensor holds x first)",
                      range: .closed(-1e6, 1e6), maxElements: 512),
        .number("gamma", 0.1, range: .closed(0, 1e6), doc: "γ: the bin moves by γ·offset·(box height, box width) cells"),
        .integer("sample_per_part", 4, range: .closed(1, 16), doc: "samples per bin along each axis, on a grid starting at the bin's corner"),
    ]
    public let outputs: [OutputSpec] = [
        .init("pooled", .matrix, hint: .heatmap, doc: "size×size: the mean of each moved bin's kept samples, 0 when it kept none"),
        .init("pooled_plain", .matrix, hint: .heatmap, doc: "size×size: the same pooling with zero offsets (what the offset branch sees)"),
        .init("count", .matrix, hint: .table, doc: "size×size: samples each bin kept (those at most half a cell outside the map)"),
        .init("shifts", .matrix, hint: .table, doc: "size²×2, per bin: (dy, dx) in map cells = γ·offset·(roi_height, roi_width)"),
        .init("roi", .vector, doc: "the box in map coordinates [x1, y1, x2, y2]: round(corner)·scale − 0.5, the far corners from round(corner) + 1"),
        .init("roi_width", .number, doc: "x2 − x1 of roi, at least 0.1"),
        .init("roi_height", .number, doc: "y2 − y1 of roi, at least 0.1"),
        .init("bin_height", .number, doc: "roi_height / size"),
        .init("bin_width", .number, doc: "roi_width / size"),
        .init("samples", .matrix, hint: .table, doc: "bin (0, 0), one row per sample: y, x (moved, before clamping), kept (1 or 0), value"),
        .init("offset_grad", .matrix, hint: .table, doc: "size²×2, per bin: ∂pooled/∂(dy, dx) of its own offset, the operator's backward (0 at whole-number samples)"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let feature = FeatureMap(try inputs.matrix("feature"))
        let (box, scale) = try scaledRoIBox(inputs)
        let size = try inputs.integer("size")
        let pool = DeformableRoIPool(box: box, scale: scale, size: size,
                                     samplesPerPart: try inputs.integer("sample_per_part"), gamma: try inputs.number("gamma"))
        var offsets = [[Double]](repeating: [0, 0], count: size * size)
        if inputs["offsets"] != nil {
            offsets = try inputs.matrix("offsets")
            guard offsets.count == size * size, offsets[0].count == 2 else {
                throw .invalid("offsets", "is \(offsets.count)×\(offsets[0].count) but \(size)×\(size) bins need \(size * size)×2: one row (dy, dx) per bin, row-major")
            }
        }
        var pooled: [[Double]] = [], plain: [[Double]] = [], count: [[Double]] = []
        var shifts: [[Double]] = [], grads: [[Double]] = [], firstBin: [DeformableRoIPool.Sample] = []
        for ph in 0..<size {
            var row: [Double] = [], plainRow: [Double] = [], countRow: [Double] = []
            for pw in 0..<size {
                let t = ph * size + pw
                let moved = pool.bin(feature, ph, pw, offset: offsets[t])
                let still = pool.bin(feature, ph, pw, offset: [0, 0])
                if t == 0 { firstBin = moved.samples }
                row.append(moved.value)
                plainRow.append(still.value)
                countRow.append(Double(moved.count))
                let s = pool.shift(offsets[t])
                shifts.append([s.y, s.x])
                grads.append([moved.gradY, moved.gradX])
            }
            pooled.append(row)
            plain.append(plainRow)
            count.append(countRow)
        }
        return [
            "pooled": .matrix(pooled),
            "pooled_plain": .matrix(plain),
            "count": .matrix(count),
            "shifts": .matrix(shifts),
            "roi": .vector([pool.startX, pool.startY, pool.endX, pool.endY]),
            "roi_width": .number(pool.roiWidth),
            "roi_height": .number(pool.roiHeight),
            "bin_height": .number(pool.binHeight),
            "bin_width": .number(pool.binWidth),
            "samples": .matrix(firstBin.map { [$0.y, $0.x, $0.kept ? 1 : 0, $0.value] }),
            "offset_grad": .matrix(grads),
        ]
    }
}
