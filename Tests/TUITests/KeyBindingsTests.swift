import NotebookCore
import XCTest
@testable import TUI

/// One table of keys: dispatch, the help overlay and the hint bar read the same bindings.
final class KeyBindingsTests: XCTestCase {
    func helpText(_ s: AppState) -> String {
        var s = s
        press(&s, .char("?"))
        return render(s).text
    }

    func testHelpListsEveryKeyThatWorks() {
        let lesson = helpText(openedState(width: 120, height: 50))
        for key in ["Space", "b", "Ctrl-D", "Ctrl-F", "Ctrl-B", "Tab", "Shift-Tab", "Esc", "PgDn", "J", "K", "R", "u"] {
            XCTAssertTrue(lesson.contains(key), "lesson help lacks \(key)")
        }
        let list = helpText(makeState(width: 120, height: 40))
        for key in ["Tab", "Shift-Tab", "←", "→", "Enter", "PgUp", "Ctrl-C"] {
            XCTAssertTrue(list.contains(key), "list help lacks \(key)")
        }
        for key in ["Delete Ctrl-D", "Home Ctrl-A", "End Ctrl-E", "← Ctrl-B", "→ Ctrl-F", "Ctrl-W", "Ctrl-U"] {
            XCTAssertTrue(lesson.contains(key), "the text-field keys are in the help: \(key)")
        }
    }

    func testEveryLessonBindingDispatchesTheSameForAllItsKeys() {
        for table in [KeyBindings.lesson, KeyBindings.list, KeyBindings.question] {
            for binding in table {
                for key in binding.keys {
                    XCTAssertEqual(KeyBindings.command(for: key, in: [table]), binding.command, "\(key) is bound twice")
                }
            }
        }
    }

    func testSearchEditsLikeTheParameterEditor() {
        var s = openedState()
        press(&s, .char("/"))
        type(&s, "abcd")
        press(&s, .home, .delete, .ctrl("f"), .ctrl("d"), .ctrl("b"), .end, .backspace)
        XCTAssertEqual(s.search?.text, "b", "Home, Delete, Ctrl-F, Ctrl-D, Ctrl-B, End, Backspace")
    }

    func testTheHintBarComesFromTheTable() {
        let s = openedState(width: 200, height: 30)
        let bottom = render(s).rowText(29)
        XCTAssertTrue(bottom.hasPrefix(" n/p cell · e edit · Enter run · ? help · q back"), bottom)
    }
}
