/// Judges `expect` lines against a cell's outputs.
enum ExpectationJudge {
    static func judge(_ expectation: Expectation, outputs: Outputs) -> ExpectationResult {
        guard let whole = outputs[expectation.output] else {
            return ExpectationResult(expectation: expectation, passed: false, actual: nil,
                                     message: "no output '\(expectation.output)'")
        }
        guard let actual = whole.element(at: expectation.indexes) else {
            return ExpectationResult(expectation: expectation, passed: false, actual: nil,
                                     message: "index out of range for \(expectation.output) (\(whole.shapeDescription))")
        }
        let passed = holds(expectation.comparison, actual)
        return ExpectationResult(expectation: expectation, passed: passed, actual: actual,
                                 message: passed ? nil : "got \(actual.displayText)")
    }

    /// Every element must satisfy a numeric comparison; `=` compares whole values.
    static func holds(_ comparison: Expectation.Comparison, _ actual: Value) -> Bool {
        if case .equal(let expected) = comparison { return equal(actual, expected) }
        let elements: [Double]
        switch actual {
        case .number(let x): elements = [x]
        case .integer(let n): elements = [Double(n)]
        case .vector(let xs): elements = xs
        case .matrix(let rows): elements = rows.flatMap { $0 }
        case .bool, .text: return false
        }
        guard !elements.isEmpty else { return false }
        return elements.allSatisfy { x in
            switch comparison {
            case .approximately(let target, let tolerance):
                if target.isInfinite || target.isNaN { return x == target || (x.isNaN && target.isNaN) }
                return abs(x - target) <= tolerance
            case .less(let b): return x < b
            case .lessOrEqual(let b): return x <= b
            case .greater(let b): return x > b
            case .greaterOrEqual(let b): return x >= b
            case .equal: return false
            }
        }
    }

    static func equal(_ actual: Value, _ expected: Value) -> Bool {
        func same(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }
        switch (actual, expected) {
        case (.text(let a), .text(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.vector(let a), .vector(let b)): return a.count == b.count && zip(a, b).allSatisfy(same)
        case (.matrix(let a), .matrix(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.count == $1.count && zip($0, $1).allSatisfy(same) }
        default:
            guard let a = actual.scalar, let b = expected.scalar else { return false }
            return same(a, b)
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
