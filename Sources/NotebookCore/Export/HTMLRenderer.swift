/// A lesson as one self-contained web page: the prose with its numbers, math as MathML, each
/// cell as a box with its parameters, outputs (charts as inline SVG) and expectations, and the
/// questions with answers that open on click.
///
/// The page loads nothing: no script, font, image or style from anywhere, which its
/// Content-Security-Policy also enforces, so it reads offline and looks the same in years.
/// Every piece of lesson text is escaped.
public struct HTMLRenderer {
    /// Written in the page's footer, e.g. "derive 0.9.0".
    public var generator: String

    public init(generator: String = "derive") {
        self.generator = generator
    }

    public func render(_ notebook: Notebook) -> String {
        let lesson = notebook.lesson
        var prose = HTMLProse(notebook)
        var body: [String] = []
        let hasHeading = lesson.hasTitleHeading
        if !hasHeading { body.append("<h1>" + HTMLText.escape(lesson.title) + "</h1>") }
        // The summary goes under the title, wherever the lesson puts its heading.
        var summary = lesson.summary.isEmpty ? nil : "<p class=\"summary\">" + HTMLText.escape(lesson.summary) + "</p>"
        if !hasHeading, let text = summary {
            body.append(text)
            summary = nil
        }
        let edited = lesson.cells.filter { notebook.isEdited($0.id) }.map(\.id)
        if !edited.isEmpty {
            body.append("<p class=\"note\">Computed with edited parameters in " + edited.map { "<code>\(HTMLText.escape($0))</code>" }.joined(separator: ", ")
                        + "; the lesson's own values are in its file.</p>")
        }
        for block in lesson.blocks {
            switch block {
            case .prose(let lines):
                var html = prose.blocks(lines)
                if let text = summary, let end = html.range(of: "</h1>") {
                    html.insert(contentsOf: "\n" + text, at: end.upperBound)
                    summary = nil
                }
                body.append(html)
            case .cell(let index): body.append(cell(lesson.cells[index], notebook))
            case .question(let index): body.append(question(lesson.questions[index], notebook, &prose))
            }
        }
        if !lesson.sources.isEmpty {
            body.append("<section class=\"sources\"><h2>Sources</h2><ul>"
                        + lesson.sources.map { "<li>" + HTMLText.escape($0) + "</li>" }.joined() + "</ul></section>")
        }
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
        <meta name="generator" content="\(HTMLText.escape(generator))">
        <title>\(HTMLText.escape(lesson.title))</title>
        <style>\(HTMLStyle.css)</style>
        </head>
        <body>
        <main class="lesson" data-lesson="\(HTMLText.escape(lesson.id))">
        \(body.joined(separator: "\n"))
        </main>
        <footer class="page-footer">Exported by \(HTMLText.escape(generator)) from <code>\(HTMLText.escape(lesson.id))</code>.</footer>
        </body>
        </html>

        """
    }

    private func cell(_ spec: CellSpec, _ notebook: Notebook) -> String {
        let id = HTMLText.escape(spec.id)
        var html = "<section class=\"cell\" id=\"cell-\(id)\" data-cell=\"\(id)\">"
        html += "<header><h3>" + HTMLText.escape(spec.title ?? spec.id) + "</h3><p class=\"cell-meta\"><code>\(id)</code> · <code>"
            + HTMLText.escape(spec.compute) + "</code>" + (spec.isHeavy ? " · heavy" : "") + "</p></header>"
        return html + Self.cellBody(spec, notebook) + "</section>"
    }

    /// A cell's parameters and outputs as tables, its expectations and its status.
    static func cellBody(_ spec: CellSpec, _ notebook: Notebook) -> String {
        let result = notebook.result(spec.id)
        var html = ""
        let hints = notebook.registry.module(named: spec.compute)?.displayHints ?? [:]
        if let inputs = result.inputs, !inputs.entries.isEmpty {
            html += "<div class=\"scroll\"><table class=\"params\"><caption>Parameters</caption>"
            for entry in inputs.entries {
                let mark = notebook.isOverridden(spec.id, entry.name) ? " <span class=\"edited\">edited</span>" : ""
                html += "<tr><th scope=\"row\"><code>\(HTMLText.escape(entry.name))</code></th><td>"
                    + ValueHTML.value(entry.value, hint: nil, name: entry.name) + mark + "</td></tr>"
            }
            html += "</table></div>"
        }
        if let outputs = result.outputs {
            html += "<div class=\"scroll\"><table class=\"outputs\"><caption>Outputs</caption>"
            for entry in outputs.entries {
                let name = HTMLText.escape(entry.name)
                let hint = hints[entry.name]
                html += "<tr><th scope=\"row\"><code>\(name)</code></th><td class=\"value\" data-output=\"\(name)\" data-kind=\"\(entry.value.kind.rawValue)\">"
                    + ValueHTML.value(entry.value, hint: hint, name: entry.name) + "</td></tr>"
            }
            html += "</table></div>"
        }
        if !result.expectations.isEmpty {
            html += "<ul class=\"expectations\">" + result.expectations.map { verdict in
                "<li class=\"\(verdict.passed ? "pass" : "fail")\"><span class=\"mark\">\(verdict.passed ? "✓" : "✗")</span> <code>expect "
                    + HTMLText.escape(verdict.expectation.text) + "</code>"
                    + (verdict.message.map { " — " + HTMLText.escape($0) } ?? "") + "</li>"
            }.joined() + "</ul>"
        }
        let status = result.status.isOK ? "ok in " + NumberText.duration(result.duration) : result.status.summary
        html += "<p class=\"status \(result.status.isOK ? "ok" : "problem")\">" + HTMLText.escape(status) + "</p>"
        return html
    }

    private func question(_ question: Question, _ notebook: Notebook, _ prose: inout HTMLProse) -> String {
        var html = "<section class=\"question\" id=\"question-\(HTMLText.escape(question.id))\" data-cell=\"\(HTMLText.escape(question.cell))\">"
        html += "<p class=\"question-label\">Question · about cell <a href=\"#cell-\(HTMLText.escape(question.cell))\"><code>"
            + HTMLText.escape(question.cell) + "</code></a></p>"
        html += "<p>" + prose.paragraph(question.text) + "</p>"
        if !question.choices.isEmpty {
            html += "<ol class=\"choices\">" + question.choices.map { "<li>" + HTMLText.escape($0) + "</li>" }.joined() + "</ol>"
        }
        if let hint = question.hint {
            html += "<details class=\"hint\"><summary>Hint</summary><p>" + HTMLText.escape(hint) + "</p></details>"
        }
        html += "<details class=\"answer\"><summary>Answer</summary><p>" + HTMLText.escape(notebook.answerText(question)) + "</p></details>"
        return html + "</section>"
    }
}

/// One value as HTML: numbers in `<span class="n">` (which a page check reads back), vectors
/// and matrices laid out, charts and heatmaps drawn, bit fields coloured by field.
enum ValueHTML {
    /// Vectors longer than this show their first entries and a count.
    static let maxListed = 64
    /// Matrices larger than this either way are summarised.
    static let maxMatrix = 24

    static func value(_ value: Value, hint: DisplayHint?, name: String) -> String {
        switch value {
        case .number(let x) where hint == .percent:
            return "<span class=\"n\" data-percent=\"1\">" + HTMLText.escape(NumberText.format(x * 100, spec: ".1f")) + "</span>%"
        case .number, .integer:
            return "<span class=\"n\">" + HTMLText.escape(value.displayText) + "</span>"
        case .bool(let b):
            return "<span class=\"b\">\(b)</span>"
        case .text(let s) where hint == .bits:
            return bits(s)
        case .text(let s):
            return "<span class=\"t\">" + HTMLText.escape(s) + "</span>"
        case .vector(let xs):
            var html = "<span class=\"vec\">[" + xs.prefix(maxListed).map(number).joined(separator: ", ")
            html += xs.count > maxListed ? ", … <span class=\"count\">(\(xs.count) values)</span>]</span>" : "]</span>"
            if let chart = SVGChart.chart(for: value, hint: hint, name: name) {
                html += "<figure class=\"chart\">" + chart + "</figure>"
            }
            return html
        case .matrix(let m):
            var html: String
            if m.count > maxMatrix || (m.first?.count ?? 0) > maxMatrix {
                html = "<span class=\"count\">\(m.count)×\(m.first?.count ?? 0) matrix</span>"
            } else {
                html = "<table class=\"matrix\">" + m.map { row in
                    "<tr>" + row.map { "<td>" + number($0) + "</td>" }.joined() + "</tr>"
                }.joined() + "</table>"
            }
            if let map = SVGChart.chart(for: value, hint: hint, name: name) {
                html += "<figure class=\"chart\">" + map + "</figure>"
            }
            return html
        }
    }

    private static func number(_ x: Double) -> String {
        "<span class=\"n\">" + HTMLText.escape(NumberText.shortest(x)) + "</span>"
    }

    /// `0 01111 0000000000` as a field table: sign, exponent and mantissa (or as many fields
    /// as the text has, numbered) in their own colours.
    static func bits(_ text: String) -> String {
        let fields = text.split(separator: " ").map(String.init)
        let names = fields.count == 3 ? ["sign", "exponent", "mantissa"] : fields.indices.map { "field \($0 + 1)" }
        let classes = fields.count == 3 ? ["sign", "exponent", "mantissa"] : fields.indices.map { "f\($0 % 3)" }
        var html = "<table class=\"bits\"><tr>"
        for (k, field) in fields.enumerated() {
            html += "<td class=\"\(classes[k])\">" + HTMLText.escape(field) + "</td>"
        }
        html += "</tr><tr class=\"names\">"
        for (k, field) in fields.enumerated() {
            html += "<td>" + names[k] + " · \(field.count)</td>"
        }
        return html + "</tr></table>"
    }
}
