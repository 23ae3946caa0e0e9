import ArgumentParser
import Foundation
import NotebookCore
import Progress

struct ProgressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "progress",
        abstract: "Show your progress, or clear it.",
        discussion: """
            Per lesson: cells run successfully at least once, every run recorded, time spent \
            and the last visit; then lessons done, runs, total time and the streak of days \
            (UTC) with activity. Time spent adds up sittings: activity (a cell run, a move in \
            the notebook) with no pause longer than 5 minutes; a longer pause counts nothing.

            --reset clears runs, positions, saved parameter values, completion and time spent, \
            for the lessons named or for all. It asks first when run in a terminal; elsewhere \
            it needs --yes.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Lesson ids: show (or with --reset, clear) only these.", valueName: "lesson"))
    var lessonIDs: [String] = []

    @Option(help: ArgumentHelp("Output format.", valueName: "format"))
    var format: DataFormat = .text

    @Flag(help: "Clear the progress of the lessons named, or of all lessons.")
    var reset = false

    @Flag(help: "Do not ask before --reset.")
    var yes = false

    func validate() throws {
        if yes && !reset { throw ValidationError("--yes goes with --reset") }
    }

    func run() throws {
        let library = try global.loadLibrary()
        if reset { return try runReset(library) }
        let store = global.openProgress(createIfMissing: false)
        for id in lessonIDs where library.lesson(id) == nil {
            throw LessonSelection.unknownLesson(id, known: library.lessons.map(\.id))
        }
        let lessons = lessonIDs.isEmpty ? library.lessons : lessonIDs.compactMap { library.lesson($0) }
        let summary = store.summary(for: lessons.map(LessonOutline.init))
        global.flushWarnings(store)
        switch format {
        case .json: Terminal.print(summary.json.serialized(indent: 2))
        default: Terminal.print(summary.text(database: global.progressLocation?.path))
        }
    }

    private func runReset(_ library: LessonLibrary) throws {
        let store = global.openProgress(createIfMissing: false)
        for id in lessonIDs where library.lesson(id) == nil && !store.hasProgress(lesson: id) {
            throw ValidationError("no lesson '\(id)' and no progress recorded for it")
        }
        if store.mode == .off && store.path == nil {
            Terminal.print("No progress recorded yet.")
            return
        }
        guard store.mode == .recording else {
            global.flushWarnings(store)
            Terminal.printError("derive: cannot clear progress: the progress database cannot be written")
            throw ExitCode.failure
        }
        let what = lessonIDs.isEmpty ? "all your progress" : "your progress in \(lessonIDs.joined(separator: ", "))"
        if !yes {
            guard Terminal.stdinIsTerminal else {
                throw ValidationError("--reset clears \(what); pass --yes to confirm (there is no terminal to ask on)")
            }
            FileHandle.standardError.write(Data("Clear \(what)? This cannot be undone. [y/N] ".utf8))
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            guard answer == "y" || answer == "yes" else {
                Terminal.print("Nothing cleared.")
                return
            }
        }
        let cleared = lessonIDs.isEmpty ? store.reset(lesson: nil) : lessonIDs.allSatisfy { store.reset(lesson: $0) }
        global.flushWarnings(store)
        guard cleared else { throw ExitCode.failure }
        Terminal.print("Cleared \(what).")
    }
}
