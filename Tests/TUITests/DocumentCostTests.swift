import Foundation
import Progress
import XCTest
import NotebookCore
import Lessons
@testable import TUI

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

    /// The first frame lays out only the top of the lesson; it must be the frame the whole
    /// layout draws, for every bundled lesson, narrow and wide.
    func testTheFirstFrameFromTheTopOfTheLayoutIsTheWholeLayoutsFrame() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("lessons")
        let library = LessonLoader(registry: ModuleCatalog.registry).loadDirectory(folder)
        XCTAssertEqual(library.errors.count, 0)
        XCTAssertGreaterThanOrEqual(library.lessons.count, 12)
        for lesson in library.lessons {
            var s = AppState(registry: ModuleCatalog.registry, lessons: [LessonEntry(lesson: lesson)], width: 80, height: 24)
            if lesson.id == "online-softmax" {
                _ = openLesson(&s, id: lesson.id)
            } else {
                // The others with their cells not run yet: some train for a minute in a debug
                // build, and the layout's prefix does not depend on the values.
                s.session = LessonSession(notebook: Notebook(lesson: lesson, registry: ModuleCatalog.registry))
                s.screen = .lesson
            }
            for (width, height) in [(80, 24), (200, 60), (40, 12)] {
                _ = update(&s, .resize(width: width, height: height))
                // As at start-up, where the lesson opens after the first resize: nothing laid out yet.
                s.layoutCache = LayoutCache()
                let before = s.layoutCache.layoutsMade
                let first = render(s)
                XCTAssertEqual(s.layoutCache.layoutsMade, before, "\(lesson.id): the first frame made no whole layout")
                let session = try XCTUnwrap(s.session)
                XCTAssertEqual(session.scroll, 0)
                let top = s.documentLayout(session, firstLines: 10)
                let whole = s.documentLayout(session)
                XCTAssertTrue(whole.isComplete)
                XCTAssertFalse(top.isComplete, "\(lesson.id) is longer than a few screens")
                XCTAssertEqual(render(s).text, first.text, "\(lesson.id) at \(width)×\(height)")
                XCTAssertEqual(render(s).changedCells(since: first).count, 0, "\(lesson.id): the same styles too")
                XCTAssertEqual(top.lines.map(\.plainText), Array(whole.lines.prefix(top.lines.count)).map(\.plainText))
            }
        }
    }

    /// An edit lays out again only the prose whose values changed; the layout is the one made
    /// from nothing after edits, resizes and a lesson opened again.
    func testAnEditLaysOutOnlyTheProseWhoseValuesChanged() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("lessons")
        let lesson = try LessonLoader(registry: ModuleCatalog.registry).loadFile(folder.appendingPathComponent("online-softmax.md")).get()
        var s = AppState(registry: ModuleCatalog.registry, lessons: [LessonEntry(lesson: lesson)], width: 200, height: 60)
        _ = openLesson(&s, id: lesson.id)
        _ = s.documentLayout(s.session!)
        let blocks = s.session!.lesson.blocks.filter { if case .prose = $0 { true } else { false } }.count
        let before = s.layoutCache.proseLayouts.blocksMade
        while s.session?.lesson.cells[s.session!.focusedCell].id != "safe" { press(&s, .char("n")) }
        press(&s, .char("e"), .ctrl("u"))
        type(&s, "[2, 1, 3, 9, 4]")
        press(&s, .enter)
        XCTAssertNil(s.session?.editor)
        assertLayoutIsMadeFresh(s, "after the edit")
        let relaid = s.layoutCache.proseLayouts.blocksMade - before
        XCTAssertGreaterThan(relaid, 0, "the values in the text changed")
        XCTAssertLessThan(relaid, blocks / 4, "\(relaid) of \(blocks) prose blocks laid out again")
        for (width, height) in [(80, 24), (200, 60)] {
            _ = update(&s, .resize(width: width, height: height))
            assertLayoutIsMadeFresh(s, "at \(width)×\(height)")
        }
        press(&s, .char("u"))
        assertLayoutIsMadeFresh(s, "after resetting the cell")
    }

    func testTheLayoutIsMadeOncePerChangeAndFollowsEveryChange() {
        var s = openedState(width: 80, height: 24)
        _ = render(s)
        // As the runtime does once a frame is drawn.
        _ = s.documentLayout(s.session!)
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
        XCTAssertEqual(s.documentLayout(s.session!).lines, Document.layout(s.viewContext(s.session!), s.session!, width: 78, inlineCells: true).lines)
    }
}
