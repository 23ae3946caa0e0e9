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
    private let clock: @Sendable () -> Date
    private let lock = NSLock()
    private var reader: (any DatabaseReader)?
    private var writer: DatabasePool?
    private var pending: [String] = []
    private var warned: Set<String> = []

    private init(path: URL?, reader: (any DatabaseReader)?, writer: DatabasePool?,
                 clock: @escaping @Sendable () -> Date) {
        self.path = path
        self.reader = reader
        self.writer = writer
        self.clock = clock
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

    // MARK: Opening

    /// Opens (creating if needed) the database at `url`, recovering from what it can.
    ///
    /// `url` `nil` (no home directory) gives an `.off` store with a warning. The folder is
    /// created with mode 0700. The schema is migrated to the current version. Commands that
    /// only show progress pass `createIfMissing: false`: with no database yet they get an
    /// `.off` store and create nothing.
    public static func open(at url: URL?, createIfMissing: Bool = true,
                            clock: @escaping @Sendable () -> Date = { Date() }) -> Opened {
        if !createIfMissing, let url, !ProgressStoreLocation.exists(url.path) {
            return Opened(store: .off(clock: clock), warnings: [])
        }
        return open(at: url, clock: clock, options: Options())
    }

    static func open(at url: URL?, clock: @escaping @Sendable () -> Date, options: Options) -> Opened {
        guard let url else {
            return Opened(store: .off(clock: clock),
                          warnings: ["no home directory to keep progress in; progress is not being recorded (use --db PATH)"])
        }
        do {
            try ProgressStoreLocation.createFolder(for: url)
        } catch {
            return Opened(store: .off(clock: clock),
                          warnings: ["cannot create the progress folder (\(error)); progress is not being recorded"])
        }
        return ProgressStoreLocation.withFolderLock(for: url) {
            ProgressStoreLocation.createPrivateFile(url)
            var warnings: [String] = []
            switch attemptOpen(url, options: options) {
            case .success(let pool):
                return opened(url, reader: pool, writer: pool, clock: clock, warnings: warnings)
            case .failure(.corrupt(let detail)):
                let moved: URL
                do {
                    moved = try ProgressStoreLocation.moveAside(url, now: clock())
                } catch {
                    warnings.append("progress database \(url.path) is damaged (\(detail)) and could not be moved aside (\(error)); progress is not being recorded")
                    return Opened(store: .off(clock: clock), warnings: warnings)
                }
                warnings.append("progress database \(url.path) is damaged (\(detail)); moved it to \(moved.path) and started a fresh one")
                ProgressStoreLocation.createPrivateFile(url)
                switch attemptOpen(url, options: options) {
                case .success(let pool):
                    return opened(url, reader: pool, writer: pool, clock: clock, warnings: warnings)
                case .failure(let failure):
                    warnings.append("cannot start a fresh progress database at \(url.path) (\(failure.detail)); progress is not being recorded")
                    return Opened(store: .off(clock: clock), warnings: warnings)
                }
            case .failure(.unwritable(let detail)):
                let reader = openReadOnly(url, options: options)
                warnings.append("cannot write progress to \(url.path) (\(detail)); progress is not being recorded")
                return opened(url, reader: reader, writer: nil, clock: clock, warnings: warnings)
            case .failure(.foreign(let detail)):
                warnings.append("\(url.path) is not a derive progress database (\(detail)); progress is not being recorded (use --db PATH)")
                return Opened(store: .off(clock: clock), warnings: warnings)
            case .failure(.other(let detail)):
                warnings.append("cannot open progress database \(url.path) (\(detail)); progress is not being recorded")
                return Opened(store: .off(clock: clock), warnings: warnings)
            }
        }
    }

    /// The store over an opened database, warning when the database holds rows with values
    /// derive cannot read (see ``StoredValue``): those rows are left out, everything else shown
    /// and recorded as usual, and nothing is deleted.
    private static func opened(_ url: URL, reader: (any DatabaseReader)?, writer: DatabasePool?,
                               clock: @escaping @Sendable () -> Date, warnings: [String]) -> Opened {
        let store = ProgressStore(path: url, reader: reader, writer: writer, clock: clock)
        var warnings = warnings
        if let reader, let note = try? reader.read({ try StoredValue.unreadableRowsWarning($0, path: url.path) }) {
            warnings.append(note)
            // Reads that meet those rows need not say it again.
            store.lock.withLock { _ = store.warned.insert(unreadableKey) }
        }
        return Opened(store: store, warnings: warnings)
    }

    enum OpenFailure: Error {
        case corrupt(String)
        case unwritable(String)
        case foreign(String)
        case other(String)

        var detail: String {
            switch self {
            case .corrupt(let d), .unwritable(let d), .foreign(let d), .other(let d): d
            }
        }
    }

    static let applicationID: Int32 = 0x6472_7665 // "drve"

    private static func configuration(_ options: Options, readonly: Bool) -> Configuration {
        var config = Configuration()
        config.label = "derive.progress"
        config.readonly = readonly
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(options.busyTimeout)
        config.maximumReaderCount = 2
        if let pages = options.maxPageCount {
            config.prepareDatabase { db in try db.execute(sql: "PRAGMA max_page_count = \(pages)") }
        }
        return config
    }

    private static func attemptOpen(_ url: URL, options: Options) -> Result<DatabasePool, OpenFailure> {
        if let failure = precheck(url, options: options) {
            return .failure(failure)
        }
        do {
            let pool = try DatabasePool(path: url.path, configuration: configuration(options, readonly: false))
            try ProgressSchema.migrator.migrate(pool)
            return .success(pool)
        } catch let error as DatabaseError {
            return .failure(classify(error, url: url))
        } catch {
            return .failure(.other("\(error)"))
        }
    }

    /// Looks at an existing file through a read-only connection before anything writes to it:
    /// a writing connection would switch the journal mode of another program's database, and
    /// closing it would checkpoint a WAL into a damaged file or delete a WAL it cannot read,
    /// where the file must be moved aside untouched.
    private static func precheck(_ url: URL, options: Options) -> OpenFailure? {
        var info = stat()
        guard stat(url.path, &info) == 0, info.st_size > 0 else { return nil }
        do {
            let queue = try DatabaseQueue(path: url.path, configuration: configuration(options, readonly: true))
            return try queue.read { try check($0) }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT {
            return .corrupt(error.message ?? "\(error)")
        } catch {
            // Unreadable for another reason (permissions, locks): the writable open tells.
            return nil
        }
    }

    /// Catches damage SQLite only notices when it reads the broken page, and databases that
    /// belong to another program (which must not be moved aside, nor written to).
    private static func check(_ db: Database) throws -> OpenFailure? {
        let problems = try String.fetchAll(db, sql: "PRAGMA quick_check(5)")
        if problems != ["ok"] {
            return .corrupt(problems.joined(separator: "; "))
        }
        let appID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        if appID != 0 && appID != applicationID {
            return .foreign("application id \(appID)")
        }
        if appID == 0 {
            let tables = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                """)
            if !tables.isEmpty && !tables.contains("grdb_migrations") {
                return .foreign("it holds tables \(tables.prefix(3).joined(separator: ", "))")
            }
        }
        return nil
    }

    private static func classify(_ error: DatabaseError, url: URL) -> OpenFailure {
        let detail = error.message ?? "\(error)"
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return .corrupt(detail)
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH, .SQLITE_FULL, .SQLITE_IOERR:
            return .unwritable(detail)
        default:
            // GRDB reports a read-only file as "could not activate WAL Mode".
            if access(url.path, W_OK) != 0 || access(url.deletingLastPathComponent().path, W_OK) != 0 {
                return .unwritable(detail)
            }
            return .other(detail)
        }
    }

    /// A read-only view of what was recorded, when the location cannot be written.
    ///
    /// A WAL database needs its `-shm` file, which a read-only folder cannot get; then the file
    /// is opened as immutable (SQLite's `immutable=1`), which reads it without any lock or
    /// side file. That view misses runs still in a `-wal` file; it is only for showing progress.
    private static func openReadOnly(_ url: URL, options: Options) -> (any DatabaseReader)? {
        guard ProgressStoreLocation.exists(url.path) else { return nil }
        let escaped = url.path
            .replacingOccurrences(of: "%", with: "%25")
            .replacingOccurrences(of: "?", with: "%3f")
            .replacingOccurrences(of: "#", with: "%23")
        for path in [url.path, "file:\(escaped)?immutable=1"] {
            do {
                let queue = try DatabaseQueue(path: path, configuration: configuration(options, readonly: true))
                let usable = try queue.read { db in
                    try check(db) == nil && ProgressSchema.migrator.hasCompletedMigrations(db)
                }
                if usable { return queue }
            } catch {
                continue
            }
        }
        return nil
    }

    // MARK: Access

    /// Queues `message` unless it, or another message with the same `key`, was given before.
    func warn(_ message: String, key: String? = nil) {
        lock.withLock {
            if warned.insert(key ?? message).inserted { pending.append(message) }
        }
    }

    private static let unreadableKey = "unreadable rows"

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
        guard let pool = lock.withLock({ writer }) else { return nil }
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try pool.write(body)
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
                       arguments: [lesson, at])
    }

    // MARK: Runs and completion

    /// Records one cell run. With `lessonCells` (the lesson's current cell ids) it also records
    /// the lesson as completed the first time every one of them has run successfully.
    @discardableResult
    public func recordRun(_ run: CellRunRecord, lessonCells: [String]? = nil) -> RecordOutcome {
        recordRuns([run], lessonCells: lessonCells)
    }

    /// Records several runs in one transaction (a batch `derive run`). `lessonCells` applies to
    /// every lesson the runs belong to only when they all belong to one lesson.
    @discardableResult
    public func recordRuns(_ runs: [CellRunRecord], lessonCells: [String]? = nil) -> RecordOutcome {
        guard !runs.isEmpty else { return RecordOutcome(recorded: mode == .recording, completedLesson: false) }
        let lessons = Set(runs.map(\.lesson))
        let what = runs.count == 1 ? "the run of \(runs[0].lesson).\(runs[0].cell)" : "\(runs.count) cell runs"
        let completed = write(what) { db -> Bool in
            for run in runs {
                try Self.ensureLesson(db, run.lesson, at: run.startedAt)
                let end = run.startedAt.addingTimeInterval(Double(run.durationMicroseconds) / 1e6)
                try db.execute(sql: """
                    INSERT INTO run (lesson, cell, parameters, started_at, duration_us, ok, error)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [run.lesson, run.cell, run.parametersJSON, run.startedAt,
                                     run.durationMicroseconds, run.ok, run.error])
                try Sittings.note(db, lesson: run.lesson, from: run.startedAt, to: end)
            }
            // Only a successful run can complete a lesson.
            guard let cells = lessonCells, lessons.count == 1, let lesson = lessons.first,
                  runs.contains(where: \.ok) else { return false }
            let at = runs.map { $0.startedAt.addingTimeInterval(Double($0.durationMicroseconds) / 1e6) }.max()!
            return try Self.completeIfDone(db, lesson: lesson, cells: cells, at: at)
        }
        return RecordOutcome(recorded: completed != nil, completedLesson: completed ?? false)
    }

    private static func completeIfDone(_ db: Database, lesson: String, cells: [String], at: Date) throws -> Bool {
        let wanted = Set(cells)
        guard !wanted.isEmpty else { return false }
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM completion WHERE lesson = ?", arguments: [lesson]) != nil {
            return false
        }
        // One index seek per cell, so the cost does not grow with the number of runs.
        for cell in wanted {
            let ran = try Bool.fetchOne(db, sql: "SELECT 1 FROM run WHERE lesson = ? AND ok = 1 AND cell = ? LIMIT 1",
                                        arguments: [lesson, cell]) != nil
            if !ran { return false }
        }
        try db.execute(sql: "INSERT INTO completion (lesson, completed_at) VALUES (?, ?)", arguments: [lesson, at])
        return true
    }

    /// Records the lesson as completed at `at` unless it already is; returns whether it wrote.
    @discardableResult
    public func markCompleted(lesson: String, at: Date? = nil) -> Bool {
        let at = at ?? clock()
        return write("the completion of \(lesson)") { db -> Bool in
            try Self.ensureLesson(db, lesson, at: at)
            try db.execute(sql: "INSERT OR IGNORE INTO completion (lesson, completed_at) VALUES (?, ?)",
                           arguments: [lesson, at])
            return db.changesCount > 0
        } ?? false
    }

    /// When the lesson was first recorded as completed.
    public func completedAt(lesson: String) -> Date? {
        read(nil) { db in
            try Date.fetchOne(db, sql: """
                SELECT completed_at FROM completion WHERE lesson = ? AND \(StoredValue.readable("completion"))
                """, arguments: [lesson])
        }
    }

    /// Per cell of the lesson: how often it ran and how the last run went. Cells that are no
    /// longer in the lesson may appear; callers look up only the cells they have.
    public func cellHistory(lesson: String) -> [String: CellHistory] {
        read([:]) { db in
            // The last run is the latest one whose time can be read; a cell with none is left out.
            let rows = try Row.fetchAll(db, sql: """
                SELECT cell, COUNT(*) AS runs, SUM(ok = 1) AS ok_runs,
                       MAX(CASE WHEN \(StoredValue.date("started_at")) THEN id END) AS last_id
                FROM run WHERE lesson = ? GROUP BY cell
                """, arguments: [lesson])
            var result: [String: CellHistory] = [:]
            for row in rows {
                guard let lastID = try skippingUnreadable({ try row.decode(Int64?.self, forColumn: "last_id") }) ?? nil,
                      let last = try Row.fetchOne(db, sql: "SELECT started_at, ok = 1 AS ok FROM run WHERE id = ?",
                                                  arguments: [lastID]) else { continue }
                try skippingUnreadable {
                    let cell = try row.decode(String.self, forColumn: "cell")
                    result[cell] = CellHistory(cell: cell, runs: try row.decode(forColumn: "runs"),
                                               okRuns: try row.decode(forColumn: "ok_runs"),
                                               lastRunAt: try last.decode(forColumn: "started_at"),
                                               lastRunOK: try last.decode(forColumn: "ok"))
                }
            }
            return result
        }
    }

    /// Every recorded run of a lesson (or of all lessons), oldest first.
    public func runs(lesson: String? = nil) -> [CellRunRecord] {
        read([]) { db in
            let sql = """
                SELECT lesson, cell, parameters, started_at, duration_us, error FROM run
                WHERE \(StoredValue.readable("run"))
                """
            let rows = if let lesson {
                try Row.fetchAll(db, sql: sql + " AND lesson = ? ORDER BY id", arguments: [lesson])
            } else {
                try Row.fetchAll(db, sql: sql + " ORDER BY id")
            }
            return try rows.compactMap { row in
                try skippingUnreadable {
                    CellRunRecord(lesson: try row.decode(forColumn: "lesson"), cell: try row.decode(forColumn: "cell"),
                                  parametersJSON: try row.decode(forColumn: "parameters"),
                                  startedAt: try row.decode(forColumn: "started_at"),
                                  durationMicroseconds: try row.decode(forColumn: "duration_us"),
                                  error: try row.decode(forColumn: "error"))
                }
            }
        }
    }

    // MARK: Position

    /// Remembers where the learner is in a lesson (the focused cell and the scroll offset).
    /// Each call also counts as activity for time spent.
    @discardableResult
    public func setPosition(lesson: String, cell: String?, scroll: Int) -> Bool {
        let now = clock()
        return write("the position in \(lesson)") { db -> Void in
            try Self.ensureLesson(db, lesson, at: now)
            try db.execute(sql: """
                INSERT INTO position (lesson, cell, scroll, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (lesson) DO UPDATE SET cell = excluded.cell, scroll = excluded.scroll,
                    updated_at = excluded.updated_at
                """, arguments: [lesson, cell, scroll, now])
            try Sittings.note(db, lesson: lesson, from: now, to: now)
        } != nil
    }

    /// The last position in a lesson.
    public func position(lesson: String) -> LessonPosition? {
        read(nil) { db in
            try Row.fetchOne(db, sql: """
                SELECT * FROM position WHERE lesson = ? AND \(StoredValue.readable("position"))
                """, arguments: [lesson])
                .flatMap { row in try skippingUnreadable { try Self.position(row) } }
        }
    }

    /// The most recent position, among `lessons` when given (lessons that still exist), so
    /// `derive` can resume where the learner left off.
    public func lastPosition(among lessons: Set<String>? = nil) -> LessonPosition? {
        read(nil) { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT * FROM position WHERE \(StoredValue.readable("position")) ORDER BY updated_at DESC, rowid DESC
                """)
            while let row = try rows.next() {
                guard let position = try skippingUnreadable({ try Self.position(row) }) else { continue }
                if lessons?.contains(position.lesson) ?? true { return position }
            }
            return nil
        }
    }

    /// The lesson of ``lastPosition(among:)``.
    public func lastLesson(among lessons: Set<String>? = nil) -> String? {
        lastPosition(among: lessons)?.lesson
    }

    private static func position(_ row: Row) throws -> LessonPosition {
        LessonPosition(lesson: try row.decode(forColumn: "lesson"), cell: try row.decode(forColumn: "cell"),
                       scroll: try row.decode(forColumn: "scroll"), updatedAt: try row.decode(forColumn: "updated_at"))
    }

    // MARK: Overrides

    /// Keeps a parameter the learner changed, as lesson-file source text, until reset.
    @discardableResult
    public func setOverride(lesson: String, cell: String, parameter: String, source: String) -> Bool {
        let now = clock()
        return write("the new value of \(cell).\(parameter)") { db -> Void in
            try Self.ensureLesson(db, lesson, at: now)
            try db.execute(sql: """
                INSERT INTO override (lesson, cell, parameter, source, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (lesson, cell, parameter) DO UPDATE SET source = excluded.source,
                    updated_at = excluded.updated_at
                """, arguments: [lesson, cell, parameter, source, now])
        } != nil
    }

    /// Makes `sources` (parameter name to source text) the cell's overrides, in one
    /// transaction: the cell's other overrides are forgotten, the kept ones keep their place in
    /// the order, new ones follow in name order. An empty `sources` forgets them all.
    @discardableResult
    public func replaceOverrides(lesson: String, cell: String, sources: [String: String]) -> Bool {
        let now = clock()
        return write("the values of \(cell)") { db -> Void in
            let names = sources.keys.sorted()
            let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
            try db.execute(sql: "DELETE FROM override WHERE lesson = ? AND cell = ? AND parameter NOT IN (\(placeholders))",
                           arguments: StatementArguments([lesson, cell] + names))
            guard !names.isEmpty else { return }
            try Self.ensureLesson(db, lesson, at: now)
            for name in names {
                try db.execute(sql: """
                    INSERT INTO override (lesson, cell, parameter, source, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (lesson, cell, parameter) DO UPDATE SET source = excluded.source,
                        updated_at = excluded.updated_at
                    """, arguments: [lesson, cell, name, sources[name], now])
            }
        } != nil
    }

    /// The lesson's overrides in the order they were first set.
    public func overrides(lesson: String) -> [StoredOverride] {
        read([]) { db in
            try Row.fetchAll(db, sql: """
                SELECT cell, parameter, source, updated_at FROM override
                WHERE lesson = ? AND \(StoredValue.readable("override")) ORDER BY rowid
                """, arguments: [lesson]).compactMap { row in
                try skippingUnreadable {
                    StoredOverride(cell: try row.decode(forColumn: "cell"), parameter: try row.decode(forColumn: "parameter"),
                                   source: try row.decode(forColumn: "source"),
                                   updatedAt: try row.decode(forColumn: "updated_at"))
                }
            }
        }
    }

    /// Forgets the overrides of one cell (`u` in the TUI), or of the whole lesson.
    @discardableResult
    public func clearOverrides(lesson: String, cell: String? = nil) -> Bool {
        write("the reset of \(cell.map { "\(lesson).\($0)" } ?? lesson)") { db -> Void in
            if let cell {
                try db.execute(sql: "DELETE FROM override WHERE lesson = ? AND cell = ?", arguments: [lesson, cell])
            } else {
                try db.execute(sql: "DELETE FROM override WHERE lesson = ?", arguments: [lesson])
            }
        } != nil
    }

    /// Forgets one override (one that no longer applies to the lesson).
    @discardableResult
    public func removeOverride(lesson: String, cell: String, parameter: String) -> Bool {
        write("the removal of \(cell).\(parameter)") { db -> Void in
            try db.execute(sql: "DELETE FROM override WHERE lesson = ? AND cell = ? AND parameter = ?",
                           arguments: [lesson, cell, parameter])
        } != nil
    }

    // MARK: Reset

    /// Clears everything recorded for one lesson, or for all when `lesson` is `nil`: runs,
    /// position, completion, overrides, answers and time spent.
    @discardableResult
    public func reset(lesson: String?) -> Bool {
        write("the reset of \(lesson ?? "all progress")") { db -> Void in
            // Every table references `lesson` with ON DELETE CASCADE.
            if let lesson {
                try db.execute(sql: "DELETE FROM lesson WHERE id = ?", arguments: [lesson])
            } else {
                try db.execute(sql: "DELETE FROM lesson")
            }
        } != nil
    }

    /// Whether anything is recorded for the lesson.
    public func hasProgress(lesson: String) -> Bool {
        read(false) { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM lesson WHERE id = ?", arguments: [lesson]) != nil
        }
    }

    // MARK: Summary

    /// Progress per lesson, in the order given. Runs of cells no longer in a lesson count in
    /// `runs` and time spent (they happened) but not in `cellsRun` or `done`.
    public func summary(for lessons: [LessonOutline]) -> ProgressSummary {
        let today = clock()
        let empty = ProgressSummary(lessons: lessons.map { .init(outline: $0) }, streakDays: 0, longestStreakDays: 0)
        return read(empty) { db in
            var runCounts: [String: Int] = [:]
            // Each query leaves out the rows whose values it needs cannot be read: a run whose
            // time is unreadable still counts as a run, but not as the first success of its cell.
            for row in try Row.fetchAll(db, sql: "SELECT lesson, COUNT(*) AS n FROM run GROUP BY lesson") {
                try skippingUnreadable {
                    runCounts[try row.decode(String.self, forColumn: "lesson")] = try row.decode(Int.self, forColumn: "n")
                }
            }
            var firstOK: [String: [String: Date]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT lesson, cell, MIN(started_at) AS first FROM run
                WHERE ok = 1 AND \(StoredValue.date("started_at")) GROUP BY lesson, cell
                """) {
                try skippingUnreadable {
                    firstOK[try row.decode(String.self, forColumn: "lesson"), default: [:]][try row.decode(String.self, forColumn: "cell")] =
                        try row.decode(Date.self, forColumn: "first")
                }
            }
            var spent: [String: Double] = [:]
            var lastVisit: [String: Date] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT lesson, SUM((julianday(last_active_at) - julianday(started_at)) * 86400.0) AS seconds,
                       MAX(last_active_at) AS last
                FROM sitting WHERE \(StoredValue.readable("sitting")) GROUP BY lesson
                """) {
                try skippingUnreadable {
                    let lesson = try row.decode(String.self, forColumn: "lesson")
                    spent[lesson] = try row.decode(Double.self, forColumn: "seconds")
                    lastVisit[lesson] = try row.decode(Date.self, forColumn: "last")
                }
            }
            var completions: [String: Date] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT lesson, completed_at FROM completion WHERE \(StoredValue.readable("completion"))
                """) {
                try skippingUnreadable {
                    completions[try row.decode(String.self, forColumn: "lesson")] = try row.decode(Date.self, forColumn: "completed_at")
                }
            }
            let answers = try Self.answerStates(db, skipping: skippingUnreadable)
            let progress = lessons.map { outline -> LessonProgress in
                let okCells = firstOK[outline.id] ?? [:]
                let current = Set(outline.cellIDs)
                let runCells = current.filter { okCells[$0] != nil }
                let done = !current.isEmpty && runCells.count == current.count
                var item = LessonProgress(outline: outline)
                item.cellsRun = runCells.count
                item.runs = runCounts[outline.id] ?? 0
                item.done = done
                item.lastVisited = lastVisit[outline.id]
                item.secondsSpent = Int((spent[outline.id] ?? 0).rounded())
                item.completedAt = done ? (completions[outline.id] ?? runCells.compactMap { okCells[$0] }.max()) : nil
                let states = Set(outline.questionIDs).compactMap { answers[outline.id]?[$0] }
                item.answered = states.filter(\.isSettled).count
                item.rightFirstTry = states.filter(\.rightFirstTry).count
                return item
            }
            let days = try activeDays(db)
            let streaks = Streak.compute(days: days, today: Streak.day(today))
            return ProgressSummary(lessons: progress, streakDays: streaks.current, longestStreakDays: streaks.longest)
        }
    }

    /// Consecutive UTC days with activity ending today, or yesterday when nothing happened yet
    /// today (a streak is not broken before the day is over).
    public func streakDays() -> Int {
        let today = Streak.day(clock())
        return read(0) { db in Streak.compute(days: try activeDays(db), today: today).current }
    }

    private func activeDays(_ db: Database) throws -> Set<Int> {
        var days: Set<Int> = []
        let rows = try Row.fetchCursor(db, sql: """
            SELECT started_at, last_active_at FROM sitting WHERE \(StoredValue.readable("sitting"))
            """)
        while let row = try rows.next() {
            guard let (first, last) = try skippingUnreadable({
                (Streak.day(try row.decode(Date.self, forColumn: "started_at")),
                 Streak.day(try row.decode(Date.self, forColumn: "last_active_at")))
            }), first <= last else { continue }
            // A sitting is at most a few hours in practice; the cap guards against a clock gone wild.
            for day in first...min(last, first + 366) { days.insert(day) }
        }
        return days
    }

    // MARK: Maintenance

    /// Runs `body` on the writing connection outside any transaction (tests inspect pragmas).
    func inspectWriter<T>(_ body: (Database) throws -> T) throws -> T? {
        guard let pool = lock.withLock({ writer }) else { return nil }
        return try pool.writeWithoutTransaction(body)
    }

    /// `PRAGMA integrity_check` output (`["ok"]` when healthy), for tests and diagnostics.
    func integrityCheck() -> [String] {
        read(["unreadable"]) { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
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
