/// The glyphs every chart and bar in derive draws with, in one table (as ratatui's
/// `symbols::bar::NINE_LEVELS`): eighths of a cell, filled from the bottom or from the left.
public enum BlockGlyphs {
    /// Index n is n eighths filled from the bottom.
    public static let vertical: [Character] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    /// Index n is n eighths filled from the left.
    public static let horizontal: [Character] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"]
    /// Shades of a heatmap, lightest first.
    public static let shades: [Character] = ["·", "░", "▒", "▓", "█"]

    /// A horizontal bar `width` cells wide filled to `fraction` (clamped to [0, 1]): the filled
    /// part (whole cells and one partial cell) and how many empty cells follow it.
    public static func bar(fraction: Double, width: Int) -> (filled: String, empty: Int) {
        guard width > 0 else { return ("", 0) }
        let f = fraction.isFinite ? min(1, max(0, fraction)) : 0
        let eighths = Int((f * Double(width * 8)).rounded(.down))
        var filled = String(repeating: "█", count: eighths / 8)
        var empty = width - eighths / 8
        if eighths % 8 > 0 && empty > 0 {
            filled.append(horizontal[eighths % 8])
            empty -= 1
        }
        return (filled, empty)
    }
}

/// The vertical scale of a chart of some values: where its axis starts and ends, the labels
/// at both ends, and how much of each row a value fills. The notebook's chart widget and the
/// text output's column chart both draw from it, so they agree.
///
/// Non-negative data is drawn as bars from 0, so heights compare honestly (a probability of
/// 0.5 is half of one of 1.0, whatever the others are). Data with negative values spans from
/// its minimum to its maximum, or to 0 when all are negative. A constant vector still draws.
public struct ChartScale: Sendable, Equatable {
    /// The value at the bottom of the axis.
    public let floor: Double
    /// The value at the top of the axis (greater than `floor`).
    public let top: Double
    /// Whether every value is ≥ 0, so columns rise from 0.
    public let isBars: Bool

    /// The scale for `values` as a chart, or nil when none is finite.
    public init?(_ values: [Double]) {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return nil }
        self.init(floor: low >= 0 ? 0 : low, top: high < 0 ? 0 : high, isBars: low >= 0)
    }

    /// A scale from the smallest to the largest finite value (a heatmap's shades), or nil.
    public init?(spanning values: [Double]) {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return nil }
        self.init(floor: low, top: high, isBars: false)
    }

    private init(floor: Double, top: Double, isBars: Bool) {
        self.floor = floor
        self.isBars = isBars
        var top = top
        if top <= floor { top = floor == 0 ? 1 : floor + abs(floor) }
        // Past 2^53 the widening above may change nothing: any larger value will do.
        if top <= floor { top = floor.nextUp }
        self.top = top
    }

    /// Where `v` sits from the floor (0) to the top (1), clamped; 0 for a non-finite value.
    /// Always finite, even when `top − floor` overflows (±1e308).
    public func position(_ v: Double) -> Double {
        guard v.isFinite else { return 0 }
        let span = top - floor
        // Halving first keeps the span finite; it loses nothing a chart could show.
        let t = span.isFinite ? (v - floor) / span : (v / 2 - floor / 2) / (top / 2 - floor / 2)
        return t.isFinite ? min(1, max(0, t)) : 0
    }

    /// Eighths (0–8) of row `row` (0 is the bottom row) that a column for `v` fills in a chart
    /// `height` rows tall.
    public func eighths(_ v: Double, row: Int, height: Int) -> Int {
        let level = Int((position(v) * Double(height * 8)).rounded())
        return min(8, max(0, level - row * 8))
    }

    public var topLabel: String { Self.label(top) }
    public var floorLabel: String { Self.label(floor) }

    /// A short axis label: four significant digits, scientific beyond 1e5 or below 1e-3.
    public static func label(_ x: Double) -> String {
        if x == 0 { return "0" }
        let a = abs(x)
        if a >= 1e5 || a < 1e-3 { return NumberText.format(x, spec: ".2e") }
        var s = NumberText.format(x, spec: ".4g")
        if s.contains(".") && !s.contains("e") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }
}

/// Column charts in plain text, for `chart` outputs in `derive run`.
public enum TextChart {
    /// A column chart `height` rows tall, one column per value (each `width` characters wide),
    /// with the top and bottom of the axis labelled. Non-finite values leave a gap.
    public static func columns(_ values: [Double], height: Int = 6, width: Int = 2) -> [String] {
        guard let scale = ChartScale(values), height > 0 else { return [] }
        let labelWidth = max(scale.topLabel.count, scale.floorLabel.count)
        var lines: [String] = []
        for row in (0..<height).reversed() {
            var line = ""
            for x in values {
                let glyph = x.isFinite ? BlockGlyphs.vertical[scale.eighths(x, row: row, height: height)] : " "
                line += String(repeating: glyph, count: width)
            }
            let label = row == height - 1 ? scale.topLabel : row == 0 ? scale.floorLabel : ""
            lines.append(String(repeating: " ", count: labelWidth - label.count) + label + " ┤" + line)
        }
        return lines
    }
}
