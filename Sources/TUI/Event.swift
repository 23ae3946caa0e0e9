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
    /// Open this lesson: the first event when `derive` starts at a lesson.
    case open(lessonID: String)
    /// A lesson's file was read and parsed (the answer to `Effect.loadLesson`). For the lesson
    /// already open, this is a reload: focus and the learner's values are kept.
    case lessonLoaded(id: String, Result<Lesson, LessonLoadFailure>)
    /// The cells of the lesson opened with `OpeningRun` `id` ran (the answer to `Effect.runLesson`).
    case lessonRan(id: Int, Notebook)
    /// The open lesson's file changed on disk (the runtime watches it).
    case lessonFileChanged(id: String)
    /// The lessons folder changed while the list showed: its headers, read again.
    case catalogChanged(LessonCatalog)
    /// A signal arrived or the terminal went away: leave now.
    case terminate(Termination)
}

/// Why the notebook has to stop without being asked by a key.
public enum Termination: Sendable, Equatable {
    /// SIGTERM, SIGHUP or SIGINT, by number.
    case signal(Int32)
    /// The terminal went away (hang-up, end of input, a read error): nothing more is written to it.
    case hangup

    /// The exit status a shell expects: 128 + the signal's number (SIGHUP's for a hang-up).
    public var exitStatus: Int32 {
        switch self {
        case .signal(let number): 128 + number
        case .hangup: 129
        }
    }
}
