import Foundation
import NotebookCore
import Lessons
import XCTest
@testable import TUI

/// The whole event loop on an in-memory terminal: start-up events, keys, jobs, signals.
final class RuntimeTests: XCTestCase {
    func run(_ state: AppState, _ script: [TestBackend.Step], opening: String? = nil,
             width: Int = 100, height: Int = 30) -> (RunOutcome, TestBackend, [RecordEvent]) {
        let backend = TestBackend(width: width, height: height, script: script)
        var recorded: [RecordEvent] = []
        let outcome = Runtime.run(state, on: backend, startingWith: opening.map { [.open(lessonID: $0)] } ?? [],
                                  record: { recorded.append($0); return nil })
        return (outcome, backend, recorded)
    }

    func testOpeningALessonIsTheFirstEventAndIsRecorded() throws {
        let (outcome, backend, recorded) = run(makeState(), [.event(.key(.char("q"))), .event(.key(.char("q")))],
                                               opening: "online-softmax")
        XCTAssertNil(outcome.termination, "q, q: back to the list, then out")
        let first = try XCTUnwrap(backend.frames.first)
        XCTAssertTrue(first.rowText(0).hasPrefix(" Online softmax and the FlashAttention tile"), first.rowText(0))
        XCTAssertEqual(backend.frames.count, 2, "a frame for the opening and one for the list; quitting draws nothing")
        guard case .opened(let id)? = recorded.first else { return XCTFail("\(recorded)") }
        XCTAssertEqual(id, "online-softmax")
    }

    func testASignalEndsTheLoopWithItsStatus() {
        for (state, name) in [(makeState(), "list"), (openedState(), "lesson")] {
            let (outcome, backend, _) = run(state, [.event(.key(.char("?"))), .event(.terminate(.signal(15))),
                                                    .event(.key(.char("j")))])
            XCTAssertEqual(outcome.termination, .signal(15), name)
            XCTAssertEqual(outcome.termination?.exitStatus, 143, name)
            XCTAssertEqual(backend.frames.count, 2, "\(name): the key after the signal is never read")
        }
    }

    func testAHangUpEndsTheLoopEvenInTheEditor() {
        var state = openedState()
        press(&state, .char("e"))
        XCTAssertNotNil(state.session?.editor)
        let (outcome, _, _) = run(state, [])
        XCTAssertEqual(outcome.termination, .hangup)
        XCTAssertEqual(outcome.termination?.exitStatus, 129)
    }

    func testAHeavyCellRunsOffTheLoopAndItsResultIsDrawn() throws {
        let registry = ModuleRegistry(ModuleCatalog.registry.modules + [QuietHeavy()])
        let text = """
        ---
        id: quiet
        title: Quiet
        ---

        Twice the number is {{slow.double}}.

        ```cell id=slow compute=test.quiet heavy
        x = 21
        ```
        """
        let lesson = try LessonLoader(registry: registry).load(text, file: "quiet.md").get()
        let state = AppState(registry: registry, lessons: [LessonEntry(lesson: lesson)], width: 100, height: 30)
        let (outcome, backend, recorded) = run(state, [.event(.key(.enter)), .waitForJob, .event(.key(.char("q"))), .event(.key(.char("q")))],
                                               opening: "quiet")
        XCTAssertNil(outcome.termination)
        let texts = backend.frames.map(\.text)
        XCTAssertTrue(texts[0].contains("Twice the number is ⟨slow.double⟩"), texts[0])
        XCTAssertEqual(texts.count, 4, "opened, job started, job finished, list")
        XCTAssertTrue(texts[1].contains("running slow"), texts[1])
        XCTAssertTrue(texts[2].contains("Twice the number is 42"), texts[2])
        XCTAssertTrue(recorded.contains { if case .ran(_, .heavy, let runs) = $0 { runs.map(\.cell) == ["slow"] } else { false } })
    }

    /// Closing the search with Esc used to swallow the next Enter.
    func testEnterAfterAnAbandonedSearchRunsTheFocusedCell() {
        var state = openedState()
        press(&state, .char("/"), .char("x"), .escape)
        XCTAssertNil(state.search)
        let effects = press(&state, .enter)
        XCTAssertTrue(effects.contains { if case .record(.ran(_, .enter, _)) = $0 { true } else { false } }, "\(effects)")
        XCTAssertTrue(state.status?.text.hasPrefix("ran safe") ?? false, state.status?.text ?? "no status")
    }
}

/// Once the learner edits a cell or one upstream of it, the lesson's expectations are claims
/// about the lesson's values: shown in a neutral style, with how many still hold.
final class EditedClaimsTests: XCTestCase {
    func testAnEditedCellShowsItsClaimsNeutrallyAndUResets() throws {
        var s = openedState(width: 120, height: 40)
        XCTAssertTrue(render(s).text.contains("expectations 2/2"))
        press(&s, .char("e"), .ctrl("u"))
        type(&s, "[9, 1, 3, 5, 4]")
        press(&s, .enter)
        let edited = render(s).text
        XCTAssertTrue(edited.contains("your values: 0 of 2 of the lesson's claims still hold"), edited)
        XCTAssertFalse(edited.contains("✗"), "no failure marks for the learner's values")
        XCTAssertFalse(edited.contains("expectations fail"))
        XCTAssertTrue(edited.contains("○ max = 5 — the lesson's claim; with your"), edited)
        XCTAssertTrue(edited.contains("values max = 9"), edited)
        // The cell downstream reads the edited scores: its relational claim still holds.
        press(&s, .char("n"))
        let downstream = render(s).text
        XCTAssertTrue(downstream.contains("✓ max_abs_diff_vs_safe < 1e-12"), downstream)
        XCTAssertTrue(downstream.contains("expectations 1/1"), downstream)
        // u returns to the lesson's values, and the claims hold again.
        press(&s, .char("p"), .char("u"))
        let reset = render(s).text
        XCTAssertTrue(reset.contains("expectations 2/2"), reset)
        XCTAssertFalse(reset.contains("your values"))
    }

    func testAnUneditedFailureIsStillAFailure() throws {
        let text = """
        ---
        id: wrong
        title: Wrong
        ---

        ```cell id=a compute=softmax.safe
        x = [0, 0]
        expect softmax[0] ≈ 0.6 ± 1e-9
        ```
        """
        let lesson = try LessonLoader(registry: ModuleCatalog.registry).load(text, file: "wrong.md").get()
        var s = AppState(registry: ModuleCatalog.registry, lessons: [LessonEntry(lesson: lesson)], width: 120, height: 30)
        _ = openLesson(&s, id: "wrong")
        let screen = render(s).text
        XCTAssertTrue(screen.contains("✗ softmax[0] ≈ 0.6 ± 1e-9 — softmax[0] ="), screen)
        XCTAssertTrue(screen.contains("1 of 1 expectations fail") || screen.contains("expectations 0/1"), screen)
    }
}
