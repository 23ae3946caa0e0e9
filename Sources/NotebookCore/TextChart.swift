/// Column charts drawn with Unicode block elements, for `chart` outputs in plain text.
public enum TextChart {
    private static let blocks: [Character] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// A column chart `height` rows tall, one column per value (each `width` characters wide),
    /// with the top and bottom of the axis labelled. Non-finite values leave a gap.
    public static func columns(_ values: [Double], height: Int = 6, width: Int = 2) -> [String] {
        let finite = values.filter(\.isFinite)
        guard let high = finite.max(), let low = finite.min(), height > 0 else { return [] }
        // Start the axis at 0 unless the values sit in a narrow band far from it (a learning
        // curve between 0.77 and 0.91 would otherwise look flat).
        let narrowBand = low > 0 && high - low < 0.5 * high
        let floor = narrowBand ? low - (high - low) * 0.25 : min(low, 0)
        let top = high > floor ? high : floor + 1
        let topLabel = NumberText.format(top, spec: ".4g"), bottomLabel = NumberText.format(floor, spec: ".4g")
        let labelWidth = max(topLabel.count, bottomLabel.count)
        var lines: [String] = []
        for row in (0..<height).reversed() {
            var line = ""
            for x in values {
                guard x.isFinite else { line += String(repeating: " ", count: width); continue }
                // Eighths of a row filled by this value at this row.
                let filled = (x - floor) / (top - floor) * Double(height * 8) - Double(row * 8)
                let eighths = Int(max(0, min(8, filled.rounded())))
                line += String(repeating: blocks[eighths], count: width)
            }
            let label = row == height - 1 ? topLabel : row == 0 ? bottomLabel : ""
            lines.append(String(repeating: " ", count: labelWidth - label.count) + label + " ┤" + line)
        }
        return lines
    }
}
