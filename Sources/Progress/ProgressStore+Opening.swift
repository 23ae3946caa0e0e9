import Foundation
import GRDB
import NotebookCore

extension ProgressStore {
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
            case .success(let database):
                return opened(url, reader: database, writer: database, clock: clock, warnings: warnings)
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
                case .success(let database):
                    return opened(url, reader: database, writer: database, clock: clock, warnings: warnings)
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
    private static func opened(_ url: URL, reader: (any DatabaseReader)?, writer: DatabaseQueue?,
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
        // One connection, in WAL mode: derive reads and writes from one thread at a time, and
        // a pool's separate reader connection cost a second open at every start. Other
        // processes still read while this one writes. Set here rather than through GRDB's
        // `journalMode = .wal`, which also writes a table and drops it at every open (so that
        // a pool's readers find a WAL file), a write each start that one connection never needs.
        if !readonly {
            config.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
        }
        if let pages = options.maxPageCount {
            config.prepareDatabase { db in try db.execute(sql: "PRAGMA max_page_count = \(pages)") }
        }
        return config
    }

    private static func attemptOpen(_ url: URL, options: Options) -> Result<DatabaseQueue, OpenFailure> {
        if let failure = precheck(url, options: options) {
            return .failure(failure)
        }
        do {
            let database = try DatabaseQueue(path: url.path, configuration: configuration(options, readonly: false))
            try ProgressSchema.migrator.migrate(database)
            return .success(database)
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
        let intact = IntegrityStamp.isIntact(url)
        // From here on this session may write: a crash in it must lead to the full check.
        IntegrityStamp.remove(for: url)
        do {
            return try check(ReadOnlyConnection(path: url.path, busyTimeout: options.busyTimeout), everyPage: !intact)
        } catch let error as SQLiteFailure where error.isCorruption {
            return .corrupt(error.message)
        } catch {
            // Unreadable for another reason (permissions, locks): the writable open tells.
            return nil
        }
    }

    /// Catches damage SQLite only notices when it reads the broken page (`everyPage`: skipped
    /// for a file exactly as derive last closed it, see ``IntegrityStamp``), and databases that
    /// belong to another program (which must not be moved aside, nor written to).
    private static func check(_ db: some SchemaInspecting, everyPage: Bool = true) throws -> OpenFailure? {
        if everyPage {
            let problems = try db.strings("PRAGMA quick_check(5)")
            if problems != ["ok"] {
                return .corrupt(problems.joined(separator: "; "))
            }
        }
        let appID = try db.integer("PRAGMA application_id")
        if appID != 0 && appID != Int64(applicationID) {
            return .foreign("application id \(appID)")
        }
        if appID == 0 {
            let tables = try db.strings("""
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
}
