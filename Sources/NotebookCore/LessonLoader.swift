import Foundation

/// The lessons of a folder, in `order`, and the problems found in the ones that did not load.
public struct LessonLibrary: Sendable {
    public var lessons: [Lesson]
    public var errors: [LessonError]
    /// Ids of lessons whose file gave an id but did not load (the errors say why).
    public var unloadedIDs: Set<String> = []

    public init(lessons: [Lesson], errors: [LessonError]) {
        self.lessons = lessons
        self.errors = errors
    }

    public func lesson(_ id: String) -> Lesson? {
        lessons.first { $0.id == id }
    }
}

/// Parses lesson files and checks them against the compute modules: every `compute=` is
/// registered, every parameter exists with the right kind, every reference and placeholder
/// points at an output its module declares, and references only look backwards.
public struct LessonLoader: Sendable {
    public let registry: ModuleRegistry

    /// Lesson files larger than this are refused rather than read.
    public static let maxFileBytes = 4 << 20

    public init(registry: ModuleRegistry) {
        self.registry = registry
    }

    /// Loads every `*.md` in `directory`; one bad lesson never stops the others.
    public func loadDirectory(_ directory: URL) -> LessonLibrary {
        var library = LessonLibrary(lessons: [], errors: [])
        var ids = LessonIDs()
        switch lessonFiles(in: directory) {
        case .failure(let error):
            library.errors = [error]
        case .success(let files):
            for url in files {
                let name = displayPath(url)
                switch loadFile(url, displayName: name) {
                case .failure(let failure):
                    library.errors += failure.errors
                    if let id = failure.lessonID { library.unloadedIDs.insert(id) }
                case .success(let lesson):
                    if let duplicate = ids.claim(lesson.id, file: name) { library.errors.append(duplicate); continue }
                    library.lessons.append(lesson)
                }
            }
        }
        library.lessons.sort { ($0.order, $0.id) < ($1.order, $1.id) }
        return library
    }

    /// Reads the header of every `*.md` in `directory` — front matter and the ids of cells and
    /// questions — for the lesson list; ``load(_:)`` parses one in full when it is opened.
    /// With a `cache`, a file unchanged since the cache saw it is not read at all; the cache
    /// learns the others (the caller saves it).
    public func loadHeaders(_ directory: URL, cache: inout LessonHeaderCache) -> LessonCatalog {
        var catalog = LessonCatalog(headers: [], errors: [])
        var ids = LessonIDs()
        switch lessonFiles(in: directory) {
        case .failure(let error):
            catalog.errors = [error]
        case .success(let files):
            for url in files {
                let name = displayPath(url)
                let signature = FileSignature(url)
                var header: LessonHeader
                if let signature, let known = cache.header(at: url, file: name, signature: signature) {
                    header = known
                } else {
                    switch readText(url, displayName: name) {
                    case .failure(let failure):
                        catalog.errors += failure.errors
                        cache.forget(url)
                        continue
                    case .success(let text):
                        let (parsed, errors) = LessonParser.parseHeader(text, file: name)
                        guard errors.isEmpty else {
                            catalog.errors += errors
                            cache.forget(url)
                            continue
                        }
                        header = parsed
                        header.url = url
                        if let signature { cache.remember(header, at: url, signature: signature) }
                    }
                }
                if let duplicate = ids.claim(header.id, file: name) { catalog.errors.append(duplicate); continue }
                catalog.headers.append(header)
            }
            cache.keepOnly(Set(files.map(\.path)), in: directory)
        }
        catalog.headers.sort { ($0.order, $0.id) < ($1.order, $1.id) }
        return catalog
    }

    /// ``loadHeaders(_:cache:)`` reading every file.
    public func loadHeaders(_ directory: URL) -> LessonCatalog {
        var uncached = LessonHeaderCache(location: nil)
        return loadHeaders(directory, cache: &uncached)
    }

    /// Parses and checks the lesson a header came from, reading its file again (it may have
    /// been edited since it was listed). A header with no file has nothing to load.
    public func load(_ header: LessonHeader) -> Result<Lesson, LessonLoadFailure> {
        guard let url = header.url else {
            return .failure(LessonLoadFailure([LessonError(SourceLocation(file: header.file, line: 1), "the lesson has no file to read")]))
        }
        let lesson = loadFile(url, displayName: header.file)
        if case .success(let loaded) = lesson, loaded.id != header.id {
            return .failure(LessonLoadFailure([LessonError(SourceLocation(file: header.file, line: 2),
                "the file now holds lesson '\(loaded.id)', not '\(header.id)'; leave the list and come back to see it")]))
        }
        return lesson
    }

    /// The `*.md` files of a folder, sorted by name.
    private func lessonFiles(in directory: URL) -> Result<[URL], LessonError> {
        do {
            // Sorted by name, each name worked out once (not twice per comparison).
            return .success(try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "md" }
                .map { (name: $0.lastPathComponent, url: $0) }
                .sorted { $0.name < $1.name }
                .map(\.url))
        } catch {
            return .failure(LessonError(SourceLocation(file: directory.path, line: 0, column: 0),
                                        "cannot read the lessons folder: \(error.localizedDescription)"))
        }
    }

    /// The first file to use an id keeps it; a later one is reported.
    private struct LessonIDs {
        private var firstFile: [String: String] = [:]

        mutating func claim(_ id: String, file: String) -> LessonError? {
            if let other = firstFile[id] {
                return LessonError(SourceLocation(file: file, line: 2, column: 1), "duplicate lesson id '\(id)', already used by \(other)")
            }
            firstFile[id] = file
            return nil
        }
    }

    private func displayPath(_ url: URL) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return url.path.hasPrefix(cwd) ? String(url.path.dropFirst(cwd.count)) : url.path
    }

    /// Loads one file.
    public func loadFile(_ url: URL, displayName: String? = nil) -> Result<Lesson, LessonLoadFailure> {
        let name = displayName ?? url.path
        return readText(url, displayName: name).flatMap { load($0, file: name) }
    }

    /// A lesson file's text: refused when too large or not UTF-8.
    private func readText(_ url: URL, displayName name: String) -> Result<String, LessonLoadFailure> {
        let bytes: [UInt8]
        switch FileBytes.read(url.path, limit: LessonLoader.maxFileBytes) {
        case .success(let read):
            bytes = read
        case .failure(.tooLarge(let size)):
            return .failure(LessonLoadFailure([LessonError(SourceLocation(file: name, line: 1),
                "file is \(size) bytes; lessons are limited to \(LessonLoader.maxFileBytes)")]))
        case .failure(.system(let message)):
            return .failure(LessonLoadFailure([LessonError(SourceLocation(file: name, line: 1), "cannot read: \(message)")]))
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let (line, column) = Self.firstInvalidUTF8(in: bytes)
            return .failure(LessonLoadFailure([LessonError(SourceLocation(file: name, line: line, column: column),
                                                           "file is not UTF-8 text: an invalid byte here")]))
        }
        return .success(text)
    }

    /// Where the first byte that is not valid UTF-8 is: its line and column (in characters).
    static func firstInvalidUTF8(in data: some Sequence<UInt8>) -> (line: Int, column: Int) {
        var parser = Unicode.UTF8.ForwardParser()
        var bytes = data.makeIterator()
        var line = 1, column = 1
        while true {
            switch parser.parseScalar(from: &bytes) {
            case .valid(let encoded):
                if encoded.count == 1 && encoded.first == 0x0A { line += 1; column = 1 } else { column += 1 }
            case .emptyInput, .error:
                return (line, column)
            }
        }
    }

    /// Parses and checks lesson text.
    public func load(_ text: String, file: String) -> Result<Lesson, LessonLoadFailure> {
        let (lesson, syntaxErrors) = LessonParser.parse(text, file: file)
        let errors = syntaxErrors + check(lesson)
        if errors.isEmpty { return .success(lesson) }
        var seen: Set<LessonError> = []
        let unique = errors.filter { seen.insert($0).inserted }
        return .failure(LessonLoadFailure(unique.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) },
                                          lessonID: lesson.id.isEmpty ? nil : lesson.id))
    }

    /// The semantic checks that need the registry.
    public func check(_ lesson: Lesson) -> [LessonError] {
        var errors: [LessonError] = []
        func report(_ problem: ExpressionProblem?, line: Int, column: Int) {
            guard let problem else { return }
            errors.append(LessonError(SourceLocation(file: lesson.file, line: line, column: column + problem.offset), problem.message))
        }
        for cell in lesson.cells {
            guard let module = registry.module(named: cell.compute) else {
                errors.append(LessonError(cell.location, "unknown compute module '\(cell.compute)'" + registry.suggestion(for: cell.compute)))
                continue
            }
            for binding in cell.bindings {
                report(checkBinding(binding.name, binding.expression, in: cell, module: module, lesson: lesson),
                       line: binding.location.line, column: binding.valueColumn)
            }
            if module.isHeavy && !cell.isHeavy {
                errors.append(LessonError(cell.location, "cell '\(cell.id)' runs '\(cell.compute)', which is heavy: add `heavy` to the fence, so that check and the notebook run it only when asked"))
            }
            for spec in module.parameters where spec.defaultValue == .required && cell.binding(spec.name) == nil {
                errors.append(LessonError(cell.location, "cell '\(cell.id)' must set '\(spec.name)' (\(spec.kindDescription))"))
            }
            for expectation in cell.expectations {
                for problem in checkExpectation(expectation, in: cell, module: module, lesson: lesson) {
                    report(problem, line: expectation.location.line, column: expectation.location.column)
                }
            }
        }
        var proseLines = lesson.blocks.flatMap { block -> [ProseLine] in
            if case .prose(let lines) = block { lines } else { [] }
        }
        proseLines += lesson.questions.flatMap(\.text)
        for line in proseLines {
            for case .placeholder(let p) in line.segments {
                for problem in checkPlaceholder(p.expression, in: lesson) {
                    report(problem, line: p.location.line, column: p.expressionColumn)
                }
            }
        }
        for (index, question) in lesson.questions.enumerated() {
            for problem in checkQuestion(question, index: index, in: lesson) {
                // A negative offset marks a problem with the fence, reported where the fence starts.
                if problem.offset < 0 {
                    report(ExpressionProblem(0, problem.message), line: question.location.line, column: question.location.column)
                } else {
                    report(problem, line: question.location.line, column: question.answerColumn)
                }
            }
        }
        return errors
    }

    /// Problems in a question: a cell that does not exist or comes before it, an answer that
    /// names what the cell does not have, a choice answer not among the choices. A problem with
    /// a negative offset is about the fence, not the answer.
    func checkQuestion(_ question: Question, index: Int, in lesson: Lesson) -> [ExpressionProblem] {
        guard let cellIndex = lesson.cellIndex(question.cell), let cell = lesson.cell(question.cell) else {
            return [ExpressionProblem(-1, "question '\(question.id)' asks about '\(question.cell)', but the lesson has no such cell")]
        }
        let questionBlock = lesson.blocks.firstIndex(of: .question(index)) ?? 0
        let cellBlock = lesson.blocks.firstIndex(of: .cell(cellIndex)) ?? 0
        var problems: [ExpressionProblem] = []
        if questionBlock > cellBlock {
            problems.append(ExpressionProblem(-1, "question '\(question.id)' comes after cell '\(question.cell)'; put it before the cell, so the learner answers before the numbers appear"))
        }
        guard let module = registry.module(named: cell.compute) else { return problems }
        let outputs = module.outputs.map(\.name)
        let answerIsWord = !question.choices.isEmpty && sideIsWord(question.answer, outputs: outputs)
        if answerIsWord, case .name(let word, _) = question.answer.root.kind, !question.choices.contains(word) {
            problems.append(ExpressionProblem(0, "the answer '\(word)' is not one of the choices \(question.choices.joined(separator: ", "))"))
        }
        if case .literal(.text(let word)) = question.answer.root.kind, !question.choices.isEmpty, !question.choices.contains(word) {
            problems.append(ExpressionProblem(0, "the answer '\(word)' is not one of the choices \(question.choices.joined(separator: ", "))"))
        }
        for (reference, offset) in question.answer.root.referencesWithOffsets where reference.cell != cell.id {
            if let problem = checkReference(reference, at: offset, in: lesson, before: nil, what: "the answer") { problems.append(problem) }
        }
        for (reference, offset) in question.answer.root.referencesWithOffsets where reference.cell == cell.id {
            if let problem = checkOutput(reference, at: offset, module: module) { problems.append(problem) }
        }
        if !answerIsWord {
            for (name, indexes, offset) in question.answer.names {
                if let problem = checkOutput(OutputReference(cell: cell.id, output: name, indexes: indexes), at: offset, module: module) {
                    problems.append(problem)
                }
            }
        }
        return problems
    }

    /// Checks a parameter setting (from the file, `--set`, or the editor); nil when it is fine.
    /// A reference may only name a cell that comes before `cell` in `lesson`; a setting with no
    /// reference is evaluated and validated now.
    public func checkBinding(_ name: String, _ expression: Expression, in cell: CellSpec,
                             module: any ComputeModule, lesson: Lesson) -> ExpressionProblem? {
        guard let spec = module.parameter(named: name) else {
            return ExpressionProblem(0, "\(module.name) has no parameter '\(name)'; it takes \(module.parameters.map(\.name).joined(separator: ", "))")
        }
        for (reference, offset) in expression.root.referencesWithOffsets {
            if reference.cell == cell.id {
                return ExpressionProblem(offset, "parameter '\(name)' refers to its own cell '\(cell.id)': a cycle")
            }
            if let problem = checkReference(reference, at: offset, in: lesson, before: cell, what: "parameter '\(name)'") {
                return problem
            }
        }
        guard expression.references.isEmpty else { return nil }
        do {
            _ = try spec.validate(try expression.evaluate(in: .empty))
        } catch let error as ExpressionError {
            return ExpressionProblem(error.offset, "\(error.message) (parameter '\(name)')")
        } catch {
            return ExpressionProblem(0, "\(error)")
        }
        return nil
    }

    /// Problems in an `expect` line: references to later or missing cells or outputs, and bare
    /// names that are not outputs of the cell (a bare word is allowed as one whole side of `=`).
    func checkExpectation(_ expectation: Expectation, in cell: CellSpec, module: any ComputeModule,
                          lesson: Lesson) -> [ExpressionProblem] {
        var problems: [ExpressionProblem] = []
        let sides = [expectation.left, expectation.right] + (expectation.tolerance.map { [$0] } ?? [])
        let outputs = module.outputs.map(\.name)
        if let tolerance = expectation.tolerance, tolerance.isSelfContained {
            let value = try? tolerance.evaluate(in: .empty)
            if !(value?.scalar.map { $0 >= 0 } ?? false) {
                problems.append(ExpressionProblem(tolerance.root.offset, "the tolerance '\(tolerance.source)' must be a number ≥ 0"))
            }
        }
        for (i, side) in sides.enumerated() {
            // `expect class = normal`: a bare word is a value when the other side reads an output.
            let other = i == 0 ? expectation.right : expectation.left
            let isWord = expectation.comparison == .equal && i < 2 && sideIsWord(side, outputs: outputs)
                && !sideIsWord(other, outputs: outputs) && !other.isSelfContained
            for (reference, offset) in side.root.referencesWithOffsets {
                if reference.cell == cell.id {
                    if let problem = checkOutput(reference, at: offset, module: module) { problems.append(problem) }
                } else if let problem = checkReference(reference, at: offset, in: lesson, before: cell, what: "this expectation") {
                    problems.append(problem)
                }
            }
            for (name, indexes, offset) in side.names where !isWord {
                if let problem = checkOutput(OutputReference(cell: cell.id, output: name, indexes: indexes), at: offset, module: module) {
                    problems.append(problem)
                }
            }
        }
        return problems
    }

    private func sideIsWord(_ side: Expression, outputs: [String]) -> Bool {
        if case .name(let name, let indexes) = side.root.kind { return indexes.isEmpty && !outputs.contains(name) }
        return false
    }

    /// Problems in a `{{...}}` expression: its references name cells and outputs that exist.
    func checkPlaceholder(_ expression: Expression, in lesson: Lesson) -> [ExpressionProblem] {
        var problems: [ExpressionProblem] = []
        for (reference, offset) in expression.root.referencesWithOffsets {
            if let problem = checkReference(reference, at: offset, in: lesson, before: nil, what: "the placeholder") {
                problems.append(problem)
            }
        }
        for (name, _, offset) in expression.names {
            problems.append(ExpressionProblem(offset, "a placeholder names a value as cell.output; '\(name)' is not one"))
        }
        return problems
    }

    /// `reference` names a cell of the lesson (before `cell`, when given) and one of its outputs.
    private func checkReference(_ reference: OutputReference, at offset: Int, in lesson: Lesson,
                                before cell: CellSpec?, what: String) -> ExpressionProblem? {
        guard let index = lesson.cellIndex(reference.cell), let target = lesson.cell(reference.cell) else {
            let close = lesson.cells.map(\.id).min { editDistance($0, reference.cell) < editDistance($1, reference.cell) }
            let hint = close.flatMap { editDistance($0, reference.cell) <= 2 ? " (did you mean '\($0)'?)" : nil } ?? ""
            return ExpressionProblem(offset, "\(what) refers to '\(reference)', but the lesson has no cell '\(reference.cell)'\(hint)")
        }
        if let cell, let own = lesson.cellIndex(cell.id), index > own {
            return ExpressionProblem(offset, "\(what) refers to '\(reference.cell)', which comes later; a cell can use only earlier cells")
        }
        guard let module = registry.module(named: target.compute) else { return nil }
        return checkOutput(reference, at: offset, module: module)
    }

    private func checkOutput(_ reference: OutputReference, at offset: Int, module: any ComputeModule) -> ExpressionProblem? {
        guard let output = module.output(named: reference.output) else {
            let names = module.outputs.map(\.name)
            let close = names.min { editDistance($0, reference.output) < editDistance($1, reference.output) }
            let hint = close.flatMap { editDistance($0, reference.output) <= 2 ? " (did you mean '\($0)'?)" : nil } ?? ""
            return ExpressionProblem(offset, "cell '\(reference.cell)' (\(module.name)) has no output '\(reference.output)'\(hint); it has \(names.joined(separator: ", "))")
        }
        let depth = output.kind == .matrix ? 2 : output.kind == .vector ? 1 : 0
        if reference.indexes.count > depth {
            return ExpressionProblem(offset, "'\(reference)' has \(reference.indexes.count) index(es) but \(reference.output) is \(output.kind.article) \(output.kind.rawValue)")
        }
        return nil
    }
}

/// A problem found in an expression, at a character offset into its text.
public struct ExpressionProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var message: String

    public init(_ offset: Int, _ message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { message }
}

extension ModuleRegistry {
    /// ` (did you mean 'softmax.online'?)` for a near miss, or empty.
    public func suggestion(for name: String) -> String {
        let close = names.min { editDistance($0, name) < editDistance($1, name) }
        guard let close, editDistance(close, name) <= max(2, name.count / 3) else { return "" }
        return " (did you mean '\(close)'?)"
    }
}

/// The errors of a lesson that did not load.
public struct LessonLoadFailure: Error, Sendable, CustomStringConvertible {
    public var errors: [LessonError]
    /// The id the file's front matter gives, when it gives one.
    public var lessonID: String?
    public init(_ errors: [LessonError], lessonID: String? = nil) {
        self.errors = errors
        self.lessonID = lessonID
    }
    /// One `file:line:column: message` per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Levenshtein distance, for suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var row = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = row
    }
    return previous[b.count]
}
