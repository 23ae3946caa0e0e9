import NotebookCore

/// A question in the text: its header, the question, choices, the learner's feedback, the
/// hint when asked for, and the answer editor while one is being typed.
enum QuestionView {
    struct View {
        var lines: [Line]
        /// Line of the answer editor within `lines`, when typing.
        var editorLine: Int?
    }

    static func lines(_ view: ViewContext, _ session: LessonSession, _ index: Int, width: Int,
                      mask: (Placeholder) -> String?) -> View {
        let theme = view.theme
        let question = session.lesson.questions[index]
        let focused = session.focusedQuestion == index
        let answer = session.questions.answers[question.id] ?? AnswerState()
        var lines: [Line] = []

        let status: String
        if answer.correct {
            status = answer.rightFirstTry ? "✓ right first time" : "✓ right"
        } else if answer.revealed {
            status = "shown"
        } else if answer.attempts > 0 {
            status = "\(AnswerState.triesBeforeReveal - answer.attempts) more try"
        } else {
            status = focused ? "a answers · s shows · h hint" : "predict first"
        }
        let left = (focused ? "▶ ? " : "? ") + "Question · " + question.id
        let right = " " + status + " "
        let leftText = TextWidth.pad(left, to: max(1, width - TextWidth.of(right)))
        let statusStyle = focused ? theme.focusHeader : answer.correct ? theme.ok : theme.accent
        lines.append([Span(leftText, focused ? theme.focusHeader : theme.cellHeader),
                      Span(TextWidth.truncate(right, to: max(0, width - TextWidth.of(leftText))), statusStyle)])

        let bar = Span("┊ ", focused ? theme.accent : theme.dim)
        let inner = max(8, width - 2)
        var body = Document.prose(question.text, view: view, notebook: session.notebook, width: inner, mask: mask)
        while body.last?.isEmpty == true { body.removeLast() }
        if !question.choices.isEmpty {
            body.append(question.choices.enumerated().flatMap { i, choice in
                [Span("\(i + 1)) ", theme.accent), Span(choice + "   ")]
            })
        }
        if session.questions.hintsShown.contains(question.id), let hint = question.hint {
            body += Wrap.wrap([Span("hint: ", theme.accent), Span(hint, theme.dim)], width: inner)
        }
        if let feedback = session.questions.feedback[question.id] {
            let style = answer.correct ? theme.ok : answer.revealed ? theme.accent : theme.warning
            body += Wrap.wrap([Span(feedback, style)], width: inner)
        }
        if answer.isSettled {
            body += Wrap.wrap([Span("answer: ", theme.dim), Span(session.notebook.answerText(question), theme.value)], width: inner)
        }
        lines += body.map { [bar] + $0 }

        var editorLine: Int?
        if let editor = session.questions.editor, editor.questionID == question.id {
            let prompt = "✎ "
            editorLine = lines.count
            lines.append([bar, Span(prompt, theme.accent)] + editor.line.line(width: max(2, inner - TextWidth.of(prompt))))
            let note = editor.error.map { "✗ " + $0 } ?? "Enter answers · Esc cancels"
            lines += Wrap.wrap([Span(note, editor.error == nil ? theme.dim : theme.error)], width: inner).map { [bar] + $0 }
        }
        return View(lines: lines, editorLine: editorLine)
    }
}
