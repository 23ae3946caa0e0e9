import Foundation
import XCTest
import NotebookCore
import Lessons
import TUI

/// Timings of the performance aims, on the real online-softmax lesson at 200×60.
/// Run in a release build: `DERIVE_BENCH=1 swift test -c release -Xswiftc -enable-testing
/// --scratch-path .build-release --filter BenchmarkTests`. Skipped otherwise.
final class BenchmarkTests: XCTestCase {
    static func milliseconds(_ start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }

    func lessonsDirectory() -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("lessons")
    }

    func testFirstFrameAndEditCycle() throws {
        guard ProcessInfo.processInfo.environment["DERIVE_BENCH"] != nil else {
            throw XCTSkip("set DERIVE_BENCH=1 (and build with -c release) to run the benchmark")
        }
        // Start to first full frame: load every lesson, open online-softmax (running its cells),
        // render 200×60 and diff against nothing (every cell is written).
        var firstFrame: [Double] = []
        var state: AppState?
        for _ in 0..<20 {
            let start = DispatchTime.now().uptimeNanoseconds
            let library = LessonLoader(registry: ModuleCatalog.registry).loadDirectory(lessonsDirectory())
            var s = AppState(registry: ModuleCatalog.registry, lessons: library.lessons.map { LessonEntry(lesson: $0) },
                             width: 200, height: 60)
            _ = openLesson(&s, id: "online-softmax")
            let frame = render(s)
            let changed = frame.changedCells(since: nil)
            firstFrame.append(Self.milliseconds(start))
            XCTAssertEqual(changed.count, 200 * 60)
            state = s
        }
        // One edit: open the editor on `safe.x`, type a new vector, Enter (parse, validate,
        // re-run the cell and everything downstream), render, and diff against the last frame.
        var s = try XCTUnwrap(state)
        var previous = render(s)
        var cycle: [Double] = []
        var changedCounts: [Int] = []
        while s.session?.lesson.cells[s.session!.focusedCell].id != "safe" { _ = update(&s, .key(.char("n"))) }
        for i in 0..<200 {
            _ = update(&s, .key(.char("e")))
            _ = update(&s, .key(.ctrl("u")))
            for c in "[2, 1, 3, \(5 + i % 3), 4]" { _ = update(&s, .key(.char(c))) }
            let start = DispatchTime.now().uptimeNanoseconds
            _ = update(&s, .key(.enter))
            let frame = render(s)
            let changed = frame.changedCells(since: previous)
            cycle.append(Self.milliseconds(start))
            changedCounts.append(changed.count)
            previous = frame
        }
        XCTAssertNil(s.session?.editor)
        XCTAssertTrue(changedCounts.contains { $0 > 0 }, "the edit changed the screen")
        func summary(_ xs: [Double]) -> String {
            let sorted = xs.sorted()
            return String(format: "median %.2f ms, p90 %.2f ms, min %.2f ms", sorted[sorted.count / 2],
                          sorted[sorted.count * 9 / 10], sorted[0])
        }
        print("BENCH first frame (load lessons + open + render + full diff, 200x60): \(summary(firstFrame))")
        print("BENCH edit cycle (Enter on an edit + render + diff, 200x60): \(summary(cycle))")
    }
}
