import XCTest
import NotebookCore
import Lessons
@testable import TUI

/// The list builds only the lessons on screen; with a hundred of them, every selection still
/// shows the selected lesson with its neighbours in order, the scroll marks where they belong
/// and the load errors after the last lesson.
final class LongListTests: XCTestCase {
    private func state(lessons count: Int, width: Int, height: Int) -> AppState {
        let entries = (0..<count).map { i in
            LessonEntry(header: LessonHeader(id: "l\(i)", title: "Lesson number \(i)", order: i,
                                             summary: i % 3 == 0 ? "" : "what lesson \(i) is about", file: "l\(i).md"))
        }
        return AppState(registry: ModuleCatalog.registry, lessons: entries, loadErrors: ["x.md:1: not a lesson"],
                        width: width, height: height, color: false)
    }

    func testEverySelectionOfAHundredLessonsIsInViewWithItsNeighboursInOrder() {
        for (width, height) in [(100, 30), (60, 14)] {
            var s = state(lessons: 100, width: width, height: height)
            for selection in 0..<100 {
                s.listSelection = selection
                let buffer = render(s)
                let rows = (0..<buffer.height).map(buffer.rowText)
                let where_ = "selection \(selection) at \(width)x\(height)"
                func number(_ row: String) -> Int? {
                    row.range(of: "Lesson number ").map { Int(row[$0.upperBound...].prefix { $0.isNumber })! }
                }
                let selected = rows.filter { $0.contains("▶") }
                XCTAssertEqual(selected.count, 1, where_)
                XCTAssertEqual(selected.first.flatMap(number), selection, where_)
                let shown = rows.compactMap(number)
                XCTAssertFalse(shown.isEmpty, where_)
                XCTAssertEqual(shown, Array((shown.first ?? 0)..<((shown.first ?? 0) + shown.count)), "in order, none skipped: \(where_)")
                XCTAssertEqual(rows[1].hasSuffix("↑"), number(rows[1]) != 0, "↑ unless the first lesson heads the list: \(where_)")
                XCTAssertEqual(rows[buffer.height - 2].hasSuffix("↓"), selection < 99, "↓ while more is below: \(where_)")
                XCTAssertEqual(rows.contains { $0.contains("did not load") }, selection == 99,
                               "the errors follow the last lesson: \(where_)")
            }
        }
    }
}
