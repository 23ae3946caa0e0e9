import XCTest
@testable import TUI

final class TextWidthTests: XCTestCase {
    func testWidths() {
        XCTAssertEqual(TextWidth.of("abc"), 3)
        XCTAssertEqual(TextWidth.of("中文"), 4)
        XCTAssertEqual(TextWidth.of(Character("🚀")), 2)
        XCTAssertEqual(TextWidth.of(Character("e\u{301}")), 1, "a combining accent adds no width")
        XCTAssertEqual(TextWidth.of(Character("👩‍👩‍👧")), 2, "a ZWJ sequence is one wide glyph")
        XCTAssertEqual(TextWidth.of(Character("🇫🇷")), 2)
        XCTAssertEqual(TextWidth.of(Character("Ａ")), 2, "fullwidth forms")
        XCTAssertEqual(TextWidth.of(Character("가")), 2, "Hangul syllables")
        XCTAssertEqual(TextWidth.of(Character("❤\u{FE0F}")), 2, "emoji presentation selector")
        XCTAssertEqual(TextWidth.of(Character("❤")), 1, "text presentation by default")
        XCTAssertEqual(TextWidth.of("σ(x)·∑"), 6)
        XCTAssertEqual(TextWidth.of(Character("\u{200B}")), 0)
        XCTAssertEqual(TextWidth.of("，"), 2, "CJK punctuation is wide")
    }

    func testTruncateAndPad() {
        XCTAssertEqual(TextWidth.truncate("hello world", to: 8), "hello w…")
        XCTAssertEqual(TextWidth.truncate("中文字符", to: 5), "中文…")
        XCTAssertEqual(TextWidth.pad("中", to: 4), "中  ")
        XCTAssertEqual(TextWidth.pad("7", to: 3, alignRight: true), "  7")
    }

    /// The printable-ASCII shortcut gives what the character-by-character count and cut give,
    /// on strings that mix ASCII with what the shortcut must not take (CR LF, tabs, wide and
    /// combining characters, controls).
    func testTheASCIIShortcutAgreesWithCountingCharacters() {
        let pieces = ["a", "Z", " ", "~", "\r\n", "\t", "\u{7F}", "中", "e\u{301}", "🚀", "\u{1B}", "…"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let asciiOnly = Bool.random(using: &generator)
            let pool = asciiOnly ? Array(pieces.prefix(4)) : pieces
            let text = (0..<Int.random(in: 0...12, using: &generator)).map { _ in pool.randomElement(using: &generator)! }.joined()
            let counted = text.reduce(0) { $0 + TextWidth.of($1) }
            XCTAssertEqual(TextWidth.of(text), counted, text.debugDescription)
            let columns = Int.random(in: 1...14, using: &generator)
            let cut = TextWidth.truncate(text, to: columns)
            var slow = ""
            if counted <= columns { slow = text } else {
                var used = 0
                for character in text {
                    if used + TextWidth.of(character) > columns - 1 { break }
                    slow.append(character)
                    used += TextWidth.of(character)
                }
                slow += "…"
            }
            XCTAssertEqual(cut, slow, "\(text.debugDescription) to \(columns)")
        }
    }

    func testSanitizeShowsControlsEscaped() {
        XCTAssertEqual(Sanitize.visible("\u{1B}[31mred\u{1B}[0m"), "␛[31mred␛[0m")
        XCTAssertEqual(Sanitize.visible("bell\u{07}"), "bell␇")
        XCTAssertEqual(Sanitize.visible("a\tb"), "a    b")
        XCTAssertEqual(Sanitize.visible("x\u{9B}y"), "x⟨U+009B⟩y")
        XCTAssertEqual(Sanitize.visible("abc\u{202E}"), "abc⟨U+202E⟩")
        XCTAssertEqual(Sanitize.visible("plain 中文"), "plain 中文")
    }
}

final class ScreenBufferTests: XCTestCase {
    func testWideCharacterTakesTwoCells() {
        var b = ScreenBuffer(width: 6, height: 1)
        let end = b.put("a中b", x: 0, y: 0)
        XCTAssertEqual(end, 4)
        XCTAssertEqual(b[1, 0].width, 2)
        XCTAssertTrue(b[2, 0].isContinuation)
        XCTAssertEqual(b.rowText(0), "a中b  ")
    }

    func testWideCharacterNeverSplitAtTheEdge() {
        var b = ScreenBuffer(width: 5, height: 1)
        b.put("ab中文", x: 0, y: 0, clip: Rect(x: 0, y: 0, width: 5, height: 1))
        // 中 fits at columns 2-3; 文 would need columns 4-5 and becomes a space.
        XCTAssertEqual(b.rowText(0), "ab中 ")
        XCTAssertFalse(b.cells.contains { $0.grapheme == "文" })
    }

    func testClipRectangle() {
        var b = ScreenBuffer(width: 10, height: 3)
        b.put("hello world", x: 2, y: 1, clip: Rect(x: 3, y: 1, width: 4, height: 1))
        XCTAssertEqual(b.rowText(1), "   ello   ")
        b.put("outside", x: 0, y: 0, clip: Rect(x: 0, y: 1, width: 10, height: 1))
        XCTAssertEqual(b.rowText(0), String(repeating: " ", count: 10))
    }

    func testOverwritingHalfAWideCharacterRepairsIt() {
        var b = ScreenBuffer(width: 4, height: 1)
        b.put("中文", x: 0, y: 0)
        b.put("x", x: 1, y: 0)   // lands on the continuation of 中
        XCTAssertEqual(b.rowText(0), " x文")
        XCTAssertFalse(b.cells.contains { $0.isContinuation && $0.grapheme == "中" })
        b.put("y", x: 2, y: 0)   // lands on the lead cell of 文
        XCTAssertEqual(b.rowText(0), " xy ")
    }

    func testControlCharactersNeverReachCells() {
        var b = ScreenBuffer(width: 20, height: 1)
        b.put("\u{1B}[2J\u{07}", x: 0, y: 0)
        XCTAssertEqual(b.rowText(0).trimmingTrailingSpace, "␛[2J␇")
    }

    func testDiffFindsOnlyChangedCells() {
        var a = ScreenBuffer(width: 5, height: 2)
        a.put("hello", x: 0, y: 0)
        var b = a
        b.put("J", x: 0, y: 1)
        let changed = b.changedCells(since: a)
        XCTAssertEqual(changed.count, 1)
        XCTAssertEqual(changed.first?.x, 0)
        XCTAssertEqual(changed.first?.y, 1)
        XCTAssertEqual(b.changedCells(since: nil).count, 10)
        XCTAssertEqual(b.changedCells(since: ScreenBuffer(width: 4, height: 2)).count, 10)
    }
}

final class WrapTests: XCTestCase {
    func testWordWrap() {
        let lines = Wrap.wrap([Span("the quick brown fox jumps over the lazy dog")], width: 10)
        XCTAssertEqual(lines.map(\.plainText), ["the quick", "brown fox", "jumps over", "the lazy", "dog"])
    }

    func testStylesAreKept() {
        let lines = Wrap.wrap([Span("max is "), Span("5", Style(bold: true)), Span(" here")], width: 20)
        XCTAssertEqual(lines.count, 1)
        XCTAssertEqual(lines[0].first { $0.text == "5" }?.style.bold, true)
    }

    func testLongWordIsBroken() {
        let lines = Wrap.wrap([Span("abcdefghij")], width: 4)
        XCTAssertEqual(lines.map(\.plainText), ["abcd", "efgh", "ij"])
    }

    func testChineseWrapsBetweenCharactersWithinWidth() {
        let text = "对于我们的分数，最大值是五，分母是一点五。"
        let lines = Wrap.wrap([Span(text)], width: 9)
        for line in lines { XCTAssertLessThanOrEqual(line.width, 9, "\(line.plainText)") }
        // Four wide characters per 9-column line: nothing lost, nothing duplicated.
        XCTAssertEqual(lines.map(\.plainText).joined(), text)
        XCTAssertEqual(lines[0].plainText, "对于我们")
    }

    func testMixedLatinAndChinese() {
        let lines = Wrap.wrap([Span("softmax 函数把分数变成概率 probability")], width: 12)
        for line in lines { XCTAssertLessThanOrEqual(line.width, 12) }
        XCTAssertEqual(lines.map(\.plainText), ["softmax 函数", "把分数变成概", "率", "probability"])
    }

    func testHangingIndent() {
        let lines = Wrap.wrap([Span("one two three four")], width: 10, indent: 2, firstIndent: 0)
        XCTAssertEqual(lines.map(\.plainText), ["one two", "  three", "  four"])
    }

    func testEscapesAreShownNotSent() {
        let lines = Wrap.wrap([Span("a\u{1B}[31mb")], width: 20)
        XCTAssertEqual(lines.map(\.plainText), ["a␛[31mb"])
    }
}

final class WidgetTests: XCTestCase {
    func testTableAlignsDecimalPoints() {
        let t = Table(header: ["name", "value"], rows: [["a", "1.5"], ["bb", "-12.25"], ["c", "3"]])
        let text = t.lines(width: 40).map(\.plainText)
        XCTAssertEqual(text, ["name   value",
                              "a       1.5 ",
                              "bb    -12.25",
                              "c       3   "])
    }

    func testTableSplitsColumnsWhenNarrow() {
        let t = Table(header: ["i", "0", "1", "2", "3"], rows: [["v", "10", "20", "30", "40"]], gap: 1)
        let text = t.lines(width: 8).map(\.plainText)
        XCTAssertEqual(text, ["i  0  1", "v 10 20", "", "i  2  3", "v 30 40"])
        for line in text { XCTAssertLessThanOrEqual(TextWidth.of(line), 8) }
    }

    func testBitFieldColoursAndLabels() {
        let lines = BitField(bits: "0 01111 0000000000").lines(width: 40)
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines[0].plainText, "0 01111 0000000000")
        XCTAssertEqual(lines[1].plainText, "s exp   mantissa  ")
        let styles = lines[0].filter { $0.text != " " }.map(\.style)
        XCTAssertEqual(styles.count, 3)
        XCTAssertEqual(Set(styles.map(\.fg)).count, 3, "sign, exponent and mantissa have different colours")
        let mono = BitField(bits: "1 10001 1000000000", color: false).lines(width: 40)
        XCTAssertTrue(mono[0].allSatisfy { $0.style.fg == nil })
        XCTAssertNotEqual(mono[0][0].style, mono[0][2].style, "without colour the fields still differ")
    }

    func testBitFieldTooNarrowGoesOnePerLine() {
        let lines = BitField(bits: "0 10001111 11111111111111111111111").lines(width: 20)
        XCTAssertEqual(lines.map(\.plainText), ["sign 0", "exponent 10001111", "mantissa 11111111111111111111111"])
    }

    func testBrailleLineChartWithAxisLabels() {
        let values = [-1.0, 0, 1, 0, -1]
        let lines = Chart(values: values, height: 4).lines(width: 20).map(\.plainText)
        XCTAssertEqual(lines.count, 6)
        XCTAssertTrue(lines[0].hasPrefix(" 1┤"), lines[0])
        XCTAssertTrue(lines[3].hasPrefix("-1┤"), lines[3])
        XCTAssertTrue(lines[4].hasPrefix("  └"))
        XCTAssertTrue(lines[5].hasSuffix("4"), "the last index labels the x axis")
        let braille = lines[0..<4].joined().unicodeScalars.filter { (0x2801...0x28FF).contains($0.value) }
        XCTAssertFalse(braille.isEmpty)
        // The peak (value 1 at the middle index) is in the top row, the ends in the bottom row.
        XCTAssertTrue(lines[0].unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
        XCTAssertTrue(lines[3].unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
        for line in lines { XCTAssertLessThanOrEqual(TextWidth.of(line), 20) }
    }

    func testBarChartForNonNegativeValues() {
        let lines = Chart(values: [0, 1, 2, 4], height: 2).lines(width: 30).map(\.plainText)
        // 4 is the maximum: a full bar in both rows; 2 fills the bottom row only; 0 nothing.
        XCTAssertTrue(lines[0].hasPrefix("4┤"))
        XCTAssertTrue(lines[1].hasPrefix("0┤"))
        let top = Array(lines[0].dropFirst(2)), bottom = Array(lines[1].dropFirst(2))
        let columnWidth = 6  // min(barWidth, 6)
        XCTAssertEqual(top[3 * columnWidth], "█")
        XCTAssertEqual(bottom[3 * columnWidth], "█")
        XCTAssertEqual(bottom[2 * columnWidth], "█")
        XCTAssertEqual(top[2 * columnWidth], " ")
        XCTAssertEqual(bottom[0], " ")
        XCTAssertEqual(bottom[1 * columnWidth], "▄", "1 of 4 over two rows is half the bottom cell")
    }

    func testHeatmapShades() {
        let lines = Heatmap(matrix: [[0, 1], [2, 4]]).lines(width: 20).map(\.plainText)
        XCTAssertEqual(lines[0], "0 ··░░")
        XCTAssertEqual(lines[1], "1 ▒▒██")
        XCTAssertEqual(lines[2], "·=0 ░ ▒ ▓ █=4  (2×2)")
    }

    func testProgressBar() {
        XCTAssertEqual(ProgressBar(fraction: 0.5).bar(width: 10).plainText, "█████░░░░░")
        XCTAssertEqual(ProgressBar(fraction: 0.55).bar(width: 10).plainText, "█████▌░░░░")
        XCTAssertEqual(ProgressBar(fraction: 2).bar(width: 4).plainText, "████")
        XCTAssertEqual(ProgressBar(fraction: .nan).bar(width: 4).plainText, "░░░░")
    }

    func testStatusBarPutsTextLeftAndRight() {
        var b = ScreenBuffer(width: 20, height: 1)
        StatusBar(left: [Span("left")], right: [Span("right")]).draw(into: &b, row: 0)
        XCTAssertEqual(b.rowText(0), "left           right")
        XCTAssertTrue(b[10, 0].style.reverse)
    }

    func testHelpOverlayIsCentredBox() {
        var b = ScreenBuffer(width: 40, height: 10)
        HelpOverlay(title: "Keys", entries: [("q", "quit"), ("?", "help")]).draw(into: &b, area: b.bounds)
        let text = b.text
        XCTAssertTrue(text.contains("┌─ Keys"))
        XCTAssertTrue(text.contains("q  quit"))
        XCTAssertTrue(text.contains("└"))
    }

    func testLineEditor() {
        var e = LineEditor("2")
        XCTAssertEqual(e.cursor, 1, "cursor at the end")
        e.insert("5")
        XCTAssertEqual(e.text, "25")
        e.left(); e.backspace()
        XCTAssertEqual(e.text, "5")
        XCTAssertEqual(e.cursor, 0)
        e.backspace()
        XCTAssertEqual(e.text, "5", "backspace at the start does nothing")
        e.end(); e.insert(" 1 2"); e.deleteWord()
        XCTAssertEqual(e.text, "5 1 ")
        e.clear()
        XCTAssertEqual(e.text, "")
        XCTAssertEqual(e.cursor, 0)
    }

    func testLineEditorScrollsToKeepTheCursorVisible() {
        let e = LineEditor("[1, 2, 3, 4, 5, 6, 7, 8, 9]")
        let line = e.line(width: 10)
        XCTAssertEqual(line.width, 10)
        XCTAssertTrue(line.plainText.hasPrefix("…"))
        XCTAssertTrue(line.plainText.hasSuffix("9] "), line.plainText)
        XCTAssertEqual(line.last { $0.style.reverse }?.text, " ", "the cursor cell after the text")
    }
}

final class ChartWidgetScaleTests: XCTestCase {
    func testAConstantVectorDrawsFullBarsFromZero() {
        let lines = Chart(values: [0.5, 0.5], height: 2).lines(width: 20).map(\.plainText)
        XCTAssertTrue(lines[0].hasPrefix("0.5┤"), "\(lines)")
        XCTAssertTrue(lines[0].contains("█"), "\(lines)")
        XCTAssertTrue(lines[1].hasPrefix("  0┤"), "bars of non-negative data start at 0: \(lines)")
    }
}
