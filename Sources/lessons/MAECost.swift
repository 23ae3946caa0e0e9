import Foundation
import NotebookCore

// The pre-training cost of a masked autoencoder (He et al. 2022), counted in multiply-adds per
// image, against the same network whose encoder also processes the mask tokens (their Table 1(c),
// "encoder w/ [M]"). The image has n = (image/patch)² patches; MAE keeps n_vis = ⌊n(1 − m)⌋ of
// them (the reference code's `int(L * (1 - mask_ratio))`). Per token, a transformer block of
// width w with MLP ratio ρ costs
//     linear layers:  (4 + 2ρ)·w²   (Q, K, V and the output projection 4w², the MLP 2ρw²)
//     attention:      2·t·w          (QKᵀ and the weighted sum of V over t tokens)
// and the three layers outside the blocks cost
//     patch embedding:    p²c·w_enc per visible patch, in both designs (a mask token is a learned
//                         vector, not an embedded patch)
//     decoder embedding:  w_enc·w_dec per encoder output (n_vis for MAE, n with mask tokens)
//     prediction head:    w_dec·p²c per token, n in both designs.
// Softmax, normalisation, the class token and the loss are left out.

/// `mae.cost`: MAE's training multiply-adds per image, with and without mask tokens in the encoder.
public struct MAECostModule: ComputeModule {
    public init() {}
    public let name = "mae.cost"
    public let summary = "Masked-autoencoder pre-training cost per image: the encoder sees only visible patches, against an encoder that also processes the mask tokens."

    public let parameters: [ParameterSpec] = [
        .integer("image", 224, range: .closed(1, 100_000), doc: "image side, pixels"),
        .integer("patch", 16, range: .closed(1, 100_000), doc: "patch side, pixels; must divide image"),
        .integer("channels", 3, range: .closed(1, 1_000), doc: "colour channels c"),
        .number("mask_ratio", 0.75, range: .init(lower: 0, upper: 1, upperInclusive: false), doc: "m, the fraction of patches removed, in [0, 1)"),
        .integer("encoder_depth", 24, range: .closed(1, 1_000), doc: "encoder blocks (ViT-Large: 24)"),
        .integer("encoder_width", 1024, range: .closed(1, 100_000), doc: "encoder width w_enc (ViT-Large: 1024)"),
        .integer("decoder_depth", 8, range: .closed(0, 1_000), doc: "decoder blocks (MAE's default: 8)"),
        .integer("decoder_width", 512, range: .closed(1, 100_000), doc: "decoder width w_dec (MAE's default: 512)"),
        .number("mlp_ratio", 4, range: .closed(0, 100), doc: "ρ, MLP hidden width over block width"),
    ]
    public let outputs: [OutputSpec] = [
        .init("tokens", .integer, doc: "n = (image/patch)², the patches of an image"),
        .init("visible", .integer, doc: "n_vis = ⌊n(1 − m)⌋, the patches MAE's encoder sees"),
        .init("decoder_fraction", .number, doc: "r: the decoder's linear-layer cost per token over the encoder's"),
        .init("speedup_linear", .number, doc: "the saving counting the blocks' linear layers only: (1 + r)/(n_vis/n + r)"),
        .init("speedup_attention", .number, doc: "the saving counting the blocks' linear layers and attention"),
        .init("speedup", .number, doc: "the saving counting everything above plus the patch embedding, decoder embedding and prediction head"),
        .init("cost", .number, doc: "MAE's multiply-adds per image, every term"),
        .init("cost_mask_tokens", .number, doc: "the same when the encoder also processes the n − n_vis mask tokens"),
        .init("encoder_share", .number, hint: .percent, doc: "the encoder's share of MAE's cost"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let image = try inputs.integer("image"), patch = try inputs.integer("patch")
        guard image % patch == 0 else { throw .invalid("patch", "is \(patch), which does not divide image = \(image)") }
        let side = Double(image / patch), n = side * side
        guard n <= 1e8 else { throw .invalid("patch", "gives \(NumberText.shortest(n)) patches; the limit is 10⁸") }
        let m = try inputs.number("mask_ratio")
        let visible = (n * (1 - m)).rounded(.down)
        guard visible >= 1 else { throw .invalid("mask_ratio", "leaves no visible patch of \(Int(n)); use a smaller ratio") }
        let de = Double(try inputs.integer("encoder_depth")), we = Double(try inputs.integer("encoder_width"))
        let dd = Double(try inputs.integer("decoder_depth")), wd = Double(try inputs.integer("decoder_width"))
        let rho = try inputs.number("mlp_ratio")
        let pixelsPerPatch = Double(patch * patch) * Double(try inputs.integer("channels"))

        func linear(_ w: Double) -> Double { (4 + 2 * rho) * w * w }
        func blocks(depth: Double, width w: Double, tokens t: Double, attention: Bool) -> Double {
            depth * t * (linear(w) + (attention ? 2 * t * w : 0))
        }
        func total(encoderTokens t: Double, attention: Bool, outside: Bool) -> (encoder: Double, all: Double) {
            let encoder = blocks(depth: de, width: we, tokens: t, attention: attention)
            let decoder = blocks(depth: dd, width: wd, tokens: n, attention: attention)
            let rest = outside ? visible * pixelsPerPatch * we + t * we * wd + n * wd * pixelsPerPatch : 0
            return (encoder, encoder + decoder + rest)
        }
        let r = dd * linear(wd) / (de * linear(we))
        let mae = total(encoderTokens: visible, attention: true, outside: true)
        let full = total(encoderTokens: n, attention: true, outside: true)
        let attentionOnly = total(encoderTokens: n, attention: true, outside: false).all
            / total(encoderTokens: visible, attention: true, outside: false).all
        return [
            "tokens": .integer(Int(n)),
            "visible": .integer(Int(visible)),
            "decoder_fraction": .number(r),
            "speedup_linear": .number((1 + r) / (visible / n + r)),
            "speedup_attention": .number(attentionOnly),
            "speedup": .number(full.all / mae.all),
            "cost": .number(mae.all),
            "cost_mask_tokens": .number(full.all),
            "encoder_share": .number(mae.encoder / mae.all),
        ]
    }
}
