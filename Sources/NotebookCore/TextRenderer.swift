/// Renders a notebook as plain text: the derivation with its values filled in and, under
/// each cell, its parameters and outputs as aligned tables.
public struct TextRenderer {
    public init() {}

    public func render(_ notebook: Notebook, onlyCell: String? = nil) -> String {
        var out: [String] = []
        if onlyCell == nil && !notebook.lesson.hasTitleHeading {
            out.append(notebook.lesson.title)
            out.append(String(repeating: "═", count: max(notebook.lesson.title.count, 8)))
        }
        for block in notebook.lesson.blocks {
            switch block {
            case .prose(let lines):
                guard onlyCell == nil else { continue }
                for text in proseText(lines, notebook) {
                    if text.isEmpty && (out.last?.isEmpty ?? true) { continue }
                    out.append(text)
                }
            case .cell(let index):
                let cell = notebook.lesson.cells[index]
                guard onlyCell == nil || onlyCell == cell.id else { continue }
                out += cellLines(cell, notebook.result(cell.id), notebook: notebook)
            case .question(let index):
                let question = notebook.lesson.questions[index]
                guard onlyCell == nil || onlyCell == question.cell else { continue }
                out += questionLines(question, notebook)
            }
        }
        while out.last?.isEmpty == true { out.removeLast() }
        return TerminalText.escapeControls(out.joined(separator: "\n")) + "\n"
    }

    /// Prose with placeholders filled in and math rendered a paragraph at a time, so that a
    /// `$$...$$` block spread over several lines still renders.
    func proseText(_ lines: [ProseLine], _ notebook: Notebook, mask: QuestionMask? = nil) -> [String] {
        var out: [String] = []
        var paragraph: [String] = []
        func flush() {
            guard !paragraph.isEmpty else { return }
            let rendered = PlainMarkdown.inline(MathText.renderInline(paragraph.joined(separator: "\n"), protect: true))
            out += rendered.split(separator: "\n", omittingEmptySubsequences: false).map { Self.heading(String($0)) }
            paragraph = []
        }
        var table: [String] = []
        func flushTable() {
            guard !table.isEmpty else { return }
            out += PlainMarkdown.table(table.map { PlainMarkdown.inline(MathText.renderInline($0, protect: true)) })
            table = []
        }
        for line in lines {
            let isTableRow = !line.isCode && line.raw.trimmingSpace.hasPrefix("|")
            if !isTableRow { flushTable() }
            if isTableRow {
                flush()
                table.append(Self.filled(line, notebook, mask: mask))
            } else if line.isCode {
                flush()
                let fence = line.raw.hasPrefix("```") || line.raw.hasPrefix("~~~")
                out.append(fence ? "" : "    " + line.raw)
            } else if line.raw.trimmingSpace.isEmpty {
                flush()
                out.append("")
            } else {
                paragraph.append(Self.filled(line, notebook, mask: mask))
            }
        }
        flush()
        flushTable()
        return out
    }

    /// The line with every `{{...}}` replaced by its current value, or by a marker where a
    /// question hides it.
    static func filled(_ line: ProseLine, _ notebook: Notebook, mask: QuestionMask? = nil) -> String {
        line.segments.map { segment in
            switch segment {
            case .text(let s): s
            case .placeholder(let p):
                mask?.question(hiding: p, in: notebook).map(QuestionMask.marker) ?? notebook.resolve(p).text
            }
        }.joined()
    }

    /// A question's text, rendered as prose, with the values its answer would give away hidden.
    public func questionText(_ question: Question, _ notebook: Notebook, mask: QuestionMask) -> [String] {
        proseText(question.text, notebook, mask: mask).filter { !$0.isEmpty }
    }

    /// `# Title` becomes the title over a rule.
    static func heading(_ line: String) -> String {
        guard line.hasPrefix("#") else { return line }
        let title = line.drop { $0 == "#" }.trimmingSpace
        let rule: Character = line.hasPrefix("##") ? "─" : "═"
        return title + "\n" + String(repeating: rule, count: max(title.count, 3))
    }

    /// A question with its answer under it (batch output shows answers; the notebook and
    /// `derive quiz` ask first).
    func questionLines(_ question: Question, _ notebook: Notebook) -> [String] {
        var lines = ["? Question \(question.id) (about cell \(question.cell))"]
        lines += proseText(question.text, notebook).filter { !$0.isEmpty }.map { "  " + $0 }
        if !question.choices.isEmpty {
            lines.append("  choices: " + question.choices.enumerated().map { "\($0.offset + 1)) \($0.element)" }.joined(separator: "  "))
        }
        if let hint = question.hint { lines.append("  hint: " + hint) }
        lines.append("  answer: " + notebook.answerText(question))
        lines.append("")
        return lines
    }

    func cellLines(_ cell: CellSpec, _ result: CellResult, notebook: Notebook) -> [String] {
        var lines = ["┌─ \(cell.id) · \(cell.compute)" + (cell.title.map { " — \($0)" } ?? "") + (cell.isHeavy ? " (heavy)" : "")]
        let module = notebook.registry.module(named: cell.compute)
        if let inputs = result.inputs, !inputs.entries.isEmpty {
            lines.append("│ parameters")
            let rows = inputs.entries.map { entry -> (String, Value) in
                (entry.name + (notebook.isOverridden(cell.id, entry.name) ? "*" : ""), entry.value)
            }
            lines += table(rows, hints: [:]).map { "│   " + $0 }
        }
        if let outputs = result.outputs {
            lines.append("│ outputs")
            let hints = module?.displayHints ?? [:]
            lines += table(outputs.entries.map { ($0.name, $0.value) }, hints: hints).map { "│   " + $0 }
        }
        for verdict in result.expectations {
            lines.append("│ " + (verdict.passed ? "✓ " : "✗ ") + verdict.expectation.text
                         + (verdict.message.map { "   (\($0))" } ?? ""))
        }
        let footer: String
        switch result.status {
        case .ok: footer = "ok in " + NumberText.duration(result.duration)
        default: footer = result.status.summary
        }
        lines.append("└─ " + footer)
        lines.append("")
        return lines
    }

    /// Matrices with more rows or columns than this are summarised, not tabulated.
    static let maxMatrixRows = 64
    /// Vectors longer than this get no chart in text (the TUI's chart resamples instead).
    static let maxChartColumns = 200

    /// Name/value rows with the values aligned; matrices take one line per row, charts follow their vector.
    public func table(_ rows: [(String, Value)], hints: [String: DisplayHint]) -> [String] {
        let width = rows.map(\.0.count).max() ?? 0
        var lines: [String] = []
        for (name, value) in rows {
            let pad = name + String(repeating: " ", count: width - name.count) + "  "
            let indent = String(repeating: " ", count: width + 2)
            switch value {
            case .matrix(let m) where m.count > Self.maxMatrixRows || (m.first?.count ?? 0) > Self.maxMatrixRows:
                // Too big to lay out as a table: the first rows, summarised like long vectors.
                lines.append(pad + "\(m.count)×\(m.first?.count ?? 0) matrix")
                for row in m.prefix(3) { lines.append(indent + "│ " + NumberText.list(row, limit: 8)) }
                lines.append(indent + "│ …")
            case .matrix(let m):
                let cells = m.map { $0.map(NumberText.compact) }
                let columnWidth = cells.flatMap { $0 }.map(\.count).max() ?? 1
                for (i, row) in cells.enumerated() {
                    let text = row.map { String(repeating: " ", count: columnWidth - $0.count) + $0 }.joined(separator: "  ")
                    lines.append((i == 0 ? pad : indent) + "│ " + text + " │")
                }
                if m.isEmpty { lines.append(pad + "[]") }
            case .vector(let xs):
                lines.append(pad + NumberText.list(xs))
                if hints[name] == .chart, xs.count > 1, xs.count <= Self.maxChartColumns {
                    lines += TextChart.columns(xs, height: 5, width: xs.count > 40 ? 1 : 2).map { indent + $0 }
                }
            case .number(let x) where hints[name] == .percent:
                lines.append(pad + NumberText.format(x, spec: ".1%"))
            default:
                lines.append(pad + value.displayText)
            }
        }
        return lines
    }
}

/// Keeps lesson text from driving the terminal.
public enum TerminalText {
    /// Shows control characters (other than newline and tab) and bidirectional overrides as
    /// visible escapes such as `\e` or `\u{202e}`.
    public static func escapeControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) {
                out += visibleEscape(scalar)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// How an escaped character is shown: `\e` for ESC, `\u{hex}` for the others.
    public static func visibleEscape(_ s: Unicode.Scalar) -> String {
        s == "\u{1B}" ? "\\e" : "\\u{\(String(s.value, radix: 16))}"
    }

    /// C0 and C1 controls (except newline and tab), DEL, and the bidirectional marks,
    /// embeddings, overrides and isolates, which can make text display in an order other than
    /// it reads.
    public static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        (s.value < 0x20 && s != "\n" && s != "\t") || (0x7F...0x9F).contains(s.value)
            || (0x202A...0x202E).contains(s.value) || (0x2066...0x2069).contains(s.value)
            || s.value == 0x200E || s.value == 0x200F || s.value == 0x061C
    }
}
