import Foundation
import Progress
import XCTest
import NotebookCore
import Lessons
@testable import TUI

/// A value that parses but that the module refuses when it runs (README.md, “The notebook”: an
/// invalid value keeps the editor open with the error under it).
final class RuntimeRejectedEditTests: XCTestCase {
    static let lesson = """
    ---
    id: pg
    title: Policy gradient
    order: 1
    ---

    After the step, the chosen action has probability {{step.new_pi[1]:.4f}}.

    ```cell id=step compute=pg.softmax-step
    logits = [1, 0, -1]
    action = 1
    ```

    ```cell id=down compute=softmax.safe
    x = step.new_logits
    ```
    """

    func edit(_ s: inout AppState, parameter: String, to value: String) -> [Effect] {
        let names = s.registry.module(named: "pg.softmax-step")!.parameters.map(\.name)
        s.session!.selectedParameter = names.firstIndex(of: parameter)!
        press(&s, .char("e"), .ctrl("u"))
        type(&s, value)
        return press(&s, .enter)
    }

    func overrides(_ s: AppState) -> [String: String] {
        (s.session!.notebook.overrides["step"] ?? [:]).mapValues(\.source)
    }

    func testAnIndexOutOfRangeIsRefusedAndNothingChanges() throws {
        var s = try stateWithLesson(Self.lesson, width: 100, height: 30)
        press(&s, .char("]"))
        XCTAssertEqual(s.session?.selectedParameter, 1, "action")
        let before = render(s).rows
        let probability = s.session!.notebook.result("step").outputs?["new_pi"]
        XCTAssertNotNil(probability)
        XCTAssertEqual(s.session!.notebook.result("down").status, .ok)

        let effects = edit(&s, parameter: "action", to: "5")
        let editor = try XCTUnwrap(s.session?.editor, "the editor stays open")
        XCTAssertEqual(editor.line.text, "5", "with what was typed")
        XCTAssertTrue(editor.error?.contains("out of range") == true, editor.error ?? "no error")
        XCTAssertTrue(effects.isEmpty, "nothing recorded: \(effects)")
        XCTAssertEqual(overrides(s), [:], "not applied")
        XCTAssertEqual(s.session!.notebook.result("step").outputs?["new_pi"], probability)
        XCTAssertEqual(s.session!.notebook.result("down").status, .ok, "downstream keeps its result")
        // The editor in place of the parameter's value, the error under it.
        assertRows(render(s), from: 9, [
            "                                                           │ ▸ action    = 1",
            "                                                           │   ✎ 5",
            "                                                           │     ✗ is 5, out of range: valid",
            "                                                           │     actions (entries of logits) are 0",
            "                                                           │     to 2",
            "                                                           │   advantage = 1 default",
        ])
        press(&s, .escape)
        XCTAssertEqual(render(s).rows.dropLast(), before.dropLast(), "the screen is as it was, but for the status")
    }

    func testARefusedValueRestoresThePreviousOverrideAndKeepsTheOthers() throws {
        var s = try stateWithLesson(Self.lesson, width: 100, height: 30)
        // Another parameter of the cell overridden, the refused one not: only it is undone.
        var effects = edit(&s, parameter: "advantage", to: "3")
        XCTAssertNil(s.session?.editor)
        XCTAssertFalse(effects.isEmpty)
        effects = edit(&s, parameter: "action", to: "9")
        XCTAssertNotNil(s.session?.editor)
        XCTAssertTrue(effects.isEmpty)
        XCTAssertEqual(overrides(s), ["advantage": "3"])
        XCTAssertEqual(s.session!.notebook.result("step").status, .ok)
        press(&s, .escape)
        // The refused parameter overridden before: its previous value comes back.
        effects = edit(&s, parameter: "action", to: "2")
        XCTAssertNil(s.session?.editor)
        XCTAssertTrue(effects.contains { if case .record(.overrides("pg", "step", let o)) = $0 { o == ["advantage": "3", "action": "2"] } else { false } })
        let atTwo = s.session!.notebook.result("step").outputs?["new_pi"]
        XCTAssertNotNil(atTwo)
        effects = edit(&s, parameter: "action", to: "-1")
        XCTAssertTrue(s.session?.editor?.error != nil, "refused by the parameter's range when it is set")
        press(&s, .ctrl("u"))
        type(&s, "3")
        effects = press(&s, .enter)
        XCTAssertTrue(s.session?.editor?.error?.contains("out of range") == true)
        XCTAssertTrue(effects.isEmpty)
        XCTAssertEqual(overrides(s), ["advantage": "3", "action": "2"])
        XCTAssertEqual(s.session!.notebook.result("step").outputs?["new_pi"], atTwo)
        XCTAssertEqual(s.session!.notebook.result("down").status, .ok)
    }
}
