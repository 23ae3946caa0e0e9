import Foundation
import NotebookCore
import Lessons
import XCTest
@testable import TUI

/// Opening a lesson in the notebook runs its cells off the event loop: the lesson shows at
/// once, and its values arrive as `lessonRan`. The result is the synchronous opening's.
final class OpeningRunTests: XCTestCase {
    /// Opens `id` with the cells running in the background; returns the run asked for.
    func openInBackground(_ state: inout AppState, _ id: String = "online-softmax",
                          file: StaticString = #filePath, line: UInt = #line) throws -> (id: Int, notebook: Notebook) {
        state.runsLessonsInBackground = true
        let effects = openLesson(&state, id: id)
        for effect in effects { if case .runLesson(let run, let notebook) = effect { return (run, notebook) } }
        XCTFail("no runLesson in \(effects)", file: file, line: line)
        throw XCTSkip("no run")
    }

    /// The frame's text without the cells' run times, which differ from run to run.
    func screen(_ state: AppState) -> String {
        render(state).text.replacingOccurrences(of: "ran in [0-9.]+ [µm]?s", with: "ran in …", options: .regularExpression)
    }

    func ran(_ notebook: Notebook) -> Notebook {
        var notebook = notebook
        notebook.runAll(includeHeavy: false)
        return notebook
    }

    func testTheLessonShowsAtOnceAndItsValuesWhenTheRunAnswers() throws {
        var state = makeState()
        let run = try openInBackground(&state)
        let session = try XCTUnwrap(state.session)
        XCTAssertEqual(session.opening?.id, run.id)
        XCTAssertTrue(session.lesson.cells.allSatisfy { session.notebook.result($0.id).status == .notRun },
                      "nothing ran inside update")
        XCTAssertTrue(render(state).text.contains("running"), render(state).text)

        // Keys that would change or judge the values wait; moving about does not.
        press(&state, .char("e"))
        XCTAssertNil(state.session?.editor)
        XCTAssertEqual(state.status, OpeningRun.wait)
        press(&state, .char("n"))
        XCTAssertEqual(state.session?.focusedCell, 1)

        let effects = update(&state, .lessonRan(id: run.id, ran(run.notebook)))
        XCTAssertNil(state.session?.opening)
        XCTAssertNil(state.status, "the wait is over")
        guard case .record(.ran(let lessonID, .open, let runs))? = effects.first else { return XCTFail("\(effects)") }
        XCTAssertEqual(lessonID, "online-softmax")
        XCTAssertEqual(Set(runs.map(\.cell)), Set(session.lesson.cells.map(\.id)))

        var synchronous = makeState()
        _ = openLesson(&synchronous, id: "online-softmax")
        synchronous.session?.focusedCell = 1
        XCTAssertEqual(proseText(state), proseText(synchronous), "the same text with the same values")
        XCTAssertEqual(screen(state), screen(synchronous))
        press(&state, .char("e"))
        XCTAssertNotNil(state.session?.editor, "and now it edits")
    }

    func testAnAnswerForALessonLeftOrOpenedAgainIsDropped() throws {
        var state = makeState()
        let first = try openInBackground(&state)
        press(&state, .escape)
        XCTAssertNil(state.session)
        XCTAssertTrue(update(&state, .lessonRan(id: first.id, ran(first.notebook))).isEmpty)
        XCTAssertNil(state.session, "the list stays")

        let second = try openInBackground(&state)
        XCTAssertNotEqual(second.id, first.id)
        XCTAssertTrue(update(&state, .lessonRan(id: first.id, ran(first.notebook))).isEmpty)
        XCTAssertEqual(state.session?.opening?.id, second.id, "still waiting for its own run")
        XCTAssertFalse(update(&state, .lessonRan(id: second.id, ran(second.notebook))).isEmpty)
        XCTAssertNil(state.session?.opening)
    }

    func testAResumedLessonScrollsToTheLearnersCellOnceTheValuesAreIn() throws {
        func resumed() -> AppState {
            var state = makeState(width: 80, height: 24)
            if let i = state.lessons.firstIndex(where: { $0.header.id == "online-softmax" }) { state.lessons[i].lastCell = "tiles" }
            return state
        }
        var state = resumed()
        let run = try openInBackground(&state)
        _ = update(&state, .lessonRan(id: run.id, ran(run.notebook)))
        var synchronous = resumed()
        _ = openLesson(&synchronous, id: "online-softmax")
        XCTAssertGreaterThan(synchronous.session?.scroll ?? 0, 0)
        XCTAssertEqual(state.session?.scroll, synchronous.session?.scroll)
        XCTAssertEqual(screen(state), screen(synchronous))
    }

    func testTheLoopDrawsTheLessonThenItsValues() throws {
        var state = makeState()
        state.runsLessonsInBackground = true
        let backend = TestBackend(width: 100, height: 30, script: [.waitForJob, .event(.key(.char("q"))), .event(.key(.char("q")))])
        var recorded: [RecordEvent] = []
        let outcome = Runtime.run(state, on: backend, startingWith: [.open(lessonID: "online-softmax")],
                                  record: { recorded.append($0); return nil })
        XCTAssertNil(outcome.termination)
        let frames = backend.frames.map(\.text)
        XCTAssertGreaterThanOrEqual(frames.count, 3, "the lesson, its values, the list")
        XCTAssertTrue(frames[0].contains("⟳ running"), frames[0])
        XCTAssertFalse(frames[0].contains("✓ ok"), frames[0])
        XCTAssertTrue(frames[1].contains("✓ ok"), frames[1])
        XCTAssertFalse(frames[1].contains("⟳ running"), frames[1])
        XCTAssertTrue(recorded.contains { if case .ran("online-softmax", .open, _) = $0 { true } else { false } }, "\(recorded)")
    }
}
