import Foundation
import NotebookCore

/// The lines that show one cell: status, parameters (with the inline editor), outputs and
/// expectations. The same lines fill the side panel on wide terminals and flow under the
/// cell in the text on narrow ones.
enum CellView {
    /// Compact numbers for tables: six significant digits.

    static func compact(_ value: Value) -> String {
        switch value {
        case .number(let x): return NumberText.compact(x)
        case .vector(let xs): return NumberText.list(xs, limit: 64)
        case .matrix(let rows) where rows.count > 64:
            return "[" + rows.prefix(3).map { NumberText.list($0, limit: 64) }.joined(separator: ", ") + ", …] (\(rows.count) rows)"
        case .matrix(let rows): return "[" + rows.map { NumberText.list($0, limit: 64) }.joined(separator: ", ") + "]"
        default: return value.displayText
        }
    }

    /// A one-symbol status with its style and a few words.
    static func status(_ view: ViewContext, _ session: LessonSession, _ cell: CellSpec) -> (symbol: String, text: String, style: Style) {
        let theme = view.theme
        if let question = session.questions.mask(for: session.lesson).hidden[cell.id] {
            return ("?", "answer “\(question)” first", theme.accent)
        }
        if let job = view.job, job.cellID == cell.id, job.lessonID == session.lesson.id {
            return ("⟳", "running \(Int(job.fraction * 100))%", theme.warning)
        }
        let result = session.notebook.result(cell.id)
        if session.opening != nil, result.status == .notRun {
            return cell.isHeavy ? ("▷", "heavy: Enter runs it", theme.accent) : ("⟳", "running", theme.warning)
        }
        switch result.status {
        case .ok:
            let failed = result.expectations.filter { !$0.passed }.count
            if failed > 0 && session.notebook.isEdited(cell.id) {
                // The lesson's claims are about its own values; with the learner's, some need not hold.
                return ("○", "your values: \(result.expectations.count - failed) of \(result.expectations.count) of the lesson's claims still hold", theme.dim)
            }
            if failed > 0 { return ("✗", "\(failed) of \(result.expectations.count) expectations fail", theme.error) }
            return ("✓", "ok", theme.ok)
        case .failed(let error):
            return error.isCancelled ? ("◌", "cancelled", theme.warning) : ("✗", "error", theme.error)
        case .blocked: return ("⊘", "waiting", theme.warning)
        case .stale: return ("◌", "stale: Enter runs it", theme.warning)
        case .skippedHeavy: return ("▷", "heavy: Enter runs it", theme.accent)
        case .notRun: return ("·", "not run", theme.dim)
        }
    }

    /// The cell's header line in the text: id, module, title, status.
    static func header(_ view: ViewContext, _ session: LessonSession, _ index: Int, width: Int) -> Line {
        let cell = session.lesson.cells[index]
        let focused = index == session.focusedCell && session.focusedQuestion == nil
        let theme = view.theme
        let st = status(view, session, cell)
        let base = focused ? theme.focusHeader : theme.cellHeader
        let ranBefore = view.ranCells.contains(cell.id)
        // ◆ marks a cell the learner has run, ◇ one not yet run.
        var left = (focused ? "▶ " : ranBefore ? "◆ " : "◇ ") + cell.id + "  " + cell.compute
        if let title = cell.title { left += " · " + title }
        if cell.isHeavy { left += " · heavy" }
        let right = " " + st.symbol + " " + st.text + " "
        let leftRoom = max(1, width - TextWidth.of(right))
        let leftText = TextWidth.pad(left, to: leftRoom)
        var statusStyle = st.style
        if focused { statusStyle = theme.focusHeader }
        return [Span(leftText, base), Span(TextWidth.truncate(right, to: width - TextWidth.of(leftText)), statusStyle)]
    }

    /// `x = [2, 1, 3] · block = 2`, one line, for the text beside the panel.
    static func parameterSummary(_ view: ViewContext, _ session: LessonSession, _ cell: CellSpec, width: Int) -> Line {
        let parts = session.notebook.parameterExpressions(cell.id).map { "\($0.name) = \($0.expression.source)" }
        guard !parts.isEmpty else { return [] }
        return [Span("  " + TextWidth.truncate(parts.joined(separator: " · "), to: max(1, width - 2)), view.theme.dim)]
    }

    struct Detail {
        var lines: [Line]
        /// Line of the editor within `lines`, when editing.
        var editorLine: Int?
    }

    /// Everything about a cell, for a panel `width` columns wide.
    static func detail(_ view: ViewContext, _ session: LessonSession, _ index: Int, width: Int, includeHeader: Bool) -> Detail {
        let theme = view.theme
        let cell = session.lesson.cells[index]
        let notebook = session.notebook
        let result = notebook.result(cell.id)
        let module = view.registry.module(named: cell.compute)
        var lines: [Line] = []
        var editorLine: Int?

        if includeHeader {
            lines.append([Span(TextWidth.truncate(cell.id + " · " + cell.compute, to: width), theme.title)])
            if let title = cell.title { lines += Wrap.wrap([Span(title, theme.strong)], width: width) }
            if let module { lines += Wrap.wrap([Span(module.summary, theme.dim)], width: width) }
        }
        // Status.
        let st = status(view, session, cell)
        var statusLine: Line = [Span(st.symbol + " ", st.style)]
        switch result.status {
        case .ok:
            statusLine.append(Span("ran in " + NumberText.duration(result.duration), theme.dim))
            if !result.expectations.isEmpty {
                let passed = result.expectations.filter(\.passed).count
                if passed < result.expectations.count && session.notebook.isEdited(cell.id) {
                    statusLine.append(Span(" · " + st.text, theme.dim))
                } else {
                    statusLine.append(Span(" · expectations \(passed)/\(result.expectations.count)",
                                           passed == result.expectations.count ? theme.dim : theme.error))
                }
            }
        default:
            statusLine.append(Span(st.text, st.style))
        }
        lines += Wrap.wrap(statusLine, width: width, indent: 2, firstIndent: 0)
        if let job = view.job, job.cellID == cell.id, job.lessonID == session.lesson.id {
            lines += ProgressBar(fraction: job.fraction, label: "\(Int(job.fraction * 100))% · Esc cancels",
                                 filled: theme.ok, empty: theme.dim).lines(width: width)
        }
        var faultyParameter: String?
        switch result.status {
        case .failed(let error) where !error.isCancelled:
            faultyParameter = error.parameter
            lines += Wrap.wrap([Span(error.description, theme.error)], width: width, indent: 2, firstIndent: 2)
        case .blocked(let reason):
            lines += Wrap.wrap([Span(reason, theme.warning)], width: width, indent: 2, firstIndent: 2)
        default: break
        }

        // Parameters.
        let specs = module?.parameters ?? []
        if !specs.isEmpty {
            lines.append([])
            var head: Line = [Span("PARAMETERS", theme.dim.bolded)]
            let hint = specs.count > 1 ? "  [ ] choose · e edit · u reset" : "  e edit · u reset"
            if TextWidth.of("PARAMETERS" + hint) <= width { head.append(Span(hint, theme.dim)) }
            lines.append(head)
            let nameWidth = min(max(4, width / 3), specs.map { TextWidth.of($0.name) }.max() ?? 4)
            let expressions = notebook.parameterExpressions(cell.id)
            for (i, spec) in specs.enumerated() {
                let selected = i == session.selectedParameter
                let edited = notebook.isOverridden(cell.id, spec.name)
                let expression = expressions.first { $0.name == spec.name }?.expression
                var valueText: String
                var note = ""
                if let input = result.inputs?[spec.name] {
                    valueText = compact(input)
                } else if let expression {
                    valueText = expression.source
                } else {
                    switch spec.defaultValue {
                    case .value(let v): valueText = compact(v)
                    case .computed(let text): valueText = text
                    case .required: valueText = "(required)"
                    }
                }
                if let expression, !expression.references.isEmpty, expression.literalValue == nil {
                    note = "← \(expression.source)"
                } else if expression == nil {
                    note = "default"
                }
                let marker = spec.name == faultyParameter ? "✗ " : (selected ? "▸ " : "  ")
                let markerStyle = spec.name == faultyParameter ? theme.error : theme.accent
                var line: Line = [Span(marker, markerStyle),
                                  Span(TextWidth.pad(spec.name, to: nameWidth), selected ? theme.strong : .plain),
                                  Span(" = ", theme.dim)]
                var tail: Line = []
                if edited { tail.append(Span(" • edited", theme.edited)) } else if !note.isEmpty { tail.append(Span(" " + note, theme.dim)) }
                let room = max(4, width - line.width - tail.width)
                if TextWidth.of(valueText) > room, !tail.isEmpty, width - line.width >= 8 {
                    tail = []
                }
                let valueRoom = max(1, width - line.width - tail.width)
                line.append(Span(TextWidth.truncate(valueText, to: valueRoom), edited ? theme.edited : .plain))
                line += tail
                if selected, session.editor == nil { line = line.map { Span($0.text, $0.style.underlined) } }
                lines.append(line)
                if let editor = session.editor, editor.cellID == cell.id, editor.parameter == spec.name {
                    let prompt = "  ✎ "
                    editorLine = lines.count
                    lines.append([Span(prompt, theme.accent)] + editor.line.line(width: max(2, width - TextWidth.of(prompt))))
                    if let error = editor.error {
                        lines += Wrap.wrap([Span("✗ " + error, theme.error)], width: width, indent: 4, firstIndent: 4)
                    } else {
                        lines.append([Span("    " + TextWidth.truncate(spec.signature + " · Enter apply · Esc cancel", to: max(1, width - 4)), theme.dim)])
                    }
                }
            }
        }

        // A question asks about this cell: its numbers wait for the answer.
        if let question = session.questions.mask(for: session.lesson).hidden[cell.id] {
            lines.append([])
            lines += Wrap.wrap([Span("The outputs appear once you answer question “\(question)” (p goes back to it; a answers, s shows the answer).", theme.dim)],
                               width: width)
            return Detail(lines: lines, editorLine: editorLine)
        }

        // Outputs.
        if let outputs = result.outputs, !outputs.entries.isEmpty {
            lines.append([])
            lines.append([Span("OUTPUTS", theme.dim.bolded)])
            lines += outputLines(outputs, module: module, theme: theme, width: width)
        }

        // Expectations.
        if !result.expectations.isEmpty {
            lines.append([])
            lines.append([Span("EXPECTATIONS", theme.dim.bolded)])
            let edited = session.notebook.isEdited(cell.id)
            for verdict in result.expectations {
                var text = verdict.expectation.text
                if !verdict.passed, let message = verdict.message {
                    text += (edited ? " — the lesson's claim; with your values " : " — ") + message
                }
                let (mark, markStyle, textStyle): (String, Style, Style) = verdict.passed ? ("✓ ", theme.ok, .plain)
                    : edited ? ("○ ", theme.dim, theme.dim) : ("✗ ", theme.error, theme.error)
                lines += Wrap.wrap([Span(mark, markStyle), Span(text, textStyle)], width: width, indent: 4, firstIndent: 2)
            }
        } else if !cell.expectations.isEmpty, result.outputs == nil {
            lines.append([])
            lines.append([Span("EXPECTATIONS", theme.dim.bolded)])
            for e in cell.expectations { lines += Wrap.wrap([Span("· " + e.text, theme.dim)], width: width, indent: 4, firstIndent: 2) }
        }
        return Detail(lines: lines, editorLine: editorLine)
    }

    /// A long vector as index–value pairs in aligned columns, row by row:
    /// `0  0.0497871   1  0.0183156   2  0.135335`.
    static func vectorGrid(_ xs: [Double], width: Int, theme: Theme, limit: Int = 256) -> [Line] {
        let shown = Array(xs.prefix(limit))
        let values = Table.alignColumn(shown.map(NumberText.compact))
        let indexWidth = String(max(0, shown.count - 1)).count
        let valueWidth = values.map { TextWidth.of($0) }.max() ?? 1
        let gap = 3
        let pairWidth = indexWidth + 1 + valueWidth
        let perRow = max(1, (width + gap) / (pairWidth + gap))
        var lines: [Line] = []
        var start = 0
        while start < shown.count {
            var line: Line = []
            for i in start..<min(shown.count, start + perRow) {
                if i > start { line.append(Span(String(repeating: " ", count: gap))) }
                line.append(Span(TextWidth.pad(String(i), to: indexWidth, alignRight: true) + " ", theme.dim))
                line.append(Span(values[i]))
            }
            lines.append(line)
            start += perRow
        }
        if xs.count > shown.count { lines.append([Span("… \(xs.count - shown.count) more", theme.dim)]) }
        return lines
    }


    /// Outputs by kind and display hint: scalars in an aligned table, vectors and matrices as
    /// tables, `bits` as a bit field, `chart` as a chart, `heatmap` as shaded blocks.
    static func outputLines(_ outputs: Outputs, module: (any ComputeModule)?, theme: Theme, width: Int) -> [Line] {
        var lines: [Line] = []
        var scalars: [[String]] = []
        let indent = 2
        let inner = max(8, width - indent)
        func flushScalars() {
            guard !scalars.isEmpty else { return }
            let table = Table(header: [], rows: scalars, firstColumnStyle: theme.dim, cellStyle: .plain)
            lines += table.lines(width: inner).map { [Span(String(repeating: " ", count: indent))] + $0 }
            scalars = []
        }
        func label(_ text: String) {
            lines.append([Span(String(repeating: " ", count: indent)), Span(TextWidth.truncate(text, to: inner), theme.dim)])
        }
        func add(_ widgetLines: [Line]) {
            lines += widgetLines.map { [Span(String(repeating: " ", count: indent + 1))] + $0 }
        }
        for (name, value) in outputs.entries {
            let hint = module?.output(named: name)?.hint
            switch (hint, value) {
            case (.bits?, .text(let bits)):
                flushScalars()
                label(name)
                add(BitField(bits: bits, color: theme.color).lines(width: inner - 1))
            case (.percent?, _) where value.scalar != nil:
                scalars.append([name, String(format: "%.2f%%", value.scalar! * 100)])
            case (.chart?, .vector(let xs)) where xs.count >= 2:
                flushScalars()
                label("\(name) (\(xs.count))")
                add(Chart(values: xs, height: 5, lineStyle: theme.chart, axisStyle: theme.dim).lines(width: inner - 1))
            case (.heatmap?, .matrix(let rows)):
                flushScalars()
                label("\(name) (\(rows.count)×\(rows.first?.count ?? 0))")
                add(Heatmap(matrix: rows, style: theme.heat).lines(width: inner - 1))
            case (_, .number), (_, .integer), (_, .bool), (_, .text):
                scalars.append([name, compact(value)])
            case (_, .vector(let xs)):
                if xs.count <= 8 {
                    let oneLine = compact(value)
                    if TextWidth.of(name) + 2 + TextWidth.of(oneLine) <= inner {
                        scalars.append([name, oneLine])
                        continue
                    }
                }
                flushScalars()
                label("\(name) (\(xs.count))")
                add(vectorGrid(xs, width: inner - 1, theme: theme))
            case (_, .matrix(let rows)):
                flushScalars()
                let columns = rows.first?.count ?? 0
                label("\(name) (\(rows.count)×\(columns))")
                let shownRows = rows.prefix(16)
                let shownColumns = min(columns, 16)
                let table = Table(header: [""] + (0..<shownColumns).map(String.init),
                                  rows: shownRows.enumerated().map { i, row in [String(i)] + row.prefix(shownColumns).map(NumberText.compact) },
                                  headerStyle: theme.dim, firstColumnStyle: theme.dim)
                add(table.lines(width: inner - 1))
                if rows.count > shownRows.count || columns > shownColumns {
                    label("… showing \(shownRows.count)×\(shownColumns) of \(rows.count)×\(columns)")
                }
            }
        }
        flushScalars()
        return lines
    }
}
