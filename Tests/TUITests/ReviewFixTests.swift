import Foundation
import Progress
import XCTest
import NotebookCore
import Lessons
@testable import TUI

/// A state with one lesson given as text, opened.
private func stateWithLesson(_ text: String, width: Int = 80, height: Int = 24,
                             entry: (Lesson) -> LessonEntry = { LessonEntry(lesson: $0) }) throws -> AppState {
    let lesson = try LessonLoader(registry: ModuleCatalog.registry).load(text, file: "test.md").get()
    var s = AppState(registry: ModuleCatalog.registry, lessons: [entry(lesson)], width: width, height: height)
    _ = openLesson(&s, id: lesson.id)
    XCTAssertEqual(s.screen, .lesson)
    return s
}

private func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Long lines of unmatched delimiters, and how often the document is laid out.
final class DocumentCostTests: XCTestCase {
    func testA90KBLineOfUnmatchedDollarsLaysOutInLinearTime() throws {
        // 30,000 openers, none of which can close (each `$` is preceded by a space): a search
        // to the end of the line per opener took minutes.
        let dollars = String(repeating: "$a ", count: 30_000)
        let brackets = String(repeating: "[a] ", count: 22_500)
        let ticks = String(repeating: "$`a ", count: 22_500)
        let text = """
        ---
        id: long
        title: Long lines
        order: 1
        ---

        \(dollars)

        \(brackets)

        \(ticks)
        """
        var layout: DocumentLayout?
        var s: AppState?
        let elapsed = try seconds {
            s = try stateWithLesson(text)
            layout = s!.documentLayout(s!.session!)
        }
        // Generous for a debug build on a loaded machine; the quadratic version took ~140 s.
        XCTAssertLessThan(elapsed, 2, "laying out 270 KB of unmatched openers took \(elapsed) s")
        let prose = try XCTUnwrap(layout).lines.map(\.plainText).joined()
        XCTAssertEqual(prose.filter { $0 == "$" }.count, 30_000 + 22_500, "every unmatched dollar is shown as written")
        XCTAssertEqual(prose.filter { $0 == "[" }.count, 22_500, "brackets without a (url) are text")
        // A key after that reuses the layout instead of making it again.
        var state = try XCTUnwrap(s)
        let made = state.layoutCache.layoutsMade
        press(&state, .char("j"))
        _ = render(state)
        XCTAssertLessThanOrEqual(state.layoutCache.layoutsMade - made, 1)
    }

    func testInlineMathStillRendersAroundUnmatchedDollars() throws {
        let s = try stateWithLesson("""
        ---
        id: math
        title: Math
        order: 1
        ---

        It costs $5 or $10.

        Then $\\alpha$ is small, $`\\beta`$ too, $x + $y$ closes late, [a link](u) [not one].
        """)
        let prose = proseText(s)
        XCTAssertTrue(prose.contains("It costs $5 or $10. Then α is small, β too,"), prose)
        XCTAssertTrue(prose.contains("x + $y closes late"), "the first closer ends the span: \(prose)")
        XCTAssertTrue(prose.contains("a link [not one]."), prose)
    }

    func testTheLayoutIsMadeOncePerChangeAndFollowsEveryChange() {
        var s = openedState(width: 80, height: 24)
        _ = render(s)
        let made = s.layoutCache.layoutsMade
        press(&s, .char("j"))
        _ = render(s)
        press(&s, .char("k"))
        _ = render(s)
        XCTAssertEqual(s.layoutCache.layoutsMade, made, "scrolling changes nothing that is laid out")
        press(&s, .char("n"))
        _ = render(s)
        XCTAssertEqual(s.layoutCache.layoutsMade, made + 1, "a new focus is one new layout")
        press(&s, .char("e"))
        type(&s, "0")
        _ = render(s)
        XCTAssertEqual(s.layoutCache.layoutsMade, made + 3, "the editor is in the text at 80 columns")
        XCTAssertTrue(render(s).text.contains("✎ safe.x0"))
        press(&s, .escape)
        var wide = openedState(width: 120, height: 30)
        _ = render(wide)
        let wideMade = wide.layoutCache.layoutsMade
        press(&wide, .char("e"))
        type(&wide, "0")
        _ = render(wide)
        XCTAssertEqual(wide.layoutCache.layoutsMade, wideMade, "beside the panel, the text has no editor")
        XCTAssertTrue(render(wide).text.contains("✎ [2, 1, 3, 5, 4]0"))
        // Copies share the cache but never each other's layouts.
        var a = s, b = s
        press(&a, .char("p"), .char("e"), .ctrl("u"))
        type(&a, "[1, 9, 2, 3, 4]")
        press(&a, .enter)
        press(&b, .char("p"), .char("e"), .ctrl("u"))
        type(&b, "[1, 7, 2, 3, 4]")
        press(&b, .enter)
        XCTAssertTrue(proseText(a).contains("the maximum is 9"))
        XCTAssertTrue(proseText(b).contains("the maximum is 7"))
        XCTAssertTrue(proseText(a).contains("the maximum is 9"))
        XCTAssertTrue(proseText(s).contains("the maximum is 5"))
        // A theme change is not in the key: it starts a new cache.
        let coloured = s.documentLayout(s.session!)
        s.theme = Theme(color: false)
        XCTAssertNotEqual(s.documentLayout(s.session!).lines, coloured.lines)
        XCTAssertEqual(s.documentLayout(s.session!).lines, Document.layout(s, s.session!, width: 78, inlineCells: true).lines)
    }
}

/// Markdown lines with trailing spaces keep their first characters.
final class TrailingSpaceTests: XCTestCase {
    func testHeadingsItemsAndQuotesWithTrailingSpaces() throws {
        let s = try stateWithLesson("""
        ---
        id: spaces
        title: Spaces
        order: 1
        ---

        ## Heading with trailing spaces   

        - Item with trailing spaces   
          continued here   

        > Quote with trailing spaces   
        """)
        let lines = s.documentLayout(s.session!).lines.map { $0.plainText.trimmingCharacters(in: .whitespaces) }
        XCTAssertTrue(lines.contains("Heading with trailing spaces"), lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains("• Item with trailing spaces continued here"), lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains("│ Quote with trailing spaces"), lines.joined(separator: "\n"))
        XCTAssertEqual(Document.leadingWhitespace("  \tx  "), 3)
        XCTAssertEqual(Document.leadingWhitespace("x   "), 0)
    }
}

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
        let rows = render(s).rows
        let editorRow = try XCTUnwrap(rows.firstIndex { $0.contains("✎ 5") })
        XCTAssertTrue(rows[editorRow + 1].contains("out of range"), "the error is under the editor")
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
        XCTAssertFalse(render(s).rows.contains { $0.contains("✓") })
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
        let rows = render(makeState()).rows
        XCTAssertTrue(rows.contains { $0.contains(" 1 Online softmax") }, rows.joined(separator: "\n"))
        XCTAssertTrue(rows.contains { $0.contains(" 2 软最大值函数") }, rows.joined(separator: "\n"))
        XCTAssertFalse(rows.contains { $0.contains(" 5 Online") || $0.contains(" 9 软") })
    }
}

/// Charts never convert a NaN to `Int`, whatever the values.
final class ChartExtremesTests: XCTestCase {
    static let extremes: [[Double]] = [
        [1e308, -1e308], [-1e308, 1e308, 0], [-1e17, -1e17], [-1e300, -1e300], [.greatestFiniteMagnitude, -.greatestFiniteMagnitude],
        [.nan, 1, .infinity, -2], [.nan, .nan], [.infinity, -.infinity], [5, 5], [0, 1.7e308], [-.leastNonzeroMagnitude, .leastNonzeroMagnitude],
    ]

    func testLineAndBarChartsOfExtremeValues() {
        for values in Self.extremes {
            let lines = Chart(values: values, height: 4).lines(width: 30).map(\.plainText)
            XCTAssertFalse(lines.isEmpty, "\(values)")
            for line in lines { XCTAssertLessThanOrEqual(TextWidth.of(line), 30, "\(values)") }
            if values.contains(where: \.isFinite) {
                let marks = lines.joined().unicodeScalars.filter { (0x2801...0x28FF).contains($0.value) || (0x2581...0x2588).contains($0.value) }
                XCTAssertFalse(marks.isEmpty && values.contains { $0.isFinite && $0 != 0 }, "something is plotted for \(values): \(lines)")
            }
        }
        // The span ±1e308 overflows a Double: the extremes still land on the top and bottom rows.
        let lines = Chart(values: [1e308, -1e308], height: 4).lines(width: 30).map(\.plainText)
        XCTAssertTrue(lines[0].hasPrefix(" 1.00e+308┤"), lines[0])
        XCTAssertTrue(lines[3].hasPrefix("-1.00e+308┤"), lines[3])
        XCTAssertTrue(lines[0].unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
        XCTAssertTrue(lines[3].unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
    }

    func testHeatmapsOfExtremeValues() {
        for values in Self.extremes {
            let lines = Heatmap(matrix: [values, values.reversed()]).lines(width: 30).map(\.plainText)
            XCTAssertEqual(lines.count, values.contains(where: \.isFinite) ? 3 : 1, "\(values)")
        }
        let lines = Heatmap(matrix: [[1e308, -1e308], [0, .nan]]).lines(width: 20).map(\.plainText)
        XCTAssertEqual(lines[0], "0 ██··")
        XCTAssertEqual(lines[1], "1 ▒▒??", "0 is halfway between ±1e308; NaN is ?")
    }

    func testPositionIsFiniteAndClamped() {
        XCTAssertEqual(ChartScale([-1e308, 1e308])!.position(1e308), 1)
        XCTAssertEqual(ChartScale([-1e308, 1e308])!.position(0), 0.5)
        XCTAssertEqual(ChartScale([-1e17])!.position(-1e17), 0)
        XCTAssertEqual(ChartScale([0, 1])!.position(.nan), 0)
        XCTAssertEqual(ChartScale([0, 1])!.position(2), 1)
        XCTAssertEqual(ChartScale([0, 1])!.position(0.25), 0.25)
    }
}

/// The screen escapes what the command line escapes, plus newline and tab.
final class SanitizeAgreesWithTerminalTextTests: XCTestCase {
    func testSameScalarsAsTerminalTextPlusNewlineAndTab() {
        for v in Array(0...0x3FF) + Array(0x2000...0x206F) {
            guard let scalar = Unicode.Scalar(v) else { continue }
            let expected = scalar == "\n" || scalar == "\t" || TerminalText.needsEscape(scalar)
            XCTAssertEqual(Sanitize.needsEscape(scalar), expected, "U+\(String(v, radix: 16))")
        }
        XCTAssertEqual(Sanitize.visible("a\u{2067}b\u{202A}c"), "a⟨U+2067⟩b⟨U+202A⟩c")
        XCTAssertEqual(Sanitize.visible("x\ny"), "x␊y")
    }
}
