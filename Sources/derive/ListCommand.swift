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
