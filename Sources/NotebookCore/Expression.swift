import Foundation

/// An expression of the lesson language, with the text it was read from.
///
/// One language serves parameter values (`lr = base.lr / 10`), both sides of an expectation
/// (`expect mi_bound < channel.mi`), placeholders in prose (`{{ 1000 * max(rf.means) :.1f}}`)
/// and question answers. Operands are literals (numbers with `inf` and `nan`, booleans,
/// strings, bare words, vectors, matrices), references `cell.output[i][j]` and bare names;
/// operators `+ - * / ^` with unary minus and parentheses (`^` is right-associative and binds
/// tighter than unary minus: `-2^2` is −4); functions `abs log exp sqrt min max sum mean len
/// argmax`. Arithmetic is IEEE 754, elementwise on equal shapes, with scalars broadcast.
public struct Expression: Sendable, Equatable {
    public let root: ExpressionNode
    /// The text as written (trimmed), which parses back to the same expression.
    public let source: String

    public init(root: ExpressionNode, source: String) {
        self.root = root
        self.source = source
    }

    /// A literal value, written as lesson-file source.
    public static func literal(_ value: Value) -> Expression {
        Expression(root: ExpressionNode(.literal(value), at: 0), source: value.sourceText)
    }

    /// The value, when the expression is a plain literal.
    public var literalValue: Value? {
        if case .literal(let value) = root.kind { value } else { nil }
    }

    /// The expression when it is nothing but one reference (`safe.x`, `a.b[2]`).
    public var soleReference: OutputReference? {
        if case .reference(let reference) = root.kind { reference } else { nil }
    }

    /// Every `cell.output` reference, in the order written.
    public var references: [OutputReference] { root.references }

    /// Every bare name (`softmax`, `nearest-even`) with where it stands.
    public var names: [(name: String, indexes: [Int], offset: Int)] { root.names }

    /// Whether evaluating needs nothing but the expression: no references and no names.
    public var isSelfContained: Bool { references.isEmpty && names.isEmpty }
}

/// One node of an expression tree, with the offset (in characters) where it starts in the
/// expression's text, for error messages.
public struct ExpressionNode: Sendable, Equatable {
    public indirect enum Kind: Sendable, Equatable {
        case literal(Value)
        /// `[a, b, c]`: a vector of scalars, or a matrix of equal-length rows.
        case list([ExpressionNode])
        /// `cell.output[i][j]`.
        case reference(OutputReference)
        /// A bare name with optional indexes: in an expectation or an answer, the cell's own
        /// output; elsewhere a word (an enumeration value such as `fp16`).
        case name(String, indexes: [Int])
        case negate(ExpressionNode)
        case binary(BinaryOperator, ExpressionNode, ExpressionNode)
        case call(ExpressionFunction, [ExpressionNode])
    }

    public var kind: Kind
    public var offset: Int
    /// The longest path from here to a leaf. The parser keeps it bounded, so evaluating (and
    /// freeing) a tree can never exhaust the stack.
    public let height: Int

    public init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
        var tallest = 0
        switch kind {
        case .literal, .reference, .name: break
        case .list(let items): tallest = items.map(\.height).max() ?? 0
        case .negate(let operand): tallest = operand.height
        case .binary(_, let a, let b): tallest = Swift.max(a.height, b.height)
        case .call(_, let arguments): tallest = arguments.map(\.height).max() ?? 0
        }
        height = tallest + 1
    }

    var children: [ExpressionNode] {
        switch kind {
        case .literal, .reference, .name: []
        case .list(let items): items
        case .negate(let operand): [operand]
        case .binary(_, let a, let b): [a, b]
        case .call(_, let arguments): arguments
        }
    }

    var references: [OutputReference] {
        var found: [OutputReference] = []
        visit { if case .reference(let r) = $0.kind { found.append(r) } }
        return found
    }

    /// Every reference with the offset where it is written.
    public var referencesWithOffsets: [(reference: OutputReference, offset: Int)] {
        var found: [(reference: OutputReference, offset: Int)] = []
        visit { if case .reference(let r) = $0.kind { found.append((r, $0.offset)) } }
        return found
    }

    var names: [(name: String, indexes: [Int], offset: Int)] {
        var found: [(name: String, indexes: [Int], offset: Int)] = []
        visit { if case .name(let name, let indexes) = $0.kind { found.append((name, indexes, $0.offset)) } }
        return found
    }

    /// Visits every node, depth first, without recursion (trees can be deep).
    func visit(_ body: (ExpressionNode) -> Void) {
        var stack = [self]
        while let node = stack.popLast() {
            body(node)
            stack += node.children.reversed()
        }
    }
}

public enum BinaryOperator: String, Sendable, Equatable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", power = "^"
}

/// The functions of the expression language.
public enum ExpressionFunction: String, Sendable, Equatable, CaseIterable {
    case abs, log, exp, sqrt, min, max, sum, mean, len, argmax

    /// How many arguments it takes.
    var arity: ClosedRange<Int> {
        switch self {
        case .min, .max: 1...16
        default: 1...1
        }
    }
}

/// An error in an expression: where (a character offset into its text) and what.
public struct ExpressionError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The text does not parse.
        case syntax
        /// It parses but cannot be evaluated: a shape mismatch, a function on the wrong kind.
        case invalid
        /// A value it refers to is not available (the cell failed, or has not run).
        case unavailable
    }

    public var kind: Kind
    public var offset: Int
    public var message: String

    public init(_ kind: Kind, at offset: Int, _ message: String) {
        self.kind = kind
        self.offset = offset
        self.message = message
    }

    public var description: String { message }
}

/// Where an expression finds the values it names.
public struct ExpressionScope {
    /// The whole value of output `output` of cell `cell` (the evaluator applies indexes), or
    /// why it is not available.
    public var reference: (_ cell: String, _ output: String) -> Result<Value, ExpressionError>
    /// The value of a bare name (the cell's own output), or nil when the name is a word.
    public var name: (String) -> Value?

    public init(reference: @escaping (_ cell: String, _ output: String) -> Result<Value, ExpressionError> = { cell, output in
                    .failure(ExpressionError(.invalid, at: 0, "'\(cell).\(output)' cannot be used here"))
                },
                name: @escaping (String) -> Value? = { _ in nil }) {
        self.reference = reference
        self.name = name
    }

    /// A scope with nothing in it: names are words, references are errors.
    public static var empty: ExpressionScope { ExpressionScope() }
}
