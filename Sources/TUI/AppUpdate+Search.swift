import Foundation
import NotebookCore
import Progress

// Search, in the list and in a lesson.

func searchKey(_ state: inout AppState, _ key: Key) -> [Effect] {
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

func runSearch(_ state: inout AppState, _ query: String) {
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
