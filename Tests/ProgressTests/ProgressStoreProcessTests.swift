import Foundation
import GRDB
import TestSupport
import XCTest

@testable import Progress
import NotebookCore

/// Faults that need real processes: two writers at once, a writer killed mid-write, a process
/// that may not write the location, a process whose writes fail as on a full disk. The
/// children are this test bundle relaunched on ``ProgressStoreChildProcess``.
final class ProgressStoreProcessTests: XCTestCase {
    struct Child {
        let process: Process
        let journal: URL

        var lines: [String] {
            ((try? String(contentsOf: journal, encoding: .utf8)) ?? "")
                .split(separator: "\n").map(String.init)
        }

        var committed: [Int] {
            lines.compactMap { $0.hasPrefix("committed ") ? Int($0.dropFirst(10)) : nil }
        }

        var warnings: [String] { lines.filter { $0.hasPrefix("warning: ") } }
    }

    private func launch(_ role: String, db: URL, folder: URL, name: String,
                        extra: [String: String] = [:]) throws -> Child {
        let executable = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
        guard executable.lastPathComponent.hasSuffix(".xctest"),
              FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw XCTSkip("needs the test bundle as an executable (Linux) to launch child processes")
        }
        let journal = folder.appendingPathComponent("\(name).journal")
        let process = Process()
        process.executableURL = executable
        process.arguments = ["ProgressTests.ProgressStoreChildProcess/testChildEntryPoint"]
        var env = ProcessInfo.processInfo.environment
        env["DERIVE_PROGRESS_CHILD"] = role
        env["DERIVE_PROGRESS_DB"] = db.path
        env["DERIVE_PROGRESS_JOURNAL"] = journal.path
        env.merge(extra) { $1 }
        process.environment = env
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        return Child(process: process, journal: journal)
    }

    private func wait(_ child: Child, timeout: TimeInterval = 120) {
        let deadline = Date().addingTimeInterval(timeout)
        while child.process.isRunning && Date() < deadline { usleep(10_000) }
        if child.process.isRunning {
            XCTFail("child still running after \(timeout) s: \(child.lines.suffix(3))")
            kill(child.process.processIdentifier, SIGKILL)
            child.process.waitUntilExit()
        }
    }

    /// Two processes recording 500 runs each at the same moment: every run lands, and no
    /// "database is locked" reaches either of them.
    func testTwoProcessesRecordingAtOnceLoseNothing() throws {
        let folder = try makeTemporaryFolder(self)
        let db = folder.appendingPathComponent("progress.sqlite")
        let go = folder.appendingPathComponent("go")
        // Neither child creates the database first: both open a missing file at once.
        let children = try ["A", "B"].map {
            try launch("writer", db: db, folder: folder, name: $0,
                       extra: ["DERIVE_PROGRESS_COUNT": "500", "DERIVE_PROGRESS_TAG": $0,
                               "DERIVE_PROGRESS_GO": go.path])
        }
        usleep(200_000)
        XCTAssertTrue(FileManager.default.createFile(atPath: go.path, contents: Data()))
        for child in children { wait(child) }
        for child in children {
            XCTAssertEqual(child.process.terminationStatus, 0)
            XCTAssertEqual(child.committed, Array(0..<500))
            XCTAssertEqual(child.warnings, [])
            XCTAssertEqual(child.lines.last, "done")
        }
        let store = openQuietly(db)
        let runs = store.runs(lesson: "stress")
        XCTAssertEqual(runs.count, 1000)
        XCTAssertEqual(Set(runs.map(\.cell)).count, 1000)
        for tag in ["A", "B"] {
            XCTAssertEqual(Set(runs.filter { $0.cell.hasPrefix("\(tag)-") }.map(\.cell)),
                           Set((0..<500).map { "\(tag)-\($0)-0" }))
        }
        XCTAssertEqual(store.integrityCheck(), ["ok"])
    }

    /// A writer killed with SIGKILL, three times, at whatever point of a transaction it is:
    /// the database opens cleanly, passes `integrity_check`, and holds every committed batch
    /// whole (a batch is one transaction: all of its 20 runs or none).
    func testWriterKilledMidWriteLosesNoCommittedRun() throws {
        let folder = try makeTemporaryFolder(self)
        let db = folder.appendingPathComponent("progress.sqlite")
        var committedPerRound: [[Int]] = []
        for round in 0..<3 {
            let child = try launch("writer", db: db, folder: folder, name: "kill\(round)",
                                   extra: ["DERIVE_PROGRESS_COUNT": "0", "DERIVE_PROGRESS_TAG": "r\(round)",
                                           "DERIVE_PROGRESS_BATCH": "20", "DERIVE_PROGRESS_PAYLOAD": "2000"])
            let deadline = Date().addingTimeInterval(60)
            // Each round runs a different length, so the kill lands at different points.
            while child.committed.count < 30 + 17 * round && Date() < deadline && child.process.isRunning {
                usleep(2_000)
            }
            XCTAssertTrue(child.process.isRunning, "writer stopped early: \(child.lines.suffix(3))")
            kill(child.process.processIdentifier, SIGKILL)
            child.process.waitUntilExit()
            XCTAssertEqual(child.process.terminationReason, .uncaughtSignal)
            XCTAssertEqual(child.warnings, [])
            committedPerRound.append(child.committed)
        }
        let opened = ProgressStore.open(at: db)
        XCTAssertEqual(opened.warnings, [])
        XCTAssertEqual(opened.store.integrityCheck(), ["ok"])
        let cells = Set(opened.store.runs(lesson: "stress").map(\.cell))
        for (round, committed) in committedPerRound.enumerated() {
            XCTAssertEqual(committed, Array(0..<committed.count))
            let batches = Set(cells.filter { $0.hasPrefix("r\(round)-") }.map { $0.split(separator: "-")[1] })
            // The batch being written at the kill may have committed before its journal line.
            XCTAssertTrue(batches.count == committed.count || batches.count == committed.count + 1,
                          "round \(round): \(batches.count) batches, \(committed.count) logged")
            for batch in 0..<batches.count {
                for j in 0..<20 {
                    XCTAssertTrue(cells.contains("r\(round)-\(batch)-\(j)"), "missing r\(round)-\(batch)-\(j)")
                }
            }
        }
        XCTAssertEqual(cells.count % 20, 0)
        // And it keeps recording.
        XCTAssertTrue(opened.store.recordRun(cellRun("after", "c", at: Date())).recorded)
    }

    /// A location the process may not write: a warning, nothing recorded, no crash, and what
    /// was recorded before is still shown. A folder that cannot be created: a warning too.
    func testReadOnlyLocation() throws {
        let folder = try makeTemporaryFolder(self)
        _ = chmod(folder.path, 0o755)
        let locked = folder.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: false)
        let db = locked.appendingPathComponent("progress.sqlite")
        do {
            let store = openQuietly(db)
            store.recordRun(cellRun("l", "c", at: Date()))
            store.recordRun(cellRun("l", "c", at: Date()))
        }
        XCTAssertEqual(chmod(locked.path, 0o555), 0)
        XCTAssertEqual(chmod(db.path, 0o644), 0)
        let before = try folderListing(locked)

        let child = try launch("readonly", db: db, folder: folder, name: "ro")
        wait(child)
        XCTAssertEqual(child.process.terminationStatus, 0)
        let lines = child.lines
        XCTAssertEqual(child.warnings.count, 1, "\(lines)")
        XCTAssertTrue(child.warnings.first?.contains("cannot write progress to \(db.path)") ?? false, "\(lines)")
        XCTAssertTrue(child.warnings.first?.contains("progress is not being recorded") ?? false)
        XCTAssertTrue(lines.contains("mode readOnly"), "\(lines)")
        XCTAssertTrue(lines.contains("recorded false"))
        XCTAssertTrue(lines.contains("position false"))
        XCTAssertTrue(lines.contains("runs 2"), "\(lines)")
        XCTAssertEqual(lines.last, "done")
        XCTAssertEqual(try folderListing(locked), before)

        // A folder that cannot be created under the locked one.
        let deeper = locked.appendingPathComponent("sub/progress.sqlite")
        let child2 = try launch("readonly", db: deeper, folder: folder, name: "ro2")
        wait(child2)
        XCTAssertEqual(child2.process.terminationStatus, 0)
        XCTAssertEqual(child2.warnings.count, 1, "\(child2.lines)")
        XCTAssertTrue(child2.warnings.first?.contains("cannot create the progress folder") ?? false, "\(child2.lines)")
        XCTAssertTrue(child2.lines.contains("mode off"))
        XCTAssertTrue(child2.lines.contains("recorded false"))
        XCTAssertTrue(child2.lines.contains("runs 0"))
    }

    /// Writes that fail for lack of space (a file size limit here): one warning, recording
    /// stops, reads go on, and every committed run is there afterwards.
    func testWritesFailingForSpaceStopRecordingQuietly() throws {
        let folder = try makeTemporaryFolder(self)
        let db = folder.appendingPathComponent("progress.sqlite")
        do { _ = openQuietly(db) }   // the schema, before the limit
        let child = try launch("filesize", db: db, folder: folder, name: "fsize",
                               extra: ["DERIVE_PROGRESS_LIMIT": "1000000"])
        wait(child)
        XCTAssertEqual(child.process.terminationStatus, 0, "\(child.lines.suffix(5))")
        let lines = child.lines
        let committed = child.committed
        XCTAssertGreaterThan(committed.count, 0)
        XCTAssertTrue(lines.contains("failed \(committed.count)"), "\(lines.suffix(5))")
        XCTAssertEqual(child.warnings.count, 1, "\(child.warnings)")
        XCTAssertTrue(child.warnings.first?.contains("progress is not being recorded for the rest of this session") ?? false)
        XCTAssertTrue(lines.contains("mode readOnly"))
        XCTAssertTrue(lines.contains("after false"))
        XCTAssertTrue(lines.contains("readable \(committed.count * 20)"), "\(lines.suffix(5))")

        let store = openQuietly(db)
        XCTAssertEqual(store.integrityCheck(), ["ok"])
        XCTAssertEqual(store.runs(lesson: "full").count, committed.count * 20)
    }
}
