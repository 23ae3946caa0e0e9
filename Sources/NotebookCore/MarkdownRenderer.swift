/// Renders a notebook as Markdown that reads on a code host: the lesson with its values filled
/// in and every cell's outputs written under it.
public struct MarkdownRenderer {
    /// Where a chart's picture is, given the cell, the output and the chart's SVG (`derive
    /// export --to md` writes them beside the Markdown); nil draws no picture.
    public var chartLink: ((_ cell: String, _ output: String, _ svg: String) -> String?)?

    public init(chartLink: ((_ cell: String, _ output: String, _ svg: String) -> String?)? = nil) {
        self.chartLink = chartLink
    }

    public func render(_ notebook: Notebook, onlyCell: String? = nil) -> String {
        var out: [String] = []
        for block in notebook.lesson.blocks {
            switch block {
            case .prose(let lines):
                guard onlyCell == nil else { continue }
                out += FilledProse.markdown(lines, notebook)
            case .cell(let index):
                let cell = notebook.lesson.cells[index]
                guard onlyCell == nil || onlyCell == cell.id else { continue }
                out += cellSection(cell, notebook)
            case .question(let index):
                let question = notebook.lesson.questions[index]
                guard onlyCell == nil || onlyCell == question.cell else { continue }
                out.append("> **Question** (`\(question.id)`, about cell `\(question.cell)`)")
                out.append(">")
                out += FilledProse.markdown(question.text, notebook).map { "> " + $0 }
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
            let text = value.briefText.replacingOccurrences(of: "|", with: "\\|")
            lines.append("| `\(name)` | \(text) |")
        }
        if let chartLink {
            for chart in SVGChart.charts(of: cell, in: notebook) {
                guard let link = chartLink(cell.id, chart.output, chart.svg) else { continue }
                lines += ["", "![Chart of \(chart.output)](\(link))"]
            }
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
