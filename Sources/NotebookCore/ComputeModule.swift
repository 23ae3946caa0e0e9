/// An error a compute module, or the notebook running it, reports.
///
/// Each outcome that is not a plain failure has its own ``Kind``, so a module whose message
/// happens to read "cancelled" is still a failure, and a cell waiting on a failed upstream
/// cell is told apart from a cell whose own parameter is wrong.
public struct ComputeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// The value of this parameter is refused (wrong kind, out of range, wrong shape).
        case invalid(parameter: String)
        /// The computation itself failed.
        case failed
        /// A value the cell reads from another cell is not available; the message says which.
        case blocked
        /// The learner cancelled a long run.
        case cancelled
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// An invalid parameter when `parameter` is given, else a failure.
    public init(parameter: String? = nil, message: String) {
        self.init(parameter.map { .invalid(parameter: $0) } ?? .failed, message)
    }

    /// The error for a parameter: `ComputeError.invalid("block", "must be at least 1")`.
    public static func invalid(_ parameter: String, _ message: String) -> ComputeError {
        ComputeError(.invalid(parameter: parameter), message)
    }

    /// A computation that failed for a reason other than one parameter's value.
    public static func failed(_ message: String) -> ComputeError {
        ComputeError(.failed, message)
    }

    /// Thrown by ``RunContext/checkCancelled()`` when the user cancelled a long run.
    public static let cancelled = ComputeError(.cancelled, "cancelled")

    /// The parameter at fault, for ``Kind/invalid(parameter:)``.
    public var parameter: String? {
        if case .invalid(let name) = kind { name } else { nil }
    }

    public var isCancelled: Bool { kind == .cancelled }

    public var description: String {
        parameter.map { "parameter '\($0)' \(message)" } ?? message
    }
}

/// How renderers should present an output beyond its plain numbers.
public enum DisplayHint: String, Sendable {
    case bits, chart, heatmap, table, percent
}

/// An output a module declares: name, kind, display hint and a one-line doc.
public struct OutputSpec: Sendable {
    public let name: String
    public let kind: ValueKind
    public let hint: DisplayHint?
    public let doc: String

    public init(_ name: String, _ kind: ValueKind, hint: DisplayHint? = nil, doc: String) {
        self.name = name
        self.kind = kind
        self.hint = hint
        self.doc = doc
    }
}

/// Validated parameters handed to a module: every declared parameter is present with its
/// declared kind, except `computed` defaults the cell left unset.
public struct Inputs: Sendable {
    /// The parameters in declaration order.
    public let entries: [(name: String, value: Value)]

    public init(_ entries: [(name: String, value: Value)]) {
        self.entries = entries
    }

    public subscript(name: String) -> Value? {
        entries.first { $0.name == name }?.value
    }

    private func require(_ name: String) throws(ComputeError) -> Value {
        guard let value = self[name] else { throw ComputeError(parameter: name, message: "is missing") }
        return value
    }

    private func wrongKind(_ name: String, _ expected: String) -> ComputeError {
        ComputeError(parameter: name, message: "expects \(expected)")
    }

    public func number(_ name: String) throws(ComputeError) -> Double {
        guard let x = try require(name).scalar else { throw wrongKind(name, "a number") }
        return x
    }

    /// A number whose default is worked out by the module: `nil` when the cell left it unset.
    public func optionalNumber(_ name: String) throws(ComputeError) -> Double? {
        guard self[name] != nil else { return nil }
        return try number(name)
    }

    public func integer(_ name: String) throws(ComputeError) -> Int {
        guard case .integer(let n) = try require(name) else { throw wrongKind(name, "an integer") }
        return n
    }

    public func bool(_ name: String) throws(ComputeError) -> Bool {
        guard case .bool(let b) = try require(name) else { throw wrongKind(name, "true or false") }
        return b
    }

    public func text(_ name: String) throws(ComputeError) -> String {
        guard case .text(let s) = try require(name) else { throw wrongKind(name, "a word") }
        return s
    }

    /// A ``ParameterSpec/choice(_:_:default:among:doc:)`` parameter as its enumeration case.
    public func choice<C: RawRepresentable>(_ name: String, as type: C.Type) throws(ComputeError) -> C
    where C.RawValue == String {
        let word = try text(name)
        guard let value = C(rawValue: word) else { throw wrongKind(name, "one of its choices, got \(word)") }
        return value
    }

    public func vector(_ name: String) throws(ComputeError) -> [Double] {
        switch try require(name) {
        case .vector(let xs): return xs
        case .matrix(let rows) where rows.count == 1: return rows[0]
        default: throw wrongKind(name, "a vector")
        }
    }

    public func matrix(_ name: String) throws(ComputeError) -> [[Double]] {
        switch try require(name) {
        case .matrix(let rows): return rows
        case .vector(let xs): return [xs]
        default: throw wrongKind(name, "a matrix")
        }
    }

    /// A vector of whole numbers used as indices; each must lie in `0..<count`.
    public func indices(_ name: String, below count: Int) throws(ComputeError) -> [Int] {
        let xs = try vector(name)
        var result: [Int] = []
        result.reserveCapacity(xs.count)
        for x in xs {
            guard x == x.rounded(), x >= 0, x < Double(count) else {
                throw ComputeError(parameter: name,
                                   message: "expects whole numbers in 0..<\(count), got \(NumberText.shortest(x))")
            }
            result.append(Int(x))
        }
        return result
    }
}

/// A module's results, in the order the module produced them.
public struct Outputs: Sendable, ExpressibleByDictionaryLiteral {
    public private(set) var entries: [(name: String, value: Value)]

    public init(dictionaryLiteral elements: (String, Value)...) {
        entries = elements.map { (name: $0.0, value: $0.1) }
    }

    public init(_ entries: [(name: String, value: Value)]) {
        self.entries = entries
    }

    public subscript(name: String) -> Value? {
        get { entries.first { $0.name == name }?.value }
        set {
            if let i = entries.firstIndex(where: { $0.name == name }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((name: name, value: newValue))
            }
        }
    }

    public var names: [String] { entries.map(\.name) }
}

/// What a running module may use besides its inputs: progress reporting and cancellation.
/// Only heavy modules need it.
public struct RunContext: Sendable {
    public let reportProgress: @Sendable (Double) -> Void
    public let isCancelled: @Sendable () -> Bool

    public init(reportProgress: @escaping @Sendable (Double) -> Void = { _ in },
                isCancelled: @escaping @Sendable () -> Bool = { false }) {
        self.reportProgress = reportProgress
        self.isCancelled = isCancelled
    }

    /// A context that reports nothing and is never cancelled.
    public static let silent = RunContext()

    public func checkCancelled() throws(ComputeError) {
        if isCancelled() { throw ComputeError.cancelled }
    }
}

/// A pure function of its parameters that backs a lesson cell.
///
/// A module declares its parameters and outputs next to the math it implements and does no
/// I/O. ``run(_:context:)`` receives parameters already validated against ``parameters``;
/// relations between parameters (matching shapes, indices in range) are the module's to
/// check, by throwing ``ComputeError/invalid(_:_:)`` with the parameter's name.
public protocol ComputeModule: Sendable {
    /// `topic.verb`, such as `softmax.online`.
    var name: String { get }
    /// One line for `derive modules`.
    var summary: String { get }
    var parameters: [ParameterSpec] { get }
    var outputs: [OutputSpec] { get }
    /// A heavy module's cells must be marked `heavy` (the loader says so otherwise): they are
    /// skipped by `check` unless asked, and never re-run by an upstream edit.
    var isHeavy: Bool { get }
    func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs
}

extension ComputeModule {
    public var isHeavy: Bool { false }

    public func parameter(named name: String) -> ParameterSpec? {
        parameters.first { $0.name == name }
    }

    public func output(named name: String) -> OutputSpec? {
        outputs.first { $0.name == name }
    }

    /// How each output wants to be shown, by name (outputs without a hint are absent).
    public var displayHints: [String: DisplayHint] {
        var hints: [String: DisplayHint] = [:]
        for spec in outputs { hints[spec.name] = spec.hint }
        return hints
    }

    /// Validates `values` (fills in defaults, converts kinds) into the inputs `run` expects.
    public func inputs(from values: [String: Value]) throws(ComputeError) -> Inputs {
        for name in values.keys.sorted() where parameter(named: name) == nil {
            throw ComputeError(parameter: name, message: "is not a parameter of \(self.name); it takes \(parameters.map(\.name).joined(separator: ", "))")
        }
        var entries: [(name: String, value: Value)] = []
        for spec in parameters {
            if let given = values[spec.name] {
                entries.append((spec.name, try spec.validate(given)))
            } else {
                switch spec.defaultValue {
                case .value(let v): entries.append((spec.name, v))
                case .computed: break
                case .required: throw ComputeError(parameter: spec.name, message: "is required (\(spec.kindDescription))")
                }
            }
        }
        return Inputs(entries)
    }

    /// Validates and runs: the one entry point callers use.
    public func evaluate(_ values: [String: Value], context: RunContext = .silent) throws(ComputeError) -> (inputs: Inputs, outputs: Outputs) {
        let inputs = try inputs(from: values)
        let outputs = try run(inputs, context: context)
        return (inputs, outputs)
    }
}

/// The set of compute modules lessons may call, by name.
public struct ModuleRegistry: Sendable {
    public let modules: [any ComputeModule]

    public init(_ modules: [any ComputeModule]) {
        self.modules = modules
    }

    public func module(named name: String) -> (any ComputeModule)? {
        modules.first { $0.name == name }
    }

    public var names: [String] { modules.map(\.name) }
}
