import Foundation
import NotebookCore
import Progress

/// Where things go on the lesson screen for a terminal size.
struct LessonGeometry {
    var content: Rect
    /// Where the text is drawn (inside margins).
    var text: Rect
    /// The side panel, on wide terminals.
    var panel: Rect?
    var separatorX: Int?

    /// Side panel beside the text at this many columns and more; below, outputs flow in the text.
    static let panelMinimumWidth = 100

    init(width: Int, height: Int) {
        content = Rect(x: 0, y: 1, width: width, height: height - 2)
        if width >= Self.panelMinimumWidth {
            let panelWidth = min(72, max(40, width * 2 / 5))
            let proseWidth = width - panelWidth - 1
            separatorX = proseWidth
            panel = Rect(x: proseWidth + 2, y: content.y, width: panelWidth - 3, height: content.height)
            text = Rect(x: 1, y: content.y, width: min(100, proseWidth - 2), height: content.height)
        } else {
            text = Rect(x: 1, y: content.y, width: width - 2, height: content.height)
        }
    }

    var inlineCells: Bool { panel == nil }
}

extension AppState {
    func geometry() -> LessonGeometry { LessonGeometry(width: width, height: height) }

    /// The open lesson laid out for the text area; computed once per change of what it shows.
    func documentLayout(_ session: LessonSession) -> DocumentLayout {
        let g = geometry()
        // Beside a panel the text shows no parameter list and no editor: typing in the editor
        // there leaves the text as it is.
        let key = LayoutCache.Key(
            notebook: session.notebookVersion, width: g.text.width, inlineCells: g.inlineCells,
            focusedCell: session.focusedCell, selectedParameter: g.inlineCells ? session.selectedParameter : 0,
            editor: g.inlineCells ? session.editor : nil, job: job,
            ranCells: lessons.first { $0.header.id == session.lesson.id }?.ranCells ?? [],
            focusedQuestion: session.focusedQuestion, questions: session.questions)
        return layoutCache.layout(for: key) {
            Document.layout(self, session, width: g.text.width, inlineCells: g.inlineCells)
        }
    }

    /// The panel lines of the focused cell (wide layout).
    func panelDetail(_ session: LessonSession) -> CellView.Detail? {
        guard let panel = geometry().panel, session.focusedCellSpec != nil else { return nil }
        return CellView.detail(self, session, session.focusedCell, width: panel.width, includeHeader: true)
    }
}

/// Applies an event to the state and returns the work for the runtime. Pure: no I/O, no
/// clock, no terminal.
public func update(_ state: inout AppState, _ event: Event) -> [Effect] {
    let effects = dispatch(&state, event)
    noteLearnerRuns(&state, effects)
    return effects
}

/// Cells the learner ran themselves (not the automatic runs on opening) get their mark.
private func noteLearnerRuns(_ state: inout AppState, _ effects: [Effect]) {
    for case .record(.ran(let lessonID, let trigger, let runs)) in effects where trigger != .open {
        guard let i = state.lessons.firstIndex(where: { $0.header.id == lessonID }) else { continue }
        state.lessons[i].ranCells.formUnion(runs.filter(\.ok).map(\.cell))
    }
}

private func dispatch(_ state: inout AppState, _ event: Event) -> [Effect] {
    switch event {
    case .resize(let w, let h):
        state.width = max(1, w)
        state.height = max(1, h)
        if var session = state.session {
            clampScroll(state, &session)
            state.session = session
        }
        return []
    case .terminate:
        return [.quit]
    case .open(let lessonID):
        return openLesson(&state, id: lessonID)
    case .lessonLoaded(let id, let result):
        return lessonLoaded(&state, id: id, result)
    case .jobProgress(let id, let fraction):
        if state.job?.id == id { state.job?.fraction = fraction }
        return []
    case .jobFinished(let id, let result):
        return finishJob(&state, id: id, result: result)
    case .wheel(let notches):
        if state.showHelp || state.isTooSmall { return [] }
        switch state.screen {
        case .list:
            moveSelection(&state, by: notches)
            return []
        case .lesson:
            return scroll(&state, by: notches * 3)
        }
    case .key(let key):
        if key == .ctrl("c") { return [.quit] }
        if state.showHelp {
            state.showHelp = false
            return []
        }
        if state.search != nil { return searchKey(&state, key) }
        if state.session?.editor != nil { return editorKey(&state, key) }
        if state.session?.questions.editor != nil { return answerKey(&state, key) }
        if state.isTooSmall {
            if key == .char("q") || key == .escape { return back(&state) }
            return []
        }
        switch state.screen {
        case .list: return listKey(&state, key)
        case .lesson: return lessonKey(&state, key)
        }
    }
}

// MARK: - List

private func moveSelection(_ state: inout AppState, by delta: Int) {
    guard !state.lessons.isEmpty else { return }
    state.listSelection = min(state.lessons.count - 1, max(0, state.listSelection + delta))
}

private func listKey(_ state: inout AppState, _ key: Key) -> [Effect] {
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
private func lessonLoaded(_ state: inout AppState, id: String, _ result: Result<Lesson, LessonLoadFailure>) -> [Effect] {
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

private func show(_ state: inout AppState, _ lesson: Lesson, entryAt index: Int) -> [Effect] {
    let entry = state.lessons[index]
    var notebook = Notebook(lesson: lesson, registry: state.registry)
    var restoreProblems: [String] = []
    var dropped: [String: [String: String]] = [:]
    for (cellID, parameters) in entry.savedOverrides.sorted(by: { $0.key < $1.key }) {
        for (name, source) in parameters.sorted(by: { $0.key < $1.key }) {
            do { try notebook.setOverride(cell: cellID, parameter: name, source: source) }
            catch {
                restoreProblems.append("\(cellID).\(name) = \(source): \(error)")
                dropped[cellID, default: [:]][name] = source
            }
        }
    }
    notebook.runAll(includeHeavy: false)
    var session = LessonSession(notebook: notebook)
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
    if !restoreProblems.isEmpty {
        state.status = StatusMessage("dropped \(restoreProblems.count) saved value(s) that no longer apply: \(restoreProblems[0])", isError: true)
    }
    if entry.lastCell != nil { scrollToFocus(&state, top: true) }
    var effects: [Effect] = [.record(.opened(lessonID: lesson.id))]
    // A saved value the lesson no longer takes is removed from the store: the cell keeps the
    // values that did apply.
    for cellID in dropped.keys.sorted() {
        let kept = (entry.savedOverrides[cellID] ?? [:]).filter { dropped[cellID]?[$0.key] == nil }
        effects.append(.record(.overrides(lessonID: lesson.id, cellID: cellID, sources: kept)))
    }
    let runs = runRecords(notebook, lesson.cells.map(\.id))
    if !runs.isEmpty { effects.append(.record(.ran(lessonID: lesson.id, trigger: .open, runs: runs))) }
    return effects
}

/// What the progress store should record of these cells' current results.
func runRecords(_ notebook: Notebook, _ cellIDs: [String]) -> [CellRunRecord] {
    notebook.progressRecords(cells: cellIDs, startedAt: Date())
}

private func back(_ state: inout AppState) -> [Effect] {
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
            let current = Set(session.lesson.questions.map(\.id))
            let states = session.questions.answers.filter { current.contains($0.key) }.values
            state.lessons[i].progress.questions = current.count
            state.lessons[i].progress.answered = states.filter(\.isSettled).count
            state.lessons[i].progress.rightFirstTry = states.filter(\.rightFirstTry).count
            // The same rule as the progress store: cells of the lesson now that ran successfully,
            // done when there are some and all of them have.
            let cells = Set(session.lesson.cells.map(\.id))
            let ran = state.lessons[i].ranCells.intersection(cells).count
            state.lessons[i].progress.cells = cells.count
            state.lessons[i].progress.cellsRun = ran
            state.lessons[i].progress.done = !cells.isEmpty && ran == cells.count
        }
        state.screen = .list
        state.session = nil
        state.status = nil
        return effects
    }
}

// MARK: - Lesson

/// The key tables in force in a lesson: a question's own keys first when one has the focus.
func lessonBindings(_ session: LessonSession?) -> [[Binding]] {
    session?.focusedQuestion != nil ? [KeyBindings.question, KeyBindings.lesson] : [KeyBindings.lesson]
}

private func lessonKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    guard var session = state.session else { state.screen = .list; return [] }
    let page = max(1, state.geometry().content.height - 2)
    switch KeyBindings.command(for: key, in: lessonBindings(session)) {
    case .scrollDown: return scroll(&state, by: 1)
    case .scrollUp: return scroll(&state, by: -1)
    case .pageDown: return scroll(&state, by: page)
    case .pageUp: return scroll(&state, by: -page)
    case .top:
        session.scroll = 0
        state.session = session
        return followScroll(&state)
    case .bottom:
        session.scroll = Int.max / 2
        state.session = session
        clampSessionScroll(&state)
        return followScroll(&state)
    case .nextStop: return moveFocus(&state, by: 1)
    case .previousStop: return moveFocus(&state, by: -1)
    case .answer: return openAnswer(&state)
    case .showAnswer: return reveal(&state)
    case .hint: showHint(&state)
    case .nextParameter: selectParameter(&state, by: 1)
    case .previousParameter: selectParameter(&state, by: -1)
    case .panelDown:
        session.panelScroll += 3
        state.session = session
        clampPanelScroll(&state)
    case .panelUp:
        session.panelScroll = max(0, session.panelScroll - 3)
        state.session = session
    case .edit: openEditor(&state)
    case .run: return runFocused(&state)
    case .reset: return resetFocused(&state)
    case .runAll: return runAll(&state)
    case .search: state.search = LineEditor()
    case .help: state.showHelp = true
    case .cancelOrBack:
        if let job = state.job {
            state.job = nil
            state.status = StatusMessage("cancelled \(job.cellID)")
            return [.cancelJob(id: job.id)]
        }
        return back(&state)
    case .back: return back(&state)
    default: break
    }
    return []
}

private func clampScroll(_ state: AppState, _ session: inout LessonSession) {
    let layout = state.documentLayout(session)
    let view = state.geometry().content.height
    session.scroll = max(0, min(session.scroll, layout.lines.count - max(1, view)))
}

private func clampSessionScroll(_ state: inout AppState) {
    guard var session = state.session else { return }
    clampScroll(state, &session)
    state.session = session
}

private func clampPanelScroll(_ state: inout AppState) {
    guard var session = state.session, let detail = state.panelDetail(session) else { return }
    let view = state.geometry().panel?.height ?? 1
    session.panelScroll = max(0, min(session.panelScroll, detail.lines.count - view))
    state.session = session
}

private func scroll(_ state: inout AppState, by delta: Int) -> [Effect] {
    guard var session = state.session else { return [] }
    session.scroll += delta
    clampScroll(state, &session)
    state.session = session
    return followScroll(&state)
}

/// After scrolling, keeps the focus on a cell or question in view, so the panel follows the
/// reading.
private func followScroll(_ state: inout AppState) -> [Effect] {
    guard var session = state.session, session.editor == nil, session.questions.editor == nil else { return [] }
    let layout = state.documentLayout(session)
    guard !layout.stops.isEmpty else { return [] }
    let top = session.scroll, bottom = session.scroll + state.geometry().content.height
    if let current = layout.stops.first(where: { $0.stop == session.stop }), current.start >= top && current.start < bottom {
        return []
    }
    // A stop whose header is in view, else the one whose body covers the top line, else the
    // next one below: the one the reader is about to meet.
    let candidate = layout.stops.first { $0.start >= top && $0.start < bottom }
        ?? layout.stops.last { $0.start <= top && $0.end > top }
        ?? layout.stops.first { $0.start >= bottom }
    guard let next = candidate?.stop, next != session.stop else { return [] }
    session.focus(on: next)
    state.session = session
    return [.record(.position(lessonID: session.lesson.id, cellID: session.lesson.cells[session.focusedCell].id))]
}

/// `n`/`p`: the next or previous cell or question.
private func moveFocus(_ state: inout AppState, by step: Int) -> [Effect] {
    guard var session = state.session else { return [] }
    let stops = state.documentLayout(session).stops.map(\.stop)
    guard !stops.isEmpty else { return [] }
    let here = stops.firstIndex(of: session.stop) ?? 0
    let target = min(stops.count - 1, max(0, here + step))
    if target == here {
        let what: String
        if case .question = stops[here] { what = "question" } else { what = "cell" }
        state.status = StatusMessage((step > 0 ? "last " : "first ") + what)
        return []
    }
    session.focus(on: stops[target])
    state.session = session
    state.status = nil
    scrollToFocus(&state, top: false)
    guard !session.lesson.cells.isEmpty else { return [] }
    return [.record(.position(lessonID: session.lesson.id, cellID: session.lesson.cells[session.focusedCell].id))]
}

/// Scrolls so the focus is in view: its header near the top when it was out of view, and as
/// much of its body as fits.
func scrollToFocus(_ state: inout AppState, top: Bool) {
    guard var session = state.session else { return }
    let layout = state.documentLayout(session)
    guard let current = layout.stops.first(where: { $0.stop == session.stop }) else { return }
    let view = max(1, state.geometry().content.height)
    let (start, end) = (current.start, current.end)
    if top || start < session.scroll || start >= session.scroll + view {
        session.scroll = max(0, start - min(2, view / 4))
    } else if end > session.scroll + view {
        session.scroll = min(start - min(1, view / 4), end - view)
    }
    clampScroll(state, &session)
    state.session = session
}

/// Keeps a given document line in view (for the editor in narrow layouts).
private func scrollToLine(_ state: inout AppState, _ line: Int) {
    guard var session = state.session else { return }
    let view = max(1, state.geometry().content.height)
    if line < session.scroll { session.scroll = line }
    if line + 2 >= session.scroll + view { session.scroll = line + 3 - view }
    clampScroll(state, &session)
    state.session = session
}

private func parameterSpecs(_ state: AppState, _ session: LessonSession) -> [ParameterSpec] {
    guard let cell = session.focusedCellSpec, let module = state.registry.module(named: cell.compute) else { return [] }
    return module.parameters
}

private func selectParameter(_ state: inout AppState, by delta: Int) {
    guard var session = state.session else { return }
    let count = parameterSpecs(state, session).count
    guard count > 0 else { return }
    session.selectedParameter = (session.selectedParameter + delta + count) % count
    state.session = session
}

/// `e`: opens the editor prefilled with the parameter's current source text.
private func openEditor(_ state: inout AppState) {
    guard var session = state.session, let cell = session.focusedCellSpec else { return }
    let specs = parameterSpecs(state, session)
    guard !specs.isEmpty else {
        state.status = StatusMessage("this cell has no parameters")
        return
    }
    let spec = specs[min(session.selectedParameter, specs.count - 1)]
    let notebook = session.notebook
    var text: String
    if let expression = notebook.parameterExpressions(cell.id).first(where: { $0.name == spec.name })?.expression {
        text = expression.source
    } else if let input = notebook.result(cell.id).inputs?[spec.name] {
        text = input.sourceText
    } else if case .value(let v) = spec.defaultValue {
        text = v.sourceText
    } else {
        text = ""
    }
    session.editor = ParameterEditor(cellID: cell.id, parameter: spec.name, line: LineEditor(text), error: nil)
    state.session = session
    state.status = nil
    revealEditor(&state)
}

private func revealEditor(_ state: inout AppState) {
    guard let session = state.session else { return }
    if state.geometry().inlineCells {
        if let line = state.documentLayout(session).editorLine { scrollToLine(&state, line) }
    } else if let detail = state.panelDetail(session), let line = detail.editorLine, var s = state.session {
        let view = state.geometry().panel?.height ?? 1
        if line + 2 >= s.panelScroll + view { s.panelScroll = line + 3 - view }
        if line < s.panelScroll { s.panelScroll = max(0, line - 1) }
        state.session = s
    }
}

private func editorKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    guard var session = state.session, var editor = session.editor else { return [] }
    switch key {
    case .escape:
        session.editor = nil
        state.session = session
        state.status = StatusMessage("edit cancelled")
        return []
    case .enter:
        return applyEdit(&state)
    default:
        guard editor.line.handle(key) else { return [] }
    }
    editor.error = nil
    session.editor = editor
    state.session = session
    return []
}

/// Enter in the editor: parse and validate with the lesson-file rules; on success re-run the
/// cell and everything downstream in this same update, so the next frame shows new numbers.
private func applyEdit(_ state: inout AppState) -> [Effect] {
    guard var session = state.session, var editor = session.editor else { return [] }
    let source = editor.line.text.trimmingCharacters(in: .whitespaces)
    guard !source.isEmpty else {
        editor.error = "type a value, or Esc to cancel"
        session.editor = editor
        state.session = session
        return []
    }
    let updated: [String]
    // The notebook as it was, to go back to if the module refuses the value when it runs.
    let before = session.notebook
    func refuse(_ message: String) -> [Effect] {
        editor.error = message
        session.editor = editor
        state.session = session
        revealEditor(&state)
        return []
    }
    do {
        updated = try session.notebook.setOverride(cell: editor.cellID, parameter: editor.parameter, source: source)
    } catch {
        return refuse(error.parameter == editor.parameter ? error.message : error.description)
    }
    let cellID = editor.cellID
    let result = session.notebook.result(cellID)
    // A value that parses but that the module rejects when it runs (an index past the end,
    // say) is as invalid as one the lesson-file rules reject: nothing is applied or recorded,
    // and every cell keeps its previous override and result.
    if case .failed(let e) = result.status, e.parameter == editor.parameter {
        session.notebook = before
        return refuse(e.message)
    }
    session.editor = nil
    state.session = session
    var message = "\(editor.parameter) = \(source)"
    let reran = updated.filter { session.notebook.result($0).status != .stale }
    if case .failed(let e) = result.status {
        state.status = StatusMessage("\(message): \(e)", isError: true)
    } else {
        message += " · re-ran \(reran.count) cell\(reran.count == 1 ? "" : "s")"
        let stale = updated.filter { session.notebook.result($0).status == .stale }
        if !stale.isEmpty { message += " · \(stale.count) heavy stale" }
        state.status = StatusMessage(message)
    }
    let lessonID = session.lesson.id
    var effects: [Effect] = [
        .record(.overrides(lessonID: lessonID, cellID: cellID,
                           sources: (session.notebook.overrides[cellID] ?? [:]).mapValues(\.source))),
    ]
    let runs = runRecords(session.notebook, reran)
    if !runs.isEmpty { effects.append(.record(.ran(lessonID: lessonID, trigger: .edit, runs: runs))) }
    return effects
}

private func resetFocused(_ state: inout AppState) -> [Effect] {
    guard var session = state.session, let cell = session.focusedCellSpec else { return [] }
    guard session.notebook.overrides[cell.id] != nil else {
        state.status = StatusMessage("\(cell.id) has the lesson's values")
        return []
    }
    let updated = session.notebook.resetOverrides(cell: cell.id)
    state.session = session
    state.status = StatusMessage("reset \(cell.id) to the lesson's values")
    let reran = updated.filter { session.notebook.result($0).status != .stale }
    var effects: [Effect] = [.record(.overrides(lessonID: session.lesson.id, cellID: cell.id, sources: [:]))]
    let runs = runRecords(session.notebook, reran)
    if !runs.isEmpty { effects.append(.record(.ran(lessonID: session.lesson.id, trigger: .reset, runs: runs))) }
    return effects
}

/// Enter: a light cell re-runs at once; a heavy one starts a background job.
private func runFocused(_ state: inout AppState) -> [Effect] {
    guard var session = state.session, let cell = session.focusedCellSpec else { return [] }
    if cell.isHeavy {
        if let job = state.job {
            state.status = StatusMessage("\(job.cellID) is running; Esc cancels it", isError: true)
            return []
        }
        switch session.notebook.job(for: cell.id) {
        case .failure(let error):
            state.status = StatusMessage("\(cell.id): \(error)", isError: true)
            return []
        case .success(let job):
            let id = state.nextJobID
            state.nextJobID += 1
            state.job = RunningJob(id: id, lessonID: session.lesson.id, cellID: cell.id, fraction: 0)
            state.status = StatusMessage("running \(cell.id)… Esc cancels")
            return [.runJob(id: id, job: job)]
        }
    }
    let updated = session.notebook.run(cell.id)
    state.session = session
    let result = session.notebook.result(cell.id)
    state.status = result.passed ? StatusMessage("ran \(cell.id) in \(NumberText.duration(result.duration))")
        : StatusMessage("\(cell.id): \(result.status.summary)", isError: true)
    let runs = runRecords(session.notebook, updated.filter { session.notebook.result($0).status != .stale })
    return runs.isEmpty ? [] : [.record(.ran(lessonID: session.lesson.id, trigger: .enter, runs: runs))]
}

private func runAll(_ state: inout AppState) -> [Effect] {
    guard var session = state.session else { return [] }
    // Heavy cells keep what they had: `R` never starts long work.
    session.notebook.runAll(includeHeavy: false)
    state.session = session
    let results = session.lesson.cells.map { session.notebook.result($0.id) }
    let ran = results.filter { $0.status.isOK || $0.status.isFailed }.count
    let failed = results.filter { !$0.passed && ($0.status.isOK || $0.status.isFailed) }.count
    let heavy = session.lesson.cells.filter(\.isHeavy).count
    var text = "ran \(ran) cells" + (failed > 0 ? ", \(failed) with problems" : ", all ok")
    if heavy > 0 { text += " · heavy cells run with Enter" }
    state.status = StatusMessage(text, isError: failed > 0)
    let ids = session.lesson.cells.filter { !$0.isHeavy }.map(\.id)
    let runs = runRecords(session.notebook, ids)
    return runs.isEmpty ? [] : [.record(.ran(lessonID: session.lesson.id, trigger: .runAll, runs: runs))]
}

private func finishJob(_ state: inout AppState, id: Int, result: CellResult) -> [Effect] {
    guard let job = state.job, job.id == id else { return [] }
    state.job = nil
    guard var session = state.session, session.lesson.id == job.lessonID else { return [] }
    if case .failed(let error) = result.status, error.isCancelled {
        state.status = StatusMessage("cancelled \(job.cellID)")
        return []
    }
    let updated = session.notebook.apply(result, to: job.cellID)
    state.session = session
    state.status = result.passed ? StatusMessage("\(job.cellID) finished in \(NumberText.duration(result.duration))")
        : StatusMessage("\(job.cellID): \(result.status.summary)", isError: true)
    let runs = runRecords(session.notebook, updated.filter { session.notebook.result($0).status != .stale })
    return runs.isEmpty ? [] : [.record(.ran(lessonID: job.lessonID, trigger: .heavy, runs: runs))]
}

// MARK: - Questions

/// `a` (or Enter) on a question: opens the answer editor, unless it is settled.
private func openAnswer(_ state: inout AppState) -> [Effect] {
    guard var session = state.session, let question = session.focusedQuestionSpec else { return [] }
    if session.questions.answers[question.id]?.isSettled == true {
        state.status = StatusMessage("answered: \(session.notebook.answerText(question))")
        return []
    }
    session.questions.editor = AnswerEditor(questionID: question.id, line: LineEditor(), error: nil)
    state.session = session
    state.status = nil
    if let line = state.documentLayout(session).answerLine { scrollToLine(&state, line) }
    return []
}

private func answerKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    guard var session = state.session, var editor = session.questions.editor else { return [] }
    switch key {
    case .escape:
        session.questions.editor = nil
        state.session = session
        return []
    case .enter:
        return submitAnswer(&state)
    default:
        guard editor.line.handle(key) else { return [] }
        editor.error = nil
        session.questions.editor = editor
        state.session = session
        return []
    }
}

/// Enter in the answer editor: checks the answer; right, or wrong twice, settles the
/// question and the cell's numbers appear.
private func submitAnswer(_ state: inout AppState) -> [Effect] {
    guard var session = state.session, var editor = session.questions.editor,
          let question = session.lesson.question(editor.questionID) else { return [] }
    guard case .success(let truth) = session.notebook.answer(to: question) else {
        editor.error = "this question's cell has not run; Enter on the cell runs it"
        session.questions.editor = editor
        state.session = session
        return []
    }
    let check = QuestionJudge.check(editor.line.text, against: truth, question: question)
    if case .unreadable(let why) = check.outcome {
        editor.error = why
        session.questions.editor = editor
        state.session = session
        return []
    }
    var answer = session.questions.answers[question.id] ?? AnswerState()
    answer.record(check)
    session.questions.answers[question.id] = answer
    session.questions.editor = nil
    let feedback: String
    switch check.outcome {
    case .right: feedback = "✓ \(check.typed) is right"
    case .wrong(let how) where answer.revealed: feedback = "✗ \(check.typed): \(how). The answer is shown."
    case .wrong(let how): feedback = "✗ \(check.typed): \(how). One more try (a), or s to see the answer."
    case .unreadable: feedback = ""
    }
    session.questions.feedback[question.id] = feedback
    state.session = session
    state.status = StatusMessage(feedback, isError: !check.isRight && !answer.revealed)
    return [.record(.answered(lessonID: session.lesson.id, questionID: question.id, typed: check.typed,
                              correct: check.isRight, attempt: answer.attempts, revealed: answer.revealed))]
}

/// `s`: shows the answer without answering (counted as revealed).
private func reveal(_ state: inout AppState) -> [Effect] {
    guard var session = state.session, let question = session.focusedQuestionSpec else { return [] }
    var answer = session.questions.answers[question.id] ?? AnswerState()
    guard !answer.isSettled else { return [] }
    answer.revealed = true
    session.questions.answers[question.id] = answer
    session.questions.feedback[question.id] = "shown without an answer"
    state.session = session
    return [.record(.answered(lessonID: session.lesson.id, questionID: question.id, typed: "",
                              correct: false, attempt: answer.attempts, revealed: true))]
}

/// `h`: the question's hint, when it has one.
private func showHint(_ state: inout AppState) {
    guard var session = state.session, let question = session.focusedQuestionSpec else { return }
    guard question.hint != nil else {
        state.status = StatusMessage("this question has no hint")
        return
    }
    session.questions.hintsShown.insert(question.id)
    state.session = session
}

// MARK: - Search

private func searchKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    guard var editor = state.search else { return [] }
    switch key {
    case .escape:
        state.search = nil
        return []
    case .enter:
        state.search = nil
        var query = editor.text.trimmingCharacters(in: .whitespaces)
        if query.isEmpty, let last = state.lastSearch { query = last }
        guard !query.isEmpty else { return [] }
        state.lastSearch = query
        runSearch(&state, query)
        return []
    default:
        _ = editor.handle(key)
    }
    state.search = editor
    return []
}

private func runSearch(_ state: inout AppState, _ query: String) {
    switch state.screen {
    case .list:
        let count = state.lessons.count
        guard count > 0 else { return }
        for step in 1...count {
            let i = (state.listSelection + step) % count
            let l = state.lessons[i].header
            if (l.title + " " + l.summary + " " + l.id).localizedCaseInsensitiveContains(query) {
                state.listSelection = i
                state.status = StatusMessage("found “\(query)”")
                return
            }
        }
        state.status = StatusMessage("no lesson matches “\(query)”", isError: true)
    case .lesson:
        guard var session = state.session else { return }
        let lines = state.documentLayout(session).lines.map(\.plainText)
        let count = lines.count
        guard count > 0 else { return }
        let matches = lines.indices.filter { lines[$0].localizedCaseInsensitiveContains(query) }
        guard !matches.isEmpty else {
            state.status = StatusMessage("“\(query)” not found", isError: true)
            return
        }
        // The next match below the current top line, wrapping around.
        let anchor = session.scroll + 1
        let target = matches.first { $0 > anchor } ?? matches[0]
        session.scroll = max(0, target - 1)
        clampScroll(state, &session)
        state.session = session
        let n = (matches.firstIndex(of: target) ?? 0) + 1
        state.status = StatusMessage("“\(query)”: match \(n) of \(matches.count) · / Enter for the next")
        _ = followScroll(&state)
    }
}
