import Foundation
@testable import NotebookCore
import TestSupport
import XCTest

/// Lesson files as they arrive from the world: other line endings, bad bytes, absurd sizes.
final class LineEndingTests: XCTestCase {
    let body = "```cell id=a compute=test.add\na = [1, 2]\nexpect total = 33\n```\n\nThe total is {{a.total}}.\n"

    func testEveryLineEndingLoadsAndNumbersLinesAlike() throws {
        let unix = lessonText(body)
        for (name, ending) in [("CRLF", "\r\n"), ("CR", "\r")] {
            let text = unix.replacingOccurrences(of: "\n", with: ending)
            let lesson = try loadLesson(text)
            XCTAssertEqual(lesson.cells.map(\.id), ["a"], name)
            XCTAssertEqual(lesson.cells[0].location.line, 7, name)
            XCTAssertEqual(lesson.cells[0].bindings.first?.expression.source, "[1, 2]", name)
            // An error is reported on its own line, with no raw line ending in the message.
            let broken = text.replacingOccurrences(of: "a = [1, 2]", with: "a = [1, 2")
            let errors = loadErrors(broken)
            XCTAssertEqual(errors, ["8:5: '[' is never closed (parameter 'a')"], name)
        }
    }

    func testMixedEndingsKeepTheirLines() {
        let text = "---\r\nid: m\rtitle: Mixed\n---\r\n\r\n```cell id=a compute=test.add\ra = [1\n```\r\n"
        XCTAssertEqual(loadErrors(text), ["7:5: '[' is never closed (parameter 'a')"])
        XCTAssertEqual(LineEndings.lines(of: "a\r\nb\rc\nd"), ["a", "b", "c", "d"])
        XCTAssertEqual(LineEndings.lines(of: "a\r\n"), ["a", ""])
        XCTAssertEqual(LineEndings.lines(of: ""), [""])
    }

    func testInvalidUTF8IsReportedWhereItIs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("derive-utf8-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var bytes = Array(lessonText("Fine.\nAlso fine: é.\nBad ").utf8)
        bytes += [0xC3, 0x28] + Array(" here.\n".utf8)
        try Data(bytes).write(to: dir.appendingPathComponent("bad.md"))
        let library = LessonLoader(registry: testRegistry).loadDirectory(dir)
        XCTAssertEqual(library.errors.map { "\($0.location.line):\($0.location.column)" }, ["9:5"])
    }

    func testFormatsPastThirtyDigitsAreRefused() {
        let text = lessonText("```cell id=a compute=test.add\n```\n{{a.total:.30f}} {{a.total:.31f}}\n")
        XCTAssertEqual(loadErrors(text).count, 1)
        XCTAssertTrue(loadErrors(text).first?.hasPrefix("9:18: unknown format ':.31f'") == true, "\(loadErrors(text))")
    }

    func testOverlongLinesAreRefused() {
        let long = String(repeating: "word ", count: LessonParser.maxLineBytes / 5 + 10)
        let errors = loadErrors(lessonText("Fine.\n" + long + "\n"))
        XCTAssertEqual(errors.count, 1)
        XCTAssertTrue(errors[0].hasPrefix("8:1: line is"), errors[0])
    }
}

/// Parsers and renderers stay linear on the shapes that once made them quadratic: each runs
/// at a size and at ten times that size, and the larger may take at most 30 times as long
/// (linear work takes about 10×; the quadratic versions took about 100×). Not a timing test:
/// the ratio is taken of the faster of three runs, so a busy machine does not fail it.
final class LinearGrowthTests: XCTestCase {
    func seconds(_ work: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            work()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }

    func assertLinear(_ name: String, base: Int, file: StaticString = #filePath, line: UInt = #line,
                      _ work: (Int) -> Void) {
        let small = seconds { work(base) }
        let large = seconds { work(base * 10) }
        XCTAssertLessThan(large, 30 * small + 0.05, "\(name): \(small) s at \(base), \(large) s at \(base * 10)",
                          file: file, line: line)
    }

    func testLoaderErrorsOnManyMalformedLines() {
        assertLinear("malformed cell lines", base: 2_000) { n in
            let text = lessonText("```cell id=a compute=test.add\n" + String(repeating: "garbage line\n", count: n) + "```\n")
            XCTAssertEqual(loadErrors(text).count, n)
        }
    }

    func testEmphasisAndLinksThatNeverClose() {
        assertLinear("unclosed *", base: 2_000) { n in _ = PlainMarkdown.inline(String(repeating: "a *b ", count: n)) }
        assertLinear("unclosed [", base: 2_000) { n in _ = PlainMarkdown.inline(String(repeating: "a [b ", count: n)) }
        assertLinear("unclosed **", base: 2_000) { n in _ = PlainMarkdown.inline(String(repeating: "**a ", count: n)) }
    }

    func testInlineMathOnEveryLineOfOneParagraph() {
        assertLinear("inline math", base: 500) { n in
            _ = MathText.renderInline(String(repeating: "some text $x_i$ and more words here\n", count: n))
        }
        assertLinear("unmatched dollars", base: 2_000) { n in _ = MathText.renderInline(String(repeating: "$5 ", count: n)) }
    }

    func testTextRenderingOfALongParagraph() throws {
        assertLinear("text renderer", base: 300) { n in
            let text = lessonText(String(repeating: "Line with $x$ and *y and [z and {{a.total}}.\n", count: n)
                                  + "```cell id=a compute=test.add\n```\n")
            guard let lesson = try? loadLesson(text) else { return XCTFail("does not load") }
            var notebook = Notebook(lesson: lesson, registry: testRegistry)
            notebook.runAll()
            _ = TextRenderer().render(notebook)
        }
    }

    func testBigVectorsParseAndPrint() {
        assertLinear("vector literal", base: 10_000) { n in
            _ = try? ExpressionParser.parse("[" + Array(repeating: "0.25", count: n).joined(separator: ", ") + "]")
        }
        assertLinear("JSON of a vector", base: 10_000) { n in
            _ = Value.vector(Array(repeating: 0.1, count: n)).json.serialized(indent: 2)
        }
        assertLinear("escaping", base: 20_000) { n in
            _ = TerminalText.escapeControls(String(repeating: "ab\u{1B}c", count: n))
        }
    }
}
