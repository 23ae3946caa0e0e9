import Foundation
import NotebookCore
import Lessons
import XCTest
@testable import TUI

/// An author edits the open lesson's file: the notebook reloads it in place, keeping the
/// focus and the learner's values that still apply; a broken save keeps the last good version.
final class ReloadTests: XCTestCase {
    var folder: URL!
    var file: URL { folder.appendingPathComponent("edited.md") }

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("derive-reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func lesson(scores: String, second: Bool = true, broken: Bool = false) -> String {
        """
        ---
        id: edited
        title: Edited
        ---

        The largest share is {{first.softmax[2]:.4f}}.

        ```cell id=first compute=softmax.safe
        x = \(scores)
        expect sum(softmax) ≈ 1 ± 1e-12
        ```
        \(second ? "\n```cell id=second compute=softmax.safe\nx = first.softmax\nexpect max < 1\n```\n" : "")
        \(broken ? "```cell id=third compute=no.such\n```\n" : "")
        """
    }

    /// Applies an event as the runtime would, loading lesson files when asked.
    func handle(_ state: inout AppState, _ event: Event) -> [Effect] {
        var queue = [event]
        var effects: [Effect] = []
        while !queue.isEmpty {
            for effect in update(&state, queue.removeFirst()) {
                if case .loadLesson(let header) = effect {
                    queue.append(.lessonLoaded(id: header.id, LessonLoader(registry: state.registry).load(header)))
                } else {
                    effects.append(effect)
                }
            }
        }
        return effects
    }

    func openedState() throws -> AppState {
        try lesson(scores: "[1, 2, 3]").write(to: file, atomically: true, encoding: .utf8)
        let catalog = LessonLoader(registry: ModuleCatalog.registry).loadHeaders(folder)
        XCTAssertEqual(catalog.errors.map(\.description), [])
        var state = AppState(registry: ModuleCatalog.registry, lessons: catalog.headers.map { LessonEntry(header: $0) })
        _ = handle(&state, .open(lessonID: "edited"))
        XCTAssertEqual(state.screen, .lesson)
        return state
    }

    func prose(_ state: AppState) -> String {
        state.documentLayout(state.session!).lines.map(\.plainText).joined(separator: "\n")
    }

    func testAnEditReloadsInPlaceKeepingFocusAndTheValuesThatStillApply() throws {
        var state = try openedState()
        XCTAssertTrue(prose(state).contains("The largest share is 0.6652."), prose(state))
        state.session?.focus(on: .cell(1))
        try state.session?.notebook.setOverride(cell: "second", parameter: "x", source: "[0.5, 0.5]")
        try lesson(scores: "[1, 2, 5]").write(to: file, atomically: true, encoding: .utf8)
        _ = handle(&state, .lessonFileChanged(id: "edited"))
        XCTAssertTrue(prose(state).contains("The largest share is 0.9362."), prose(state))
        XCTAssertEqual(state.session?.focusedCellSpec?.id, "second", "the focus stays on the same cell")
        XCTAssertEqual(state.session?.notebook.overrides["second"]?["x"]?.source, "[0.5, 0.5]", "the learner's value is kept")
        XCTAssertEqual(state.status?.text, "reloaded \(file.path)")
        XCTAssertNil(state.session?.reloadError)

        // The cell the value belonged to is gone: the value is dropped, with a note and a record.
        try lesson(scores: "[1, 2, 5]", second: false).write(to: file, atomically: true, encoding: .utf8)
        let effects = handle(&state, .lessonFileChanged(id: "edited"))
        XCTAssertEqual(state.session?.lesson.cells.map(\.id), ["first"])
        XCTAssertEqual(state.session?.focusedCellSpec?.id, "first")
        XCTAssertEqual(state.status?.isError, true)
        XCTAssertTrue(state.status?.text.contains("dropped 1 value(s) that no longer apply: second.x = [0.5, 0.5]") == true,
                      state.status?.text ?? "")
        let dropped = effects.contains { effect in
            if case .record(.overrides("edited", "second", let sources)) = effect { return sources.isEmpty }
            return false
        }
        XCTAssertTrue(dropped, "\(effects)")
    }

    func testABrokenSaveKeepsTheLastGoodVersionUntilAFixedOne() throws {
        var state = try openedState()
        try lesson(scores: "[1, 2, 3]", broken: true).write(to: file, atomically: true, encoding: .utf8)
        _ = handle(&state, .lessonFileChanged(id: "edited"))
        XCTAssertEqual(state.screen, .lesson)
        XCTAssertEqual(state.session?.lesson.cells.map(\.id), ["first", "second"], "the last good version stays")
        let error = try XCTUnwrap(state.session?.reloadError)
        XCTAssertTrue(error.contains("edited.md:18:4: unknown compute module 'no.such'"), error)
        let screen = render(state)
        XCTAssertTrue(screen.rowText(screen.height - 1).contains("not reloaded: "), screen.rowText(screen.height - 1))

        try lesson(scores: "[0, 0, 0]").write(to: file, atomically: true, encoding: .utf8)
        _ = handle(&state, .lessonFileChanged(id: "edited"))
        XCTAssertNil(state.session?.reloadError, "the fix clears the error")
        XCTAssertTrue(prose(state).contains("The largest share is 0.3333."), prose(state))
    }

    func testTheWatchSeesWritesAndRenamesButNotAMissingFile() throws {
        let state = try openedState()
        var watch = LessonFileWatch()
        watch.follow(state)
        XCTAssertTrue(watch.isWatching)
        XCTAssertNil(watch.poll(), "nothing changed yet")
        try lesson(scores: "[1, 2, 4]").write(to: file, atomically: false, encoding: .utf8)
        guard case .lessonFileChanged("edited")? = watch.poll() else { return XCTFail("a write is seen") }
        XCTAssertNil(watch.poll(), "once")
        // An editor's save: write a temporary file, then rename it over the lesson.
        try FileManager.default.removeItem(at: file)
        XCTAssertNil(watch.poll(), "a file missing for a moment is waited for")
        let temporary = folder.appendingPathComponent(".edited.md.swp")
        try lesson(scores: "[1, 2, 4]").write(to: temporary, atomically: false, encoding: .utf8)
        try FileManager.default.moveItem(at: temporary, to: file)
        guard case .lessonFileChanged("edited")? = watch.poll() else { return XCTFail("a rename over the file is seen") }

        var onList = state
        onList.session = nil
        watch.follow(onList)
        XCTAssertFalse(watch.isWatching, "nothing is watched on the list")
    }

    func testTheListPicksUpLessonsAddedRemovedAndRenamed() throws {
        var state = try openedState()
        _ = handle(&state, .key(.char("q")))
        XCTAssertEqual(state.screen, .list)
        state.lessons[0].ranCells = ["first"]
        state.lessonsDirectory = folder
        var watch = LessonFolderWatch(folder)
        XCTAssertNil(watch.poll(state), "nothing changed")
        let other = lesson(scores: "[1, 2]").replacingOccurrences(of: "id: edited", with: "id: another")
        try other.write(to: folder.appendingPathComponent("another.md"), atomically: true, encoding: .utf8)
        let added = try XCTUnwrap(watch.poll(state))
        _ = handle(&state, added)
        XCTAssertEqual(state.lessons.map(\.header.id).sorted(), ["another", "edited"])
        XCTAssertEqual(state.lessons.first { $0.header.id == "edited" }?.progress.cellsRun, 1, "progress is kept")
        XCTAssertEqual(state.lessons[state.listSelection].header.id, "edited", "the selection stays on its lesson")

        // A rename (a new id in the same file) and a removal.
        try lesson(scores: "[1, 2, 3]").replacingOccurrences(of: "id: edited", with: "id: renamed")
            .write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("another.md"))
        _ = handle(&state, try XCTUnwrap(watch.poll(state)))
        XCTAssertEqual(state.lessons.map(\.header.id), ["renamed"])
        XCTAssertEqual(state.lessons[0].progress.cellsRun, 0)
        XCTAssertEqual(state.listSelection, 0)

        // In a lesson, the folder waits: the change is read on the way back to the list.
        _ = handle(&state, .open(lessonID: "renamed"))
        try other.write(to: folder.appendingPathComponent("another.md"), atomically: true, encoding: .utf8)
        XCTAssertNil(watch.poll(state))
        _ = handle(&state, .key(.char("q")))
        _ = handle(&state, try XCTUnwrap(watch.poll(state)))
        XCTAssertEqual(state.lessons.count, 2)
    }
}
