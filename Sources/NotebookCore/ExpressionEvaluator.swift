import Foundation

extension Expression {
    /// The value of the expression, with names and references looked up in `scope`.
    ///
    /// Arithmetic follows IEEE 754 (`1/0` is inf, `log(-1)` NaN); a shape mismatch, a function
    /// on the wrong kind or a string in arithmetic is an ``ExpressionError`` at the offending
    /// part. Nothing traps: the parser bounds the tree's height.
    public func evaluate(in scope: ExpressionScope) throws(ExpressionError) -> Value {
        try ExpressionEvaluator(scope: scope).value(root)
    }
}

/// Numbers in one of three shapes, for arithmetic with broadcasting.
private enum Numeric {
    case scalar(Double)
    case vector([Double])
    case matrix([[Double]])

    var value: Value {
        switch self {
        case .scalar(let x): .number(x)
        case .vector(let xs): .vector(xs)
        case .matrix(let rows): .matrix(rows)
        }
    }

    var elements: [Double] {
        switch self {
        case .scalar(let x): [x]
        case .vector(let xs): xs
        case .matrix(let rows): rows.flatMap { $0 }
        }
    }

    func map(_ f: (Double) -> Double) -> Numeric {
        switch self {
        case .scalar(let x): .scalar(f(x))
        case .vector(let xs): .vector(xs.map(f))
        case .matrix(let rows): .matrix(rows.map { $0.map(f) })
        }
    }
}

struct ExpressionEvaluator {
    let scope: ExpressionScope

    func value(_ node: ExpressionNode) throws(ExpressionError) -> Value {
        switch node.kind {
        case .literal(let v):
            return v
        case .list(let items):
            return try list(items, node)
        case .reference(let reference):
            let whole: Value
            switch scope.reference(reference.cell, reference.output) {
            case .success(let v): whole = v
            case .failure(var error):
                error.offset = node.offset
                throw error
            }
            return try index(whole, reference.indexes, "\(reference.cell).\(reference.output)", node)
        case .name(let name, let indexes):
            if let v = scope.name(name) { return try index(v, indexes, name, node) }
            guard indexes.isEmpty else {
                throw invalid("'\(name)' is not an output here, so it cannot be indexed", node)
            }
            return .text(name)
        case .negate(let operand):
            let v = try value(operand)
            if case .integer(let n) = v, n != Int.min { return .integer(-n) }
            return try numeric(v, operand).map { -$0 }.value
        case .binary(let op, let a, let b):
            return try arithmetic(op, value(a), value(b), node, a, b)
        case .call(let function, let arguments):
            var values: [Value] = []
            for argument in arguments { values.append(try value(argument)) }
            return try call(function, values, arguments, node)
        }
    }

    private func invalid(_ message: String, _ node: ExpressionNode) -> ExpressionError {
        ExpressionError(.invalid, at: node.offset, message)
    }

    private func numeric(_ v: Value, _ node: ExpressionNode) throws(ExpressionError) -> Numeric {
        switch v {
        case .number(let x): return .scalar(x)
        case .integer(let n): return .scalar(Double(n))
        case .vector(let xs): return .vector(xs)
        case .matrix(let rows): return .matrix(rows)
        case .bool(let b): throw invalid("\(b) is a boolean; arithmetic needs numbers", node)
        case .text(let t): throw invalid("'\(t)' is a word, not a number (an output name misspelt?)", node)
        }
    }

    private func index(_ v: Value, _ indexes: [Int], _ name: String, _ node: ExpressionNode) throws(ExpressionError) -> Value {
        guard !indexes.isEmpty else { return v }
        guard let element = v.element(at: indexes) else {
            let written = name + indexes.map { "[\($0)]" }.joined()
            switch v {
            case .vector, .matrix:
                throw invalid("\(written) is out of range: \(name) is a \(v.shapeDescription)", node)
            default:
                throw invalid("\(written): \(name) is \(v.kind.article) \(v.kind.rawValue), which has no elements", node)
            }
        }
        return element
    }

    private func list(_ items: [ExpressionNode], _ node: ExpressionNode) throws(ExpressionError) -> Value {
        var numbers: [Double] = []
        var rows: [[Double]] = []
        for item in items {
            switch try value(item) {
            case .number(let x) where rows.isEmpty: numbers.append(x)
            case .integer(let n) where rows.isEmpty: numbers.append(Double(n))
            case .vector(let row) where numbers.isEmpty:
                if let first = rows.first, first.count != row.count {
                    throw invalid("ragged matrix: row \(rows.count + 1) has \(row.count) elements, row 1 has \(first.count)", item)
                }
                rows.append(row)
            case let other:
                throw invalid("a list holds numbers or equal rows of numbers, not \(other.kind.article) \(other.kind.rawValue) here", item)
            }
        }
        return rows.isEmpty ? .vector(numbers) : .matrix(rows)
    }

    // MARK: Arithmetic

    private func arithmetic(_ op: BinaryOperator, _ a: Value, _ b: Value, _ node: ExpressionNode,
                            _ left: ExpressionNode, _ right: ExpressionNode) throws(ExpressionError) -> Value {
        // Whole numbers stay whole under + − × while they fit: `steps = 2 * 5` is an integer.
        if case .integer(let x) = a, case .integer(let y) = b {
            switch op {
            case .add: let r = x.addingReportingOverflow(y); if !r.overflow { return .integer(r.partialValue) }
            case .subtract: let r = x.subtractingReportingOverflow(y); if !r.overflow { return .integer(r.partialValue) }
            case .multiply: let r = x.multipliedReportingOverflow(by: y); if !r.overflow { return .integer(r.partialValue) }
            case .divide, .power: break
            }
        }
        let f: (Double, Double) -> Double
        switch op {
        case .add: f = (+)
        case .subtract: f = (-)
        case .multiply: f = (*)
        case .divide: f = (/)
        case .power: f = { Foundation.pow($0, $1) }
        }
        return try broadcast(numeric(a, left), numeric(b, right), node, f).value
    }

    private func broadcast(_ a: Numeric, _ b: Numeric, _ node: ExpressionNode,
                           _ f: (Double, Double) -> Double) throws(ExpressionError) -> Numeric {
        switch (a, b) {
        case (.scalar(let x), .scalar(let y)): return .scalar(f(x, y))
        case (.scalar(let x), _): return b.map { f(x, $0) }
        case (_, .scalar(let y)): return a.map { f($0, y) }
        case (.vector(let xs), .vector(let ys)) where xs.count == ys.count:
            var out = [Double](repeating: 0, count: xs.count)
            for i in xs.indices { out[i] = f(xs[i], ys[i]) }
            return .vector(out)
        case (.matrix(let xs), .matrix(let ys)) where xs.count == ys.count && zip(xs, ys).allSatisfy({ $0.count == $1.count }):
            return .matrix(zip(xs, ys).map { row, other in zip(row, other).map(f) })
        default:
            throw invalid("shapes differ: \(a.value.shapeDescription) and \(b.value.shapeDescription)", node)
        }
    }

    // MARK: Functions

    private func call(_ function: ExpressionFunction, _ values: [Value], _ arguments: [ExpressionNode],
                      _ node: ExpressionNode) throws(ExpressionError) -> Value {
        let first = values[0]
        switch function {
        case .abs:
            if case .integer(let n) = first, n != Int.min { return .integer(Swift.abs(n)) }
            return try numeric(first, arguments[0]).map { Swift.abs($0) }.value
        case .log: return try numeric(first, arguments[0]).map { Foundation.log($0) }.value
        case .exp: return try numeric(first, arguments[0]).map { Foundation.exp($0) }.value
        case .sqrt: return try numeric(first, arguments[0]).map { $0.squareRoot() }.value
        case .min, .max:
            let pick: (Double, Double) -> Double = function == .min
                ? { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) }
                : { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }
            if values.count == 1 {
                let xs = try numeric(first, arguments[0]).elements
                guard var best = xs.first else { throw invalid("\(function.rawValue) of an empty vector", node) }
                for x in xs.dropFirst() { best = pick(best, x) }
                return .number(best)
            }
            var result = try numeric(first, arguments[0])
            for (v, argument) in zip(values.dropFirst(), arguments.dropFirst()) {
                result = try broadcast(result, numeric(v, argument), node, pick)
            }
            return result.value
        case .sum:
            return .number(try numeric(first, arguments[0]).elements.reduce(0, +))
        case .mean:
            let xs = try numeric(first, arguments[0]).elements
            guard !xs.isEmpty else { throw invalid("mean of an empty vector", node) }
            return .number(xs.reduce(0, +) / Double(xs.count))
        case .len:
            switch first {
            case .vector(let xs): return .integer(xs.count)
            case .matrix(let rows): return .integer(rows.count)
            default: throw invalid("len needs a vector or a matrix, got \(first.kind.article) \(first.kind.rawValue)", arguments[0])
            }
        case .argmax:
            switch try numeric(first, arguments[0]) {
            case .vector(let xs):
                guard let i = Self.argmax(xs) else { throw invalid("argmax of an empty vector", node) }
                return .integer(i)
            case .matrix(let rows):
                var out: [Double] = []
                for row in rows {
                    guard let i = Self.argmax(row) else { throw invalid("argmax of an empty row", node) }
                    out.append(Double(i))
                }
                return .vector(out)
            case .scalar:
                throw invalid("argmax needs a vector or a matrix", arguments[0])
            }
        }
    }

    /// The index of the first largest element; a NaN counts as largest, as in numpy.
    static func argmax(_ xs: [Double]) -> Int? {
        guard !xs.isEmpty else { return nil }
        if let nan = xs.firstIndex(where: \.isNaN) { return nan }
        var best = 0
        for i in xs.indices.dropFirst() where xs[i] > xs[best] { best = i }
        return best
    }
}
