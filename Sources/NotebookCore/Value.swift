import Foundation

/// A value flowing through a notebook: a parameter, an output, or a literal in a lesson file.
///
/// All arithmetic is in `Double` unless a module is about a narrower format. A matrix is
/// stored as rows; every row has the same length (``Value/matrix(_:)`` values built by the
/// parser or by modules are always rectangular).
public enum Value: Sendable, Equatable {
    case number(Double)
    case integer(Int)
    case bool(Bool)
    case text(String)
    case vector([Double])
    case matrix([[Double]])

    /// The kind of this value, for messages and validation.
    public var kind: ValueKind {
        switch self {
        case .number: .number
        case .integer: .integer
        case .bool: .bool
        case .text: .text
        case .vector: .vector
        case .matrix: .matrix
        }
    }

    /// The value as a Double when it is a scalar number or integer.
    public var scalar: Double? {
        switch self {
        case .number(let x): x
        case .integer(let n): Double(n)
        default: nil
        }
    }

    /// Every number it holds, a matrix row by row; nil for text and booleans.
    public var numbers: [Double]? {
        switch self {
        case .number(let x): [x]
        case .integer(let n): [Double(n)]
        case .vector(let xs): xs
        case .matrix(let rows): rows.flatMap { $0 }
        case .bool, .text: nil
        }
    }

    /// How many numbers it holds: 1 for a scalar, the elements of a vector or matrix.
    public var elementCount: Int {
        switch self {
        case .vector(let xs): xs.count
        case .matrix(let rows): rows.reduce(0) { $0 + $1.count }
        default: 1
        }
    }

    /// Element access for paths such as `softmax[3]` or `output[0][1]`.
    ///
    /// Returns `nil` when an index is out of range or the value has no elements.
    public func element(at indexes: [Int]) -> Value? {
        guard let first = indexes.first else { return self }
        let rest = Array(indexes.dropFirst())
        switch self {
        case .vector(let xs):
            guard rest.isEmpty, xs.indices.contains(first) else { return nil }
            return .number(xs[first])
        case .matrix(let rows):
            guard rows.indices.contains(first) else { return nil }
            return Value.vector(rows[first]).element(at: rest)
        default:
            return nil
        }
    }
}

/// The kinds a parameter or output can have.
public enum ValueKind: String, Sendable, CaseIterable {
    case number, integer, bool, text, vector, matrix

    /// The short name used in `derive modules` and error messages.
    public var shortName: String {
        switch self {
        case .number: "num"
        case .integer: "int"
        case .bool: "bool"
        case .text: "text"
        case .vector: "vec"
        case .matrix: "mat"
        }
    }
}

// MARK: - Number text

/// Formats numbers the way every renderer in derive does.
public enum NumberText {
    /// The shortest text that reads back to the same Double; integral values have no `.0`.
    ///
    /// Non-finite numbers are `NaN`, `inf` and `-inf` here; JSON uses its own strings.
    public static func shortest(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        if x == 0 { return x.sign == .minus ? "-0" : "0" }
        // Swift writes 1.0 and 1e-05; both forms read back identically, the shorter one is
        // friendlier. Byte-level edits: this runs once per number printed, millions of times.
        var bytes = Array(x.description.utf8)
        let e = bytes.firstIndex(of: UInt8(ascii: "e")) ?? bytes.count
        var exponent = Array(bytes[e...])
        var mantissa = Array(bytes[..<e])
        if mantissa.count > 2, mantissa[mantissa.count - 2] == UInt8(ascii: "."), mantissa.last == UInt8(ascii: "0") {
            mantissa.removeLast(2)
        }
        if !exponent.isEmpty {
            // "e-05" → "e-5", "e+20" → "e20"
            var digits = exponent.dropFirst()
            let sign: [UInt8] = digits.first == UInt8(ascii: "-") ? [UInt8(ascii: "-")] : []
            if digits.first == UInt8(ascii: "-") || digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
            while digits.count > 1, digits.first == UInt8(ascii: "0") { digits = digits.dropFirst() }
            exponent = [UInt8(ascii: "e")] + sign + digits
        }
        bytes = mantissa + exponent
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A number for a table cell: six significant digits keep tables readable, while whole
    /// numbers and numbers that need no more digits stay exact. JSON keeps every digit.
    public static func compact(_ x: Double) -> String {
        if !x.isFinite || x == x.rounded() && abs(x) < 1e15 { return shortest(x) }
        let text = format(x, spec: ".6g")
        return Double(text) == x ? shortest(x) : text
    }

    /// A vector in brackets with ``compact(_:)`` numbers. One longer than `limit` shows its
    /// first and last three elements around `…` and its length, as numpy prints a long array:
    /// a million numbers on a terminal help nobody, and formatting them takes seconds.
    public static func list(_ xs: [Double], limit: Int = 1000) -> String {
        guard xs.count > limit else { return "[" + xs.map(compact).joined(separator: ", ") + "]" }
        let head = xs.prefix(3).map(compact), tail = xs.suffix(3).map(compact)
        return "[" + (head + ["…"] + tail).joined(separator: ", ") + "] (\(xs.count) elements)"
    }

    /// A run time: `25 µs`, `3.2 ms`, `1.25 s`.
    public static func duration(_ seconds: Double) -> String {
        if seconds < 1e-3 { return "\(max(1, Int((max(0, seconds) * 1e6).rounded()))) µs" }
        if seconds < 1 { return String(format: "%.1f ms", seconds * 1e3) }
        return String(format: "%.2f s", seconds)
    }

    /// The most digits a format may ask for (`.30f`); lessons asking for more are refused.
    public static let maxPrecision = 30

    /// Applies a `{{...:fmt}}` format: `.4f`, `.3e`, `g`, `.6g`; `nil` means shortest.
    public static func format(_ x: Double, spec: String?) -> String {
        guard let spec, !spec.isEmpty else { return shortest(x) }
        if !x.isFinite { return shortest(x) }
        var body = Substring(spec)
        guard let style = body.popLast() else { return shortest(x) }
        var precision: Int?
        if body.hasPrefix(".") {
            precision = Int(body.dropFirst())
        }
        switch style {
        case "f": return String(format: "%.\(min(precision ?? 6, 30))f", x)
        case "e": return String(format: "%.\(min(precision ?? 6, 30))e", x)
        case "g": return precision.map { String(format: "%.\(min(max($0, 1), 30))g", x) } ?? shortest(x)
        case "%": return String(format: "%.\(min(precision ?? 1, 30))f%%", x * 100)
        default: return shortest(x)
        }
    }
}

// MARK: - Display

extension Value {
    /// A compact one-line rendering: `[0.1, 0.2]`, `[[1, 2], [3, 4]]`, `true`, `fp16`.
    public var displayText: String { display(spec: nil) }

    /// A one-line rendering with a number format applied to every element.
    public func display(spec: String?) -> String {
        switch self {
        case .number(let x): return NumberText.format(x, spec: spec)
        // A format asked for applies to a whole number too: {{n:.2f}} of 3 is 3.00.
        case .integer(let n): return spec == nil ? String(n) : NumberText.format(Double(n), spec: spec)
        case .bool(let b): return b ? "true" : "false"
        case .text(let s): return s
        case .vector(let xs): return "[" + xs.map { NumberText.format($0, spec: spec) }.joined(separator: ", ") + "]"
        case .matrix(let rows):
            return "[" + rows.map { Value.vector($0).display(spec: spec) }.joined(separator: ", ") + "]"
        }
    }

    /// ``displayText``, with a vector or matrix of more than a thousand numbers summarised by
    /// its ends and its size (as numpy prints a long array): for documents a person reads.
    public var briefText: String {
        switch self {
        case .vector(let xs) where xs.count > 1000:
            return "[" + (xs.prefix(3).map(NumberText.shortest) + ["…"] + xs.suffix(3).map(NumberText.shortest))
                .joined(separator: ", ") + "] (\(xs.count) elements)"
        case .matrix(let rows) where elementCount > 1000:
            return "[" + rows.prefix(2).map { Value.vector($0).briefText }.joined(separator: ", ")
                + ", …] (\(rows.count)×\(rows.first?.count ?? 0) matrix)"
        default:
            return displayText
        }
    }

    /// The value as lesson-file source text, so that it parses back to the same value.
    public var sourceText: String {
        switch self {
        case .text(let s):
            let isWord = !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
                && s.first.map { $0.isLetter } == true && !s.contains(".")
                && !["true", "false", "inf", "nan"].contains(s.lowercased())
            if isWord { return s }
            return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        default:
            return displayText
        }
    }
}

// MARK: - Building text

extension String {
    /// Appends scalars, encoded to UTF-8 first and added in one append.
    /// `unicodeScalars.append(contentsOf:)`, and any append to a free-standing
    /// `String.UnicodeScalarView`, copies the whole string on each call in this standard library
    /// (rendering a long paragraph was quadratic), and even a scalar at a time through
    /// `unicodeScalars` cost a lesson's parse a fifth of its time in names and numbers.
    public mutating func appendScalars<S: Sequence>(_ scalars: S) where S.Element == Unicode.Scalar {
        append(String(utf8Of: scalars))
    }
}

extension String {
    /// A string of these scalars, built in linear time (see ``appendScalars(_:)``).
    public init<S: Sequence>(scalars: S) where S.Element == Unicode.Scalar {
        self.init(utf8Of: scalars)
    }

    private init<S: Sequence>(utf8Of scalars: S) where S.Element == Unicode.Scalar {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(scalars.underestimatedCount)
        for scalar in scalars {
            if scalar.isASCII {
                bytes.append(UInt8(truncatingIfNeeded: scalar.value))
            } else {
                bytes.append(contentsOf: scalar.utf8)
            }
        }
        self.init(decoding: bytes, as: UTF8.self)
    }
}
