import ArgumentParser
import NotebookCore
import Progress

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the lessons with your progress.")

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Output format.", valueName: "format"))
    var format: DataFormat = .text

    func run() throws {
        let catalog = try global.loadCatalog()
        let progress = LessonListing.progress(catalog, global)
        switch format {
        case .json:
            Terminal.print(JSON.array(catalog.headers.map { lesson in
                let p = progress[lesson: lesson.id] ?? LessonProgress(outline: LessonOutline(lesson))
                return .object([
                    ("id", .string(lesson.id)), ("title", .string(lesson.title)), ("order", lesson.explicitOrder.map { .integer($0) } ?? .null),
                    ("summary", .string(lesson.summary)), ("cells", .integer(lesson.cellIDs.count)),
                    ("cells_run", .integer(p.cellsRun)), ("done", .bool(p.done)),
                    ("last_visited", p.lastVisited.map { .string(ProgressFormat.iso8601($0)) } ?? .null),
                ])
            }).serialized(indent: 2))
        default:
            Terminal.print(LessonListing.text(catalog, progress: progress))
        }
    }
}

/// The lesson table shown by `derive list` and by `derive` without a terminal.
enum LessonListing {
    /// Progress per lesson; creates no database when there is none yet.
    static func progress(_ catalog: LessonCatalog, _ global: GlobalOptions) -> ProgressSummary {
        let store = global.openProgress(createIfMissing: false)
        let summary = store.summary(for: catalog.headers.map(LessonOutline.init))
        global.flushWarnings(store)
        return summary
    }

    static func text(_ catalog: LessonCatalog, progress: ProgressSummary) -> String {
        guard !catalog.headers.isEmpty else { return "No lessons found." }
        let idWidth = catalog.headers.map(\.id.count).max() ?? 0
        return catalog.headers.map { lesson in
            let id = lesson.id + String(repeating: " ", count: idWidth - lesson.id.count)
            let p = progress[lesson: lesson.id] ?? LessonProgress(outline: LessonOutline(lesson))
            var status = "\(p.cellsRun)/\(p.cells) cells run"
            if let last = p.lastVisited { status += ", last visited \(ProgressFormat.day(last))" }
            return "\(p.done ? "✓" : " ") \(id)  \(lesson.title)  (\(status))\n"
                + String(repeating: " ", count: idWidth + 4) + lesson.summary
        }.joined(separator: "\n").escapingControls
    }
}
