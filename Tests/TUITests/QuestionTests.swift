import Foundation
import NotebookCore
import Lessons
import Progress
import XCTest
@testable import TUI

/// Questions in the notebook: the cell's numbers wait for the learner's prediction.
final class QuestionTests: XCTestCase {
    static let lessonText = """
        ---
        id: q
        title: Questions
        ---

        Top: {{safe.softmax[3]:.4f}}. Rounded: {{down.rounded}}. Unrelated: {{other.max}}.

        ```question id=top cell=safe answer=softmax[3] rtol=0.01 hint="e^5 over the sum"
        What probability does the score 5 get?
        ```

        ```cell id=safe compute=softmax.safe
        x = [2, 1, 3, 5, 4]
        expect sum(softmax) ≈ 1 ± 1e-12
        ```

        ```cell id=other compute=softmax.safe
        x = [1, 2]
        expect max = 2
        ```

        ```cell id=down compute=fp.round
        value = safe.max
        expect rounded = 5
        ```
        """

    func state(answers: [String: AnswerState] = [:]) throws -> AppState {
        let lesson = try LessonLoader(registry: ModuleCatalog.registry).load(Self.lessonText, file: "q.md").get()
        var s = AppState(registry: ModuleCatalog.registry, lessons: [LessonEntry(lesson: lesson, answers: answers)],
                         width: 120, height: 40)
        _ = openLesson(&s, id: "q")
        return s
    }

    func testUntilAnsweredTheCellAndWhatDependsOnItAreMasked() throws {
        let s = try state()
        let text = proseText(s)
        XCTAssertTrue(text.contains("Top: ⟨answer “top” first⟩."), text)
        XCTAssertTrue(text.contains("Rounded: ⟨answer “top” first⟩."), "downstream of the answered cell: \(text)")
        XCTAssertTrue(text.contains("Unrelated: 2."), "an unrelated value shows: \(text)")
        XCTAssertTrue(text.contains("? answer “top” first"), "the cell's status says why")
        var panel = s
        XCTAssertEqual(panel.session?.focusedQuestion, 0, "a new lesson starts at its first stop, the question")
        press(&panel, .char("n"))   // its cell
        assertRows(render(panel), from: 9, [
            "                                                                       │ The outputs appear once you answer question",
            " ◇ other  softmax.safe                                           ✓ ok  │ “top” (p goes back to it; a answers, s shows",
            "   x = [1, 2]                                                          │ the answer).",
        ])
        XCTAssertFalse(render(panel).text.contains("0.636409"), "no output of the cell is shown")
    }

    func testAWrongAnswerSaysHowFarThenARightOneShowsTheNumbers() throws {
        var s = try state()
        press(&s, .char("n"), .char("p"))
        XCTAssertEqual(s.session?.focusedQuestion, 0, "questions are stops for n/p")
        press(&s, .char("a"))
        type(&s, "0.5")
        let wrong = press(&s, .enter)
        XCTAssertTrue(s.status?.text.contains("too low by 21%") ?? false, s.status?.text ?? "")
        XCTAssertTrue(proseText(s).contains("Top: ⟨answer “top” first⟩."), "still masked after a wrong try")
        guard case .record(.answered(_, "top", "0.5", false, 1, false))? = wrong.first else { return XCTFail("\(wrong)") }
        press(&s, .char("a"))
        type(&s, "0.636")
        let right = press(&s, .enter)
        guard case .record(.answered(_, "top", "0.636", true, 2, false))? = right.first else { return XCTFail("\(right)") }
        let text = proseText(s)
        XCTAssertTrue(text.contains("Top: 0.6364."), text)
        XCTAssertTrue(text.contains("Rounded: 5."), text)
        XCTAssertTrue(text.contains("✓ right"), text)
        XCTAssertEqual(s.session?.questions.answers["top"]?.rightFirstTry, false)
    }

    func testTwoWrongTriesRevealTheAnswer() throws {
        var s = try state()
        press(&s, .char("a"))
        type(&s, "2")
        press(&s, .enter, .char("a"))
        type(&s, "1/2")
        press(&s, .enter)
        XCTAssertEqual(s.session?.questions.answers["top"]?.revealed, true)
        XCTAssertTrue(proseText(s).contains("answer: 0.6364086465588308"), proseText(s))
        XCTAssertTrue(proseText(s).contains("Top: 0.6364."))
    }

    /// Prose blocks kept from an earlier layout are taken again only while their
    /// placeholders show the same: answering unmasks values, and the text follows.
    func testKeptProseFollowsTheAnswers() throws {
        var s = try state()
        assertLayoutIsMadeFresh(s, "masked")
        press(&s, .char("a"))
        type(&s, "2")
        press(&s, .enter)
        assertLayoutIsMadeFresh(s, "after a wrong try")
        press(&s, .char("a"))
        type(&s, "1/2")
        press(&s, .enter)
        XCTAssertTrue(proseText(s).contains("Top: 0.6364."))
        assertLayoutIsMadeFresh(s, "revealed")
    }

    func testShowAndHintAndUnreadableAnswers() throws {
        var s = try state()
        press(&s, .char("h"))
        XCTAssertTrue(proseText(s).contains("hint: e^5 over the sum"))
        press(&s, .char("a"))
        type(&s, "a lot")
        press(&s, .enter)
        XCTAssertNotNil(s.session?.questions.editor?.error, "an unreadable answer keeps the editor open")
        XCTAssertEqual(s.session?.questions.answers["top"]?.attempts ?? 0, 0, "and is not counted")
        press(&s, .escape)
        let shown = press(&s, .char("s"))
        guard case .record(.answered(_, "top", "", false, 0, true))? = shown.first else { return XCTFail("\(shown)") }
        XCTAssertTrue(proseText(s).contains("Top: 0.6364."))
    }

    func testAnswersKeptAcrossOpeningsAndShownInTheHeader() throws {
        let s = try state(answers: ["top": AnswerState(attempts: 1, correct: true, rightFirstTry: true)])
        XCTAssertTrue(proseText(s).contains("Top: 0.6364."), "a question answered earlier stays answered")
        XCTAssertEqual(row(render(s), 0),
                       " Questions                                                                        ? 1/1 (1 first try) · cell 1/3 · 100%")
    }
}
