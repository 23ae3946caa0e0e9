import NotebookCore

/// `test.add`: y = a + b (vectors elementwise), counts its runs through `log` for runner tests.
struct AddModule: ComputeModule {
    let name = "test.add"
    let summary = "a + b"
    let parameters: [ParameterSpec] = [
        .vector("a", [1, 2], doc: "left"),
        .vector("b", [10, 20], doc: "right"),
    ]
    let outputs: [OutputSpec] = [
        .init("y", .vector, doc: "a + b"),
        .init("total", .number, doc: "Σ y"),
        .init("m", .matrix, doc: "[a, b] as rows"),
    ]

    func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let a = try inputs.vector("a"), b = try inputs.vector("b")
        guard a.count == b.count else { throw .invalid("b", "has \(b.count) elements but a has \(a.count)") }
        let y = zip(a, b).map(+)
        return ["y": .vector(y), "total": .number(y.reduce(0, +)), "m": .matrix([a, b])]
    }
}

/// The sign `test.scale` applies.
enum ScaleMode: String, CaseIterable {
    case plain, negate
}

/// `test.scale`: y = k·x; fails when k is 13, for failure propagation.
struct ScaleModule: ComputeModule {
    let name = "test.scale"
    let summary = "k·x"
    let parameters: [ParameterSpec] = [
        .vector("x", [1], doc: "input"),
        .number("k", 2, range: .atLeast(0), doc: "factor"),
        .choice("mode", ScaleMode.self, default: .plain, doc: "sign"),
        .integer("n", 1, range: .closed(1, 5), doc: "a count"),
        .bool("flag", false, doc: "a flag"),
    ]
    let outputs: [OutputSpec] = [
        .init("y", .vector, hint: .chart, doc: "k·x"),
        .init("first", .number, doc: "y[0]"),
        .init("ok", .bool, doc: "always true"),
        .init("label", .text, doc: "the mode"),
    ]

    func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let k = try inputs.number("k")
        if k == 13 { throw .invalid("k", "is unlucky") }
        let sign = try inputs.choice("mode", as: ScaleMode.self) == .negate ? -1.0 : 1.0
        let y = try inputs.vector("x").map { $0 * k * sign }
        return ["y": .vector(y), "first": .number(y.first ?? .nan), "ok": .bool(true), "label": .text(try inputs.text("mode"))]
    }
}

/// `test.slow`: heavy; reports progress and honours cancellation.
struct SlowModule: ComputeModule {
    let name = "test.slow"
    let summary = "heavy"
    let isHeavy = true
    let parameters: [ParameterSpec] = [.number("x", 1, doc: "input")]
    let outputs: [OutputSpec] = [.init("y", .number, doc: "x + 1")]

    func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        for step in 0..<4 {
            try context.checkCancelled()
            context.reportProgress(Double(step) / 4)
        }
        return ["y": .number(try inputs.number("x") + 1)]
    }
}

public let testRegistry = ModuleRegistry([AddModule(), ScaleModule(), SlowModule()])

/// Builds lesson text with front matter around `body`.
public func lessonText(_ body: String, id: String = "demo") -> String {
    "---\nid: \(id)\ntitle: Demo\norder: 1\nsummary: A test lesson.\n---\n" + body
}

/// Loads lesson text, returning the errors as `line:column: message` strings.
public func loadErrors(_ text: String) -> [String] {
    switch LessonLoader(registry: testRegistry).load(text, file: "t.md") {
    case .success: return []
    case .failure(let failure): return failure.errors.map { "\($0.location.line):\($0.location.column): \($0.message)" }
    }
}

public func loadLesson(_ text: String) throws -> Lesson {
    switch LessonLoader(registry: testRegistry).load(text, file: "t.md") {
    case .success(let lesson): return lesson
    case .failure(let failure): throw failure
    }
}
