import Foundation
import NotebookCore
import Progress

// The lesson list: moving the selection, opening a lesson, coming back to the list.

func moveSelection(_ state: inout AppState, by delta: Int) {
    guard !state.lessons.isEmpty else { return }
    state.listSelection = min(state.lessons.count - 1, max(0, state.listSelection + delta))
}

func listKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    state.status = nil
    let page = max(1, (state.height - 3) / 4)
    switch KeyBindings.command(for: key, in: [KeyBindings.list]) {
    case .selectNext: moveSelection(&state, by: 1)
    case .selectPrevious: moveSelection(&state, by: -1)
    case .selectPageDown: moveSelection(&state, by: page)
    case .selectPageUp: moveSelection(&state, by: -page)
    case .selectFirst: state.listSelection = 0
    case .selectLast: state.listSelection = max(0, state.lessons.count - 1)
    case .open:
        guard state.lessons.indices.contains(state.listSelection) else { return [] }
        return openLesson(&state, id: state.lessons[state.listSelection].header.id)
    case .resume:
        guard let id = state.resumeLessonID else {
            state.status = StatusMessage("nothing to resume yet")
            return []
        }
        return openLesson(&state, id: id)
    case .search: state.search = LineEditor()
    case .help: state.showHelp = true
    case .quit: return [.quit]
    default: break
    }
    return []
}

/// Opens a lesson: runs its cells (heavy ones wait), restores saved overrides, and scrolls to
/// where the learner was. A lesson known only by its header is read first: the runtime parses
/// its file and answers with `lessonLoaded`.
public func openLesson(_ state: inout AppState, id: String) -> [Effect] {
    guard let index = state.lessons.firstIndex(where: { $0.header.id == id }) else {
        state.status = StatusMessage("no lesson '\(id)'", isError: true)
        return []
    }
    state.listSelection = index
    guard let lesson = state.lessons[index].parsed else { return [.loadLesson(state.lessons[index].header)] }
    return show(&state, lesson, entryAt: index)
}

/// The answer to `loadLesson`: the lesson opens, or its errors show under the list.
func lessonLoaded(_ state: inout AppState, id: String, _ result: Result<Lesson, LessonLoadFailure>) -> [Effect] {
    guard let index = state.lessons.firstIndex(where: { $0.header.id == id }) else { return [] }
    switch result {
    case .success(let lesson):
        return show(&state, lesson, entryAt: index)
    case .failure(let failure):
        let messages = failure.errors.map(\.description)
        state.loadErrors = state.loadErrors.filter { !messages.contains($0) } + messages
        let more = messages.count > 1 ? " (+\(messages.count - 1) more, listed below)" : ""
        state.status = StatusMessage("cannot open \(id): \(messages.first ?? "no lesson")\(more)", isError: true)
        return []
    }
}

func show(_ state: inout AppState, _ lesson: Lesson, entryAt index: Int) -> [Effect] {
    let entry = state.lessons[index]
    var notebook = Notebook(lesson: lesson, registry: state.registry)
    let restored = restore(entry.savedOverrides, into: &notebook)
    var opening: OpeningRun?
    if state.runsLessonsInBackground {
        opening = OpeningRun(id: state.nextJobID)
        state.nextJobID += 1
    } else {
        notebook.runAll(includeHeavy: false)
    }
    var session = LessonSession(notebook: notebook)
    session.opening = opening
    session.questions.answers = entry.answers
    if let last = entry.lastCell, let i = lesson.cellIndex(last) {
        session.focusedCell = i
    } else if let first = lesson.blocks.lazy.compactMap(Stop.init).first {
        // A new lesson starts at its first cell or question, in reading order.
        session.focus(on: first)
    }
    state.session = session
    state.screen = .lesson
    state.search = nil
    // A message already showing (a warning from start-up) stays; the list clears its own.
    if let first = restored.dropped.first {
        state.status = StatusMessage("dropped \(restored.dropped.count) saved value(s) that no longer apply: \(first.value): \(first.reason)", isError: true)
    }
    if entry.lastCell != nil {
        scrollToFocus(&state, top: true)
        let scroll = state.session?.scroll
        state.session?.opening?.resumedScroll = scroll
    }
    var effects: [Effect] = [.record(.opened(lessonID: lesson.id))]
    effects += restored.kept(lessonID: lesson.id)
    if let opening { return effects + [.runLesson(id: opening.id, notebook)] }
    return effects + ranOnOpening(notebook, at: state.now)
}

/// The answer to `runLesson`: the values go in, unless the learner has left the lesson (or it
/// was reloaded, and ran again) since.
func lessonRan(_ state: inout AppState, id: Int, _ notebook: Notebook) -> [Effect] {
    guard var session = state.session, let opening = session.opening, opening.id == id,
          session.lesson.id == notebook.lesson.id else { return [] }
    session.notebook = notebook
    session.opening = nil
    if state.status == OpeningRun.wait { state.status = nil }
    let stayed = opening.resumedScroll != nil && opening.resumedScroll == session.scroll
    state.session = session
    if stayed { scrollToFocus(&state, top: true) }
    return ranOnOpening(notebook, at: state.now)
}

/// The record of the cells run for display when a lesson opened.
private func ranOnOpening(_ notebook: Notebook, at now: Date) -> [Effect] {
    let runs = runRecords(notebook, notebook.lesson.cells.map(\.id), at: now)
    return runs.isEmpty ? [] : [.record(.ran(lessonID: notebook.lesson.id, trigger: .open, runs: runs))]
}

/// The list after the lessons folder changed: lessons added appear, removed ones go, and the
/// ones still there keep the learner's progress; the selection stays on the same lesson.
func refreshList(_ state: inout AppState, _ catalog: LessonCatalog) {
    let selected = state.lessons.indices.contains(state.listSelection) ? state.lessons[state.listSelection].header.id : nil
    let known = Dictionary(state.lessons.map { ($0.header.id, $0) }, uniquingKeysWith: { first, _ in first })
    state.lessons = catalog.headers.map { header in
        guard var entry = known[header.id] else { return LessonEntry(header: header) }
        entry.header = header
        entry.parsed = nil
        entry.recount(cellIDs: header.cellIDs, questionIDs: header.questionIDs)
        return entry
    }
    state.loadErrors = catalog.errors.map(\.description)
    state.listSelection = selected.flatMap { id in state.lessons.firstIndex { $0.header.id == id } }
        ?? min(state.listSelection, max(0, state.lessons.count - 1))
}

/// The open lesson, read again after its file changed: the new text runs with the learner's
/// values that still apply (the others are dropped, with a note), the focus stays on the same
/// cell or question, and the view near where it was. A file that no longer loads leaves the
/// last good version on screen with the errors in the status line until a save fixes it.
func reloaded(_ state: inout AppState, _ result: Result<Lesson, LessonLoadFailure>) -> [Effect] {
    guard let old = state.session else { return [] }
    let lesson: Lesson
    switch result {
    case .failure(let failure):
        let messages = failure.errors.map(\.description)
        let more = messages.count > 1 ? " (+\(messages.count - 1) more)" : ""
        state.session?.reloadError = "not reloaded: \(messages.first ?? "the file did not load")\(more)"
        return []
    case .success(let loaded):
        lesson = loaded
    }
    var effects: [Effect] = []
    if let job = state.job {
        effects.append(.cancelJob(id: job.id))
        state.job = nil
    }
    var notebook = Notebook(lesson: lesson, registry: state.registry)
    let restored = restore(old.notebook.overrides.mapValues { $0.mapValues(\.source) }, into: &notebook)
    effects += restored.kept(lessonID: lesson.id)
    notebook.runAll(includeHeavy: false)
    var session = LessonSession(notebook: notebook)
    session.questions = old.questions
    if let question = old.focusedQuestion.map({ old.lesson.questions[$0].id }), let i = lesson.questionIndex(question) {
        session.focus(on: .question(i))
    } else if let cell = old.focusedCellSpec?.id, let i = lesson.cellIndex(cell) {
        session.focus(on: .cell(i))
        session.selectedParameter = old.selectedParameter
    } else if let first = lesson.blocks.lazy.compactMap(Stop.init).first {
        session.focus(on: first)
    }
    session.scroll = old.scroll
    // Text being typed survives the save when what it edits still exists.
    if let editor = old.editor, let cell = lesson.cell(editor.cellID),
       state.registry.module(named: cell.compute)?.parameter(named: editor.parameter) != nil {
        session.editor = editor
    }
    if let editor = old.questions.editor, lesson.question(editor.questionID) == nil {
        session.questions.editor = nil
    }
    state.session = session
    let dropped = restored.dropped.map(\.value)
    state.status = dropped.isEmpty ? StatusMessage("reloaded \(lesson.file)")
        : StatusMessage("reloaded \(lesson.file); dropped \(dropped.count) value(s) that no longer apply: \(dropped.joined(separator: ", "))", isError: true)
    return effects
}

/// The learner's values (cell → parameter → source) set on a fresh notebook of the lesson.
struct RestoredOverrides {
    /// Each value the lesson no longer takes, as `cell.parameter = source`, and why.
    var dropped: [(value: String, reason: String)] = []
    /// For each cell that lost a value, the values it keeps.
    var keptByCell: [(cell: String, sources: [String: String])] = []

    /// Records that make the store forget the dropped values and keep the rest.
    func kept(lessonID: String) -> [Effect] {
        keptByCell.map { .record(.overrides(lessonID: lessonID, cellID: $0.cell, sources: $0.sources)) }
    }
}

/// Sets saved values on a notebook, in a fixed order; a value that no longer applies (its cell
/// or parameter is gone, or it no longer parses or validates) is dropped, not fatal.
func restore(_ saved: [String: [String: String]], into notebook: inout Notebook) -> RestoredOverrides {
    var result = RestoredOverrides()
    for (cellID, parameters) in saved.sorted(by: { $0.key < $1.key }) {
        var kept: [String: String] = [:]
        for (name, source) in parameters.sorted(by: { $0.key < $1.key }) {
            do {
                try notebook.setOverride(cell: cellID, parameter: name, source: source)
                kept[name] = source
            } catch {
                result.dropped.append(("\(cellID).\(name) = \(source)", "\(error)"))
            }
        }
        if kept.count < parameters.count { result.keptByCell.append((cellID, kept)) }
    }
    return result
}

/// What the progress store should record of these cells' current results, stamped with the
/// runtime's clock (`state.now`), so that `update` reads no clock itself.
func runRecords(_ notebook: Notebook, _ cellIDs: [String], at now: Date) -> [CellRunRecord] {
    notebook.progressRecords(cells: cellIDs, startedAt: now)
}

func back(_ state: inout AppState) -> [Effect] {
    switch state.screen {
    case .list: return [.quit]
    case .lesson:
        var effects: [Effect] = []
        if let job = state.job {
            effects.append(.cancelJob(id: job.id))
            state.job = nil
        }
        if let session = state.session, let i = state.lessons.firstIndex(where: { $0.header.id == session.lesson.id }) {
            state.lessons[i].lastCell = session.focusedCellSpec?.id
            state.resumeLessonID = session.lesson.id
            // Keep the learner's values for the next visit in this process.
            var saved: [String: [String: String]] = [:]
            for (cell, params) in session.notebook.overrides {
                saved[cell] = params.mapValues(\.source)
            }
            state.lessons[i].savedOverrides = saved
            state.lessons[i].answers = session.questions.answers
            state.lessons[i].recount(cellIDs: session.lesson.cells.map(\.id), questionIDs: session.lesson.questions.map(\.id))
        }
        state.screen = .list
        state.session = nil
        state.status = nil
        return effects
    }
}
