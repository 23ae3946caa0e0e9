import Progress
import XCTest
import NotebookCore
import Lessons
@testable import TUI

/// `update` for every key, on both screens.
final class UpdateTests: XCTestCase {
    func testListKeys() {
        var s = makeState()
        XCTAssertEqual(s.screen, .list)
        XCTAssertEqual(s.lessons.map(\.header.id), ["online-softmax", "zh-softmax"], "sorted by order")
        press(&s, .char("j"))
        XCTAssertEqual(s.listSelection, 1)
        press(&s, .down)
        XCTAssertEqual(s.listSelection, 1, "stays on the last lesson")
        press(&s, .char("k"))
        XCTAssertEqual(s.listSelection, 0)
        press(&s, .up)
        XCTAssertEqual(s.listSelection, 0)
        press(&s, .char("G"))
        XCTAssertEqual(s.listSelection, 1)
        press(&s, .char("g"))
        XCTAssertEqual(s.listSelection, 0)
        _ = update(&s, .wheel(1))
        XCTAssertEqual(s.listSelection, 1)
        press(&s, .char("?"))
        XCTAssertTrue(s.showHelp)
        press(&s, .char("j"))
        XCTAssertFalse(s.showHelp, "any key closes the help")
        XCTAssertEqual(s.listSelection, 1, "and does nothing else")
        press(&s, .char("r"))
        XCTAssertEqual(s.status?.text, "nothing to resume yet")
        let effects = press(&s, .enter)
        XCTAssertEqual(s.screen, .lesson)
        XCTAssertEqual(s.session?.lesson.id, "zh-softmax")
        XCTAssertTrue(effects.contains { if case .record(.opened("zh-softmax")) = $0 { true } else { false } })
        press(&s, .char("q"))
        XCTAssertEqual(s.screen, .list)
        XCTAssertEqual(s.resumeLessonID, "zh-softmax")
        press(&s, .char("g"), .char("r"))
        XCTAssertEqual(s.session?.lesson.id, "zh-softmax", "r resumes the last lesson")
        press(&s, .escape)
        XCTAssertTrue(press(&s, .char("q")).contains { $0.isQuit })
        XCTAssertTrue(press(&s, .escape).contains { $0.isQuit })
    }

    func testListSearch() {
        var s = makeState()
        press(&s, .char("/"))
        XCTAssertNotNil(s.search)
        type(&s, "中文")
        press(&s, .enter)
        XCTAssertNil(s.search)
        XCTAssertEqual(s.listSelection, 1)
        press(&s, .char("/"))
        type(&s, "no such thing")
        press(&s, .enter)
        XCTAssertEqual(s.status?.isError, true)
    }

    func testCtrlCQuitsFromEverywhere() {
        var s = makeState()
        XCTAssertTrue(press(&s, .ctrl("c")).contains { $0.isQuit })
        s = openedState()
        press(&s, .char("e"))
        XCTAssertNotNil(s.session?.editor)
        XCTAssertTrue(press(&s, .ctrl("c")).contains { $0.isQuit }, "even while editing")
        s = openedState()
        press(&s, .char("?"))
        XCTAssertTrue(press(&s, .ctrl("c")).contains { $0.isQuit }, "even over the help")
        XCTAssertTrue(update(&s, .terminate(.signal(15))).contains { $0.isQuit }, "SIGTERM/SIGHUP")
    }

    func testScrollKeys() {
        var s = openedState(width: 80, height: 24)
        XCTAssertEqual(s.session?.scroll, 0)
        press(&s, .char("j"))
        XCTAssertEqual(s.session?.scroll, 1)
        press(&s, .down, .down)
        XCTAssertEqual(s.session?.scroll, 3)
        press(&s, .char("k"))
        XCTAssertEqual(s.session?.scroll, 2)
        press(&s, .up, .up, .up, .up)
        XCTAssertEqual(s.session?.scroll, 0, "never above the top")
        press(&s, .pageDown)
        XCTAssertEqual(s.session?.scroll, 20, "a page is the view less two lines")
        press(&s, .pageUp)
        XCTAssertEqual(s.session?.scroll, 0)
        press(&s, .char("G"))
        let lines = s.documentLayout(s.session!).lines.count
        XCTAssertEqual(s.session?.scroll, lines - 22, "bottom: the last line at the bottom of the view")
        press(&s, .end, .char("j"))
        XCTAssertEqual(s.session?.scroll, lines - 22, "never below the bottom")
        press(&s, .char("g"))
        XCTAssertEqual(s.session?.scroll, 0)
        press(&s, .char("G"), .home)
        XCTAssertEqual(s.session?.scroll, 0)
        _ = update(&s, .wheel(2))
        XCTAssertEqual(s.session?.scroll, 6, "a wheel notch is three lines")
        _ = update(&s, .wheel(-1))
        XCTAssertEqual(s.session?.scroll, 3)
    }

    func testScrollingMovesTheFocusToACellInView() {
        var s = openedState(width: 120, height: 12)
        XCTAssertEqual(s.session?.focusedCell, 0)
        press(&s, .char("G"))
        XCTAssertEqual(s.session?.focusedCell, 2, "the panel follows the reading: the cell in view")
        press(&s, .char("g"))
        XCTAssertEqual(s.session?.focusedCell, 0, "at the top, the first cell the reader will meet")
        let layout = s.documentLayout(s.session!)
        for _ in 0..<(layout.cellStarts[0] + 1) { press(&s, .char("j")) }
        XCTAssertEqual(s.session?.focusedCell, 1, "the safe header left the top: the next cell takes the focus")
    }

    func testCellNavigation() {
        var s = openedState(width: 80, height: 24)
        var effects = press(&s, .char("n"))
        XCTAssertEqual(s.session?.focusedCell, 1)
        XCTAssertTrue(effects.contains { if case .record(.position("online-softmax", "stream")) = $0 { true } else { false } })
        let layout = s.documentLayout(s.session!)
        let start = layout.cellStarts[1]
        XCTAssertTrue((s.session!.scroll...s.session!.scroll + 21).contains(start), "the focused cell is in view")
        press(&s, .tab)
        XCTAssertEqual(s.session?.focusedCell, 2)
        effects = press(&s, .char("n"))
        XCTAssertEqual(s.session?.focusedCell, 2)
        XCTAssertEqual(s.status?.text, "last cell")
        XCTAssertTrue(effects.isEmpty)
        press(&s, .char("p"))
        XCTAssertEqual(s.session?.focusedCell, 1)
        press(&s, .backTab, .backTab)
        XCTAssertEqual(s.session?.focusedCell, 0)
        XCTAssertEqual(s.status?.text, "first cell")
    }

    func testParameterSelectionWraps() {
        var s = openedState()
        press(&s, .char("n"))   // stream: x, block, rescale, guard
        XCTAssertEqual(s.session?.selectedParameter, 0)
        press(&s, .char("]"))
        XCTAssertEqual(s.session?.selectedParameter, 1)
        press(&s, .char("]"), .char("]"), .char("]"))
        XCTAssertEqual(s.session?.selectedParameter, 0, "wraps around")
        press(&s, .char("["))
        XCTAssertEqual(s.session?.selectedParameter, 3)
        press(&s, .char("n"))
        XCTAssertEqual(s.session?.selectedParameter, 0, "a new cell starts at its first parameter")
    }

    func testEnterRunsTheFocusedCell() {
        var s = openedState()
        let effects = press(&s, .enter)
        XCTAssertTrue(s.status?.text.hasPrefix("ran safe in") == true, s.status?.text ?? "")
        XCTAssertTrue(effects.contains { if case .record(.ran("online-softmax", .enter, let runs)) = $0 { runs.map(\.cell) == ["safe", "stream"] } else { false } },
                      "the cell and the one that reads from it")
    }

    func testCellsTheLearnerRanAreMarkedButOpeningRunsAreNot() {
        var s = openedState()
        let entry = { s.lessons.first { $0.header.id == "online-softmax" } }
        XCTAssertEqual(entry()?.ranCells, [], "opening runs the cells for display only")
        XCTAssertEqual(row(render(s), 22), " ◇ stream  softmax.online                            ✓ ok  │          │               ████")
        press(&s, .enter)
        XCTAssertEqual(entry()?.ranCells, ["safe", "stream"])
        press(&s, .char("n"))
        XCTAssertEqual(row(render(s), 13), " ◆ safe  softmax.safe · The safe softmax             ✓ ok  │ OUTPUTS",
                       "a cell run before is marked ◆")
        press(&s, .char("q"))
        XCTAssertEqual(entry()?.progress.cellsRun, 2)
        XCTAssertFalse(entry()?.progress.done ?? true)
    }

    func testSavedProgressShowsInTheList() throws {
        let library = fixtureLibrary()
        let lesson = try XCTUnwrap(library.lesson("online-softmax"))
        var progress = LessonProgress(outline: LessonOutline(lesson))
        progress.cellsRun = lesson.cells.count
        progress.done = true
        let entries = library.lessons.map { $0.id == lesson.id ? LessonEntry(lesson: $0, progress: progress) : LessonEntry(lesson: $0) }
        let s = AppState(registry: ModuleCatalog.registry, lessons: entries, width: 100, height: 30)
        XCTAssertEqual(row(render(s), 1), " ▶ ✓  1 Online softmax and the FlashAttention tile")
    }

    func testRunAll() {
        var s = openedState()
        let effects = press(&s, .char("R"))
        XCTAssertEqual(s.status?.text, "ran 3 cells, all ok")
        XCTAssertTrue(effects.contains { if case .record(.ran(_, .runAll, let runs)) = $0 { runs.count == 3 } else { false } })
    }

    func testLessonSearch() throws {
        var s = openedState(width: 80, height: 12)
        press(&s, .char("/"))
        type(&s, "ATTENTION TILE")
        press(&s, .enter)
        let lines = s.documentLayout(s.session!).lines.map(\.plainText)
        let target = lines.firstIndex { $0.contains("The attention tile") }!
        XCTAssertEqual(s.session?.scroll, target - 1, "case-insensitive, the match just below the top")
        XCTAssertEqual(s.lastSearch, "ATTENTION TILE")
        let screen = render(s)
        let y = 2
        XCTAssertEqual(row(screen, y), " The attention tile", "the match just below the top")
        let x = try XCTUnwrap(Array(row(screen, y)).firstIndex(of: "a"))
        XCTAssertEqual(screen[x, y].style, s.theme.searchMatch, "matches are highlighted")
        press(&s, .char("/"))
        type(&s, "zzzz")
        press(&s, .enter)
        XCTAssertEqual(s.status?.isError, true)
        press(&s, .char("/"), .escape)
        XCTAssertNil(s.search)
    }

    func testEscapeAndQGoBackToTheList() {
        var s = openedState()
        press(&s, .escape)
        XCTAssertEqual(s.screen, .list)
        s = openedState()
        press(&s, .char("q"))
        XCTAssertEqual(s.screen, .list)
        XCTAssertNil(s.session)
    }

    func testResetKey() {
        var s = openedState()
        press(&s, .char("u"))
        XCTAssertEqual(s.status?.text, "safe has the lesson's values")
        press(&s, .char("e"), .ctrl("u"))
        type(&s, "[1, 2]")
        press(&s, .enter)
        XCTAssertTrue(s.session!.notebook.isOverridden("safe", "x"))
        let effects = press(&s, .char("u"))
        XCTAssertFalse(s.session!.notebook.isOverridden("safe", "x"))
        let prose = row(render(s), 6)
        XCTAssertTrue(prose.hasPrefix(" scores the maximum is 5 and the denominator is 1.5713, so │ ✓ ran in "),
                      "the lesson's numbers are back: \(prose)")
        XCTAssertTrue(effects.contains { if case .record(.overrides("online-softmax", "safe", let sources)) = $0 { sources.isEmpty } else { false } })
    }
}

/// Editing a parameter: valid, invalid, cancelled.
final class EditFlowTests: XCTestCase {
    func testValidEditUpdatesTheProseOnTheSameFrame() {
        var s = openedState(width: 100, height: 30)
        XCTAssertEqual(row(render(s), 18), " Reading the scores in blocks of 3 steps, the running      │    4 0.367879")
        press(&s, .char("n"), .char("]"), .char("e"))
        XCTAssertEqual(s.session?.editor?.parameter, "block")
        XCTAssertEqual(s.session?.editor?.line.text, "2", "prefilled with the current value")
        XCTAssertEqual(s.session?.editor?.line.cursor, 1, "cursor at the end")
        XCTAssertEqual(row(render(s), 10), " • The second pass sums e^(xᵢ − m).                        │   ✎ 2")
        press(&s, .backspace)
        type(&s, "3")
        let effects = press(&s, .enter)
        XCTAssertNil(s.session?.editor)
        let b = render(s)
        XCTAssertEqual(row(b, 18), " Reading the scores in blocks of 2 steps, the running      │    0.6364┤               ████",
                       "⌈5/3⌉ = 2 blocks, in the prose at once")
        XCTAssertEqual(row(b, 9), " • The first pass finds m = maxᵢ xᵢ.                       │ ▸ block   = 3 • edited")
        XCTAssertEqual(s.status?.text, "block = 3 · re-ran 1 cell")
        XCTAssertTrue(effects.contains { if case .record(.overrides("online-softmax", "stream", let o)) = $0 { o == ["block": "3"] } else { false } })
    }

    func testEditUpstreamRerunsDownstream() {
        var s = openedState()
        press(&s, .char("e"), .ctrl("u"))
        type(&s, "[1, 9, 2, 3, 4]")
        press(&s, .enter)
        let text = proseText(s)
        XCTAssertTrue(text.contains("the maximum is 9"), "the edited cell")
        XCTAssertTrue(text.contains("the running maximum ends at 9"), "the cell downstream, through safe.x")
        XCTAssertTrue(s.status!.text.contains("re-ran 2 cells"))
    }

    func testInvalidValueKeepsTheEditorOpenWithTheError() {
        var s = openedState()
        press(&s, .char("n"), .char("]"), .char("e"), .ctrl("u"))
        type(&s, "0")
        press(&s, .enter)
        XCTAssertNotNil(s.session?.editor, "stays open")
        XCTAssertEqual(s.session?.editor?.error, "must be >= 1, got 0")
        XCTAssertEqual(s.session?.editor?.line.text, "0", "keeps what was typed")
        let screen = render(s)
        // The editor in place of the value, the error under it.
        assertRows(screen, from: 10, [
            " • The second pass sums e^(xᵢ − m).                        │   ✎ 0",
            " • The third pass divides.                                 │     ✗ must be >= 1, got 0",
        ])
        XCTAssertFalse(s.session!.notebook.isOverridden("stream", "block"), "nothing applied")
        XCTAssertEqual(row(screen, 18), " Reading the scores in blocks of 3 steps, the running      │   rescale  [0, 0.0497871, 1]")
        // Typing clears the error; a malformed value is refused by the lesson-file parser.
        press(&s, .backspace)
        XCTAssertNil(s.session?.editor?.error)
        type(&s, "[1, 2")
        press(&s, .enter)
        XCTAssertNotNil(s.session?.editor?.error)
        press(&s, .ctrl("u"))
        type(&s, "2.5")
        press(&s, .enter)
        XCTAssertEqual(s.session?.editor?.error, "expects a whole number, got 2.5")
        press(&s, .ctrl("u"))
        press(&s, .enter)
        XCTAssertEqual(s.session?.editor?.error, "type a value, or Esc to cancel")
    }

    func testWrongKindAndReferences() {
        var s = openedState()
        press(&s, .char("n"), .char("e"))
        XCTAssertEqual(s.session?.editor?.line.text, "safe.x", "a reference is edited as written")
        press(&s, .ctrl("u"))
        type(&s, "tiles.output")
        press(&s, .enter)
        XCTAssertNotNil(s.session?.editor?.error, "a reference to a later cell is refused")
        press(&s, .ctrl("u"))
        type(&s, "true")
        press(&s, .enter)
        XCTAssertTrue(s.session?.editor?.error?.contains("vector") == true, s.session?.editor?.error ?? "")
    }

    func testCancelLeavesEverythingAsItWas() {
        var s = openedState()
        press(&s, .char("n"), .char("]"), .char("e"), .ctrl("u"))
        type(&s, "4")
        press(&s, .escape)
        XCTAssertNil(s.session?.editor)
        XCTAssertEqual(s.screen, .lesson, "Esc closes the editor, not the lesson")
        XCTAssertEqual(s.status?.text, "edit cancelled")
        XCTAssertFalse(s.session!.notebook.isOverridden("stream", "block"))
        XCTAssertEqual(row(render(s), 18), " Reading the scores in blocks of 3 steps, the running      │    0.6364┤               ████")
    }

    func testEditorKeys() {
        var s = openedState()
        press(&s, .char("n"), .char("]"), .char("e"))
        press(&s, .home)
        type(&s, "1")
        XCTAssertEqual(s.session?.editor?.line.text, "12")
        press(&s, .end, .left, .delete)
        XCTAssertEqual(s.session?.editor?.line.text, "1")
        press(&s, .char("j"), .char("q"))
        XCTAssertEqual(s.session?.editor?.line.text, "1jq", "letters are typed, not commands")
        press(&s, .ctrl("w"))
        XCTAssertEqual(s.session?.editor?.line.text, "")
    }

    func testEditorInNarrowLayoutIsInTheTextAndInView() {
        var s = openedState(width: 80, height: 14)
        press(&s, .char("n"), .char("]"), .char("e"))
        let screen = render(s)
        assertRows(screen, from: 8, [
            " │ ▸ block   = 2",
            " │   ✎ 2",
            " │     block: int = 1 · Enter apply · Esc cancel",
        ])
    }
}

/// Heavy cells run off the UI thread: Enter starts a job, progress and the result come back
/// as events, Esc cancels.
final class HeavyCellTests: XCTestCase {
    static let registry = ModuleRegistry(ModuleCatalog.registry.modules + [SlowCount()])

    func heavyState() -> AppState {
        let text = """
        ---
        id: heavy
        title: Heavy
        order: 1
        ---

        The count is {{slow.count}} and it needs {{safe.max}} steps.

        ```cell id=safe compute=softmax.safe
        x = [1, 2, 3]
        ```

        ```cell id=slow compute=test.slow heavy
        steps = safe.max
        ```
        """
        let lesson = try! LessonLoader(registry: Self.registry).load(text, file: "heavy.md").get()
        var s = AppState(registry: Self.registry, lessons: [LessonEntry(lesson: lesson)], width: 100, height: 30)
        _ = openLesson(&s, id: "heavy")
        return s
    }

    func testEnterStartsAJobAndItsResultIsApplied() throws {
        var s = heavyState()
        XCTAssertEqual(s.session!.notebook.result("slow").status, .skippedHeavy)
        XCTAssertEqual(row(render(s), 1), " The count is ⟨slow.count⟩ and it needs 3 steps.           │ safe · softmax.safe",
                       "no value until it runs")
        press(&s, .char("n"))
        let effects = press(&s, .enter)
        let job = try XCTUnwrap(effects.compactMap(\.job).first)
        let id = try XCTUnwrap(effects.compactMap(\.jobID).first)
        XCTAssertEqual(s.job?.cellID, "slow")
        _ = update(&s, .jobProgress(id: id, fraction: 0.42))
        XCTAssertEqual(s.job?.fraction, 0.42)
        XCTAssertEqual(row(render(s), 4), "   x = [1, 2, 3]                                           │ ███████▉░░░░░░░░░░░ 42% · Esc cancels",
                       "a progress bar in the cell")
        press(&s, .enter)
        XCTAssertTrue(s.status!.text.contains("is running"), "one job at a time")
        let result = job.execute()
        _ = update(&s, .jobFinished(id: id, result: result))
        XCTAssertNil(s.job)
        XCTAssertEqual(row(render(s), 1), " The count is 3 and it needs 3 steps.                      │ slow · test.slow")
    }

    func testEscCancelsAndALateResultIsIgnored() throws {
        var s = heavyState()
        press(&s, .char("n"))
        let id = try XCTUnwrap(press(&s, .enter).compactMap(\.jobID).first)
        let effects = press(&s, .escape)
        XCTAssertEqual(effects.compactMap(\.cancelledJob), [id])
        XCTAssertNil(s.job)
        XCTAssertEqual(s.screen, .lesson, "the first Esc cancels the job, it does not leave")
        _ = update(&s, .jobFinished(id: id, result: CellResult(status: .failed(.cancelled))))
        XCTAssertEqual(s.session!.notebook.result("slow").status, .skippedHeavy)
    }

    func testAnUpstreamEditMakesTheHeavyCellStaleNotRerun() throws {
        var s = heavyState()
        press(&s, .char("n"))
        let effects = press(&s, .enter)
        let job = try XCTUnwrap(effects.compactMap(\.job).first)
        _ = update(&s, .jobFinished(id: effects.compactMap(\.jobID).first!, result: job.execute()))
        press(&s, .char("p"), .char("e"), .ctrl("u"))
        type(&s, "[1, 5]")
        let edit = press(&s, .enter)
        XCTAssertEqual(s.session!.notebook.result("slow").status, .stale)
        XCTAssertFalse(edit.contains { $0.jobID != nil }, "no job is started by an edit")
        XCTAssertTrue(s.status!.text.contains("1 heavy stale"))
    }

    func testCancellationReachesTheModule() {
        let job = try! heavyState().session!.notebook.job(for: "slow").get()
        let result = job.execute(context: RunContext(isCancelled: { true }))
        XCTAssertEqual(result.status, .failed(.cancelled))
    }

    func testJobRunnerReportsProgressAndResult() throws {
        let s = heavyState()
        let job = try s.session!.notebook.job(for: "slow").get()
        let runner = JobRunner(wake: {})
        runner.start(id: 7, job: job)
        var events: [Event] = []
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            events += runner.drain()
            if events.contains(where: { if case .jobFinished = $0 { true } else { false } }) { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        let progress = events.compactMap { if case .jobProgress(7, let f) = $0 { f } else { nil } }
        XCTAssertFalse(progress.isEmpty)
        XCTAssertEqual(progress.last, 1)
        guard case .jobFinished(7, let result)? = events.last else { return XCTFail("no result") }
        XCTAssertEqual(result.outputs?["count"], .integer(3))
        XCTAssertFalse(runner.isBusy)
    }
}

/// Layout at the sizes of the issue, asserted on the buffer's text.
final class LayoutTests: XCTestCase {
    func assertNoRowOverflows(_ b: ScreenBuffer, file: StaticString = #filePath, line: UInt = #line) {
        for y in 0..<b.height {
            XCTAssertLessThanOrEqual(TextWidth.of(b.rowText(y)), b.width, "row \(y)", file: file, line: line)
        }
    }

    func testWide160x50HasTextAndPanelSideBySide() {
        let s = openedState(width: 160, height: 50)
        let b = render(s)
        assertNoRowOverflows(b)
        let rows = b.rows
        XCTAssertEqual(row(b, 0), " Online softmax and the FlashAttention tile                                                                                                     cell 1/3 · 100%")
        let separator = try! XCTUnwrap(Array(rows[3]).firstIndex(of: "│"))
        XCTAssertEqual(separator, 160 - 64 - 1, "panel of 2/5 of the width")
        for y in 1..<49 { XCTAssertEqual(Array(rows[y])[separator], "│", "row \(y)") }
        XCTAssertEqual(row(b, 1), " One pass over the scores, rescaling as the maximum moves.                                     │ safe · softmax.safe")
        assertRows(b, from: 7, [
            "                                                                                               │ PARAMETERS  e edit · u reset",
            " • The first pass finds m = maxᵢ xᵢ.                                                           │ ▸ x = [2, 1, 3, 5, 4]",
            " • The second pass sums e^(xᵢ − m).                                                            │",
            " • The third pass divides.                                                                     │ OUTPUTS",
        ])
        XCTAssertEqual(row(b, 31), "   block = 2                                                                                   │   ✓ max = 5")
        // Prose values filled in (and highlighted).
        let prose = row(b, 5)
        XCTAssertTrue(prose.hasPrefix(" The safe softmax subtracts the maximum first. For our scores the maximum is 5 and the         │ ✓ ran in "), prose)
        let y = 6
        XCTAssertEqual(row(b, y), " denominator is 1.5713, so the largest probability is 0.6364.                                  │")
        let x = try! XCTUnwrap(row(b, y).range(of: "1.5713")).lowerBound.utf16Offset(in: row(b, y))
        XCTAssertEqual(b[x, y].style, s.theme.value)
        XCTAssertEqual(row(b, 49), " n/p cell · e edit · Enter run · ? help · q back · [ ] param · j/k scroll · u reset · R run all · / search")
    }

    func test100x30IsStillSideBySide() {
        let b = render(openedState(width: 100, height: 30))
        assertNoRowOverflows(b)
        XCTAssertEqual(Array(row(b, 5))[59], "│")
        XCTAssertEqual(row(b, 1), " One pass over the scores, rescaling as the maximum moves. │ safe · softmax.safe")
    }

    func test80x24PutsOutputsInTheText() {
        var s = openedState(width: 80, height: 24)
        let b = render(s)
        assertNoRowOverflows(b)
        XCTAssertFalse(b.rows[3].contains("│ safe · softmax.safe"), "no side panel")
        assertRows(b, from: 1, [" One pass over the scores, rescaling as the maximum moves.", "", " Online softmax"],
                   "no side panel")
        press(&s, .char("n"))
        let stream = render(s)
        XCTAssertEqual(row(stream, 3), " ▶ stream  softmax.online                                                 ✓ ok")
        XCTAssertTrue(row(stream, 4).hasPrefix(" │ ✓ ran in "), "the cell's details follow its header: \(row(stream, 4))")
        assertRows(stream, from: 6, [
            " │ PARAMETERS  [ ] choose · e edit · u reset",
            " │ ▸ x       = [2, 1, 3, 5, 4] ← safe.x",
        ])
    }

    func test40x12HasNoOverlap() {
        var s = openedState(width: 40, height: 12)
        for keys in [[Key](), [.char("n")], [.char("n"), .char("]"), .char("e")], [.escape, .char("G")], [.char("?")]] {
            for k in keys { press(&s, k) }
            let b = render(s)
            assertNoRowOverflows(b)
            XCTAssertTrue(row(b, 0).hasPrefix(" Online softmax"), "title row")
            XCTAssertFalse(row(b, 11).isEmpty, "status row")
            // Title and status rows are bars of their own: no text line is drawn over them.
            XCTAssertEqual(b[0, 0].style.bg, s.theme.statusBar.bg)
            XCTAssertEqual(b[b.width - 1, 11].style.bg, nil)
        }
        var list = makeState(width: 40, height: 12)
        let b = render(list)
        assertNoRowOverflows(b)
        XCTAssertEqual(row(b, 1), " ▶ ·  1 Online softmax and the FlashAt…", "numbered by place in the list")
        press(&list, .char("j"))
        XCTAssertEqual(row(render(list), 5), " ▶ ·  2 软最大值函数（中文）", "the selection stays in view")
    }

    func test20x6ShowsANote() {
        var s = openedState(width: 20, height: 6)
        assertRows(render(s), from: 0, [
            "Terminal too small:",
            "20×6. derive needs",
            "at least 40×12.",
            "Enlarge the window,",
            "or q to go back.",
        ])
        press(&s, .char("n"))
        XCTAssertEqual(s.session?.focusedCell, 0, "keys do nothing but q while too small")
        _ = update(&s, .resize(width: 100, height: 30))
        XCTAssertEqual(row(render(s), 8), "                                                           │ PARAMETERS  e edit · u reset",
                       "a resize redraws at once")
        assertRows(render(makeState(width: 39, height: 40)), from: 18, [
            "Terminal too small: 39×40. derive needs",
            "at least 40×12. Enlarge the window, or",
            "q to go back.",
        ])
        XCTAssertEqual(row(render(makeState(width: 100, height: 11)), 5),
                       "Terminal too small: 100×11. derive needs at least 40×12. Enlarge the window, or q to go back.")
    }

    func testResizeKeepsScrollInRange() {
        var s = openedState(width: 80, height: 24)
        press(&s, .char("G"))
        _ = update(&s, .resize(width: 160, height: 50))
        let layout = s.documentLayout(s.session!)
        XCTAssertLessThanOrEqual(s.session!.scroll, max(0, layout.lines.count - 48))
    }

    func testHeatmapBitsAndMatrixOutputsInThePanel() {
        let b = render(openedState(width: 160, height: 50))
        assertRows(b, from: 16, [
            "                                                                                               │   softmax (5)",
            " Reading the scores in blocks of 3 steps, the running maximum ends at 5 and the final sum is   │    0.6364┤                  █████",
        ], "the softmax chart with its axis label")
    }

    func testMonochromeUsesNoColour() {
        let s = openedState(width: 100, height: 30, color: false)
        let b = render(s)
        XCTAssertTrue(b.cells.allSatisfy { $0.style.fg == nil && $0.style.bg == nil })
        let y = 6
        let prose = row(b, y)
        XCTAssertTrue(prose.hasPrefix(" scores the maximum is 5 and the denominator is 1.5713, so │ ✓ ran in "), prose)
        let x = try! XCTUnwrap(prose.range(of: "1.5713")).lowerBound.utf16Offset(in: prose)
        XCTAssertTrue(b[x, y].style.bold && b[x, y].style.underline, "values still stand out")
    }
}

/// The Chinese fixture: wide characters take two columns, wrap within the width, and the
/// escape sequences in the text are shown, not sent.
final class WideTextTests: XCTestCase {
    func testChineseProseWrapsByDisplayWidth() {
        for width in [40, 60, 80, 120] {
            let s = openedState("zh-softmax", width: width, height: 30)
            let b = render(s)
            for y in 0..<b.height {
                var columns = 0
                for x in 0..<b.width where !b[x, y].isContinuation { columns += Int(b[x, y].width) }
                XCTAssertEqual(columns, width, "row \(y) at width \(width) fills exactly the width")
            }
            let g = s.geometry()
            let text = Document.layout(s.viewContext(s.session!), s.session!, width: g.text.width, inlineCells: g.inlineCells)
            for line in text.lines { XCTAssertLessThanOrEqual(line.width, g.text.width) }
        }
        let b = render(openedState("zh-softmax", width: 60, height: 30))
        let y = 5
        XCTAssertEqual(row(b, y), " 对于我们的分数，最大值是 5，分母是 1.5713。先减去最大值，")
        // Each ideograph occupies a lead cell and a continuation cell.
        let x = 1
        XCTAssertEqual(b[x, y].grapheme, "对")
        XCTAssertEqual(b[x, y].width, 2)
        XCTAssertTrue(b[x + 1, y].isContinuation)
        XCTAssertEqual(b[x + 2, y].grapheme, "于")
    }

    func testEscapeSequencesInLessonTextAreShownEscaped() {
        let b = render(openedState("zh-softmax", width: 100, height: 30))
        XCTAssertEqual(row(b, 9), " 危险的文本：␛[31m红色␛[0m 和响铃␇不应该被发送到终端。     │ ▸ x = [2, 1, 3, 5, 4]")
        for cell in b.cells {
            for scalar in cell.grapheme.unicodeScalars {
                XCTAssertFalse(scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value), "control character in a cell")
            }
        }
    }

    func testEmojiInTheSummaryIsTwoColumns() throws {
        let b = render(openedState("zh-softmax", width: 100, height: 30))
        let y = 1
        XCTAssertEqual(row(b, y), " 用中文解释数值稳定的 softmax 🚀                           │ safe · softmax.safe")
        let x = try XCTUnwrap((0..<b.width).first { b[$0, y].grapheme == "🚀" })
        XCTAssertEqual(b[x, y].width, 2)
    }
}
