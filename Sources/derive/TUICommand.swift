import ArgumentParser
import NotebookCore

struct TUICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tui",
        abstract: "Open the interactive notebook, at a lesson or at the lesson list."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Lesson id to open.")
    var lesson: String?

    func run() throws {
        guard Terminal.isInteractive else {
            throw ValidationError("the notebook needs a terminal; use `derive run LESSON` for batch output")
        }
        throw ValidationError("the interactive notebook is not built yet; use `derive run LESSON`")
    }
}
