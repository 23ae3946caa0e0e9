import Foundation
import NotebookCore

/// Draws the whole screen for a state. Pure: the same state always gives the same buffer.
public func render(_ state: AppState) -> ScreenBuffer {
    var buffer = ScreenBuffer(width: state.width, height: state.height)
    if state.isTooSmall {
        renderTooSmall(state, &buffer)
        return buffer
    }
    switch state.screen {
    case .list: renderList(state, &buffer)
    case .lesson: renderLesson(state, &buffer)
    }
    if state.showHelp {
        let entries: [(keys: String, action: String)]
        let screen = state.screen == .list ? [KeyBindings.list] : lessonBindings(state.session)
        // `?` in a text field is typed, so the fields' keys are listed here too.
        entries = KeyBindings.help(screen) + [("", ""), ("In a text field", "(editor, answer, search)")]
            + KeyBindings.help([KeyBindings.textInput])
        HelpOverlay(title: "Keys · any key closes", entries: entries)
            .draw(into: &buffer, area: Rect(x: 0, y: 1, width: state.width, height: state.height - 2),
                  style: .plain, keyStyle: state.theme.value)
    }
    return buffer
}

private func renderTooSmall(_ state: AppState, _ buffer: inout ScreenBuffer) {
    let message = "Terminal too small: \(state.width)×\(state.height). derive needs at least \(AppState.minimumWidth)×\(AppState.minimumHeight). Enlarge the window, or q to go back."
    let lines = Wrap.wrap([Span(message, state.theme.warning)], width: max(1, state.width))
    let top = max(0, (state.height - lines.count) / 2)
    buffer.draw(lines, in: Rect(x: 0, y: top, width: state.width, height: state.height - top))
}

private func titleBar(_ state: AppState, _ buffer: inout ScreenBuffer, left: String, right: String) {
    StatusBar(left: [Span(" " + left, state.theme.title)], right: [Span(right + " ")], style: state.theme.statusBar)
        .draw(into: &buffer, row: 0)
}

/// The bottom row: a search being typed, a message, or the key hints.
private func bottomBar(_ state: AppState, _ buffer: inout ScreenBuffer, hints: String) {
    let row = state.height - 1
    let theme = state.theme
    if let search = state.search {
        let prompt = " / "
        var line: Line = [Span(prompt, theme.strong)]
        line += search.line(width: max(2, state.width - prompt.count - 1))
        StatusBar(left: line, style: .plain).draw(into: &buffer, row: row)
        return
    }
    // A file that did not reload stays in view until it does; a message of the moment wins.
    if let reloadError = state.session?.reloadError, state.status == nil || state.status?.isError == false {
        StatusBar(left: [Span(" " + reloadError, theme.error)], right: [], style: .plain).draw(into: &buffer, row: row)
        return
    }
    if let status = state.status {
        StatusBar(left: [Span(" " + status.text, status.isError ? theme.error : .plain)],
                  right: state.width >= 60 ? [Span("? help", theme.dim)] : [], style: .plain)
            .draw(into: &buffer, row: row)
        return
    }
    StatusBar(left: [Span(" " + hints, theme.dim)], style: .plain).draw(into: &buffer, row: row)
}

// MARK: - List

private func relative(_ date: Date?, now: Date) -> String? {
    guard let date else { return nil }
    let seconds = now.timeIntervalSince(date)
    if seconds < 90 { return "just now" }
    if seconds < 3600 { return "\(Int(seconds / 60)) min ago" }
    if seconds < 86_400 { return "\(Int(seconds / 3600)) h ago" }
    let days = Int(seconds / 86_400)
    return days == 1 ? "yesterday" : "\(days) days ago"
}

private func renderList(_ state: AppState, _ buffer: inout ScreenBuffer) {
    let theme = state.theme
    let done = state.lessons.filter(\.progress.done).count
    titleBar(state, &buffer, left: "derive · lessons", right: "\(done)/\(state.lessons.count) done")
    let area = Rect(x: 0, y: 1, width: state.width, height: state.height - 2)
    let textWidth = area.width - 2
    // Where each item starts, known without building it (its title, its summary if it has one,
    // its bar and a blank line): only the items on screen are built, a hundred lessons or twelve.
    var itemStarts: [Int] = []
    var itemLines = 0
    for entry in state.lessons {
        itemStarts.append(itemLines)
        itemLines += entry.header.summary.isEmpty ? 3 : 4
    }
    var footer: [Line] = []
    if state.lessons.isEmpty {
        footer.append([Span("No lessons found. Pass --lessons DIR or set DERIVE_LESSONS.", theme.warning)])
    }
    if !state.loadErrors.isEmpty {
        footer.append([Span("\(state.loadErrors.count) lesson file(s) did not load:", theme.error)])
        for error in state.loadErrors { footer += Wrap.wrap([Span(error, theme.error)], width: textWidth, indent: 2, firstIndent: 2) }
    }
    let lineCount = itemLines + footer.count
    // Keep the selected item (all its lines) in view.
    var top = 0
    if state.listSelection < itemStarts.count {
        let start = itemStarts[state.listSelection]
        let end = state.listSelection + 1 < itemStarts.count ? itemStarts[state.listSelection + 1] : lineCount
        if end > area.height { top = min(start, end - area.height) }
    }
    let firstItem = itemStarts.lastIndex { $0 <= top } ?? 0
    var lines: [Line] = []
    var index = firstItem
    while index < state.lessons.count, itemStarts[index] < top + area.height {
        lines += listItem(state, index, textWidth: textWidth)
        index += 1
    }
    if index == state.lessons.count { lines += footer }
    let firstLine = itemStarts.isEmpty ? 0 : itemStarts[firstItem]
    buffer.draw(lines, in: area.inset(left: 1, right: 1), from: top - firstLine)
    if lineCount - top > area.height {
        buffer.put("↓", x: area.maxX - 1, y: area.maxY - 1, style: theme.dim)
    }
    if top > 0 { buffer.put("↑", x: area.maxX - 1, y: area.y, style: theme.dim) }
    var hints = KeyBindings.hints([KeyBindings.list])
    if state.resumeLessonID == nil { hints.removeAll { $0 == "r resume" } }
    bottomBar(state, &buffer, hints: fitted(hints, width: state.width - 2))
}

/// One lesson of the list: its number and title, its summary, its progress bar and a blank line.
private func listItem(_ state: AppState, _ i: Int, textWidth: Int) -> [Line] {
    let theme = state.theme
    let entry = state.lessons[i]
    let selected = i == state.listSelection
    let p = entry.progress
    let mark = p.done ? "✓" : (p.cellsRun > 0 ? "◐" : "·")
    let markStyle = p.done ? theme.ok : (p.cellsRun > 0 ? theme.warning : theme.dim)
    // The place in the list, not `order`: a lesson without one has no number to show.
    let number = String(format: "%2d ", i + 1)
    var first: Line = [Span(selected ? "▶ " : "  ", theme.accent), Span(mark + " ", markStyle),
                       Span(number, theme.dim)]
    let titleRoom = max(1, textWidth - first.width)
    first.append(Span(TextWidth.truncate(entry.header.title, to: titleRoom), selected ? theme.title : theme.strong))
    var lines = [first]
    let indent = 7
    if !entry.header.summary.isEmpty {
        lines.append([Span(String(repeating: " ", count: indent)),
                      Span(TextWidth.truncate(entry.header.summary, to: max(1, textWidth - indent)), theme.dim)])
    }
    var detail = "\(min(p.cellsRun, p.cells))/\(p.cells) cells"
    if p.questions > 0 { detail += " · \(p.answered)/\(p.questions) questions, \(p.rightFirstTry) first try" }
    if p.done { detail += " · done" }
    if let when = relative(p.lastVisited, now: state.now) { detail += " · \(when)" }
    if entry.header.id == state.resumeLessonID { detail += " · r resumes" }
    let barWidth = min(20, max(4, textWidth - indent - TextWidth.of(detail) - 1))
    var bar: Line = [Span(String(repeating: " ", count: indent))]
    bar += ProgressBar(fraction: p.fraction, filled: p.done ? theme.ok : theme.accent, empty: theme.dim).bar(width: barWidth)
    bar.append(Span(" " + TextWidth.truncate(detail, to: max(1, textWidth - indent - barWidth - 1)), theme.dim))
    lines.append(bar)
    lines.append([])
    return lines
}

// MARK: - Lesson

private func renderLesson(_ state: AppState, _ buffer: inout ScreenBuffer) {
    guard let session = state.session else { return }
    let theme = state.theme
    let g = state.geometry()
    let view = g.content.height
    // At the top, the lines on screen and one more (for the ↓ mark) draw the same frame as the
    // whole layout; the runtime lays out the rest once the frame is shown.
    let layout = session.scroll == 0 ? state.documentLayout(session, firstLines: view + 1) : state.documentLayout(session)
    let cells = session.lesson.cells.count
    let maxScroll = max(0, layout.lines.count - view)
    // The text may have become shorter since the last scroll (an edit): show the last page.
    let scroll = min(session.scroll, maxScroll)
    let percent = maxScroll == 0 ? 100 : min(100, scroll * 100 / maxScroll)
    var position = cells > 0 ? "cell \(session.focusedCell + 1)/\(cells) · \(percent)%" : "\(percent)%"
    let questions = session.lesson.questions
    if !questions.isEmpty {
        let states = questions.compactMap { session.questions.answers[$0.id] }
        position = "? \(states.filter(\.isSettled).count)/\(questions.count) (\(states.filter(\.rightFirstTry).count) first try) · " + position
    }
    titleBar(state, &buffer, left: session.lesson.title, right: state.width >= 60 ? position : "\(percent)%")

    buffer.draw(layout.lines, in: g.text, from: scroll)
    if let query = state.lastSearch, state.search == nil {
        highlight(&buffer, g.text, query, theme.searchMatch)
    }
    // Scroll marks in the right margin of the text.
    let markX = g.text.maxX
    if scroll > 0 { buffer.put("↑", x: markX, y: g.text.y, style: theme.dim) }
    if scroll < maxScroll { buffer.put("↓", x: markX, y: g.text.maxY - 1, style: theme.dim) }

    if let panel = g.panel, let separator = g.separatorX {
        for y in g.content.y..<g.content.maxY { buffer.put("│", x: separator, y: y, style: theme.dim) }
        if let detail = state.panelDetail(session) {
            buffer.draw(detail.lines, in: panel, from: session.panelScroll)
            if session.panelScroll > 0 { buffer.put("↑", x: panel.maxX, y: panel.y, style: theme.dim) }
            if detail.lines.count - session.panelScroll > panel.height {
                buffer.put("↓ J", x: panel.maxX - 2, y: panel.maxY - 1, style: theme.dim)
            }
        } else {
            buffer.put("This lesson has no cells.", x: panel.x, y: panel.y, style: theme.dim, clip: panel)
        }
    }
    let hints: [String]
    if session.editor != nil || session.questions.editor != nil {
        hints = KeyBindings.hints([KeyBindings.textInput])
    } else if state.job != nil {
        hints = ["Esc cancel the run"] + KeyBindings.hints([KeyBindings.lesson])
    } else {
        hints = KeyBindings.hints(lessonBindings(session))
    }
    bottomBar(state, &buffer, hints: fitted(hints, width: state.width - 2))
}

/// As many hints as fit, most important first, joined by dots.
private func fitted(_ hints: [String], width: Int) -> String {
    var text = ""
    for hint in hints {
        let next = text.isEmpty ? hint : text + " · " + hint
        if TextWidth.of(next) > width { break }
        text = next
    }
    return text
}

/// Restyles every case-insensitive occurrence of `query` in the rows of `rect`.
private func highlight(_ buffer: inout ScreenBuffer, _ rect: Rect, _ query: String, _ style: Style) {
    let needle = Array(query.lowercased())
    guard !needle.isEmpty else { return }
    for y in rect.y..<rect.maxY {
        var chars: [Character] = []
        var xs: [Int] = []
        for x in rect.x..<rect.maxX {
            let cell = buffer[x, y]
            if cell.isContinuation { continue }
            let lower = String(cell.grapheme).lowercased()
            chars.append(lower.count == 1 ? Character(lower) : cell.grapheme)
            xs.append(x)
        }
        guard chars.count >= needle.count else { continue }
        var i = 0
        while i + needle.count <= chars.count {
            if Array(chars[i..<(i + needle.count)]) == needle {
                let x0 = xs[i]
                let last = xs[i + needle.count - 1]
                let x1 = last + Int(buffer[last, y].width)
                buffer.restyle(Rect(x: x0, y: y, width: x1 - x0, height: 1)) { $0 = style }
                i += needle.count
            } else {
                i += 1
            }
        }
    }
}
