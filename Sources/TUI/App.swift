import Foundation
import NotebookCore
import Progress

/// A lesson as the list shows it, with the learner's progress and saved parameter overrides
/// (cell → parameter → source text) to restore when it opens.
public struct LessonEntry: Sendable {
    /// What the list shows; the lesson itself is parsed from the header's file on opening.
    public var header: LessonHeader
    /// The lesson, when it was given already parsed (tests, a single file): opening it reads nothing.
    public var parsed: Lesson?
    public var progress: LessonProgress
    public var savedOverrides: [String: [String: String]]
    /// The cell the learner was at, to scroll back to.
    public var lastCell: String?
    /// Cells the learner has run successfully (here or in an earlier session); marked in the text.
    public var ranCells: Set<String>
    /// The learner's answers so far, by question id.
    public var answers: [String: AnswerState]

    /// An entry whose lesson is read from `header.url` when it is opened.
    public init(header: LessonHeader, progress: LessonProgress? = nil,
                savedOverrides: [String: [String: String]] = [:], lastCell: String? = nil,
                ranCells: Set<String> = [], answers: [String: AnswerState] = [:]) {
        self.header = header
        self.progress = progress ?? LessonProgress(outline: LessonOutline(header))
        self.savedOverrides = savedOverrides
        self.lastCell = lastCell
        self.ranCells = ranCells
        self.answers = answers
    }

    /// The list's numbers for the lesson's cells and questions as they are now, by the progress
    /// store's rule: cells that ran successfully, done when there are some and all of them have;
    /// answers to questions since removed do not count.
    mutating func recount(cellIDs: [String], questionIDs: [String]) {
        let cells = Set(cellIDs)
        let ran = ranCells.intersection(cells).count
        progress.cells = cells.count
        progress.cellsRun = ran
        progress.done = !cells.isEmpty && ran == cells.count
        let questions = Set(questionIDs)
        let states = answers.filter { questions.contains($0.key) }.values
        progress.questions = questions.count
        progress.answered = states.filter(\.isSettled).count
        progress.rightFirstTry = states.filter(\.rightFirstTry).count
    }

    /// An entry for a lesson already parsed.
    public init(lesson: Lesson, progress: LessonProgress? = nil,
                savedOverrides: [String: [String: String]] = [:], lastCell: String? = nil,
                ranCells: Set<String> = [], answers: [String: AnswerState] = [:]) {
        self.init(header: LessonHeader(lesson), progress: progress, savedOverrides: savedOverrides,
                  lastCell: lastCell, ranCells: ranCells, answers: answers)
        parsed = lesson
    }
}

/// The answer being typed to the focused question.
public struct AnswerEditor: Sendable, Equatable {
    public var questionID: String
    public var line: LineEditor
    /// Why the last Enter was not taken as an answer; shown under the editor.
    public var error: String?
}

/// The learner's questions in the open lesson: answers, feedback, hints shown.
public struct QuestionsState: Sendable, Equatable {
    public var answers: [String: AnswerState] = [:]
    /// The last word on each question: "too high by 12%, one more try", the revealed answer.
    public var feedback: [String: String] = [:]
    public var hintsShown: Set<String> = []
    public var editor: AnswerEditor?

    /// Each cell still hidden by a question the learner has not answered, with that question.
    func mask(for lesson: Lesson) -> QuestionMask {
        QuestionMask(lesson: lesson, answers: answers)
    }
}

/// The inline parameter editor of the focused cell.
public struct ParameterEditor: Sendable, Equatable {
    public var cellID: String
    public var parameter: String
    public var line: LineEditor
    /// Why the last Enter was refused; shown under the editor.
    public var error: String?
}

/// A heavy cell running off the UI thread.
public struct RunningJob: Sendable, Equatable {
    public var id: Int
    public var lessonID: String
    public var cellID: String
    public var fraction: Double
}

/// The cells of a lesson just opened, running off the event loop (``Effect/runLesson(id:_:)``).
public struct OpeningRun: Sendable, Equatable {
    public var id: Int
    /// The scroll set to show the learner's last cell; while it is unchanged, the view scrolls
    /// there again once the values (which change how the text wraps) are in.
    public var resumedScroll: Int?

    /// What a key that needs the values says meanwhile.
    static let wait = StatusMessage("the lesson's cells are still running; a moment")
}

/// The open lesson: its notebook and how it is being viewed.
public struct LessonSession: Sendable {
    public var notebook: Notebook {
        didSet { notebookVersion = NotebookVersion() }
    }
    /// Replaced whenever the notebook changes, so a layout made for it can be reused until then.
    private(set) var notebookVersion = NotebookVersion()
    /// First line of the document shown.
    public var scroll: Int = 0
    /// Index into the lesson's cells.
    public var focusedCell: Int = 0
    /// Index into the focused cell's module parameters.
    public var selectedParameter: Int = 0
    /// Scroll of the side panel (wide layout).
    public var panelScroll: Int = 0
    public var editor: ParameterEditor?
    /// Index into the lesson's questions when the focus is on a question (then `focusedCell`
    /// is the cell it asks about).
    public var focusedQuestion: Int?
    public var questions = QuestionsState()
    /// Why the lesson's file, changed on disk, did not reload; shown until a save fixes it.
    /// The last version that loaded stays on screen meanwhile.
    public var reloadError: String?
    /// The run of the lesson's cells started when it opened, until its results arrive.
    public var opening: OpeningRun?

    public init(notebook: Notebook) {
        self.notebook = notebook
    }

    /// Where the focus is: the focused question, else the focused cell.
    var stop: Stop { focusedQuestion.map(Stop.question) ?? .cell(focusedCell) }

    /// Moves the focus; on a question, the cell it asks about is the focused cell too.
    mutating func focus(on stop: Stop) {
        switch stop {
        case .cell(let index):
            focusedCell = index
            focusedQuestion = nil
        case .question(let index):
            focusedQuestion = index
            if let cell = lesson.cellIndex(lesson.questions[index].cell) { focusedCell = cell }
        }
        selectedParameter = 0
        panelScroll = 0
    }

    public var focusedQuestionSpec: Question? {
        focusedQuestion.flatMap { lesson.questions.indices.contains($0) ? lesson.questions[$0] : nil }
    }

    public var lesson: Lesson { notebook.lesson }
    public var focusedCellSpec: CellSpec? {
        lesson.cells.indices.contains(focusedCell) ? lesson.cells[focusedCell] : nil
    }
}

/// A message in the status bar.
public struct StatusMessage: Sendable, Equatable {
    public var text: String
    public var isError: Bool

    public init(_ text: String, isError: Bool = false) {
        self.text = text
        self.isError = isError
    }
}

/// Why cells ran.
public enum RunTrigger: String, Sendable {
    case open, edit, reset, enter, runAll, heavy
}

/// What the progress store should remember.
public enum RecordEvent: Sendable {
    case opened(lessonID: String)
    case position(lessonID: String, cellID: String)
    case ran(lessonID: String, trigger: RunTrigger, runs: [CellRunRecord])
    /// The learner's overrides of a cell after an edit or a reset (empty after `u`).
    case overrides(lessonID: String, cellID: String, sources: [String: String])
    /// An answer to a question (`typed`), or a reveal.
    case answered(lessonID: String, questionID: String, typed: String, correct: Bool, attempt: Int, revealed: Bool)
}

/// Work `update` asks the runtime to do: it stays pure, the runtime does the I/O.
public enum Effect: Sendable {
    case quit
    /// Run a heavy cell on a background thread, reporting `jobProgress` and `jobFinished`.
    case runJob(id: Int, job: CellJob)
    case cancelJob(id: Int)
    case record(RecordEvent)
    /// Parse the lesson of this header from its file, answering with `lessonLoaded`.
    case loadLesson(LessonHeader)
    /// Run the notebook's cells (heavy ones wait) off the event loop, answering with
    /// `lessonRan`: a lesson that trains in its cells shows at once, its values a moment later.
    case runLesson(id: Int, Notebook)
}

/// Which screen is showing.
public enum Screen: Sendable, Equatable {
    case list, lesson
}

/// Everything the interface shows, as a value: `update` changes it, `render` draws it.
public struct AppState: Sendable {
    public var registry: ModuleRegistry {
        didSet { layoutCache = LayoutCache() }
    }
    public var lessons: [LessonEntry]
    /// The folder the lessons came from; while the list shows, the runtime watches it for
    /// lessons added, removed or renamed.
    public var lessonsDirectory: URL?
    /// Files that did not load, shown under the list.
    public var loadErrors: [String]
    public var screen: Screen = .list
    public var listSelection = 0
    public var session: LessonSession?
    public var width: Int
    public var height: Int
    public var theme: Theme {
        didSet { layoutCache = LayoutCache() }
    }
    public var showHelp = false
    /// The search being typed, when `/` was pressed.
    public var search: LineEditor?
    public var lastSearch: String?
    public var status: StatusMessage?
    public var job: RunningJob?
    public var nextJobID = 1
    /// Whether opening a lesson runs its cells off the event loop (``Effect/runLesson(id:_:)``),
    /// as the notebook does; otherwise `update` runs them before it returns, as tests want.
    public var runsLessonsInBackground = false
    /// The lesson `derive` would resume, for the list's hint.
    public var resumeLessonID: String?
    /// Renders `$...$` LaTeX as Unicode; the second argument is true for display math.
    public var renderMath: @Sendable (String, Bool) -> String {
        didSet { layoutCache = LayoutCache() }
    }
    /// "Now", for "visited 2 days ago".
    public var now: Date
    /// The last document layout, shared by copies of the state; replaced when the theme, the
    /// registry or the math renderer change, which its key does not cover.
    var layoutCache = LayoutCache()

    public init(registry: ModuleRegistry, lessons: [LessonEntry], loadErrors: [String] = [],
                width: Int = 80, height: Int = 24, color: Bool = true, resumeLessonID: String? = nil,
                now: Date = Date(),
                renderMath: @escaping @Sendable (String, Bool) -> String = { tex, _ in MathText.render(tex) }) {
        self.registry = registry
        self.lessons = lessons.sorted { ($0.header.order, $0.header.id) < ($1.header.order, $1.header.id) }
        self.loadErrors = loadErrors
        self.width = width
        self.height = height
        self.theme = Theme(color: color)
        self.resumeLessonID = resumeLessonID
        self.now = now
        self.renderMath = renderMath
        if let resumeLessonID, let i = self.lessons.firstIndex(where: { $0.header.id == resumeLessonID }) {
            listSelection = i
        }
    }

    /// The smallest terminal the interface lays out in.
    public static let minimumWidth = 40
    public static let minimumHeight = 12

    public var isTooSmall: Bool { width < Self.minimumWidth || height < Self.minimumHeight }
}

/// Identifies one state of a session's notebook: a new instance each time it changes. Compared
/// by identity, which stays unique while a cache key holds it.
final class NotebookVersion: Sendable {}

/// The most recent document layout and what it was made from. An update asks for the layout
/// several times (to scroll, to follow the focus) and then the frame is drawn from it: this
/// makes that one layout per change instead of one per question.
final class LayoutCache: @unchecked Sendable {
    /// Everything a layout depends on besides the theme, registry and math renderer.
    struct Key: Equatable {
        var notebook: NotebookVersion
        var width: Int
        var inlineCells: Bool
        var focusedCell: Int
        var selectedParameter: Int
        var editor: ParameterEditor?
        var job: RunningJob?
        var ranCells: Set<String>
        var focusedQuestion: Int?
        var questions: QuestionsState

        static func == (a: Key, b: Key) -> Bool {
            a.notebook === b.notebook && a.width == b.width && a.inlineCells == b.inlineCells
                && a.focusedCell == b.focusedCell && a.selectedParameter == b.selectedParameter
                && a.editor == b.editor && a.job == b.job && a.ranCells == b.ranCells
                && a.focusedQuestion == b.focusedQuestion && a.questions == b.questions
        }
    }

    /// The prose blocks of the layouts made so far, for the next.
    let proseLayouts = ProseLayouts()

    // Guarded by `lock`: copies of a state on different threads share this object.
    private let lock = NSLock()
    private var last: (key: Key, layout: DocumentLayout)?
    private var made = 0

    /// How many layouts were computed (not reused), for tests.
    var layoutsMade: Int { lock.withLock { made } }

    /// The layout made for `key`, if it is the last one made.
    func cached(for key: Key) -> DocumentLayout? {
        lock.withLock { last.flatMap { $0.key == key ? $0.layout : nil } }
    }

    func layout(for key: Key, make: () -> DocumentLayout) -> DocumentLayout {
        if let hit = cached(for: key) { return hit }
        let layout = make()
        lock.withLock {
            last = (key, layout)
            made += 1
        }
        return layout
    }
}
