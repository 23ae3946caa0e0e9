import ArgumentParser
import Foundation
import Lessons
import NotebookCore
import Progress

/// `derive quiz LESSON`: the lesson's questions on a plain terminal, one line per answer. It
/// reads piped answers too, one per line, for scripting.
struct QuizCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quiz",
        abstract: "Answer a lesson's questions on a plain terminal (or from piped lines).",
        discussion: """
            Each question is asked before its numbers are shown. Type a value (0.1, 1/3, \
            2^-24; a choice by its number or its text), `h` for the hint or `s` to see the \
            answer. A wrong answer says whether it is too high or too low; after a second \
            wrong try the answer is shown. Answers are recorded unless --no-record.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The lesson's id.", valueName: "lesson"))
    var lessonID: String

    @Flag(name: .customLong("no-record"), help: "Do not record the answers in the progress database.")
    var noRecord = false

    func run() throws {
        let library = try global.loadLibrary()
        guard let lesson = try LessonSelection.resolve([lessonID], all: false, in: library).first else { return }
        guard !lesson.questions.isEmpty else {
            Terminal.print("\(lesson.title) has no questions.")
            return
        }
        var notebook = Notebook(lesson: lesson, registry: ModuleCatalog.registry)
        notebook.runAll(includeHeavy: false)
        let store = noRecord ? nil : global.openProgress()
        var answers = store?.answerStates(lesson: lesson.id) ?? [:]
        let interactive = Terminal.stdinIsTerminal
        Terminal.print("\(lesson.title): \(lesson.questions.count) questions. Type an answer, h for a hint, s to see the answer.\n")
        asking: for (number, question) in lesson.questions.enumerated() {
            let mask = QuestionMask(lesson: lesson, answers: answers)
            Terminal.print("Question \(number + 1) of \(lesson.questions.count) · \(question.id)")
            for line in TextRenderer().questionText(question, notebook, mask: mask) { Terminal.print("  " + line) }
            if !question.choices.isEmpty {
                Terminal.print("  " + question.choices.enumerated().map { "\($0.offset + 1)) \($0.element)" }.joined(separator: "   "))
            }
            guard case .success(let truth) = notebook.answer(to: question) else {
                Terminal.print("  (cannot be asked: cell \(question.cell) has no result)\n")
                continue
            }
            var state = answers[question.id] ?? AnswerState()
            if state.isSettled {
                Terminal.print("  already answered: \(truth.displayText)\n")
                continue
            }
            while !state.isSettled {
                if interactive { FileHandle.standardOutput.write(Data("> ".utf8)) }
                guard let line = readLine(strippingNewline: true) else { break asking }
                let typed = LineEndings.lines(of: line).joined().trimmingCharacters(in: .whitespaces)
                switch typed.lowercased() {
                case "h":
                    Terminal.print("  hint: " + (question.hint ?? "this question has no hint"))
                    continue
                case "s":
                    state.revealed = true
                    record(store, lesson, question, typed: "", correct: false, state: state)
                    Terminal.print("  the answer: \(truth.displayText)")
                    continue
                default:
                    break
                }
                let check = QuestionJudge.check(typed, against: truth, question: question)
                switch check.outcome {
                case .unreadable(let why):
                    Terminal.print("  \(why)")
                    continue
                case .right:
                    state.record(check)
                    Terminal.print("  ✓ right: \(truth.displayText)")
                case .wrong(let how):
                    state.record(check)
                    Terminal.print(state.revealed ? "  ✗ \(how). The answer: \(truth.displayText)" : "  ✗ \(how). One more try.")
                }
                record(store, lesson, question, typed: check.typed, correct: check.isRight, state: state)
            }
            answers[question.id] = state
            Terminal.print("")
        }
        let states = lesson.questions.compactMap { answers[$0.id] }
        Terminal.print("\(states.filter(\.isSettled).count) of \(lesson.questions.count) answered, \(states.filter(\.rightFirstTry).count) right first time.")
        if let store { global.flushWarnings(store) }
    }

    private func record(_ store: ProgressStore?, _ lesson: Lesson, _ question: Question, typed: String, correct: Bool,
                        state: AnswerState) {
        store?.recordAnswer(AnswerRecord(lesson: lesson.id, question: question.id, typed: typed, correct: correct,
                                         attempt: state.attempts, revealed: state.revealed, answeredAt: Date()))
    }
}
