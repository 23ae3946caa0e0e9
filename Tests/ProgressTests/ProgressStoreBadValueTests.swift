import Foundation
import GRDB
import TestSupport
import XCTest

@testable import Progress
import NotebookCore

/// A valid database holding a value of the wrong kind (SQLite does not enforce column types, so
/// its integrity check passes): written here with plain SQL, as another program or a hand edit
/// would. The row is left out with one warning; everything else is shown and recorded, nothing
/// is deleted, and nothing traps.
final class ProgressStoreBadValueTests: XCTestCase {
    let t0 = utc("2026-11-28T10:00:00Z")
    let a = LessonOutline(id: "a", title: "A", cellIDs: ["c1", "c2"])
    let b = LessonOutline(id: "b", title: "B", cellIDs: ["c1"])

    /// Something in every table. Lesson a: c1 ok at t0, c2 ok at t0 + 10 (completing it at
    /// t0 + 11), c1 failed at t0 + 20, each run 1 s; position c2 at t0 + 30, so one sitting of
    /// 30 s; overrides c1.x and c2.y. Lesson b: c1 ok at t0 + 100 for 2 s (completing it),
    /// position c1 at t0 + 110: one sitting of 10 s.
    private func makeDatabase(clock: TestClock) throws -> URL {
        let url = try makeTemporaryFolder(self).appendingPathComponent("progress.sqlite")
        let store = openQuietly(url, clock: clock)
        store.recordRun(cellRun("a", "c1", at: t0, seconds: 1), lessonCells: a.cellIDs)
        XCTAssertTrue(store.recordRun(cellRun("a", "c2", at: t0 + 10, seconds: 1), lessonCells: a.cellIDs).completedLesson)
        store.recordRun(cellRun("a", "c1", at: t0 + 20, seconds: 1, error: "boom"), lessonCells: a.cellIDs)
        clock.now = t0 + 30
        store.setPosition(lesson: "a", cell: "c2", scroll: 5)
        store.setOverride(lesson: "a", cell: "c1", parameter: "x", source: "1")
        store.setOverride(lesson: "a", cell: "c2", parameter: "y", source: "2")
        XCTAssertTrue(store.recordRun(cellRun("b", "c1", at: t0 + 100, seconds: 2), lessonCells: b.cellIDs).completedLesson)
        clock.now = t0 + 110
        store.setPosition(lesson: "b", cell: "c1", scroll: 0)
        XCTAssertEqual(store.drainWarnings(), [])
        return url
    }

    private func execute(_ url: URL, _ sql: String) throws {
        try rawQueue(url).writeWithoutTransaction { try $0.execute(sql: sql) }
    }

    private func open(_ url: URL, _ clock: TestClock) -> ProgressStore.Opened {
        ProgressStore.open(at: url, clock: clock.closure)
    }

    private func progress(_ store: ProgressStore, _ outline: LessonOutline) -> LessonProgress? {
        store.summary(for: [a, b])[lesson: outline.id]
    }

    /// `resumeStates(for:)` (one read for all lessons) against the per-lesson reads it replaces
    /// at start-up, which skip unreadable rows by their own queries.
    private func assertResumeStatesAgree(_ store: ProgressStore, file: StaticString = #filePath, line: UInt = #line) {
        let all = store.resumeStates(for: [a, b])
        for lesson in ["a", "b"] {
            var expected = ResumeState()
            for saved in store.overrides(lesson: lesson) { expected.overrides[saved.cell, default: [:]][saved.parameter] = saved.source }
            expected.lastCell = store.position(lesson: lesson)?.cell
            expected.ranCells = Set(store.cellHistory(lesson: lesson).values.filter(\.hasRunOK).map(\.cell))
            expected.answers = store.answerStates(lesson: lesson)
            XCTAssertEqual(all[lesson] ?? ResumeState(), expected, "lesson \(lesson)", file: file, line: line)
        }
    }

    func testResumeStatesOfAGoodDatabase() throws {
        let clock = TestClock(t0)
        let store = open(try makeDatabase(clock: clock), clock).store
        store.recordAnswer(AnswerRecord(lesson: "a", question: "q", typed: "3", correct: false, attempt: 1,
                                        revealed: false, answeredAt: t0 + 50))
        let states = store.resumeStates(for: [a, b])
        XCTAssertEqual(states["a"]?.overrides, ["c1": ["x": "1"], "c2": ["y": "2"]])
        XCTAssertEqual(states["a"]?.lastCell, "c2")
        XCTAssertEqual(states["a"]?.ranCells, ["c1", "c2"])
        XCTAssertEqual(states["a"]?.answers.keys.sorted(), ["q"])
        XCTAssertEqual(states["b"]?.ranCells, ["c1"])
        assertResumeStatesAgree(store)
    }

    /// The reviewer's case: `derive list`, `derive progress` and `derive` trapped on it.
    func testTextInTheTimeOfARun() throws {
        let clock = TestClock(t0)
        let url = try makeDatabase(clock: clock)
        try execute(url, "UPDATE run SET started_at = 'yesterday' WHERE lesson = 'a' AND cell = 'c2'")

        let opened = open(url, clock)
        XCTAssertEqual(opened.warnings, ["""
            progress database \(url.path) holds 1 record derive cannot read (run in lesson 'a': \
            started_at = 'yesterday'); derive ignores it (derive progress --reset a clears it)
            """])
        let store = opened.store
        assertResumeStatesAgree(store)
        XCTAssertEqual(store.mode, .recording)
        // The run still counts as a run, but c2 has no readable success any more.
        var expectedA = LessonProgress(outline: a)
        expectedA.runs = 3
        expectedA.cellsRun = 1
        expectedA.lastVisited = t0 + 30
        expectedA.secondsSpent = 30
        XCTAssertEqual(progress(store, a), expectedA)
        var expectedB = LessonProgress(outline: b)
        (expectedB.runs, expectedB.cellsRun, expectedB.done) = (1, 1, true)
        (expectedB.lastVisited, expectedB.secondsSpent, expectedB.completedAt) = (t0 + 110, 10, t0 + 102)
        XCTAssertEqual(progress(store, b), expectedB)
        XCTAssertEqual(store.runs(lesson: "a").map(\.startedAt), [t0, t0 + 20])
        XCTAssertEqual(store.runs().count, 3)
        XCTAssertEqual(Set(store.cellHistory(lesson: "a").keys), ["c1"])
        XCTAssertEqual(store.cellHistory(lesson: "a")["c1"]?.runs, 2)
        XCTAssertEqual(store.lastLesson(), "b")
        XCTAssertEqual(store.completedAt(lesson: "a"), t0 + 11)

        // Recording goes on; a new success of c2 makes the lesson done again.
        clock.now = t0 + 40
        XCTAssertTrue(store.recordRun(cellRun("a", "c2", at: t0 + 40, seconds: 1), lessonCells: a.cellIDs).recorded)
        expectedA.runs = 4
        expectedA.cellsRun = 2
        expectedA.done = true
        expectedA.completedAt = t0 + 11
        expectedA.lastVisited = t0 + 41
        expectedA.secondsSpent = 41
        XCTAssertEqual(progress(store, a), expectedA)
        XCTAssertEqual(store.drainWarnings(), [])
        // Nothing was deleted: the row is still there, and is reported again next time.
        XCTAssertEqual(try rowCount(url, "run"), 5)
        XCTAssertEqual(open(url, clock).warnings.count, 1)
        XCTAssertEqual(try folderListing(url.deletingLastPathComponent()).filter { $0.contains("corrupt") }, [])
    }

    /// Text, a fraction and an out-of-range flag in integer columns.
    func testBadValuesInIntegerColumns() throws {
        let clock = TestClock(t0)
        let url = try makeDatabase(clock: clock)
        try execute(url, "UPDATE run SET duration_us = 'long' WHERE lesson = 'a' AND cell = 'c1' AND ok = 1")
        try execute(url, "UPDATE position SET scroll = 2.5 WHERE lesson = 'b'")
        try execute(url, "PRAGMA ignore_check_constraints = ON; UPDATE run SET ok = 7 WHERE lesson = 'b'")

        let opened = open(url, clock)
        XCTAssertEqual(opened.warnings.count, 1, "\(opened.warnings)")
        XCTAssertTrue(opened.warnings[0].hasPrefix("progress database \(url.path) holds 3 records derive cannot read ("),
                      opened.warnings[0])
        XCTAssertTrue(opened.warnings[0].hasSuffix("(derive progress --reset LESSON clears them; lessons a, b)"),
                      opened.warnings[0])
        let store = opened.store
        assertResumeStatesAgree(store)
        XCTAssertEqual(store.runs(lesson: "a").map(\.startedAt), [t0 + 10, t0 + 20])
        XCTAssertEqual(store.runs(lesson: "b"), [])
        // The run with the unreadable duration still has a readable time: c1 did succeed.
        XCTAssertEqual(progress(store, a)?.cellsRun, 2)
        XCTAssertEqual(progress(store, a)?.runs, 3)
        // The run flagged 7 is neither a success nor a failure.
        XCTAssertEqual(progress(store, b)?.cellsRun, 0)
        XCTAssertEqual(progress(store, b)?.runs, 1)
        XCTAssertEqual(store.cellHistory(lesson: "b")["c1"]?.okRuns, 0)
        XCTAssertNil(store.position(lesson: "b"))
        XCTAssertEqual(store.position(lesson: "a")?.scroll, 5)
        // Resuming passes over b's unreadable position, the latest one.
        XCTAssertEqual(store.lastLesson(), "a")
        XCTAssertNil(store.lastLesson(among: ["b"]))
        // A new position replaces the bad one.
        clock.now = t0 + 200
        XCTAssertTrue(store.setPosition(lesson: "b", cell: "c1", scroll: 3))
        XCTAssertEqual(store.position(lesson: "b")?.scroll, 3)
        XCTAssertEqual(store.lastLesson(), "b")
        XCTAssertEqual(store.drainWarnings(), [])
    }

    /// Unreadable sittings made every write trap (each run or move extends the latest sitting).
    func testBadTimesInSittings() throws {
        let clock = TestClock(t0)
        let url = try makeDatabase(clock: clock)
        try execute(url, "UPDATE sitting SET last_active_at = 'soon' WHERE lesson = 'a'")
        // Month 00: the right shape, but no date (GRDB's lenient calendar would still make one).
        try execute(url, "UPDATE sitting SET started_at = '2026-00-28 10:00:00.000' WHERE lesson = 'b'")

        let opened = open(url, clock)
        XCTAssertEqual(opened.warnings.count, 1, "\(opened.warnings)")
        XCTAssertTrue(opened.warnings[0].contains("holds 2 records derive cannot read (sitting in lesson '"),
                      opened.warnings[0])
        let store = opened.store
        assertResumeStatesAgree(store)
        for outline in [a, b] {
            XCTAssertEqual(progress(store, outline)?.secondsSpent, 0)
            XCTAssertNil(progress(store, outline)?.lastVisited)
            XCTAssertEqual(progress(store, outline)?.done, true)
        }
        XCTAssertEqual(store.streakDays(), 0)

        clock.now = t0 + 40
        XCTAssertTrue(store.recordRun(cellRun("a", "c1", at: t0 + 40, seconds: 2)).recorded)
        XCTAssertTrue(store.setPosition(lesson: "b", cell: "c1", scroll: 1))
        XCTAssertTrue(store.setPosition(lesson: "a", cell: "c1", scroll: 1))
        XCTAssertEqual(store.mode, .recording)
        // New sittings: a from t0 + 40 to t0 + 42 (the move at t0 + 40 is inside it), b a moment.
        XCTAssertEqual(progress(store, a)?.secondsSpent, 2)
        XCTAssertEqual(progress(store, a)?.lastVisited, t0 + 42)
        XCTAssertEqual(progress(store, b)?.lastVisited, t0 + 40)
        XCTAssertEqual(store.streakDays(), 1)
        XCTAssertEqual(try rowCount(url, "sitting"), 4)
        XCTAssertEqual(store.drainWarnings(), [])
    }

    func testBadTimesInOverridesAndCompletion() throws {
        let clock = TestClock(t0)
        let url = try makeDatabase(clock: clock)
        try execute(url, "UPDATE override SET updated_at = x'00' WHERE parameter = 'x'")
        try execute(url, "UPDATE completion SET completed_at = 'someday' WHERE lesson = 'a'")

        let opened = open(url, clock)
        XCTAssertEqual(opened.warnings.count, 1, "\(opened.warnings)")
        XCTAssertTrue(opened.warnings[0].hasSuffix("derive ignores them (derive progress --reset a clears them)"),
                      opened.warnings[0])
        let store = opened.store
        assertResumeStatesAgree(store)
        XCTAssertEqual(store.overrides(lesson: "a").map(\.parameter), ["y"])
        XCTAssertNil(store.completedAt(lesson: "a"))
        // Still done; the completion time falls back to the start of the last first success.
        XCTAssertEqual(progress(store, a)?.done, true)
        XCTAssertEqual(progress(store, a)?.completedAt, t0 + 10)
        // Saving the cell's values again makes the override readable, in its old place.
        clock.now = t0 + 50
        XCTAssertTrue(store.replaceOverrides(lesson: "a", cell: "c1", sources: ["x": "7"]))
        XCTAssertEqual(store.overrides(lesson: "a").map { "\($0.cell).\($0.parameter)=\($0.source)" },
                       ["c1.x=7", "c2.y=2"])
        XCTAssertEqual(store.overrides(lesson: "a").first?.updatedAt, t0 + 50)
        XCTAssertEqual(store.drainWarnings(), [])
    }

    /// A value that passes the checks at opening but still cannot be decoded (a source that
    /// is not UTF-8): the read that meets it leaves it out and warns once.
    func testUndecodableValueMetByARead() throws {
        let clock = TestClock(t0)
        let url = try makeDatabase(clock: clock)
        try execute(url, "UPDATE override SET source = x'ff' WHERE parameter = 'y'")
        let store = openQuietly(url, clock: clock)
        XCTAssertEqual(store.overrides(lesson: "a").map(\.parameter), ["x"])
        XCTAssertEqual(store.drainWarnings(), ["""
            progress database \(url.path) holds a record derive cannot read (could not decode String from \
            database value Data(1 bytes) - column: "source"); derive ignores it
            """])
        XCTAssertEqual(store.overrides(lesson: "a").map(\.parameter), ["x"])
        XCTAssertEqual(store.drainWarnings(), [])
        XCTAssertEqual(store.mode, .recording)
    }

    /// NULL where the schema allows it (a schema edited by hand) is an unreadable value; NULL
    /// in a NOT NULL column fails SQLite's integrity check, and the file is moved aside whole.
    func testNullInAnIntegerColumn() throws {
        let clock = TestClock(t0)
        let url = try makeDatabase(clock: clock)
        func setSchema(_ from: String, _ to: String) throws {
            try execute(url, """
                PRAGMA writable_schema = ON;
                UPDATE sqlite_master SET sql = replace(sql, '\(from)', '\(to)') WHERE name = 'run';
                PRAGMA writable_schema = OFF;
                """)
        }
        try setSchema("duration_us INTEGER NOT NULL", "duration_us INTEGER")
        try execute(url, "UPDATE run SET duration_us = NULL WHERE lesson = 'b'")

        do {
            let opened = open(url, clock)
            XCTAssertEqual(opened.warnings, ["""
                progress database \(url.path) holds 1 record derive cannot read (run in lesson 'b': \
                duration_us = NULL); derive ignores it (derive progress --reset b clears it)
                """])
            XCTAssertEqual(opened.store.runs(lesson: "b"), [])
            XCTAssertEqual(progress(opened.store, b)?.cellsRun, 1)
            XCTAssertTrue(opened.store.recordRun(cellRun("b", "c1", at: t0 + 300)).recorded)
            XCTAssertEqual(opened.store.runs(lesson: "b").count, 1)
        }
        clock.now = t0 + 300

        try setSchema("duration_us INTEGER,", "duration_us INTEGER NOT NULL,")
        let bytes = try Data(contentsOf: url)
        let reopened = open(url, clock)
        XCTAssertEqual(reopened.warnings, ["""
            progress database \(url.path) is damaged (NULL value in run.duration_us); moved it to \
            \(url.path).corrupt-20261128T100500Z and started a fresh one
            """])
        XCTAssertEqual(FileManager.default.contents(atPath: url.path + ".corrupt-20261128T100500Z"), bytes)
        XCTAssertEqual(reopened.store.mode, .recording)
    }
}
