import NotebookCore
import TestSupport
import XCTest

final class NotebookTests: XCTestCase {
    /// a → (b, c) → d: a diamond, plus an independent cell e and a heavy cell h after d.
    let diamond = lessonText("""
        Top {{a.total}}, bottom {{d.total:.1f}}.

        ```cell id=a compute=test.add
        a = [1, 2]
        b = [3, 4]
        expect y = [4, 6]
        ```

        ```cell id=b compute=test.scale
        x = a.y
        k = 2
        expect y = [8, 12]
        ```

        ```cell id=c compute=test.scale
        x = a.y
        k = 3
        ```

        ```cell id=d compute=test.add
        a = b.y
        b = c.y
        expect total = 50
        ```

        ```cell id=e compute=test.scale
        x = [5]
        ```

        ```cell id=h compute=test.slow heavy
        x = d.total
        ```
        """)

    func notebook() throws -> Notebook {
        var notebook = Notebook(lesson: try loadLesson(diamond), registry: testRegistry)
        notebook.runAll()
        return notebook
    }

    func testRunsInOrderThroughTheDiamond() throws {
        let nb = try notebook()
        XCTAssertEqual(nb.result("d").outputs?["y"], .vector([8 + 12, 12 + 18]))
        XCTAssertTrue(nb.result("d").passed)
        XCTAssertTrue(nb.result("a").passed)
        XCTAssertEqual(nb.result("h").status, .skippedHeavy)
        XCTAssertEqual(nb.downstream(of: "a"), ["b", "c", "d", "h"])
        XCTAssertEqual(nb.downstream(of: "e"), [])
    }

    func testRunningOneCellRunsOnlyWhatItReadsFrom() throws {
        var nb = Notebook(lesson: try loadLesson(diamond), registry: testRegistry)
        XCTAssertEqual(nb.upstream(of: "d"), ["a", "b", "c", "d"])
        XCTAssertEqual(nb.upstream(of: "e"), ["e"])
        nb.runAll(only: Set(nb.upstream(of: "b")))
        XCTAssertTrue(nb.result("b").passed)
        XCTAssertEqual(nb.result("c").status, .notRun)
        XCTAssertEqual(nb.result("e").status, .notRun)
    }

    func testRunningTheLessonAgainKeepsAHeavyCellsResult() throws {
        var nb = try notebook()
        nb.run("h")
        nb.runAll()
        XCTAssertEqual(nb.result("h").outputs?["y"], .number(51))
        try nb.setOverride(cell: "b", parameter: "k", source: "1")
        nb.runAll()
        XCTAssertEqual(nb.result("h").status, .stale, "a stale heavy cell stays stale")
    }

    func testAnEditReRunsExactlyTheDownstreamCells() throws {
        var nb = try notebook()
        nb.run("h")
        XCTAssertEqual(nb.result("h").outputs?["y"], .number(51))
        let eBefore = nb.result("e").duration
        let updated = try nb.setOverride(cell: "b", parameter: "k", source: "1")
        XCTAssertEqual(updated, ["b", "d", "h"])
        XCTAssertEqual(nb.result("d").outputs?["total"], .number(4 + 6 + 12 + 18))
        XCTAssertFalse(nb.result("d").passed, "expect total = 50 no longer holds")
        XCTAssertFalse(nb.result("b").passed)
        XCTAssertEqual(nb.result("h").status, .stale, "heavy cells are never re-run by an upstream edit")
        XCTAssertEqual(nb.result("e").duration, eBefore, "unrelated cells are untouched")
        XCTAssertTrue(nb.isOverridden("b", "k"))
        XCTAssertEqual(nb.resolve(Placeholder(reference: OutputReference(cell: "d", output: "total"), format: ".1f",
                                              location: SourceLocation(file: "", line: 0))).text, "40.0")
        // Reset restores the lesson's value downstream too.
        XCTAssertEqual(nb.resetOverrides(cell: "b"), ["b", "d", "h"])
        XCTAssertEqual(nb.result("d").outputs?["total"], .number(50))
        XCTAssertFalse(nb.isOverridden("b", "k"))
    }

    func testAFailureBlocksTheCellsDownstreamWithTheReason() throws {
        var nb = try notebook()
        try nb.setOverride(cell: "b", parameter: "k", source: "13")
        XCTAssertEqual(nb.result("b").status, .failed(ComputeError(parameter: "k", message: "is unlucky")))
        guard case .blocked(let reason) = nb.result("d").status else { return XCTFail("d should be blocked") }
        XCTAssertTrue(reason.contains("cell 'b' failed"), reason)
        XCTAssertEqual(nb.result("c").status, .ok)
        let placeholder = Placeholder(reference: OutputReference(cell: "d", output: "total"), format: nil,
                                      location: SourceLocation(file: "", line: 0))
        XCTAssertEqual(nb.resolve(placeholder).available, false)
        // Fixing the value heals everything downstream.
        try nb.setOverride(cell: "b", parameter: "k", source: "2")
        XCTAssertTrue(nb.result("d").passed)
    }

    func testInvalidEditsAreRejectedAndChangeNothing() throws {
        var nb = try notebook()
        XCTAssertThrowsError(try nb.setOverride(cell: "b", parameter: "k", source: "-1")) { error in
            XCTAssertEqual((error as? ComputeError)?.parameter, "k")
            XCTAssertEqual((error as? ComputeError)?.message, "must be >= 0, got -1")
        }
        XCTAssertThrowsError(try nb.setOverride(cell: "b", parameter: "k", source: "[1,")) { error in
            XCTAssertTrue((error as? ComputeError)?.message.contains("never closed") == true)
        }
        XCTAssertThrowsError(try nb.setOverride(cell: "b", parameter: "zz", source: "1"))
        XCTAssertThrowsError(try nb.setOverride(cell: "nope", parameter: "k", source: "1"))
        XCTAssertThrowsError(try nb.setOverride(cell: "a", parameter: "a", source: "d.y")) { error in
            XCTAssertTrue((error as? ComputeError)?.message.contains("comes later") == true)
        }
        XCTAssertTrue(nb.overrides.isEmpty)
        XCTAssertTrue(nb.result("d").passed)
    }

    func testShapeErrorAtRunTimeNamesTheParameter() throws {
        var nb = try notebook()
        try nb.setOverride(cell: "a", parameter: "b", source: "[1, 2, 3]")
        XCTAssertEqual(nb.result("a").status, .failed(ComputeError(parameter: "b", message: "has 3 elements but a has 2")))
    }

    func testHeavyCellRunsThroughAJobOnAnotherThreadWithProgressAndCancellation() throws {
        var nb = try notebook()
        let job = try nb.job(for: "h").get()
        let progress = ProgressLog()
        let result = DispatchQueue.global().sync {
            job.execute(context: RunContext(reportProgress: { progress.append($0) }))
        }
        XCTAssertEqual(progress.values, [0, 0.25, 0.5, 0.75])
        XCTAssertEqual(nb.apply(result, to: "h"), ["h"])
        XCTAssertEqual(nb.result("h").outputs?["y"], .number(51))
        let cancelled = job.execute(context: RunContext(isCancelled: { true }))
        XCTAssertEqual(cancelled.status, .failed(.cancelled))
    }

    func testReferenceWithIndexAndExpectationIndexOutOfRange() throws {
        let lesson = try loadLesson(lessonText("""
            ```cell id=a compute=test.add
            ```
            ```cell id=b compute=test.scale
            x = a.m[1][0]
            expect y[5] = 1
            ```
            """))
        var nb = Notebook(lesson: lesson, registry: testRegistry)
        nb.runAll()
        XCTAssertEqual(nb.result("b").inputs?["x"], .vector([10]), "m = [a, b], so m[1][0] = b[0]")
        XCTAssertEqual(nb.result("b").expectations.first?.passed, false)
        XCTAssertTrue(nb.result("b").expectations.first?.message?.contains("out of range") == true)
    }
}

/// Collects progress reports from another thread.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Double] = []
    func append(_ x: Double) { lock.lock(); storage.append(x); lock.unlock() }
    var values: [Double] { lock.lock(); defer { lock.unlock() }; return storage }
}
