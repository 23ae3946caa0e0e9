/// The allowed interval for a number, an integer, or every element of a vector or matrix.
public struct NumberRange: Sendable, Equatable {
    public var lower: Double?
    public var lowerInclusive: Bool
    public var upper: Double?
    public var upperInclusive: Bool

    public init(lower: Double? = nil, lowerInclusive: Bool = true, upper: Double? = nil, upperInclusive: Bool = true) {
        self.lower = lower
        self.lowerInclusive = lowerInclusive
        self.upper = upper
        self.upperInclusive = upperInclusive
    }

    /// `[a, b]`
    public static func closed(_ a: Double, _ b: Double) -> NumberRange { .init(lower: a, upper: b) }
    /// `>= a`
    public static func atLeast(_ a: Double) -> NumberRange { .init(lower: a) }
    /// `> a`
    public static func greaterThan(_ a: Double) -> NumberRange { .init(lower: a, lowerInclusive: false) }
    /// `> 0`
    public static let positive = greaterThan(0)
    /// `>= 0`
    public static let nonNegative = atLeast(0)
    /// `[0, 1]`
    public static let unit = closed(0, 1)

    public func contains(_ x: Double) -> Bool {
        if let lower, lowerInclusive ? x < lower : x <= lower { return false }
        if let upper, upperInclusive ? x > upper : x >= upper { return false }
        return true
    }

    /// Reads as `in [0, 1]`, `> 0`, `>= 1`.
    public var description: String {
        switch (lower, upper) {
        case let (l?, u?):
            return "in \(lowerInclusive ? "[" : "(")\(NumberText.shortest(l)), \(NumberText.shortest(u))\(upperInclusive ? "]" : ")")"
        case let (l?, nil): return "\(lowerInclusive ? ">=" : ">") \(NumberText.shortest(l))"
        case let (nil, u?): return "\(upperInclusive ? "<=" : "<") \(NumberText.shortest(u))"
        case (nil, nil): return "any number"
        }
    }
}

/// What a parameter has when a cell does not set it.
public enum ParameterDefault: Sendable, Equatable {
    /// A fixed value.
    case value(Value)
    /// Worked out by the module from the other parameters (such as `scale = 1/sqrt(d)`).
    case computed(String)
    /// The cell must set it.
    case required
}

/// A parameter a compute module declares: name, kind, default, limits and a one-line doc.
///
/// Validation lives here so that each module states its rules once and every caller
/// (lesson loader, `--set`, the TUI editor) applies the same ones.
public struct ParameterSpec: Sendable {
    public let name: String
    public let kind: ValueKind
    public let defaultValue: ParameterDefault
    public let doc: String
    /// Allowed interval for the number, the integer, or each element.
    public var range: NumberRange?
    /// Allowed words for a text parameter (an enumeration).
    public var choices: [String]
    /// Whether NaN and infinities are accepted.
    public var allowsNonFinite: Bool
    /// Largest element count of a vector, or of a matrix as a whole.
    public var maxElements: Int
    /// Smallest element count of a vector (or rows of a matrix).
    public var minElements: Int

    public init(name: String, kind: ValueKind, defaultValue: ParameterDefault, doc: String,
                range: NumberRange? = nil, choices: [String] = [], allowsNonFinite: Bool = false,
                maxElements: Int = 10_000, minElements: Int = 1) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.doc = doc
        self.range = range
        self.choices = choices
        self.allowsNonFinite = allowsNonFinite
        self.maxElements = maxElements
        self.minElements = minElements
    }

    public static func number(_ name: String, _ value: Double?, range: NumberRange? = nil,
                              allowsNonFinite: Bool = false, doc: String) -> ParameterSpec {
        .init(name: name, kind: .number, defaultValue: value.map { .value(.number($0)) } ?? .required,
              doc: doc, range: range, allowsNonFinite: allowsNonFinite)
    }

    public static func number(_ name: String, computed: String, range: NumberRange? = nil, doc: String) -> ParameterSpec {
        .init(name: name, kind: .number, defaultValue: .computed(computed), doc: doc, range: range)
    }

    public static func integer(_ name: String, _ value: Int?, range: NumberRange? = nil, doc: String) -> ParameterSpec {
        .init(name: name, kind: .integer, defaultValue: value.map { .value(.integer($0)) } ?? .required,
              doc: doc, range: range)
    }

    public static func bool(_ name: String, _ value: Bool?, doc: String) -> ParameterSpec {
        .init(name: name, kind: .bool, defaultValue: value.map { .value(.bool($0)) } ?? .required, doc: doc)
    }

    /// A choice among the cases of an enumeration, spelled by their raw values:
    /// `.choice("format", FloatFormat.self, default: .fp16, doc: …)`. `among` narrows it to some
    /// cases (a module that handles FP16 and BF16 but not FP32). Read it back with
    /// ``Inputs/choice(_:as:)``.
    public static func choice<C: CaseIterable & RawRepresentable>(
        _ name: String, _ type: C.Type, default value: C?, among cases: [C]? = nil, doc: String
    ) -> ParameterSpec where C.RawValue == String {
        .init(name: name, kind: .text, defaultValue: value.map { .value(.text($0.rawValue)) } ?? .required,
              doc: doc, choices: (cases ?? Array(C.allCases)).map(\.rawValue))
    }

    public static func vector(_ name: String, _ value: [Double]?, range: NumberRange? = nil,
                              allowsNonFinite: Bool = false, minElements: Int = 1, maxElements: Int = 10_000,
                              doc: String) -> ParameterSpec {
        .init(name: name, kind: .vector, defaultValue: value.map { .value(.vector($0)) } ?? .required,
              doc: doc, range: range, allowsNonFinite: allowsNonFinite, maxElements: maxElements, minElements: minElements)
    }

    public static func matrix(_ name: String, _ value: [[Double]]?, range: NumberRange? = nil,
                              allowsNonFinite: Bool = false, maxElements: Int = 10_000, doc: String) -> ParameterSpec {
        .init(name: name, kind: .matrix, defaultValue: value.map { .value(.matrix($0)) } ?? .required,
              doc: doc, range: range, allowsNonFinite: allowsNonFinite, maxElements: maxElements)
    }

    /// A short signature for listings: `block: int = 1`, `x: vec`, `format: fp16|bf16 = fp16`.
    public var signature: String {
        let kindText = choices.isEmpty ? kind.shortName : choices.joined(separator: "|")
        switch defaultValue {
        case .value(let v): return "\(name): \(kindText) = \(v.sourceText)"
        case .computed(let text): return "\(name): \(kindText) = \(text)"
        case .required: return "\(name): \(kindText)"
        }
    }

    /// Checks a value against this declaration and converts it to the declared kind
    /// (an integral number becomes an integer, an integer a number, a vector a one-row matrix).
    public func validate(_ value: Value) throws(ComputeError) -> Value {
        switch (kind, value) {
        case (.number, .number(let x)):
            try checkElements([x])
            return value
        case (.number, .integer(let n)):
            return try validate(.number(Double(n)))
        case (.integer, .integer(let n)):
            try checkRange(Double(n))
            return value
        case (.integer, .number(let x)):
            guard x.isFinite, x == x.rounded(), abs(x) < 9.0e15 else {
                throw invalid("expects a whole number, got \(NumberText.shortest(x))")
            }
            return try validate(.integer(Int(x)))
        case (.bool, .bool):
            return value
        case (.text, .text(let s)):
            if !choices.isEmpty && !choices.contains(s) {
                throw invalid("expects one of \(choices.joined(separator: ", ")), got \(s)")
            }
            return value
        case (.vector, .vector(let xs)):
            try checkCount(xs.count)
            try checkElements(xs)
            return value
        case (.vector, .matrix(let rows)) where rows.count == 1:
            return try validate(.vector(rows[0]))
        case (.vector, .number), (.vector, .integer):
            guard let x = value.scalar else { break }
            return try validate(.vector([x]))
        case (.matrix, .matrix(let rows)):
            let columns = rows.first?.count ?? 0
            guard rows.allSatisfy({ $0.count == columns }) else {
                throw invalid("expects a rectangular matrix; rows have different lengths")
            }
            guard rows.count >= minElements, columns >= 1 else { throw invalid("expects a non-empty matrix") }
            guard rows.count.multipliedReportingOverflow(by: columns).partialValue <= maxElements,
                  rows.count <= maxElements else {
                throw invalid("is too large: \(rows.count)×\(columns) elements; the limit is \(maxElements)")
            }
            for row in rows { try checkElements(row) }
            return value
        case (.matrix, .vector(let xs)):
            return try validate(.matrix([xs]))
        default:
            break
        }
        throw invalid("expects \(kindDescription), got \(value.kind.article) \(value.kind.rawValue)")
    }

    /// `a number`, `one of fp16, bf16`, `a vector`.
    public var kindDescription: String {
        if !choices.isEmpty { return "one of " + choices.joined(separator: ", ") }
        return kind.article + " " + kind.rawValue
    }

    private func invalid(_ message: String) -> ComputeError {
        ComputeError(parameter: name, message: message)
    }

    private func checkCount(_ count: Int) throws(ComputeError) {
        if count < minElements {
            throw invalid(minElements == 1 ? "must not be empty" : "needs at least \(minElements) elements, got \(count)")
        }
        if count > maxElements {
            throw invalid("has \(count) elements; the limit is \(maxElements)")
        }
    }

    private func checkRange(_ x: Double) throws(ComputeError) {
        if let range, !range.contains(x) {
            throw invalid("must be \(range.description), got \(NumberText.shortest(x))")
        }
    }

    private func checkElements(_ xs: [Double]) throws(ComputeError) {
        for x in xs {
            if !allowsNonFinite && !x.isFinite {
                throw invalid("must be finite, got \(NumberText.shortest(x))")
            }
            if x.isNaN { continue }
            try checkRange(x)
        }
    }
}

extension ValueKind {
    /// `a` or `an`, for messages.
    public var article: String { self == .integer ? "an" : "a" }
}
