import Foundation
import GRDB
import TestSupport
import XCTest

@testable import Progress
import NotebookCore

/// A learner's history grows by every run they make; what the notebook reads at each start
/// must not grow with it. Checked by query plan (an index seek, not a scan of `run`) and by
/// agreement with the whole-table definitions, on a database of many runs.
final class ProgressStoreHistoryTests: XCTestCase {
    let t0 = utc("2026-11-28T10:00:00Z")
    let lessonA = LessonOutline(id: "a", title: "A", cellIDs: ["c0", "c1", "c2", "gone-from-the-file"])
    let lessonB = LessonOutline(id: "b", title: "B", cellIDs: ["c0"])
    let never = LessonOutline(id: "never", title: "Never opened", cellIDs: ["c0"])

    /// Lesson a: 3,000 runs of c0…c2 (every seventh a failure) and c9, a cell no longer in the
    /// lesson; lesson b: one failed run.
    private func makeHistory() throws -> URL {
        let url = try makeTemporaryFolder(self).appendingPathComponent("progress.sqlite")
        let store = openQuietly(url)
        store.recordRun(cellRun("a", "c0", at: t0))
        store.recordRun(cellRun("b", "c0", at: t0, error: "boom"))
        try rawQueue(url).write { db in
            try db.execute(sql: """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
                INSERT INTO run (lesson, cell, parameters, started_at, duration_us, ok, error)
                SELECT 'a', CASE WHEN i % 50 = 0 THEN 'c9' ELSE 'c' || (i % 3) END, '{}',
                       strftime('%Y-%m-%d %H:%M:%f', ?, '+' || i || ' seconds'), 1000,
                       i % 7 != 0, CASE WHEN i % 7 = 0 THEN 'failed' END
                FROM n
                """, arguments: [StoredDate(t0)])
        }
        return url
    }

    private func plan(_ url: URL, _ sql: String, _ arguments: StatementArguments) throws -> String {
        try rawQueue(url).read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments)
                .map { $0["detail"] as String? ?? "" }.joined(separator: "; ")
        }
    }

    func testStartupReadsSeekAnIndexInsteadOfScanningTheRuns() throws {
        let url = try makeHistory()
        for sql in [ProgressStore.firstSuccessSQL, ProgressStore.anySuccessSQL] {
            let detail = try plan(url, sql, ["a", "c1"])
            XCTAssertTrue(detail.contains("SEARCH run USING COVERING INDEX run_by_lesson_cell (lesson=? AND ok=? AND cell=?)"), detail)
        }
        let any = try plan(url, ProgressStore.anyRunSQL, ["a"])
        XCTAssertTrue(any.contains("SEARCH run USING COVERING INDEX run_by_lesson_cell (lesson=?)"), any)
        // The unreadable rows are found through their own (empty) index.
        let bad = try plan(url, "SELECT 1 FROM run WHERE NOT (\(StoredValue.readable("run")))", [])
        XCTAssertTrue(bad.contains("run_unreadable"), bad)
    }

    /// Migration v4 indexes exactly what the queries ask for; were the conditions to change,
    /// `INDEXED BY` would fail every read that looks for unreadable runs.
    func testTheFrozenIndexMatchesTheReadableCondition() {
        XCTAssertEqual(FrozenV4.runReadable, StoredValue.readable("run"))
    }

    /// The seeks give what the whole-table definitions give: the first success per current cell,
    /// and the current cells that ever succeeded.
    func testSeeksAgreeWithTheWholeTableDefinitions() throws {
        let url = try makeHistory()
        let store = openQuietly(url)
        let lessons = [lessonA, lessonB, never]
        let reference = try rawQueue(url).read { db in
            try Row.fetchAll(db, sql: """
                SELECT lesson, cell, MIN(started_at) AS first FROM run WHERE ok = 1 GROUP BY lesson, cell
                """).map { row -> (String, String, Date) in
                (row["lesson"], row["cell"], try row.decode(StoredDate.self, forColumn: "first").date)
            }
        }
        let current = Set(lessons.flatMap { outline in outline.cellIDs.map { "\(outline.id).\($0)" } })
        let expectedRan = Dictionary(grouping: reference.filter { current.contains("\($0.0).\($0.1)") }, by: \.0)
            .mapValues { Set($0.map(\.1)) }
        XCTAssertEqual(expectedRan, ["a": ["c0", "c1", "c2"]])
        let states = store.resumeStates(for: lessons)
        XCTAssertEqual(states.mapValues(\.ranCells).filter { !$0.value.isEmpty }, expectedRan)

        let summary = store.summary(for: lessons)
        XCTAssertEqual(summary[lesson: "a"]?.runs, 3001)
        XCTAssertEqual(summary[lesson: "a"]?.cellsRun, 3)
        XCTAssertEqual(summary[lesson: "b"]?.runs, 1)
        XCTAssertEqual(summary[lesson: "b"]?.cellsRun, 0)
        XCTAssertEqual(summary[lesson: "never"]?.runs, 0)
        XCTAssertEqual(store.drainWarnings(), [])
    }

    /// With one unreadable run the reads fall back to looking at every run, leaving it out.
    func testOneUnreadableRunFallsBackToTheFullReads() throws {
        let url = try makeHistory()
        try rawQueue(url).writeWithoutTransaction { db in
            try db.execute(sql: "UPDATE run SET started_at = 'soon' WHERE lesson = 'a' AND cell = 'c2'")
        }
        let opened = ProgressStore.open(at: url)
        XCTAssertEqual(opened.warnings.count, 1, "\(opened.warnings)")
        XCTAssertTrue(try rawQueue(url).read { try !StoredValue.allRunsReadable($0) })
        let states = opened.store.resumeStates(for: [lessonA, lessonB])
        XCTAssertEqual(states["a"]?.ranCells, ["c0", "c1"])
        XCTAssertEqual(opened.store.summary(for: [lessonA])[lesson: "a"]?.cellsRun, 2)
    }

    /// The runs per lesson come from a count the triggers of v5 keep; it agrees with counting
    /// the runs after derive's writes, a reset, and another program's deletes and moves.
    func testTheRunCountFollowsEveryWrite() throws {
        let url = try makeHistory()
        let store = openQuietly(url)
        func assertCounts(_ step: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let (kept, counted) = try rawQueue(url).read { db in
                (try Row.fetchAll(db, sql: "SELECT lesson, runs FROM run_count WHERE runs > 0 ORDER BY lesson")
                    .map { "\($0["lesson"] as String) \($0["runs"] as Int)" },
                 try Row.fetchAll(db, sql: "SELECT lesson, COUNT(*) AS n FROM run GROUP BY lesson ORDER BY lesson")
                    .map { "\($0["lesson"] as String) \($0["n"] as Int)" })
            }
            XCTAssertEqual(kept, counted, step, file: file, line: line)
        }
        try assertCounts("the history")
        XCTAssertEqual(store.summary(for: [lessonA])[lesson: "a"]?.runs, 3001)
        store.recordRuns([cellRun("b", "c0", at: t0 + 5), cellRun("c", "c0", at: t0 + 6)])
        try assertCounts("recorded")
        XCTAssertTrue(store.reset(lesson: "b"))
        try assertCounts("reset b")
        try rawQueue(url).writeWithoutTransaction { db in
            try db.execute(sql: "DELETE FROM run WHERE lesson = 'a' AND id % 100 = 0")
            try db.execute(sql: "UPDATE run SET lesson = 'c' WHERE lesson = 'a' AND id % 100 = 1")
        }
        try assertCounts("another program's deletes and moves")
        // Ids 100, 200, …, 3000 went, and 1, 101, …, 3001 moved.
        XCTAssertEqual(store.summary(for: [lessonA])[lesson: "a"]?.runs, 3001 - 30 - 31)
        XCTAssertTrue(store.reset(lesson: nil))
        try assertCounts("reset all")
        XCTAssertEqual(store.summary(for: [lessonA, lessonB])[lesson: "a"]?.runs, 0)
    }

    // MARK: The page check at opening

    /// A clean close stamps the file; a session that is still open (as one killed would be) has
    /// removed the stamp, so the next start reads every page.
    func testOnlyACleanCloseMarksTheFileIntact() throws {
        let url = try makeTemporaryFolder(self).appendingPathComponent("progress.sqlite")
        do {
            let store = openQuietly(url)
            store.recordRun(cellRun("a", "c0", at: t0))
        }
        XCTAssertTrue(IntegrityStamp.isIntact(url))
        var open: ProgressStore? = openQuietly(url)
        XCTAssertTrue(open?.recordRun(cellRun("a", "c1", at: t0 + 1)).recorded == true)
        XCTAssertFalse(IntegrityStamp.isIntact(url))
        XCTAssertFalse(ProgressStoreLocation.exists(IntegrityStamp.file(for: url)))
        // Two sessions at once: the first to close leaves the WAL to the other, and no stamp.
        var second: ProgressStore? = openQuietly(url)
        open = nil
        XCTAssertFalse(IntegrityStamp.isIntact(url))
        second = nil
        XCTAssertTrue(IntegrityStamp.isIntact(url))
        XCTAssertNil(open ?? second)
    }

    /// Any write by another program changes the file's change time, and voids the stamp; so does
    /// a copy of the file (another inode) with the stamp beside it.
    func testAnotherProgramsWriteOrACopyVoidsTheStamp() throws {
        let folder = try makeTemporaryFolder(self)
        let url = folder.appendingPathComponent("progress.sqlite")
        do { openQuietly(url).recordRun(cellRun("a", "c0", at: t0)) }
        XCTAssertTrue(IntegrityStamp.isIntact(url))
        try rawQueue(url).writeWithoutTransaction { try $0.execute(sql: "UPDATE run SET duration_us = 7") }
        XCTAssertFalse(IntegrityStamp.isIntact(url))

        do { _ = openQuietly(url) }
        XCTAssertTrue(IntegrityStamp.isIntact(url))
        let copy = folder.appendingPathComponent("copy.sqlite")
        try FileManager.default.copyItem(at: url, to: copy)
        try FileManager.default.copyItem(atPath: IntegrityStamp.file(for: url), toPath: IntegrityStamp.file(for: copy))
        XCTAssertFalse(IntegrityStamp.isIntact(copy))
        // A damaged stamp is no stamp.
        try Data("12 junk".utf8).write(to: URL(fileURLWithPath: IntegrityStamp.file(for: url)))
        XCTAssertFalse(IntegrityStamp.isIntact(url))
    }

    /// Damage behind a stamp that no longer matches is found as before: the page check runs.
    func testDamageAfterACleanCloseIsStillFound() throws {
        let url = try makeHistory()
        do { _ = openQuietly(url) }
        XCTAssertTrue(IntegrityStamp.isIntact(url))
        // Zero a page in the middle of the file, as a failing disk would.
        let handle = try FileHandle(forWritingTo: url)
        try handle.seek(toOffset: 4096 * 20)
        try handle.write(contentsOf: Data(count: 4096))
        try handle.close()
        let opened = ProgressStore.open(at: url)
        XCTAssertTrue(opened.warnings.first?.contains("is damaged") == true, "\(opened.warnings)")
        XCTAssertEqual(opened.store.mode, .recording)
    }
}
