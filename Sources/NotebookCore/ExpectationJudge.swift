/// Judges `expect` lines: both sides are evaluated and compared elementwise, a scalar
/// standing for every element of the other side. `=` holds when the values are equal (NaN
/// equals NaN); `≈ ± t` when every difference is at most t (an infinite or NaN side must be
/// matched exactly); `<`, `<=`, `>`, `>=` when they hold for every element.
enum ExpectationJudge {
    static func judge(_ expectation: Expectation, in scope: ExpressionScope) -> ExpectationResult {
        var result = ExpectationResult(expectation: expectation, passed: false)
        do {
            let left = try expectation.left.evaluate(in: scope)
            result.left = left
            let right = try expectation.right.evaluate(in: scope)
            result.right = right
            let tolerance = try expectation.tolerance.map { tolerance throws(ExpressionError) in
                guard let t = try tolerance.evaluate(in: scope).scalar, t >= 0 else {
                    throw ExpressionError(.invalid, at: 0, "the tolerance '\(tolerance.source)' must be a number ≥ 0")
                }
                return t
            }
            switch compare(left, expectation.comparison, right, tolerance: tolerance ?? 0) {
            case .holds:
                result.passed = true
            case .fails:
                result.message = describe(expectation, left, right)
            case .incomparable(let why):
                result.message = why + " (" + describe(expectation, left, right) + ")"
            }
        } catch {
            result.message = error.message
        }
        return result
    }

    /// `mi_bound = 0.3106, channel.mi = 0.25`; a literal side is not repeated.
    static func describe(_ expectation: Expectation, _ left: Value, _ right: Value) -> String {
        var parts = ["\(expectation.left.source) = \(summary(left))"]
        if expectation.right.literalValue == nil { parts.append("\(expectation.right.source) = \(summary(right))") }
        return parts.joined(separator: ", ")
    }

    private static func summary(_ value: Value) -> String {
        switch value {
        case .vector(let xs): NumberText.list(xs, limit: 8)
        case .matrix(let rows) where rows.count > 4: "\(value.shapeDescription) starting \(NumberText.list(rows[0], limit: 8))"
        case .matrix(let rows): "[" + rows.map { NumberText.list($0, limit: 8) }.joined(separator: ", ") + "]"
        case .number(let x): NumberText.shortest(x)
        default: value.displayText
        }
    }

    enum Verdict: Equatable {
        case holds, fails
        case incomparable(String)
    }

    static func compare(_ left: Value, _ comparison: ExpressionParser.Comparison, _ right: Value,
                        tolerance: Double) -> Verdict {
        switch (left, right) {
        case (.text(let a), .text(let b)):
            guard comparison == .equal else { return .incomparable("words compare only with =") }
            return a == b ? .holds : .fails
        case (.bool(let a), .bool(let b)):
            guard comparison == .equal else { return .incomparable("booleans compare only with =") }
            return a == b ? .holds : .fails
        case (.text, _), (_, .text), (.bool, _), (_, .bool):
            return .incomparable("a \(left.kind.rawValue) cannot be compared with a \(right.kind.rawValue)")
        default:
            break
        }
        guard let pairs = elementPairs(left, right) else {
            return .incomparable("shapes differ: \(left.shapeDescription) and \(right.shapeDescription)")
        }
        guard !pairs.isEmpty else { return .incomparable("nothing to compare: an empty value") }
        let holds: (Double, Double) -> Bool
        switch comparison {
        case .equal: holds = { $0 == $1 || ($0.isNaN && $1.isNaN) }
        case .approximately:
            holds = { a, b in
                if !a.isFinite || !b.isFinite { return a == b || (a.isNaN && b.isNaN) }
                return abs(a - b) <= tolerance
            }
        case .less: holds = (<)
        case .lessOrEqual: holds = (<=)
        case .greater: holds = (>)
        case .greaterOrEqual: holds = (>=)
        }
        return pairs.allSatisfy(holds) ? .holds : .fails
    }

    /// The elements of the two sides, paired; a scalar pairs with every element of the other.
    /// Nil when the shapes differ.
    private static func elementPairs(_ a: Value, _ b: Value) -> [(Double, Double)]? {
        guard let xs = a.numbers, let ys = b.numbers else { return nil }
        if a.scalar != nil { return ys.map { (xs[0], $0) } }
        if b.scalar != nil { return xs.map { ($0, ys[0]) } }
        switch (a, b) {
        case (.vector, .vector) where xs.count == ys.count: return Array(zip(xs, ys))
        case (.matrix(let r), .matrix(let s)) where r.count == s.count && zip(r, s).allSatisfy({ $0.count == $1.count }):
            return Array(zip(xs, ys))
        default: return nil
        }
    }
}

extension Value {
    /// `vector of 5`, `3×4 matrix`, `number`.
    public var shapeDescription: String {
        switch self {
        case .vector(let xs): "vector of \(xs.count)"
        case .matrix(let rows): "\(rows.count)×\(rows.first?.count ?? 0) matrix"
        default: kind.rawValue
        }
    }
}
