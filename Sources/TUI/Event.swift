import NotebookCore

/// A key the user pressed, decoded by the backend.
public enum Key: Sendable, Equatable {
    case char(Character)
    /// A control combination, such as `.ctrl("c")` for Ctrl-C (lower-case letter).
    case ctrl(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case enter, escape, backspace, delete, tab, backTab
}

/// Everything the app reacts to.
public enum Event: Sendable {
    case key(Key)
    /// The terminal now has this many columns and rows.
    case resize(width: Int, height: Int)
    /// Mouse wheel: negative scrolls up, positive down, in notches.
    case wheel(Int)
    /// A background job reported progress in [0, 1].
    case jobProgress(id: Int, fraction: Double)
    /// A background job ended.
    case jobFinished(id: Int, result: CellResult)
    /// SIGTERM, SIGHUP or SIGINT arrived: leave now.
    case terminate
}
