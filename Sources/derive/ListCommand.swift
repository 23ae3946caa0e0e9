import ArgumentParser
import NotebookCore

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the lessons.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() throws {
        let library = try global.loadLibrary()
        switch format {
        case .json:
            print(JSON.array(library.lessons.map { lesson in
                .object([("id", .string(lesson.id)), ("title", .string(lesson.title)), ("order", .integer(lesson.order)),
                         ("summary", .string(lesson.summary)), ("cells", .integer(lesson.cells.count))])
            }).serialized(indent: 2))
        default:
            print(LessonListing.text(library))
        }
    }
}

/// The lesson table shown by `derive list` and by `derive` without a terminal.
enum LessonListing {
    static func text(_ library: LessonLibrary) -> String {
        guard !library.lessons.isEmpty else { return "No lessons found." }
        let idWidth = library.lessons.map(\.id.count).max() ?? 0
        return library.lessons.map { lesson in
            let id = lesson.id + String(repeating: " ", count: idWidth - lesson.id.count)
            return "\(id)  \(lesson.title)  (\(lesson.cells.count) cells)\n" + String(repeating: " ", count: idWidth + 2) + lesson.summary
        }.joined(separator: "\n")
    }
}
