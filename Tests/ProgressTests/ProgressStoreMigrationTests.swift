import Foundation
import GRDB
import TestSupport
import XCTest

@testable import Progress
import NotebookCore

final class ProgressStoreMigrationTests: XCTestCase {
    let t0 = utc("2026-11-28T10:00:00Z")

    func testMigrationsInOrder() {
        XCTAssertEqual(ProgressSchema.migrator.migrations, ["v1", "v2", "v3", "v4", "v5"])
    }

    /// The database the first release wrote, as SQL: a copy, frozen here, so that an edit to
    /// migration v1 in the code cannot make this test agree with it.
    static let releasedV1 = """
        PRAGMA application_id = 1685223013;
        CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
        INSERT INTO grdb_migrations VALUES ('v1');
        CREATE TABLE lesson (id TEXT PRIMARY KEY NOT NULL, first_seen_at TEXT NOT NULL);
        CREATE TABLE run (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            lesson TEXT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
            cell TEXT NOT NULL, parameters TEXT NOT NULL, started_at TEXT NOT NULL,
            duration_us INTEGER NOT NULL, ok INTEGER NOT NULL CHECK (ok IN (0, 1)), error TEXT,
            CHECK ((ok = 1) = (error IS NULL)));
        CREATE INDEX run_by_lesson_cell ON run(lesson, ok, cell, started_at);
        CREATE TABLE position (
            lesson TEXT PRIMARY KEY NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
            cell TEXT, scroll INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL);
        CREATE INDEX position_by_time ON position(updated_at);
        CREATE TABLE completion (
            lesson TEXT PRIMARY KEY NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
            completed_at TEXT NOT NULL);
        CREATE TABLE override (
            lesson TEXT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
            cell TEXT NOT NULL, parameter TEXT NOT NULL, source TEXT NOT NULL, updated_at TEXT NOT NULL,
            PRIMARY KEY (lesson, cell, parameter));
        """

    /// A database written by the first released schema, with data in it, upgrades in place:
    /// nothing lost, and the sittings of v2 are rebuilt from the runs and position of v1.
    func testUpgradeFromTheFirstReleasedSchema() throws {
        XCTAssertEqual(ProgressStore.applicationID, 1_685_223_013, "the frozen schema marks the file as derive's")
        let db = try makeTemporaryFolder(self).appendingPathComponent("progress.sqlite")
        do {
            let pool = try DatabasePool(path: db.path)
            try pool.write { try $0.execute(sql: Self.releasedV1) }
            try pool.write { db in
                try db.execute(sql: "INSERT INTO lesson (id, first_seen_at) VALUES ('a', ?)", arguments: [t0])
                // Sitting 1: t0 to t0 + 61 (the second run ends there). Sitting 2 starts 1000 s in,
                // and the position update at t0 + 1010 extends it: 10 s.
                for (cell, start, micros, error) in [("c1", 0.0, 500_000, nil), ("c2", 60, 1_000_000, "bad"),
                                                     ("c2", 1000, 2_000_000, nil)] as [(String, Double, Int, String?)] {
                    try db.execute(sql: """
                        INSERT INTO run (lesson, cell, parameters, started_at, duration_us, ok, error)
                        VALUES ('a', ?, '{"x":1}', ?, ?, ?, ?)
                        """, arguments: [cell, t0 + start, micros, error == nil, error])
                }
                try db.execute(sql: "INSERT INTO position VALUES ('a', 'c2', 7, ?)", arguments: [t0 + 1010])
                try db.execute(sql: "INSERT INTO completion VALUES ('a', ?)", arguments: [t0 + 1002])
                try db.execute(sql: "INSERT INTO override VALUES ('a', 'c1', 'x', '[1, 2]', ?)", arguments: [t0])
            }
            XCTAssertEqual(try pool.read { try ProgressSchema.migrator.appliedMigrations($0) }, ["v1"])
        }
        let store = openQuietly(db)
        XCTAssertEqual(try rawQueue(db).read { try ProgressSchema.migrator.appliedMigrations($0) }, ["v1", "v2", "v3", "v4", "v5"])
        XCTAssertEqual(store.runs(lesson: "a").map(\.cell), ["c1", "c2", "c2"])
        XCTAssertEqual(store.position(lesson: "a")?.scroll, 7)
        XCTAssertEqual(store.overrides(lesson: "a").map(\.source), ["[1, 2]"])
        XCTAssertEqual(store.completedAt(lesson: "a"), t0 + 1002)
        let progress = store.summary(for: [LessonOutline(id: "a", title: "A", cellIDs: ["c1", "c2"])])[lesson: "a"]
        XCTAssertEqual(progress?.secondsSpent, 71)
        XCTAssertEqual(progress?.runs, 3, "v5 counts the runs recorded before it")
        XCTAssertEqual(progress?.lastVisited, t0 + 1010)
        XCTAssertEqual(progress?.done, true)
        XCTAssertEqual(progress?.runs, 3)
        XCTAssertEqual(try rowCount(db, "sitting"), 2)
        // And it records on the new schema.
        XCTAssertTrue(store.recordRun(cellRun("a", "c1", at: t0 + 1100, seconds: 1)).recorded)
        XCTAssertEqual(store.summary(for: [LessonOutline(id: "a", title: "A", cellIDs: ["c1"])])[lesson: "a"]?.secondsSpent,
                       162)
    }

    /// A v1 database holding a value derive cannot read upgrades all the same: the row is
    /// left out of the sittings built from the runs, and kept.
    func testUpgradeWithAnUnreadableRun() throws {
        let db = try makeTemporaryFolder(self).appendingPathComponent("progress.sqlite")
        do {
            let pool = try DatabasePool(path: db.path)
            try ProgressSchema.migrator.migrate(pool, upTo: "v1")
            try pool.write { db in
                try db.execute(sql: "INSERT INTO lesson (id, first_seen_at) VALUES ('a', ?)", arguments: [t0])
                for (cell, start, micros) in [("c1", "yesterday", "1"), ("c1", "2026-11-28 10:00:00.000", "2000000"),
                                              ("c2", "2026-11-28 10:01:00.000", "soon")] {
                    try db.execute(sql: """
                        INSERT INTO run (lesson, cell, parameters, started_at, duration_us, ok, error)
                        VALUES ('a', ?, '{}', ?, ?, 1, NULL)
                        """, arguments: [cell, start, micros])
                }
                try db.execute(sql: "INSERT INTO position VALUES ('a', 'c2', 0, 'later')")
            }
        }
        let opened = ProgressStore.open(at: db)
        XCTAssertEqual(opened.warnings.count, 1)
        XCTAssertTrue(opened.warnings.first?.contains("holds 3 records derive cannot read") ?? false, "\(opened.warnings)")
        XCTAssertEqual(try rawQueue(db).read { try ProgressSchema.migrator.appliedMigrations($0) }, ["v1", "v2", "v3", "v4", "v5"])
        // One sitting, from the one readable run: 2 s. The run at 10:01 has a readable time but no
        // readable duration, so it adds nothing.
        let progress = opened.store.summary(for: [LessonOutline(id: "a", title: "A", cellIDs: ["c1", "c2"])])[lesson: "a"]
        XCTAssertEqual(progress?.secondsSpent, 2)
        XCTAssertEqual(progress?.runs, 3)
        XCTAssertEqual(progress?.cellsRun, 2)
        XCTAssertEqual(try rowCount(db, "sitting"), 1)
        XCTAssertEqual(try rowCount(db, "run"), 3)
        XCTAssertEqual(opened.store.mode, .recording)
    }

    /// A database touched by a newer derive (a migration this one does not know) still opens
    /// and records; the newer one will find its own tables intact.
    func testDatabaseFromANewerVersionStillOpens() throws {
        let db = try makeTemporaryFolder(self).appendingPathComponent("progress.sqlite")
        do { _ = openQuietly(db) }
        try rawQueue(db).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99')")
            try db.execute(sql: "CREATE TABLE future (x)")
        }
        let store = openQuietly(db)
        XCTAssertTrue(store.recordRun(cellRun("a", "c", at: t0)).recorded)
        XCTAssertEqual(try rowCount(db, "future"), 0)
    }

    /// Opening the same database again runs no migration twice.
    func testReopeningIsIdempotent() throws {
        let db = try makeTemporaryFolder(self).appendingPathComponent("progress.sqlite")
        for _ in 0..<3 { _ = openQuietly(db) }
        XCTAssertEqual(try rawQueue(db).read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") },
                       ["v1", "v2", "v3", "v4", "v5"])
    }
}

/// Answers to questions: v3 of the schema, per-lesson counts, reset, concurrency.
final class ProgressAnswerTests: XCTestCase {
    let t0 = utc("2026-11-28T10:00:00Z")

    func answer(_ question: String, _ typed: String, correct: Bool, attempt: Int, revealed: Bool = false,
                lesson: String = "a", at offset: Double = 0) -> AnswerRecord {
        AnswerRecord(lesson: lesson, question: question, typed: typed, correct: correct, attempt: attempt,
                     revealed: revealed, answeredAt: t0 + offset)
    }

    func testAV2DatabaseUpgradesAndKeepsAnswers() throws {
        let db = try makeTemporaryFolder(self).appendingPathComponent("progress.sqlite")
        do {
            let pool = try DatabasePool(path: db.path)
            try ProgressSchema.migrator.migrate(pool, upTo: "v2")
            try pool.write { db in
                try db.execute(sql: "INSERT INTO lesson (id, first_seen_at) VALUES ('a', ?)", arguments: [t0])
            }
        }
        let store = openQuietly(db)
        XCTAssertEqual(try rawQueue(db).read { try ProgressSchema.migrator.appliedMigrations($0) }, ["v1", "v2", "v3", "v4", "v5"])
        XCTAssertTrue(store.recordAnswer(answer("q1", "0.5", correct: false, attempt: 1)))
        XCTAssertTrue(store.recordAnswer(answer("q1", "0.6", correct: true, attempt: 2, at: 5)))
        XCTAssertTrue(store.recordAnswer(answer("q2", "7", correct: true, attempt: 1, at: 9)))
        XCTAssertTrue(store.recordAnswer(answer("q3", "", correct: false, attempt: 0, revealed: true, at: 12)))
        XCTAssertTrue(store.recordAnswer(answer("gone", "1", correct: true, attempt: 1, at: 13)))
        XCTAssertEqual(store.answers(lesson: "a").map(\.typed), ["0.5", "0.6", "7", "", "1"])
        let states = store.answerStates(lesson: "a")
        XCTAssertEqual(states["q1"], AnswerState(attempts: 2, correct: true, revealed: false, rightFirstTry: false))
        XCTAssertEqual(states["q2"], AnswerState(attempts: 1, correct: true, revealed: false, rightFirstTry: true))
        XCTAssertEqual(states["q3"]?.revealed, true)
        // A question renamed or removed (`gone`) no longer counts.
        let outline = LessonOutline(id: "a", title: "A", cellIDs: ["c"], questionIDs: ["q1", "q2", "q3", "q4"])
        let progress = try XCTUnwrap(store.summary(for: [outline])[lesson: "a"])
        XCTAssertEqual(progress.questions, 4)
        XCTAssertEqual(progress.answered, 3)
        XCTAssertEqual(progress.rightFirstTry, 1)
        XCTAssertTrue(store.reset(lesson: "a"))
        XCTAssertEqual(store.answers(lesson: "a"), [], "reset clears answers with the rest")
    }

    func testTwoStoresAnsweringAtOnceLoseNothing() throws {
        let db = try makeTemporaryFolder(self).appendingPathComponent("progress.sqlite")
        _ = openQuietly(db)
        let stores = [openQuietly(db), openQuietly(db)]
        let perStore = 200
        let records = (0..<2).map { which in
            (0..<perStore).map { i in answer("q\(which)-\(i)", "\(i)", correct: i % 2 == 0, attempt: 1, at: Double(i)) }
        }
        DispatchQueue.concurrentPerform(iterations: 2) { which in
            for record in records[which] { _ = stores[which].recordAnswer(record) }
        }
        XCTAssertEqual(openQuietly(db).answers(lesson: "a").count, 2 * perStore)
    }
}
