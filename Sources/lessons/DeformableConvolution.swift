import Foundation
import NotebookCore

// Deformable convolution (Dai et al., 2017; modulated, DCNv2: Zhu et al., 2019): each kernel
// tap reads the input at its regular grid position plus a learned fractional offset (dy, dx),
// through bilinear interpolation, optionally scaled by a modulation mask. The sampling rule
// and tap layout follow torchvision's `deform_conv2d` CPU kernel (`deform_conv2d_kernel.cpp`)
// for one input channel, one output channel and one offset group. The offsets and masks are
// either one per tap, the same at every output position, or one per tap and output position,
// given as a map or predicted from the input by a plain convolution (Dai et al.'s offset
// branch). The offset and mask gradients follow torchvision's backward
// (`get_coordinate_weight`), including its one-sided derivative at whole-number points.

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

    /// ∂(bilinear sample)/∂y and ∂/∂x as torchvision's backward computes them: from the four
    /// cells around (floor(y), floor(x)), zero outside the map, so at a whole-number coordinate
    /// the derivative is the one of the piece to the right (below). Non-zero only for
    /// y ∈ [−1, H) and x ∈ [−1, W): beyond that all four cells are outside the map.
    func zeroPaddedBilinearSlopes(y: Double, x: Double) -> (dy: Double, dx: Double) {
        guard y >= -1, y < Double(height), x >= -1, x < Double(width) else { return (0, 0) }
        // In that range floor(y) is in [−1, H − 1] and floor(x) in [−1, W − 1].
        let iy = Int(floor(y)), ix = Int(floor(x))
        let top = iy >= 0, bottom = iy + 1 < height, left = ix >= 0, right = ix + 1 < width
        let v1 = top && left ? self[iy, ix] : 0
        let v2 = top && right ? self[iy, ix + 1] : 0
        let v3 = bottom && left ? self[iy + 1, ix] : 0
        let v4 = bottom && right ? self[iy + 1, ix + 1] : 0
        let ly = y - Double(iy), lx = x - Double(ix)
        return (lx * (v4 - v2) + (1 - lx) * (v3 - v1), ly * (v4 - v3) + (1 - ly) * (v2 - v1))
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

/// A single-channel (modulated) deformable convolution whose offsets and masks may differ from
/// one output position to the next.
struct DeformableConvolution {
    let input: FeatureMap
    /// kh×kw, applied as a cross-correlation (no flip), as in every deep-learning library.
    let weight: [[Double]]
    let stride, padding, dilation: Int
    /// Flat over output positions r = i·W_out + j (row-major) and taps t (row-major over the
    /// kernel): dy at 2N·r + 2t, dx at 2N·r + 2t + 1, torchvision's channel order.
    var offsets: [Double] = []
    /// Flat: the mask of tap t at output position r is at N·r + t.
    var mask: [Double] = []

    init(input: FeatureMap, weight: [[Double]], stride: Int, padding: Int, dilation: Int) {
        self.input = input
        self.weight = weight
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    var kernelHeight: Int { weight.count }
    var kernelWidth: Int { weight[0].count }
    var taps: Int { kernelHeight * kernelWidth }

    /// Cells the padded input has beyond the dilated kernel's reach, along y and x; negative
    /// when the kernel does not fit.
    var slackHeight: Int { input.height + 2 * padding - (dilation * (kernelHeight - 1) + 1) }
    var slackWidth: Int { input.width + 2 * padding - (dilation * (kernelWidth - 1) + 1) }
    /// Whether the dilated kernel fits the padded input at least once.
    var fits: Bool { slackHeight >= 0 && slackWidth >= 0 }

    /// slack / stride + 1 along each axis, when ``fits``.
    var outputHeight: Int { fits ? slackHeight / stride + 1 : 0 }
    var outputWidth: Int { fits ? slackWidth / stride + 1 : 0 }
    var outputCount: Int { outputHeight * outputWidth }

    /// Where tap t of output (i, j) reads without its offset: a whole-number grid point.
    func gridPoint(_ i: Int, _ j: Int, tap t: Int) -> (y: Int, x: Int) {
        (i * stride - padding + (t / kernelWidth) * dilation, j * stride - padding + (t % kernelWidth) * dilation)
    }

    /// Where tap t of output (i, j) reads: the grid point plus that position's offset.
    func position(_ i: Int, _ j: Int, tap t: Int) -> (y: Double, x: Double) {
        let g = gridPoint(i, j, tap: t), base = 2 * taps * (i * outputWidth + j) + 2 * t
        return (Double(g.y) + offsets[base], Double(g.x) + offsets[base + 1])
    }

    /// The same offset pair for every output position (the uniform form, one row per tap).
    mutating func setUniformOffsets(_ perTap: [[Double]]) {
        offsets = Array((0..<outputCount).map { _ in perTap.flatMap { $0 } }.joined())
    }

    /// Plain cross-correlation of the input with a kernel given flat (row-major, kh·kw), on the
    /// layer's grid: integer reads, zero padding. Flat over output positions.
    func correlate(_ kernel: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: outputCount)
        for i in 0..<outputHeight {
            for j in 0..<outputWidth {
                var sum = 0.0
                for t in 0..<taps where kernel[t] != 0 {
                    let g = gridPoint(i, j, tap: t)
                    if g.y >= 0, g.y < input.height, g.x >= 0, g.x < input.width { sum += kernel[t] * input[g.y, g.x] }
                }
                out[i * outputWidth + j] = sum
            }
        }
        return out
    }

    /// The offset branch of Dai et al.: 2N plain correlations of the input on the layer's grid,
    /// channel c (dy of tap c/2 when c is even, dx when odd) with kernel `kernels[c]` plus `bias[c]`.
    mutating func predictOffsets(kernels: [[Double]], bias: [Double]) {
        let channels = kernels.map(correlate)
        var flat = [Double](repeating: 0, count: outputCount * 2 * taps)
        for r in 0..<outputCount {
            for c in 0..<(2 * taps) { flat[2 * taps * r + c] = channels[c][r] + bias[c] }
        }
        offsets = flat
    }

    /// Σ over taps of weight · mask · bilinear(position), row-major.
    func output() -> [[Double]] {
        let w = weight.flatMap { $0 }
        // Flat per-tap tables: the inner loop runs up to 600000 times (DeformConvModule.maxSamples).
        let tapY = (0..<taps).map { ($0 / kernelWidth) * dilation }, tapX = (0..<taps).map { ($0 % kernelWidth) * dilation }
        let n = taps
        return (0..<outputHeight).map { i in
            (0..<outputWidth).map { j in
                let baseY = i * stride - padding, baseX = j * stride - padding
                let r = i * outputWidth + j
                var sum = 0.0
                for t in 0..<n {
                    // As ``position(_:_:tap:)``: the whole-cell part exactly, then the offset.
                    let y = Double(baseY + tapY[t]) + offsets[2 * n * r + 2 * t]
                    let x = Double(baseX + tapX[t]) + offsets[2 * n * r + 2 * t + 1]
                    sum += w[t] * (mask[n * r + t] * input.zeroPaddedBilinear(y: y, x: x).value)
                }
                return sum
            }
        }
    }

    /// The plain cross-correlation on the same grid, reading whole cells (zero padding):
    /// no offsets, no mask, no interpolation.
    func regular() -> [[Double]] {
        let flat = correlate(weight.flatMap { $0 })
        return (0..<outputHeight).map { i in Array(flat[(i * outputWidth)..<((i + 1) * outputWidth)]) }
    }

    /// Output (i, j) taken apart tap by tap: where each tap reads, what it reads, and the
    /// derivatives of o(i, j) with respect to that tap's offset and mask at (i, j).
    struct Tap {
        let y, x, sampled, mask, contribution: Double
        let dy, dx: Double
        /// ∂o(i, j)/∂dy, ∂o(i, j)/∂dx: weight · mask · slope, torchvision's one-sided slopes.
        let gradY, gradX: Double
        /// ∂o(i, j)/∂mask = weight · sampled value.
        let gradMask: Double
    }

    func breakdown(at i: Int, _ j: Int) -> [Tap] {
        let r = i * outputWidth + j, n = taps
        return (0..<n).map { t in
            let p = position(i, j, tap: t)
            let w = weight[t / kernelWidth][t % kernelWidth], m = mask[n * r + t]
            let sampled = input.zeroPaddedBilinear(y: p.y, x: p.x).value
            let slopes = input.zeroPaddedBilinearSlopes(y: p.y, x: p.x)
            // torchvision multiplies mask · coordinate weight · (weight · ∂loss/∂output).
            return Tap(y: p.y, x: p.x, sampled: sampled, mask: m, contribution: w * (m * sampled),
                       dy: offsets[2 * n * r + 2 * t], dx: offsets[2 * n * r + 2 * t + 1],
                       gradY: m * slopes.dy * w, gradX: m * slopes.dx * w, gradMask: w * sampled)
        }
    }
}

/// `deform.conv`: deformable (and modulated) convolution beside the regular one.
public struct DeformConvModule: ComputeModule {
    public init() {}
    public let name = "deform.conv"
    public let summary = "Deformable convolution: each tap samples the input bilinearly at grid position + (dy, dx), times its mask; offsets per tap, per position, or predicted by a plain convolution."
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
        ParameterSpec(name: "offset_map", kind: .matrix, defaultValue: .computed("from offsets"),
                      doc: "offsets per output position instead: (H_out·W_out)×(2·kh·kw), row i·W_out + j, columns dy₀, dx₀, dy₁, dx₁, … (torchvision's channel order)",
                      maxElements: 2 * maxSamples),
        ParameterSpec(name: "offset_weight", kind: .matrix, defaultValue: .computed("none"),
                      doc: "or predict the offsets: (2·kh·kw)×(kh·kw), row c a kh×kw kernel (row-major) for offset channel c (dy of tap c/2 for even c, dx for odd), correlated with the input on the layer's grid (same stride, padding, dilation)",
                      range: FeatureMapLimits.range, maxElements: 2 * 81 * 81),
        ParameterSpec(name: "offset_bias", kind: .vector, defaultValue: .computed("zeros, 2·kh·kw (with offset_weight)"),
                      doc: "bias per offset channel of offset_weight",
                      range: FeatureMapLimits.range, maxElements: 162),
        ParameterSpec(name: "mask", kind: .vector, defaultValue: .computed("all 1, kh·kw"),
                      doc: "modulation per tap (DCNv2), in row-major tap order, the same at every output position",
                      range: FeatureMapLimits.range, maxElements: 81),
        ParameterSpec(name: "mask_map", kind: .matrix, defaultValue: .computed("from mask"),
                      doc: "masks per output position instead: (H_out·W_out)×(kh·kw), row i·W_out + j",
                      range: FeatureMapLimits.range, maxElements: maxSamples),
        .integer("stride", 1, range: .closed(1, 64), doc: "step between output positions"),
        .integer("padding", 0, range: .closed(0, 64), doc: "zero cells added on every side"),
        .integer("dilation", 1, range: .closed(1, 64), doc: "spacing between taps"),
        .vector("at", [0, 0], range: .closed(0, 1e6), minElements: 2, maxElements: 2,
                doc: "[i, j]: the output position that positions, contributions, tap_offsets, offset_grad and mask_grad describe"),
    ]
    public let outputs: [OutputSpec] = [
        .init("output", .matrix, hint: .table, doc: "(i, j) = Σ_taps weight·mask·bilinear(i·stride − padding + u·dilation + dy, j·stride − padding + v·dilation + dx), with the offsets and mask of position (i, j)"),
        .init("regular", .matrix, hint: .table, doc: "the plain cross-correlation on the same grid: no offsets, no mask"),
        .init("positions", .matrix, hint: .table, doc: "output `at`, one row per tap: tap (0-based, row-major), y, x, sampled value"),
        .init("contributions", .vector, doc: "output `at`, per tap: weight·mask·sampled value; they sum to output[i][j]"),
        .init("tap_offsets", .matrix, hint: .table, doc: "output `at`, one row per tap: the (dy, dx) used there"),
        .init("offset_grad", .matrix, hint: .table, doc: "output `at`, one row per tap: ∂o(i, j)/∂dy, ∂o(i, j)/∂dx = weight·mask·slope of the sample, torchvision's rule (at a whole-number coordinate the slope of the piece to the right or below; 0 beyond one cell off the map)"),
        .init("mask_grad", .vector, doc: "output `at`, per tap: ∂o(i, j)/∂mask = weight·sampled value"),
        .init("max_abs_diff_vs_regular", .number, doc: "largest |output − regular|: 0 for zero offsets and a unit mask"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let input = FeatureMap(try inputs.matrix("input"))
        let weight = try inputs.matrix("weight")
        let kh = weight.count, kw = weight[0].count, taps = kh * kw
        var conv = DeformableConvolution(input: input, weight: weight, stride: try inputs.integer("stride"),
                                         padding: try inputs.integer("padding"), dilation: try inputs.integer("dilation"))
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
        let samples = conv.outputCount * taps
        guard samples <= Self.maxSamples else {
            throw .invalid("input", "gives \(conv.outputHeight)×\(conv.outputWidth) outputs × \(taps) taps = \(samples) bilinear samples; the limit is \(Self.maxSamples): use a smaller input or kernel, or a larger stride")
        }
        let grid = "\(conv.outputHeight)×\(conv.outputWidth) output grid"
        let given = ["offsets", "offset_map", "offset_weight"].filter { inputs[$0] != nil }
        guard given.count <= 1 else {
            throw .invalid(given[1], "cannot be given together with \(given[0]); give the offsets one way")
        }
        if inputs["offset_bias"] != nil && inputs["offset_weight"] == nil {
            throw .invalid("offset_bias", "is the bias of the offset branch; it needs offset_weight")
        }
        if inputs["offsets"] != nil {
            let offsets = try inputs.matrix("offsets")
            guard offsets.count == taps, offsets[0].count == 2 else {
                throw .invalid("offsets", "is \(offsets.count)×\(offsets[0].count) but the \(kh)×\(kw) weight has \(taps) taps; give one row [dy, dx] per tap, \(taps)×2 (or per position with offset_map)")
            }
            conv.setUniformOffsets(offsets)
        } else if inputs["offset_map"] != nil {
            let map = try inputs.matrix("offset_map")
            guard map.count == conv.outputCount, map[0].count == 2 * taps else {
                throw .invalid("offset_map", "is \(map.count)×\(map[0].count) but the \(grid) and \(taps) taps need \(conv.outputCount)×\(2 * taps): one row per output position i·W_out + j, columns dy, dx of each tap")
            }
            conv.offsets = map.flatMap { $0 }
        } else if inputs["offset_weight"] != nil {
            let kernels = try inputs.matrix("offset_weight")
            guard kernels.count == 2 * taps, kernels[0].count == taps else {
                throw .invalid("offset_weight", "is \(kernels.count)×\(kernels[0].count) but the \(kh)×\(kw) weight needs \(2 * taps)×\(taps): one kh×kw kernel (flattened row-major) per offset channel, dy and dx of each tap")
            }
            var bias = [Double](repeating: 0, count: 2 * taps)
            if inputs["offset_bias"] != nil {
                bias = try inputs.vector("offset_bias")
                guard bias.count == 2 * taps else {
                    throw .invalid("offset_bias", "has \(bias.count) entries but offset_weight has \(2 * taps) channels; give one per channel")
                }
            }
            conv.predictOffsets(kernels: kernels, bias: bias)
        } else {
            conv.offsets = [Double](repeating: 0, count: conv.outputCount * 2 * taps)
        }
        if inputs["mask"] != nil && inputs["mask_map"] != nil {
            throw .invalid("mask_map", "cannot be given together with mask; give the masks one way")
        }
        if inputs["mask"] != nil {
            let mask = try inputs.vector("mask")
            guard mask.count == taps else {
                throw .invalid("mask", "has \(mask.count) entries but the \(kh)×\(kw) weight has \(taps) taps; give one per tap")
            }
            conv.mask = Array((0..<conv.outputCount).map { _ in mask }.joined())
        } else if inputs["mask_map"] != nil {
            let map = try inputs.matrix("mask_map")
            guard map.count == conv.outputCount, map[0].count == taps else {
                throw .invalid("mask_map", "is \(map.count)×\(map[0].count) but the \(grid) and \(taps) taps need \(conv.outputCount)×\(taps): one row per output position i·W_out + j")
            }
            conv.mask = map.flatMap { $0 }
        } else {
            conv.mask = [Double](repeating: 1, count: conv.outputCount * taps)
        }
        let at = try inputs.vector("at")
        guard at.allSatisfy({ $0 == $0.rounded() }), Int(at[0]) < conv.outputHeight, Int(at[1]) < conv.outputWidth else {
            throw .invalid("at", "is [\(at.map(NumberText.shortest).joined(separator: ", "))] but the output positions of the \(grid) are [i, j] with whole numbers 0 ≤ i < \(conv.outputHeight), 0 ≤ j < \(conv.outputWidth)")
        }
        let output = conv.output()
        let regular = conv.regular()
        let taken = conv.breakdown(at: Int(at[0]), Int(at[1]))
        let diff = zip(output, regular).flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? 0
        return [
            "output": .matrix(output),
            "regular": .matrix(regular),
            "positions": .matrix(taken.enumerated().map { t, tap in [Double(t), tap.y, tap.x, tap.sampled] }),
            "contributions": .vector(taken.map(\.contribution)),
            "tap_offsets": .matrix(taken.map { [$0.dy, $0.dx] }),
            "offset_grad": .matrix(taken.map { [$0.gradY, $0.gradX] }),
            "mask_grad": .vector(taken.map(\.gradMask)),
            "max_abs_diff_vs_regular": .number(diff),
        ]
    }
}
