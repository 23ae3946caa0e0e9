/// Renders a notebook as Markdown that reads on a code host: the lesson with its values filled
/// in and every cell's outputs written under it.
public struct MarkdownRenderer {
    public init() {}

    public func render(_ notebook: Notebook, onlyCell: String? = nil) -> String {
        var out: [String] = []
        for block in notebook.lesson.blocks {
            switch block {
            case .prose(let lines):
                guard onlyCell == nil else { continue }
                out += lines.map { filled($0, notebook) }
            case .cell(let index):
                let cell = notebook.lesson.cells[index]
                guard onlyCell == nil || onlyCell == cell.id else { continue }
                out += cellSection(cell, notebook)
            case .question(let index):
                let question = notebook.lesson.questions[index]
                guard onlyCell == nil || onlyCell == question.cell else { continue }
                out.append("> **Question** (`\(question.id)`, about cell `\(question.cell)`)")
                out.append(">")
                out += question.text.map { "> " + filled($0, notebook) }
                if !question.choices.isEmpty {
                    out.append(">")
                    out += question.choices.enumerated().map { "> \($0.offset + 1). \($0.element)" }
                }
                if let hint = question.hint { out += [">", "> *Hint:* " + hint] }
                out += [">", "> **Answer:** " + notebook.answerText(question), ""]
            }
        }
        return TerminalText.escapeControls(out.joined(separator: "\n")) + "\n"
    }

    /// A prose line with its values in bold; code lines as written.
    private func filled(_ line: ProseLine, _ notebook: Notebook) -> String {
        line.isCode ? line.raw : line.segments.map { segment in
            switch segment {
            case .text(let s): s
            case .placeholder(let p): "**" + notebook.resolve(p).text + "**"
            }
        }.joined()
    }

    private func cellSection(_ cell: CellSpec, _ notebook: Notebook) -> [String] {
        var info = "cell id=\(cell.id) compute=\(cell.compute)"
        if cell.isHeavy { info += " heavy" }
        if let title = cell.title { info += " title=\"\(title)\"" }
        var lines = ["```" + info]
        // The parameters the outputs were computed with: the learner's values replace the lesson's.
        for (name, expression) in notebook.parameterExpressions(cell.id) {
            lines.append("\(name) = \(expression.source)" + (notebook.isOverridden(cell.id, name) ? "  # edited" : ""))
        }
        lines += cell.expectations.map { "expect " + $0.text }
        lines.append("```")
        let result = notebook.result(cell.id)
        lines.append("")
        guard let outputs = result.outputs else {
            lines.append("> **\(cell.id)**: \(result.status.summary)")
            lines.append("")
            return lines
        }
        lines.append("| output | value |")
        lines.append("|---|---|")
        for (name, value) in outputs.entries {
            let text = value.displayText.replacingOccurrences(of: "|", with: "\\|")
            lines.append("| `\(name)` | \(text) |")
        }
        if !result.expectations.isEmpty {
            lines.append("")
            for verdict in result.expectations {
                lines.append("- " + (verdict.passed ? "✓" : "✗") + " `expect \(verdict.expectation.text)`"
                             + (verdict.message.map { " — \($0)" } ?? ""))
            }
        }
        lines.append("")
        return lines
    }
}
