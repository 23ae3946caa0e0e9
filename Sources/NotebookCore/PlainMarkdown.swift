/// Markdown markup turned into plain text for terminal output (the TUI styles it instead).
public enum PlainMarkdown {
    /// Drops inline markup: `**strong**` and `*emphasis*` become their text, `` `code` `` loses
    /// its backticks and `[text](url)` shows as text. A `*` with space on both sides stays.
    public static func inline(_ text: String) -> String {
        guard text.contains(where: { $0 == "*" || $0 == "`" || $0 == "[" }) else { return text }
        let chars = Array(text)
        var out = ""
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "`", let close = chars[(i + 1)...].firstIndex(of: "`") {
                out += String(chars[(i + 1)..<close])
                i = close + 1
                continue
            }
            if c == "*" {
                let run = chars[i...].prefix { $0 == "*" }.count
                let marker = min(run, 2)
                if let end = closing(chars, from: i + marker, marker: marker) {
                    out += inline(String(chars[(i + marker)..<end]))
                    i = end + marker
                    continue
                }
            }
            if c == "[", let mid = link(chars, from: i) {
                out += String(chars[(i + 1)..<mid.textEnd])
                i = mid.end
                continue
            }
            out.append(c)
            i += 1
        }
        return out
    }

    /// The index of the closing `*` or `**` of an emphasis opened before `start`, or nil when
    /// the text right inside either marker is a space (then it is not emphasis).
    private static func closing(_ chars: [Character], from start: Int, marker: Int) -> Int? {
        guard start < chars.count, !chars[start].isWhitespace else { return nil }
        var j = start + 1
        while j + marker - 1 < chars.count {
            if chars[j] == "\n" && j + 1 < chars.count && chars[j + 1] == "\n" { return nil }
            if chars[j..<(j + marker)].allSatisfy({ $0 == "*" }), !chars[j - 1].isWhitespace {
                // `**` closing `*` is not a match.
                if marker == 1, j + 1 < chars.count, chars[j + 1] == "*" { j += 2; continue }
                return j
            }
            j += 1
        }
        return nil
    }

    /// `[text](url)`: where the text ends and where the whole link ends.
    private static func link(_ chars: [Character], from start: Int) -> (textEnd: Int, end: Int)? {
        guard let close = chars[(start + 1)...].firstIndex(of: "]"), close + 1 < chars.count,
              chars[close + 1] == "(", let paren = chars[(close + 2)...].firstIndex(of: ")") else { return nil }
        return (close, paren + 1)
    }

    /// A GitHub table as aligned columns with a rule under the header row.
    public static func table(_ rows: [String]) -> [String] {
        let parsed = rows.map(cells)
        let body = parsed.filter { row in !row.allSatisfy { cell in !cell.isEmpty && cell.allSatisfy { "-:".contains($0) } } }
        let columns = body.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in body { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var lines: [String] = []
        for (index, row) in body.enumerated() {
            let padded = (0..<columns).map { i -> String in
                let cell = i < row.count ? row[i] : ""
                return cell + String(repeating: " ", count: widths[i] - cell.count)
            }
            lines.append("  " + padded.joined(separator: "  ").trimmingTrailingSpace)
            if index == 0 && body.count > 1 {
                lines.append("  " + widths.map { String(repeating: "─", count: $0) }.joined(separator: "  "))
            }
        }
        return lines
    }

    /// The cells of `| a | b |`, trimmed; `\|` stays a literal bar.
    static func cells(_ row: String) -> [String] {
        var cells: [String] = []
        var current = ""
        var escaped = false
        for c in row.trimmingSpace {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == "|" { cells.append(current.trimmingSpace); current = ""; continue }
            current.append(c)
        }
        cells.append(current.trimmingSpace)
        // Leading and trailing bars leave empty cells at the ends.
        if cells.first == "" { cells.removeFirst() }
        if cells.last == "" { cells.removeLast() }
        return cells
    }
}
