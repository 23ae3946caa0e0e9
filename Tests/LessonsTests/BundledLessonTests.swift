import Foundation
import NotebookCore
import XCTest

@testable import Lessons

/// The bundled lessons as a learner reads them: every lesson loads, is a chapter of ten or
/// more cells that all carry expectations, and its text output has no LaTeX or placeholder
/// left unrendered.
final class BundledLessonTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("lessons")

    func library() throws -> LessonLibrary {
        let library = LessonLoader(registry: ModuleCatalog.registry).loadDirectory(Self.directory)
        XCTAssertEqual(library.errors.map(\.description), [])
        XCTAssertGreaterThanOrEqual(library.lessons.count, 4)
        return library
    }

    func testEveryLessonIsAChapterWithExpectationsOnEveryCell() throws {
        for lesson in try library().lessons {
            XCTAssertGreaterThanOrEqual(lesson.cells.count, 10, lesson.id)
            for cell in lesson.cells {
                XCTAssertFalse(cell.expectations.isEmpty, "\(lesson.id): cell \(cell.id) has no expect line")
            }
        }
    }

    func testTheListsHeadersAgreeWithTheFullParse() throws {
        let catalog = LessonLoader(registry: ModuleCatalog.registry).loadHeaders(Self.directory)
        XCTAssertEqual(catalog.errors.map(\.description), [])
        let lessons = try library().lessons
        XCTAssertEqual(catalog.headers.map(\.id), lessons.map(\.id))
        for (header, lesson) in zip(catalog.headers, lessons) {
            var parsed = LessonHeader(lesson)
            parsed.url = header.url
            XCTAssertEqual(header, parsed, lesson.id)
        }
    }

    func testTextOutputHasNoUnrenderedMathOrPlaceholders() throws {
        let command = try NSRegularExpression(pattern: #"\\[A-Za-z]+"#)
        let placeholder = try NSRegularExpression(pattern: #"⟨([A-Za-z0-9_-]+)\.[A-Za-z0-9_\[\]]+⟩"#)
        for lesson in try library().lessons {
            var notebook = Notebook(lesson: lesson, registry: ModuleCatalog.registry)
            notebook.runAll()
            let text = TextRenderer().render(notebook)
            // Cell boxes and code blocks show source on purpose; prose is what must be rendered.
            let prose = text.split(separator: "\n").map(String.init)
                .filter { !$0.hasPrefix("│") && !$0.hasPrefix("┌") && !$0.hasPrefix("└") && !$0.hasPrefix("    ") }
            for line in prose {
                let range = NSRange(line.startIndex..., in: line)
                XCTAssertFalse(line.contains("$"), "\(lesson.id): unrendered math: \(line)")
                XCTAssertNil(command.firstMatch(in: line, range: range), "\(lesson.id): LaTeX command left: \(line)")
                for match in placeholder.matches(in: line, range: range) {
                    let cellID = (line as NSString).substring(with: match.range(at: 1))
                    XCTAssertTrue(lesson.cell(cellID)?.isHeavy == true,
                                  "\(lesson.id): value of non-heavy cell \(cellID) missing: \(line)")
                }
            }
        }
    }
}
