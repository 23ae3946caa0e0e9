import ArgumentParser
import Foundation
import Lessons
import NotebookCore
import Synchronization

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Run every cell and expectation; exit 1 on any failure.",
        discussion: """
            The last line is `N passed, N failed`. Never records progress. With --watch, checks \
            again on every save of a lesson file and prints only what changed (Ctrl-C ends it).
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Lesson ids; all lessons when none are given.", valueName: "lesson"))
    var lessonIDs: [String] = []

    @Flag(help: "Also run heavy cells.")
    var heavy = false

    @Flag(help: "Check again whenever a lesson file changes, printing what changed.")
    var watch = false

    func run() throws {
        var last = try checkOnce()
        for line in last.lines { Terminal.print(line) }
        Terminal.print(last.total)
        guard watch else {
            if last.failed > 0 { throw ExitCode.failure }
            return
        }
        Terminal.flush()
        let directory = try global.lessonsDirectory()
        var files = LessonFolderSignature(directory)
        while true {
            Thread.sleep(forTimeInterval: 0.25)
            guard files.changed() else { continue }
            let next: CheckTally
            do { next = try checkOnce() } catch {
                var failed = CheckTally()
                failed.fail("\(error)")
                next = failed
            }
            Terminal.print("— \(Self.clock()) —")
            for line in next.lines where !last.lines.contains(line) { Terminal.print(line) }
            for line in last.failures where !next.failures.contains(line) { Terminal.print("fixed " + line) }
            Terminal.print(next.total)
            Terminal.flush()
            last = next
        }
    }

    /// One check of the lessons named (or all), as lines to print.
    private func checkOnce() throws -> CheckTally {
        let library = try global.loadLibrary(quiet: watch)
        var tally = CheckTally()
        let lessons: [Lesson]
        do {
            lessons = try LessonSelection.resolve(lessonIDs, all: lessonIDs.isEmpty, in: library)
        } catch where watch {
            // While watching, a lesson that stopped loading is a failure to show, not an exit.
            for error in library.errors { tally.fail("\(error)") }
            tally.fail("\(error)")
            return tally
        }
        if lessonIDs.isEmpty {
            for error in library.errors { tally.fail("\(error)") }
        }
        for notebook in Self.runAll(lessons, includeHeavy: heavy) { tally.add(notebook) }
        return tally
    }

    private static func clock() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: Date())
    }
}

extension CheckCommand {
    /// Runs the lessons' notebooks on every core, one lesson per task, and returns them in the
    /// lessons' order (the report reads the same however the work was shared).
    static func runAll(_ lessons: [Lesson], includeHeavy: Bool) -> [Notebook] {
        guard lessons.count > 1 else {
            return lessons.map { lesson in
                var notebook = Notebook(lesson: lesson, registry: ModuleCatalog.registry)
                let bar = StderrProgress(label: lesson.id)
                notebook.runAll(includeHeavy: includeHeavy, context: bar.context)
                bar.finish()
                return notebook
            }
        }
        let slots = Mutex([Notebook?](repeating: nil, count: lessons.count))
        let bar = StderrProgress(label: "checking \(lessons.count) lessons")
        // The longest first, so that no long lesson starts last while the other cores idle:
        // heavy cells (the exhaustive sweeps, the long fits) dwarf the rest, then cell counts.
        let cost = lessons.map { (heavy: includeHeavy ? $0.cells.filter(\.isHeavy).count : 0, cells: $0.cells.count) }
        let order = lessons.indices.sorted { cost[$0] > cost[$1] }
        DispatchQueue.concurrentPerform(iterations: lessons.count) { k in
            let index = order[k]
            var notebook = Notebook(lesson: lessons[index], registry: ModuleCatalog.registry)
            notebook.runAll(includeHeavy: includeHeavy)
            let finished = slots.withLock { slots in
                slots[index] = notebook
                return slots.filter { $0 != nil }.count
            }
            bar.update(Double(finished) / Double(lessons.count))
        }
        bar.finish()
        return slots.withLock { $0.compactMap { $0 } }
    }
}

/// Counts expectations: each passing `expect` line is one pass; each failing one, each cell
/// error and each lesson that did not load is one failure, written with its file and line.
/// The lines are printed by the caller, in order (`--watch` compares them between runs).
struct CheckTally {
    var passed = 0
    var failed = 0
    /// Failures and each lesson's tally, in the order they are printed.
    private(set) var lines: [String] = []
    private(set) var failures: [String] = []

    var total: String { "\(passed) passed, \(failed) failed" }

    mutating func fail(_ message: String) {
        failed += 1
        lines.append("FAIL " + message)
        failures.append("FAIL " + message)
    }

    mutating func add(_ notebook: Notebook) {
        let before = (passed, failed)
        // Heavy cells skipped without --heavy, and the cells waiting on them, are not failures.
        var skipped: Set<String> = []
        for cell in notebook.lesson.cells {
            let result = notebook.result(cell.id)
            if case .blocked = result.status, cell.dependencies.contains(where: skipped.contains) {
                skipped.insert(cell.id)
                continue
            }
            switch result.status {
            case .ok:
                for verdict in result.expectations {
                    if verdict.passed {
                        passed += 1
                    } else {
                        fail("\(verdict.expectation.location): \(cell.id): expect \(verdict.expectation.text) — \(verdict.message ?? "failed")")
                    }
                }
            case .skippedHeavy:
                skipped.insert(cell.id)
            default:
                fail("\(cell.location): \(cell.id): \(result.status.summary)")
            }
        }
        // Every question resolves on the lesson's values, and a choice answer is a choice.
        for question in notebook.lesson.questions where !skipped.contains(question.cell) {
            switch notebook.answer(to: question) {
            case .success(let value):
                if !question.choices.isEmpty, value != .text(value.displayText) || !question.choices.contains(value.displayText) {
                    fail("\(question.location): question \(question.id): the answer \(value.displayText) is not one of the choices \(question.choices.joined(separator: ", "))")
                } else {
                    passed += 1
                }
            case .failure(let error):
                fail("\(question.location): question \(question.id): the answer cannot be computed: \(error.message)")
            }
        }
        // Every placeholder the reader will see computes: an index out of range or a shape
        // mismatch would otherwise show as ⟨…⟩ in the text while every claim passes. (A value
        // not there yet — a skipped heavy cell, a failed one already reported — is not counted.)
        let prose = notebook.lesson.blocks.flatMap { block -> [ProseLine] in
            if case .prose(let lines) = block { lines } else { [] }
        } + notebook.lesson.questions.flatMap(\.text)
        for line in prose {
            for case .placeholder(let placeholder) in line.segments {
                if case .failure(let error) = notebook.evaluate(placeholder.expression), error.kind != .unavailable {
                    fail("\(placeholder.location): {{\(placeholder.expression.source)}} cannot be computed: \(error.message)")
                }
            }
        }
        let lessonPassed = passed - before.0, lessonFailed = failed - before.1
        lines.append("\(notebook.lesson.id): \(lessonPassed) passed, \(lessonFailed) failed")
    }
}
