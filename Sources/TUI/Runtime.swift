import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NotebookCore

/// Heavy cells, and the cells of a lesson just opened, running on background threads. They
/// report through a mailbox the event loop drains, waking it with `wake`; cancellation is a
/// flag the module polls through its `RunContext`.
final class JobRunner: @unchecked Sendable {
    private let wake: @Sendable () -> Void
    private let lock = NSLock()
    private var mailbox: [Event] = []
    private var cancelled: Set<Int> = []
    private var running: Set<Int> = []
    private var lastProgress: [Int: Double] = [:]

    init(wake: @escaping @Sendable () -> Void) {
        self.wake = wake
    }

    var isBusy: Bool { lock.withLock { !running.isEmpty || !mailbox.isEmpty } }

    func start(id: Int, job: CellJob) {
        lock.withLock { _ = running.insert(id) }
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            let context = RunContext(
                reportProgress: { [self] fraction in
                    // Coalesce: a new value only every half percent (modules may report from
                    // several threads at once).
                    guard fraction.isFinite else { return }
                    let report = lock.withLock {
                        let last = lastProgress[id] ?? -1
                        guard abs(fraction - last) >= 0.005 || (fraction >= 1 && last < 1) else { return false }
                        lastProgress[id] = fraction
                        return true
                    }
                    if report { post(.jobProgress(id: id, fraction: min(1, max(0, fraction))), replacingProgressOf: id) }
                },
                isCancelled: { [self] in lock.withLock { cancelled.contains(id) } })
            let result = job.execute(context: context)
            lock.withLock {
                running.remove(id)
                cancelled.remove(id)
                lastProgress[id] = nil
            }
            post(.jobFinished(id: id, result: result), replacingProgressOf: nil)
        }
    }

    /// Runs `work` on a background thread and posts the event it answers with.
    func run(_ work: @escaping @Sendable () -> Event) {
        DispatchQueue.global(qos: .userInitiated).async { [self] in post(work(), replacingProgressOf: nil) }
    }

    func cancel(id: Int) {
        lock.withLock { if running.contains(id) { _ = cancelled.insert(id) } }
    }

    func cancelAll() {
        lock.withLock { cancelled.formUnion(running) }
    }

    private func post(_ event: Event, replacingProgressOf id: Int?) {
        lock.withLock {
            if let id {
                mailbox.removeAll { if case .jobProgress(id, _) = $0 { true } else { false } }
            }
            mailbox.append(event)
        }
        wake()
    }

    func drain() -> [Event] {
        lock.withLock {
            let events = mailbox
            mailbox = []
            return events
        }
    }
}

/// How a session of the notebook ended.
public struct RunOutcome: Sendable {
    /// The state when the loop stopped.
    public var state: AppState
    /// Why it stopped without being asked, or `nil` when the learner quit.
    public var termination: Termination?
}

/// The event loop: read an event, update the state, run the effects, render, and show the
/// frame through the backend (which writes only what changed).
public enum Runtime {
    /// Runs the loop on any backend until the learner quits or a signal or hang-up ends it;
    /// the backend is not restored here (on the terminal, ``NCursesBackend/restore()`` does).
    /// `record` receives what the progress store should remember and may answer with a warning
    /// for the status bar (the disk filled up, say).
    ///
    /// `initialEvents` are handled before any input, as Bubble Tea's `Init` command is: opening
    /// the lesson `derive` was started at is one.
    public static func run(_ initial: AppState, on backend: some TerminalBackend, startingWith initialEvents: [Event] = [],
                           record: @escaping (RecordEvent) -> String? = { _ in nil }) -> RunOutcome {
        var state = initial
        state.theme = Theme(color: backend.colorEnabled)
        let size = backend.size
        var pending: [Event] = [.resize(width: size.width, height: size.height)] + initialEvents
        let jobs = JobRunner(wake: backend.waker)
        defer { jobs.cancelAll() }
        var watch = LessonFileWatch()
        // Set up after the first frame: looking at every file of a folder of a hundred lessons
        // took a millisecond the learner would wait for.
        var folder: LessonFolderWatch?

        while true {
            var events = pending + jobs.drain()
            pending = []
            if !events.isEmpty {
                // Keys too, not only the jobs' reports: a job reporting faster than frames are
                // drawn must not keep Esc waiting.
                while events.count < 256, let key = backend.readEvent(timeoutMilliseconds: 0) { events.append(key) }
            }
            watch.follow(state)
            if events.isEmpty {
                // Jobs wake the wait when they report; the limit is only a safety net, and the
                // poll of the open lesson's file when there is one.
                if let event = backend.readEvent(timeoutMilliseconds: watch.isWatching || folder?.isWatching == true ? 250 : 1000) {
                    events.append(event)
                    // Take everything already waiting (a burst of wheel notches or pasted text)
                    // before drawing, so input never lags behind the screen.
                    while events.count < 256, let more = backend.readEvent(timeoutMilliseconds: 0) { events.append(more) }
                }
                events += jobs.drain()
            }
            if let changed = watch.poll() { events.append(changed) }
            if let changed = folder?.poll(state) { events.append(changed) }
            if events.isEmpty { continue }
            // The clock is read here, once per batch: `update` takes the time from the state.
            state.now = Date()
            var next = 0
            while next < events.count {
                let event = events[next]
                next += 1
                if case .resize = event { backend.invalidate() }
                for effect in update(&state, event) {
                    switch effect {
                    case .quit:
                        if case .terminate(let reason) = event { return RunOutcome(state: state, termination: reason) }
                        return RunOutcome(state: state, termination: nil)
                    case .runJob(let id, let job):
                        jobs.start(id: id, job: job)
                    case .cancelJob(let id):
                        jobs.cancel(id: id)
                    case .runLesson(let id, let notebook):
                        jobs.run {
                            var notebook = notebook
                            notebook.runAll(includeHeavy: false)
                            return .lessonRan(id: id, notebook)
                        }
                    case .record(let event):
                        if let warning = record(event) { state.status = StatusMessage(warning, isError: true) }
                    case .loadLesson(let header):
                        // A lesson file is small and read in a blink: the answer goes next in line.
                        let loaded = LessonLoader(registry: state.registry).load(header)
                        events.insert(.lessonLoaded(id: header.id, loaded), at: next)
                    }
                }
            }
            backend.draw(render(state))
            if folder == nil { folder = LessonFolderWatch(state.lessonsDirectory) }
            // The first frame of a lesson laid out only its top; the rest now, before a key
            // needs it (a key pressed meanwhile waits in the terminal's buffer).
            if let session = state.session { _ = state.documentLayout(session) }
        }
    }
}

/// Watches the open lesson's file for an author editing it beside the notebook: when
/// ``LookAgain`` says so, the file's ``FileSignature`` says whether it changed. A file missing
/// for a moment (between the two steps of a rename-on-save) is waited for, not reported.
struct LessonFileWatch {
    private var lessonID: String?
    private var url: URL?
    private var last: FileSignature?
    private var look: LookAgain?

    var isWatching: Bool { url != nil }

    /// Starts watching the lesson open in `state` (or stops, on the list).
    mutating func follow(_ state: AppState) {
        let id = state.session?.lesson.id
        guard id != lessonID else { return }
        lessonID = id
        url = id.flatMap { id in state.lessons.first { $0.header.id == id }?.header.url }
        last = url.flatMap(FileSignature.init)
        look = url.map { LookAgain(folder: $0.deletingLastPathComponent()) }
    }

    /// The change event, when the file differs from the last time it was seen.
    mutating func poll() -> Event? {
        guard let url, let lessonID, look?.due() == true, let now = FileSignature(url), now != last else { return nil }
        last = now
        return .lessonFileChanged(id: lessonID)
    }
}

/// Watches the lessons folder while the list shows, so that lessons added, removed or renamed
/// appear without a restart. Changes made while a lesson is open are seen on the way back.
struct LessonFolderWatch {
    private let directory: URL?
    private var signature: LessonFolderSignature?
    private var look: LookAgain?

    init(_ directory: URL?) {
        self.directory = directory
        signature = directory.map(LessonFolderSignature.init)
        look = directory.map { LookAgain(folder: $0) }
    }

    var isWatching: Bool { directory != nil }

    /// The folder's headers read again, when a file changed; only on the list.
    mutating func poll(_ state: AppState) -> Event? {
        guard let directory, state.screen == .list, look?.due() == true, signature?.changed() == true else { return nil }
        return .catalogChanged(LessonLoader(registry: state.registry).loadHeaders(directory))
    }
}

/// When a watch should look at its files again. On Linux, inotify on the folder says at once
/// that something there changed; a look every two seconds is the safety net. Without inotify,
/// a look every quarter of a second, the loop's tick while something is watched. Either way the
/// loop's other events (a key, a job's report) never cost a look.
private struct LookAgain {
    private let notifications: FolderNotifications?
    private var last = Date()

    init(folder: URL) {
        notifications = FolderNotifications(folder)
    }

    mutating func due() -> Bool {
        let now = Date()
        let interval: TimeInterval = notifications == nil ? 0.25 : 2
        guard notifications?.drain() == true || now.timeIntervalSince(last) >= interval else { return false }
        last = now
        return true
    }
}

/// An inotify watch on a folder, read without blocking; nil where the system has none.
private final class FolderNotifications {
    private let descriptor: Int32

    init?(_ folder: URL) {
        #if os(Linux)
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB)
        guard inotify_add_watch(fd, folder.path, mask) >= 0 else {
            close(fd)
            return nil
        }
        descriptor = fd
        #else
        return nil
        #endif
    }

    deinit { close(descriptor) }

    /// Whether anything happened in the folder since the last call; reads every waiting event.
    func drain() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var any = false
        while read(descriptor, &buffer, buffer.count) > 0 { any = true }
        return any
    }
}
