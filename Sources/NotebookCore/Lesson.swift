/// A place in a lesson file, 1-based, for error messages.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int = 1) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A problem in a lesson file, with where it is and what was expected there.
public struct LessonError: Error, Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// `cell.output[i][j]`: a value produced by a cell, optionally one element of it.
public struct OutputReference: Sendable, Hashable, CustomStringConvertible {
    public var cell: String
    public var output: String
    public var indexes: [Int]

    public init(cell: String, output: String, indexes: [Int] = []) {
        self.cell = cell
        self.output = output
        self.indexes = indexes
    }

    public var description: String {
        "\(cell).\(output)" + indexes.map { "[\($0)]" }.joined()
    }
}

/// `name = value` in a cell body.
public struct ParameterBinding: Sendable, Equatable {
    public var name: String
    public var expression: Expression
    /// Where the line starts.
    public var location: SourceLocation
    /// The column where the value's text starts, for errors inside it.
    public var valueColumn: Int

    public init(name: String, expression: Expression, location: SourceLocation, valueColumn: Int) {
        self.name = name
        self.expression = expression
        self.location = location
        self.valueColumn = valueColumn
    }
}

/// One `expect LEFT OP RIGHT` line: a claim about the cell's outputs, possibly relating them
/// to other cells' (`expect mi_bound < channel.mi`).
public struct Expectation: Sendable, Equatable {
    public var left: Expression
    public var comparison: ExpressionParser.Comparison
    public var right: Expression
    /// After `±`, for `≈`.
    public var tolerance: Expression?
    /// The line as written after `expect`, for reports.
    public var text: String
    /// Where the text after `expect` starts; expression offsets count from here.
    public var location: SourceLocation

    /// The cells other than `own` whose outputs the claim reads.
    public func references(excluding own: String) -> [OutputReference] {
        (left.references + right.references + (tolerance?.references ?? [])).filter { $0.cell != own }
    }
}

/// A fenced `cell` block.
public struct CellSpec: Sendable, Equatable {
    public var id: String
    public var compute: String
    public var isHeavy: Bool
    public var title: String?
    public var bindings: [ParameterBinding]
    public var expectations: [Expectation]
    /// The fence's opening line.
    public var location: SourceLocation
    /// The body lines as written, for Markdown export.
    public var sourceLines: [String]

    public init(id: String, compute: String, isHeavy: Bool = false, title: String? = nil, bindings: [ParameterBinding] = [],
                expectations: [Expectation] = [], location: SourceLocation, sourceLines: [String] = []) {
        self.id = id
        self.compute = compute
        self.isHeavy = isHeavy
        self.title = title
        self.bindings = bindings
        self.expectations = expectations
        self.location = location
        self.sourceLines = sourceLines
    }

    public func binding(_ name: String) -> ParameterBinding? {
        bindings.first { $0.name == name }
    }

    /// Cells this cell reads from: in its parameters, and in its expectations (a claim that
    /// relates two cells is judged again when either changes).
    public var dependencies: [String] {
        var seen: [String] = []
        let references = bindings.flatMap(\.expression.references) + expectations.flatMap { $0.references(excluding: id) }
        for r in references where r.cell != id && !seen.contains(r.cell) { seen.append(r.cell) }
        return seen
    }
}

/// `{{EXPR:fmt}}` in prose: `{{cell.output[i]}}`, or any expression over cells' outputs.
public struct Placeholder: Sendable, Equatable {
    public var expression: Expression
    /// `.4f`, `.3e`, `g`, `bits`, `hex`, or nil for the shortest form.
    public var format: String?
    /// Where `{{` is.
    public var location: SourceLocation
    /// The column where the expression's text starts, for errors inside it.
    public var expressionColumn: Int

    public init(expression: Expression, format: String?, location: SourceLocation, expressionColumn: Int? = nil) {
        self.expression = expression
        self.format = format
        self.location = location
        self.expressionColumn = expressionColumn ?? location.column + 2
    }

    /// A placeholder showing one reference, as `{{cell.output}}` does.
    public init(reference: OutputReference, format: String? = nil, location: SourceLocation) {
        let root = ExpressionNode(.reference(reference), at: 0)
        self.init(expression: Expression(root: root, source: reference.description), format: format, location: location)
    }
}

/// A piece of a prose line: plain text or a value to fill in.
public enum ProseSegment: Sendable, Equatable {
    case text(String)
    case placeholder(Placeholder)
}

/// A line of prose with its placeholders parsed. Lines inside non-cell code fences are verbatim.
public struct ProseLine: Sendable, Equatable {
    public var number: Int
    public var raw: String
    public var segments: [ProseSegment]
    /// Inside a fenced code block (not a cell), or the fence itself: shown as is.
    public var isCode: Bool
}

/// How close a typed answer must be to count as right.
public enum AnswerTolerance: Sendable, Equatable {
    /// Exact for integers, booleans and words; a relative 1e-9 for other numbers.
    case standard
    /// `tolerance=T`: |typed − answer| ≤ T.
    case absolute(Double)
    /// `rtol=R`: |typed − answer| ≤ R·|answer|.
    case relative(Double)
}

/// A fenced `question` block: the learner predicts a value of a cell before the cell shows it.
public struct Question: Sendable, Equatable {
    public var id: String
    /// The cell whose outputs the answer is about; its outputs stay hidden until answered.
    public var cell: String
    /// The true answer, over the cell's outputs by bare name (or any `cell.output`).
    public var answer: Expression
    public var tolerance: AnswerTolerance
    /// For multiple choice; the answer is then one of these words.
    public var choices: [String]
    public var hint: String?
    /// The question as written, a prose block (placeholders allowed).
    public var text: [ProseLine]
    /// The fence's opening line.
    public var location: SourceLocation
    /// The column where the `answer=` value starts, for errors inside it.
    public var answerColumn: Int

    /// The text as one paragraph, placeholders shown as written.
    public var plainText: String {
        text.map(\.raw).joined(separator: " ").trimmingSpace
    }
}

/// The body of a lesson in file order.
public enum LessonBlock: Sendable, Equatable {
    case prose([ProseLine])
    /// Index into ``Lesson/cells``.
    case cell(Int)
    /// Index into ``Lesson/questions``.
    case question(Int)
}

/// A parsed, validated lesson.
public struct Lesson: Sendable, Equatable {
    public var id: String
    public var title: String
    public var order: Int
    public var summary: String
    public var sources: [String]
    /// The file it was read from, as given to the loader.
    public var file: String
    public var blocks: [LessonBlock]
    /// The cells in file order; add them with ``appendCell(_:)`` so lookups by id stay O(1).
    public private(set) var cells: [CellSpec] = []
    private var indexByID: [String: Int] = [:]
    /// The questions in file order.
    public private(set) var questions: [Question] = []
    private var questionIndexByID: [String: Int] = [:]

    public init(id: String, title: String, order: Int = Lesson.unordered, summary: String = "", sources: [String] = [],
                file: String, blocks: [LessonBlock] = []) {
        self.id = id
        self.title = title
        self.order = order
        self.summary = summary
        self.sources = sources
        self.file = file
        self.blocks = blocks
    }

    /// The sort key of a lesson whose front matter gives no `order`: after every ordered one.
    public static let unordered = Int.max

    /// The `order` from the front matter, or nil when it gave none.
    public var explicitOrder: Int? { order == Lesson.unordered ? nil : order }

    /// Adds a cell; returns false (and adds nothing) when its id is taken.
    @discardableResult
    public mutating func appendCell(_ cell: CellSpec) -> Bool {
        guard indexByID[cell.id] == nil else { return false }
        indexByID[cell.id] = cells.count
        cells.append(cell)
        return true
    }

    public func cell(_ id: String) -> CellSpec? {
        indexByID[id].map { cells[$0] }
    }

    public func cellIndex(_ id: String) -> Int? {
        indexByID[id]
    }

    /// Adds a question; returns false (and adds nothing) when its id is taken.
    @discardableResult
    public mutating func appendQuestion(_ question: Question) -> Bool {
        guard questionIndexByID[question.id] == nil else { return false }
        questionIndexByID[question.id] = questions.count
        questions.append(question)
        return true
    }

    public func question(_ id: String) -> Question? {
        questionIndexByID[id].map { questions[$0] }
    }

    public func questionIndex(_ id: String) -> Int? {
        questionIndexByID[id]
    }

    /// Whether the prose has its own `# Title` line, so renderers need not print the title.
    public var hasTitleHeading: Bool {
        blocks.contains {
            if case .prose(let lines) = $0 { lines.contains { !$0.isCode && $0.raw.hasPrefix("# ") } } else { false }
        }
    }

    /// The questions that ask about a cell.
    public func questions(about cellID: String) -> [Question] {
        questions.filter { $0.cell == cellID }
    }
}
