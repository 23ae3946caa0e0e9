import Foundation
import NotebookCore
import Progress

/// Applies an event to the state and returns the work for the runtime. Pure: no I/O, no
/// clock, no terminal.
public func update(_ state: inout AppState, _ event: Event) -> [Effect] {
    let effects = dispatch(&state, event)
    noteLearnerRuns(&state, effects)
    return effects
}

/// Cells the learner ran themselves (not the automatic runs on opening) get their mark.
func noteLearnerRuns(_ state: inout AppState, _ effects: [Effect]) {
    for case .record(.ran(let lessonID, let trigger, let runs)) in effects where trigger != .open {
        guard let i = state.lessons.firstIndex(where: { $0.header.id == lessonID }) else { continue }
        state.lessons[i].ranCells.formUnion(runs.filter(\.ok).map(\.cell))
    }
}

func dispatch(_ state: inout AppState, _ event: Event) -> [Effect] {
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
        if let session = state.session, session.lesson.id == id { return reloaded(&state, result) }
        return lessonLoaded(&state, id: id, result)
    case .catalogChanged(let catalog):
        refreshList(&state, catalog)
        return []
    case .lessonFileChanged(let id):
        guard state.session?.lesson.id == id, let entry = state.lessons.first(where: { $0.header.id == id }),
              entry.header.url != nil else { return [] }
        return [.loadLesson(entry.header)]
    case .jobProgress(let id, let fraction):
        if state.job?.id == id { state.job?.fraction = fraction }
        return []
    case .jobFinished(let id, let result):
        return finishJob(&state, id: id, result: result)
    case .lessonRan(let id, let notebook):
        return lessonRan(&state, id: id, notebook)
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
