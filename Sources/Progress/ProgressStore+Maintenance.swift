import Foundation
import GRDB
import NotebookCore

extension ProgressStore {
    // MARK: Maintenance

    /// Runs `body` on the writing connection outside any transaction (tests inspect pragmas).
    func inspectWriter<T>(_ body: (Database) throws -> T) throws -> T? {
        guard let database = lock.withLock({ writer }) else { return nil }
        return try database.writeWithoutTransaction(body)
    }

    /// `PRAGMA integrity_check` output (`["ok"]` when healthy), for tests and diagnostics.
    func integrityCheck() -> [String] {
        read(["unreadable"]) { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }
}
