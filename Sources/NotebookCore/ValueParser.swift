import Foundation

/// A syntax error in a value, at a 0-based character offset of the text that was parsed.
public struct ValueSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var message: String

    public var description: String { message }
}

/// Parses the values of SPEC §2: numbers (with `inf`, `nan` and small arithmetic such as
/// `1/3` or `2^-24`), booleans, strings, bare words, vectors, matrices and references.
///
/// Lesson files, `--set` and the TUI editor all parse through here, so a value means the
/// same thing wherever it is typed.
public struct ValueParser {
    private let chars: [Character]
    private var pos = 0
    /// Open brackets, parentheses and powers; bounded so hostile input cannot exhaust the stack.
    private var depth = 0
    static let maxDepth = 64

    /// Parses a whole value expression; trailing text is an error.
    public static func parse(_ text: String) throws(ValueSyntaxError) -> ParameterExpression {
        var parser = ValueParser(chars: Array(text))
        parser.skipSpace()
        guard !parser.atEnd else { throw ValueSyntaxError(offset: 0, message: "expected a value") }
        let value = try parser.parseExpression()
        parser.skipSpace()
        if !parser.atEnd {
            throw parser.error("unexpected '\(parser.chars[parser.pos])' after the value")
        }
        return value
    }

    /// Parses a reference such as `cell.output[2]` or an output path such as `softmax[3]`.
    public static func parsePath(_ text: String) throws(ValueSyntaxError) -> (names: [String], indexes: [Int]) {
        var parser = ValueParser(chars: Array(text))
        parser.skipSpace()
        let names = try parser.parseDottedName()
        let indexes = try parser.parseIndexes()
        parser.skipSpace()
        if !parser.atEnd { throw parser.error("unexpected '\(parser.chars[parser.pos])' in the path") }
        return (names, indexes)
    }

    init(chars: [Character]) {
        self.chars = chars
    }

    private var atEnd: Bool { pos >= chars.count }

    private mutating func descend() throws(ValueSyntaxError) {
        depth += 1
        if depth > ValueParser.maxDepth { throw error("nested more than \(ValueParser.maxDepth) levels deep") }
    }
    private var current: Character? { pos < chars.count ? chars[pos] : nil }

    private func error(_ message: String) -> ValueSyntaxError {
        ValueSyntaxError(offset: min(pos, chars.count), message: message)
    }

    private mutating func skipSpace() {
        while let c = current, c == " " || c == "\t" { pos += 1 }
    }

    static func isNameStart(_ c: Character) -> Bool { c.isLetter || c == "_" }
    static func isNameChar(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "-" }

    private mutating func parseExpression() throws(ValueSyntaxError) -> ParameterExpression {
        switch current {
        case "[":
            return .literal(try parseList())
        case "\"":
            return .literal(.text(try parseString()))
        case let c? where ValueParser.isNameStart(c):
            let start = pos
            let names = try parseDottedName()
            if names.count == 1 {
                let word = names[0]
                switch word.lowercased() {
                case "true": return .literal(.bool(true))
                case "false": return .literal(.bool(false))
                case "inf", "nan":
                    pos = start
                    return .literal(try parseArithmetic())
                default:
                    if current == "[" { throw error("indexes need a reference such as cell.output[0]") }
                    return .literal(.text(word))
                }
            }
            guard names.count == 2 else {
                throw ValueSyntaxError(offset: start, message: "a reference is cell.output, got \(names.joined(separator: "."))")
            }
            let indexes = try parseIndexes()
            return .reference(OutputReference(cell: names[0], output: names[1], indexes: indexes))
        default:
            return .literal(try parseArithmetic())
        }
    }

    /// `[1, 2]` or `[[1, 2], [3, 4]]`; an empty list is an empty vector.
    private mutating func parseList() throws(ValueSyntaxError) -> Value {
        try descend()
        defer { depth -= 1 }
        let open = pos
        pos += 1
        skipSpace()
        if current == "]" { pos += 1; return .vector([]) }
        if current == "[" {
            var rows: [[Double]] = []
            while true {
                skipSpace()
                guard current == "[" else { throw error("expected '[' to start row \(rows.count + 1) of the matrix") }
                let rowStart = pos
                guard case .vector(let row) = try parseList() else {
                    throw ValueSyntaxError(offset: rowStart, message: "a matrix row holds numbers, not lists")
                }
                if let first = rows.first, first.count != row.count {
                    throw ValueSyntaxError(offset: rowStart,
                        message: "ragged matrix: row \(rows.count + 1) has \(row.count) elements, row 1 has \(first.count)")
                }
                rows.append(row)
                skipSpace()
                if current == "," { pos += 1; continue }
                if current == "]" { pos += 1; return .matrix(rows) }
                if atEnd { throw ValueSyntaxError(offset: open, message: "'[' is never closed") }
                throw error("expected ',' or ']' in the matrix")
            }
        }
        var xs: [Double] = []
        while true {
            skipSpace()
            if current == "[" { throw error("mixes numbers and rows; a matrix is [[...], [...]]") }
            if atEnd { throw ValueSyntaxError(offset: open, message: "'[' is never closed") }
            guard case .number(let x) = try parseArithmetic().asNumber else { throw error("expected a number") }
            xs.append(x)
            skipSpace()
            if current == "," { pos += 1; continue }
            if current == "]" { pos += 1; return .vector(xs) }
            if atEnd { throw ValueSyntaxError(offset: open, message: "'[' is never closed") }
            throw error("expected ',' or ']' in the vector")
        }
    }

    private mutating func parseString() throws(ValueSyntaxError) -> String {
        let open = pos
        pos += 1
        var out = ""
        while let c = current {
            pos += 1
            switch c {
            case "\"": return out
            case "\\":
                guard let next = current else { break }
                pos += 1
                switch next {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(next)
                }
            default: out.append(c)
            }
        }
        throw ValueSyntaxError(offset: open, message: "string is never closed (missing \")")
    }

    private mutating func parseDottedName() throws(ValueSyntaxError) -> [String] {
        var names: [String] = []
        while true {
            guard let c = current, ValueParser.isNameStart(c) else {
                throw error(names.isEmpty ? "expected a name" : "expected a name after '.'")
            }
            var name = ""
            while let c = current, ValueParser.isNameChar(c) { name.append(c); pos += 1 }
            names.append(name)
            if current == "." { pos += 1 } else { return names }
        }
    }

    private mutating func parseIndexes() throws(ValueSyntaxError) -> [Int] {
        var indexes: [Int] = []
        while current == "[" {
            pos += 1
            skipSpace()
            var digits = ""
            while let c = current, c.isASCII, c.isNumber { digits.append(c); pos += 1 }
            guard let n = Int(digits), digits.count < 10 else { throw error("expected a non-negative index") }
            skipSpace()
            guard current == "]" else { throw error("expected ']' after the index") }
            pos += 1
            indexes.append(n)
        }
        return indexes
    }

    // MARK: Arithmetic: sums of products of powers of numbers, for values such as 1/3 or 2^-24.

    private mutating func parseArithmetic() throws(ValueSyntaxError) -> Value {
        let (value, isPlainInteger) = try parseSum()
        if isPlainInteger, let n = Int(exactly: value) { return .integer(n) }
        return .number(value)
    }

    private mutating func parseSum() throws(ValueSyntaxError) -> (Double, Bool) {
        var (value, plain) = try parseProduct()
        while true {
            skipSpace()
            guard let c = current, c == "+" || c == "-" || c == "−" else { return (value, plain) }
            pos += 1
            let (rhs, _) = try parseProduct()
            value = c == "+" ? value + rhs : value - rhs
            plain = false
        }
    }

    private mutating func parseProduct() throws(ValueSyntaxError) -> (Double, Bool) {
        var (value, plain) = try parsePower()
        while true {
            skipSpace()
            guard let c = current, c == "*" || c == "/" || c == "·" || c == "×" else { return (value, plain) }
            pos += 1
            let (rhs, _) = try parsePower()
            value = c == "/" ? value / rhs : value * rhs
            plain = false
        }
    }

    private mutating func parsePower() throws(ValueSyntaxError) -> (Double, Bool) {
        let (base, plain) = try parseUnary()
        skipSpace()
        guard current == "^" else { return (base, plain) }
        pos += 1
        try descend()
        defer { depth -= 1 }
        let (exponent, _) = try parsePower()
        return (pow(base, exponent), false)
    }

    private mutating func parseUnary() throws(ValueSyntaxError) -> (Double, Bool) {
        // Signs in a loop, not by recursion: `----1` must not cost a stack frame per sign.
        var negative = false
        skipSpace()
        while let c = current, c == "-" || c == "−" || c == "+" {
            if c != "+" { negative.toggle() }
            pos += 1
            skipSpace()
        }
        let (x, plain) = try parseAtom()
        return (negative ? -x : x, plain)
    }

    private mutating func parseAtom() throws(ValueSyntaxError) -> (Double, Bool) {
        switch current {
        case "(":
            try descend()
            defer { depth -= 1 }
            pos += 1
            let (x, _) = try parseSum()
            skipSpace()
            guard current == ")" else { throw error("expected ')'") }
            pos += 1
            return (x, false)
        default:
            return try parseNumber()
        }
    }

    private mutating func parseNumber() throws(ValueSyntaxError) -> (Double, Bool) {
        let start = pos
        if let c = current, c.isLetter {
            var word = ""
            while let c = current, c.isLetter { word.append(c); pos += 1 }
            switch word.lowercased() {
            case "inf": return (.infinity, false)
            case "nan": return (.nan, false)
            default:
                throw ValueSyntaxError(offset: start, message: "expected a number, got '\(word)'")
            }
        }
        var text = ""
        var isInteger = true
        while let c = current, c.isASCII, c.isNumber { text.append(c); pos += 1 }
        if current == "." {
            isInteger = false
            text.append("."); pos += 1
            while let c = current, c.isASCII, c.isNumber { text.append(c); pos += 1 }
        }
        if let c = current, c == "e" || c == "E", !text.isEmpty {
            let mark = pos
            var exponent = "e"
            pos += 1
            if let s = current, s == "+" || s == "-" { exponent.append(s); pos += 1 }
            var digits = ""
            while let c = current, c.isASCII, c.isNumber { digits.append(c); pos += 1 }
            if digits.isEmpty { pos = mark } else { text += exponent + digits; isInteger = false }
        }
        guard !text.isEmpty, text != ".", let value = Double(text) else {
            if let c = current { throw ValueSyntaxError(offset: start, message: "expected a value, got '\(c)'") }
            throw ValueSyntaxError(offset: start, message: "expected a value")
        }
        return (value, isInteger && abs(value) < 9.0e15)
    }
}

extension Value {
    fileprivate var asNumber: Value? {
        switch self {
        case .number: self
        case .integer(let n): .number(Double(n))
        default: nil
        }
    }
}
