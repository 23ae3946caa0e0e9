/// Word wrapping of styled text to a width in columns, aware of wide characters.
///
/// Lines break at spaces, and between wide (CJK) characters, which need no spaces; a word
/// longer than the width is broken where it must be. Control characters and escape
/// sequences are made visible first (``Sanitize``).
public enum Wrap {
    private struct Glyph {
        var character: Character
        var style: Style
        var width: Int
        var isSpace: Bool { character == " " }
    }

    /// Wraps a run of spans into lines no wider than `width`. The first line may be indented
    /// differently from the rest (`firstIndent` / `indent` columns of spaces, for list items).
    public static func wrap(_ spans: Line, width: Int, indent: Int = 0, firstIndent: Int? = nil) -> [Line] {
        let firstPad = firstIndent ?? indent
        var glyphs: [Glyph] = []
        for span in spans {
            let text = Sanitize.visible(span.text)
            if text.utf8.allSatisfy({ $0 < 0x80 }) {
                // Fast path: printable ASCII, one column per byte (controls were escaped above).
                for byte in text.utf8 {
                    glyphs.append(Glyph(character: Character(Unicode.Scalar(byte)), style: span.style, width: 1))
                }
                continue
            }
            for character in text {
                let w = TextWidth.of(character)
                if w == 0 && character != " " { continue }
                // Newlines inside a paragraph are soft: they read as spaces.
                glyphs.append(Glyph(character: character, style: span.style, width: w))
            }
        }
        var lines: [Line] = []
        var current: [Glyph] = []
        var currentWidth = 0
        var lastBreak: Int?   // index in `current` where the line may end (exclusive)
        var lineIndex = 0

        func room() -> Int { max(1, width - (lineIndex == 0 ? firstPad : indent)) }
        func emit(_ glyphs: ArraySlice<Glyph>) {
            var g = Array(glyphs)
            while g.last?.isSpace == true { g.removeLast() }
            let pad = lineIndex == 0 ? firstPad : indent
            var line: Line = pad > 0 ? [Span(String(repeating: " ", count: pad))] : []
            line.append(contentsOf: merge(g))
            lines.append(line)
            lineIndex += 1
        }

        var i = 0
        while i < glyphs.count {
            let g = glyphs[i]
            if g.isSpace && current.isEmpty && !lines.isEmpty {
                i += 1   // no leading spaces on continuation lines
                continue
            }
            if currentWidth + g.width > room() {
                if g.isSpace {
                    emit(current[...])
                    current = []; currentWidth = 0; lastBreak = nil
                    i += 1
                    continue
                }
                if let b = lastBreak, b > 0 {
                    emit(current[..<b])
                    var rest = Array(current[b...])
                    while rest.first?.isSpace == true { rest.removeFirst() }
                    current = rest
                    currentWidth = rest.reduce(0) { $0 + $1.width }
                    lastBreak = nil
                    for (k, r) in rest.enumerated() where r.width == 2 { lastBreak = k + 1 }
                    continue
                }
                if !current.isEmpty {
                    emit(current[...])
                    current = []; currentWidth = 0; lastBreak = nil
                    continue
                }
                // A single glyph wider than the room: place it anyway, clipping will handle it.
            }
            if g.width == 2, !current.isEmpty { lastBreak = current.count }
            current.append(g)
            currentWidth += g.width
            if g.isSpace || g.width == 2 { lastBreak = current.count }
            i += 1
        }
        if !current.isEmpty || lines.isEmpty { emit(current[...]) }
        return lines
    }

    /// Wraps plain text, keeping hard line breaks.
    public static func wrap(_ text: String, width: Int, style: Style = .plain) -> [Line] {
        text.split(separator: "\n", omittingEmptySubsequences: false).flatMap {
            wrap([Span(String($0), style)], width: width)
        }
    }

    private static func merge(_ glyphs: [Glyph]) -> Line {
        var spans: Line = []
        for g in glyphs {
            if let last = spans.last, last.style == g.style {
                spans[spans.count - 1].text.append(g.character)
            } else {
                spans.append(Span(String(g.character), g.style))
            }
        }
        return spans
    }
}
