import Foundation
import NotebookCore

// Deformable convolution (Dai et al., 2017; modulated, DCNv2: Zhu et al., 2019): each kernel
// tap reads the input at its regular grid position plus a learned fractional offset (dy, dx),
// through bilinear interpolation, optionally scaled by a modulation mask. The sampling rule
// and tap layout follow torchvision's `deform_conv2d` CPU kernel (`deform_conv2d_kernel.cpp`)
// for one input channel, one output channel and one offset group. Here the offsets are the
// same at every output position; in a network a small convolution predicts them per position.

extension FeatureMap {
    /// Bilinear interpolation as deformable convolution reads the map, with its weights.
    ///
    /// Unlike RoIAlign nothing is clamped: a point strictly inside (−1, H) × (−1, W) mixes its
    /// four surrounding cells, and a cell that falls outside the map contributes 0 (zero
    /// padding); a point outside that range is 0. The weights, of the top-left, top-right,
    /// bottom-left and bottom-right cells, are returned wherever the point is. No allocation:
    /// deform.conv calls this once per tap and output position.
    func zeroPaddedBilinear(y: Double, x: Double) -> (value: Double, weights: (Double, Double, Double, Double)) {
        let y0 = floor(y), x0 = floor(x)
        let ly = y - y0, lx = x - x0
        let hy = 1 - ly, hx = 1 - lx
        let weights = (hy * hx, hy * lx, ly * hx, ly * lx)
        guard !(y <= -1 || y >= Double(height) || x <= -1 || x >= Double(width)) else { return (0, weights) }
        // Inside, floor(y) is in [−1, H − 1] and floor(x) in [−1, W − 1]: the conversions are safe.
        let iy = Int(y0), ix = Int(x0)
        let top = iy >= 0, bottom = iy + 1 < height, left = ix >= 0, right = ix + 1 < width
        let v1 = top && left ? self[iy, ix] : 0
        let v2 = top && right ? self[iy, ix + 1] : 0
        let v3 = bottom && left ? self[iy + 1, ix] : 0
        let v4 = bottom && right ? self[iy + 1, ix + 1] : 0
        return (weights.0 * v1 + weights.1 * v2 + weights.2 * v3 + weights.3 * v4, weights)
    }
}

/// One bilinear sample as deformable convolution reads it, every part spelled out.
struct DeformBilinear {
    /// [y, x] of the top-left, top-right, bottom-left and bottom-right cells around the point.
    let corners: [[Double]]
    /// Plain bilinear weights in the same order; they sum to 1 wherever the point is.
    let weights: [Double]
    /// The map value at each corner, 0 for a corner outside the map.
    let cornerValues: [Double]
    /// Whether the point lies in (−1, H) × (−1, W); outside, the value is 0.
    let inside: Bool
    let value: Double

    init(_ feature: FeatureMap, y: Double, x: Double) {
        let sample = feature.zeroPaddedBilinear(y: y, x: x)
        value = sample.value
        weights = [sample.weights.0, sample.weights.1, sample.weights.2, sample.weights.3]
        // Corners stay Double until known to be inside the map, so a far-out point cannot trap.
        let y0 = floor(y), x0 = floor(x)
        corners = [[y0, x0], [y0, x0 + 1], [y0 + 1, x0], [y0 + 1, x0 + 1]]
        let h = Double(feature.height), w = Double(feature.width)
        inside = !(y <= -1 || y >= h || x <= -1 || x >= w)
        cornerValues = corners.map { c in
            guard c[0] >= 0, c[0] < h, c[1] >= 0, c[1] < w else { return 0 }
            return feature[Int(c[0]), Int(c[1])]
        }
    }
}

/// `deform.bilinear`: one bilinear sample of a map, with its corners and weights.
public struct DeformBilinearModule: ComputeModule {
    public init() {}
    public let name = "deform.bilinear"
    public let summary = "Bilinear sample at a fractional point as deformable convolution reads it: four corners, zero outside."
    public let parameters: [ParameterSpec] = [
        .matrix("feature", [[1, 2, 3], [4, 5, 6], [7, 8, 10]],
                range: FeatureMapLimits.range, maxElements: FeatureMapLimits.elements,
                doc: "the map, H×W (at most 65536 elements)"),
        .number("y", 0.25, doc: "row coordinate; row i's cells sit at y = i"),
        .number("x", 1.5, doc: "column coordinate; column j's cells sit at x = j"),
    ]
    public let outputs: [OutputSpec] = [
        .init("value", .number, doc: "Σ weight·corner value; 0 when y ≤ −1, y ≥ H, x ≤ −1 or x ≥ W"),
        .init("corners", .matrix, hint: .table, doc: "4×2 [y, x] from floor(y), floor(x): top-left, top-right, bottom-left, bottom-right"),
        .init("weights", .vector, doc: "bilinear weights in corner order: (1−ly)(1−lx), (1−ly)lx, ly(1−lx), ly·lx; sum 1"),
        .init("corner_values", .vector, doc: "the map at each corner, 0 for a corner outside the map"),
        .init("inside", .bool, doc: "whether (y, x) is in (−1, H) × (−1, W), where the sample can be non-zero"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let feature = FeatureMap(try inputs.matrix("feature"))
        let s = DeformBilinear(feature, y: try inputs.number("y"), x: try inputs.number("x"))
        return [
            "value": .number(s.value),
            "corners": .matrix(s.corners),
            "weights": .vector(s.weights),
            "corner_values": .vector(s.cornerValues),
            "inside": .bool(s.inside),
        ]
    }
}

/// A single-channel (modulated) deformable convolution with one offset per kernel tap.
struct DeformableConvolution {
    let input: FeatureMap
    /// kh×kw, applied as a cross-correlation (no flip), as in every deep-learning library.
    let weight: [[Double]]
    /// (dy, dx) per tap, row-major over the kernel.
    let offsets: [[Double]]
    /// Per tap, multiplies the sample (DCNv2).
    let mask: [Double]
    let stride, padding, dilation: Int

    var kernelHeight: Int { weight.count }
    var kernelWidth: Int { weight[0].count }

    /// Cells the padded input has beyond the dilated kernel's reach, along y and x; negative
    /// when the kernel does not fit.
    var slackHeight: Int { input.height + 2 * padding - (dilation * (kernelHeight - 1) + 1) }
    var slackWidth: Int { input.width + 2 * padding - (dilation * (kernelWidth - 1) + 1) }
    /// Whether the dilated kernel fits the padded input at least once.
    var fits: Bool { slackHeight >= 0 && slackWidth >= 0 }

    /// slack / stride + 1 along each axis, when ``fits``.
    var outputHeight: Int { fits ? slackHeight / stride + 1 : 0 }
    var outputWidth: Int { fits ? slackWidth / stride + 1 : 0 }

    /// Where tap (u, v) reads for output (i, j).
    func position(_ i: Int, _ j: Int, tap u: Int, _ v: Int) -> (y: Double, x: Double) {
        let t = u * kernelWidth + v
        return (Double(i * stride - padding + u * dilation) + offsets[t][0],
                Double(j * stride - padding + v * dilation) + offsets[t][1])
    }

    /// Σ over taps of weight · mask · bilinear(position).
    func output() -> [[Double]] {
        let taps = kernelHeight * kernelWidth
        // Flat per-tap tables: the inner loop runs up to 600000 times (DeformConvModule.maxSamples).
        let w = weight.flatMap { $0 }
        let tapY = (0..<taps).map { ($0 / kernelWidth) * dilation }, tapX = (0..<taps).map { ($0 % kernelWidth) * dilation }
        let dy = offsets.map { $0[0] }, dx = offsets.map { $0[1] }
        return (0..<outputHeight).map { i in
            (0..<outputWidth).map { j in
                let baseY = i * stride - padding, baseX = j * stride - padding
                var sum = 0.0
                for t in 0..<taps {
                    // As ``position(_:_:tap:_:)``: the whole-cell part exactly, then the offset.
                    let y = Double(baseY + tapY[t]) + dy[t], x = Double(baseX + tapX[t]) + dx[t]
                    sum += w[t] * (mask[t] * input.zeroPaddedBilinear(y: y, x: x).value)
                }
                return sum
            }
        }
    }

    /// The plain cross-correlation on the same grid, reading whole cells (zero padding):
    /// no offsets, no mask, no interpolation.
    func regular() -> [[Double]] {
        (0..<outputHeight).map { i in
            (0..<outputWidth).map { j in
                var sum = 0.0
                for u in 0..<kernelHeight {
                    for v in 0..<kernelWidth {
                        let y = i * stride - padding + u * dilation, x = j * stride - padding + v * dilation
                        if y >= 0, y < input.height, x >= 0, x < input.width { sum += weight[u][v] * input[y, x] }
                    }
                }
                return sum
            }
        }
    }
}

/// `deform.conv`: deformable (and modulated) convolution beside the regular one.
public struct DeformConvModule: ComputeModule {
    public init() {}
    public let name = "deform.conv"
    public let summary = "Deformable convolution: each tap samples the input bilinearly at grid position + (dy, dx), times its mask."
    /// Bilinear samples per evaluation (output positions × taps): a 256×256 map under a 3×3
    /// kernel with padding 1 fits, and runs in milliseconds.
    static let maxSamples = 600_000
    public let parameters: [ParameterSpec] = [
        .matrix("input", [[1, 2, 0, 3, 1], [4, 0, 5, 1, 2], [2, 6, 1, 0, 3], [0, 3, 2, 7, 1], [5, 1, 4, 2, 0]],
                range: FeatureMapLimits.range, maxElements: FeatureMapLimits.elements,
                doc: "the input map, H×W (at most 65536 elements; outputs × taps at most 600000)"),
        .matrix("weight", [[0, 1, 0], [1, -4, 1], [0, 1, 0]], range: FeatureMapLimits.range, maxElements: 81,
                doc: "the kernel, kh×kw (at most 81 taps), applied without flipping"),
        ParameterSpec(name: "offsets", kind: .matrix, defaultValue: .computed("zeros, (kh·kw)×2"),
                      doc: "(dy, dx) for each tap in row-major order, the same at every output position",
                      maxElements: 162),
        ParameterSpec(name: "mask", kind: .vector, defaultValue: .computed("all 1, kh·kw"),
                      doc: "modulation per tap (DCNv2), in row-major tap order",
                      range: FeatureMapLimits.range, maxElements: 81),
        .integer("stride", 1, range: .closed(1, 64), doc: "step between output positions"),
        .integer("padding", 0, range: .closed(0, 64), doc: "zero cells added on every side"),
        .integer("dilation", 1, range: .closed(1, 64), doc: "spacing between taps"),
    ]
    public let outputs: [OutputSpec] = [
        .init("output", .matrix, hint: .table, doc: "(i, j) = Σ_taps weight·mask·bilinear(i·stride − padding + u·dilation + dy, j·stride − padding + v·dilation + dx)"),
        .init("regular", .matrix, hint: .table, doc: "the plain cross-correlation on the same grid: no offsets, no mask"),
        .init("positions", .matrix, hint: .table, doc: "output (0, 0), one row per tap: tap (0-based, row-major), y, x, sampled value"),
        .init("contributions", .vector, doc: "output (0, 0), per tap: weight·mask·sampled value; they sum to output[0][0]"),
        .init("max_abs_diff_vs_regular", .number, doc: "largest |output − regular|: 0 for zero offsets and a unit mask"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let input = FeatureMap(try inputs.matrix("input"))
        let weight = try inputs.matrix("weight")
        let kh = weight.count, kw = weight[0].count, taps = kh * kw
        let offsets: [[Double]]
        if inputs["offsets"] != nil {
            offsets = try inputs.matrix("offsets")
            guard offsets.count == taps, offsets[0].count == 2 else {
                throw .invalid("offsets", "is \(offsets.count)×\(offsets[0].count) but the \(kh)×\(kw) weight has \(taps) taps; give one row [dy, dx] per tap, \(taps)×2")
            }
        } else {
            offsets = [[Double]](repeating: [0, 0], count: taps)
        }
        let mask: [Double]
        if inputs["mask"] != nil {
            mask = try inputs.vector("mask")
            guard mask.count == taps else {
                throw .invalid("mask", "has \(mask.count) entries but the \(kh)×\(kw) weight has \(taps) taps; give one per tap")
            }
        } else {
            mask = [Double](repeating: 1, count: taps)
        }
        let conv = DeformableConvolution(input: input, weight: weight, offsets: offsets, mask: mask,
                                         stride: try inputs.integer("stride"), padding: try inputs.integer("padding"),
                                         dilation: try inputs.integer("dilation"))
        // Checked on the slack itself: Int division truncates toward zero, so −1 / 2 + 1 would
        // claim one output row for a kernel that does not fit.
        guard conv.fits else {
            let reach = "\(conv.dilation * (kh - 1) + 1)×\(conv.dilation * (kw - 1) + 1)"
            let padded = "\(input.height + 2 * conv.padding)×\(input.width + 2 * conv.padding)"
            // Blame dilation only when the undilated kernel would have fitted.
            let fitsUndilated = kh <= input.height + 2 * conv.padding && kw <= input.width + 2 * conv.padding
            throw .invalid(fitsUndilated && conv.dilation > 1 ? "dilation" : "weight",
                           "makes the kernel reach \(reach) cells, more than the \(padded) padded input; use a smaller kernel or dilation, or more padding")
        }
        let samples = conv.outputHeight * conv.outputWidth * taps
        guard samples <= Self.maxSamples else {
            throw .invalid("input", "gives \(conv.outputHeight)×\(conv.outputWidth) outputs × \(taps) taps = \(samples) bilinear samples; the limit is \(Self.maxSamples): use a smaller input or kernel, or a larger stride")
        }
        let output = conv.output()
        let regular = conv.regular()
        var positions: [[Double]] = [], contributions: [Double] = []
        for u in 0..<kh {
            for v in 0..<kw {
                let t = u * kw + v
                let p = conv.position(0, 0, tap: u, v)
                let sampled = DeformBilinear(input, y: p.y, x: p.x).value
                positions.append([Double(t), p.y, p.x, sampled])
                contributions.append(weight[u][v] * (mask[t] * sampled))
            }
        }
        let diff = zip(output, regular).flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? 0
        return [
            "output": .matrix(output),
            "regular": .matrix(regular),
            "positions": .matrix(positions),
            "contributions": .vector(contributions),
            "max_abs_diff_vs_regular": .number(diff),
        ]
    }
}
