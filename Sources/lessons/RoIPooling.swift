import Foundation
import NotebookCore

// Region-of-interest pooling: a fixed size×size summary of the part of a feature map under a box.
//
// RoI max pooling (Girshick, 2015, Fast R-CNN) rounds the box to whole cells and then rounds
// again at every bin edge, so the bins it pools are not the bins of the box; RoIAlign (He et
// al., 2017, Mask R-CNN) rounds nothing and averages bilinear samples at evenly spaced points
// of each bin. Both follow torchvision's CPU kernels (`roi_pool_kernel.cpp`,
// `roi_align_kernel.cpp` and `roi_align_common.h`) operation by operation, for one channel
// and one box.
//
// A box with x2 < x1 or y2 < y1 is refused: torchvision quietly treats it as a 1×1 region
// (roi.pool, roi.align with aligned = false) or samples backwards (aligned = true), neither of
// which a lesson wants to show by accident.

/// A box in map coordinates must stay within ±1e6 cells, so every index derived from it fits
/// easily in an Int.
let roiCoordinateLimit = 1e6

/// A box × scale in map coordinates, checked to be the right way round and of a usable size.
func scaledRoIBox(_ inputs: Inputs) throws(ComputeError) -> (box: Box, scale: Double) {
    let corners = try inputs.vector("box")
    let box = try checkedBoxes([corners], parameter: "box")[0]
    let scale = try inputs.number("scale")
    let scaled = corners.map { $0 * scale }
    guard scaled.allSatisfy({ abs($0) <= roiCoordinateLimit }) else {
        let culprit = corners.allSatisfy { abs($0) <= roiCoordinateLimit } ? "scale" : "box"
        throw .invalid(culprit, "puts the box at [\(scaled.map(NumberText.shortest).joined(separator: ", "))] in map cells (box × scale); each corner must lie within ±1e6")
    }
    return (box, scale)
}

private let roiParameters: [ParameterSpec] = [
    FeatureMap.parameter,
    .vector("box", [0.6, 1.2, 4.3, 3.9], minElements: 4, maxElements: 4,
            doc: "[x1, y1, x2, y2] in image coordinates; x1 ≤ x2, y1 ≤ y2"),
    .number("scale", 1, range: .positive, doc: "multiplies the box into map coordinates (1/16 for a stride-16 map)"),
    .integer("size", 2, range: .closed(1, 32), doc: "bins per side of the output"),
]

// MARK: - RoI max pooling

/// Caffe/torchvision RoI max pooling of one box.
struct RoIMaxPool {
    /// One output bin: the half-open cell ranges it pools after rounding and clipping.
    struct Bin {
        let yStart, yEnd, xStart, xEnd: Int
        var isEmpty: Bool { yEnd <= yStart || xEnd <= xStart }
    }

    /// The box corners × scale, before rounding.
    let exact: [Double]
    /// The corners rounded half away from zero: [x1, y1, x2, y2] in whole cells.
    let rounded: [Int]
    /// Cells the rounded box spans, counting both ends, at least 1.
    let roiHeight, roiWidth: Int
    let binHeight, binWidth: Double
    /// Row-major, size×size.
    let bins: [Bin]
    let pooled: [[Double]]
    /// Flat row-major index into the map of the first maximum of each bin; −1 for an empty bin.
    let argmax: [[Int]]

    init(feature: FeatureMap, box: Box, scale: Double, size: Int) {
        exact = box.coordinates.map { $0 * scale }
        // Corners are within ±1e6 (checked), so the conversions cannot trap.
        rounded = exact.map { Int($0.rounded(.toNearestOrAwayFromZero)) }
        roiWidth = Swift.max(rounded[2] - rounded[0] + 1, 1)
        roiHeight = Swift.max(rounded[3] - rounded[1] + 1, 1)
        binHeight = Double(roiHeight) / Double(size)
        binWidth = Double(roiWidth) / Double(size)
        func clip(_ v: Int, _ limit: Int) -> Int { Swift.min(Swift.max(v, 0), limit) }
        var bins: [Bin] = [], pooled: [[Double]] = [], argmax: [[Int]] = []
        for ph in 0..<size {
            var pooledRow: [Double] = [], argmaxRow: [Int] = []
            for pw in 0..<size {
                let bin = Bin(
                    yStart: clip(Int(floor(Double(ph) * binHeight)) + rounded[1], feature.height),
                    yEnd: clip(Int(ceil(Double(ph + 1) * binHeight)) + rounded[1], feature.height),
                    xStart: clip(Int(floor(Double(pw) * binWidth)) + rounded[0], feature.width),
                    xEnd: clip(Int(ceil(Double(pw + 1) * binWidth)) + rounded[0], feature.width))
                // An empty bin pools nothing and reports 0, as Caffe and torchvision do.
                var best = 0.0, bestIndex = -1
                for y in bin.yStart..<Swift.max(bin.yStart, bin.yEnd) {
                    for x in bin.xStart..<Swift.max(bin.xStart, bin.xEnd) where bestIndex < 0 || feature[y, x] > best {
                        best = feature[y, x]
                        bestIndex = y * feature.width + x
                    }
                }
                bins.append(bin)
                pooledRow.append(best)
                argmaxRow.append(bestIndex)
            }
            pooled.append(pooledRow)
            argmax.append(argmaxRow)
        }
        self.bins = bins
        self.pooled = pooled
        self.argmax = argmax
    }
}

/// `roi.pool`: RoI max pooling with the rounding of Fast R-CNN made visible.
public struct RoIPoolModule: ComputeModule {
    public init() {}
    public let name = "roi.pool"
    public let summary = "RoI max pooling (Fast R-CNN): box rounded to cells, bins rounded outward, max per bin."
    public let parameters = roiParameters
    public let outputs: [OutputSpec] = [
        .init("pooled", .matrix, hint: .heatmap, doc: "size×size: the max of each bin, 0 for an empty bin"),
        .init("argmax", .matrix, hint: .table, doc: "size×size: flat row-major index y·W + x of each bin's first maximum, −1 for an empty bin"),
        .init("roi", .vector, doc: "the rounded box [x1, y1, x2, y2] in map cells: round(corner × scale), halves away from zero"),
        .init("roi_exact", .vector, doc: "the box × scale before rounding"),
        .init("quantisation_error", .vector, doc: "roi − roi_exact per corner: how far rounding moved it, each in [−0.5, 0.5]"),
        .init("max_quantisation_error", .number, doc: "largest |quantisation_error|"),
        .init("roi_height", .integer, doc: "rows pooled: max(y2 − y1 + 1, 1) of the rounded box (both ends count)"),
        .init("roi_width", .integer, doc: "columns pooled: max(x2 − x1 + 1, 1) of the rounded box"),
        .init("bin_height", .number, doc: "roi_height / size: rows per bin before each edge is rounded"),
        .init("bin_width", .number, doc: "roi_width / size"),
        .init("bins", .matrix, hint: .table, doc: "per bin (row-major): row, col, y_start, y_end, x_start, x_end (half-open, clipped to the map), cells pooled"),
        .init("empty_bins", .integer, doc: "bins that pool no cell (outside the map) and so give 0"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let feature = FeatureMap(try inputs.matrix("feature"))
        let (box, scale) = try scaledRoIBox(inputs)
        let size = try inputs.integer("size")
        let pool = RoIMaxPool(feature: feature, box: box, scale: scale, size: size)
        let errors = zip(pool.rounded, pool.exact).map { Double($0) - $1 }
        let binTable = pool.bins.enumerated().map { k, b in
            [Double(k / size), Double(k % size), Double(b.yStart), Double(b.yEnd), Double(b.xStart), Double(b.xEnd),
             b.isEmpty ? 0 : Double((b.yEnd - b.yStart) * (b.xEnd - b.xStart))]
        }
        return [
            "pooled": .matrix(pool.pooled),
            "argmax": .matrix(pool.argmax.map { $0.map(Double.init) }),
            "roi": .vector(pool.rounded.map(Double.init)),
            "roi_exact": .vector(pool.exact),
            "quantisation_error": .vector(errors),
            "max_quantisation_error": .number(errors.map(abs).max() ?? 0),
            "roi_height": .integer(pool.roiHeight),
            "roi_width": .integer(pool.roiWidth),
            "bin_height": .number(pool.binHeight),
            "bin_width": .number(pool.binWidth),
            "bins": .matrix(binTable),
            "empty_bins": .integer(pool.bins.filter(\.isEmpty).count),
        ]
    }
}

// MARK: - RoIAlign

extension FeatureMap {
    /// RoIAlign's bilinear sample and the weights of the top-left, top-right, bottom-left and
    /// bottom-right cells (all 0 when the point is dropped).
    ///
    /// torchvision's rule: a point beyond one cell outside the map (y < −1, y > H, x < −1 or
    /// x > W) is dropped and counts 0; otherwise negative coordinates are clamped to 0 and
    /// coordinates past the last cell to that cell, so a point near an edge reads the edge cells.
    /// No allocation: the pooling calls this once per sample.
    func clampedBilinear(y: Double, x: Double) -> (value: Double, weights: (Double, Double, Double, Double)) {
        guard !(y < -1 || y > Double(height) || x < -1 || x > Double(width)) else { return (0, (0, 0, 0, 0)) }
        var y = Swift.max(y, 0), x = Swift.max(x, 0)
        var yLow = Int(y), xLow = Int(x)
        let yHigh: Int, xHigh: Int
        if yLow >= height - 1 {
            yLow = height - 1; yHigh = height - 1; y = Double(yLow)
        } else {
            yHigh = yLow + 1
        }
        if xLow >= width - 1 {
            xLow = width - 1; xHigh = width - 1; x = Double(xLow)
        } else {
            xHigh = xLow + 1
        }
        let ly = y - Double(yLow), lx = x - Double(xLow)
        let hy = 1 - ly, hx = 1 - lx
        let w = (hy * hx, hy * lx, ly * hx, ly * lx)
        let value = w.0 * self[yLow, xLow] + w.1 * self[yLow, xHigh] + w.2 * self[yHigh, xLow] + w.3 * self[yHigh, xHigh]
        return (value, w)
    }
}

/// One bilinear sample of RoIAlign, for display: where it falls and how it weighs its cells.
struct RoIAlignSample {
    /// The sample point in map coordinates, before clamping.
    let y, x: Double
    /// Weights of the top-left, top-right, bottom-left and bottom-right cells; all 0 for a
    /// dropped sample.
    let weights: [Double]
    let value: Double

    init(feature: FeatureMap, y: Double, x: Double) {
        self.y = y
        self.x = x
        let sample = feature.clampedBilinear(y: y, x: x)
        weights = [sample.weights.0, sample.weights.1, sample.weights.2, sample.weights.3]
        value = sample.value
    }
}

/// torchvision's RoIAlign of one box: the geometry, then the pooling.
struct RoIAlign {
    /// The box in map coordinates: corners × scale, less 0.5 when aligned.
    let start: (y: Double, x: Double)
    let end: (y: Double, x: Double)
    let size: Int
    let binHeight, binWidth: Double
    /// Samples per bin along y and x: sampling_ratio, or ceil(roi size / size) when it is 0.
    let gridHeight, gridWidth: Int

    /// Above this many bilinear samples a cell would no longer be instant.
    static let maxSamples = 1_000_000
    /// Rows of the samples table: a 10×10 grid is more than a lesson shows, and an adaptive grid
    /// over a large box would otherwise print thousands.
    static let shownSamples = 100

    /// `box` × `scale` must lie within ±``roiCoordinateLimit``, so the adaptive grid fits an Int.
    init(box: Box, scale: Double, size: Int, samplingRatio: Int, aligned: Bool) {
        // Pixel (i, j) covers [i, i+1) × [j, j+1) with its centre at i + 0.5: aligned = true
        // moves the box into the frame where cell centres sit on whole numbers.
        let offset = aligned ? 0.5 : 0
        start = (box.y1 * scale - offset, box.x1 * scale - offset)
        end = (box.y2 * scale - offset, box.x2 * scale - offset)
        self.size = size
        var roiHeight = end.y - start.y, roiWidth = end.x - start.x
        if !aligned {
            // The original RoIAlign forces a box smaller than a cell up to one cell.
            roiHeight = Swift.max(roiHeight, 1)
            roiWidth = Swift.max(roiWidth, 1)
        }
        binHeight = roiHeight / Double(size)
        binWidth = roiWidth / Double(size)
        gridHeight = samplingRatio > 0 ? samplingRatio : Int(ceil(roiHeight / Double(size)))
        gridWidth = samplingRatio > 0 ? samplingRatio : Int(ceil(roiWidth / Double(size)))
    }

    /// Samples averaged per bin; an empty grid (a zero-size box, adaptive) still divides by 1.
    var count: Int { Swift.max(gridHeight * gridWidth, 1) }

    /// Bilinear samples the whole pooling reads: size² · grid_h · grid_w.
    var totalSamples: Double { Double(size * size) * Double(gridHeight) * Double(gridWidth) }

    /// The size×size means, and the first ``shownSamples`` samples of bin (0, 0) row by row.
    func pool(_ feature: FeatureMap) -> (pooled: [[Double]], firstBin: [RoIAlignSample]) {
        var pooled: [[Double]] = []
        var firstBin: [RoIAlignSample] = []
        for ph in 0..<size {
            var row: [Double] = []
            for pw in 0..<size {
                var sum = 0.0
                for iy in 0..<gridHeight {
                    let y = start.y + Double(ph) * binHeight + (Double(iy) + 0.5) * binHeight / Double(gridHeight)
                    for ix in 0..<gridWidth {
                        let x = start.x + Double(pw) * binWidth + (Double(ix) + 0.5) * binWidth / Double(gridWidth)
                        sum += feature.clampedBilinear(y: y, x: x).value
                        if ph == 0 && pw == 0 && firstBin.count < Self.shownSamples {
                            firstBin.append(RoIAlignSample(feature: feature, y: y, x: x))
                        }
                    }
                }
                row.append(sum / Double(count))
            }
            pooled.append(row)
        }
        return (pooled, firstBin)
    }
}

/// `roi.align`: RoIAlign, bilinear samples averaged per bin with no rounding anywhere.
public struct RoIAlignModule: ComputeModule {
    public init() {}
    public let name = "roi.align"
    public let summary = "RoIAlign (Mask R-CNN): no rounding; each bin is the mean of bilinear samples at regular points."
    public let parameters = roiParameters + [
        .integer("sampling_ratio", 2, range: .closed(0, 16),
                 doc: "samples per bin along each axis; 0 = adaptive, ceil(roi size / size)"),
        .bool("aligned", true, doc: "shift the box by −0.5 cell so that cell centres sit on whole coordinates"),
    ]
    public let outputs: [OutputSpec] = [
        .init("pooled", .matrix, hint: .heatmap, doc: "size×size: the mean of the bilinear samples of each bin"),
        .init("roi", .vector, doc: "the box in map coordinates [x1, y1, x2, y2]: corners × scale, − 0.5 when aligned"),
        .init("bin_height", .number, doc: "roi height / size (the roi is at least 1×1 when not aligned)"),
        .init("bin_width", .number, doc: "roi width / size"),
        .init("grid_height", .integer, doc: "samples per bin along y"),
        .init("grid_width", .integer, doc: "samples per bin along x"),
        .init("count", .integer, doc: "samples averaged per bin: grid_height·grid_width (at least 1)"),
        .init("samples", .matrix, hint: .table,
              doc: "bin (0, 0), one row per sample (the first 100): y, x (before clamping), weights of the top-left, top-right, bottom-left, bottom-right cells, value; all 0 outside [−1, H]×[−1, W]"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let feature = FeatureMap(try inputs.matrix("feature"))
        let (box, scale) = try scaledRoIBox(inputs)
        let size = try inputs.integer("size")
        let samplingRatio = try inputs.integer("sampling_ratio")
        let aligned = try inputs.bool("aligned")
        let align = RoIAlign(box: box, scale: scale, size: size, samplingRatio: samplingRatio, aligned: aligned)
        guard align.totalSamples <= Double(RoIAlign.maxSamples) else {
            throw .invalid("box", "needs \(NumberText.shortest(align.totalSamples)) bilinear samples with the adaptive sampling_ratio 0; the limit is \(RoIAlign.maxSamples): use a smaller box or scale, or a sampling_ratio in 1...16")
        }
        let (pooled, firstBin) = align.pool(feature)
        return [
            "pooled": .matrix(pooled),
            "roi": .vector([align.start.x, align.start.y, align.end.x, align.end.y]),
            "bin_height": .number(align.binHeight),
            "bin_width": .number(align.binWidth),
            "grid_height": .integer(align.gridHeight),
            "grid_width": .integer(align.gridWidth),
            "count": .integer(align.count),
            "samples": .matrix(firstBin.map { [$0.y, $0.x] + $0.weights + [$0.value] }),
        ]
    }
}
