import Foundation
import GRDB
import NotebookCore

extension ProgressStore {
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
                """, arguments: [lesson, cell, parameter, source, StoredDate(now)])
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
                    """, arguments: [lesson, cell, name, sources[name], StoredDate(now)])
            }
        } != nil
    }

    /// The lesson's overrides in the order they were first set.
    public func overrides(lesson: String) -> [StoredOverride] {
        read([]) { db in
            try Row.fetchAll(db, sql: """
                SELECT cell, parameter, source, updated_at FROM override
                WHERE lesson = ? AND \(StoredValue.readable("override")) ORDER BY rowid
                """, arguments: [lesson]).compactMap { row in try skippingUnreadable { try Self.storedOverride(row) } }
        }
    }

    static func storedOverride(_ row: Row) throws -> StoredOverride {
        StoredOverride(cell: try row.decode(forColumn: "cell"), parameter: try row.decode(forColumn: "parameter"),
                       source: try row.decode(forColumn: "source"), updatedAt: try row.decode(StoredDate.self, forColumn: "updated_at").date)
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
}
