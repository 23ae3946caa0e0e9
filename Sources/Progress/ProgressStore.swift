import Foundation
import NotebookCore
import GRDB

// MARK: - Plain values

/// What the progress store needs to know about a lesson: no more than its id, title and cells,
/// so the store depends on nothing from the lesson parser.
public struct LessonOutline: Sendable, Equatable {
    public var id: String
    public var title: String
    public var cellIDs: [String]
    /// The lesson's questions now: answers to questions since renamed or removed do not count.
    public var questionIDs: [String]

    public init(id: String, title: String, cellIDs: [String], questionIDs: [String] = []) {
        self.id = id
        self.title = title
        self.cellIDs = cellIDs
        self.questionIDs = questionIDs
    }
}

/// One run of one cell, as recorded.
public struct CellRunRecord: Sendable, Equatable {
    public var lesson: String
    public var cell: String
    /// The parameters the cell ran with, as canonical JSON (see ``canonicalJSON(_:)``).
    public var parametersJSON: String
    public var startedAt: Date
    public var durationMicroseconds: Int
    /// `nil` when the run succeeded; otherwise the error text shown to the learner.
    public var error: String?

    public var ok: Bool { error == nil }

    public init(lesson: String, cell: String, parameters: [(name: String, value: Value)],
                startedAt: Date, durationMicroseconds: Int, error: String?) {
        self.init(lesson: lesson, cell: cell, parametersJSON: Self.canonicalJSON(parameters),
                  startedAt: startedAt, durationMicroseconds: durationMicroseconds, error: error)
    }

    public init(lesson: String, cell: String, parametersJSON: String,
                startedAt: Date, durationMicroseconds: Int, error: String?) {
        self.lesson = lesson
        self.cell = cell
        self.parametersJSON = parametersJSON
        self.startedAt = startedAt
        self.durationMicroseconds = max(0, durationMicroseconds)
        self.error = error
    }

    /// JSON with no whitespace, keys sorted by their UTF-8 bytes and numbers in their shortest
    /// round-trip form (non-finite ones as `"NaN"`, `"Infinity"`, `"-Infinity"`), so the same
    /// parameters always give the same text. A repeated name keeps its last value.
    public static func canonicalJSON(_ parameters: [(name: String, value: Value)]) -> String {
        var latest: [String: Value] = [:]
        for (name, value) in parameters { latest[name] = value }
        return JSON.object(latest.map { ($0.key, $0.value.json) }).canonicalText
    }
}

/// Where the learner was in a lesson.
public struct LessonPosition: Sendable, Equatable {
    public var lesson: String
    /// The focused cell, if any. It may name a cell that no longer exists: callers ignore it then.
    public var cell: String?
    public var scroll: Int
    public var updatedAt: Date
}

/// A parameter the learner changed, kept as the text they typed (lesson-file syntax).
public struct StoredOverride: Sendable, Equatable {
    public var cell: String
    public var parameter: String
    public var source: String
    public var updatedAt: Date
}

/// The recorded runs of one cell, for marking cells in the lesson view.
public struct CellHistory: Sendable, Equatable {
    public var cell: String
    public var runs: Int
    public var okRuns: Int
    public var lastRunAt: Date
    /// Whether the most recent run succeeded.
    public var lastRunOK: Bool

    /// The cell has run successfully at least once.
    public var hasRunOK: Bool { okRuns > 0 }
}

/// The result of recording runs.
public struct RecordOutcome: Sendable, Equatable {
    /// The runs were written.
    public var recorded: Bool
    /// This write completed the lesson for the first time.
    public var completedLesson: Bool
}

// MARK: - Store

/// The learner's progress in SQLite: the only code in derive that touches the database.
///
/// Open it with ``open(at:clock:)``; it never throws. A corrupt file is moved aside and a fresh
/// one started; an unwritable location or a full disk leaves the store reading what it can and
/// recording nothing. A row holding a value of the wrong kind (SQLite's integrity check accepts
/// it) is left out wherever that value is needed, and kept. Every such event adds a warning,
/// returned by ``open(at:clock:)`` and later by ``drainWarnings()``, for stderr or the TUI
/// status bar. Methods are safe to call from any
/// thread. Dates are stored in UTC.
public final class ProgressStore: @unchecked Sendable {
    /// What the store can do.
    public enum Mode: Sendable, Equatable {
        /// Reads and records.
        case recording
        /// Shows what was recorded but records nothing (read-only location, full disk).
        case readOnly
        /// Nothing recorded, nothing to show.
        case off
    }

    /// A store together with the warnings its opening produced.
    public struct Opened: Sendable {
        public var store: ProgressStore
        public var warnings: [String]
    }

    /// Test hooks for faults that are hard to produce for real.
    struct Options: Sendable {
        /// `PRAGMA max_page_count`: writes past it fail with `SQLITE_FULL`, as on a full disk.
        var maxPageCount: Int?
        var busyTimeout: TimeInterval = 5
    }

    /// The database file, or `nil` when there is none.
    public let path: URL?
    let clock: @Sendable () -> Date
    let lock = NSLock()
    var reader: (any DatabaseReader)?
    var writer: DatabaseQueue?
    var pending: [String] = []
    var warned: Set<String> = []

    init(path: URL?, reader: (any DatabaseReader)?, writer: DatabaseQueue?,
                 clock: @escaping @Sendable () -> Date) {
        self.path = path
        self.reader = reader
        self.writer = writer
        self.clock = clock
    }

    deinit {
        // A clean close of the last connection checkpoints the WAL and removes it: the file is
        // then as this session left it, and the next start need not read every page.
        guard let path, let writer else { return }
        reader = nil
        self.writer = nil
        do { try writer.close() } catch { return }
        IntegrityStamp.save(for: path)
    }

    /// A store that records nothing and shows nothing (`--no-record` needs none at all).
    public static func off(clock: @escaping @Sendable () -> Date = { Date() }) -> ProgressStore {
        ProgressStore(path: nil, reader: nil, writer: nil, clock: clock)
    }

    /// What the store can do now; a failed write turns `.recording` into `.readOnly`.
    public var mode: Mode {
        lock.withLock {
            writer != nil ? .recording : reader != nil ? .readOnly : .off
        }
    }

    /// Warnings raised since the last call (a write that failed, a read that failed).
    public func drainWarnings() -> [String] {
        lock.withLock {
            defer { pending = [] }
            return pending
        }
    }

    // MARK: Access

    /// Queues `message` unless it, or another message with the same `key`, was given before.
    func warn(_ message: String, key: String? = nil) {
        lock.withLock {
            if warned.insert(key ?? message).inserted { pending.append(message) }
        }
    }

    static let unreadableKey = "unreadable rows"

    /// Runs `body`, which decodes one row; a value it cannot read (a value of the wrong kind
    /// that SQLite accepted, see ``StoredValue``) leaves that row out with one warning for the
    /// session, where GRDB's row subscript would trap. Database errors fail the whole read.
    @discardableResult
    func skippingUnreadable<T>(_ body: () throws -> T) throws -> T? {
        do {
            return try body()
        } catch let error as RowDecodingError {
            // GRDB's description goes on with the whole row; the value and column suffice.
            var detail = "\(error)"
            if let end = detail.range(of: ", column index") { detail = String(detail[..<end.lowerBound]) }
            warn(StoredValue.printable("""
                progress database \(path?.path ?? "") holds a record derive cannot read (\(detail.prefix(160))); \
                derive ignores it
                """), key: Self.unreadableKey)
            return nil
        }
    }

    /// Runs `body` in one immediate transaction. Lock contention waits (busy timeout, then
    /// two more tries); any other failure (disk full, read-only, I/O) stops recording for the
    /// rest of the session with one warning.
    @discardableResult
    func write<T>(_ what: String, _ body: (Database) throws -> T) -> T? {
        guard let database = lock.withLock({ writer }) else { return nil }
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try database.write(body)
            } catch let error as DatabaseError
                        where (error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED) && attempt < 3 {
                continue
            } catch let error as DatabaseError
                        where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                warn("could not record \(what): the progress database stayed locked (\(error.message ?? "busy"))")
                return nil
            } catch {
                let detail = (error as? DatabaseError)?.message ?? "\(error)"
                lock.withLock { writer = nil }
                warn("could not record \(what) in \(path?.path ?? "the progress database") (\(detail)); progress is not being recorded for the rest of this session")
                return nil
            }
        }
    }

    func read<T>(_ fallback: T, _ body: (Database) throws -> T) -> T {
        guard let reader = lock.withLock({ self.reader }) else { return fallback }
        do {
            return try reader.read(body)
        } catch {
            let detail = (error as? DatabaseError)?.message ?? "\(error)"
            warn("could not read progress from \(path?.path ?? "the progress database") (\(detail))")
            return fallback
        }
    }

    static func ensureLesson(_ db: Database, _ lesson: String, at: Date) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO lesson (id, first_seen_at) VALUES (?, ?)",
                       arguments: [lesson, StoredDate(at)])
    }

}

/// Streaks of days, counted in UTC days since 1970.
enum Streak {
    static func day(_ date: Date) -> Int {
        Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    static func compute(days: Set<Int>, today: Int) -> (current: Int, longest: Int) {
        var longest = 0
        for day in days where !days.contains(day - 1) {
            var length = 1
            while days.contains(day + length) { length += 1 }
            longest = max(longest, length)
        }
        var end = today
        if !days.contains(end) { end -= 1 }
        var current = 0
        while days.contains(end - current) { current += 1 }
        return (current, longest)
    }
}
