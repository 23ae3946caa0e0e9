import Foundation
import GRDB
import NotebookCore

extension ProgressStore {
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
                """, arguments: [lesson, cell, scroll, StoredDate(now)])
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

    /// A glance at the database at `url` before it is opened: the lessons last sat in, most
    /// recent first (at most `limit`). Bare `derive` resumes the first of them that still
    /// exists, which ``lastLesson(among:)`` says once the store is open; with this guess the
    /// notebook parses that lesson meanwhile. Empty when there is no database, it cannot be
    /// read at once (locked, damaged, foreign), or it holds no position; it creates nothing.
    public static func recentLessons(at url: URL?, limit: Int = 20) -> [String] {
        guard let url, ProgressStoreLocation.exists(url.path),
              let connection = try? ReadOnlyConnection(path: url.path, busyTimeout: 0) else { return [] }
        let recent = try? connection.strings("""
            SELECT lesson FROM position WHERE \(StoredValue.readable("position")) AND typeof(lesson) = 'text'
            ORDER BY updated_at DESC, rowid DESC LIMIT \(max(0, limit))
            """)
        return recent ?? []
    }

    /// The lesson of ``lastPosition(among:)``.
    public func lastLesson(among lessons: Set<String>? = nil) -> String? {
        lastPosition(among: lessons)?.lesson
    }

    static func position(_ row: Row) throws -> LessonPosition {
        LessonPosition(lesson: try row.decode(forColumn: "lesson"), cell: try row.decode(forColumn: "cell"),
                       scroll: try row.decode(forColumn: "scroll"), updatedAt: try row.decode(StoredDate.self, forColumn: "updated_at").date)
    }
}
