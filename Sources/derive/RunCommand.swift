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

    @Argument(help: ArgumentHelp("Lesson ids (see `derive list`).", valueName: "lesson"))
    var lessonIDs: [String] = []

    @Flag(help: "Run every lesson.")
    var all = false

    @Option(help: ArgumentHelp("Print only this cell (its upstream cells still run).", valueName: "cell"))
    var cell: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a parameter; repeatable.", valueName: "[cell.]param=value"))
    var assignments: [Assignment] = []

    @Option(help: ArgumentHelp("Output format.", valueName: "format"))
    var format: DocumentFormat = .text

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
                throw LessonSelection.unknownCell(cell, in: lesson)
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
