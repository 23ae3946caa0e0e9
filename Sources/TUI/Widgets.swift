import Foundation
import NotebookCore

/// Something that lays itself out as styled lines for a given width.
///
/// Widgets produce lines rather than drawing at fixed places so the same widget can sit in
/// the side panel or flow inside the lesson text on narrow terminals.
public protocol Widget {
    func lines(width: Int) -> [Line]
}

extension ScreenBuffer {
    /// Draws lines into a rectangle starting at line `from`, clipped to the rectangle.
    public mutating func draw(_ lines: [Line], in rect: Rect, from first: Int = 0) {
        guard !rect.isEmpty else { return }
        for row in 0..<rect.height {
            let i = first + row
            guard i >= 0, i < lines.count else { continue }
            put(lines[i], x: rect.x, y: rect.y + row, clip: rect)
        }
    }

    /// A box border around a rectangle, with an optional title on the top edge.
    public mutating func box(_ rect: Rect, style: Style = .plain, title: String? = nil) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let horizontal = String(repeating: "─", count: rect.width - 2)
        put("┌" + horizontal + "┐", x: rect.x, y: rect.y, style: style, clip: rect)
        put("└" + horizontal + "┘", x: rect.x, y: rect.maxY - 1, style: style, clip: rect)
        for y in (rect.y + 1)..<(rect.maxY - 1) {
            put("│", x: rect.x, y: y, style: style, clip: rect)
            put("│", x: rect.maxX - 1, y: y, style: style, clip: rect)
        }
        if let title, rect.width > 6 {
            put(" " + TextWidth.truncate(title, to: rect.width - 6) + " ", x: rect.x + 2, y: rect.y,
                style: style.bolded, clip: rect)
        }
    }
}

// MARK: - Table

/// A table with a header row and aligned columns. Numeric columns line up on the decimal
/// point; a table wider than the space is split into column groups that repeat the first
/// column.
public struct Table: Widget {
    public var header: [String]
    public var rows: [[String]]
    public var headerStyle: Style
    public var firstColumnStyle: Style
    public var cellStyle: Style
    public var gap: Int

    public init(header: [String], rows: [[String]], headerStyle: Style = Style(bold: true, dim: false),
                firstColumnStyle: Style = Style(dim: true), cellStyle: Style = .plain, gap: Int = 2) {
        self.header = header
        self.rows = rows
        self.headerStyle = headerStyle
        self.firstColumnStyle = firstColumnStyle
        self.cellStyle = cellStyle
        self.gap = gap
    }

    static func isNumeric(_ s: String) -> Bool {
        guard let first = s.first else { return false }
        return first.isNumber || ((first == "-" || first == "+") && s.count > 1)
            || ["NaN", "inf", "-inf"].contains(s)
    }

    /// Aligns a column of numbers on the decimal point (or the exponent), right-aligned
    /// overall; other text is left-aligned.
    static func alignColumn(_ values: [String]) -> [String] {
        let numeric = values.allSatisfy { $0.isEmpty || isNumeric($0) }
        guard numeric else {
            let w = values.map { TextWidth.of($0) }.max() ?? 0
            return values.map { TextWidth.pad($0, to: w) }
        }
        func split(_ s: String) -> (String, String) {
            if let i = s.firstIndex(where: { $0 == "." || $0 == "e" }) { return (String(s[..<i]), String(s[i...])) }
            return (s, "")
        }
        let parts = values.map(split)
        let intWidth = parts.map { $0.0.count }.max() ?? 0
        let fracWidth = parts.map { $0.1.count }.max() ?? 0
        return parts.map {
            String(repeating: " ", count: intWidth - $0.0.count) + $0.0 + $0.1
                + String(repeating: " ", count: fracWidth - $0.1.count)
        }
    }

    public func lines(width: Int) -> [Line] {
        let columnCount = max(header.count, rows.map(\.count).max() ?? 0)
        guard columnCount > 0 else { return [] }
        var columns: [[String]] = []
        for c in 0..<columnCount {
            let head = c < header.count ? header[c] : ""
            let body = Table.alignColumn(rows.map { c < $0.count ? $0[c] : "" })
            let w = max(TextWidth.of(head), body.map { TextWidth.of($0) }.max() ?? 0)
            let numeric = !body.isEmpty && rows.allSatisfy { c >= $0.count || $0[c].isEmpty || Table.isNumeric($0[c]) }
            columns.append([TextWidth.pad(head, to: w, alignRight: numeric)] + body.map { TextWidth.pad($0, to: w, alignRight: numeric) })
        }
        let widths = columns.map { TextWidth.of($0[0]) }
        // Group columns so each group fits; every group after the first repeats column 0.
        var groups: [[Int]] = []
        var current: [Int] = [0]
        var used = widths[0]
        for c in 1..<max(1, columnCount) where columnCount > 1 {
            if used + gap + widths[c] > width && current.count > 1 {
                groups.append(current)
                current = [0]
                used = widths[0]
            }
            current.append(c)
            used += gap + widths[c]
        }
        groups.append(current)
        var out: [Line] = []
        for (g, group) in groups.enumerated() {
            if g > 0 { out.append([]) }
            for r in (header.isEmpty ? 1 : 0)...rows.count {
                var line: Line = []
                for (k, c) in group.enumerated() {
                    if k > 0 { line.append(Span(String(repeating: " ", count: gap))) }
                    let style = r == 0 ? headerStyle : (c == 0 && header.count > 1 ? firstColumnStyle : cellStyle)
                    line.append(Span(columns[c][r], style))
                }
                out.append(line)
            }
        }
        return out
    }
}

// MARK: - Bit field

/// A floating-point bit pattern, `"s eeeee mmmmmmmmmm"`, with sign, exponent and mantissa
/// coloured apart and labelled underneath.
public struct BitField: Widget {
    public var bits: String
    public var signStyle = Style(fg: .magenta, bold: true)
    public var exponentStyle = Style(fg: .cyan, bold: true)
    public var mantissaStyle = Style(fg: .green)
    public var labelStyle = Style(dim: true)

    public init(bits: String, color: Bool = true) {
        self.bits = bits
        if !color {
            signStyle = Style(bold: true)
            exponentStyle = Style(underline: true)
            mantissaStyle = .plain
        }
    }

    public func lines(width: Int) -> [Line] {
        let fields = bits.split(separator: " ").map(String.init)
        guard fields.count == 3 else { return Wrap.wrap(bits, width: width) }
        let styles = [signStyle, exponentStyle, mantissaStyle]
        let labels = [["sign", "s"], ["exponent", "exp", "e"], ["mantissa", "mant", "m"]]
        var top: Line = []
        var bottom: Line = []
        for (i, field) in fields.enumerated() {
            if i > 0 {
                top.append(Span(" "))
                bottom.append(Span(" "))
            }
            top.append(Span(field, styles[i]))
            let w = field.count
            let label = labels[i].first { $0.count <= w } ?? ""
            bottom.append(Span(TextWidth.pad(label, to: w), labelStyle))
        }
        if top.width > width {
            // Too narrow for one row: a field per line.
            return fields.enumerated().map { i, f in [Span(labels[i][0] + " ", labelStyle), Span(f, styles[i])] }
        }
        return [top, bottom]
    }
}

// MARK: - Charts

/// A line chart of a vector in braille dots (2×4 per cell), or vertical bars in block
/// characters when the values are non-negative and few enough; with y-axis labels and the
/// index range on the x axis.
public struct Chart: Widget {
    public var values: [Double]
    public var height: Int
    public var lineStyle: Style
    public var axisStyle: Style

    public init(values: [Double], height: Int = 6, lineStyle: Style = Style(fg: .cyan), axisStyle: Style = Style(dim: true)) {
        self.values = values
        self.height = max(2, height)
        self.lineStyle = lineStyle
        self.axisStyle = axisStyle
    }

    public func lines(width: Int) -> [Line] {
        guard let scale = ChartScale(values) else {
            return [[Span("(no finite values to chart)", axisStyle)]]
        }
        let bars = scale.isBars
        let top = scale.topLabel, bottom = scale.floorLabel
        let labelWidth = max(top.count, bottom.count)
        let plotWidth = width - labelWidth - 1
        guard plotWidth >= 4 else { return [[Span("chart needs more width", axisStyle)]] }
        let rows = height
        var grid = Array(repeating: Array(repeating: Character(" "), count: plotWidth), count: rows)
        let barWidth = bars ? (plotWidth / values.count) : 0
        if bars && barWidth >= 1 {
            let columnWidth = min(barWidth, 6)
            let drawWidth = max(1, columnWidth - (columnWidth >= 3 ? 1 : 0))
            for (i, v) in values.enumerated() where v.isFinite {
                for c in 0..<drawWidth {
                    let x = i * columnWidth + c
                    guard x < plotWidth else { continue }
                    for r in 0..<rows {
                        grid[r][x] = BlockGlyphs.vertical[scale.eighths(v, row: rows - 1 - r, height: rows)]
                    }
                }
            }
        } else {
            // Braille: dot (dx, dy) of a cell maps to these bits.
            let dotBits: [[UInt32]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]
            var cells = Array(repeating: Array(repeating: UInt32(0), count: plotWidth), count: rows)
            let xDots = plotWidth * 2, yDots = rows * 4
            func point(_ i: Int) -> (Int, Int)? {
                let v = values[i]
                guard v.isFinite else { return nil }
                let x = values.count == 1 ? 0 : Int((Double(i) / Double(values.count - 1) * Double(xDots - 1)).rounded())
                let y = Int(((1 - scale.position(v)) * Double(yDots - 1)).rounded())
                return (x, y)
            }
            func plot(_ x: Int, _ y: Int) {
                guard x >= 0, y >= 0, x < xDots, y < yDots else { return }
                cells[y / 4][x / 2] |= dotBits[x % 2][y % 4]
            }
            var previous: (Int, Int)?
            for i in values.indices {
                guard let p = point(i) else { previous = nil; continue }
                if let q = previous {
                    // Bresenham between consecutive points.
                    var x0 = q.0, y0 = q.1
                    let dx = abs(p.0 - x0), dy = -abs(p.1 - y0)
                    let sx = x0 < p.0 ? 1 : -1, sy = y0 < p.1 ? 1 : -1
                    var err = dx + dy
                    while true {
                        plot(x0, y0)
                        if x0 == p.0 && y0 == p.1 { break }
                        let e2 = 2 * err
                        if e2 >= dy { err += dy; x0 += sx }
                        if e2 <= dx { err += dx; y0 += sy }
                    }
                } else {
                    plot(p.0, p.1)
                }
                previous = p
            }
            for r in 0..<rows {
                for c in 0..<plotWidth where cells[r][c] != 0 {
                    grid[r][c] = Character(Unicode.Scalar(0x2800 + cells[r][c])!)
                }
            }
        }
        var out: [Line] = []
        for r in 0..<rows {
            let label = r == 0 ? top : (r == rows - 1 ? bottom : "")
            out.append([Span(TextWidth.pad(label, to: labelWidth, alignRight: true), axisStyle),
                        Span(r == 0 || r == rows - 1 ? "┤" : "│", axisStyle),
                        Span(String(grid[r]), lineStyle)])
        }
        let last = String(values.count - 1)
        let usedWidth = bars && barWidth >= 1 ? min(plotWidth, values.count * min(barWidth, 6)) : plotWidth
        var axis = String(repeating: " ", count: labelWidth) + "└" + String(repeating: "─", count: usedWidth)
        out.append([Span(axis, axisStyle)])
        axis = String(repeating: " ", count: labelWidth + 1) + "0"
        let lastColumn = labelWidth + 1 + usedWidth - last.count
        if values.count > 1 && lastColumn > axis.count {
            axis += String(repeating: " ", count: lastColumn - axis.count) + last
        }
        out.append([Span(axis, axisStyle)])
        return out
    }
}

/// A matrix as shaded blocks, two columns per entry, from the smallest value (light) to the
/// largest (dark), with a legend.
public struct Heatmap: Widget {
    public var matrix: [[Double]]
    public var style: Style
    public var legendStyle = Style(dim: true)

    public init(matrix: [[Double]], style: Style = Style(fg: .yellow)) {
        self.matrix = matrix
        self.style = style
    }

    public func lines(width: Int) -> [Line] {
        guard let scale = ChartScale(spanning: matrix.flatMap { $0 }) else { return [[Span("(no finite values)", legendStyle)]] }
        let columns = matrix.first?.count ?? 0
        let rowLabelWidth = String(max(0, matrix.count - 1)).count
        let fit = max(1, (width - rowLabelWidth - 1) / 2)
        var out: [Line] = []
        for (i, row) in matrix.enumerated() {
            var text = ""
            for v in row.prefix(fit) {
                let level = v.isFinite ? Int((scale.position(v) * 4).rounded()) : -1
                let ch: Character = level < 0 ? "?" : BlockGlyphs.shades[level]
                text.append(ch); text.append(ch)
            }
            var line: Line = [Span(TextWidth.pad(String(i), to: rowLabelWidth, alignRight: true) + " ", legendStyle),
                              Span(text, style)]
            if columns > fit { line.append(Span("…", legendStyle)) }
            out.append(line)
        }
        let legend = "·=\(scale.floorLabel) ░ ▒ ▓ █=\(scale.topLabel)  (\(matrix.count)×\(columns))"
        out.append([Span(TextWidth.truncate(legend, to: width), legendStyle)])
        return out
    }
}

// MARK: - Progress, status, help

/// A horizontal bar with eighth-block precision and an optional label after it.
public struct ProgressBar: Widget {
    public var fraction: Double
    public var label: String
    public var filled: Style
    public var empty: Style

    public init(fraction: Double, label: String = "", filled: Style = Style(fg: .green), empty: Style = Style(dim: true)) {
        self.fraction = fraction.isFinite ? min(1, max(0, fraction)) : 0
        self.label = label
        self.filled = filled
        self.empty = empty
    }

    public func bar(width: Int) -> Line {
        guard width > 0 else { return [] }
        let (text, rest) = BlockGlyphs.bar(fraction: fraction, width: width)
        return [Span(text, filled), Span(String(repeating: "░", count: rest), empty)]
    }

    public func lines(width: Int) -> [Line] {
        let labelText = label.isEmpty ? "" : " " + label
        let barWidth = max(1, width - TextWidth.of(labelText))
        return [bar(width: barWidth) + (labelText.isEmpty ? [] : [Span(labelText)])]
    }
}

/// A one-row bar: text on the left, text on the right, the rest filled with its style.
public struct StatusBar {
    public var left: Line
    public var right: Line
    public var style: Style

    public init(left: Line, right: Line = [], style: Style = Style(reverse: true)) {
        self.left = left
        self.right = right
        self.style = style
    }

    public func draw(into buffer: inout ScreenBuffer, row: Int, x: Int = 0, width: Int? = nil) {
        let w = width ?? buffer.width
        let rect = Rect(x: x, y: row, width: w, height: 1)
        buffer.fill(rect, style: style)
        let rightWidth = right.width
        let leftRoom = right.isEmpty || rightWidth + 2 > w ? w : w - rightWidth - 1
        let clipLeft = Rect(x: x, y: row, width: leftRoom, height: 1)
        buffer.put(left.map { Span($0.text, merged($0.style)) }, x: x, y: row, clip: clipLeft)
        if !right.isEmpty && rightWidth + 2 <= w {
            buffer.put(right.map { Span($0.text, merged($0.style)) }, x: x + w - rightWidth, y: row, clip: rect)
        }
    }

    private func merged(_ s: Style) -> Style {
        var m = style
        if let fg = s.fg { m.fg = fg }
        if let bg = s.bg { m.bg = bg }
        m.bold = m.bold || s.bold
        m.dim = m.dim || s.dim
        m.underline = m.underline || s.underline
        m.reverse = m.reverse != s.reverse
        return m
    }
}

/// A centred box listing keys and what they do.
public struct HelpOverlay {
    public var title: String
    public var entries: [(keys: String, action: String)]

    public init(title: String = "Keys", entries: [(keys: String, action: String)]) {
        self.title = title
        self.entries = entries
    }

    public func draw(into buffer: inout ScreenBuffer, area: Rect, style: Style = .plain, keyStyle: Style = Style(fg: .yellow, bold: true)) {
        let keyWidth = min(26, entries.map { TextWidth.of($0.keys) }.max() ?? 0)
        let actionWidth = entries.map { TextWidth.of($0.action) }.max() ?? 0
        let w = min(area.width, max(keyWidth + actionWidth + 7, TextWidth.of(title) + 8))
        let h = min(area.height, entries.count + 2)
        guard w >= 10, h >= 3 else { return }
        let rect = Rect(x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h)
        buffer.fill(rect, style: style)
        buffer.box(rect, style: style, title: title)
        let inner = rect.inset(left: 2, top: 1, right: 2, bottom: 1)
        for (i, entry) in entries.enumerated() where i < inner.height {
            let y = inner.y + i
            let x = buffer.put(TextWidth.pad(entry.keys, to: keyWidth), x: inner.x, y: y, style: keyStyle, clip: inner)
            buffer.put("  " + entry.action, x: x, y: y, style: style, clip: inner)
        }
        if entries.count > inner.height, inner.height > 0 {
            buffer.put("…", x: inner.maxX - 1, y: inner.maxY - 1, style: style, clip: inner)
        }
    }
}

// MARK: - Line editor

/// The state of a one-line text editor: the text and a cursor between characters.
public struct LineEditor: Sendable, Equatable {
    public private(set) var characters: [Character]
    public private(set) var cursor: Int

    /// Opens prefilled with `text`, cursor at the end.
    public init(_ text: String = "") {
        characters = Array(text)
        cursor = characters.count
    }

    public var text: String { String(characters) }

    public mutating func insert(_ c: Character) {
        characters.insert(c, at: cursor)
        cursor += 1
    }

    public mutating func insert(_ s: String) { for c in s { insert(c) } }

    public mutating func backspace() {
        guard cursor > 0 else { return }
        characters.remove(at: cursor - 1)
        cursor -= 1
    }

    public mutating func deleteForward() {
        guard cursor < characters.count else { return }
        characters.remove(at: cursor)
    }

    public mutating func left() { cursor = max(0, cursor - 1) }
    public mutating func right() { cursor = min(characters.count, cursor + 1) }
    public mutating func home() { cursor = 0 }
    public mutating func end() { cursor = characters.count }

    /// Ctrl-U: clears the text.
    public mutating func clear() {
        characters = []
        cursor = 0
    }

    /// Ctrl-W: deletes the word before the cursor.
    public mutating func deleteWord() {
        var i = cursor
        while i > 0 && characters[i - 1] == " " { i -= 1 }
        while i > 0 && characters[i - 1] != " " { i -= 1 }
        characters.removeSubrange(i..<cursor)
        cursor = i
    }

    /// Applies an editing key, as every text field in the notebook does (the parameter editor,
    /// the answer editor, the search): returns `false` for a key it does not edit with, which
    /// the caller then handles (Enter, Esc). The bindings are ``KeyBindings/textInput``.
    public mutating func handle(_ key: Key) -> Bool {
        switch key {
        case .backspace: backspace()
        case .delete, .ctrl("d"): deleteForward()
        case .left, .ctrl("b"): left()
        case .right, .ctrl("f"): right()
        case .home, .ctrl("a"): home()
        case .end, .ctrl("e"): end()
        case .ctrl("u"): clear()
        case .ctrl("w"): deleteWord()
        case .char(let c): insert(c)
        default: return false
        }
        return true
    }

    /// The visible part of the text in `width` columns, scrolled to keep the cursor in view,
    /// with the cursor cell reversed.
    public func line(width: Int, style: Style = .plain, cursorStyle: Style = Style(reverse: true)) -> Line {
        guard width > 1 else { return [] }
        let safe: [Character] = characters.map {
            let shown = Sanitize.visible(String($0))
            return shown.count == 1 ? Character(shown) : "\u{FFFD}"
        }
        // Start so that the cursor (plus one cell for it) fits.
        var start = 0
        var used = safe[..<cursor].reduce(0) { $0 + TextWidth.of($1) } + 1
        while used > width && start < cursor {
            used -= TextWidth.of(safe[start])
            start += 1
        }
        var line: Line = []
        var before = String(safe[start..<cursor])
        if start > 0 { before = "…" + String(before.dropFirst()) }
        line.append(Span(before, style))
        let atCursor = cursor < safe.count ? String(safe[cursor]) : " "
        line.append(Span(atCursor, cursorStyle))
        var room = width - used - (cursor < safe.count ? TextWidth.of(safe[cursor]) - 1 : 0)
        var after = ""
        var k = cursor + 1
        while k < safe.count {
            let w = TextWidth.of(safe[k])
            if w > room { break }
            after.append(safe[k]); room -= w; k += 1
        }
        if k < safe.count, !after.isEmpty { after = String(after.dropLast()) + "…" }
        line.append(Span(after, style))
        return line
    }
}
