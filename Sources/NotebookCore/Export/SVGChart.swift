/// Charts as inline SVG for exported pages: the same scales as the terminal's charts
/// (``ChartScale``), drawn with axes, labels and a title a screen reader can read.
public enum SVGChart {
    static let width = 560.0, height = 180.0
    /// Room for the axis labels: left, right, top, bottom.
    static let margin = (left: 58.0, right: 12.0, top: 12.0, bottom: 26.0)

    /// The chart an output is drawn as, if its hint asks for one: columns for a vector,
    /// a heatmap for a matrix.
    public static func chart(for value: Value, hint: DisplayHint?, name: String) -> String? {
        switch (value, hint) {
        case (.vector(let xs), .chart?) where xs.count > 1: columns(xs, title: "Chart of \(name)")
        case (.matrix(let m), .heatmap?), (.matrix(let m), .chart?): heatmap(m, title: "Heatmap of \(name)")
        default: nil
        }
    }

    /// The charts of a cell's outputs, in the module's output order, named by output.
    public static func charts(of cell: CellSpec, in notebook: Notebook) -> [(output: String, svg: String)] {
        guard let outputs = notebook.result(cell.id).outputs else { return [] }
        return (notebook.registry.module(named: cell.compute)?.outputs ?? []).compactMap { spec in
            outputs[spec.name].flatMap { chart(for: $0, hint: spec.hint, name: spec.name) }.map { (spec.name, $0) }
        }
    }

    /// A column chart of `values` (a line once there are too many for columns), or nil when
    /// none is finite. Non-finite values leave a gap.
    public static func columns(_ values: [Double], title: String) -> String? {
        guard let scale = ChartScale(values) else { return nil }
        let plotW = width - margin.left - margin.right, plotH = height - margin.top - margin.bottom
        func y(_ v: Double) -> Double { margin.top + plotH * (1 - scale.position(v)) }
        var body = ""
        let n = Double(values.count)
        if values.count <= 80 {
            let slot = plotW / n
            let barW = max(1, slot * (values.count > 40 ? 0.8 : 0.7))
            let base = y(scale.isBars ? 0 : scale.floor)
            for (k, v) in values.enumerated() where v.isFinite {
                let top = min(y(v), base), h = max(abs(base - y(v)), v == scale.floor && !scale.isBars ? 0 : 0.5)
                let x = margin.left + slot * Double(k) + (slot - barW) / 2
                body += "<rect class=\"bar\" x=\"\(f(x))\" y=\"\(f(top))\" width=\"\(f(barW))\" height=\"\(f(h))\">"
                    + "<title>[\(k)] \(HTMLText.escape(NumberText.shortest(v)))</title></rect>"
            }
        } else {
            let step = plotW / max(1, n - 1)
            var path = ""
            var pen = false
            // A long series draws each bucket's minimum and maximum: its envelope, in at most
            // about two thousand points.
            let bucket = max(1, values.count / maxLinePoints)
            for start in stride(from: 0, to: values.count, by: bucket) {
                let slice = values[start..<min(values.count, start + bucket)]
                let finite = slice.filter(\.isFinite)
                guard let low = finite.min(), let high = finite.max() else { pen = false; continue }
                let x = f(margin.left + step * Double(start))
                path += (pen ? "L" : "M") + x + "," + f(y(low))
                if high != low { path += "L" + x + "," + f(y(high)) }
                pen = true
            }
            body += "<path class=\"line\" d=\"\(path)\"/>"
        }
        let axes = axisFrame(top: scale.topLabel, floor: scale.floorLabel, first: "0", last: String(values.count - 1),
                             zeroAt: scale.floor < 0 && scale.top > 0 ? y(0) : nil)
        return svg(title: title, body: axes + body)
    }

    /// A heatmap of a matrix: one shaded square per entry, the shade scale's ends labelled.
    public static func heatmap(_ matrix: [[Double]], title: String) -> String? {
        let rows = blockMeans(matrix)
        let shrunk = rows.count != matrix.count || rows.first?.count != matrix.first?.count
        let title = shrunk ? title + " (\(matrix.count)×\(matrix.first?.count ?? 0), as \(rows.count)×\(rows.first?.count ?? 0) block means)" : title
        guard let scale = ChartScale(spanning: rows.flatMap { $0 }), let columns = rows.first?.count, columns > 0 else { return nil }
        let plotW = width - margin.left - margin.right - 60, plotH = height - margin.top - margin.bottom
        let cell = min(plotW / Double(columns), plotH / Double(rows.count))
        var body = ""
        if rows.count * columns > 256 {
            // Hundreds of squares: one path per shade (of 32) keeps the page small.
            var paths = [String](repeating: "", count: 33)
            for (r, row) in rows.enumerated() {
                for (c, v) in row.enumerated() {
                    let level = v.isFinite ? 1 + Int((scale.position(v) * 31).rounded()) : 0
                    paths[level] += "M\(f(margin.left + cell * Double(c))),\(f(margin.top + cell * Double(r)))h\(f(cell))v\(f(cell))h-\(f(cell))z"
                }
            }
            for (level, path) in paths.enumerated() where !path.isEmpty {
                let shade = level == 0 ? "class=\"gap\"" : "class=\"cell\" fill-opacity=\"\(f(0.08 + 0.92 * Double(level - 1) / 31))\""
                body += "<path \(shade) d=\"\(path)\"/>"
            }
        } else {
            for (r, row) in rows.enumerated() {
                for (c, v) in row.enumerated() {
                    let x = margin.left + cell * Double(c), y = margin.top + cell * Double(r)
                    let shade = v.isFinite ? "fill-opacity=\"\(f(0.08 + 0.92 * scale.position(v)))\"" : "class=\"gap\""
                    body += "<rect class=\"cell\" x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cell))\" height=\"\(f(cell))\" \(shade)>"
                        + "<title>[\(r)][\(c)] \(HTMLText.escape(NumberText.shortest(v)))</title></rect>"
                }
            }
        }
        let legendX = margin.left + cell * Double(columns) + 16
        body += "<defs><linearGradient id=\"shade\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
            + "<stop offset=\"0\" class=\"stop\" stop-opacity=\"0.08\"/><stop offset=\"1\" class=\"stop\" stop-opacity=\"1\"/></linearGradient></defs>"
            + "<rect x=\"\(f(legendX))\" y=\"\(f(margin.top))\" width=\"12\" height=\"\(f(plotH))\" fill=\"url(#shade)\"/>"
            + label(x: legendX + 16, y: margin.top + 10, scale.topLabel, anchor: "start")
            + label(x: legendX + 16, y: margin.top + plotH, scale.floorLabel, anchor: "start")
            + label(x: margin.left - 6, y: margin.top + cell / 2 + 4, "0", anchor: "end")
            + label(x: margin.left - 6, y: margin.top + cell * (Double(rows.count) - 0.5) + 4, String(matrix.count - 1), anchor: "end")
        return svg(title: title, body: body)
    }

    /// Points a line chart draws at most, and squares a heatmap has at most along a side.
    static let maxLinePoints = 1000, maxHeatmapSide = 48

    /// A matrix larger than ``maxHeatmapSide`` either way, shrunk by averaging square blocks of
    /// its finite entries (a block with none stays NaN, and draws as a gap).
    public static func blockMeans(_ m: [[Double]]) -> [[Double]] {
        let columns = m.first?.count ?? 0
        let k = (max(m.count, columns) + maxHeatmapSide - 1) / maxHeatmapSide
        guard k > 1 else { return m }
        return stride(from: 0, to: m.count, by: k).map { r in
            stride(from: 0, to: columns, by: k).map { c in
                var sum = 0.0, count = 0.0
                for row in m[r..<min(m.count, r + k)] {
                    for v in row[c..<min(columns, c + k)] where v.isFinite { sum += v; count += 1 }
                }
                return count > 0 ? sum / count : .nan
            }
        }
    }

    private static func axisFrame(top: String, floor: String, first: String, last: String, zeroAt: Double?) -> String {
        let x0 = margin.left, x1 = width - margin.right, y0 = margin.top, y1 = height - margin.bottom
        var out = "<path class=\"axis\" d=\"M\(f(x0)),\(f(y0))V\(f(y1))H\(f(x1))\"/>"
        if let zeroAt { out += "<path class=\"zero\" d=\"M\(f(x0)),\(f(zeroAt))H\(f(x1))\"/>" }
        out += label(x: x0 - 6, y: y0 + 10, top, anchor: "end")
        out += label(x: x0 - 6, y: y1, floor, anchor: "end")
        if let zeroAt, top != "0", floor != "0" { out += label(x: x0 - 6, y: zeroAt + 4, "0", anchor: "end") }
        out += label(x: x0, y: y1 + 18, first, anchor: "start")
        out += label(x: x1, y: y1 + 18, last, anchor: "end")
        return out
    }

    private static func label(x: Double, y: Double, _ text: String, anchor: String) -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\">\(HTMLText.escape(text))</text>"
    }

    private static func svg(title: String, body: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\">"
            + "<title>\(HTMLText.escape(title))</title><style>\(style)</style>" + body + "</svg>"
    }

    /// Colours that read on a light and a dark page alike, inside the SVG so that a chart
    /// written to its own file (or into a notebook) looks the same.
    private static let style = ".bar{fill:#4878b8}.line{fill:none;stroke:#4878b8;stroke-width:1.5}"
        + ".axis{fill:none;stroke:#888}.zero{stroke:#888;stroke-dasharray:3 3}.cell,.stop{fill:#c0392b;stop-color:#c0392b}"
        + ".gap{fill:none;stroke:#888}text{font:11px sans-serif;fill:#888}"

    /// Coordinates to two decimals: enough for a screen, short in the file.
    private static func f(_ x: Double) -> String {
        NumberText.format((x * 100).rounded() / 100, spec: ".2f")
    }
}
