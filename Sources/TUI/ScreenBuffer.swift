import NotebookCore

/// The eight colours every colour terminal has. Widgets use only these, so an 8-colour
/// terminal shows everything; `nil` in a ``Style`` means the terminal's default.
public enum Color: Int, Sendable, Hashable, CaseIterable {
    case black, red, green, yellow, blue, magenta, cyan, white
}

/// How a cell is drawn.
public struct Style: Sendable, Hashable {
    public var fg: Color?
    public var bg: Color?
    public var bold: Bool
    public var reverse: Bool
    public var underline: Bool
    public var dim: Bool

    public init(fg: Color? = nil, bg: Color? = nil, bold: Bool = false, reverse: Bool = false,
                underline: Bool = false, dim: Bool = false) {
        self.fg = fg
        self.bg = bg
        self.bold = bold
        self.reverse = reverse
        self.underline = underline
        self.dim = dim
    }

    public static let plain = Style()

    public func with(fg: Color?) -> Style { var s = self; s.fg = fg; return s }
    public func with(bg: Color?) -> Style { var s = self; s.bg = bg; return s }
    public var bolded: Style { var s = self; s.bold = true; return s }
    public var reversed: Style { var s = self; s.reverse = true; return s }
    public var underlined: Style { var s = self; s.underline = true; return s }
    public var dimmed: Style { var s = self; s.dim = true; return s }
}

/// A rectangle of the screen, in columns and rows.
public struct Rect: Sendable, Hashable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }

    public func intersection(_ other: Rect) -> Rect {
        let x0 = max(x, other.x), y0 = max(y, other.y)
        let x1 = min(maxX, other.maxX), y1 = min(maxY, other.maxY)
        return Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    public func inset(left: Int = 0, top: Int = 0, right: Int = 0, bottom: Int = 0) -> Rect {
        Rect(x: x + left, y: y + top, width: width - left - right, height: height - top - bottom)
    }

    /// The first `rows` rows and the rest.
    public func splitTop(_ rows: Int) -> (Rect, Rect) {
        let r = min(max(0, rows), height)
        return (Rect(x: x, y: y, width: width, height: r), Rect(x: x, y: y + r, width: width, height: height - r))
    }

    /// The first `columns` columns and the rest.
    public func splitLeft(_ columns: Int) -> (Rect, Rect) {
        let c = min(max(0, columns), width)
        return (Rect(x: x, y: y, width: c, height: height), Rect(x: x + c, y: y, width: width - c, height: height))
    }
}

/// One screen cell: a grapheme, the columns it takes, and its style.
///
/// A wide grapheme (width 2) occupies its cell and the next one, which holds a continuation
/// cell (width 0, empty grapheme) with the same style.
public struct Cell: Sendable, Equatable {
    public var grapheme: Character
    public var width: UInt8
    public var style: Style

    public init(_ grapheme: Character, width: UInt8 = 1, style: Style = .plain) {
        self.grapheme = grapheme
        self.width = width
        self.style = style
    }

    public static let blank = Cell(" ")
    static func continuation(_ style: Style) -> Cell { Cell(" ", width: 0, style: style) }
    public var isContinuation: Bool { width == 0 }
}

/// A styled run of text.
public struct Span: Sendable, Equatable {
    public var text: String
    public var style: Style

    public init(_ text: String, _ style: Style = .plain) {
        self.text = text
        self.style = style
    }

    public var width: Int { TextWidth.of(text) }
}

/// A line of styled text.
public typealias Line = [Span]

extension Array where Element == Span {
    /// Columns the line takes.
    public var width: Int { reduce(0) { $0 + $1.width } }
    /// The line's text without styles.
    public var plainText: String { map(\.text).joined() }
}

/// A grid of cells that widgets draw into and the backend shows.
///
/// Writing clips at the edges of the given rectangle and never splits a wide character: one
/// that would straddle the edge is replaced by a space.
public struct ScreenBuffer: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int, fill: Cell = .blank) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: fill, count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get {
            guard x >= 0, y >= 0, x < width, y < height else { return .blank }
            return cells[y * width + x]
        }
    }

    /// Sets one cell, repairing any wide character it cuts in half.
    mutating func setCell(_ x: Int, _ y: Int, _ cell: Cell) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = y * width + x
        let old = cells[i]
        if old.isContinuation, x > 0 {
            cells[i - 1] = Cell(" ", style: cells[i - 1].style)
        }
        if old.width == 2, x + 1 < width, cell.width != 2 {
            cells[i + 1] = Cell(" ", style: cells[i + 1].style)
        }
        cells[i] = cell
    }

    /// Fills a rectangle with blanks of a style.
    public mutating func fill(_ rect: Rect, style: Style = .plain, character: Character = " ") {
        let r = rect.intersection(bounds)
        guard !r.isEmpty else { return }
        for y in r.y..<r.maxY {
            for x in r.x..<r.maxX { setCell(x, y, Cell(character, style: style)) }
        }
    }

    /// Writes text at (x, y), clipped to `clip` (the whole buffer by default), and returns the
    /// column after the last cell written. Text is sanitised first.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style = .plain, clip: Rect? = nil) -> Int {
        let c = (clip ?? bounds).intersection(bounds)
        guard y >= c.y, y < c.maxY else { return x + TextWidth.of(text) }
        var col = x
        for character in Sanitize.visible(text) {
            let w = TextWidth.of(character)
            if w == 0 { continue }
            if col >= c.maxX { break }
            if col < c.x {
                // A wide character half outside the left edge leaves a space at the edge.
                if w == 2 && col + 1 == c.x { setCell(c.x, y, Cell(" ", style: style)) }
                col += w
                continue
            }
            if w == 2 {
                if col + 1 >= c.maxX {
                    setCell(col, y, Cell(" ", style: style))
                    col += 2
                    break
                }
                setCell(col, y, Cell(character, width: 2, style: style))
                setCell(col + 1, y, .continuation(style))
            } else {
                setCell(col, y, Cell(character, style: style))
            }
            col += w
        }
        return col
    }

    /// Writes styled spans one after another on a row.
    @discardableResult
    public mutating func put(_ line: Line, x: Int, y: Int, clip: Rect? = nil) -> Int {
        var col = x
        for span in line { col = put(span.text, x: col, y: y, style: span.style, clip: clip) }
        return col
    }

    /// Applies a change to the style of every cell in a rectangle (for highlights).
    public mutating func restyle(_ rect: Rect, _ change: (inout Style) -> Void) {
        let r = rect.intersection(bounds)
        guard !r.isEmpty else { return }
        for y in r.y..<r.maxY {
            for x in r.x..<r.maxX { change(&cells[y * width + x].style) }
        }
    }

    /// The text of a row, wide characters once, trailing spaces kept.
    public func rowText(_ y: Int) -> String {
        guard y >= 0, y < height else { return "" }
        var s = ""
        for x in 0..<width {
            let cell = cells[y * width + x]
            if !cell.isContinuation { s.append(cell.grapheme) }
        }
        return s
    }

    /// Every row with trailing spaces removed, joined by newlines (for tests and snapshots).
    public var text: String {
        (0..<height).map { rowText($0).trimmingTrailingSpace }.joined(separator: "\n")
    }

    /// The positions whose cells differ from `previous` (all of them when sizes differ).
    public func changedCells(since previous: ScreenBuffer?) -> [(x: Int, y: Int)] {
        guard let previous, previous.width == width, previous.height == height else {
            return (0..<height).flatMap { y in (0..<width).map { (x: $0, y: y) } }
        }
        var changed: [(x: Int, y: Int)] = []
        for i in 0..<cells.count where cells[i] != previous.cells[i] {
            changed.append((x: i % width, y: i / width))
        }
        return changed
    }
}
