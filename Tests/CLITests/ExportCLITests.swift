import Foundation
import Progress
import XCTest

/// `derive export` through the real binary: where it writes, what, and what it refuses.
final class ExportCLITests: XCTestCase {
    func testWritesAPageNamedAfterTheLessonByDefault() throws {
        let dir = try DeriveProcess.temporaryDirectory(self)
        let page = dir.appendingPathComponent("online-softmax.html")
        let out = try DeriveProcess.run(["export", "online-softmax", "-o", page.path])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stdout.hasPrefix("wrote \(page.path) ("), out.stdout)
        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("<math"), "the lesson's math is MathML")
        XCTAssertTrue(html.contains("<svg"), "its charts are inline SVG")
        XCTAssertFalse(html.contains("http://") && html.contains("src=\"http"), "nothing is loaded from anywhere")
    }

    func testStandardOutputAndTheNotebookFormat() throws {
        let out = try DeriveProcess.run(["export", "online-softmax", "--to", "ipynb", "-o", "-", "--set", "stream.block=2"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let notebook = try out.json()
        XCTAssertEqual(notebook["nbformat"] as? Int, 4)
        let cells = try XCTUnwrap(notebook["cells"] as? [[String: Any]])
        let stream = try XCTUnwrap(cells.first { ($0["source"] as? String)?.hasPrefix("cell id=stream ") == true })
        XCTAssertTrue((stream["source"] as? String)?.contains("block = 2  # edited") == true, "--set reaches the export")
    }

    func testMarkdownGoesIntoAFolderWithItsCharts() throws {
        let dir = try DeriveProcess.temporaryDirectory(self).appendingPathComponent("notes")
        let out = try DeriveProcess.run(["export", "online-softmax", "--to", "md", "-o", dir.path])
        XCTAssertEqual(out.status, 0, out.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        let charts = files.filter { $0.hasSuffix(".svg") }
        XCTAssertFalse(charts.isEmpty)
        let markdown = try String(contentsOf: dir.appendingPathComponent("online-softmax.md"), encoding: .utf8)
        for chart in charts {
            XCTAssertTrue(markdown.contains("](\(chart))"), "\(chart) is linked from the Markdown")
            XCTAssertTrue(try String(contentsOf: dir.appendingPathComponent(chart), encoding: .utf8).hasPrefix("<svg"))
        }
    }

    func testMineUsesTheSavedValuesAndSetWins() throws {
        let db = try DeriveProcess.temporaryDirectory(self).appendingPathComponent("progress.sqlite")
        let store = ProgressStore.open(at: db).store
        XCTAssertTrue(store.setOverride(lesson: "online-softmax", cell: "stream", parameter: "block", source: "3"))
        XCTAssertTrue(store.setOverride(lesson: "online-softmax", cell: "gone", parameter: "x", source: "1"))
        let env = ["DERIVE_DB": db.path]
        func streamSource(_ arguments: [String]) throws -> String {
            let out = try DeriveProcess.run(["export", "online-softmax", "--to", "ipynb", "-o", "-"] + arguments, environment: env)
            XCTAssertEqual(out.status, 0, out.stderr)
            let cells = try XCTUnwrap(try out.json()["cells"] as? [[String: Any]])
            return try XCTUnwrap(cells.compactMap { $0["source"] as? String }.first { $0.hasPrefix("cell id=stream ") })
        }
        XCTAssertTrue(try streamSource([]).contains("block = 1\n"), "without --mine, the lesson's own values")
        XCTAssertTrue(try streamSource(["--mine"]).contains("block = 3  # edited"))
        XCTAssertTrue(try streamSource(["--mine", "--set", "stream.block=4"]).contains("block = 4  # edited"))
        let out = try DeriveProcess.run(["export", "online-softmax", "--mine", "-o", "-"], environment: env)
        XCTAssertTrue(out.stderr.contains("your saved gone.x = 1 no longer applies"), out.stderr)
    }

    func testRefusalsSayWhatIsWrong() throws {
        let unknown = try DeriveProcess.run(["export", "no-such-lesson"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("no-such-lesson"), unknown.stderr)
        let format = try DeriveProcess.run(["export", "online-softmax", "--to", "pdf"])
        XCTAssertNotEqual(format.status, 0)
        XCTAssertTrue(format.stderr.contains("html"), format.stderr)
        let dir = try DeriveProcess.temporaryDirectory(self)
        let target = dir.appendingPathComponent("missing/folder/page.html")
        let unwritable = try DeriveProcess.run(["export", "online-softmax", "-o", target.path])
        XCTAssertNotEqual(unwritable.status, 0)
        XCTAssertTrue(unwritable.stderr.contains("cannot write \(target.path): No such file or directory"), unwritable.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [], "nothing half-written")
    }
}
