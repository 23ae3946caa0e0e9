import Foundation

/// What the event loop needs from a terminal: its size, a way to show a frame, and input.
///
/// ``NCursesBackend`` is the real terminal; ``TestBackend`` is an in-memory one with scripted
/// input, so the whole loop — events, jobs, signals, resizes — runs in unit tests.
public protocol TerminalBackend: AnyObject {
    /// Columns and rows.
    var size: (width: Int, height: Int) { get }
    /// Whether colours are shown.
    var colorEnabled: Bool { get }
    /// Shows a frame.
    func draw(_ buffer: ScreenBuffer)
    /// Forgets the last frame, so the next ``draw(_:)`` repaints everything.
    func invalidate()
    /// Waits up to `timeoutMilliseconds` (negative: without limit) for input, a signal or a
    /// ``waker`` call. Returns `nil` when woken or when the time ran out with nothing to report.
    func readEvent(timeoutMilliseconds: Int32) -> Event?
    /// Interrupts a waiting ``readEvent(timeoutMilliseconds:)`` from any thread: a background
    /// job has something to report.
    var waker: @Sendable () -> Void { get }
    /// Puts the terminal back as it was. Safe to call twice.
    func restore()
}

/// An in-memory terminal for tests, in the manner of ratatui's `TestBackend`: the input is a
/// script, and every frame drawn is kept for the test to read.
public final class TestBackend: TerminalBackend, @unchecked Sendable {
    /// One scripted step of input.
    public enum Step: Sendable {
        /// Deliver this event.
        case event(Event)
        /// Wait (up to a few seconds) until a background job has reported through the waker.
        case waitForJob
    }

    public let size: (width: Int, height: Int)
    public let colorEnabled: Bool
    /// Every frame drawn, oldest first.
    public private(set) var frames: [ScreenBuffer] = []
    public private(set) var restored = false

    private var script: [Step]
    private let lock = NSCondition()
    private var wakes = 0
    private var wakesSeen = 0

    public init(width: Int, height: Int, color: Bool = false, script: [Step]) {
        size = (width, height)
        colorEnabled = color
        self.script = script.reversed()
    }

    /// Keys as steps: `TestBackend.keys("n", "e")`.
    public static func keys(_ characters: Character...) -> [Step] {
        characters.map { .event(.key(.char($0))) }
    }

    public var lastFrame: ScreenBuffer? { frames.last }

    public func draw(_ buffer: ScreenBuffer) { frames.append(buffer) }

    public func invalidate() {}

    /// The next scripted event; when the script is over, the terminal "hangs up", so a loop
    /// under test always ends. A scripted step is input that comes after the frame before it:
    /// a look without waiting (`timeoutMilliseconds == 0`) finds nothing, so each step is
    /// drawn on a frame of its own.
    public func readEvent(timeoutMilliseconds: Int32) -> Event? {
        if timeoutMilliseconds == 0 { return nil }
        guard let step = script.popLast() else { return .terminate(.hangup) }
        switch step {
        case .event(let event):
            return event
        case .waitForJob:
            lock.lock()
            defer { lock.unlock() }
            let deadline = Date().addingTimeInterval(10)
            while wakes == wakesSeen, lock.wait(until: deadline) {}
            wakesSeen = wakes
            return nil
        }
    }

    public var waker: @Sendable () -> Void {
        { [self] in
            lock.lock()
            wakes += 1
            lock.signal()
            lock.unlock()
        }
    }

    public func restore() { restored = true }
}
