import Foundation
import GRDB
import GRDBSQLite

/// What the checks at opening ask of a database: text rows and an integer. GRDB's
/// `Database` answers, and so does ``ReadOnlyConnection``, which opens a file for a look
/// before GRDB is let near it.
protocol SchemaInspecting {
    /// The first column of every row.
    func strings(_ sql: String) throws -> [String]
    /// The first column of the first row, 0 without one.
    func integer(_ sql: String) throws -> Int64
}

extension Database: SchemaInspecting {
    func strings(_ sql: String) throws -> [String] { try String.fetchAll(self, sql: sql) }
    func integer(_ sql: String) throws -> Int64 { try Int64.fetchOne(self, sql: sql) ?? 0 }
}

/// A failure of SQLite's C API: its primary result code and message.
struct SQLiteFailure: Error, CustomStringConvertible {
    var code: Int32
    var message: String
    var description: String { message }

    var isCorruption: Bool { code == SQLITE_NOTADB || code == SQLITE_CORRUPT }
}

/// A read-only connection through SQLite's C API, closed when released. The look at a file
/// before opening it could be a GRDB queue, but making and dropping one (its serial queue,
/// its observers in Foundation's notification centre) took longer than the look itself, on
/// every start of the notebook.
final class ReadOnlyConnection: SchemaInspecting {
    private var handle: OpaquePointer?

    init(path: String, busyTimeout: TimeInterval) throws(SQLiteFailure) {
        let status = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY, nil)
        guard status == SQLITE_OK else {
            let failure = SQLiteFailure(code: status & 0xFF, message: Self.message(handle, status))
            sqlite3_close_v2(handle)
            throw failure
        }
        sqlite3_busy_timeout(handle, Int32(min(busyTimeout * 1000, Double(Int32.max))))
    }

    deinit { sqlite3_close_v2(handle) }

    func strings(_ sql: String) throws -> [String] {
        var rows: [String] = []
        try each(sql) { statement in
            rows.append(sqlite3_column_text(statement, 0).map { String(cString: $0) } ?? "")
        }
        return rows
    }

    func integer(_ sql: String) throws -> Int64 {
        var value: Int64 = 0
        var first = true
        try each(sql) { statement in
            if first { value = sqlite3_column_int64(statement, 0) }
            first = false
        }
        return value
    }

    private func each(_ sql: String, _ row: (OpaquePointer) -> Void) throws(SQLiteFailure) {
        var statement: OpaquePointer?
        defer { sqlite3_finalize(statement) }
        var status = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard status == SQLITE_OK, let statement else { throw failure(status) }
        while true {
            status = sqlite3_step(statement)
            if status == SQLITE_ROW { row(statement); continue }
            guard status == SQLITE_DONE else { throw failure(status) }
            return
        }
    }

    private func failure(_ status: Int32) -> SQLiteFailure {
        SQLiteFailure(code: status & 0xFF, message: Self.message(handle, status))
    }

    private static func message(_ handle: OpaquePointer?, _ status: Int32) -> String {
        handle.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(status))
    }
}
