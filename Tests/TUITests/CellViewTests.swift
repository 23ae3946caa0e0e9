import Foundation
import NotebookCore
import Lessons
import XCTest
@testable import TUI

/// One cell's lines, made from the lesson and a view context alone: no app state.
final class CellViewTests: XCTestCase {
    func testACellsLinesFromItsSessionAndAContext() throws {
        let lesson = try LessonLoader(registry: ModuleCatalog.registry).load("""
            ---
            id: one
            title: One
            ---

            ```cell id=safe compute=softmax.safe title="Three scores"
            x = [1, 2, 3]
            expect sum(softmax) ≈ 1 ± 1e-12
            ```
            """, file: "one.md").get()
        var notebook = Notebook(lesson: lesson, registry: ModuleCatalog.registry)
        notebook.runAll()
        let session = LessonSession(notebook: notebook)
        var context = ViewContext(theme: Theme(color: false), job: nil, ranCells: [], registry: ModuleCatalog.registry,
                                  renderMath: { tex, _ in MathText.render(tex) })
        let header = CellView.header(context, session, 0, width: 60).map(\.text).joined()
        XCTAssertTrue(header.contains("safe") && header.contains("Three scores"), header)
        let detail = CellView.detail(context, session, 0, width: 60, includeHeader: false).lines
            .map { $0.map(\.text).joined() }.joined(separator: "\n")
        XCTAssertTrue(detail.contains("x = [1, 2, 3]"), detail)
        XCTAssertTrue(detail.contains("0.665"), detail)
        // Away from the focus, ◇ marks a cell not yet run by the learner and ◆ one that was.
        var elsewhere = session
        elsewhere.focusedCell = 1
        XCTAssertTrue(CellView.header(context, elsewhere, 0, width: 60).map(\.text).joined().hasPrefix("◇ safe"))
        context.ranCells = ["safe"]
        XCTAssertTrue(CellView.header(context, elsewhere, 0, width: 60).map(\.text).joined().hasPrefix("◆ safe"))
    }
}
