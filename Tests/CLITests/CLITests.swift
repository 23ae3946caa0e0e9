import Foundation
import NotebookCore
import XCTest

final class CLITests: XCTestCase {
    func testComputePrintsTheSpecCellObject() throws {
        let out = try DeriveProcess.run(["compute", "softmax.online", "--set", "x=[3,1,2]", "--set", "block=2", "--format", "json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let cell = try out.json()
        XCTAssertNil(cell["lesson"], "compute prints a single cell object")
        XCTAssertEqual(cell["compute"] as? String, "softmax.online")
        XCTAssertEqual(cell["ok"] as? Bool, true)
        XCTAssertTrue(cell["error"] is NSNull)
        let params = try XCTUnwrap(cell["params"] as? [String: Any])
        XCTAssertEqual(params["x"] as? [Double], [3, 1, 2])
        XCTAssertEqual(params["block"] as? Int, 2)
        let outputs = try XCTUnwrap(cell["outputs"] as? [String: Any])
        XCTAssertEqual(outputs["m"] as? [Double], [3, 3])
        let l = try XCTUnwrap(outputs["l"] as? [Double])
        XCTAssertEqual(l[0], 1 + exp(-2.0), accuracy: 1e-15)
        XCTAssertEqual(l[1], 1 + exp(-2.0) + exp(-1.0), accuracy: 1e-15)
        XCTAssertEqual(outputs["rescale"] as? [Double], [0, 1])
        let softmax = try XCTUnwrap(outputs["softmax"] as? [Double])
        let z = 1 + exp(-2.0) + exp(-1.0)
        for (a, b) in zip(softmax, [1 / z, exp(-2.0) / z, exp(-1.0) / z]) { XCTAssertEqual(a, b, accuracy: 1e-15) }
        XCTAssertEqual(outputs["blocks"] as? Int, 2)
        XCTAssertNotNil(cell["duration_us"] as? Int)
        // Keys keep the declared order.
        XCTAssertLessThan(try XCTUnwrap(out.stdout.range(of: "\"m\"")).lowerBound, try XCTUnwrap(out.stdout.range(of: "\"softmax\"")).lowerBound)
    }

    func testNonFiniteNumbersAreJSONStrings() throws {
        let out = try DeriveProcess.run(["compute", "softmax.safe", "--set", "x=[1000, 1001]", "--format", "json"])
        XCTAssertEqual(out.status, 0)
        let outputs = try XCTUnwrap(try out.json()["outputs"] as? [String: Any])
        XCTAssertEqual(outputs["naive_sum"] as? String, "Infinity")
        XCTAssertEqual(outputs["naive_softmax"] as? [String], ["NaN", "NaN"])
    }

    func testCheckPassesOnTheBundledLessonsAndEndsWithTheTally() throws {
        let out = try DeriveProcess.run(["check"])
        XCTAssertEqual(out.status, 0, out.stdout + out.stderr)
        XCTAssertTrue(out.lastLine.hasSuffix(" passed, 0 failed"), out.lastLine)
        let passed = Int(out.lastLine.split(separator: " ")[0]) ?? 0
        XCTAssertGreaterThan(passed, 60)
    }

    func testRunJSONHasEveryCellOK() throws {
        let out = try DeriveProcess.run(["run", "online-softmax", "--format", "json", "--no-record"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let doc = try out.json()
        XCTAssertEqual(doc["lesson"] as? String, "online-softmax")
        let cells = try XCTUnwrap(doc["cells"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cells.count, 10)
        for cell in cells {
            XCTAssertEqual(cell["ok"] as? Bool, true, "\(cell["id"] ?? "?")")
            XCTAssertFalse((cell["expectations"] as? [Any] ?? []).isEmpty, "every cell has expectations")
        }
    }

    func testRunWithSetFlowsDownstream() throws {
        let out = try DeriveProcess.run(["run", "online-softmax", "--set", "safe.x=[0, 0]", "--cell", "stream", "--format", "json", "--no-record"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let cells = try XCTUnwrap(try out.json()["cells"] as? [[String: Any]])
        XCTAssertEqual(cells.count, 1)
        let outputs = try XCTUnwrap(cells[0]["outputs"] as? [String: Any])
        XCTAssertEqual(outputs["softmax"] as? [Double], [0.5, 0.5])
        XCTAssertEqual(cells[0]["ok"] as? Bool, false, "the lesson's expectations no longer hold for the edited input")
    }

    func testRunningOneCellRecordsOnlyItAndItsInputs() throws {
        let db = try DeriveProcess.temporaryDirectory(self).appendingPathComponent("p.sqlite").path
        let out = try DeriveProcess.run(["run", "online-softmax", "--cell", "stream", "--db", db])
        XCTAssertEqual(out.status, 0, out.stderr)
        let progress = try DeriveProcess.run(["progress", "--format", "json", "--db", db])
        let lessons = try XCTUnwrap(try progress.json()["lessons"] as? [[String: Any]])
        let lesson = try XCTUnwrap(lessons.first { $0["id"] as? String == "online-softmax" })
        XCTAssertEqual(lesson["cells_run"] as? Int, 2, "stream and the safe cell it reads from")
        XCTAssertEqual(lesson["runs"] as? Int, 2)
    }

    func testMarkdownExportShowsTheParametersTheOutputsCameFrom() throws {
        let out = try DeriveProcess.run(["run", "online-softmax", "--set", "stream.block=3", "--cell", "stream",
                                         "--format", "markdown", "--no-record"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stdout.contains("block = 3  # edited"), out.stdout)
        XCTAssertFalse(out.stdout.contains("cell id=safe"), "--cell limits the export")
    }

    func testControlCharactersInLessonTextAreShownEscaped() throws {
        let dir = try DeriveProcess.temporaryDirectory(self)
        try "---\nid: evil\ntitle: \u{1B}[31mRed\u{1B}[0m\nsummary: bell\u{7} and \u{202E}reversed\n---\nText \u{1B}]0;title\u{7}\n"
            .write(to: dir.appendingPathComponent("evil.md"), atomically: true, encoding: .utf8)
        for arguments in [["list"], ["run", "evil", "--no-record"], ["run", "evil", "--format", "markdown", "--no-record"]] {
            let out = try DeriveProcess.run(["--lessons", dir.path] + arguments)
            XCTAssertEqual(out.status, 0, out.stderr)
            XCTAssertFalse(out.stdout.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{7}" || $0 == "\u{202E}" },
                           "\(arguments) let a control character through")
            XCTAssertTrue(out.stdout.contains("\\e"), "\(arguments): \(out.stdout)")
        }
    }

    func testHeavyCellsAndTheCellsWaitingOnThemAreSkippedByCheck() throws {
        let dir = try DeriveProcess.temporaryDirectory(self)
        try """
            ---
            id: heavy-chain
            title: Heavy chain
            ---

            ```cell id=sweep compute=fp.sweep heavy
            count = 4096
            expect mismatches = 0
            ```

            ```cell id=after compute=softmax.safe
            x = sweep.checked
            expect softmax[0] = 1
            ```
            """.write(to: dir.appendingPathComponent("heavy-chain.md"), atomically: true, encoding: .utf8)
        let light = try DeriveProcess.run(["--lessons", dir.path, "check"])
        XCTAssertEqual(light.status, 0, light.stdout)
        XCTAssertEqual(light.lastLine, "0 passed, 0 failed")
        let heavy = try DeriveProcess.run(["--lessons", dir.path, "check", "--heavy"])
        XCTAssertEqual(heavy.status, 0, heavy.stdout)
        XCTAssertEqual(heavy.lastLine, "2 passed, 0 failed")
    }

    func testTextAndMarkdownOutputFillInTheNumbers() throws {
        let text = try DeriveProcess.run(["run", "online-softmax", "--no-record"])
        XCTAssertEqual(text.status, 0)
        // The safe softmax of [2, 1, 3, 5, 4] gives the score 5 e⁰/1.5713 = 0.6364 of the mass (the line may wrap anywhere).
        XCTAssertTrue(text.stdout.replacingOccurrences(of: "\n", with: " ").contains("putting 0.6364 of"), text.stdout)
        XCTAssertFalse(text.stdout.contains("{{"))
        let markdown = try DeriveProcess.run(["run", "online-softmax", "--format", "markdown", "--no-record"])
        XCTAssertTrue(markdown.stdout.contains("| `max` | 5 |"))
        XCTAssertTrue(markdown.stdout.contains("```cell id=safe compute=softmax.safe"))
    }

    func testUsageErrorsAreClearAndNonZero() throws {
        let cases: [([String], String)] = [
            (["run", "no-such-lesson"], "no lesson 'no-such-lesson'"),
            (["run"], "name a lesson"),
            (["run", "online-softmax", "--set", "nocell.x=[1]"], "has no cell 'nocell'"),
            (["run", "online-softmax", "--set", "safe.nope=1"], "has no parameter 'nope'"),
            (["run", "online-softmax", "--set", "safe.x=[1,"], "never closed"),
            (["run", "online-softmax", "--set", "x=[1]"], "several cells have 'x'"),
            (["run", "online-softmax", "--set", "stream.block=0"], "must be >= 1"),
            (["run", "online-softmax", "--set", "noequals"], "noequals"),
            (["compute", "softmax.onlin"], "did you mean 'softmax.online'"),
            (["compute", "attention.tiled", "--set", "k=[[1, 2, 3]]"], "parameter 'k' has 3 columns"),
            (["compute", "attention.tiled", "--set", "block=0"], "parameter 'block' must be >= 1"),
            (["compute", "softmax.safe", "--set", "x=[[1, 2], [3]]"], "ragged matrix"),
            (["compute", "softmax.safe", "--set", "x=\"text\""], "expects a vector"),
            (["compute", "softmax.safe", "--set", "x=[1, nan]"], "NaN at index 1"),
            (["compute", "softmax.safe", "--set", "x=[1, 2]", "--set", "y=1"], "has no parameter 'y'"),
            (["modules", "nope.nope"], "no compute module"),
            (["compute", "softmax.safe", "--format", "markdown"], "Please provide one of 'text' and 'json'"),
            (["list", "--format", "markdown"], "Please provide one of 'text' and 'json'"),
            (["--lessons", "/nonexistent/dir", "list"], "does not exist"),
        ]
        for (arguments, message) in cases {
            let out = try DeriveProcess.run(arguments)
            XCTAssertNotEqual(out.status, 0, "\(arguments) should fail")
            XCTAssertTrue(out.stderr.contains(message), "\(arguments): expected '\(message)' in stderr, got: \(out.stderr)")
            XCTAssertFalse(out.stderr.contains("Fatal error"), "\(arguments) crashed")
        }
    }

    func testBadLessonIsReportedWithFileAndLineAndTheOthersStillRun() throws {
        let dir = try DeriveProcess.temporaryDirectory(self)
        try FileManager.default.copyItem(at: DeriveProcess.root.appendingPathComponent("lessons/online-softmax.md"),
                                         to: dir.appendingPathComponent("online-softmax.md"))
        try "---\nid: broken\ntitle: Broken\n---\n\n```cell id=a compute=softmax.safe\nx = [1, 2\n```\n"
            .write(to: dir.appendingPathComponent("broken.md"), atomically: true, encoding: .utf8)
        // The list reads front matter only: a broken body still lists, and its error waits
        // for the lesson to be opened, run or checked.
        let list = try DeriveProcess.run(["--lessons", dir.path, "list"])
        XCTAssertEqual(list.status, 0)
        XCTAssertTrue(list.stdout.contains("online-softmax"))
        XCTAssertTrue(list.stdout.contains("Broken  (0/1 cells run)"), list.stdout)
        XCTAssertEqual(list.stderr, "")
        try "---\ntitle: No id\n---\n".write(to: dir.appendingPathComponent("no-id.md"), atomically: true, encoding: .utf8)
        let badHeader = try DeriveProcess.run(["--lessons", dir.path, "list"])
        XCTAssertTrue(badHeader.stderr.contains("no-id.md:1:1: front matter has no 'id'"), badHeader.stderr)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("no-id.md"))
        let check = try DeriveProcess.run(["--lessons", dir.path, "check"])
        XCTAssertEqual(check.status, 1)
        XCTAssertTrue(check.stdout.contains("broken.md:7:5"), check.stdout)
        XCTAssertTrue(check.lastLine.hasSuffix("passed, 1 failed"), check.lastLine)
        let named = try DeriveProcess.run(["--lessons", dir.path, "run", "broken"])
        XCTAssertNotEqual(named.status, 0)
        XCTAssertTrue(named.stderr.contains("did not load"), named.stderr)
    }

    /// `derive list` keeps the headers it read in the cache; an edit shows at once, and a
    /// cache that cannot be written or is damaged changes nothing the learner sees.
    func testTheListKeepsAHeaderCacheThatNeverShows() throws {
        let dir = try DeriveProcess.temporaryDirectory(self)
        let lesson = dir.appendingPathComponent("online-softmax.md")
        try FileManager.default.copyItem(at: DeriveProcess.root.appendingPathComponent("lessons/online-softmax.md"), to: lesson)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-60)], ofItemAtPath: lesson.path)
        let cache = dir.appendingPathComponent("cache")
        let env = ["XDG_CACHE_HOME": cache.path]
        let first = try DeriveProcess.run(["--lessons", dir.path, "list"], environment: env)
        XCTAssertEqual(first.status, 0, first.stderr)
        let file = cache.appendingPathComponent("derive/lesson-headers.tsv")
        let stored = try String(contentsOf: file, encoding: .utf8)
        XCTAssertTrue(stored.hasPrefix("derive lesson headers 1\n"), stored)
        XCTAssertTrue(stored.contains(lesson.path), stored)
        let second = try DeriveProcess.run(["--lessons", dir.path, "list"], environment: env)
        XCTAssertEqual(second.stdout, first.stdout)
        // An edit made a moment ago (too fresh to be kept): the new title shows.
        let text = try String(contentsOf: lesson, encoding: .utf8)
        let renamed = text.replacingOccurrences(of: "\ntitle: ", with: "\ntitle: X")
        XCTAssertNotEqual(renamed, text)
        try renamed.write(to: lesson, atomically: false, encoding: .utf8)
        let edited = try DeriveProcess.run(["--lessons", dir.path, "list"], environment: env)
        XCTAssertTrue(edited.stdout.contains("X"), edited.stdout)
        XCTAssertNotEqual(edited.stdout, first.stdout)
        // Damaged, then unwritable (its folder would have to be made inside a file): the same list.
        try "derive lesson headers 1\n\u{0}garbage\t".write(to: file, atomically: true, encoding: .utf8)
        let damaged = try DeriveProcess.run(["--lessons", dir.path, "list"], environment: env)
        XCTAssertEqual([damaged.stdout, damaged.stderr], [edited.stdout, ""])
        let blocker = dir.appendingPathComponent("not-a-folder")
        try "x".write(to: blocker, atomically: true, encoding: .utf8)
        let unwritable = try DeriveProcess.run(["--lessons", dir.path, "list"], environment: ["XDG_CACHE_HOME": blocker.path])
        XCTAssertEqual([unwritable.stdout, unwritable.stderr], [edited.stdout, ""])
        XCTAssertEqual(unwritable.status, 0)
    }

    /// Lesson text and command-line text can hold terminal escape sequences; no printing
    /// command may send one raw, on standard output or standard error.
    func testNoCommandPrintsRawControlCharacters() throws {
        let dir = try DeriveProcess.temporaryDirectory(self)
        let evil = "\u{1B}]0;pwned\u{07}\u{1B}[2J\u{9B}31m\u{202E}\u{200E}\u{061C}\u{08}\u{7F}\u{00}"
        try """
        ---
        id: evil
        title: Evil \(evil) title
        summary: \(evil)
        ---

        Prose \(evil) with {{a.max}}.

        ```cell id=a compute=softmax.safe title="\(evil)"
        x = [1, 2]
        expect max = 2
        expect max > 5 # \(evil)
        ```

        ```cell id=b compute=fp.round
        format = fp16
        expect class = "\(evil)"
        ```
        """.write(to: dir.appendingPathComponent("evil.md"), atomically: true, encoding: .utf8)
        try "---\nid: broken\ntitle: B\n---\n```cell id=x compute=\(evil)\n```\n"
            .write(to: dir.appendingPathComponent("broken.md"), atomically: true, encoding: .utf8)
        let db = dir.appendingPathComponent("p.sqlite").path
        let commands: [[String]] = [
            [], ["list"], ["list", "--format", "json"],
            ["run", "evil"], ["run", "evil", "--format", "markdown"], ["run", "evil", "--format", "json"],
            ["run", "--all"], ["check"], ["check", "evil"], ["modules", evil], ["compute", evil],
            ["compute", "fp.round", "--set", "format=\(evil)"], ["compute", "fp.round", "--set", "value=\(evil)"],
            ["run", "evil", "--set", "x=\(evil)"], ["run", evil], ["progress"], ["progress", "--format", "json"],
        ]
        var shown = 0
        for command in commands {
            let out = try DeriveProcess.run(["--lessons", dir.path, "--db", db] + command)
            if (out.stdout + out.stderr).contains("\\e]0;pwned") { shown += 1 }
            for (stream, text) in [("stdout", out.stdout), ("stderr", out.stderr)] {
                let raw = text.unicodeScalars.first { $0 != "\n" && $0 != "\t" && TerminalText.needsEscape($0) }
                XCTAssertNil(raw, "derive \(command.joined(separator: " ")) printed U+\(String(raw?.value ?? 0, radix: 16)) on \(stream): \(text)")
            }
        }
        XCTAssertGreaterThan(shown, 8, "the hostile text reaches the output, escaped")
    }

    static let questionLesson = """
        ---
        id: quizzed
        title: Quizzed
        ---

        The top probability is {{safe.softmax[3]:.4f}}.

        ```question id=top cell=safe answer=softmax[3] rtol=0.01 hint="e^5 over the sum"
        What probability does the score 5 get?
        ```

        ```question id=count cell=safe answer="len(x)"
        How many scores are there?
        ```

        ```cell id=safe compute=softmax.safe
        x = [2, 1, 3, 5, 4]
        expect sum(softmax) ≈ 1 ± 1e-12
        ```
        """

    func testQuestionsInCheckRunAndQuiz() throws {
        let dir = try DeriveProcess.temporaryDirectory(self)
        try Self.questionLesson.write(to: dir.appendingPathComponent("quizzed.md"), atomically: true, encoding: .utf8)
        let db = dir.appendingPathComponent("p.sqlite").path
        let check = try DeriveProcess.run(["--lessons", dir.path, "check", "quizzed"])
        XCTAssertEqual(check.lastLine, "3 passed, 0 failed", "every question resolves: \(check.stdout)")
        XCTAssertEqual(check.status, 0)
        let text = try DeriveProcess.run(["--lessons", dir.path, "run", "quizzed", "--no-record"])
        XCTAssertTrue(text.stdout.contains("? Question top (about cell safe)\n  What probability does the score 5 get?"), text.stdout)
        XCTAssertTrue(text.stdout.contains("  answer: 0.6364086465588308"), text.stdout)
        let json = try DeriveProcess.run(["--lessons", dir.path, "run", "quizzed", "--no-record", "--format", "json"]).json()
        let questions = try XCTUnwrap(json["questions"] as? [[String: Any]])
        XCTAssertEqual(questions.map { $0["id"] as? String }, ["top", "count"])
        XCTAssertEqual(questions[1]["answer"] as? Int, 5)
        XCTAssertEqual((questions[0]["tolerance"] as? [String: Any])?["kind"] as? String, "relative")
        // Piped answers: wrong then right, then right first time; the answers are recorded.
        let quiz = try DeriveProcess.run(["--lessons", dir.path, "--db", db, "quiz", "quizzed"], input: "0.5\nh\n0.64\n5\n")
        XCTAssertEqual(quiz.status, 0, quiz.stderr)
        XCTAssertTrue(quiz.stdout.contains("✗ too low by 21%. One more try."), quiz.stdout)
        XCTAssertTrue(quiz.stdout.contains("hint: e^5 over the sum"), quiz.stdout)
        XCTAssertTrue(quiz.stdout.contains("✓ right: 0.6364086465588308"), quiz.stdout)
        XCTAssertFalse(quiz.stdout.contains("The top probability is"), "prose is not printed")
        XCTAssertEqual(quiz.lastLine, "2 of 2 answered, 1 right first time.")
        let progress = try DeriveProcess.run(["--lessons", dir.path, "--db", db, "progress", "--format", "json"]).json()
        let lesson = try XCTUnwrap((progress["lessons"] as? [[String: Any]])?.first)
        XCTAssertEqual(lesson["questions"] as? Int, 2)
        XCTAssertEqual(lesson["answered"] as? Int, 2)
        XCTAssertEqual(lesson["right_first_try"] as? Int, 1)
        // A second quiz knows what was answered; end of input stops quietly.
        let again = try DeriveProcess.run(["--lessons", dir.path, "--db", db, "quiz", "quizzed"], input: "")
        XCTAssertTrue(again.stdout.contains("already answered: 5"), again.stdout)
        let empty = try DeriveProcess.run(["--lessons", dir.path, "--db", dir.appendingPathComponent("q.sqlite").path,
                                           "quiz", "quizzed"], input: "")
        XCTAssertEqual(empty.status, 0)
        XCTAssertEqual(empty.lastLine, "0 of 2 answered, 0 right first time.")
    }

    func testAFalseQuestionFailsCheck() throws {
        let dir = try DeriveProcess.temporaryDirectory(self)
        let broken = Self.questionLesson.replacingOccurrences(of: "answer=\"len(x)\"", with: "answer=\"x[9]\"")
        try broken.write(to: dir.appendingPathComponent("quizzed.md"), atomically: true, encoding: .utf8)
        let check = try DeriveProcess.run(["--lessons", dir.path, "check", "quizzed"])
        XCTAssertEqual(check.status, 1)
        XCTAssertTrue(check.stdout.contains("question count: the answer cannot be computed: x[9] is out of range"), check.stdout)
    }

    /// Claims across cells: a true one passes, a false one fails with both sides' values.
    func testCrossCellClaimsAreChecked() throws {
        let dir = try DeriveProcess.temporaryDirectory(self)
        try """
        ---
        id: claims
        title: Claims
        ---

        The two agree to {{ max(abs(online.softmax - safe.softmax)) :.1e}}.

        ```cell id=safe compute=softmax.safe
        x = [2, 1, 3, 5, 4]
        ```

        ```cell id=online compute=softmax.online
        x = safe.x
        block = 2
        expect max(abs(softmax - safe.softmax)) < 1e-15
        expect logsumexp ≈ safe.logsumexp ± 1e-12
        expect m[0] > safe.max
        ```
        """.write(to: dir.appendingPathComponent("claims.md"), atomically: true, encoding: .utf8)
        let out = try DeriveProcess.run(["--lessons", dir.path, "check", "claims"])
        XCTAssertEqual(out.status, 1, out.stdout + out.stderr)
        XCTAssertTrue(out.stdout.contains("claims.md:17:8: online: expect m[0] > safe.max — m[0] = 2, safe.max = 5"), out.stdout)
        XCTAssertEqual(out.lastLine, "2 passed, 1 failed")
        let text = try DeriveProcess.run(["--lessons", dir.path, "run", "claims", "--no-record"])
        XCTAssertTrue(text.stdout.contains("The two agree to 0.0e+00."), text.stdout)
    }

    func testFailingExpectationIsPrintedWithItsLine() throws {
        let dir = try DeriveProcess.temporaryDirectory(self)
        try "---\nid: wrong\ntitle: Wrong\n---\n\n```cell id=a compute=softmax.safe\nx = [0, 0]\nexpect softmax[0] ≈ 0.6 ± 1e-9\n```\n"
            .write(to: dir.appendingPathComponent("wrong.md"), atomically: true, encoding: .utf8)
        let out = try DeriveProcess.run(["--lessons", dir.path, "check", "wrong"])
        XCTAssertEqual(out.status, 1)
        XCTAssertTrue(out.stdout.contains("wrong.md:8:8: a: expect softmax[0] ≈ 0.6 ± 1e-9 — softmax[0] = 0.5"), out.stdout)
        XCTAssertEqual(out.lastLine, "0 passed, 1 failed")
    }

    func testAPlaceholderThatCannotBeComputedFailsCheck() throws {
        let dir = try DeriveProcess.temporaryDirectory(self)
        try "---\nid: gap\ntitle: Gap\n---\n\n```cell id=a compute=softmax.safe\nx = [0, 0]\nexpect softmax[0] ≈ 0.5 ± 1e-9\n```\n\nThe third is {{a.softmax[2]}}, the first {{a.softmax[0]}}.\n"
            .write(to: dir.appendingPathComponent("gap.md"), atomically: true, encoding: .utf8)
        let out = try DeriveProcess.run(["--lessons", dir.path, "check", "gap"])
        XCTAssertEqual(out.status, 1)
        XCTAssertTrue(out.stdout.contains("gap.md:11:14: {{a.softmax[2]}} cannot be computed: "), out.stdout)
        XCTAssertEqual(out.lastLine, "1 passed, 1 failed")
    }

    func testNewWritesALessonThatPassesCheckAndRefusesTakenOrBadIds() throws {
        let dir = try DeriveProcess.temporaryDirectory(self)
        let made = try DeriveProcess.run(["--lessons", dir.path, "new", "my-topic"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let text = try String(contentsOf: dir.appendingPathComponent("my-topic.md"), encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("---\nid: my-topic\ntitle: My topic\n"), text)
        for part in ["```question ", "```cell ", "expect ", "{{scores."] { XCTAssertTrue(text.contains(part), part) }
        let check = try DeriveProcess.run(["--lessons", dir.path, "check", "my-topic"])
        XCTAssertEqual(check.status, 0, check.stdout)
        XCTAssertEqual(check.lastLine, "3 passed, 0 failed")
        let titled = try DeriveProcess.run(["--lessons", dir.path, "new", "other", "--title", "Trust regions"])
        XCTAssertEqual(titled.status, 0, titled.stderr)
        XCTAssertTrue(try String(contentsOf: dir.appendingPathComponent("other.md"), encoding: .utf8).contains("title: Trust regions\n"))
        for (arguments, message) in [(["new", "my-topic"], "lesson 'my-topic' already exists"),
                                     (["new", "Bad_Id"], "must match [a-z0-9-]+"),
                                     (["new", "x", "--title", "two\nlines"], "the title must be one line")] {
            let out = try DeriveProcess.run(["--lessons", dir.path] + arguments)
            XCTAssertNotEqual(out.status, 0, "\(arguments)")
            XCTAssertTrue(out.stderr.contains(message), "\(arguments): \(out.stderr)")
        }
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("my-topic.md"), encoding: .utf8), text, "nothing overwritten")
    }

    func testCheckWatchReportsWhatChangesOnEachSave() throws {
        let dir = try DeriveProcess.temporaryDirectory(self)
        let file = dir.appendingPathComponent("live.md")
        func write(_ claim: String) throws {
            try "---\nid: live\ntitle: Live\n---\n\n```cell id=a compute=softmax.safe\nx = [0, 0]\nexpect \(claim)\n```\n"
                .write(to: file, atomically: true, encoding: .utf8)
        }
        try write("softmax[0] ≈ 0.5 ± 1e-9")
        let process = Process()
        process.executableURL = try XCTUnwrap(DeriveProcess.binary)
        process.arguments = ["--lessons", dir.path, "check", "live", "--watch"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        let seen = OutputCollector()
        out.fileHandleForReading.readabilityHandler = { seen.append($0.availableData) }
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        XCTAssertTrue(seen.wait(for: "1 passed, 0 failed"), seen.text)
        try write("softmax[0] ≈ 0.6 ± 1e-9")
        XCTAssertTrue(seen.wait(for: "0 passed, 1 failed"), seen.text)
        XCTAssertTrue(seen.text.contains("FAIL \(file.path):8:8: a: expect softmax[0] ≈ 0.6 ± 1e-9"), seen.text)
        try write("softmax[0] ≈ 0.5 ± 1e-9")
        XCTAssertTrue(seen.wait(for: "fixed FAIL"), seen.text)
        XCTAssertTrue(process.isRunning, "it keeps watching")
    }

    func testWithoutATerminalDeriveListsLessonsAndHints() throws {
        let out = try DeriveProcess.run([])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stdout.contains("online-softmax"))
        XCTAssertTrue(out.stdout.contains("derive run LESSON"))
    }

    func testEveryCommandHasHelp() throws {
        for command in ["", "list", "run", "check", "compute", "modules", "tui", "new"] {
            let out = try DeriveProcess.run(command.isEmpty ? ["--help"] : [command, "--help"])
            XCTAssertEqual(out.status, 0, command)
            XCTAssertTrue(out.stdout.contains("USAGE"), command)
        }
    }

    func testModulesDescribesParameters() throws {
        let out = try DeriveProcess.run(["modules", "softmax.online"])
        XCTAssertEqual(out.status, 0)
        XCTAssertTrue(out.stdout.contains("block: int = 1"))
        XCTAssertTrue(out.stdout.contains("max_abs_diff_vs_safe: num"))
    }
}

/// Output of a running process, read as it arrives.
private final class OutputCollector: @unchecked Sendable {
    private let lock = NSCondition()
    private var data = Data()

    func append(_ chunk: Data) {
        lock.lock()
        data.append(chunk)
        lock.broadcast()
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }

    /// Waits up to ten seconds for `needle` to appear in the output.
    func wait(for needle: String) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        lock.lock()
        defer { lock.unlock() }
        while !String(decoding: data, as: UTF8.self).contains(needle) {
            if !lock.wait(until: deadline) { return false }
        }
        return true
    }
}
