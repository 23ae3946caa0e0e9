import Foundation
import Synchronization
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
        XCTAssertEqual(row(first, 0), " Online softmax and the FlashAttention tile                                           cell 1/3 · 0%")
        XCTAssertEqual(backend.frames.count, 2, "a frame for the opening and one for the list; quitting draws nothing")
        guard case .opened(let id)? = recorded.first else { return XCTFail("\(recorded)") }
        XCTAssertEqual(id, "online-softmax")
    }

    func testALessonKnownByItsHeaderIsReadWhenOpened() throws {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("lessons")
        let catalog = LessonLoader(registry: ModuleCatalog.registry).loadHeaders(url)
        let state = AppState(registry: ModuleCatalog.registry, lessons: catalog.headers.map { LessonEntry(header: $0) })
        XCTAssertTrue(state.lessons.allSatisfy { $0.parsed == nil })
        let (outcome, backend, recorded) = run(state, [.event(.key(.char("q")))], opening: "online-softmax")
        XCTAssertEqual(outcome.state.screen, .list)
        let first = try XCTUnwrap(backend.frames.first)
        XCTAssertEqual(row(first, 0), " Online softmax and the FlashAttention tile                                           cell 1/3 · 0%")
        guard case .opened("online-softmax")? = recorded.first else { return XCTFail("\(recorded)") }
    }

    func testALessonWhoseBodyDoesNotLoadListsAndSaysWhyWhenOpened() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("derive-broken-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = "---\nid: broken\ntitle: Broken body\n---\n\n```cell id=c compute=no.such-module\n```\n"
        try text.write(to: folder.appendingPathComponent("broken.md"), atomically: true, encoding: .utf8)
        let catalog = LessonLoader(registry: ModuleCatalog.registry).loadHeaders(folder)
        XCTAssertEqual(catalog.errors.map(\.description), [])
        let state = AppState(registry: ModuleCatalog.registry, lessons: catalog.headers.map { LessonEntry(header: $0) })
        let (outcome, backend, _) = run(state, [.event(.key(.enter))])
        XCTAssertEqual(outcome.state.screen, .list, "a lesson that does not load is not opened")
        let status = try XCTUnwrap(outcome.state.status)
        XCTAssertTrue(status.isError)
        XCTAssertTrue(status.text.contains("cannot open broken: ") && status.text.contains("broken.md:6:4: unknown compute module 'no.such-module'"),
                      status.text)
        let last = try XCTUnwrap(backend.frames.last)
        XCTAssertEqual(row(last, 1), " ▶ ·  1 Broken body", "still listed")
        XCTAssertEqual(row(last, 4), " 1 lesson file(s) did not load:", "the error is shown")
        // The file's path (the temporary folder's) decides where the message wraps.
        let error = row(last, 5) + " " + row(last, 6).trimmingCharacters(in: .whitespaces)
        XCTAssertTrue(error.hasPrefix("   /"), error)
        XCTAssertTrue(error.hasSuffix("/broken.md:6:4: unknown compute module 'no.such-module'"), error)
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
        let frames = backend.frames
        XCTAssertEqual(row(frames[0], 1), " Twice the number is ⟨slow.double⟩.                        │ slow · test.quiet")
        XCTAssertEqual(frames.count, 4, "opened, job started, job finished, list")
        XCTAssertEqual(row(frames[1], 29), " running slow… Esc cancels                                                                    ? help")
        XCTAssertEqual(row(frames[2], 1), " Twice the number is 42.                                   │ slow · test.quiet")
        XCTAssertTrue(recorded.contains { if case .ran(_, .heavy, let runs) = $0 { runs.map(\.cell) == ["slow"] } else { false } })
    }

    /// A job that reports faster than frames are drawn (the FP16 sweep finishes a chunk every
    /// millisecond) always has a report waiting when the loop comes round; Esc must still be
    /// read on the next round, not whenever the reports happen to pause.
    func testEscCancelsAJobThatNeverStopsReporting() throws {
        let registry = ModuleRegistry(ModuleCatalog.registry.modules + [FloodingHeavy()])
        let text = """
        ---
        id: flood
        title: Flood
        ---

        ```cell id=flood compute=test.flood heavy
        ```
        """
        let lesson = try LessonLoader(registry: registry).load(text, file: "flood.md").get()
        let state = AppState(registry: registry, lessons: [LessonEntry(lesson: lesson)], width: 100, height: 30)
        let backend = EscAfterFirstReport()
        let begin = ContinuousClock.now
        let outcome = Runtime.run(state, on: backend, startingWith: [.open(lessonID: "flood")])
        XCTAssertNil(outcome.termination)
        // At most the frame that started the job and the one of its first report: the loop
        // that read keys only between reports drew dozens (2.7 s) before it saw the Esc.
        let running = backend.frames.filter { $0.text.contains("running flood") }.count
        XCTAssertLessThanOrEqual(running, 2, "frames drawn while Esc waited")
        XCTAssertLessThan(ContinuousClock.now - begin, .seconds(2))
        XCTAssertTrue(backend.frames.contains { row($0, 29) == " cancelled flood                                                                              ? help" },
                      backend.frames.map { $0.rows.last ?? "" }.joined(separator: "\n"))
        for _ in 0..<100 where FloodingHeavy.cancelled.load(ordering: .relaxed) == 0 { usleep(10_000) }
        XCTAssertGreaterThan(FloodingHeavy.cancelled.load(ordering: .relaxed), 0, "the job itself saw the cancellation")
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
    /// Row 5 of the 120×40 online-softmax lesson with the safe cell focused: the first line of
    /// the prose beside the panel's status line, whose timing varies.
    func assertHolds(_ b: ScreenBuffer, _ claims: String, file: StaticString = #filePath, line: UInt = #line) {
        let status = row(b, 5, file: file, line: line)
        XCTAssertTrue(status.hasPrefix(" The safe softmax subtracts the maximum first. For our scores the      │ ✓ ran in "),
                      status, file: file, line: line)
        XCTAssertTrue(status.hasSuffix(" · \(claims)"), status, file: file, line: line)
    }

    func testAnEditedCellShowsItsClaimsNeutrallyAndUResets() throws {
        var s = openedState(width: 120, height: 40)
        assertHolds(render(s), "expectations 2/2")
        press(&s, .char("e"), .ctrl("u"))
        type(&s, "[9, 1, 3, 5, 4]")
        press(&s, .enter)
        let b = render(s)
        let edited = b.text
        XCTAssertEqual(row(b, 13), " ▶ safe  sof… ○ your values: 0 of 2 of the lesson's claims still hold  │   max      9")
        XCTAssertFalse(edited.contains("✗"), "no failure marks for the learner's values")
        XCTAssertFalse(edited.contains("expectations fail"))
        assertRows(b, from: 36, [
            "                                                                       │   ○ max = 5 — the lesson's claim; with your",
            "                                                                       │     values max = 9",
        ])
        // The cell downstream reads the edited scores: its relational claim still holds.
        press(&s, .char("n"))
        let downstream = render(s)
        XCTAssertEqual(row(downstream, 32), " ◇ tiles  attention.tiled                                        ✓ ok  │   ✓ max_abs_diff_vs_safe < 1e-12")
        let status = row(downstream, 4)
        XCTAssertTrue(status.hasPrefix("                                                                       │ ✓ ran in "), status)
        XCTAssertTrue(status.hasSuffix(" · expectations 1/1"), status)
        // u returns to the lesson's values, and the claims hold again.
        press(&s, .char("p"), .char("u"))
        let reset = render(s)
        assertHolds(reset, "expectations 2/2")
        XCTAssertFalse(reset.text.contains("your values"))
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
        let b = render(s)
        XCTAssertEqual(row(b, 28), "                                                                       │   ✗ softmax[0] ≈ 0.6 ± 1e-9 — softmax[0] = ↓ J")
        XCTAssertEqual(row(b, 1), " ▶ a  softmax.safe                         ✗ 1 of 1 expectations fail  │ a · softmax.safe")
        let status = row(b, 4)
        XCTAssertTrue(status.hasPrefix("                                                                       │ ✗ ran in "), status)
        XCTAssertTrue(status.hasSuffix(" · expectations 0/1"), status)
    }
}

/// A heavy module that reports progress without pause (0.25, 0.75, 0.25, … so that every
/// report is new) until it is cancelled, or for ten seconds.
private struct FloodingHeavy: ComputeModule {
    static let cancelled = Atomic<Int>(0)
    let name = "test.flood"
    let summary = "reports progress without pause"
    let isHeavy = true
    let parameters: [ParameterSpec] = []
    let outputs: [OutputSpec] = [OutputSpec("reports", .integer, doc: "reports made")]

    func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let end = ContinuousClock.now + .seconds(10)
        var reports = 0
        while ContinuousClock.now < end {
            if context.isCancelled() {
                Self.cancelled.add(1, ordering: .relaxed)
                throw .cancelled
            }
            context.reportProgress(reports % 2 == 0 ? 0.25 : 0.75)
            reports += 1
        }
        return ["reports": .integer(reports)]
    }
}

/// A terminal whose input is Enter (run the focused cell); then, once the job has reported,
/// Esc to any read (a look without waiting too); then q, q to reads that wait, each on a frame
/// of its own. Drawing a frame takes 5 ms, far longer than the job takes to report again.
private final class EscAfterFirstReport: TerminalBackend, @unchecked Sendable {
    let size = (width: 100, height: 30)
    let colorEnabled = false
    private(set) var frames: [ScreenBuffer] = []
    private let lock = NSCondition()
    private var woken = false
    private var started = false
    private var escaped = false
    private var script: [Event] = [.key(.char("q")), .key(.char("q"))]

    func draw(_ buffer: ScreenBuffer) {
        frames.append(buffer)
        Thread.sleep(forTimeInterval: 0.005)
    }

    func invalidate() {}
    func restore() {}

    func readEvent(timeoutMilliseconds: Int32) -> Event? {
        lock.lock()
        defer { lock.unlock() }
        if !started {
            started = true
            return .key(.enter)
        }
        if !escaped {
            if woken {
                escaped = true
                return .key(.escape)
            }
            guard timeoutMilliseconds != 0 else { return nil }
            let deadline = Date().addingTimeInterval(10)
            while !woken, lock.wait(until: deadline) {}
            return nil
        }
        guard timeoutMilliseconds != 0 else { return nil }
        return script.popLast() ?? .terminate(.hangup)
    }

    var waker: @Sendable () -> Void {
        { [self] in
            lock.lock()
            woken = true
            lock.signal()
            lock.unlock()
        }
    }
}
