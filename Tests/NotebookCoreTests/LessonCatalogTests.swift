import Foundation
import NotebookCore
import TestSupport
import XCTest

/// The lesson list reads headers only: front matter and the ids of cells and questions. A body
/// with errors still lists; its errors appear when the lesson is opened (loaded in full).
final class LessonCatalogTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try makeTemporaryFolder(self, prefix: "derive-catalog")
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    let body = """
        # Demo

        ```question id=guess cell=first answer=total
        What is the total?
        ```

        ```cell id=first compute=test.add title="Add"
        a = [1, 2]
        expect total > 0
        ```

        ````text
        ```cell id=not-a-cell compute=test.add
        ```
        ````

        ~~~cell id=second compute=test.scale
        x = first.y
        expect y[0] < 0
        ~~~
        """

    func testTheHeaderHasTheFrontMatterAndTheIdsTheFullParseFinds() throws {
        let text = lessonText(body)
        let (header, errors) = LessonParser.parseHeader(text, file: "demo.md")
        XCTAssertEqual(errors.map(\.description), [])
        let lesson = try loadLesson(text)
        XCTAssertEqual(header.id, "demo")
        XCTAssertEqual(header.title, "Demo")
        XCTAssertEqual(header.order, 1)
        XCTAssertEqual(header.summary, "A test lesson.")
        XCTAssertEqual(header.cellIDs, ["first", "second"], "a fence inside a longer fence is code, not a cell")
        XCTAssertEqual(header.cellIDs, lesson.cells.map(\.id))
        XCTAssertEqual(header.questionIDs, lesson.questions.map(\.id))
    }

    func testABodyWithErrorsListsAndItsErrorsShowOnOpening() throws {
        try write("broken.md", lessonText("""
            ```cell id=first compute=test.nope
            a = [1, 2]
            expect total > 0
            ```
            """, id: "broken"))
        try write("good.md", lessonText(body, id: "good"))
        let loader = LessonLoader(registry: testRegistry)
        let catalog = loader.loadHeaders(folder)
        XCTAssertEqual(catalog.errors.map(\.description), [])
        XCTAssertEqual(catalog.headers.map(\.id), ["broken", "good"])
        XCTAssertEqual(catalog.header("broken")?.cellIDs, ["first"])
        guard case .failure(let failure) = loader.load(try XCTUnwrap(catalog.header("broken"))) else {
            return XCTFail("the unknown module is found on opening")
        }
        let message = try XCTUnwrap(failure.errors.first?.description)
        XCTAssertTrue(message.hasSuffix("broken.md:7:4: unknown compute module 'test.nope'"), message)
        guard case .success(let good) = loader.load(try XCTUnwrap(catalog.header("good"))) else {
            return XCTFail("the good lesson opens")
        }
        XCTAssertEqual(good.cells.count, 2)
    }

    func testBrokenFrontMatterAndDuplicateIdsAreReportedAndNotListed() throws {
        try write("a.md", lessonText(body, id: "same"))
        try write("b.md", lessonText(body, id: "same"))
        try write("c.md", "---\ntitle: No id\n---\n" + body)
        try write("d.md", "no front matter at all\n")
        try write("notes.txt", "not a lesson")
        let catalog = LessonLoader(registry: testRegistry).loadHeaders(folder)
        XCTAssertEqual(catalog.headers.map(\.id), ["same"])
        let errors = catalog.errors.map(\.description)
        guard errors.count == 3 else { return XCTFail("\(errors)") }
        XCTAssertTrue(errors[0].contains("b.md:2:1: duplicate lesson id 'same', already used by "), errors[0])
        XCTAssertTrue(errors[1].contains("c.md:1:1: front matter has no 'id'"), errors[1])
        XCTAssertTrue(errors[2].contains("d.md:1:1: expected front matter"), errors[2])
    }

    func testAFileEditedToAnotherIdAfterListingSaysSoOnOpening() throws {
        try write("demo.md", lessonText(body, id: "demo"))
        let loader = LessonLoader(registry: testRegistry)
        let header = try XCTUnwrap(loader.loadHeaders(folder).header("demo"))
        try write("demo.md", lessonText(body, id: "renamed"))
        guard case .failure(let failure) = loader.load(header) else { return XCTFail("the id changed") }
        let message = failure.errors.map(\.description).joined(separator: "\n")
        XCTAssertTrue(message.contains("now holds lesson 'renamed', not 'demo'"), message)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("demo.md"))
        guard case .failure(let gone) = loader.load(header) else { return XCTFail("the file is gone") }
        let goneMessage = gone.errors.map(\.description).joined(separator: "\n")
        XCTAssertTrue(goneMessage.contains("demo.md:1:1: cannot read"), goneMessage)
    }

    func testAMissingFolderIsOneError() {
        let catalog = LessonLoader(registry: testRegistry).loadHeaders(folder.appendingPathComponent("missing"))
        XCTAssertEqual(catalog.headers.count, 0)
        XCTAssertEqual(catalog.errors.count, 1)
        XCTAssertTrue(catalog.errors[0].message.hasPrefix("cannot read the lessons folder"), catalog.errors[0].message)
    }
}
