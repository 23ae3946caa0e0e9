import Foundation
import TestSupport
import XCTest

@testable import Progress
import NotebookCore

/// Notebooks and the store together: what a run records, and how saved overrides come back
/// when the lesson file has changed.
final class ProgressRecordingTests: XCTestCase {
    let t0 = utc("2026-11-28T10:00:00Z")

    let lesson = lessonText("""
        ```cell id=a compute=test.add
        a = [1, 2]
        b = [3, 4]
        ```

        ```cell id=b compute=test.scale
        x = a.y
        k = 2
        ```

        ```cell id=c compute=test.scale
        x = b.y
        ```

        ```cell id=h compute=test.slow heavy
        x = 1
        ```
        """)

    func testRecordsCoverCellsThatRanInLessonOrder() throws {
        var notebook = Notebook(lesson: try loadLesson(lesson), registry: testRegistry)
        try notebook.setOverride(cell: "b", parameter: "k", source: "13")   // the module fails on 13
        notebook.runAll()
        let records = notebook.progressRecords(startedAt: t0)
        // a ran, b failed, c was blocked by b (not a run), h is heavy and was skipped.
        XCTAssertEqual(records.map(\.cell), ["a", "b"])
        XCTAssertNil(records[0].error)
        XCTAssertEqual(records[0].parametersJSON, #"{"a":[1,2],"b":[3,4]}"#)
        XCTAssertEqual(records[1].error, "parameter 'k' is unlucky")
        XCTAssertEqual(records[1].parametersJSON, #"{"flag":false,"k":13,"mode":"plain","n":1,"x":[4,6]}"#)
        XCTAssertEqual(records[0].startedAt, t0)
        XCTAssertEqual(records[1].startedAt, t0 + Double(records[0].durationMicroseconds) / 1e6)
        XCTAssertEqual(notebook.progressRecords(cells: ["b"], startedAt: t0).map(\.cell), ["b"])

        let store = openQuietly(try makeTemporaryFolder(self).appendingPathComponent("p.sqlite"))
        XCTAssertFalse(store.recordRuns(records, lessonCells: notebook.lesson.cells.map(\.id)).completedLesson)
        notebook.resetOverrides(cell: "b")
        notebook.runAll(includeHeavy: true)
        let outcome = store.recordRuns(notebook.progressRecords(startedAt: t0 + 60),
                                       lessonCells: notebook.lesson.cells.map(\.id))
        XCTAssertTrue(outcome.completedLesson)
        let progress = store.summary(for: [LessonOutline(notebook.lesson)])[lesson: "demo"]
        XCTAssertEqual(progress?.cells, 4)
        XCTAssertEqual(progress?.cellsRun, 4)
        XCTAssertEqual(progress?.runs, 6)
    }

    func testOverridesComeBackAndStaleOnesAreDroppedWithANote() throws {
        let store = openQuietly(try makeTemporaryFolder(self).appendingPathComponent("p.sqlite"))
        store.setOverride(lesson: "demo", cell: "b", parameter: "k", source: "3")       // still fine
        store.setOverride(lesson: "demo", cell: "b", parameter: "gone", source: "1")    // parameter gone
        store.setOverride(lesson: "demo", cell: "old", parameter: "k", source: "1")     // cell renamed
        store.setOverride(lesson: "demo", cell: "c", parameter: "k", source: "-1")      // out of range now
        store.setOverride(lesson: "demo", cell: "c", parameter: "mode", source: "[1,")  // no longer parses
        var notebook = Notebook(lesson: try loadLesson(lesson), registry: testRegistry)
        let notes = notebook.restoreOverrides(from: store)
        XCTAssertEqual(notes.count, 4, "\(notes)")
        XCTAssertTrue(notes[0].hasPrefix("dropped your value b.gone = 1 in demo: "), notes[0])
        XCTAssertEqual(notes[1], "dropped your value old.k = 1 in demo: the lesson has no cell 'old' any more")
        XCTAssertTrue(notes[2].hasPrefix("dropped your value c.k = -1 in demo: "), notes[2])
        XCTAssertTrue(notes[2].contains(">= 0"), notes[2])
        XCTAssertTrue(notes[3].hasPrefix("dropped your value c.mode = [1, in demo: "), notes[3])
        XCTAssertTrue(notebook.isOverridden("b", "k"))
        XCTAssertFalse(notebook.isOverridden("c", "k"))
        notebook.runAll()
        XCTAssertEqual(notebook.result("b").outputs?.entries.first { $0.name == "y" }?.value, .vector([12, 18]))
        // Dropped ones are gone from the store, so the notes appear once.
        XCTAssertEqual(store.overrides(lesson: "demo").map { "\($0.cell).\($0.parameter)" }, ["b.k"])
        var again = Notebook(lesson: try loadLesson(lesson), registry: testRegistry)
        XCTAssertEqual(again.restoreOverrides(from: store), [])
        XCTAssertTrue(again.isOverridden("b", "k"))
    }
}
