import ArgumentParser
import Foundation
import Lessons
import NotebookCore
import Progress
import TUI

/// Opening the notebook, as bare `derive` in a terminal and `derive tui [LESSON]` do; read from
/// the command line by ArgumentParser or, for the usual forms, by ``QuickStart``.
struct NotebookLaunch: CommonOptions, Equatable {
    var lessons: String?
    var db: String?
    var noColor = false
    /// The lesson to open; `nil` for the list (or, with `resume`, the lesson last open).
    var lesson: String?
    /// Bare `derive`: open the lesson the learner was last in, or the list when there is none.
    var resume = false

    /// Opens the notebook. With `resume` (bare `derive`), it opens the lesson the learner was
    /// last in, or the list when there is none.
    func open() throws {
        // Opening the database takes longer than reading the list: both at once, on two cores,
        // the database first (a new thread can wait a scheduler tick for the other core).
        let location = progressLocation
        let storeOpening = Concurrently { ProgressStore.open(at: location) }
        // Bare `derive` opens the lesson the store names once open; a glance at the file names
        // the likely one now, so that it parses while the store opens.
        let likely = lesson == nil && resume ? ProgressStore.recentLessons(at: location) : []
        let directory = try lessonsDirectory()
        let catalog = try loadCatalog(from: directory)
        if let lesson, catalog.header(lesson) == nil {
            throw LessonSelection.unknownLesson(lesson, known: catalog.headers.map(\.id))
        }
        guard Terminal.isInteractive else {
            throw ValidationError("the notebook needs a terminal; use `derive run LESSON` for batch output")
        }
        // The lesson to open is parsed meanwhile too (a failure is left for the notebook to show).
        func parse(_ id: String?) -> Concurrently<Lesson?>? {
            id.flatMap(catalog.header).map { header in
                Concurrently { try? LessonLoader(registry: ModuleCatalog.registry).load(header).get() }
            }
        }
        let guess = lesson ?? likely.first { catalog.header($0) != nil }
        var parsing = parse(guess)
        let noColor = noColor || !(EnvironmentVariables.value("NO_COLOR") ?? "").isEmpty
        // The terminal is set up (terminfo, modes) while the store is still opening; from here
        // on nothing throws before the notebook runs and restores it.
        let terminal = Result { () throws(TerminalUnavailable) in try NCursesBackend(noColor: noColor) }
        defer { if case .success(let backend) = terminal { backend.restore() } }
        let opened = storeOpening.value
        let progress = TUIProgress(store: opened.store, catalog: catalog, warnings: opened.warnings)
        let resumeID = progress.resumeLessonID
        if lesson == nil && resume && resumeID != guess { parsing = parse(resumeID) }
        var entries = progress.entries()
        if let parsed = parsing?.value, let index = entries.firstIndex(where: { $0.header.id == parsed.id }) {
            entries[index].parsed = parsed
        }
        var state = AppState(registry: ModuleCatalog.registry, lessons: entries,
                             loadErrors: catalog.errors.map(\.description),
                             color: !noColor, resumeLessonID: resumeID)
        state.lessonsDirectory = directory
        // A lesson that trains in its cells (actor-critic: a second) shows at once, its values after.
        state.runsLessonsInBackground = true
        if let note = progress.notes.last {
            let more = progress.notes.count > 1 ? " (+\(progress.notes.count - 1) more)" : ""
            state.status = StatusMessage(note + more, isError: true)
        }
        let opening = (lesson ?? (resume ? resumeID : nil)).map { [Event.open(lessonID: $0)] } ?? []
        switch terminal {
        case .success(let backend):
            let outcome = Runtime.run(state, on: backend, startingWith: opening,
                                      record: { [progress] in progress.record($0) })
            backend.restore()
            if let termination = outcome.termination {
                // A terminal that went away gets nothing more; a signal ends with its status.
                if termination != .hangup { for note in progress.notes { Terminal.warn(note) } }
                throw ExitCode(termination.exitStatus)
            }
            // Warnings also go to stderr, where they outlast the screen.
            for note in progress.notes { Terminal.warn(note) }
        case .failure(let error):
            // TERM=dumb or no usable terminal: say so and print instead.
            Terminal.warn("\(error.description); printing instead")
            if let id = lesson, let header = catalog.header(id) {
                let chosen = try LessonLoader(registry: ModuleCatalog.registry).load(header).get()
                var notebook = Notebook(lesson: chosen, registry: ModuleCatalog.registry)
                notebook.runAll(includeHeavy: false)
                Terminal.print(TextRenderer().render(notebook), terminator: "")
            } else {
                Terminal.print(LessonListing.text(catalog, progress: opened.store.summary(for: catalog.headers.map(LessonOutline.init))))
            }
        }
    }
}

extension NotebookLaunch {
    /// The launch ArgumentParser read: the options, and the lesson `derive tui` was given.
    init(_ options: GlobalOptions, lesson: String?, resume: Bool) {
        self.init(lessons: options.lessons, db: options.db, noColor: options.noColor, lesson: lesson, resume: resume)
    }
}
