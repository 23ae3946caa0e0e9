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
                for line in lines {
                    out.append(line.isCode ? line.raw : line.segments.map { segment in
                        switch segment {
                        case .text(let s): s
                        case .placeholder(let p): "**" + notebook.resolve(p).text + "**"
                        }
                    }.joined())
                }
            case .cell(let index):
                let cell = notebook.lesson.cells[index]
                guard onlyCell == nil || onlyCell == cell.id else { continue }
                out += cellSection(cell, notebook)
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
