import Foundation
import GRDB

/// The progress database schema, built by versioned migrations.
///
/// A migration, once released, is never edited: a change to the schema is a new migration
/// appended here, so a database made by any earlier derive upgrades in place.
enum ProgressSchema {
    /// The longest pause between two activity events that still counts as one sitting.
    static let sittingGap: TimeInterval = 5 * 60

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()

        // v1: runs, positions, completion, overrides. Every row belongs to a lesson row, so
        // `derive progress --reset LESSON` is one DELETE that cascades.
        migrator.registerMigration("v1") { db in
            // Marks the file as ours, so a database of another program is never written to.
            try db.execute(sql: "PRAGMA application_id = \(ProgressStore.applicationID)")
            try db.execute(sql: """
                CREATE TABLE lesson (
                    id TEXT PRIMARY KEY NOT NULL,
                    first_seen_at TEXT NOT NULL
                );
                CREATE TABLE run (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    lesson TEXT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
                    cell TEXT NOT NULL,
                    parameters TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    duration_us INTEGER NOT NULL,
                    ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
                    error TEXT,
                    CHECK ((ok = 1) = (error IS NULL))
                );
                -- Covers the summary's first success per cell and the completion check.
                CREATE INDEX run_by_lesson_cell ON run(lesson, ok, cell, started_at);
                CREATE TABLE position (
                    lesson TEXT PRIMARY KEY NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
                    cell TEXT,
                    scroll INTEGER NOT NULL DEFAULT 0,
                    updated_at TEXT NOT NULL
                );
                CREATE INDEX position_by_time ON position(updated_at);
                CREATE TABLE completion (
                    lesson TEXT PRIMARY KEY NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
                    completed_at TEXT NOT NULL
                );
                CREATE TABLE override (
                    lesson TEXT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
                    cell TEXT NOT NULL,
                    parameter TEXT NOT NULL,
                    source TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    PRIMARY KEY (lesson, cell, parameter)
                );
                """)
        }

        // v2: sittings, for time spent, last visit and streaks. One row per stretch of activity
        // in a lesson with no pause longer than `sittingGap`; filled from the runs recorded
        // under v1 so an upgraded database reports the time already spent.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE sitting (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    lesson TEXT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
                    started_at TEXT NOT NULL,
                    last_active_at TEXT NOT NULL,
                    CHECK (last_active_at >= started_at)
                );
                CREATE INDEX sitting_by_lesson ON sitting(lesson, last_active_at);
                CREATE INDEX sitting_by_time ON sitting(last_active_at);
                """)
            let rows = try Row.fetchCursor(db, sql: """
                SELECT lesson, started_at, duration_us FROM run ORDER BY lesson, started_at
                """)
            var events: [(lesson: String, start: Date, end: Date)] = []
            while let row = try rows.next() {
                let start: Date = row["started_at"]
                let micros: Int64 = row["duration_us"]
                events.append((row["lesson"], start, start.addingTimeInterval(Double(micros) / 1e6)))
            }
            // Position updates under v1 kept only the last one; it is one more event.
            for row in try Row.fetchAll(db, sql: "SELECT lesson, updated_at FROM position") {
                let at: Date = row["updated_at"]
                events.append((row["lesson"], at, at))
            }
            events.sort { ($0.lesson, $0.start) < ($1.lesson, $1.start) }
            for event in events {
                try Sittings.note(db, lesson: event.lesson, from: event.start, to: event.end)
            }
        }
        return migrator
    }()
}

/// Sittings: stretches of activity in one lesson.
enum Sittings {
    /// Extends the lesson's latest sitting to cover `[start, end]` when it began no more than
    /// `ProgressSchema.sittingGap` after that sitting's last activity; otherwise opens a new one.
    static func note(_ db: Database, lesson: String, from start: Date, to end: Date) throws {
        let end = max(start, end)
        if let row = try Row.fetchOne(db, sql: """
            SELECT id, started_at, last_active_at FROM sitting
            WHERE lesson = ? ORDER BY last_active_at DESC LIMIT 1
            """, arguments: [lesson]) {
            let id: Int64 = row["id"]
            let sittingStart: Date = row["started_at"]
            let lastActive: Date = row["last_active_at"]
            // Events from two processes can arrive slightly out of order: an event inside or
            // just around the sitting belongs to it.
            if start <= lastActive.addingTimeInterval(ProgressSchema.sittingGap),
               end >= sittingStart.addingTimeInterval(-ProgressSchema.sittingGap) {
                try db.execute(
                    sql: "UPDATE sitting SET started_at = ?, last_active_at = ? WHERE id = ?",
                    arguments: [min(sittingStart, start), max(lastActive, end), id])
                return
            }
        }
        try db.execute(
            sql: "INSERT INTO sitting (lesson, started_at, last_active_at) VALUES (?, ?, ?)",
            arguments: [lesson, start, end])
    }
}
