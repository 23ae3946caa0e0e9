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
