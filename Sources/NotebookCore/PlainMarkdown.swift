/// Markdown markup turned into plain text for terminal output (the TUI styles it instead).
public enum PlainMarkdown {
    /// Drops inline markup: `**strong**` and `*emphasis*` become their text, `` `code` `` loses
    /// its backticks and `[text](url)` shows as text. A `*` with space on both sides stays.
    public static func inline(_ text: String) -> String {
        guard text.contains(where: { $0 == "*" || $0 == "`" || $0 == "[" || $0 == open }) else { return text }
        return spans(text).map(\.plainText).joined()
    }

    /// The inline structure of a line or paragraph of prose, read by the rules ``inline(_:)``
    /// states; rendered math (protected by ``MathText``) is one `.math` span.
    public static func spans(_ text: String) -> [InlineSpan] {
        let chars = Array(text)
        let emphasis = EmphasisClosers(chars)
        var brackets = NextIndexSearch(target: "]")
        var parens = NextIndexSearch(target: ")")
        return spans(chars, 0..<chars.count, emphasis, &brackets, &parens)
    }

    private static func spans(_ chars: [Character], _ range: Range<Int>, _ emphasis: EmphasisClosers,
                              _ brackets: inout NextIndexSearch, _ parens: inout NextIndexSearch) -> [InlineSpan] {
        var out: [InlineSpan] = []
        var text = ""
        func flush() {
            if !text.isEmpty { out.append(.text(text)); text = "" }
        }
        var i = range.lowerBound
        while i < range.upperBound {
            let c = chars[i]
            if c == open {
                // Rendered math (see `MathText.renderInline(_:protect:)`): copied as it is.
                let end = chars[(i + 1)..<range.upperBound].firstIndex(of: close) ?? range.upperBound
                flush()
                out.append(.math(String(chars[(i + 1)..<end])))
                i = end + 1
                continue
            }
            if c == "`", let close = chars[(i + 1)..<range.upperBound].firstIndex(of: "`") {
                flush()
                out.append(.code(String(chars[(i + 1)..<close])))
                i = close + 1
                continue
            }
            if c == "*" {
                let run = chars[i..<range.upperBound].prefix { $0 == "*" }.count
                let marker = min(run, 2)
                if let end = emphasis.closing(from: i + marker, marker: marker), end < range.upperBound {
                    flush()
                    let inner = spans(chars, (i + marker)..<end, emphasis, &brackets, &parens)
                    out.append(marker == 2 ? .strong(inner) : .emphasis(inner))
                    i = end + marker
                    continue
                }
            }
            if c == "[", let close = brackets.next(in: chars, from: i + 1), close + 1 < range.upperBound,
               chars[close + 1] == "(", let end = parens.next(in: chars, from: close + 2), end < range.upperBound {
                flush()
                out.append(.link(text: String(chars[(i + 1)..<close]), url: String(chars[(close + 2)..<end])))
                i = end + 1
                continue
            }
            text.append(c)
            i += 1
        }
        flush()
        return out
    }

    private static let open = Character(MathText.protectOpen), close = Character(MathText.protectClose)

    /// Where `*` and `**` emphasis can close, worked out once for the whole text so that a
    /// line full of markers that never close stays linear. Nothing inside rendered math closes.
    private struct EmphasisClosers {
        let chars: [Character]
        /// For each index, the first index at or after it that could close `*`, `**`, or
        /// starts a blank line (`chars.count` when there is none).
        private var nextSingle: [Int], nextDouble: [Int], nextBreak: [Int]

        init(_ chars: [Character]) {
            self.chars = chars
            let n = chars.count
            nextSingle = Array(repeating: n, count: n + 1)
            nextDouble = nextSingle
            nextBreak = nextSingle
            var inMath = false
            for j in stride(from: n - 1, through: 0, by: -1) {
                nextSingle[j] = nextSingle[j + 1]
                nextDouble[j] = nextDouble[j + 1]
                nextBreak[j] = nextBreak[j + 1]
                if chars[j] == PlainMarkdown.close { inMath = true }
                if chars[j] == PlainMarkdown.open { inMath = false }
                guard !inMath, chars[j] == "*" || chars[j] == "\n" else { continue }
                if chars[j] == "\n" {
                    if j + 1 < n, chars[j + 1] == "\n" { nextBreak[j] = j }
                    continue
                }
                // A closer follows text, not a space; `**` does not close `*`.
                guard j > 0, !chars[j - 1].isWhitespace else { continue }
                let doubled = j + 1 < n && chars[j + 1] == "*"
                if doubled { nextDouble[j] = j } else if chars[j - 1] != "*" { nextSingle[j] = j }
            }
        }

        /// The index of the marker closing an emphasis whose text starts at `start`, or nil
        /// when the text starts with a space (then it is not emphasis) or nothing closes it
        /// before a blank line.
        func closing(from start: Int, marker: Int) -> Int? {
            guard start < chars.count, !chars[start].isWhitespace else { return nil }
            let close = (marker == 1 ? nextSingle : nextDouble)[start + 1]
            return close < chars.count && close < nextBreak[start + 1] ? close : nil
        }
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

/// The next index of a character, for searches whose starts never move backwards: an answer
/// `k` found from `p` is still the answer from any start in `p...k` (and no answer stays no
/// answer), so the text is scanned once in all.
public struct NextIndexSearch {
    let target: Character
    private var from = Int.max
    private var found: Int?

    public init(target: Character) { self.target = target }

    public mutating func next(in chars: [Character], from start: Int) -> Int? {
        if from <= start, found.map({ $0 >= start }) ?? true { return found }
        from = start
        found = start < chars.count ? chars[start...].firstIndex(of: target) : nil
        return found
    }
}

/// A piece of inline prose: what ``PlainMarkdown/spans(_:)`` reads, for renderers that style it.
public indirect enum InlineSpan: Sendable, Equatable {
    case text(String)
    case strong([InlineSpan])
    case emphasis([InlineSpan])
    case code(String)
    case link(text: String, url: String)
    /// Math already rendered (the text between ``MathText/protectOpen`` and ``MathText/protectClose``).
    case math(String)

    /// The span as plain text: markup dropped, link text without its address.
    public var plainText: String {
        switch self {
        case .text(let s), .code(let s), .math(let s): s
        case .strong(let inner), .emphasis(let inner): inner.map(\.plainText).joined()
        case .link(let text, _): text
        }
    }
}
