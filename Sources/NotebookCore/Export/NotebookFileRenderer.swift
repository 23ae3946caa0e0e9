/// A lesson as a Jupyter notebook (nbformat 4.5): prose as Markdown cells with the numbers
/// filled in and the LaTeX left for Jupyter to typeset; each derive cell as a code cell holding
/// its parameters, whose outputs are `display_data` (plain text, an HTML table, and an SVG per
/// chart), so the notebook reads in JupyterLab and on a code host without running anything.
public struct NotebookFileRenderer {
    public init() {}

    public func render(_ notebook: Notebook) -> JSON {
        let lesson = notebook.lesson
        var cells: [JSON] = []
        var ids = CellIDs()
        for block in lesson.blocks {
            switch block {
            case .prose(let lines):
                let text = FilledProse.markdown(lines, notebook).joined(separator: "\n").trimmingCharacters(in: .newlines)
                if !text.isEmpty { cells.append(markdown(text, id: ids.next("prose"))) }
            case .cell(let index):
                let spec = lesson.cells[index]
                cells.append(markdown("**" + (spec.title ?? spec.id) + "** · `" + spec.id + "` · `" + spec.compute + "`",
                                      id: ids.next(spec.id + "-title")))
                cells.append(code(spec, notebook, id: ids.next(spec.id)))
            case .question(let index):
                cells.append(markdown(question(lesson.questions[index], notebook), id: ids.next(lesson.questions[index].id)))
            }
        }
        if !lesson.sources.isEmpty {
            cells.append(markdown("## Sources\n\n" + lesson.sources.map { "- " + $0 }.joined(separator: "\n"), id: ids.next("sources")))
        }
        return .object([
            ("cells", .array(cells)),
            ("metadata", .object([
                ("language_info", .object([("name", .string("derive")), ("pygments_lexer", .string("text"))])),
                ("derive", .object([("lesson", .string(lesson.id)), ("title", .string(lesson.title))])),
            ])),
            ("nbformat", .integer(4)),
            ("nbformat_minor", .integer(5)),
        ])
    }

    private func markdown(_ text: String, id: String) -> JSON {
        .object([("cell_type", .string("markdown")), ("id", .string(id)), ("metadata", .object([])), ("source", .string(text))])
    }

    private func code(_ spec: CellSpec, _ notebook: Notebook, id: String) -> JSON {
        var source = ["cell id=\(spec.id) compute=\(spec.compute)" + (spec.isHeavy ? " heavy" : "")]
        for (name, expression) in notebook.parameterExpressions(spec.id) {
            source.append("\(name) = \(expression.source)" + (notebook.isOverridden(spec.id, name) ? "  # edited" : ""))
        }
        source += spec.expectations.map { "expect " + $0.text }
        let result = notebook.result(spec.id)
        let text = TextRenderer().cellLines(spec, result, notebook: notebook).joined(separator: "\n")
        var outputs: [JSON] = [display([
            ("text/plain", .string(TerminalText.escapeControls(text))),
            ("text/html", .string(HTMLRenderer.cellBody(spec, notebook))),
        ])]
        for chart in SVGChart.charts(of: spec, in: notebook) {
            outputs.append(display([("image/svg+xml", .string(chart.svg)), ("text/plain", .string("Chart of \(chart.output)"))]))
        }
        return .object([
            ("cell_type", .string("code")), ("execution_count", .null), ("id", .string(id)),
            ("metadata", .object([("derive", .object([("ok", .bool(result.passed))]))])),
            ("outputs", .array(outputs)), ("source", .string(source.joined(separator: "\n"))),
        ])
    }

    private func display(_ data: [(String, JSON)]) -> JSON {
        .object([("output_type", .string("display_data")), ("data", .object(data)), ("metadata", .object([]))])
    }

    private func question(_ question: Question, _ notebook: Notebook) -> String {
        var lines = ["> **Question** (about cell `\(question.cell)`)", ">"]
        lines += FilledProse.markdown(question.text, notebook).map { "> " + $0 }
        if !question.choices.isEmpty {
            lines.append(">")
            lines += question.choices.enumerated().map { "> \($0.offset + 1). \($0.element)" }
        }
        if let hint = question.hint { lines += [">", "> *Hint:* " + hint] }
        lines += ["", "<details><summary>Answer</summary>", "", notebook.answerText(question), "", "</details>"]
        return lines.joined(separator: "\n")
    }
}

/// Cell ids as nbformat 4.5 wants them: unique, 1–64 characters of letters, digits, `-`, `_`.
struct CellIDs {
    private var used: Set<String> = []

    mutating func next(_ base: String) -> String {
        var stem = String(base.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "-" }.prefix(56))
        if stem.isEmpty { stem = "cell" }
        var id = stem
        var k = 2
        while used.contains(id) {
            id = stem + "-\(k)"
            k += 1
        }
        used.insert(id)
        return id
    }
}
