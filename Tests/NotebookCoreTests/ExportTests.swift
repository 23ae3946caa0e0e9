import NotebookCore
import TestSupport
import XCTest

/// LaTeX to MathML: the same parser as the terminal rendering, a second output.
final class MathMLTests: XCTestCase {
    func mathML(_ latex: String, display: Bool = false) throws -> String {
        try XCTUnwrap(MathText.mathML(latex, display: display), latex)
    }

    func testFractionsScriptsAndLargeOperators() throws {
        XCTAssertTrue(try mathML("\\frac{a}{b}").contains("<mfrac><mrow><mi>a</mi></mrow><mrow><mi>b</mi></mrow></mfrac>"))
        let sum = try mathML("\\sum_{j=1}^{n} e^{x_j}", display: true)
        XCTAssertTrue(sum.hasPrefix("<math display=\"block\">"))
        XCTAssertTrue(sum.contains("<munderover><mo largeop=\"true\" movablelimits=\"true\">∑</mo><mrow><mi>j</mi><mo>=</mo><mn>1</mn></mrow><mrow><mi>n</mi></mrow></munderover>"), sum)
        XCTAssertTrue(sum.contains("<msup><mi>e</mi><mrow><msub><mi>x</mi><mrow><mi>j</mi></mrow></msub></mrow></msup>"), sum)
        // A script after a group belongs to the whole group.
        XCTAssertTrue(try mathML("{a+b}^2").contains("<msup><mrow><mi>a</mi><mo>+</mo><mi>b</mi></mrow><mrow><mn>2</mn></mrow></msup>"))
        XCTAssertTrue(try mathML("\\max_{a} q").contains("<munder><mo movablelimits=\"true\" form=\"prefix\">max</mo>"))
        XCTAssertTrue(try mathML("\\sqrt[3]{x}").contains("<mroot><mrow><mi>x</mi></mrow><mrow><mn>3</mn></mrow></mroot>"))
    }

    func testFontsAccentsTextAndEscapes() throws {
        XCTAssertTrue(try mathML("x \\in \\mathbb{R}").contains("<mi>ℝ</mi>"))
        XCTAssertTrue(try mathML("\\mathrm{d}x").contains("<mi mathvariant=\"normal\">d</mi>"))
        XCTAssertTrue(try mathML("\\hat{y}").contains("<mover accent=\"true\"><mrow><mi>y</mi></mrow><mo>^</mo></mover>"))
        let text = try mathML("\\text{if } x<0 \\,\\&")
        XCTAssertTrue(text.contains("<mtext>if </mtext>"), text)
        XCTAssertTrue(text.contains("<mo>&lt;</mo>"), text)
        XCTAssertTrue(text.contains("<annotation encoding=\"application/x-tex\">\\text{if } x&lt;0 \\,\\&amp;</annotation>"), text)
        XCTAssertFalse(text.contains("<0"))
    }

    func testWhatTheTerminalCannotRenderHasNoMathMLEither() {
        XCTAssertNil(MathText.mathML("\\begin{pmatrix} a \\end{pmatrix}", display: true))
        XCTAssertNil(MathText.mathML("\\frac{a}", display: false))
        XCTAssertNil(MathText.mathML("\\unknowncommand x", display: false))
    }
}

final class InlineSpanTests: XCTestCase {
    func testSpansNestAndPlainTextMatchesInline() {
        let text = "a **b *c* d** `d*e` [f](https://x.org) 2 * 3"
        XCTAssertEqual(PlainMarkdown.spans(text), [
            .text("a "), .strong([.text("b "), .emphasis([.text("c")]), .text(" d")]), .text(" "), .code("d*e"), .text(" "),
            .link(text: "f", url: "https://x.org"), .text(" 2 * 3"),
        ])
        XCTAssertEqual(PlainMarkdown.inline(text), "a b c d d*e f 2 * 3")
    }
}

final class HTMLExportTests: XCTestCase {
    func render(_ body: String, title: String = "Demo") throws -> String {
        var text = lessonText(body)
        text = text.replacingOccurrences(of: "title: Demo", with: "title: \(title)")
        var notebook = Notebook(lesson: try loadLesson(text), registry: testRegistry)
        notebook.runAll()
        return HTMLRenderer().render(notebook)
    }

    func testLessonTextNeverBecomesMarkup() throws {
        let html = try render("""
            # Head <script>alert(1)</script>

            Prose <img src=x onerror=alert(2)> "q" 'r' \u{1B}7 [go](javascript:alert(3)) `<b>`, $a < b$.

            ```question id=q cell=c answer=first hint="</section><script>z()</script>"
            Which "<script>y()</script>"?
            ```

            ```cell id=c compute=test.scale title="</svg><script>x()</script>"
            x = [1, 2]
            ```
            """, title: "\"<script>t()</script>\"")
        XCTAssertFalse(html.lowercased().contains("<script"), "a script tag reached the page")
        XCTAssertFalse(html.contains("<img"))
        XCTAssertFalse(html.contains("javascript:"))
        XCTAssertFalse(html.contains("\u{1B}"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertTrue(html.contains("&lt;/svg&gt;&lt;script&gt;x()&lt;/script&gt;"))
        XCTAssertTrue(html.contains("&lt;/section&gt;&lt;script&gt;z()&lt;/script&gt;"))
        XCTAssertTrue(html.contains("&quot;q&quot; &#39;r&#39; \\e7 go"), "quotes escaped, the escape character shown, the link kept as text")
        XCTAssertTrue(html.contains("<mo>&lt;</mo>"), "math keeps the comparison as an operator")
        XCTAssertTrue(html.contains("Content-Security-Policy\" content=\"default-src 'none'"))
    }

    func testValuesInProseAreMarkedAndFilledPlainlyInsideMath() throws {
        let html = try render("""
            Total {{a.total}} and $t = {{a.total}}$.

            ```cell id=a compute=test.add
            a = [1, 2]
            b = [3, 4]
            ```
            """)
        XCTAssertTrue(html.contains("Total <span class=\"live\" data-ref=\"a.total\">10</span>"), html)
        XCTAssertTrue(html.contains("<mi>t</mi><mo>=</mo><mn>10</mn>"), "the value is part of the formula")
        XCTAssertTrue(html.contains("<td class=\"value\" data-output=\"total\" data-kind=\"number\"><span class=\"n\">10</span></td>"))
        XCTAssertTrue(html.contains("<table class=\"matrix\"><tr><td><span class=\"n\">1</span></td><td><span class=\"n\">2</span></td></tr>"))
    }

    func testChartsAndLongVectors() throws {
        let html = try render("""
            ```cell id=c compute=test.scale
            x = [\((1...100).map(String.init).joined(separator: ", "))]
            k = 1
            ```
            """)
        let outputs = try XCTUnwrap(html.components(separatedBy: "<table class=\"outputs\">").last)
        XCTAssertEqual(outputs.components(separatedBy: "<span class=\"n\">").count - 1, 64 + 1, "64 of y's values and `first`")
        XCTAssertTrue(html.contains("… <span class=\"count\">(100 values)</span>"))
        XCTAssertTrue(html.contains("<figure class=\"chart\"><svg"), "y has the chart hint")
    }

    func testListsTablesHeadingsAndCode() throws {
        let html = try render("""
            ## Part *one*

            - first
              continued
            - second
              1. inner

            | a | b |
            |---|---|
            | 1 | **2** |

            ```python
            x = "<y>"
            ```
            """)
        XCTAssertTrue(html.contains("<h2>Part <em>one</em></h2>"))
        XCTAssertTrue(html.contains("<ul><li>first\ncontinued</li><li>second<ol><li>inner</li></ol></li></ul>"), html)
        XCTAssertTrue(html.contains("<tr><th>a</th><th>b</th></tr><tr><td>1</td><td><strong>2</strong></td></tr>"))
        XCTAssertTrue(html.contains("<pre><code>x = &quot;&lt;y&gt;&quot;</code></pre>"))
    }
}

final class SVGChartTests: XCTestCase {
    /// The heights of the columns, read back from the SVG.
    func heights(_ svg: String) -> [Double] {
        svg.components(separatedBy: "<rect class=\"bar\"").dropFirst().compactMap { rect in
            rect.components(separatedBy: "height=\"").dropFirst().first.flatMap { Double($0.prefix { $0 != "\"" }) }
        }
    }

    func testColumnsOfNonNegativeDataRiseFromZeroAndAConstantDraws() throws {
        let equal = try XCTUnwrap(SVGChart.columns([0.5, 0.5], title: "p"))
        let half = heights(equal)
        XCTAssertEqual(half.count, 2)
        XCTAssertEqual(half[0], half[1])
        let scaled = heights(try XCTUnwrap(SVGChart.columns([0.25, 1], title: "p")))
        XCTAssertEqual(scaled[0] / scaled[1], 0.25, accuracy: 0.01, "heights compare honestly from 0")
        XCTAssertNil(SVGChart.columns([.nan, .infinity], title: "p"))
    }

    func testLargeHeatmapsAreBlockMeans() {
        let m = (0..<100).map { r in (0..<100).map { c in Double(r * 100 + c) } }
        let small = SVGChart.blockMeans(m)
        XCTAssertEqual(small.count, 34)
        XCTAssertEqual(small[0].count, 34)
        // The first 3×3 block: rows 0–2, columns 0–2.
        XCTAssertEqual(small[0][0], (0 + 1 + 2 + 100 + 101 + 102 + 200 + 201 + 202) / 9)
        // The last block holds only row 99 and column 99.
        XCTAssertEqual(small[33][33], 9999)
        XCTAssertEqual(SVGChart.blockMeans([[1, 2]]), [[1, 2]])
    }
}

final class NotebookFileTests: XCTestCase {
    func testNotebookHasUniqueValidIDsAndDisplayData() throws {
        let text = lessonText("""
            Total {{a.total}}, $t = {{a.total}}$.

            ```cell id=a compute=test.add
            a = [1, 2]
            b = [3, 4]
            ```

            ```question id=a cell=c answer=first
            First?
            ```

            ```cell id=c compute=test.scale
            x = a.y
            ```
            """)
        var notebook = Notebook(lesson: try loadLesson(text), registry: testRegistry)
        notebook.runAll()
        let json = NotebookFileRenderer().render(notebook).serialized()
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["nbformat"] as? Int, 4)
        XCTAssertEqual(object["nbformat_minor"] as? Int, 5)
        let cells = try XCTUnwrap(object["cells"] as? [[String: Any]])
        let ids = cells.compactMap { $0["id"] as? String }
        XCTAssertEqual(ids.count, cells.count)
        XCTAssertEqual(Set(ids).count, ids.count, "ids are unique even where a question and a cell share one")
        XCTAssertTrue(ids.allSatisfy { $0.range(of: "^[a-zA-Z0-9_-]{1,64}$", options: .regularExpression) != nil })
        XCTAssertEqual(cells.first?["source"] as? String, "Total **10**, $t = 10$.")
        let code = cells.filter { $0["cell_type"] as? String == "code" }
        XCTAssertEqual(code.count, 2)
        let outputs = try XCTUnwrap(code[1]["outputs"] as? [[String: Any]])
        XCTAssertEqual(outputs.map { $0["output_type"] as? String }, ["display_data", "display_data"], "the table, then y's chart")
        let chart = try XCTUnwrap(outputs[1]["data"] as? [String: Any])
        XCTAssertTrue((chart["image/svg+xml"] as? String)?.hasPrefix("<svg") == true)
    }
}
