import Foundation

/// Reads the expression language of ``Expression`` (docs/lesson-format.md), and `expect` lines built of two
/// expressions and a comparison.
///
/// Lesson files, `--set`, saved overrides and the notebook's editor all parse through here, so
/// a value means the same thing wherever it is typed. The parser works on Unicode scalars and
/// folds literal vectors and matrices as it reads them, so a million-number vector parses in
/// milliseconds. Error offsets count Unicode scalars from the start of the text.
public struct ExpressionParser {
    private let s: [Unicode.Scalar]
    private var pos = 0
    /// Open brackets, parentheses, calls and powers; bounded so hostile input cannot exhaust
    /// the stack.
    private var depth = 0
    /// Inside the right side of a comparison, `+-` separates a tolerance instead of adding.
    private var plusMinusEnds = false
    public static let maxDepth = 64
    /// The tallest tree an expression may make (a chain of 200 additions is one level each).
    public static let maxHeight = 256

    init(_ text: String) {
        s = Array(text.unicodeScalars)
    }

    /// Parses a whole expression; trailing text is an error.
    public static func parse(_ text: String) throws(ExpressionError) -> Expression {
        var parser = ExpressionParser(text)
        parser.skipSpace()
        guard !parser.atEnd else { throw ExpressionError(.syntax, at: 0, "expected a value") }
        let root = try parser.parseSum()
        parser.skipSpace()
        if let c = parser.current {
            throw parser.error("unexpected '\(c)' after the value")
        }
        // A literal reads back in its plain form: `[2.0, 1.0]` is shown and saved as `[2, 1]`.
        // (Big data keeps its text: formatting a million numbers again would cost more than reading them.)
        if case .literal(let value) = root.kind, value.elementCount <= 256 {
            return Expression(root: root, source: value.sourceText)
        }
        return Expression(root: root, source: text.trimmingSpace)
    }

    // MARK: Expectations

    /// How an `expect` line compares its two sides.
    public enum Comparison: String, Sendable, Equatable {
        case equal = "="
        case approximately = "≈"
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    /// `LEFT OP RIGHT`, with `± TOLERANCE` after the right side of `≈`.
    public struct ExpectationParts: Sendable, Equatable {
        public var left: Expression
        public var comparison: Comparison
        public var right: Expression
        public var tolerance: Expression?
    }

    private static let comparisonTokens: [(String, Comparison)] = [
        ("<=", .lessOrEqual), (">=", .greaterOrEqual), ("~=", .approximately), ("==", .equal),
        ("≈", .approximately), ("≤", .lessOrEqual), ("≥", .greaterOrEqual),
        ("<", .less), (">", .greater), ("=", .equal),
    ]

    /// Parses the text after `expect`.
    public static func parseExpectation(_ text: String) throws(ExpressionError) -> ExpectationParts {
        var parser = ExpressionParser(text)
        let usage = "expected 'expect LEFT OP RIGHT' with OP one of =, ≈ (with ± tolerance), <, <=, >, >="
        parser.skipSpace()
        guard !parser.atEnd else { throw ExpressionError(.syntax, at: 0, usage) }
        let leftStart = parser.pos
        let leftRoot = try parser.parseSum()
        let leftEnd = parser.pos
        parser.skipSpace()
        guard let (token, comparison) = comparisonTokens.first(where: { parser.lookingAt($0.0) }) else {
            throw parser.error(parser.atEnd ? usage : "expected a comparison (=, ≈, <, <=, >, >=), got '\(parser.current!)'")
        }
        parser.pos += token.unicodeScalars.count
        parser.skipSpace()
        guard !parser.atEnd else { throw parser.error("expected a value after '\(token)'") }
        let rightStart = parser.pos
        // `+-` ends the right side of every comparison, so that `expect x = 3 +- 1` is refused
        // below rather than read as x = 2.
        parser.plusMinusEnds = true
        let rightRoot = try parser.parseSum()
        let rightEnd = parser.pos
        parser.plusMinusEnds = false
        parser.skipSpace()
        if comparison != .approximately, parser.lookingAt("±") || parser.lookingAt("+-") {
            throw parser.error("a tolerance goes with ≈ only: expect LEFT ≈ RIGHT ± TOLERANCE")
        }
        var tolerance: Expression?
        if comparison == .approximately {
            guard parser.lookingAt("±") || parser.lookingAt("+-") else {
                throw parser.error("'≈' needs a tolerance: expect LEFT ≈ RIGHT ± TOLERANCE")
            }
            parser.pos += parser.lookingAt("±") ? 1 : 2
            parser.skipSpace()
            let start = parser.pos
            let root = try parser.parseSum()
            tolerance = Expression(root: root, source: parser.text(start..<parser.pos))
            parser.skipSpace()
        }
        if let c = parser.current { throw parser.error("unexpected '\(c)' after the expectation") }
        return ExpectationParts(left: Expression(root: leftRoot, source: parser.text(leftStart..<leftEnd)),
                                comparison: comparison,
                                right: Expression(root: rightRoot, source: parser.text(rightStart..<rightEnd)),
                                tolerance: tolerance)
    }

    // MARK: Scanning

    private var atEnd: Bool { pos >= s.count }
    private var current: Unicode.Scalar? { pos < s.count ? s[pos] : nil }
    private func peek(_ k: Int = 1) -> Unicode.Scalar? { pos + k < s.count ? s[pos + k] : nil }

    private func error(_ message: String, at offset: Int? = nil) -> ExpressionError {
        ExpressionError(.syntax, at: min(offset ?? pos, s.count), message)
    }

    private mutating func skipSpace() {
        while let c = current, c == " " || c == "\t" { pos += 1 }
    }

    private func lookingAt(_ token: String) -> Bool {
        var i = pos
        for t in token.unicodeScalars {
            guard i < s.count, s[i] == t else { return false }
            i += 1
        }
        return true
    }

    private func text(_ range: Range<Int>) -> String {
        String(scalars: s[range]).trimmingSpace
    }

    private func checked(_ node: ExpressionNode) throws(ExpressionError) -> ExpressionNode {
        guard node.height <= Self.maxHeight else {
            throw error("the expression is too long: more than \(Self.maxHeight) operations deep", at: node.offset)
        }
        return node
    }

    private mutating func descend() throws(ExpressionError) {
        depth += 1
        if depth > Self.maxDepth { throw error("nested more than \(Self.maxDepth) levels deep") }
    }

    static func isLetter(_ c: Unicode.Scalar) -> Bool {
        // ASCII first: the Unicode property lookup is the parser's hottest call otherwise.
        if c.isASCII { return ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
        return c.properties.isAlphabetic
    }
    static func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }
    /// A name starts with a letter or `_`.
    public static func isNameStart(_ c: Unicode.Scalar) -> Bool { isLetter(c) || c == "_" }
    static func isNameBody(_ c: Unicode.Scalar) -> Bool { isLetter(c) || isDigit(c) || c == "_" }

    // MARK: Grammar

    /// sum := product (("+" | "-") product)*
    private mutating func parseSum() throws(ExpressionError) -> ExpressionNode {
        var node = try parseProduct()
        while true {
            skipSpace()
            guard let c = current, c == "+" || c == "-" || c == "−" else { return node }
            if plusMinusEnds, c == "+", peek() == "-" { return node }
            let at = pos
            pos += 1
            let rhs = try parseProduct()
            node = try checked(ExpressionNode(.binary(c == "+" ? .add : .subtract, node, rhs), at: at))
        }
    }

    /// product := unary (("*" | "/") unary)*
    private mutating func parseProduct() throws(ExpressionError) -> ExpressionNode {
        var node = try parseUnary()
        while true {
            skipSpace()
            guard let c = current, c == "*" || c == "/" || c == "·" || c == "×" else { return node }
            let at = pos
            pos += 1
            let rhs = try parseUnary()
            node = try checked(ExpressionNode(.binary(c == "/" ? .divide : .multiply, node, rhs), at: at))
        }
    }

    /// unary := ("-" | "+")* power. Signs in a loop, not by recursion: `----1` must not cost a
    /// stack frame per sign. The sign applies to the whole power: `-2^2` is −4.
    private mutating func parseUnary() throws(ExpressionError) -> ExpressionNode {
        skipSpace()
        let at = pos
        var negative = false
        while let c = current, c == "-" || c == "−" || c == "+" {
            if c != "+" { negative.toggle() }
            pos += 1
            skipSpace()
        }
        let operand = try parsePower()
        guard negative else { return operand }
        // A negated number literal stays a literal (and an integer stays an integer).
        if case .literal(let value) = operand.kind {
            switch value {
            case .integer(let n) where n != Int.min: return ExpressionNode(.literal(.integer(-n)), at: at)
            case .number(let x): return ExpressionNode(.literal(.number(-x)), at: at)
            default: break
            }
        }
        return ExpressionNode(.negate(operand), at: at)
    }

    /// power := primary ("^" unary)?: right-associative, and the exponent may carry a sign.
    private mutating func parsePower() throws(ExpressionError) -> ExpressionNode {
        let base = try parsePrimary()
        skipSpace()
        guard current == "^" else { return base }
        let at = pos
        pos += 1
        try descend()
        defer { depth -= 1 }
        let exponent = try parseUnary()
        return ExpressionNode(.binary(.power, base, exponent), at: at)
    }

    private mutating func parsePrimary() throws(ExpressionError) -> ExpressionNode {
        skipSpace()
        let at = pos
        guard let c = current else { throw error("expected a value") }
        switch c {
        case "(":
            try descend()
            defer { depth -= 1 }
            pos += 1
            let inner = try parseSum()
            skipSpace()
            guard current == ")" else { throw error(atEnd ? "'(' is never closed" : "expected ')'", at: atEnd ? at : nil) }
            pos += 1
            return inner
        case "[":
            return try parseList()
        case "\"":
            return ExpressionNode(.literal(.text(try parseString())), at: at)
        case _ where Self.isDigit(c) || (c == "." && peek().map(Self.isDigit) == true):
            return ExpressionNode(.literal(try parseNumber()), at: at)
        case _ where Self.isNameStart(c):
            return try parseNameOrCall()
        default:
            throw error("expected a value, got '\(c)'")
        }
    }

    /// `[1, 2]`, `[[1, 2], [3, 4]]` or `[a.x[0], 1]`; an empty list is an empty vector.
    private mutating func parseList() throws(ExpressionError) -> ExpressionNode {
        try descend()
        defer { depth -= 1 }
        let open = pos
        pos += 1
        skipSpace()
        var items: [ExpressionNode] = []
        if current == "]" {
            pos += 1
            return ExpressionNode(.literal(.vector([])), at: open)
        }
        while true {
            skipSpace()
            if atEnd { throw error("'[' is never closed", at: open) }
            items.append(try parseSum())
            skipSpace()
            if current == "," { pos += 1; continue }
            if current == "]" { pos += 1; break }
            if atEnd { throw error("'[' is never closed", at: open) }
            throw error("expected ',' or ']' in the list")
        }
        return try Self.fold(items, at: open)
    }

    /// A list of number literals is a vector literal, a list of equal vector literals a matrix:
    /// folded now, so big literal data costs nothing to evaluate.
    private static func fold(_ items: [ExpressionNode], at open: Int) throws(ExpressionError) -> ExpressionNode {
        var numbers: [Double] = []
        numbers.reserveCapacity(items.count)
        var rows: [[Double]] = []
        for item in items {
            guard case .literal(let value) = item.kind else { return ExpressionNode(.list(items), at: open) }
            switch value {
            case .number(let x) where rows.isEmpty: numbers.append(x)
            case .integer(let n) where rows.isEmpty: numbers.append(Double(n))
            case .vector(let row) where numbers.isEmpty:
                if let first = rows.first, first.count != row.count {
                    throw ExpressionError(.syntax, at: item.offset,
                        "ragged matrix: row \(rows.count + 1) has \(row.count) elements, row 1 has \(first.count)")
                }
                rows.append(row)
            case .number, .integer, .vector:
                throw ExpressionError(.syntax, at: item.offset, "mixes numbers and rows; a matrix is [[...], [...]]")
            case .matrix:
                throw ExpressionError(.syntax, at: item.offset, "a matrix row holds numbers, not lists")
            case .bool, .text:
                throw ExpressionError(.syntax, at: item.offset, "a list holds numbers, not \(value.kind.article) \(value.kind.rawValue)")
            }
        }
        return ExpressionNode(.literal(rows.isEmpty ? .vector(numbers) : .matrix(rows)), at: open)
    }

    private mutating func parseString() throws(ExpressionError) -> String {
        let open = pos
        pos += 1
        var out = ""
        while let c = current {
            pos += 1
            switch c {
            case "\"": return out
            case "\\":
                guard let next = current else { continue }
                pos += 1
                switch next {
                case "n": out.unicodeScalars.append("\n")
                case "t": out.unicodeScalars.append("\t")
                default: out.unicodeScalars.append(next)
                }
            default: out.unicodeScalars.append(c)
            }
        }
        throw error("string is never closed (missing \")", at: open)
    }

    private mutating func parseNumber() throws(ExpressionError) -> Value {
        let start = pos
        var isInteger = true
        while let c = current, Self.isDigit(c) { pos += 1 }
        if current == "." {
            isInteger = false
            pos += 1
            while let c = current, Self.isDigit(c) { pos += 1 }
        }
        if let c = current, c == "e" || c == "E", pos > start {
            let mark = pos
            pos += 1
            if let sign = current, sign == "+" || sign == "-" { pos += 1 }
            let digitsStart = pos
            while let c = current, Self.isDigit(c) { pos += 1 }
            if pos == digitsStart { pos = mark } else { isInteger = false }
        }
        let text = String(scalars: s[start..<pos])
        guard let value = Double(text) else { throw error("expected a number, got '\(text)'", at: start) }
        if let c = current, Self.isNameStart(c) { throw error("unexpected '\(c)' after the number \(text)") }
        if isInteger, abs(value) < 9.0e15, let n = Int(exactly: value) { return .integer(n) }
        return .number(value)
    }

    /// A name: letters, digits and `_`, with `-` joining two parts when a letter follows it
    /// (`nearest-even`, `acc-bf16`), so `x-1` still subtracts.
    private mutating func parseName(allowHyphen: Bool) -> String {
        let start = pos
        while let c = current {
            if Self.isNameBody(c) { pos += 1; continue }
            if allowHyphen, c == "-", let next = peek(), Self.isLetter(next) { pos += 1; continue }
            break
        }
        return String(scalars: s[start..<pos])
    }

    private mutating func parseIndexes() throws(ExpressionError) -> [Int] {
        var indexes: [Int] = []
        while current == "[" {
            pos += 1
            skipSpace()
            let start = pos
            while let c = current, Self.isDigit(c) { pos += 1 }
            let digits = String(scalars: s[start..<pos])
            guard !digits.isEmpty, digits.count < 10, let n = Int(digits) else {
                throw error("expected a whole-number index such as [0]")
            }
            skipSpace()
            guard current == "]" else { throw error("expected ']' after the index") }
            pos += 1
            indexes.append(n)
        }
        return indexes
    }

    private mutating func parseNameOrCall() throws(ExpressionError) -> ExpressionNode {
        let at = pos
        let word = parseName(allowHyphen: true)
        if current == "(", let function = ExpressionFunction(rawValue: word) {
            return try parseCall(function, at: at)
        }
        if current == ".", let next = peek(), Self.isNameStart(next) {
            pos += 1
            let output = parseName(allowHyphen: false)
            if current == ".", peek().map(Self.isNameStart) == true {
                throw error("a reference is cell.output, got \(word).\(output).…", at: at)
            }
            let indexes = try parseIndexes()
            return ExpressionNode(.reference(OutputReference(cell: word, output: output, indexes: indexes)), at: at)
        }
        switch word.lowercased() {
        case "true": return ExpressionNode(.literal(.bool(true)), at: at)
        case "false": return ExpressionNode(.literal(.bool(false)), at: at)
        case "inf": return ExpressionNode(.literal(.number(.infinity)), at: at)
        case "nan": return ExpressionNode(.literal(.number(.nan)), at: at)
        default: break
        }
        if current == "(" { throw error("unknown function '\(word)'; the functions are \(ExpressionFunction.allCases.map(\.rawValue).joined(separator: ", "))", at: at) }
        let indexes = try parseIndexes()
        return ExpressionNode(.name(word, indexes: indexes), at: at)
    }

    private mutating func parseCall(_ function: ExpressionFunction, at: Int) throws(ExpressionError) -> ExpressionNode {
        try descend()
        defer { depth -= 1 }
        pos += 1
        var arguments: [ExpressionNode] = []
        skipSpace()
        if current != ")" {
            while true {
                arguments.append(try parseSum())
                skipSpace()
                if current == "," { pos += 1; continue }
                if current == ")" { break }
                throw error(atEnd ? "'\(function.rawValue)(' is never closed" : "expected ',' or ')' in the call",
                            at: atEnd ? at : nil)
            }
        }
        pos += 1
        guard function.arity.contains(arguments.count) else {
            let arity = function.arity
            let wanted = arity.count == 1 ? "one argument" : "\(arity.lowerBound) to \(arity.upperBound) arguments"
            throw error("\(function.rawValue) takes \(wanted), got \(arguments.count)", at: at)
        }
        return ExpressionNode(.call(function, arguments), at: at)
    }
}
