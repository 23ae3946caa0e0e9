/// Prose with its placeholders' values, marked so that a renderer can style each value where
/// it stands in text and write it plainly inside math (where markup would break the formula).
struct FilledProse {
    /// Around the index of a value in ``values``: private-use characters no lesson text holds
    /// (a lesson's own are shown as escapes before they get here).
    static let open: Character = "\u{E002}", close: Character = "\u{E003}"

    let notebook: Notebook
    /// The values filled in so far, in order.
    private(set) var values: [(text: String, placeholder: Placeholder)] = []

    init(_ notebook: Notebook) {
        self.notebook = notebook
    }

    /// The line with each placeholder replaced by a marked index.
    mutating func fill(_ line: ProseLine) -> String {
        line.segments.map { segment -> String in
            switch segment {
            case .text(let s):
                return s.filter { $0 != Self.open && $0 != Self.close }
            case .placeholder(let p):
                values.append((notebook.resolve(p).text, p))
                return String(Self.open) + String(values.count - 1) + String(Self.close)
            }
        }.joined()
    }

    /// The text with every marked value replaced by `render(index, text)`.
    func replacingValues(in text: String, _ render: (Int, String) -> String) -> String {
        guard text.contains(Self.open) else { return text }
        var out = ""
        var rest = Substring(text)
        while let start = rest.firstIndex(of: Self.open), let end = rest[start...].firstIndex(of: Self.close) {
            out += rest[..<start]
            if let k = Int(rest[rest.index(after: start)..<end]), values.indices.contains(k) {
                out += render(k, values[k].text)
            }
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }

    /// The text with the values written plainly.
    func plain(_ text: String) -> String {
        replacingValues(in: text) { $1 }
    }

    /// The reference a placeholder shows when it is a bare `cell.output[i]`, for pages that
    /// let a script check the number against the cell's output.
    func reference(_ index: Int) -> OutputReference? {
        if case .reference(let r) = values[index].placeholder.expression.root.kind { return r }
        return nil
    }
}

extension FilledProse {
    /// Prose lines as Markdown with their values: in bold in text, plainly inside math, code
    /// lines as written. Jupyter and code hosts render the LaTeX themselves.
    static func markdown(_ lines: [ProseLine], _ notebook: Notebook) -> [String] {
        var filled = FilledProse(notebook)
        var out: [String] = []
        var paragraph: [String] = []
        func flush() {
            guard !paragraph.isEmpty else { return }
            let text = MathText.replacingMath(in: paragraph.joined(separator: "\n")) { source, display in
                let delimiter = display ? "$$" : "$"
                return delimiter + filled.plain(source) + delimiter
            }
            out += filled.replacingValues(in: text) { "**" + $1 + "**" }.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            paragraph = []
        }
        for line in lines {
            if line.isCode {
                flush()
                out.append(line.raw)
            } else if line.raw.trimmingSpace.isEmpty {
                flush()
                out.append(line.raw)
            } else {
                paragraph.append(filled.fill(line))
            }
        }
        flush()
        return out
    }
}
