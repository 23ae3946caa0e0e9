import ArgumentParser
import Foundation
import Lessons
import NotebookCore
import Progress

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run lessons in batch and print the derivation with its numbers.",
        discussion: "Example: derive run online-softmax --set stream.block=3 --format json"
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Lesson ids (see `derive list`).")
    var lessonIDs: [String] = []

    @Flag(help: "Run every lesson.")
    var all = false

    @Option(help: "Print only this cell (its upstream cells still run).")
    var cell: String?

    @Option(name: .customLong("set"), help: "Override a parameter, [CELL.]PARAM=VALUE; repeatable.")
    var assignments: [Assignment] = []

    @Option(help: "Output format: text, markdown or json.")
    var format: OutputFormat = .text

    @Flag(help: "Also run heavy cells.")
    var heavy = false

    @Flag(name: .customLong("no-record"), help: "Do not record these runs in the progress database.")
    var noRecord = false

    func validate() throws {
        if all == !lessonIDs.isEmpty {
            throw ValidationError(all ? "give lesson ids or --all, not both" : "name a lesson (see `derive list`) or pass --all")
        }
        if cell != nil && (all || lessonIDs.count > 1) {
            throw ValidationError("--cell needs exactly one lesson")
        }
    }

    func run() throws {
        let library = try global.loadLibrary()
        let lessons = try LessonSelection.resolve(lessonIDs, all: all, in: library)
        if lessons.isEmpty {
            throw ValidationError(library.errors.isEmpty ? "no lessons to run in the lessons folder" : "no lesson loaded; see the errors above")
        }
        var documents: [JSON] = []
        var anyFailed = false
        let progress = noRecord ? nil : global.openProgress()
        for lesson in lessons {
            var notebook = Notebook(lesson: lesson, registry: ModuleCatalog.registry)
            if let cell, lesson.cell(cell) == nil {
                throw ValidationError("lesson '\(lesson.id)' has no cell '\(cell)'; it has \(lesson.cells.map(\.id).joined(separator: ", "))")
            }
            for assignment in assignments { try assignment.apply(to: &notebook, focus: cell) }
            // With --cell, run that cell and what it reads from, nothing else; a heavy cell named
            // this way runs without --heavy, since it was asked for.
            let scope = cell.map { notebook.upstream(of: $0) }
            let namedHeavy = cell.flatMap { lesson.cell($0) }?.isHeavy == true
            let bar = StderrProgress(label: lesson.id)
            let started = Date()
            notebook.runAll(includeHeavy: heavy || namedHeavy, only: scope.map(Set.init), context: bar.context)
            bar.finish()
            if let progress {
                progress.recordRuns(notebook.progressRecords(cells: scope, startedAt: started), lessonCells: lesson.cells.map(\.id))
                global.flushWarnings(progress)
            }
            anyFailed = anyFailed || lesson.cells.contains { notebook.result($0.id).status.isFailed }
            switch format {
            case .text: Terminal.print(TextRenderer().render(notebook, onlyCell: cell), terminator: "")
            case .markdown: Terminal.print(MarkdownRenderer().render(notebook, onlyCell: cell), terminator: "")
            case .json: documents.append(JSONRenderer.lesson(notebook, onlyCell: cell))
            }
        }
        if format == .json {
            Terminal.print(documents.count == 1 ? documents[0].serialized(indent: 2) : JSON.array(documents).serialized(indent: 2))
        }
        if anyFailed { throw ExitCode.failure }
    }
}

/// Lesson ids from the command line, checked against the library.
enum LessonSelection {
    static func resolve(_ ids: [String], all: Bool, in library: LessonLibrary) throws -> [Lesson] {
        if all { return library.lessons }
        return try ids.map { id in
            if let lesson = library.lesson(id) { return lesson }
            if library.errors.contains(where: { $0.location.file.hasSuffix("/\(id).md") || $0.location.file == "\(id).md" }) {
                throw ValidationError("lesson '\(id)' did not load; see the errors above")
            }
            let known = library.lessons.map(\.id)
            throw ValidationError("no lesson '\(id)'; lessons are: \(known.joined(separator: ", "))")
        }
    }
}
