/// Lesson prose as HTML: paragraphs, headings, lists, tables and code blocks, with inline
/// markup read by ``PlainMarkdown/spans(_:)`` (the model the terminal renderers use), math as
/// MathML where ``MathText`` can read it, and each value in a `<span class="live">`.
struct HTMLProse {
    private var filled: FilledProse
    /// MathML (or the Unicode rendering) of each formula met so far, by index.
    private var formulas: [String] = []

    init(_ notebook: Notebook) {
        filled = FilledProse(notebook)
    }

    /// The HTML of a run of prose lines.
    mutating func blocks(_ lines: [ProseLine]) -> String {
        var out: [String] = []
        var i = 0
        while i < lines.count {
            let line = lines[i]
            let text = line.raw.trimmingSpace
            if line.isCode {
                var code: [String] = []
                while i < lines.count, lines[i].isCode {
                    if !Self.isFence(lines[i].raw) { code.append(filled.plain(filled.fill(lines[i]))) }
                    i += 1
                }
                out.append("<pre><code>" + HTMLText.escape(code.joined(separator: "\n")) + "</code></pre>")
            } else if text.isEmpty {
                i += 1
            } else if text.hasPrefix("|") {
                var rows: [String] = []
                while i < lines.count, !lines[i].isCode, lines[i].raw.trimmingSpace.hasPrefix("|") {
                    rows.append(filled.fill(lines[i]))
                    i += 1
                }
                out.append(table(rows))
            } else if let level = Self.headingLevel(text) {
                let title = String(line.raw.drop { $0 == " " }.dropFirst(level).drop { $0 == " " })
                out.append("<h\(level)>" + inline(filled.fill(ProseLine(line, raw: title))) + "</h\(level)>")
                i += 1
            } else if Self.listMarker(line.raw) != nil {
                out.append(list(lines, &i, indent: Self.indent(line.raw)))
            } else {
                var paragraph: [String] = []
                while i < lines.count, !lines[i].isCode, Self.continuesParagraph(lines[i].raw) {
                    paragraph.append(filled.fill(lines[i]))
                    i += 1
                }
                out.append("<p>" + inline(paragraph.joined(separator: "\n")) + "</p>")
            }
        }
        return out.joined(separator: "\n")
    }

    /// A paragraph of question text or a hint, as inline HTML.
    mutating func paragraph(_ lines: [ProseLine]) -> String {
        inline(lines.map { filled.fill($0) }.joined(separator: "\n"))
    }

    /// A list starting at `lines[i]` whose items are indented by `indent`; deeper markers open
    /// a list inside the item before them, and other indented lines continue it.
    private mutating func list(_ lines: [ProseLine], _ i: inout Int, indent: Int) -> String {
        let ordered = Self.listMarker(lines[i].raw)?.ordered ?? false
        var items: [String] = []
        var current: [String] = []
        var nested = ""
        func finishItem() {
            guard !current.isEmpty || !nested.isEmpty else { return }
            items.append("<li>" + inline(current.joined(separator: "\n")) + nested + "</li>")
            current = []
            nested = ""
        }
        while i < lines.count, !lines[i].isCode {
            let raw = lines[i].raw
            if raw.trimmingSpace.isEmpty { break }
            let depth = Self.indent(raw)
            if let marker = Self.listMarker(raw) {
                if depth < indent { break }
                if depth > indent {
                    nested += list(lines, &i, indent: depth)
                    continue
                }
                finishItem()
                current.append(filled.fill(ProseLine(lines[i], raw: String(raw.dropFirst(depth + marker.length)))))
            } else if depth > indent || !current.isEmpty && Self.continuesParagraph(raw) {
                current.append(filled.fill(ProseLine(lines[i], raw: String(raw.dropFirst(depth)))))
            } else {
                break
            }
            i += 1
        }
        finishItem()
        let tag = ordered ? "ol" : "ul"
        return "<\(tag)>" + items.joined() + "</\(tag)>"
    }

    /// A GitHub table: the first row is the header; the rule under it is dropped.
    private mutating func table(_ rows: [String]) -> String {
        var html = "<div class=\"scroll\"><table class=\"prose-table\">"
        var first = true
        for row in rows {
            let cells = PlainMarkdown.cells(row)
            if cells.allSatisfy({ !$0.isEmpty && $0.allSatisfy { "-:".contains($0) } }) { continue }
            let tag = first ? "th" : "td"
            html += "<tr>" + cells.map { "<\(tag)>" + inline($0) + "</\(tag)>" }.joined() + "</tr>"
            first = false
        }
        return html + "</table></div>"
    }

    /// Inline prose (values marked by ``FilledProse``) as HTML.
    private mutating func inline(_ text: String) -> String {
        let withMath = MathText.replacingMath(in: text) { source, display in
            let latex = filled.plain(source)
            let markup = MathText.mathML(latex, display: display)
                ?? MathText.tryRender(latex).map { "<span class=\"math-text\">" + HTMLText.escape($0) + "</span>" }
            guard let markup else { return nil }
            formulas.append(markup)
            return String(MathText.protectOpen) + String(formulas.count - 1) + String(MathText.protectClose)
        }
        return PlainMarkdown.spans(withMath).map(html).joined()
    }

    private func html(_ span: InlineSpan) -> String {
        switch span {
        case .text(let s): return escaped(s)
        case .strong(let inner): return "<strong>" + inner.map(html).joined() + "</strong>"
        case .emphasis(let inner): return "<em>" + inner.map(html).joined() + "</em>"
        case .code(let s): return "<code>" + escaped(s) + "</code>"
        case .math(let k): return Int(k).flatMap { formulas.indices.contains($0) ? formulas[$0] : nil } ?? ""
        case .link(let text, let url):
            // Only addresses a reader can follow on purpose; none loads anything by itself.
            let safe = ["https://", "http://", "mailto:", "#"].contains { url.hasPrefix($0) }
            return safe ? "<a href=\"" + HTMLText.escape(url) + "\">" + escaped(text) + "</a>" : escaped(text)
        }
    }

    /// Escaped text with each value in a span (carrying its reference, when it is a bare one).
    private func escaped(_ text: String) -> String {
        filled.replacingValues(in: HTMLText.escape(text)) { k, value in
            let ref = filled.reference(k).map { " data-ref=\"" + HTMLText.escape($0.description) + "\"" } ?? ""
            return "<span class=\"live\"\(ref)>" + HTMLText.escape(value) + "</span>"
        }
    }

    private static func isFence(_ raw: String) -> Bool {
        let t = raw.trimmingSpace
        return t.hasPrefix("```") || t.hasPrefix("~~~")
    }

    private static func headingLevel(_ text: String) -> Int? {
        let hashes = text.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes), text.dropFirst(hashes).first == " " else { return nil }
        return hashes
    }

    /// `- `, `* `, `+ ` or `12. ` after the indentation: its length and whether it numbers.
    private static func listMarker(_ raw: String) -> (length: Int, ordered: Bool)? {
        let body = raw.drop { $0 == " " }
        if let c = body.first, "-*+".contains(c), body.dropFirst().first == " " { return (2, false) }
        let digits = body.prefix { $0.isASCII && $0.isNumber }.count
        guard digits > 0, digits < 10 else { return nil }
        let rest = body.dropFirst(digits)
        guard rest.first == ".", rest.dropFirst().first == " " else { return nil }
        return (digits + 2, true)
    }

    private static func indent(_ raw: String) -> Int {
        raw.prefix { $0 == " " }.count
    }

    /// Whether a line goes on with the paragraph before it rather than starting a block.
    private static func continuesParagraph(_ raw: String) -> Bool {
        let t = raw.trimmingSpace
        return !t.isEmpty && !t.hasPrefix("|") && headingLevel(t) == nil && listMarker(raw) == nil && !isFence(raw)
    }
}

extension ProseLine {
    /// The same line (its number and placeholders) with the raw text trimmed to `raw`: the
    /// segments keep only what ends inside it.
    init(_ line: ProseLine, raw: String) {
        self = line
        let dropped = line.raw.count - raw.count
        guard dropped > 0 else { return }
        var skip = dropped
        var segments: [ProseSegment] = []
        for segment in line.segments {
            guard skip > 0 else { segments.append(segment); continue }
            if case .text(let s) = segment {
                if s.count <= skip { skip -= s.count; continue }
                segments.append(.text(String(s.dropFirst(skip))))
                skip = 0
            } else {
                skip = 0
                segments.append(segment)
            }
        }
        self.raw = raw
        self.segments = segments
    }
}
