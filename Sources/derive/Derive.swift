import ArgumentParser
import Foundation
import Lessons
import NotebookCore

@main
struct Derive: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "derive",
        abstract: "A terminal notebook for the mathematics of modern machine learning.",
        discussion: """
            Run `derive` in a terminal to open the notebook where you left off. Every command \
            also works without a terminal, for scripts and CI.
            """,
        version: "0.1.0",
        subcommands: [
            TUICommand.self, ListCommand.self, RunCommand.self, CheckCommand.self,
            QuizCommand.self, ComputeCommand.self, ModulesCommand.self, ProgressCommand.self, NewCommand.self,
            ExportCommand.self,
        ]
    )

    @OptionGroup var global: GlobalOptions

    /// ArgumentParser's `main`, with its messages escaped: an error can quote what was typed
    /// (`derive compute $'soft\e[31mmax'`), and that must not drive the terminal.
    static func main() {
        do {
            switch QuickStart(arguments: Array(CommandLine.arguments.dropFirst()), interactive: Terminal.isInteractive) {
            case .version?:
                Terminal.print(configuration.version)
            case .notebook(let launch)?:
                try launch.open()
            case nil:
                var command = try parseAsRoot()
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                if code == .success { Terminal.print(message) } else { Terminal.printError(message) }
            }
            Foundation.exit(code.rawValue)
        }
    }

    mutating func run() throws {
        if Terminal.isInteractive {
            try NotebookLaunch(global, lesson: nil, resume: true).open()
            return
        }
        let catalog = try global.loadCatalog()
        Terminal.print(LessonListing.text(catalog, progress: LessonListing.progress(catalog, global)))
        Terminal.print("\nRun `derive run LESSON` to print a lesson with its numbers, or `derive` in a terminal to open the notebook.")
    }
}

/// `--format` for the commands that print a lesson: text, Markdown or JSON.
enum DocumentFormat: String, ExpressibleByArgument, CaseIterable {
    case text, markdown, json
}

/// `--format` for the commands that print data (list, compute, progress): text or JSON.
enum DataFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
