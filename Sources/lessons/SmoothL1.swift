import Foundation
import NotebookCore

// The smooth L1 (Huber-like) loss of Fast R-CNN (Girshick, 2015), as torch.nn.functional
// .smooth_l1_loss defines it: quadratic near zero, so small errors give small gradients, and
// linear beyond β, so an outlier's gradient is capped at 1 (less sensitive than L2).

/// The smooth L1 loss of each difference d = pred − target, with its derivative.
struct SmoothL1 {
    /// Where the quadratic piece hands over to the linear one; β = 0 is plain L1.
    let beta: Double

    /// 0.5·d²/β for |d| < β, else |d| − 0.5·β. The two pieces meet with equal value and
    /// slope at |d| = β.
    func loss(_ d: Double) -> Double {
        abs(d) < beta ? 0.5 * d * d / beta : abs(d) - 0.5 * beta
    }

    /// dℓ/dd: d/β inside, sign(d) outside (0 at d = 0 when β = 0, as torch's L1 gradient).
    func derivative(_ d: Double) -> Double {
        if abs(d) < beta { return d / beta }
        return d > 0 ? 1 : d < 0 ? -1 : 0
    }
}

/// `loss.smooth-l1`: elementwise smooth L1, its mean and sum, and the gradient of the mean.
public struct SmoothL1Module: ComputeModule {
    public init() {}
    public let name = "loss.smooth-l1"
    public let summary = "Smooth L1 loss: 0.5·d²/β inside |d| < β, |d| − β/2 outside; mean, sum and gradient."
    // ±1e150 keeps d² finite in the quadratic piece for every β the range allows.
    static let valueRange = NumberRange.closed(-1e150, 1e150)
    public let parameters: [ParameterSpec] = [
        .vector("pred", [0.5, -2, 1.2, 3], range: valueRange, maxElements: 100_000, doc: "predictions"),
        .vector("target", [0, 0, 1, 0], range: valueRange, maxElements: 100_000, doc: "targets, same length as pred"),
        .number("beta", 1, range: .closed(0, 1e150), doc: "where the quadratic piece ends; β = 0 is plain L1"),
    ]
    public let outputs: [OutputSpec] = [
        .init("diff", .vector, doc: "d = pred − target"),
        .init("elementwise", .vector, hint: .chart, doc: "0.5·d²/β where |d| < β, else |d| − 0.5·β"),
        .init("loss", .number, doc: "mean of elementwise"),
        .init("sum", .number, doc: "sum of elementwise"),
        .init("grad", .vector, doc: "∂loss/∂pred: d/(β·n) inside, sign(d)/n outside; |grad| ≤ 1/n"),
        .init("quadratic", .vector, doc: "1 where |d| < β (the quadratic piece applies), else 0"),
    ]

    public func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let pred = try inputs.vector("pred"), target = try inputs.vector("target")
        guard target.count == pred.count else {
            throw .invalid("target", "has \(target.count) entries but pred has \(pred.count); give one target per prediction")
        }
        let f = SmoothL1(beta: try inputs.number("beta"))
        let d = zip(pred, target).map { $0 - $1 }
        let elementwise = d.map(f.loss)
        let sum = elementwise.reduce(0, +)
        let n = Double(d.count)
        return [
            "diff": .vector(d),
            "elementwise": .vector(elementwise),
            "loss": .number(sum / n),
            "sum": .number(sum),
            "grad": .vector(d.map { f.derivative($0) / n }),
            "quadratic": .vector(d.map { abs($0) < f.beta ? 1 : 0 }),
        ]
    }
}
