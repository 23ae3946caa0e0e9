import Foundation

/// Where a cell stands.
public enum CellStatus: Sendable, Equatable {
    case notRun
    /// The module ran; expectations are judged separately.
    case ok
    /// The module reported an error (an invalid parameter or a failed computation).
    case failed(ComputeError)
    /// A cell it reads from has no usable result; the reason says which.
    case blocked(String)
    /// A heavy cell whose inputs changed since it ran: it waits for an explicit run.
    case stale
    /// A heavy cell not run because heavy cells were not asked for.
    case skippedHeavy

    public var isOK: Bool { self == .ok }

    public var isFailed: Bool {
        if case .failed = self { true } else { false }
    }

    /// One line for listings: `ok`, `error: parameter 'x' ...`.
    public var summary: String {
        switch self {
        case .notRun: "not run"
        case .ok: "ok"
        case .failed(let error): "error: \(error)"
        case .blocked(let reason): "not run: \(reason)"
        case .stale: "stale: inputs changed; run it again"
        case .skippedHeavy: "heavy: skipped (run with --heavy, or Enter in the notebook)"
        }
    }
}

/// The verdict on one `expect` line.
public struct ExpectationResult: Sendable, Equatable {
    public var expectation: Expectation
    public var passed: Bool
    /// The values of the two sides, when they could be computed.
    public var left: Value?
    public var right: Value?
    /// Why it failed: both sides' values, or why they could not be computed.
    public var message: String?

    /// The left side's value (for a claim about one output, what that output held).
    public var actual: Value? { left }
}

/// Everything known about one run of a cell.
public struct CellResult: Sendable {
    public var status: CellStatus
    /// The parameters the module saw, defaults filled in, in declaration order.
    public var inputs: Inputs?
    public var outputs: Outputs?
    public var expectations: [ExpectationResult]
    /// Wall time of the module's run, in seconds.
    public var duration: Double

    public init(status: CellStatus, inputs: Inputs? = nil, outputs: Outputs? = nil,
                expectations: [ExpectationResult] = [], duration: Double = 0) {
        self.status = status
        self.inputs = inputs
        self.outputs = outputs
        self.expectations = expectations
        self.duration = duration
    }

    public static let notRun = CellResult(status: .notRun)

    /// True when the module ran and every expectation held.
    public var passed: Bool { status.isOK && expectations.allSatisfy(\.passed) }
}

/// A cell ready to run: its module, resolved parameter values, and the values of other cells
/// its expectations read. `Sendable`, so a heavy cell can run on another thread and its result
/// be handed back with ``Notebook/apply(_:to:)``.
public struct CellJob: Sendable {
    public let cell: CellSpec
    public let module: any ComputeModule
    public let values: [String: Value]
    /// `cell.output` → its value (or why there is none), for the expectations' references.
    let referenced: [String: Result<Value, ExpressionError>]

    public init(cell: CellSpec, module: any ComputeModule, values: [String: Value]) {
        self.init(cell: cell, module: module, values: values, referenced: [:])
    }

    init(cell: CellSpec, module: any ComputeModule, values: [String: Value],
         referenced: [String: Result<Value, ExpressionError>]) {
        self.cell = cell
        self.module = module
        self.values = values
        self.referenced = referenced
    }

    /// A job for a module run on its own, outside any lesson (`derive compute`).
    public static func standalone(_ module: any ComputeModule, values: [String: Value]) -> CellJob {
        let cell = CellSpec(id: module.name, compute: module.name, isHeavy: module.isHeavy, title: nil, bindings: [],
                            expectations: [], location: SourceLocation(file: "command line", line: 0), sourceLines: [])
        return CellJob(cell: cell, module: module, values: values)
    }

    /// Runs the module and judges the expectations. Pure: touches no notebook state.
    public func execute(context: RunContext = .silent) -> CellResult {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let (inputs, outputs) = try module.evaluate(values, context: context)
            let duration = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let scope = expectationScope(outputs)
            let verdicts = cell.expectations.map { ExpectationJudge.judge($0, in: scope) }
            return CellResult(status: .ok, inputs: inputs, outputs: outputs, expectations: verdicts, duration: duration)
        } catch {
            let duration = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let inputs = try? module.inputs(from: values)
            return CellResult(status: .failed(error), inputs: inputs, duration: duration)
        }
    }

    /// Bare names and `<own id>.output` are this cell's outputs; other references were
    /// resolved when the job was made.
    private func expectationScope(_ outputs: Outputs) -> ExpressionScope {
        let own = cell.id
        return ExpressionScope(
            reference: { [referenced] c, o in
                if c == own {
                    guard let v = outputs[o] else { return .failure(ExpressionError(.invalid, at: 0, "\(own) has no output '\(o)'")) }
                    return .success(v)
                }
                return referenced["\(c).\(o)"] ?? .failure(ExpressionError(.unavailable, at: 0, "'\(c).\(o)' is not available"))
            },
            name: { outputs[$0] })
    }
}

/// A lesson being worked through: its cells' results and the learner's parameter overrides.
///
/// The lesson's cell order is a topological order (references only look backwards), so
/// running in file order respects every dependency. An edit re-runs exactly the edited cell
/// and the cells downstream of it; heavy cells are marked stale instead of re-run.
public struct Notebook: Sendable {
    public let lesson: Lesson
    public let registry: ModuleRegistry
    /// Per cell, per parameter: what the learner set in place of the lesson's value.
    public private(set) var overrides: [String: [String: Expression]] = [:]
    public private(set) var results: [String: CellResult] = [:]
    /// Cells that read directly from each cell.
    private let directDependents: [String: [String]]

    public init(lesson: Lesson, registry: ModuleRegistry) {
        self.lesson = lesson
        self.registry = registry
        var dependents: [String: [String]] = [:]
        for cell in lesson.cells {
            for dependency in cell.dependencies { dependents[dependency, default: []].append(cell.id) }
        }
        directDependents = dependents
    }

    public func result(_ cellID: String) -> CellResult {
        results[cellID] ?? .notRun
    }

    /// Every cell downstream of `cellID` (not itself), in lesson order.
    public func downstream(of cellID: String) -> [String] {
        var found: Set<String> = []
        var queue = directDependents[cellID] ?? []
        while let next = queue.popLast() {
            if found.insert(next).inserted { queue += directDependents[next] ?? [] }
        }
        return lesson.cells.map(\.id).filter(found.contains)
    }

    /// `cellID` and every cell it reads from, directly or not, in lesson order.
    public func upstream(of cellID: String) -> [String] {
        var found: Set<String> = [cellID]
        var queue = [cellID]
        while let next = queue.popLast() {
            for dependency in lesson.cell(next)?.dependencies ?? [] where found.insert(dependency).inserted {
                queue.append(dependency)
            }
        }
        return lesson.cells.map(\.id).filter(found.contains)
    }

    // MARK: Running

    /// Runs every cell in order, or only the cells in `only`. Heavy cells run only when
    /// `includeHeavy`; otherwise one that already has a result keeps it, so re-running a
    /// lesson never throws away long work.
    public mutating func runAll(includeHeavy: Bool = false, only: Set<String>? = nil, context: RunContext = .silent) {
        for cell in lesson.cells where only?.contains(cell.id) ?? true {
            if cell.isHeavy && !includeHeavy {
                if results[cell.id] == nil { results[cell.id] = CellResult(status: .skippedHeavy) }
            } else {
                results[cell.id] = runNow(cell.id, context: context)
            }
        }
    }

    /// Runs one cell (heavy or not), then the non-heavy cells downstream. Returns the cells updated.
    @discardableResult
    public mutating func run(_ cellID: String, context: RunContext = .silent) -> [String] {
        apply(runNow(cellID, context: context), to: cellID)
    }

    /// Stores a result computed elsewhere (see ``job(for:)``) and refreshes what is downstream.
    @discardableResult
    public mutating func apply(_ result: CellResult, to cellID: String) -> [String] {
        results[cellID] = result
        return [cellID] + refreshDownstream(of: cellID)
    }

    /// The module and resolved parameters for a cell, or the reason it cannot run.
    public func job(for cellID: String) -> Result<CellJob, ComputeError> {
        guard let cell = lesson.cell(cellID) else {
            return .failure(ComputeError(message: "lesson '\(lesson.id)' has no cell '\(cellID)'"))
        }
        guard let module = registry.module(named: cell.compute) else {
            return .failure(ComputeError(message: "unknown compute module '\(cell.compute)'"))
        }
        let scope = resultsScope
        var values: [String: Value] = [:]
        for (name, expression) in parameterExpressions(cellID) {
            if let literal = expression.literalValue {
                values[name] = literal
                continue
            }
            do {
                values[name] = try expression.evaluate(in: scope)
            } catch {
                if error.kind == .unavailable { return .failure(ComputeError(.blocked, error.message)) }
                return .failure(.invalid(name, "\(error.message) (in '\(expression.source)')"))
            }
        }
        var referenced: [String: Result<Value, ExpressionError>] = [:]
        for reference in cell.expectations.flatMap({ $0.references(excluding: cell.id) }) {
            referenced["\(reference.cell).\(reference.output)"] = scope.reference(reference.cell, reference.output)
        }
        return .success(CellJob(cell: cell, module: module, values: values, referenced: referenced))
    }

    /// References resolve to the cells' current outputs; bare names are words.
    private var resultsScope: ExpressionScope {
        ExpressionScope(reference: { [self] cell, output in wholeOutput(cell, output) })
    }

    /// The current value of `cell.output`, or why there is none.
    private func wholeOutput(_ cellID: String, _ output: String) -> Result<Value, ExpressionError> {
        let result = self.result(cellID)
        guard result.status.isOK, let outputs = result.outputs else {
            let why: String
            switch result.status {
            case .failed: why = "cell '\(cellID)' failed"
            case .stale: why = "cell '\(cellID)' is stale; run it again"
            case .skippedHeavy: why = "cell '\(cellID)' is heavy and has not run"
            case .blocked, .notRun: why = "cell '\(cellID)' has not run"
            case .ok: why = "cell '\(cellID)' has no outputs"
            }
            return .failure(ExpressionError(.unavailable, at: 0, "needs \(cellID).\(output), but \(why)"))
        }
        guard let value = outputs[output] else {
            return .failure(ExpressionError(.invalid, at: 0, "cell '\(cellID)' has no output '\(output)'"))
        }
        return .success(value)
    }

    private func runNow(_ cellID: String, context: RunContext) -> CellResult {
        switch job(for: cellID) {
        case .success(let job): return job.execute(context: context)
        case .failure(let error): return CellResult(status: error.kind == .blocked ? .blocked(error.message) : .failed(error))
        }
    }

    private mutating func refreshDownstream(of cellID: String) -> [String] {
        let cells = downstream(of: cellID)
        for id in cells {
            guard let cell = lesson.cell(id) else { continue }
            if cell.isHeavy {
                if let status = results[id]?.status, status.isOK || status.isFailed {
                    results[id]?.status = .stale
                }
            } else {
                results[id] = runNow(id, context: .silent)
            }
        }
        return cells
    }

    // MARK: Parameters

    /// The parameters a cell sets: the lesson's lines, with overrides in their place or added.
    public func parameterExpressions(_ cellID: String) -> [(name: String, expression: Expression)] {
        guard let cell = lesson.cell(cellID) else { return [] }
        let cellOverrides = overrides[cellID] ?? [:]
        var list = cell.bindings.map { (name: $0.name, expression: cellOverrides[$0.name] ?? $0.expression) }
        for name in cellOverrides.keys.sorted() where cell.binding(name) == nil {
            if let e = cellOverrides[name] { list.append((name, e)) }
        }
        return list
    }

    /// Whether the learner changed a parameter of this cell or of a cell it reads from: its
    /// expectations are then claims about the lesson's values, not about these.
    public func isEdited(_ cellID: String) -> Bool {
        guard !overrides.isEmpty else { return false }
        return upstream(of: cellID).contains { overrides[$0] != nil }
    }

    /// Whether the learner changed this parameter.
    public func isOverridden(_ cellID: String, _ parameter: String) -> Bool {
        overrides[cellID]?[parameter] != nil
    }

    /// Sets a parameter from text typed by the learner, validated by the lesson-file rules,
    /// then re-runs the cell and what is downstream. Returns the cells updated.
    @discardableResult
    public mutating func setOverride(cell cellID: String, parameter: String, source: String) throws(ComputeError) -> [String] {
        let expression = try Self.parse(source, for: parameter)
        return try setOverride(cell: cellID, parameter: parameter, expression: expression)
    }

    /// Sets a parameter to a parsed expression, checked as a lesson line would be.
    @discardableResult
    public mutating func setOverride(cell cellID: String, parameter: String,
                                     expression: Expression) throws(ComputeError) -> [String] {
        let cell = try check(cell: cellID, parameter: parameter, expression: expression)
        overrides[cellID, default: [:]][parameter] = expression
        if cell.isHeavy {
            if results[cellID] != nil, results[cellID]?.status != .skippedHeavy { results[cellID]?.status = .stale }
            return [cellID] + refreshDownstream(of: cellID)
        }
        return run(cellID)
    }

    /// Records an override that the learner set earlier, checked as a lesson line would be,
    /// without running anything: the caller runs the notebook once all are restored.
    public mutating func restoreOverride(cell cellID: String, parameter: String, source: String) throws(ComputeError) {
        let expression = try Self.parse(source, for: parameter)
        _ = try check(cell: cellID, parameter: parameter, expression: expression)
        overrides[cellID, default: [:]][parameter] = expression
    }

    /// Typed text as a parameter expression, with the error naming the parameter.
    private static func parse(_ source: String, for parameter: String) throws(ComputeError) -> Expression {
        do {
            return try ExpressionParser.parse(source)
        } catch {
            throw ComputeError(parameter: parameter, message: "\(error.message) (at column \(error.offset + 1))")
        }
    }

    /// The cell, when `expression` is a valid setting for its `parameter`.
    private func check(cell cellID: String, parameter: String, expression: Expression) throws(ComputeError) -> CellSpec {
        guard let cell = lesson.cell(cellID) else {
            throw ComputeError(message: "lesson '\(lesson.id)' has no cell '\(cellID)'; it has \(lesson.cells.map(\.id).joined(separator: ", "))")
        }
        guard let module = registry.module(named: cell.compute) else {
            throw ComputeError(message: "unknown compute module '\(cell.compute)'")
        }
        let loader = LessonLoader(registry: registry)
        if let problem = loader.checkBinding(parameter, expression, in: cell, module: module, lesson: lesson) {
            throw ComputeError(parameter: parameter, message: problem.message.strippingParameterPrefix(parameter))
        }
        return cell
    }

    /// Restores a cell's parameters to the lesson's and re-runs it (unless heavy) and what is downstream.
    @discardableResult
    public mutating func resetOverrides(cell cellID: String) -> [String] {
        guard overrides.removeValue(forKey: cellID) != nil else { return [] }
        if lesson.cell(cellID)?.isHeavy == true {
            if results[cellID] != nil, results[cellID]?.status != .skippedHeavy { results[cellID]?.status = .stale }
            return [cellID] + refreshDownstream(of: cellID)
        }
        return run(cellID)
    }

    // MARK: Values

    /// The current value of `cell.output[i]`, or why there is none.
    public func resolveReference(_ reference: OutputReference) -> Result<Value, ComputeError> {
        let expression = Expression(root: ExpressionNode(.reference(reference), at: 0), source: reference.description)
        do {
            return .success(try expression.evaluate(in: resultsScope))
        } catch {
            return .failure(ComputeError(error.kind == .unavailable ? .blocked : .failed, error.message))
        }
    }

    /// The value of an expression over the cells' current outputs (a placeholder, an answer).
    public func evaluate(_ expression: Expression) -> Result<Value, ExpressionError> {
        Result { () throws(ExpressionError) in try expression.evaluate(in: resultsScope) }
    }

    /// The text for a `{{...}}` placeholder: the formatted value, or a visible `⟨…⟩` marker: the
    /// expression itself while a value it needs is not there yet, with the reason after a
    /// colon when it cannot be computed.
    public func resolve(_ placeholder: Placeholder) -> (text: String, available: Bool) {
        switch evaluate(placeholder.expression) {
        case .success(let value): return (ValueFormat.format(value, placeholder.format), true)
        case .failure(let error) where error.kind == .unavailable: return ("⟨\(placeholder.expression.source)⟩", false)
        case .failure(let error): return ("⟨\(placeholder.expression.source): \(error.message)⟩", false)
        }
    }
}

extension String {
    /// Turns "parameter 'x' must be > 0" into "must be > 0" where the parameter is named separately.
    func strippingParameterPrefix(_ name: String) -> String {
        let prefix = "parameter '\(name)' "
        return hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
    }
}
