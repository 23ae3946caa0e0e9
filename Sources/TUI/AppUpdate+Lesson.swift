import Foundation
import NotebookCore
import Progress

// The lesson screen: focus and scrolling, the parameter editor, running cells.

/// The key tables in force in a lesson: a question's own keys first when one has the focus.
func lessonBindings(_ session: LessonSession?) -> [[Binding]] {
    session?.focusedQuestion != nil ? [KeyBindings.question, KeyBindings.lesson] : [KeyBindings.lesson]
}

func lessonKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    guard var session = state.session else { state.screen = .list; return [] }
    let page = max(1, state.geometry().content.height - 2)
    let command = KeyBindings.command(for: key, in: lessonBindings(session))
    // Until the cells that ran on opening are in, nothing may change or judge them.
    if session.opening != nil, let command, [.edit, .run, .reset, .runAll, .answer, .showAnswer].contains(command) {
        state.status = OpeningRun.wait
        return []
    }
    switch command {
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

func clampScroll(_ state: AppState, _ session: inout LessonSession) {
    let layout = state.documentLayout(session)
    let view = state.geometry().content.height
    session.scroll = max(0, min(session.scroll, layout.lines.count - max(1, view)))
}

func clampSessionScroll(_ state: inout AppState) {
    guard var session = state.session else { return }
    clampScroll(state, &session)
    state.session = session
}

func clampPanelScroll(_ state: inout AppState) {
    guard var session = state.session, let detail = state.panelDetail(session) else { return }
    let view = state.geometry().panel?.height ?? 1
    session.panelScroll = max(0, min(session.panelScroll, detail.lines.count - view))
    state.session = session
}

func scroll(_ state: inout AppState, by delta: Int) -> [Effect] {
    guard var session = state.session else { return [] }
    session.scroll += delta
    clampScroll(state, &session)
    state.session = session
    return followScroll(&state)
}

/// After scrolling, keeps the focus on a cell or question in view, so the panel follows the
/// reading.
func followScroll(_ state: inout AppState) -> [Effect] {
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
func moveFocus(_ state: inout AppState, by step: Int) -> [Effect] {
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
func scrollToLine(_ state: inout AppState, _ line: Int) {
    guard var session = state.session else { return }
    let view = max(1, state.geometry().content.height)
    if line < session.scroll { session.scroll = line }
    if line + 2 >= session.scroll + view { session.scroll = line + 3 - view }
    clampScroll(state, &session)
    state.session = session
}

func parameterSpecs(_ state: AppState, _ session: LessonSession) -> [ParameterSpec] {
    guard let cell = session.focusedCellSpec, let module = state.registry.module(named: cell.compute) else { return [] }
    return module.parameters
}

func selectParameter(_ state: inout AppState, by delta: Int) {
    guard var session = state.session else { return }
    let count = parameterSpecs(state, session).count
    guard count > 0 else { return }
    session.selectedParameter = (session.selectedParameter + delta + count) % count
    state.session = session
}

/// `e`: opens the editor prefilled with the parameter's current source text.
func openEditor(_ state: inout AppState) {
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

func revealEditor(_ state: inout AppState) {
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

func editorKey(_ state: inout AppState, _ key: Key) -> [Effect] {
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
func applyEdit(_ state: inout AppState) -> [Effect] {
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
    let runs = runRecords(session.notebook, reran, at: state.now)
    if !runs.isEmpty { effects.append(.record(.ran(lessonID: lessonID, trigger: .edit, runs: runs))) }
    return effects
}

func resetFocused(_ state: inout AppState) -> [Effect] {
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
    let runs = runRecords(session.notebook, reran, at: state.now)
    if !runs.isEmpty { effects.append(.record(.ran(lessonID: session.lesson.id, trigger: .reset, runs: runs))) }
    return effects
}

/// Enter: a light cell re-runs at once; a heavy one starts a background job.
func runFocused(_ state: inout AppState) -> [Effect] {
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
    let runs = runRecords(session.notebook, updated.filter { session.notebook.result($0).status != .stale }, at: state.now)
    return runs.isEmpty ? [] : [.record(.ran(lessonID: session.lesson.id, trigger: .enter, runs: runs))]
}

func runAll(_ state: inout AppState) -> [Effect] {
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
    let runs = runRecords(session.notebook, ids, at: state.now)
    return runs.isEmpty ? [] : [.record(.ran(lessonID: session.lesson.id, trigger: .runAll, runs: runs))]
}

func finishJob(_ state: inout AppState, id: Int, result: CellResult) -> [Effect] {
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
    let runs = runRecords(session.notebook, updated.filter { session.notebook.result($0).status != .stale }, at: state.now)
    return runs.isEmpty ? [] : [.record(.ran(lessonID: job.lessonID, trigger: .heavy, runs: runs))]
}
