import Foundation
import GRDB
import TestSupport
import XCTest

@testable import Progress
import NotebookCore

final class ProgressStoreLocationTests: XCTestCase {
    let env = ["DERIVE_DB": "/env/db.sqlite", "XDG_DATA_HOME": "/xdg", "HOME": "/home/u"]

    func testFlagWinsOverEverything() {
        XCTAssertEqual(ProgressStoreLocation.resolve(flag: "/flag/p.sqlite", environment: env)?.path, "/flag/p.sqlite")
    }

    func testEnvironmentThenXDGThenHome() {
        XCTAssertEqual(ProgressStoreLocation.resolve(flag: nil, environment: env)?.path, "/env/db.sqlite")
        var e = env
        e["DERIVE_DB"] = ""
        XCTAssertEqual(ProgressStoreLocation.resolve(flag: "", environment: e)?.path, "/xdg/derive/progress.sqlite")
        e["XDG_DATA_HOME"] = nil
        XCTAssertEqual(ProgressStoreLocation.resolve(flag: nil, environment: e)?.path,
                       "/home/u/.local/share/derive/progress.sqlite")
        // The XDG specification says a relative XDG_DATA_HOME is invalid and is ignored.
        e["XDG_DATA_HOME"] = "relative/data"
        XCTAssertEqual(ProgressStoreLocation.resolve(flag: nil, environment: e)?.path,
                       "/home/u/.local/share/derive/progress.sqlite")
    }

    func testRelativeFlagIsFromTheCurrentFolder() {
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertEqual(ProgressStoreLocation.resolve(flag: "p.sqlite", environment: [:])?.path,
                       URL(fileURLWithPath: cwd).appendingPathComponent("p.sqlite").standardizedFileURL.path)
    }

    func testFoldersAreCreatedPrivate() throws {
        let base = try makeTemporaryFolder(self)
        _ = chmod(base.path, 0o755)
        let db = base.appendingPathComponent("one/two/progress.sqlite")
        let store = openQuietly(db)
        XCTAssertTrue(FileManager.default.fileExists(atPath: db.path))
        for folder in ["one", "one/two"] {
            var info = stat()
            XCTAssertEqual(stat(base.appendingPathComponent(folder).path, &info), 0)
            XCTAssertEqual(info.st_mode & 0o777, 0o700, folder)
        }
        for file in ["", "-wal", "-shm"] {
            var info = stat()
            XCTAssertEqual(stat(db.path + file, &info), 0, file)
            XCTAssertEqual(info.st_mode & 0o777, 0o600, file)
        }
        // An existing folder keeps its mode.
        var info = stat()
        XCTAssertEqual(stat(base.path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o755)
        _ = store
    }

    func testConnectionSettings() throws {
        let store = openQuietly(try makeTemporaryFolder(self).appendingPathComponent("p.sqlite"))
        let settings = try store.inspectWriter { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"),
             try Int.fetchOne(db, sql: "PRAGMA busy_timeout"),
             try Int.fetchOne(db, sql: "PRAGMA foreign_keys"),
             try Int32.fetchOne(db, sql: "PRAGMA application_id"),
             try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        XCTAssertEqual(settings?.0, "wal")
        XCTAssertEqual(settings?.1, 5000)
        XCTAssertEqual(settings?.2, 1)
        XCTAssertEqual(settings?.3, ProgressStore.applicationID)
        XCTAssertEqual(settings?.4, 1, "synchronous = NORMAL, as WAL allows")
        // Foreign keys are enforced: a run must belong to a known lesson.
        XCTAssertThrowsError(try store.inspectWriter { db in
            try db.execute(sql: """
                INSERT INTO run (lesson, cell, parameters, started_at, duration_us, ok, error)
                VALUES ('nowhere', 'c', '{}', '2026-01-01 00:00:00.000', 1, 1, NULL)
                """)
        }) { error in
            XCTAssertEqual((error as? DatabaseError)?.extendedResultCode, .SQLITE_CONSTRAINT_FOREIGNKEY)
        }
    }
}

final class ProgressStoreTests: XCTestCase {
    let t0 = utc("2026-11-28T10:00:00Z")

    func testCanonicalJSONIsOrderIndependentAndCompact() {
        let a = CellRunRecord.canonicalJSON([("x", .vector([1, 2.5])), ("block", .integer(2)),
                                             ("Z", .number(.nan)), ("a", .text("h\"i")),
                                             ("m", .matrix([[1, -.infinity]])), ("f", .bool(false))])
        let b = CellRunRecord.canonicalJSON([("f", .bool(false)), ("m", .matrix([[1, -.infinity]])),
                                             ("a", .text("h\"i")), ("Z", .number(.nan)),
                                             ("block", .integer(2)), ("x", .vector([1, 2.5]))])
        XCTAssertEqual(a, b)
        XCTAssertEqual(a, #"{"Z":"NaN","a":"h\"i","block":2,"f":false,"m":[[1,"-Infinity"]],"x":[1,2.5]}"#)
        XCTAssertEqual(CellRunRecord.canonicalJSON([]), "{}")
        XCTAssertEqual(CellRunRecord.canonicalJSON([("x", .number(1)), ("x", .number(0.1))]), #"{"x":0.1}"#)
    }

    func testRunsRoundTrip() throws {
        let store = openQuietly(try makeTemporaryFolder(self).appendingPathComponent("p.sqlite"))
        let ok = cellRun("online-softmax", "safe", at: t0, seconds: 0.000_011,
                     parameters: [("x", .vector([2, 1, 3])), ("block", .integer(2))])
        let failed = cellRun("online-softmax", "stream", at: t0.addingTimeInterval(1.5), seconds: 0.25,
                         error: "block: must be at least 1")
        XCTAssertEqual(store.recordRun(ok), RecordOutcome(recorded: true, completedLesson: false))
        XCTAssertTrue(store.recordRun(failed).recorded)
        let stored = store.runs(lesson: "online-softmax")
        XCTAssertEqual(stored, [ok, failed])
        XCTAssertEqual(stored.first?.parametersJSON, #"{"block":2,"x":[2,1,3]}"#)
        XCTAssertEqual(stored.first?.durationMicroseconds, 11)
        XCTAssertEqual(stored.last?.ok, false)
        XCTAssertEqual(store.runs(lesson: "other"), [])
    }

    func testEverythingSurvivesARestart() throws {
        let url = try makeTemporaryFolder(self).appendingPathComponent("p.sqlite")
        let clock = TestClock(t0)
        do {
            let store = openQuietly(url, clock: clock)
            store.recordRun(cellRun("a", "c1", at: t0), lessonCells: ["c1"])
            clock.advance(10)
            store.setPosition(lesson: "a", cell: "c1", scroll: 42)
            store.setOverride(lesson: "a", cell: "c1", parameter: "x", source: "[1, 2]")
        }
        let store = openQuietly(url, clock: clock)
        XCTAssertEqual(store.runs().count, 1)
        XCTAssertEqual(store.position(lesson: "a"),
                       LessonPosition(lesson: "a", cell: "c1", scroll: 42, updatedAt: t0.addingTimeInterval(10)))
        XCTAssertEqual(store.overrides(lesson: "a").map(\.source), ["[1, 2]"])
        XCTAssertEqual(store.completedAt(lesson: "a"), t0.addingTimeInterval(0.001))
        XCTAssertEqual(store.summary(for: [LessonOutline(id: "a", title: "A", cellIDs: ["c1"])])[lesson: "a"]?.done, true)
    }

    func testCompletionNeedsEveryCellToSucceedOnce() throws {
        let store = openQuietly(try makeTemporaryFolder(self).appendingPathComponent("p.sqlite"))
        let cells = ["a", "b", "c"]
        XCTAssertFalse(store.recordRun(cellRun("l", "a", at: t0), lessonCells: cells).completedLesson)
        XCTAssertFalse(store.recordRun(cellRun("l", "b", at: t0 + 1, error: "bad"), lessonCells: cells).completedLesson)
        XCTAssertFalse(store.recordRun(cellRun("l", "c", at: t0 + 2), lessonCells: cells).completedLesson)
        XCTAssertNil(store.completedAt(lesson: "l"))
        let last = store.recordRun(cellRun("l", "b", at: t0 + 3, seconds: 0.5), lessonCells: cells)
        XCTAssertEqual(last, RecordOutcome(recorded: true, completedLesson: true))
        XCTAssertEqual(store.completedAt(lesson: "l"), t0 + 3.5)
        // Completion is recorded once, with its first time.
        XCTAssertFalse(store.recordRun(cellRun("l", "a", at: t0 + 9), lessonCells: cells).completedLesson)
        XCTAssertFalse(store.markCompleted(lesson: "l", at: t0 + 20))
        XCTAssertEqual(store.completedAt(lesson: "l"), t0 + 3.5)
        // A batch completes a lesson too; an explicit mark works for a lesson without runs.
        let batch = (0..<3).map { cellRun("m", cells[$0], at: t0 + Double($0)) }
        XCTAssertTrue(store.recordRuns(batch, lessonCells: cells).completedLesson)
        XCTAssertTrue(store.markCompleted(lesson: "n", at: t0))
        XCTAssertEqual(store.completedAt(lesson: "n"), t0)
    }

    func testPositionsAndResume() throws {
        let clock = TestClock(t0)
        let store = openQuietly(try makeTemporaryFolder(self).appendingPathComponent("p.sqlite"), clock: clock)
        XCTAssertNil(store.lastPosition())
        store.setPosition(lesson: "a", cell: "c3", scroll: 10)
        clock.advance(60)
        store.setPosition(lesson: "b", cell: nil, scroll: 0)
        clock.advance(60)
        store.setPosition(lesson: "a", cell: "c4", scroll: 12)
        XCTAssertEqual(store.lastLesson(), "a")
        XCTAssertEqual(store.lastPosition()?.cell, "c4")
        XCTAssertEqual(store.position(lesson: "b")?.cell, nil)
        // A lesson whose file is gone is skipped when resuming.
        XCTAssertEqual(store.lastLesson(among: ["b", "z"]), "b")
        XCTAssertNil(store.lastLesson(among: ["z"]))
    }

    /// The glance before opening names the lessons in the order resuming considers them, so
    /// its first existing lesson is the one `lastLesson(among:)` picks; where there is nothing
    /// to read it is empty and creates nothing.
    func testTheGlanceBeforeOpeningAgreesWithResuming() throws {
        let clock = TestClock(t0)
        let folder = try makeTemporaryFolder(self)
        let url = folder.appendingPathComponent("p.sqlite")
        XCTAssertEqual(ProgressStore.recentLessons(at: url), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path), "the glance creates no database")
        XCTAssertEqual(ProgressStore.recentLessons(at: nil), [])
        let store = openQuietly(url, clock: clock)
        XCTAssertEqual(ProgressStore.recentLessons(at: url), [])
        for lesson in ["a", "b", "c", "a", "d"] {
            store.setPosition(lesson: lesson, cell: nil, scroll: 0)
            clock.advance(60)
        }
        let recent = ProgressStore.recentLessons(at: url)
        XCTAssertEqual(recent, ["d", "a", "c", "b"])
        for existing: Set<String> in [["a", "b", "c", "d"], ["b", "c"], ["b"], ["z"]] {
            XCTAssertEqual(recent.first(where: existing.contains), store.lastLesson(among: existing), "\(existing)")
        }
        XCTAssertEqual(ProgressStore.recentLessons(at: url, limit: 2), ["d", "a"])
        let damaged = folder.appendingPathComponent("damaged.sqlite")
        try Data("not a database at all, only text".utf8).write(to: damaged)
        XCTAssertEqual(ProgressStore.recentLessons(at: damaged), [])
    }

    func testOverrides() throws {
        let clock = TestClock(t0)
        let store = openQuietly(try makeTemporaryFolder(self).appendingPathComponent("p.sqlite"), clock: clock)
        store.setOverride(lesson: "l", cell: "c1", parameter: "x", source: "[1, 2]")
        store.setOverride(lesson: "l", cell: "c2", parameter: "tau", source: "0.5")
        store.setOverride(lesson: "l", cell: "c1", parameter: "block", source: "3")
        clock.advance(5)
        store.setOverride(lesson: "l", cell: "c1", parameter: "x", source: "[3, 4]")
        store.setOverride(lesson: "other", cell: "c1", parameter: "x", source: "1")
        XCTAssertEqual(store.overrides(lesson: "l").map { "\($0.cell).\($0.parameter)=\($0.source)" },
                       ["c1.x=[3, 4]", "c2.tau=0.5", "c1.block=3"])
        XCTAssertEqual(store.overrides(lesson: "l").first?.updatedAt, t0 + 5)
        store.clearOverrides(lesson: "l", cell: "c1")
        XCTAssertEqual(store.overrides(lesson: "l").map(\.parameter), ["tau"])
        store.removeOverride(lesson: "l", cell: "c2", parameter: "tau")
        XCTAssertEqual(store.overrides(lesson: "l"), [])
        XCTAssertEqual(store.overrides(lesson: "other").count, 1)
        store.clearOverrides(lesson: "other")
        XCTAssertEqual(store.overrides(lesson: "other"), [])
    }

    /// What the TUI saves when the learner edits a cell: the cell's values as a whole.
    func testReplacingACellsOverrides() throws {
        let clock = TestClock(t0)
        let store = openQuietly(try makeTemporaryFolder(self).appendingPathComponent("p.sqlite"), clock: clock)
        store.setOverride(lesson: "l", cell: "c1", parameter: "x", source: "[1, 2]")
        store.setOverride(lesson: "l", cell: "c2", parameter: "tau", source: "0.5")
        store.setOverride(lesson: "l", cell: "c1", parameter: "block", source: "3")
        clock.advance(5)
        XCTAssertTrue(store.replaceOverrides(lesson: "l", cell: "c1", sources: ["x": "[9]", "k": "2", "a": "1"]))
        // x keeps its place; block is gone; the new ones follow in name order; c2 is untouched.
        XCTAssertEqual(store.overrides(lesson: "l").map { "\($0.cell).\($0.parameter)=\($0.source)" },
                       ["c1.x=[9]", "c2.tau=0.5", "c1.a=1", "c1.k=2"])
        XCTAssertEqual(store.overrides(lesson: "l").map(\.updatedAt), [t0 + 5, t0, t0 + 5, t0 + 5])
        XCTAssertTrue(store.replaceOverrides(lesson: "l", cell: "c1", sources: [:]))
        XCTAssertEqual(store.overrides(lesson: "l").map(\.parameter), ["tau"])
        // Forgetting nothing in a lesson never seen records nothing.
        XCTAssertTrue(store.replaceOverrides(lesson: "new", cell: "c", sources: [:]))
        XCTAssertFalse(store.hasProgress(lesson: "new"))
        XCTAssertTrue(store.replaceOverrides(lesson: "new", cell: "c", sources: ["x": "1"]))
        XCTAssertTrue(store.hasProgress(lesson: "new"))
        XCTAssertEqual(store.drainWarnings(), [])
    }

    /// A write that fails part way leaves the cell's values as they were, not half replaced.
    func testReplacingOverridesIsOneTransaction() throws {
        let url = try makeTemporaryFolder(self).appendingPathComponent("p.sqlite")
        let store = openQuietly(url)
        store.setOverride(lesson: "l", cell: "c", parameter: "x", source: "1")
        store.setOverride(lesson: "l", cell: "c", parameter: "y", source: "2")
        try rawQueue(url).write { db in
            try db.execute(sql: """
                CREATE TRIGGER refuse BEFORE INSERT ON override WHEN NEW.parameter = 'z'
                BEGIN SELECT RAISE(ABORT, 'refused'); END
                """)
        }
        // The delete of y and the update of x come before the refused insert of z.
        XCTAssertFalse(store.replaceOverrides(lesson: "l", cell: "c", sources: ["x": "5", "z": "3"]))
        XCTAssertEqual(store.drainWarnings().count, 1)
        XCTAssertEqual(try rawQueue(url).read { db in
            try String.fetchAll(db, sql: "SELECT parameter || '=' || source FROM override ORDER BY rowid")
        }, ["x=1", "y=2"])
    }

    func testCellHistoryForMarks() throws {
        let store = openQuietly(try makeTemporaryFolder(self).appendingPathComponent("p.sqlite"))
        store.recordRun(cellRun("l", "a", at: t0))
        store.recordRun(cellRun("l", "a", at: t0 + 1, error: "boom"))
        store.recordRun(cellRun("l", "b", at: t0 + 2, error: "boom"))
        let history = store.cellHistory(lesson: "l")
        XCTAssertEqual(history["a"], CellHistory(cell: "a", runs: 2, okRuns: 1, lastRunAt: t0 + 1, lastRunOK: false))
        XCTAssertEqual(history["b"]?.hasRunOK, false)
        XCTAssertEqual(history["a"]?.hasRunOK, true)
        XCTAssertNil(history["c"])
    }

    /// A progress scenario (the summary behind docs/json.md's `derive progress` JSON), with every number worked out by hand.
    func testSummary() throws {
        let clock = TestClock(t0)
        let store = openQuietly(try makeTemporaryFolder(self).appendingPathComponent("p.sqlite"), clock: clock)
        let a = LessonOutline(id: "a", title: "Lesson A", cellIDs: ["a1", "a2", "a3"])
        let b = LessonOutline(id: "b", title: "Lesson B", cellIDs: ["b1", "b2"])
        let c = LessonOutline(id: "c", title: "Lesson C", cellIDs: ["c1"])
        // Sitting 1 of A: 10:00:00 to 10:03:00.25 = 180.25 s.
        store.recordRun(cellRun("a", "a1", at: t0, seconds: 2), lessonCells: a.cellIDs)
        store.recordRun(cellRun("a", "a2", at: t0 + 60, seconds: 1, error: "bad"), lessonCells: a.cellIDs)
        store.recordRun(cellRun("a", "a2", at: t0 + 120, seconds: 1), lessonCells: a.cellIDs)
        store.recordRun(cellRun("a", "removed-cell", at: t0 + 150, seconds: 0), lessonCells: a.cellIDs)
        store.recordRun(cellRun("a", "a1", at: t0 + 180, seconds: 0.25), lessonCells: a.cellIDs)
        // Sitting 2 of A after a 17-minute pause: 3 s, and the lesson is done.
        XCTAssertTrue(store.recordRun(cellRun("a", "a3", at: t0 + 1200, seconds: 3), lessonCells: a.cellIDs).completedLesson)
        // B: only moves in the TUI, 4 minutes apart (one sitting of 240 s).
        clock.now = t0 + 1800
        store.setPosition(lesson: "b", cell: "b1", scroll: 0)
        clock.now = t0 + 2040
        store.setPosition(lesson: "b", cell: "b2", scroll: 30)
        // A lesson that is not in the list any more: not reported.
        store.recordRun(cellRun("gone", "x", at: t0))

        let summary = store.summary(for: [a, b, c])
        XCTAssertEqual(summary.lessons.map(\.id), ["a", "b", "c"])
        var expectedA = LessonProgress(outline: a)
        expectedA.cellsRun = 3
        expectedA.runs = 6
        expectedA.done = true
        expectedA.lastVisited = t0 + 1203
        expectedA.secondsSpent = 183
        expectedA.completedAt = t0 + 1203
        XCTAssertEqual(summary[lesson: "a"], expectedA)
        var expectedB = LessonProgress(outline: b)
        expectedB.lastVisited = t0 + 2040
        expectedB.secondsSpent = 240
        XCTAssertEqual(summary[lesson: "b"], expectedB)
        XCTAssertEqual(summary[lesson: "c"], LessonProgress(outline: c))
        XCTAssertEqual(summary.totalRuns, 6)
        XCTAssertEqual(summary.lessonsDone, 1)
        XCTAssertEqual(summary.streakDays, 1)

        XCTAssertEqual(summary.json.serialized(), """
            {"total_runs":6,"lessons_done":1,"streak_days":1,"longest_streak_days":1,"lessons":[\
            {"id":"a","title":"Lesson A","cells":3,"cells_run":3,"runs":6,"done":true,\
            "last_visited":"2026-11-28T10:20:03Z","seconds_spent":183,"completed_at":"2026-11-28T10:20:03Z",\
            "questions":0,"answered":0,"right_first_try":0}, \
            {"id":"b","title":"Lesson B","cells":2,"cells_run":0,"runs":0,"done":false,\
            "last_visited":"2026-11-28T10:34:00Z","seconds_spent":240,"completed_at":null,\
            "questions":0,"answered":0,"right_first_try":0}, \
            {"id":"c","title":"Lesson C","cells":1,"cells_run":0,"runs":0,"done":false,\
            "last_visited":null,"seconds_spent":0,"completed_at":null,\
            "questions":0,"answered":0,"right_first_try":0}]}
            """)
        XCTAssertEqual(summary.text(database: nil), """
            ✓ a  3/3 cells  ██████████  6 runs, 3m 03s, last 2026-11-28
              b  0/2 cells  ░░░░░░░░░░  0 runs, 4m 00s, last 2026-11-28
              c  0/1 cells  ░░░░░░░░░░  0 runs

            1 of 3 lessons done, 3 of 6 cells run, 6 runs, 7m 03s spent
            Streak: 1 day
            """)
    }

    /// Lesson files change: renamed or removed cells are ignored, not errors.
    func testStaleCellsAreIgnored() throws {
        let store = openQuietly(try makeTemporaryFolder(self).appendingPathComponent("p.sqlite"))
        let before = LessonOutline(id: "l", title: "L", cellIDs: ["a", "b"])
        store.recordRun(cellRun("l", "a", at: t0), lessonCells: before.cellIDs)
        XCTAssertTrue(store.recordRun(cellRun("l", "b", at: t0 + 1), lessonCells: before.cellIDs).completedLesson)
        // `b` was renamed `b2`: the lesson is no longer done; its old runs still count as runs.
        let after = LessonOutline(id: "l", title: "L", cellIDs: ["a", "b2"])
        let progress = store.summary(for: [after])[lesson: "l"]
        XCTAssertEqual(progress?.cellsRun, 1)
        XCTAssertEqual(progress?.runs, 2)
        XCTAssertEqual(progress?.done, false)
        XCTAssertNil(progress?.completedAt)
        // `b` removed altogether: done again, since its first completion.
        let removed = store.summary(for: [LessonOutline(id: "l", title: "L", cellIDs: ["a"])])[lesson: "l"]
        XCTAssertEqual(removed?.done, true)
        XCTAssertEqual(removed?.completedAt, t0 + 1.001)
        // A lesson whose completion was never recorded but whose cells all ran reports the
        // time of the first success of its last cell.
        store.recordRun(cellRun("m", "x", at: t0 + 5))
        XCTAssertEqual(store.summary(for: [LessonOutline(id: "m", title: "M", cellIDs: ["x"])])[lesson: "m"]?.completedAt,
                       t0 + 5)
        // A lesson with no cells is never done.
        XCTAssertEqual(store.summary(for: [LessonOutline(id: "e", title: "E", cellIDs: [])])[lesson: "e"]?.done, false)
    }

    func testSittingsMergeUpToFiveMinutes() throws {
        let clock = TestClock(t0)
        let store = openQuietly(try makeTemporaryFolder(self).appendingPathComponent("p.sqlite"), clock: clock)
        let outline = [LessonOutline(id: "l", title: "L", cellIDs: ["x"])]
        store.setPosition(lesson: "l", cell: nil, scroll: 0)
        clock.advance(300)                      // exactly the gap: same sitting
        store.setPosition(lesson: "l", cell: nil, scroll: 1)
        XCTAssertEqual(store.summary(for: outline)[lesson: "l"]?.secondsSpent, 300)
        clock.advance(300.002)                  // just past it: a new sitting, zero long so far
        store.setPosition(lesson: "l", cell: nil, scroll: 2)
        XCTAssertEqual(store.summary(for: outline)[lesson: "l"]?.secondsSpent, 300)
        clock.advance(100)
        store.setPosition(lesson: "l", cell: nil, scroll: 3)
        XCTAssertEqual(store.summary(for: outline)[lesson: "l"]?.secondsSpent, 400)
        // A run reported late (another process) that started before the sitting stretches it back.
        let sittingStart = t0 + 600.002
        store.recordRun(cellRun("l", "x", at: sittingStart - 20, seconds: 1))
        XCTAssertEqual(store.summary(for: outline)[lesson: "l"]?.secondsSpent, 420)
        // A long run counts for its whole duration.
        clock.advance(3600)
        store.recordRun(cellRun("l", "x", at: clock.now, seconds: 90))
        XCTAssertEqual(store.summary(for: outline)[lesson: "l"]?.secondsSpent, 510)
        XCTAssertEqual(store.summary(for: outline)[lesson: "l"]?.lastVisited, clock.now + 90)
    }

    func testStreakOfDays() throws {
        XCTAssertEqual(Streak.compute(days: [], today: 100).current, 0)
        XCTAssertEqual(Streak.compute(days: [10, 11, 12, 13, 26, 27], today: 27).current, 2)
        XCTAssertEqual(Streak.compute(days: [10, 11, 12, 13, 26, 27], today: 27).longest, 4)
        // Nothing yet today: yesterday's streak still stands; the day after, it is over.
        XCTAssertEqual(Streak.compute(days: [26, 27], today: 28).current, 2)
        XCTAssertEqual(Streak.compute(days: [26, 27], today: 29).current, 0)

        let clock = TestClock(utc("2026-11-28T23:59:00Z"))
        let store = openQuietly(try makeTemporaryFolder(self).appendingPathComponent("p.sqlite"), clock: clock)
        for day in ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-26", "2026-11-27"] {
            store.recordRun(cellRun("l", "x", at: utc("\(day)T12:00:00Z")))
        }
        XCTAssertEqual(store.streakDays(), 2)
        // A sitting that crosses midnight (UTC) counts for both days.
        store.setPosition(lesson: "l", cell: nil, scroll: 0)
        clock.advance(120)
        store.setPosition(lesson: "l", cell: nil, scroll: 1)
        XCTAssertEqual(store.streakDays(), 4)
        let summary = store.summary(for: [])
        XCTAssertEqual(summary.streakDays, 4)
        XCTAssertEqual(summary.longestStreakDays, 4)
        clock.advance(2 * 86_400)
        XCTAssertEqual(store.streakDays(), 0)
        XCTAssertEqual(store.summary(for: []).longestStreakDays, 4)
    }

    func testResetOneLessonOrAll() throws {
        let url = try makeTemporaryFolder(self).appendingPathComponent("p.sqlite")
        let clock = TestClock(t0)
        let store = openQuietly(url, clock: clock)
        for lesson in ["a", "b"] {
            store.recordRun(cellRun(lesson, "c", at: t0), lessonCells: ["c"])
            store.setPosition(lesson: lesson, cell: "c", scroll: 1)
            store.setOverride(lesson: lesson, cell: "c", parameter: "x", source: "1")
        }
        let tables = ["lesson", "run", "position", "completion", "override", "sitting"]
        XCTAssertEqual(try tables.map { try rowCount(url, $0) }, [2, 2, 2, 2, 2, 2])
        XCTAssertTrue(store.reset(lesson: "a"))
        XCTAssertEqual(try tables.map { try rowCount(url, $0) }, [1, 1, 1, 1, 1, 1])
        XCTAssertFalse(store.hasProgress(lesson: "a"))
        XCTAssertTrue(store.hasProgress(lesson: "b"))
        XCTAssertEqual(try rawQueue(url).read { try String.fetchAll($0, sql: "SELECT id FROM lesson") }, ["b"])
        XCTAssertTrue(store.reset(lesson: nil))
        XCTAssertEqual(try tables.map { try rowCount(url, $0) }, [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(store.drainWarnings(), [])
    }

    func testOffStoreDoesNothingQuietly() {
        let store = ProgressStore.off()
        XCTAssertEqual(store.mode, .off)
        XCTAssertFalse(store.recordRun(cellRun("l", "c", at: t0)).recorded)
        XCTAssertFalse(store.setPosition(lesson: "l", cell: nil, scroll: 0))
        XCTAssertEqual(store.summary(for: [LessonOutline(id: "l", title: "L", cellIDs: ["c"])])[lesson: "l"]?.runs, 0)
        XCTAssertEqual(store.drainWarnings(), [])
    }

    func testDurationText() {
        XCTAssertEqual(ProgressFormat.duration(0), "0s")
        XCTAssertEqual(ProgressFormat.duration(59), "59s")
        XCTAssertEqual(ProgressFormat.duration(60), "1m 00s")
        XCTAssertEqual(ProgressFormat.duration(3599), "59m 59s")
        XCTAssertEqual(ProgressFormat.duration(3600 + 120 + 59), "1h 02m")
        XCTAssertEqual(ProgressFormat.bar(0.5, width: 4), "██░░")
        XCTAssertEqual(ProgressFormat.bar(.nan, width: 2), "░░")
    }
}

extension Date {
    static func + (date: Date, seconds: TimeInterval) -> Date { date.addingTimeInterval(seconds) }
    static func - (date: Date, seconds: TimeInterval) -> Date { date.addingTimeInterval(-seconds) }
}
