import NotebookCore
import TestSupport
import XCTest

final class LessonParserTests: XCTestCase {
    let good = lessonText("""
        # Demo

        The sum is {{first.total}} and y is {{first.y[1]:.2f}}; literal `{{not.a.placeholder}}` stays.

        ```cell id=first compute=test.add title="Add two vectors"
        # a comment
        a = [1, 2]
        expect y = [11, 22]
        expect total ≈ 33 ± 1e-12
        expect y[0] ~= 11 +- 0
        ```

        ```python
        {{ not parsed in code }}
        ```

        ```cell id=second compute=test.scale heavy
        x = first.y
        mode = negate
        expect first < 0
        expect first <= -22
        expect y[1] >= -44
        expect first > -100
        expect ok = true
        expect label = negate
        ```
        """)

    func testWellFormedLesson() throws {
        let lesson = try loadLesson(good)
        XCTAssertEqual(lesson.id, "demo")
        XCTAssertEqual(lesson.title, "Demo")
        XCTAssertEqual(lesson.order, 1)
        XCTAssertEqual(lesson.cells.map(\.id), ["first", "second"])
        XCTAssertEqual(lesson.cells[0].title, "Add two vectors")
        XCTAssertTrue(lesson.cells[1].isHeavy)
        XCTAssertEqual(lesson.cells[0].expectations.count, 3)
        XCTAssertEqual(lesson.cells[1].expectations.count, 6)
        XCTAssertEqual(lesson.cells[1].dependencies, ["first"])
        XCTAssertEqual(lesson.cells[0].location.line, 11)
        guard case .prose(let lines) = lesson.blocks[0] else { return XCTFail("expected prose first") }
        let placeholders = lines.flatMap(\.segments).compactMap { segment -> Placeholder? in
            if case .placeholder(let p) = segment { p } else { nil }
        }
        XCTAssertEqual(placeholders.map(\.expression.source), ["first.total", "first.y[1]"])
        XCTAssertEqual(placeholders.map(\.format), [nil, ".2f"])
        XCTAssertTrue(lines.contains { $0.isCode && $0.raw.contains("not parsed") } || lesson.blocks.contains {
            if case .prose(let l) = $0 { l.contains { $0.isCode && $0.raw.contains("not parsed") } } else { false }
        })
    }

    func testSourcesInBothForms() throws {
        let list = try loadLesson("---\nid: a\ntitle: A\nsources:\n  - One (2018)\n  - \"Two, 2022\"\n---\nText\n")
        XCTAssertEqual(list.sources, ["One (2018)", "Two, 2022"])
        let inline = try loadLesson("---\nid: a\ntitle: A\nsources: [One, Two]\n---\n")
        XCTAssertEqual(inline.sources, ["One", "Two"])
    }

    func assertError(_ text: String, _ expected: String, line: Int? = nil, file: StaticString = #filePath, testLine: UInt = #line) {
        let errors = loadErrors(text)
        XCTAssertTrue(errors.contains { $0.contains(expected) && (line == nil || $0.hasPrefix("\(line!):")) },
                      "expected '\(expected)' at line \(line.map(String.init) ?? "?"), got \(errors)", file: file, line: testLine)
    }

    func testFrontMatterErrors() {
        assertError("# no front matter\n", "expected front matter", line: 1)
        assertError("---\ntitle: T\n---\n", "no 'id'", line: 1)
        assertError("---\nid: ok\n---\n", "no 'title'", line: 1)
        assertError("---\nid: Bad_ID\ntitle: T\n---\n", "must match [a-z0-9-]+", line: 2)
        assertError("---\nid: a\ntitle: T\norder: first\n---\n", "order must be a whole number", line: 4)
        assertError("---\nid: a\ntitle: T\nauthor: me\n---\n", "unknown front matter key 'author'", line: 4)
        assertError("---\nid: a\ntitle: T\n", "never closed", line: 1)
    }

    func testCellSyntaxErrors() {
        assertError(lessonText("```cell compute=test.add\n```\n"), "cell has no id", line: 7)
        assertError(lessonText("```cell id=a\n```\n"), "has no compute=", line: 7)
        assertError(lessonText("```cell id=a compute=test.add colour=red\n```\n"), "unknown cell option 'colour=red'", line: 7)
        assertError(lessonText("```cell id=a compute=test.add\na = [1, 2]\n"), "cell block is never closed", line: 7)
        assertError(lessonText("```cell id=a compute=test.add\n```\n```cell id=a compute=test.add\n```\n"), "duplicate cell id 'a'", line: 9)
        assertError(lessonText("```cell id=a compute=test.add\nthis is prose\n```\n"), "expected 'name = value'", line: 8)
        assertError(lessonText("```cell id=a compute=test.add\na = [1, 2\n```\n"), "'[' is never closed", line: 8)
        assertError(lessonText("```cell id=a compute=test.add\na = [1]\na = [2]\n```\n"), "set twice", line: 9)
        assertError(lessonText("```cell id=a compute=test.add\nexpect y\n```\n"), "expected 'expect LEFT OP RIGHT'", line: 8)
        assertError(lessonText("```cell id=a compute=test.add\nexpect total ≈ 3\n```\n"), "needs a tolerance", line: 8)
        assertError(lessonText("```cell id=a compute=test.add\nexpect total < big\n```\n"), "has no output 'big'", line: 8)
        assertError(lessonText("```cell id=a compute=test.add\nexpect total ≈ 3 ± -1\n```\n"), "must be a number ≥ 0", line: 8)
    }

    func testColumnsPointAtTheProblem() {
        let errors = loadErrors(lessonText("```cell id=a compute=test.add\na = [1, [2]]\n```\n"))
        XCTAssertTrue(errors.first?.hasPrefix("8:9:") == true, "\(errors)")
        // Spaces inside the braces count: the column is the bad reference's own.
        let spaced = loadErrors(lessonText("```cell id=a compute=test.add\n```\n\nSee {{   a.nope }} here.\n"))
        XCTAssertTrue(spaced.first?.hasPrefix("10:10:") == true, "\(spaced)")
        // Columns count characters, not bytes or scalars: θ, ≈ and the é written as e and a
        // combining accent are one column each; a placeholder inside a code span is text.
        let wide = loadErrors(lessonText("```cell id=a compute=test.add\n```\n\nθ ≈ `{{x}}` e\u{301} {{ a.nope }}\n"))
        XCTAssertEqual(wide.count, 1, "\(wide)")
        XCTAssertTrue(wide.first?.hasPrefix("10:18:") == true, "\(wide)")
        // A problem with a question's fence is reported where the fence starts.
        let fence = loadErrors(lessonText("```question id=q cell=zz answer=total\nWhat?\n```\n"))
        XCTAssertTrue(fence.first?.hasPrefix("7:4:") == true, "\(fence)")
    }

    func testChecksAgainstTheRegistry() {
        assertError(lessonText("```cell id=a compute=test.ad\n```\n"), "unknown compute module 'test.ad' (did you mean 'test.add'?)", line: 7)
        assertError(lessonText("```cell id=a compute=test.add\nc = 1\n```\n"), "has no parameter 'c'", line: 8)
        assertError(lessonText("```cell id=a compute=test.add\na = \"text\"\n```\n"), "parameter 'a' expects a vector, got a text", line: 8)
        assertError(lessonText("```cell id=a compute=test.add\na = [[1, 2], [3, 4]]\n```\n"), "parameter 'a' expects a vector", line: 8)
        assertError(lessonText("```cell id=a compute=test.scale\nmode = sideways\n```\n"), "expects one of plain, negate", line: 8)
        assertError(lessonText("```cell id=a compute=test.scale\nk = nan\n```\n"), "must be finite", line: 8)
        assertError(lessonText("```cell id=a compute=test.add\nexpect nothing = 1\n```\n"), "(test.add) has no output 'nothing'", line: 8)
        assertError(lessonText("```cell id=a compute=test.slow\n```\n"), "runs 'test.slow', which is heavy: add `heavy` to the fence", line: 7)
    }

    func testReferenceErrors() {
        let later = lessonText("```cell id=a compute=test.scale\nx = b.y\n```\n```cell id=b compute=test.add\n```\n")
        assertError(later, "refers to 'b', which comes later", line: 8)
        assertError(lessonText("```cell id=a compute=test.scale\nx = zz.y\n```\n"), "the lesson has no cell 'zz'", line: 8)
        assertError(lessonText("```cell id=a compute=test.scale\nx = a.y\n```\n"), "a cycle", line: 8)
        let missingOutput = lessonText("```cell id=a compute=test.add\n```\n```cell id=b compute=test.scale\nx = a.nope\n```\n")
        assertError(missingOutput, "has no output 'nope'", line: 10)
        let tooDeep = lessonText("```cell id=a compute=test.add\n```\n```cell id=b compute=test.scale\nx = a.total[0]\n```\n")
        assertError(tooDeep, "has 1 index(es) but total is a number", line: 10)
    }

    func testPlaceholderErrors() {
        assertError(lessonText("Value {{a.total\n```cell id=a compute=test.add\n```\n"), "'{{' is never closed", line: 7)
        assertError(lessonText("Value {{a}}\n"), "a placeholder names a value as cell.output", line: 7)
        assertError(lessonText("Value {{zz.total}}\n"), "the lesson has no cell 'zz'", line: 7)
        assertError(lessonText("Value {{a.total:.4x}}\n```cell id=a compute=test.add\n```\n"), "unknown format ':.4x'", line: 7)
        assertError(lessonText("Value {{a.none}}\n```cell id=a compute=test.add\n```\n"), "has no output 'none'", line: 7)
    }

    func testEveryErrorIsReportedNotJustTheFirst() {
        let errors = loadErrors(lessonText("```cell id=a compute=nope\n```\n```cell id=b compute=test.add\nq = 1\nexpect z = 1\n```\n"))
        XCTAssertEqual(errors.count, 3, "\(errors)")
    }

    func testOneBadLessonDoesNotStopTheOthers() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("derive-lib-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try lessonText("Fine.\n", id: "good").write(to: dir.appendingPathComponent("a.md"), atomically: true, encoding: .utf8)
        try "not a lesson".write(to: dir.appendingPathComponent("b.md"), atomically: true, encoding: .utf8)
        try lessonText("Again.\n", id: "good").write(to: dir.appendingPathComponent("c.md"), atomically: true, encoding: .utf8)
        try Data([0xff, 0xfe, 0x00]).write(to: dir.appendingPathComponent("d.md"))
        let library = LessonLoader(registry: testRegistry).loadDirectory(dir)
        XCTAssertEqual(library.lessons.map(\.id), ["good"])
        XCTAssertEqual(library.errors.count, 3, "\(library.errors)")
        XCTAssertTrue(library.errors.contains { $0.message.contains("duplicate lesson id 'good'") })
        XCTAssertTrue(library.errors.contains { $0.message.contains("not UTF-8") })
    }

    func testNoiseNeverTraps() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["---\n", "id: a\n", "title: T\n", "```cell id=c compute=test.add\n", "```\n", "a = [1, 2]\n",
                      "{{c.y[", "expect y[0] ≈ 1 ± ", "x = c.", "\"", "[[", "]", "\n", "~~~\n", "{{", "}}", "= ="]
        for _ in 0..<1500 {
            let text = (0..<Int.random(in: 0...14, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            _ = LessonLoader(registry: testRegistry).load(text, file: "fuzz.md")
        }
    }
}

/// The `question` block: what loads, and every load error with its place.
final class QuestionParsingTests: XCTestCase {
    let cell = "```cell id=a compute=test.add\n```\n"

    func question(_ options: String, _ text: String = "How much?") -> String {
        "```question \(options)\n\(text)\n```\n"
    }

    func testAQuestionLoadsWithItsOptions() throws {
        let lesson = try loadLesson(lessonText(question("id=q cell=a answer=total rtol=0.05 hint=\"add them\"") + cell))
        let q = try XCTUnwrap(lesson.question("q"))
        XCTAssertEqual(q.cell, "a")
        XCTAssertEqual(q.answer.source, "total")
        XCTAssertEqual(q.tolerance, .relative(0.05))
        XCTAssertEqual(q.hint, "add them")
        XCTAssertEqual(q.plainText, "How much?")
        XCTAssertEqual(lesson.blocks.first, .question(0))
        let choice = try loadLesson(lessonText(question("id=c cell=a answer=\"neg\" choices=\"pos|neg\"") + cell))
        XCTAssertEqual(choice.questions[0].choices, ["pos", "neg"])
        let spaced = try loadLesson(lessonText(question("id=s cell=a answer=\"total - y[0]\" tolerance=1e-9") + cell))
        XCTAssertEqual(spaced.questions[0].tolerance, .absolute(1e-9))
    }

    func assertError(_ text: String, _ expected: String, line: Int, file: StaticString = #filePath, testLine: UInt = #line) {
        let errors = loadErrors(text)
        XCTAssertTrue(errors.contains { $0.contains(expected) && $0.hasPrefix("\(line):") },
                      "expected '\(expected)' at line \(line), got \(errors)", file: file, line: testLine)
    }

    func testLoadErrors() {
        assertError(lessonText(question("id=q cell=zz answer=total") + cell), "the lesson has no such cell", line: 7)
        assertError(lessonText(cell + question("id=q cell=a answer=total")), "comes after cell 'a'", line: 9)
        assertError(lessonText(question("id=q cell=a answer=total") + question("id=q cell=a answer=total") + cell),
                    "duplicate question id 'q'", line: 10)
        assertError(lessonText(question("id=q cell=a answer=totl") + cell), "has no output 'totl' (did you mean 'total'?)", line: 7)
        assertError(lessonText(question("id=q cell=a answer=zz.total") + cell), "the lesson has no cell 'zz'", line: 7)
        assertError(lessonText(question("id=q cell=a answer=maybe choices=\"yes|no\"") + cell), "not one of the choices", line: 7)
        assertError(lessonText(question("id=q cell=a answer=\"maybe\" choices=\"yes|no\"") + cell), "not one of the choices", line: 7)
        assertError(lessonText(question("id=q cell=a answer=total tolerance=1 rtol=2") + cell), "not both", line: 7)
        assertError(lessonText(question("id=q cell=a answer=total rtol=-1") + cell), "rtol must be a number ≥ 0", line: 7)
        assertError(lessonText(question("id=q cell=a") + cell), "has no answer=", line: 7)
        assertError(lessonText(question("cell=a answer=total") + cell), "question has no id", line: 7)
        assertError(lessonText(question("id=q cell=a answer=(total") + cell), "never closed", line: 7)
        assertError(lessonText(question("id=q cell=a answer=total", "") + cell), "has no text", line: 7)
        assertError(lessonText(question("id=q cell=a answer=total colour=red") + cell), "unknown question option 'colour=red'", line: 7)
        assertError(lessonText(question("id=q cell=a answer=total choices=\"only\"") + cell), "two or more different words", line: 7)
        assertError(lessonText(question("id=q cell=a answer=total", "Sum is {{a.nope}}") + cell), "has no output 'nope'", line: 8)
    }

    func testJudgingTypedAnswers() throws {
        let lesson = try loadLesson(lessonText(question("id=q cell=a answer=total") + question("id=c cell=a answer=\"neg\" choices=\"pos|neg\"")
                                               + question("id=r cell=a answer=total rtol=0.1") + question("id=n cell=a answer=\"len(y)\"") + cell))
        let q = lesson.questions[0], c = lesson.questions[1], r = lesson.questions[2], n = lesson.questions[3]
        XCTAssertEqual(QuestionJudge.check("33", against: .number(33), question: q).outcome, .right)
        XCTAssertEqual(QuestionJudge.check("66/2", against: .number(33), question: q).outcome, .right, "value rules: arithmetic")
        XCTAssertEqual(QuestionJudge.check("33.0000001", against: .number(33), question: q).outcome, .wrong("too high by 3.0e-09 relative"),
                       "the default for numbers is a relative 1e-9")
        XCTAssertEqual(QuestionJudge.check("30", against: .number(33), question: r).outcome, .right)
        XCTAssertEqual(QuestionJudge.check("29", against: .number(33), question: r).outcome, .wrong("too low by 12%"))
        XCTAssertEqual(QuestionJudge.check("2.0000001", against: .integer(2), question: n).outcome, .wrong("too high by 5.0e-08 relative"),
                       "integers are exact")
        XCTAssertEqual(QuestionJudge.check("2", against: .integer(2), question: n).outcome, .right)
        XCTAssertEqual(QuestionJudge.check("2", against: .text("neg"), question: c).outcome, .right, "a choice by its number")
        XCTAssertEqual(QuestionJudge.check("NEG", against: .text("neg"), question: c).outcome, .right, "or its text")
        XCTAssertEqual(QuestionJudge.check("pos", against: .text("neg"), question: c).outcome, .wrong("not pos"))
        guard case .unreadable = QuestionJudge.check("3", against: .text("neg"), question: c).outcome else { return XCTFail() }
        guard case .unreadable = QuestionJudge.check("a.b", against: .number(1), question: q).outcome else { return XCTFail() }
        guard case .unreadable = QuestionJudge.check("", against: .number(1), question: q).outcome else { return XCTFail() }
        guard case .unreadable = QuestionJudge.check("[1, 2]", against: .number(1), question: q).outcome else { return XCTFail() }
        XCTAssertEqual(QuestionJudge.check("0.1\r\n", against: .number(0.1), question: q).outcome, .right, "a CRLF line")
    }

    func testTwoWrongTriesReveal() {
        var state = AnswerState()
        state.record(AnswerCheck(outcome: .unreadable("?"), typed: "x"))
        XCTAssertEqual(state.attempts, 0)
        state.record(AnswerCheck(outcome: .wrong("too low"), typed: "1"))
        XCTAssertFalse(state.isSettled)
        state.record(AnswerCheck(outcome: .wrong("too low"), typed: "2"))
        XCTAssertTrue(state.revealed)
        XCTAssertFalse(state.rightFirstTry)
        var first = AnswerState()
        first.record(AnswerCheck(outcome: .right, typed: "3"))
        XCTAssertTrue(first.rightFirstTry && first.correct)
    }
}
