import Foundation
import GRDB
import TestSupport
import XCTest

@testable import Progress
import NotebookCore

/// Damaged, foreign, full and unreachable databases (the process faults are in
/// ``ProgressStoreProcessTests``).
final class ProgressStoreFaultTests: XCTestCase {
    let t0 = utc("2026-11-28T10:00:00Z")

    /// Opens a database expected to be damaged: one warning naming the file it was moved to,
    /// a fresh database that records, and the damaged bytes kept unchanged.
    private func assertRecovers(_ db: URL, original: Data, expectedAside: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let clock = TestClock(t0)
        let opened = ProgressStore.open(at: db, clock: clock.closure)
        XCTAssertEqual(opened.warnings.count, 1, "\(opened.warnings)", file: file, line: line)
        let warning = opened.warnings.first ?? ""
        XCTAssertTrue(warning.hasPrefix("progress database \(db.path) is damaged ("), warning, file: file, line: line)
        XCTAssertTrue(warning.hasSuffix("moved it to \(expectedAside) and started a fresh one"), warning,
                      file: file, line: line)
        XCTAssertEqual(FileManager.default.contents(atPath: expectedAside), original, file: file, line: line)
        XCTAssertEqual(opened.store.mode, .recording, file: file, line: line)
        XCTAssertTrue(opened.store.recordRun(cellRun("l", "c", at: t0)).recorded, file: file, line: line)
        XCTAssertEqual(opened.store.runs().count, 1, file: file, line: line)
        XCTAssertEqual(opened.store.integrityCheck(), ["ok"], file: file, line: line)
    }

    func testFileThatIsNotADatabaseIsMovedAside() throws {
        let folder = try makeTemporaryFolder(self)
        let db = folder.appendingPathComponent("progress.sqlite")
        let junk = Data(String(repeating: "this is not SQLite\n", count: 400).utf8)
        try junk.write(to: db)
        try assertRecovers(db, original: junk, expectedAside: db.path + ".corrupt-20261128T100000Z")
        XCTAssertEqual(try folderListing(folder),
                       ["progress.sqlite", "progress.sqlite-checked", "progress.sqlite.corrupt-20261128T100000Z"])
    }

    func testTruncatedDatabaseIsMovedAside() throws {
        let folder = try makeTemporaryFolder(self)
        let db = folder.appendingPathComponent("progress.sqlite")
        do {
            let store = openQuietly(db)
            let payload = String(repeating: "p", count: 500)
            store.recordRuns((0..<400).map {
                cellRun("l", "c\($0)", at: t0 + Double($0), parameters: [("pad", .text(payload))])
            })
        }
        let whole = try Data(contentsOf: db)
        XCTAssertGreaterThan(whole.count, 40 * 4096)
        // Cut in the middle of a page, as a copy interrupted or a full disk would.
        let cut = whole.prefix(whole.count / 2 + 1000)
        try cut.write(to: db)
        try assertRecovers(db, original: cut, expectedAside: db.path + ".corrupt-20261128T100000Z")
    }

    func testDamagedPagesAreMovedAsideWithTheirWAL() throws {
        let folder = try makeTemporaryFolder(self)
        let db = folder.appendingPathComponent("progress.sqlite")
        do {
            let store = openQuietly(db)
            store.recordRuns((0..<400).map { cellRun("l", "c\($0)", at: t0 + Double($0)) })
        }
        var bytes = try Data(contentsOf: db)
        XCTAssertGreaterThan(bytes.count, 8 * 4096)
        // Scribble over pages 2 to 8, keeping the 100-byte header valid so SQLite opens it.
        var random = TestRandom(seed: 7)
        for i in 4096..<(8 * 4096) { bytes[i] = random.byte() }
        try bytes.write(to: db)
        let wal = Data("a stale write-ahead log".utf8)
        try wal.write(to: URL(fileURLWithPath: db.path + "-wal"))
        try assertRecovers(db, original: bytes, expectedAside: db.path + ".corrupt-20261128T100000Z")
        // The WAL went with it: replayed into the fresh database it could do harm.
        XCTAssertEqual(FileManager.default.contents(atPath: db.path + ".corrupt-20261128T100000Z-wal"), wal)
    }

    func testSecondDamagedFileInTheSameSecondGetsItsOwnName() throws {
        let folder = try makeTemporaryFolder(self)
        let db = folder.appendingPathComponent("progress.sqlite")
        let first = Data("first junk, long enough to fill a header of one hundred bytes............................................".utf8)
        try first.write(to: db)
        try assertRecovers(db, original: first, expectedAside: db.path + ".corrupt-20261128T100000Z")
        let second = Data(first.reversed())
        try FileManager.default.removeItem(at: db)
        try? FileManager.default.removeItem(atPath: db.path + "-wal")
        try? FileManager.default.removeItem(atPath: db.path + "-shm")
        try second.write(to: db)
        try assertRecovers(db, original: second, expectedAside: db.path + ".corrupt-20261128T100000Z-2")
        XCTAssertEqual(FileManager.default.contents(atPath: db.path + ".corrupt-20261128T100000Z"), first)
    }

    /// The database of another program (a wrong `--db`) is neither moved nor written.
    func testForeignDatabaseIsLeftAlone() throws {
        let folder = try makeTemporaryFolder(self)
        let db = folder.appendingPathComponent("notes.sqlite")
        do {
            let queue = try DatabaseQueue(path: db.path)
            try queue.write { try $0.execute(sql: "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('keep')") }
        }
        let before = try Data(contentsOf: db)
        let opened = ProgressStore.open(at: db)
        XCTAssertEqual(opened.warnings.count, 1)
        XCTAssertTrue(opened.warnings.first?.contains("is not a derive progress database") ?? false, "\(opened.warnings)")
        XCTAssertEqual(opened.store.mode, .off)
        XCTAssertFalse(opened.store.recordRun(cellRun("l", "c", at: t0)).recorded)
        XCTAssertEqual(try Data(contentsOf: db), before)
        XCTAssertFalse(try folderListing(folder).contains { $0.contains("corrupt") })
    }

    func testFolderThatCannotBeCreated() throws {
        let folder = try makeTemporaryFolder(self)
        let blocker = folder.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: blocker)
        let opened = ProgressStore.open(at: blocker.appendingPathComponent("derive/progress.sqlite"))
        XCTAssertEqual(opened.warnings.count, 1)
        XCTAssertTrue(opened.warnings.first?.hasPrefix("cannot create the progress folder") ?? false, "\(opened.warnings)")
        XCTAssertEqual(opened.store.mode, .off)
        XCTAssertFalse(opened.store.recordRun(cellRun("l", "c", at: t0)).recorded)
        XCTAssertFalse(opened.store.setPosition(lesson: "l", cell: nil, scroll: 0))
        XCTAssertEqual(opened.store.summary(for: []).totalRuns, 0)
    }

    /// `SQLITE_FULL`, as a full disk gives it (through `max_page_count`): one warning, then
    /// recording stops while reading goes on; nothing committed is lost.
    func testDatabaseFullStopsRecordingWithOneWarning() throws {
        let folder = try makeTemporaryFolder(self)
        let db = folder.appendingPathComponent("progress.sqlite")
        do { _ = openQuietly(db) }
        let opened = ProgressStore.open(at: db, clock: { Date() }, options: .init(maxPageCount: 40))
        XCTAssertEqual(opened.warnings, [])
        let store = opened.store
        let payload = String(repeating: "z", count: 1500)
        var recorded = 0
        while recorded < 1000,
              store.recordRun(cellRun("l", "c\(recorded)", at: t0, parameters: [("pad", .text(payload))])).recorded {
            recorded += 1
        }
        XCTAssertGreaterThan(recorded, 10)
        XCTAssertLessThan(recorded, 1000)
        let warnings = store.drainWarnings()
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings.first?.contains("database or disk is full") ?? false, "\(warnings)")
        XCTAssertEqual(store.mode, .readOnly)
        XCTAssertFalse(store.setPosition(lesson: "l", cell: nil, scroll: 1))
        XCTAssertFalse(store.setOverride(lesson: "l", cell: "c", parameter: "x", source: "1"))
        XCTAssertEqual(store.drainWarnings(), [])
        XCTAssertEqual(store.runs(lesson: "l").count, recorded)
        XCTAssertEqual(store.summary(for: [LessonOutline(id: "l", title: "L", cellIDs: ["c0"])]).totalRuns, recorded)
        let reopened = openQuietly(db)
        XCTAssertEqual(reopened.runs(lesson: "l").count, recorded)
        XCTAssertEqual(reopened.integrityCheck(), ["ok"])
    }
}
