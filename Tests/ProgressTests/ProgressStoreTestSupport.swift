import Foundation
import GRDB
import TestSupport
import XCTest

@testable import Progress
import NotebookCore

/// A clock the test moves by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date) { current = start }

    var now: Date {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }

    func advance(_ seconds: TimeInterval) { now = now.addingTimeInterval(seconds) }

    var closure: @Sendable () -> Date { { self.now } }
}

/// `2026-11-28T10:00:00Z` plus an offset, so tests read in whole seconds.
func utc(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    guard let date = formatter.date(from: text) else { fatalError("bad date \(text)") }
    return date
}

/// Opens a store and fails the test on any warning.
func openQuietly(_ url: URL, clock: TestClock? = nil,
                 file: StaticString = #filePath, line: UInt = #line) -> ProgressStore {
    let opened = if let clock { ProgressStore.open(at: url, clock: clock.closure) } else { ProgressStore.open(at: url) }
    XCTAssertTrue(opened.warnings.isEmpty, "\(opened.warnings)", file: file, line: line)
    XCTAssertEqual(opened.store.mode, ProgressStore.Mode.recording, file: file, line: line)
    return opened.store
}

func cellRun(_ lesson: String, _ cell: String, at start: Date, seconds: Double = 0.001,
         error: String? = nil, parameters: [(name: String, value: Value)] = [("x", .number(1))]) -> CellRunRecord {
    CellRunRecord(lesson: lesson, cell: cell, parameters: parameters, startedAt: start,
                  durationMicroseconds: Int((seconds * 1e6).rounded()), error: error)
}

/// Raw access for checks the public API does not offer.
func rawQueue(_ url: URL) throws -> DatabaseQueue {
    var config = Configuration()
    config.busyMode = .timeout(5)
    return try DatabaseQueue(path: url.path, configuration: config)
}

func rowCount(_ url: URL, _ table: String) throws -> Int {
    try rawQueue(url).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table)") ?? -1 }
}

/// Files in a folder, sorted.
func folderListing(_ url: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
}
