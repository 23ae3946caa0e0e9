import ArgumentParser

/// `derive tui [LESSON]`: the notebook, at a lesson or at the list.
struct TUICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tui",
        abstract: "Open the interactive notebook, at a lesson or at the lesson list."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Lesson id to open.", valueName: "lesson"))
    var lesson: String?

    func run() throws {
        try NotebookLaunch(global, lesson: lesson, resume: false).open()
    }
}
