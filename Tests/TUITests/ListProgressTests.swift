import Foundation
import Progress
import XCTest
import NotebookCore
import Lessons
@testable import TUI

/// Progress in the list after leaving a lesson, and the list's numbers.
final class ListProgressTests: XCTestCase {
    func testALessonWithoutCellsIsNotDoneAfterAVisit() throws {
        var s = try stateWithLesson("""
        ---
        id: prose
        title: Only prose
        order: 1
        ---

        Nothing to run here.
        """)
        press(&s, .char("q"))
        XCTAssertEqual(s.lessons[0].progress.cellsRun, 0)
        XCTAssertFalse(s.lessons[0].progress.done)
        let b = render(s)
        XCTAssertFalse(b.rows.contains { $0.contains("✓") })
        assertRows(b, from: 1, [" ▶ ·  1 Only prose", "        ░░░░░░░░░░░░░░░░░░░░ 0/0 cells · r resumes"])
    }

    func testCellsRunCountsOnlyTheLessonsCellsNow() throws {
        let text = try String(contentsOf: Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
            .appendingPathComponent("lessons/online-softmax.md"), encoding: .utf8)
        var s = try stateWithLesson(text) { lesson in
            var progress = LessonProgress(outline: LessonOutline(lesson))
            progress.cellsRun = 3
            progress.done = true
            // A cell since removed from the lesson does not count.
            return LessonEntry(lesson: lesson, progress: progress, ranCells: ["safe", "removed"])
        }
        press(&s, .char("q"))
        XCTAssertEqual(s.lessons[0].progress.cellsRun, 1)
        XCTAssertFalse(s.lessons[0].progress.done)
        press(&s, .enter, .char("R"), .char("q"))
        XCTAssertEqual(s.lessons[0].progress.cellsRun, 3)
        XCTAssertTrue(s.lessons[0].progress.done)
    }

    func testTheListNumbersLessonsByPosition() {
        // The fixtures' orders are 5 and 9.
        let b = render(makeState())
        XCTAssertEqual(row(b, 1), " ▶ ·  1 Online softmax and the FlashAttention tile")
        XCTAssertEqual(row(b, 5), "   ·  2 软最大值函数（中文）")
        XCTAssertFalse(b.rows.contains { $0.contains(" 5 Online") || $0.contains(" 9 软") })
    }
}
