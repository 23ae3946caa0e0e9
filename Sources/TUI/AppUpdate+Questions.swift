import Foundation
import NotebookCore
import Progress

// Questions: answering, revealing, hints.

/// `a` (or Enter) on a question: opens the answer editor, unless it is settled.
func openAnswer(_ state: inout AppState) -> [Effect] {
    guard var session = state.session, let question = session.focusedQuestionSpec else { return [] }
    if session.questions.answers[question.id]?.isSettled == true {
        state.status = StatusMessage("answered: \(session.notebook.answerText(question))")
        return []
    }
    session.questions.editor = AnswerEditor(questionID: question.id, line: LineEditor(), error: nil)
    state.session = session
    state.status = nil
    if let line = state.documentLayout(session).answerLine { scrollToLine(&state, line) }
    return []
}

func answerKey(_ state: inout AppState, _ key: Key) -> [Effect] {
    guard var session = state.session, var editor = session.questions.editor else { return [] }
    switch key {
    case .escape:
        session.questions.editor = nil
        state.session = session
        return []
    case .enter:
        return submitAnswer(&state)
    default:
        guard editor.line.handle(key) else { return [] }
        editor.error = nil
        session.questions.editor = editor
        state.session = session
        return []
    }
}

/// Enter in the answer editor: checks the answer; right, or wrong twice, settles the
/// question and the cell's numbers appear.
func submitAnswer(_ state: inout AppState) -> [Effect] {
    guard var session = state.session, var editor = session.questions.editor,
          let question = session.lesson.question(editor.questionID) else { return [] }
    guard case .success(let truth) = session.notebook.answer(to: question) else {
        editor.error = "this question's cell has not run; Enter on the cell runs it"
        session.questions.editor = editor
        state.session = session
        return []
    }
    let check = QuestionJudge.check(editor.line.text, against: truth, question: question)
    if case .unreadable(let why) = check.outcome {
        editor.error = why
        session.questions.editor = editor
        state.session = session
        return []
    }
    var answer = session.questions.answers[question.id] ?? AnswerState()
    answer.record(check)
    session.questions.answers[question.id] = answer
    session.questions.editor = nil
    let feedback: String
    switch check.outcome {
    case .right: feedback = "✓ \(check.typed) is right"
    case .wrong(let how) where answer.revealed: feedback = "✗ \(check.typed): \(how). The answer is shown."
    case .wrong(let how): feedback = "✗ \(check.typed): \(how). One more try (a), or s to see the answer."
    case .unreadable: feedback = ""
    }
    session.questions.feedback[question.id] = feedback
    state.session = session
    state.status = StatusMessage(feedback, isError: !check.isRight && !answer.revealed)
    return [.record(.answered(lessonID: session.lesson.id, questionID: question.id, typed: check.typed,
                              correct: check.isRight, attempt: answer.attempts, revealed: answer.revealed))]
}

/// `s`: shows the answer without answering (counted as revealed).
func reveal(_ state: inout AppState) -> [Effect] {
    guard var session = state.session, let question = session.focusedQuestionSpec else { return [] }
    var answer = session.questions.answers[question.id] ?? AnswerState()
    guard !answer.isSettled else { return [] }
    answer.revealed = true
    session.questions.answers[question.id] = answer
    session.questions.feedback[question.id] = "shown without an answer"
    state.session = session
    return [.record(.answered(lessonID: session.lesson.id, questionID: question.id, typed: "",
                              correct: false, attempt: answer.attempts, revealed: true))]
}

/// `h`: the question's hint, when it has one.
func showHint(_ state: inout AppState) {
    guard var session = state.session, let question = session.focusedQuestionSpec else { return }
    guard question.hint != nil else {
        state.status = StatusMessage("this question has no hint")
        return
    }
    session.questions.hintsShown.insert(question.id)
    state.session = session
}
