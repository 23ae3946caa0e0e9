import Foundation
import NotebookCore
import GRDB

/// The progress database schema, built by versioned migrations.
///
/// A migration, once released, is never edited: a change to the schema is a new migration
/// appended here, in SQL, so a database made by any earlier derive upgrades in place. A
/// migration calls no application code (GRDB's migration guide): what one needs is copied
/// into it, frozen, as ``FrozenV2`` is for v2.
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
            // Rows holding a value derive cannot read add no time: as everywhere else, they are
            // left out rather than stopping the upgrade.
            let rows = try Row.fetchCursor(db, sql: """
                SELECT lesson, started_at, duration_us FROM run
                WHERE \(FrozenV2.date("started_at")) AND typeof(duration_us) = 'integer'
                ORDER BY lesson, started_at
                """)
            var events: [(lesson: String, start: Date, end: Date)] = []
            while let row = try rows.next() {
                guard let lesson = try? row.decode(String.self, forColumn: "lesson"),
                      let start = try? row.decode(StoredDate.self, forColumn: "started_at").date,
                      let micros = try? row.decode(Int64.self, forColumn: "duration_us") else { continue }
                events.append((lesson, start, start.addingTimeInterval(Double(micros) / 1e6)))
            }
            // Position updates under v1 kept only the last one; it is one more event.
            for row in try Row.fetchAll(db, sql: """
                SELECT lesson, updated_at FROM position WHERE \(FrozenV2.date("updated_at"))
                """) {
                guard let lesson = try? row.decode(String.self, forColumn: "lesson"),
                      let at = try? row.decode(StoredDate.self, forColumn: "updated_at").date else { continue }
                events.append((lesson, at, at))
            }
            events.sort { ($0.lesson, $0.start) < ($1.lesson, $1.start) }
            for event in events {
                try FrozenV2.noteSitting(db, lesson: event.lesson, from: event.start, to: event.end)
            }
        }
        // v3: answers to questions, one row per attempt or reveal.
        migrator.registerMigration("v3") { db in
            try db.execute(sql: """
                CREATE TABLE answer (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    lesson TEXT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
                    question TEXT NOT NULL,
                    typed TEXT NOT NULL,
                    correct INTEGER NOT NULL CHECK (correct IN (0, 1)),
                    attempt INTEGER NOT NULL CHECK (attempt >= 0),
                    revealed INTEGER NOT NULL CHECK (revealed IN (0, 1)),
                    answered_at TEXT NOT NULL
                );
                CREATE INDEX answer_by_lesson ON answer(lesson, question, id);
                """)
        }
        // v4: an index of the runs holding a value derive cannot read, empty in a healthy
        // database, so that looking for them at every start no longer scans every run ever
        // recorded (with a hundred thousand runs, 260 ms at each start).
        migrator.registerMigration("v4") { db in
            try db.execute(sql: "CREATE INDEX run_unreadable ON run(lesson) WHERE NOT (\(FrozenV4.runReadable))")
        }
        // v5: the number of runs of each lesson, kept by triggers, where counting them read
        // every run at each start. No foreign key: a dangling lesson (another program's write
        // with the checks off) must not stop the upgrade; a lesson's reset deletes its runs,
        // which brings its count to 0.
        migrator.registerMigration("v5") { db in
            try db.execute(sql: """
                CREATE TABLE run_count (
                    lesson TEXT PRIMARY KEY NOT NULL,
                    runs INTEGER NOT NULL
                );
                INSERT INTO run_count (lesson, runs) SELECT lesson, COUNT(*) FROM run GROUP BY lesson;
                CREATE TRIGGER run_counted AFTER INSERT ON run BEGIN
                    INSERT INTO run_count (lesson, runs) VALUES (NEW.lesson, 1)
                    ON CONFLICT (lesson) DO UPDATE SET runs = runs + 1;
                END;
                CREATE TRIGGER run_uncounted AFTER DELETE ON run BEGIN
                    UPDATE run_count SET runs = runs - 1 WHERE lesson = OLD.lesson;
                END;
                CREATE TRIGGER run_moved AFTER UPDATE OF lesson ON run WHEN OLD.lesson IS NOT NEW.lesson BEGIN
                    UPDATE run_count SET runs = runs - 1 WHERE lesson = OLD.lesson;
                    INSERT INTO run_count (lesson, runs) VALUES (NEW.lesson, 1)
                    ON CONFLICT (lesson) DO UPDATE SET runs = runs + 1;
                END;
                """)
        }
        return migrator
    }()
}

/// What migration v2 needs of the application code as it was when v2 was released, copied
/// so that later changes to ``Sittings`` or ``StoredValue`` cannot change what v2 does.
/// Never edit: a change belongs in a new migration.
private enum FrozenV2 {
    static func date(_ column: String) -> String {
        """
        (typeof(\(column)) = 'text' \
        AND \(column) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]' \
        AND julianday(\(column)) IS NOT NULL)
        """
    }

    static func noteSitting(_ db: Database, lesson: String, from start: Date, to end: Date) throws {
        let gap: TimeInterval = 300
        let end = max(start, end)
        if let row = try Row.fetchOne(db, sql: """
            SELECT id, started_at, last_active_at FROM sitting
            WHERE lesson = ? AND \(date("started_at")) AND \(date("last_active_at"))
            ORDER BY last_active_at DESC LIMIT 1
            """, arguments: [lesson]),
           let id = try? row.decode(Int64.self, forColumn: "id"),
           let sittingStart = try? row.decode(StoredDate.self, forColumn: "started_at").date,
           let lastActive = try? row.decode(StoredDate.self, forColumn: "last_active_at").date,
           start <= lastActive.addingTimeInterval(gap), end >= sittingStart.addingTimeInterval(-gap) {
            try db.execute(sql: "UPDATE sitting SET started_at = ?, last_active_at = ? WHERE id = ?",
                           arguments: [StoredDate(min(sittingStart, start)), StoredDate(max(lastActive, end)), id])
            return
        }
        try db.execute(sql: "INSERT INTO sitting (lesson, started_at, last_active_at) VALUES (?, ?, ?)",
                       arguments: [lesson, StoredDate(start), StoredDate(end)])
    }
}

/// What migration v4 indexes, as it was when v4 was released. Never edit: the queries that use
/// the index write ``StoredValue/readable(_:)`` for `run`, which a test checks is this text;
/// when the conditions change, a new migration rebuilds the index.
enum FrozenV4 {
    static let runReadable = """
        (typeof(started_at) = 'text' \
        AND started_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]' \
        AND julianday(started_at) IS NOT NULL) AND (typeof(duration_us) = 'integer') AND (ok IN (0, 1) AND typeof(ok) = 'integer')
        """
}

/// Sittings: stretches of activity in one lesson.
enum Sittings {
    /// Extends the lesson's latest sitting to cover `[start, end]` when it began no more than
    /// `ProgressSchema.sittingGap` after that sitting's last activity; otherwise opens a new one.
    static func note(_ db: Database, lesson: String, from start: Date, to end: Date) throws {
        let end = max(start, end)
        // A sitting holding a value derive cannot read is passed over: the event starts a new one.
        if let row = try Row.fetchOne(db, sql: """
            SELECT id, started_at, last_active_at FROM sitting
            WHERE lesson = ? AND \(StoredValue.date("started_at")) AND \(StoredValue.date("last_active_at"))
            ORDER BY last_active_at DESC LIMIT 1
            """, arguments: [lesson]),
           let id = try? row.decode(Int64.self, forColumn: "id"),
           let sittingStart = try? row.decode(StoredDate.self, forColumn: "started_at").date,
           let lastActive = try? row.decode(StoredDate.self, forColumn: "last_active_at").date {
            // Events from two processes can arrive slightly out of order: an event inside or
            // just around the sitting belongs to it.
            if start <= lastActive.addingTimeInterval(ProgressSchema.sittingGap),
               end >= sittingStart.addingTimeInterval(-ProgressSchema.sittingGap) {
                try db.execute(
                    sql: "UPDATE sitting SET started_at = ?, last_active_at = ? WHERE id = ?",
                    arguments: [StoredDate(min(sittingStart, start)), StoredDate(max(lastActive, end)), id])
                return
            }
        }
        try db.execute(
            sql: "INSERT INTO sitting (lesson, started_at, last_active_at) VALUES (?, ?, ?)",
            arguments: [lesson, StoredDate(start), StoredDate(end)])
    }
}

/// SQL conditions that hold when a stored value is one derive wrote and can read back.
///
/// The database is a plain file: another program, a hand edit or a damaged copy can leave a
/// value of the wrong kind in a row that SQLite's integrity check accepts (column types are
/// not enforced). Queries that compare or aggregate such columns filter on these conditions,
/// so a bad row is left out instead of spoiling the result, and every row is decoded with
/// GRDB's throwing API (its subscript traps on a value it cannot convert).
enum StoredValue {
    /// A date as GRDB writes it, `yyyy-MM-dd HH:mm:ss.SSS` in UTC, naming a real time. Only
    /// this exact form, so text order is time order for `MIN`, `MAX` and `ORDER BY`.
    static func date(_ column: String) -> String {
        """
        (typeof(\(column)) = 'text' \
        AND \(column) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]' \
        AND julianday(\(column)) IS NOT NULL)
        """
    }

    /// An integer (SQLite keeps text that does not look like a number as text, even in an
    /// INTEGER column).
    static func integer(_ column: String) -> String {
        "(typeof(\(column)) = 'integer')"
    }

    /// Per table, the columns whose values the store reads back, with their conditions.
    /// Text columns need none: every text value is a string.
    static let checkedColumns: [(table: String, columns: [(name: String, condition: String)])] = [
        ("run", [("started_at", date("started_at")), ("duration_us", integer("duration_us")),
                 ("ok", "(ok IN (0, 1) AND typeof(ok) = 'integer')")]),
        ("sitting", [("started_at", date("started_at")), ("last_active_at", date("last_active_at"))]),
        ("position", [("updated_at", date("updated_at")), ("scroll", integer("scroll"))]),
        ("completion", [("completed_at", date("completed_at"))]),
        ("override", [("updated_at", date("updated_at"))]),
    ]

    /// Whether every run's values can be read: the index of the unreadable ones (v4) is empty.
    static func allRunsReadable(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: """
            SELECT NOT EXISTS (SELECT 1 FROM run INDEXED BY run_unreadable WHERE NOT (\(readable("run"))))
            """) ?? false
    }

    /// The conditions of every checked column of `table`, for queries that read whole rows.
    static func readable(_ table: String) -> String {
        let columns = checkedColumns.first { $0.table == table }?.columns ?? []
        return columns.isEmpty ? "1" : columns.map(\.condition).joined(separator: " AND ")
    }

    /// Rows holding a value the store cannot read, as one warning for the learner, or `nil`
    /// when there are none. One scan of each table, like `quick_check` at opening.
    static func unreadableRowsWarning(_ db: Database, path: String) throws -> String? {
        var count = 0
        var lessons: Set<String> = []
        var example: String?
        for (table, columns) in checkedColumns {
            // The runs are many: only the index of their unreadable rows is read (a query that
            // cannot use it fails rather than scanning them all).
            let source = table == "run" ? "run INDEXED BY run_unreadable" : table
            let bad = "NOT (\(readable(table)))"
            let describe = "CASE " + columns.map {
                "WHEN NOT \($0.condition) THEN '\($0.name) = ' || substr(quote(\($0.name)), 1, 40)"
            }.joined(separator: " ") + " END"
            for row in try Row.fetchAll(db, sql: """
                SELECT CAST(lesson AS TEXT) AS lesson, COUNT(*) AS n, MIN(\(describe)) AS example
                FROM \(source) WHERE \(bad) GROUP BY lesson
                """) {
                count += (try? row.decode(Int.self, forColumn: "n")) ?? 0
                let lesson = (try? row.decode(String.self, forColumn: "lesson")) ?? "?"
                lessons.insert(lesson)
                if example == nil, let detail = try? row.decode(String.self, forColumn: "example") {
                    example = "\(table) in lesson '\(lesson)': \(detail)"
                }
            }
        }
        guard count > 0 else { return nil }
        let sorted = lessons.sorted()
        let (subject, pronoun) = count == 1 ? ("1 record", "it") : ("\(count) records", "them")
        let reset = sorted.count == 1
            ? "derive progress --reset \(sorted[0]) clears \(pronoun)"
            : "derive progress --reset LESSON clears them; lessons \(sorted.prefix(5).joined(separator: ", "))\(sorted.count > 5 ? ", ..." : "")"
        return printable("progress database \(path) holds \(subject) derive cannot read (\(example ?? "a value of the wrong kind")); derive ignores \(pronoun) (\(reset))")
    }

    /// The text with control characters (a stored value could hold escape sequences) shown as `?`.
    static func printable(_ text: String) -> String {
        String(scalars: text.unicodeScalars.map {
            $0.properties.generalCategory == .control ? "?" : $0
        })
    }
}
