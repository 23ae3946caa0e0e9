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
            QuizCommand.self, ComputeCommand.self, ModulesCommand.self, ProgressCommand.self,
        ]
    )

    @OptionGroup var global: GlobalOptions

    /// ArgumentParser's `main`, with its messages escaped: an error can quote what was typed
    /// (`derive compute $'soft\e[31mmax'`), and that must not drive the terminal.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
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
            // Parsed, not built with init(): ArgumentParser needs every property decoded.
            var tui = try TUICommand.parse([])
            tui.global = global
            try tui.open(resume: true)
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

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Folder of lesson files (env DERIVE_LESSONS).", valueName: "dir"))
    var lessons: String?

    @Option(name: .long, help: ArgumentHelp("Progress database (env DERIVE_DB).", valueName: "path"))
    var db: String?

    @Flag(name: .customLong("no-color"), help: "Plain output without colour (also NO_COLOR).")
    var noColor = false

    /// `--lessons`, then `DERIVE_LESSONS`, then `./lessons`, then the install's `share/derive/lessons`.
    func lessonsDirectory() throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = lessons ?? environment["DERIVE_LESSONS"] {
            let url = URL(fileURLWithPath: path)
            guard Terminal.isDirectory(url) else {
                throw ValidationError("lessons folder '\(path)' does not exist")
            }
            return url
        }
        let local = URL(fileURLWithPath: "lessons")
        if Terminal.isDirectory(local) { return local }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let installed = executable.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/derive/lessons")
        if Terminal.isDirectory(installed) { return installed }
        throw ValidationError("no lessons folder found: pass --lessons DIR or set DERIVE_LESSONS")
    }

    /// Reads the lessons' headers, for the commands that only list them; files whose front
    /// matter did not read are reported on stderr. A body's errors wait until it is opened.
    func loadCatalog() throws -> LessonCatalog {
        let catalog = LessonLoader(registry: ModuleCatalog.registry).loadHeaders(try lessonsDirectory())
        for error in catalog.errors { Terminal.warn("\(error)") }
        return catalog
    }

    /// Loads the lessons, reporting files that did not load on stderr.
    func loadLibrary() throws -> LessonLibrary {
        let library = LessonLoader(registry: ModuleCatalog.registry).loadDirectory(try lessonsDirectory())
        for error in library.errors { Terminal.warn("\(error)") }
        return library
    }
}
