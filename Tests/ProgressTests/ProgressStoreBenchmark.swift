import Foundation
import TestSupport
import XCTest

@testable import Progress
import NotebookCore

/// Timings of the store, for the record (not a pass/fail check). Run in a release build:
///
///     swift build -c release --build-tests -Xswiftc -enable-testing
///     DERIVE_BENCH=1 .build/release/derivePackageTests.xctest NotebookCoreTests.ProgressStoreBenchmark
final class ProgressStoreBenchmark: XCTestCase {
    func testTimings() throws {
        guard ProcessInfo.processInfo.environment["DERIVE_BENCH"] == "1" else {
            throw XCTSkip("timings: set DERIVE_BENCH=1 (release build)")
        }
        let folder = try makeTemporaryFolder(self)
        let db = folder.appendingPathComponent("progress.sqlite")
        let store = openQuietly(db)
        let cells = (0..<12).map { "cell\($0)" }
        let parameters: [(name: String, value: Value)] = [("x", .vector([2, 1, 3, 5, 4])), ("block", .integer(2))]
        func record(_ i: Int) -> CellRunRecord {
            CellRunRecord(lesson: "lesson\(i % 12)", cell: cells[i % 12], parameters: parameters,
                          startedAt: Date(), durationMicroseconds: 11, error: nil)
        }

        // One run, one transaction, with the completion check: what the notebook does per cell.
        for i in 0..<200 { XCTAssertTrue(store.recordRun(record(i), lessonCells: cells).recorded) }
        var samples: [Double] = []
        for i in 0..<5000 {
            let run = record(i)
            let start = DispatchTime.now().uptimeNanoseconds
            let outcome = store.recordRun(run, lessonCells: cells)
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
            XCTAssertTrue(outcome.recorded)
        }
        report("recordRun (1 run, own transaction)", samples)

        // A batch of 12 in one transaction: `derive run` of a 12-cell lesson.
        samples = []
        for i in 0..<500 {
            let batch = (0..<12).map { record(i * 12 + $0) }
            let start = DispatchTime.now().uptimeNanoseconds
            XCTAssertTrue(store.recordRuns(batch, lessonCells: cells).recorded)
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
        }
        report("recordRuns (12 runs, one transaction)", samples)

        samples = []
        for i in 0..<2000 {
            let start = DispatchTime.now().uptimeNanoseconds
            XCTAssertTrue(store.setPosition(lesson: "lesson\(i % 12)", cell: cells[i % 12], scroll: i))
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
        }
        report("setPosition", samples)

        // Grow to about 100,000 runs, then time what `derive list` and `derive progress` pay.
        for i in 0..<7600 { store.recordRuns((0..<12).map { record(i * 12 + $0) }) }
        let outlines = (0..<12).map { LessonOutline(id: "lesson\($0)", title: "L", cellIDs: cells) }
        samples = []
        for _ in 0..<20 {
            let start = DispatchTime.now().uptimeNanoseconds
            let summary = store.summary(for: outlines)
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
            XCTAssertGreaterThan(summary.totalRuns, 100_000)
        }
        report("summary, 12 lessons, \(store.runs().count) runs", samples)
        samples = []
        for _ in 0..<10 {
            let start = DispatchTime.now().uptimeNanoseconds
            let opened = ProgressStore.open(at: db)
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
            XCTAssertEqual(opened.warnings, [])
        }
        let size = (try FileManager.default.attributesOfItem(atPath: db.path)[.size] as? Int) ?? 0
        report("open (quick_check + migrations), \(size / 1024) KiB", samples)
    }

    private func report(_ label: String, _ microseconds: [Double]) {
        let sorted = microseconds.sorted()
        let mean = sorted.reduce(0, +) / Double(sorted.count)
        func pct(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        print(String(format: "BENCH %@: n=%d mean %.1f µs, median %.1f µs, p99 %.1f µs",
                     label, sorted.count, mean, pct(0.5), pct(0.99)))
    }
}
