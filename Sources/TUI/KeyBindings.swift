/// What a key does. Each key is bound once, in ``KeyBindings``, and dispatch, the `?` help
/// and the hint bar all read that table, so they cannot drift apart (as in helix's keymap).
enum Command: Sendable, Equatable {
    // The lesson list.
    case selectNext, selectPrevious, selectPageDown, selectPageUp, selectFirst, selectLast
    case open, resume, quit
    // A lesson.
    case scrollDown, scrollUp, pageDown, pageUp, top, bottom
    case nextStop, previousStop, run, nextParameter, previousParameter, edit, reset, runAll
    case panelDown, panelUp, back, cancelOrBack
    // A question in focus.
    case answer, showAnswer, hint
    // Both screens.
    case search, help
}

/// One key binding: the keys (the first is the one shown), what they do, the words of the
/// help overlay, and the words of the hint bar (shown most important first, as many as fit).
struct Binding: Sendable {
    let keys: [Key]
    let command: Command?
    let help: String
    let hint: String?

    init(_ keys: [Key], _ command: Command?, help: String, hint: String? = nil) {
        self.keys = keys
        self.command = command
        self.help = help
        self.hint = hint
    }
}

enum KeyBindings {
    static let list: [Binding] = [
        Binding([.enter, .char("l"), .right], .open, help: "open the lesson", hint: "Enter open"),
        Binding([.char("r")], .resume, help: "resume where you left off", hint: "r resume"),
        Binding([.char("q"), .escape, .left], .quit, help: "quit", hint: "q quit"),
        Binding([.char("?")], .help, help: "this help", hint: "? help"),
        Binding([.char("j"), .down, .tab], .selectNext, help: "next lesson", hint: "j/k move"),
        Binding([.char("k"), .up, .backTab], .selectPrevious, help: "previous lesson"),
        Binding([.pageDown], .selectPageDown, help: "a page down"),
        Binding([.pageUp], .selectPageUp, help: "a page up"),
        Binding([.char("g"), .home], .selectFirst, help: "first lesson"),
        Binding([.char("G"), .end], .selectLast, help: "last lesson"),
        Binding([.char("/")], .search, help: "find a lesson", hint: "/ find"),
        Binding([.ctrl("c")], nil, help: "quit from anywhere"),
    ]

    static let lesson: [Binding] = [
        Binding([.char("n"), .tab], .nextStop, help: "next cell or question", hint: "n/p cell"),
        Binding([.char("p"), .backTab], .previousStop, help: "previous cell or question"),
        Binding([.char("e")], .edit, help: "edit the chosen parameter", hint: "e edit"),
        Binding([.enter], .run, help: "run the focused cell (a heavy one in the background)", hint: "Enter run"),
        Binding([.char("?")], .help, help: "this help", hint: "? help"),
        Binding([.char("q")], .back, help: "back to the lessons", hint: "q back"),
        Binding([.char("]"), .right], .nextParameter, help: "choose the next parameter", hint: "[ ] param"),
        Binding([.char("["), .left], .previousParameter, help: "choose the previous parameter"),
        Binding([.char("j"), .down], .scrollDown, help: "scroll down", hint: "j/k scroll"),
        Binding([.char("k"), .up], .scrollUp, help: "scroll up"),
        Binding([.pageDown, .char(" "), .ctrl("d"), .ctrl("f")], .pageDown, help: "a page down"),
        Binding([.pageUp, .char("b"), .ctrl("b")], .pageUp, help: "a page up"),
        Binding([.char("g"), .home], .top, help: "top"),
        Binding([.char("G"), .end], .bottom, help: "bottom"),
        Binding([.char("u")], .reset, help: "reset the cell's parameters", hint: "u reset"),
        Binding([.char("R")], .runAll, help: "run the whole lesson", hint: "R run all"),
        Binding([.char("J")], .panelDown, help: "scroll the side panel down"),
        Binding([.char("K")], .panelUp, help: "scroll the side panel up"),
        Binding([.char("/")], .search, help: "search (/ then Enter again: next match)", hint: "/ search"),
        Binding([.escape], .cancelOrBack, help: "cancel a running cell, else back to the lessons"),
        Binding([.ctrl("c")], nil, help: "quit from anywhere"),
    ]

    /// Consulted before ``lesson`` while a question has the focus.
    static let question: [Binding] = [
        Binding([.char("a"), .enter], .answer, help: "answer the question", hint: "a answer"),
        Binding([.char("s")], .showAnswer, help: "show the answer without answering", hint: "s show the answer"),
        Binding([.char("h")], .hint, help: "the question's hint", hint: "h hint"),
    ]

    /// The keys of every text field (the parameter editor, the answer editor, the search):
    /// ``LineEditor/handle(_:)`` applies the editing ones; Enter and Esc are the field's own.
    static let textInput: [Binding] = [
        Binding([.enter], nil, help: "apply", hint: "Enter apply"),
        Binding([.escape], nil, help: "cancel", hint: "Esc cancel"),
        Binding([.ctrl("u")], nil, help: "clear", hint: "Ctrl-U clear"),
        Binding([.left, .ctrl("b")], nil, help: "back a character", hint: "←/→ move"),
        Binding([.right, .ctrl("f")], nil, help: "forward a character"),
        Binding([.home, .ctrl("a")], nil, help: "to the start"),
        Binding([.end, .ctrl("e")], nil, help: "to the end"),
        Binding([.backspace], nil, help: "delete before the cursor"),
        Binding([.delete, .ctrl("d")], nil, help: "delete under the cursor"),
        Binding([.ctrl("w")], nil, help: "delete a word"),
    ]

    /// The command `key` runs in the first table that binds it.
    static func command(for key: Key, in tables: [[Binding]]) -> Command? {
        for table in tables {
            if let binding = table.first(where: { $0.keys.contains(key) }) { return binding.command }
        }
        return nil
    }

    /// Rows for the `?` overlay: every key of a binding, then what it does.
    static func help(_ tables: [[Binding]]) -> [(keys: String, action: String)] {
        var seen: Set<String> = []
        return tables.flatMap { $0 }.compactMap { binding in
            let keys = binding.keys.map(name).joined(separator: " ")
            return seen.insert(keys).inserted ? (keys, binding.help) : nil
        }
    }

    /// The hint bar's words, most important first.
    static func hints(_ tables: [[Binding]]) -> [String] {
        tables.flatMap { $0 }.compactMap(\.hint)
    }

    /// How a key is written in help: `j`, `↓`, `Ctrl-D`, `Shift-Tab`, `Space`.
    static func name(_ key: Key) -> String {
        switch key {
        case .char(" "): "Space"
        case .char(let c): String(c)
        case .ctrl(let c): "Ctrl-" + c.uppercased()
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .enter: "Enter"
        case .escape: "Esc"
        case .backspace: "Backspace"
        case .delete: "Delete"
        case .tab: "Tab"
        case .backTab: "Shift-Tab"
        }
    }
}
