import Foundation
import TestSupport
import XCTest

@testable import Progress
import NotebookCore

/// The entry point of the child processes that ``ProgressStoreProcessTests`` launches (two
/// writers at once, a writer killed mid-write, a process without write access, a process
/// whose file size limit runs out). It is a test method only because the test bundle is the
/// one executable that has the store in it; run on its own, it skips.
final class ProgressStoreChildProcess: XCTestCase {
    func testChildEntryPoint() throws {
        let env = ProcessInfo.processInfo.environment
        guard let role = env["DERIVE_PROGRESS_CHILD"], let journalPath = env["DERIVE_PROGRESS_JOURNAL"],
              let dbPath = env["DERIVE_PROGRESS_DB"] else {
            throw XCTSkip("entry point for child processes launched by ProgressStoreProcessTests")
        }
        let journal = Journal(path: journalPath)
        switch role {
        case "writer":
            writer(db: dbPath, env: env, journal: journal)
        case "readonly":
            readOnly(db: dbPath, env: env, journal: journal)
        case "filesize":
            fileSizeLimited(db: dbPath, env: env, journal: journal)
        default:
            journal.log("unknown role \(role)")
        }
        journal.log("done")
        // Leave at once: the parent reads the journal, not XCTest's report.
        exit(0)
    }

    /// Records `DERIVE_PROGRESS_COUNT` batches (0: until killed) of `DERIVE_PROGRESS_BATCH`
    /// runs, each batch one transaction, logging `committed I` after each; every tenth batch
    /// also moves the position, so two writers contend on the same rows.
    private func writer(db: String, env: [String: String], journal: Journal) {
        let count = Int(env["DERIVE_PROGRESS_COUNT"] ?? "") ?? 0
        let batchSize = Int(env["DERIVE_PROGRESS_BATCH"] ?? "") ?? 1
        let tag = env["DERIVE_PROGRESS_TAG"] ?? "w"
        let payload = String(repeating: "x", count: Int(env["DERIVE_PROGRESS_PAYLOAD"] ?? "") ?? 0)
        let opened = ProgressStore.open(at: URL(fileURLWithPath: db))
        for warning in opened.warnings { journal.log("warning: \(warning)") }
        let store = opened.store
        if let go = env["DERIVE_PROGRESS_GO"] {
            while !FileManager.default.fileExists(atPath: go) { usleep(1000) }
        }
        var i = 0
        while count == 0 || i < count {
            let batch = (0..<batchSize).map { j in
                CellRunRecord(lesson: "stress", cell: "\(tag)-\(i)-\(j)",
                              parameters: [("i", .integer(i)), ("pad", .text(payload))],
                              startedAt: Date(), durationMicroseconds: 10, error: nil)
            }
            guard store.recordRuns(batch).recorded else {
                journal.log("failed \(i)")
                break
            }
            journal.log("committed \(i)")
            if i % 10 == 0 && !store.setPosition(lesson: "stress", cell: "\(tag)-\(i)-0", scroll: i) {
                journal.log("failed position \(i)")
                break
            }
            i += 1
        }
        for warning in store.drainWarnings() { journal.log("warning: \(warning)") }
    }

    /// Opens a database in a folder it may not write (dropping root first, since root writes
    /// anywhere), tries to record, and reports what it could do.
    private func readOnly(db: String, env: [String: String], journal: Journal) {
        if geteuid() == 0 {
            guard setgid(65534) == 0, setuid(65534) == 0 else {
                journal.log("cannot drop privileges")
                return
            }
        }
        let opened = ProgressStore.open(at: URL(fileURLWithPath: db))
        for warning in opened.warnings { journal.log("warning: \(warning)") }
        let store = opened.store
        journal.log("mode \(store.mode)")
        let run = CellRunRecord(lesson: "l", cell: "c", parameters: [], startedAt: Date(),
                                durationMicroseconds: 1, error: nil)
        journal.log("recorded \(store.recordRun(run).recorded)")
        journal.log("position \(store.setPosition(lesson: "l", cell: "c", scroll: 1))")
        let summary = store.summary(for: [LessonOutline(id: "l", title: "L", cellIDs: ["c"])])
        journal.log("runs \(summary.totalRuns)")
        for warning in store.drainWarnings() { journal.log("warning: \(warning)") }
    }

    /// Records under a file size limit (`RLIMIT_FSIZE`), which fails writes the way a full
    /// disk does, until recording stops.
    private func fileSizeLimited(db: String, env: [String: String], journal: Journal) {
        let opened = ProgressStore.open(at: URL(fileURLWithPath: db))
        for warning in opened.warnings { journal.log("warning: \(warning)") }
        let store = opened.store
        signal(SIGXFSZ, SIG_IGN)
        let bytes = rlim_t(Int(env["DERIVE_PROGRESS_LIMIT"] ?? "") ?? 200_000)
        var limit = rlimit(rlim_cur: bytes, rlim_max: bytes)
        #if os(Linux)
        let resource = __rlimit_resource_t(RLIMIT_FSIZE.rawValue)
        #else
        let resource = RLIMIT_FSIZE
        #endif
        guard setrlimit(resource, &limit) == 0 else {
            journal.log("cannot set the file size limit")
            return
        }
        let payload = String(repeating: "y", count: 2000)
        for i in 0..<10_000 {
            let batch = (0..<20).map { j in
                CellRunRecord(lesson: "full", cell: "c-\(i)-\(j)", parameters: [("pad", .text(payload))],
                              startedAt: Date(), durationMicroseconds: 10, error: nil)
            }
            guard store.recordRuns(batch).recorded else {
                journal.log("failed \(i)")
                break
            }
            journal.log("committed \(i)")
        }
        journal.log("mode \(store.mode)")
        journal.log("after \(store.recordRun(CellRunRecord(lesson: "full", cell: "z", parameters: [], startedAt: Date(), durationMicroseconds: 1, error: nil)).recorded)")
        journal.log("readable \(store.runs(lesson: "full").count)")
        for warning in store.drainWarnings() { journal.log("warning: \(warning)") }
    }
}

/// Lines appended with one `write(2)` each, so a killed child leaves only whole lines.
struct Journal {
    let fd: Int32

    init(path: String) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o666)
    }

    func log(_ line: String) {
        let text = Array((line.replacingOccurrences(of: "\n", with: " ") + "\n").utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
