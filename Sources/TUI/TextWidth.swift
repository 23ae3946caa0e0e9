import NotebookCore

/// Display width of text in terminal columns, computed in pure Swift.
///
/// The width does not depend on the C library's `wcwidth` or the locale, so what the widgets
/// lay out is deterministic and testable. The rules follow Unicode's East Asian Width
/// (Wide and Fullwidth take two columns), emoji presentation (two columns), and zero width
/// for combining marks, format characters and variation selectors.
public enum TextWidth {
    /// Columns one grapheme cluster takes: 0, 1 or 2.
    ///
    /// Control characters count 0; text is passed through ``Sanitize/visible(_:)`` before it
    /// reaches a screen, so they never get that far.
    public static func of(_ character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if character.isASCII {
            // Fast path: printable ASCII is one column (CR LF is a single cluster too).
            let v = first.value
            return (v >= 0x20 && v < 0x7F) ? 1 : 0
        }
        var base: Unicode.Scalar?
        var hasEmojiSelector = false
        var regionalIndicators = 0
        for scalar in scalars {
            if scalar.value == 0xFE0F { hasEmojiSelector = true }
            if (0x1F1E6...0x1F1FF).contains(scalar.value) { regionalIndicators += 1 }
            if base == nil && scalarWidth(scalar) > 0 { base = scalar }
        }
        guard let base else { return 0 }
        if regionalIndicators >= 2 { return 2 }
        let w = scalarWidth(base)
        if w == 1 && hasEmojiSelector && base.properties.isEmoji { return 2 }
        return w
    }

    /// Columns a string takes.
    public static func of(_ text: some StringProtocol) -> Int {
        // Titles, summaries and most prose are printable ASCII: a column a byte.
        if isPrintableASCII(text) { return text.utf8.count }
        var total = 0
        for character in text { total += of(character) }
        return total
    }

    /// Width of a single code point out of context.
    public static func scalarWidth(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x20 || (v >= 0x7F && v < 0xA0) { return 0 }
        if v < 0x300 { return 1 }
        if v == 0x200B || v == 0x200C || v == 0x200D || v == 0x2060 || v == 0xFEFF { return 0 }
        if (0x1160...0x11FF).contains(v) { return 0 } // Hangul medial vowels and final consonants
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if isWide(v) { return 2 }
        if scalar.properties.isEmojiPresentation { return 2 }
        return 1
    }

    /// East Asian Wide and Fullwidth ranges (Unicode 15), emoji excepted: those are found by
    /// their presentation property.
    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2329...0x232A, 0x2E80...0x2E99, 0x2E9B...0x2EF3, 0x2F00...0x2FD5,
        0x2FF0...0x2FFB, 0x3000...0x303E, 0x3041...0x3096, 0x3099...0x30FF, 0x3105...0x312F,
        0x3131...0x318E, 0x3190...0x31E3, 0x31F0...0x321E, 0x3220...0x3247, 0x3250...0x4DBF,
        0x4E00...0xA48C, 0xA490...0xA4C6, 0xA960...0xA97C, 0xAC00...0xD7A3, 0xF900...0xFAFF,
        0xFE10...0xFE19, 0xFE30...0xFE52, 0xFE54...0xFE66, 0xFE68...0xFE6B, 0xFF01...0xFF60,
        0xFFE0...0xFFE6, 0x16FE0...0x16FE4, 0x16FF0...0x16FF1, 0x17000...0x187F7,
        0x18800...0x18CD5, 0x18D00...0x18D08, 0x1AFF0...0x1AFFE, 0x1B000...0x1B122,
        0x1B132...0x1B132, 0x1B150...0x1B152, 0x1B155...0x1B155, 0x1B164...0x1B167,
        0x1B170...0x1B2FB, 0x1F200...0x1F202, 0x1F210...0x1F23B, 0x1F240...0x1F248,
        0x1F250...0x1F251, 0x1F260...0x1F265, 0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]

    static func isWide(_ v: UInt32) -> Bool {
        if v < 0x1100 { return false }
        var lo = 0, hi = wideRanges.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            let r = wideRanges[mid]
            if v < r.lowerBound { hi = mid - 1 } else if v > r.upperBound { lo = mid + 1 } else { return true }
        }
        return false
    }

    /// The longest prefix of `text` that fits in `columns`, with an ellipsis when cut.
    public static func truncate(_ text: String, to columns: Int, ellipsis: String = "…") -> String {
        guard columns > 0 else { return "" }
        if of(text) <= columns { return text }
        let room = columns - of(ellipsis)
        guard room >= 0 else { return "" }
        if isPrintableASCII(text) { return String(text.utf8.prefix(room))! + ellipsis }
        var result = ""
        var used = 0
        for character in text {
            let w = of(character)
            if used + w > room { break }
            result.append(character)
            used += w
        }
        return result + ellipsis
    }

    /// Whether every byte is a printable ASCII character (one column each, one character each).
    static func isPrintableASCII(_ text: some StringProtocol) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    /// Pads with spaces on the right (or left) to exactly `columns`, truncating when longer.
    public static func pad(_ text: String, to columns: Int, alignRight: Bool = false) -> String {
        let t = truncate(text, to: columns)
        let gap = max(0, columns - of(t))
        let spaces = String(repeating: " ", count: gap)
        return alignRight ? spaces + t : t + spaces
    }
}

/// Makes untrusted text safe to show: control characters and terminal escape sequences are
/// turned into visible symbols, never sent to the terminal.
public enum Sanitize {
    /// `ESC` becomes `␛`, other C0 controls their Control Pictures (`␇`), tab four spaces,
    /// DEL `␡`, C1 controls and bidirectional overrides `⟨U+009B⟩`.
    public static func visible(_ text: String) -> String {
        // Fast path: nothing to change.
        if !text.unicodeScalars.contains(where: needsEscape) { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if !needsEscape(scalar) {
                out.unicodeScalars.append(scalar)
            } else if v == 0x09 {
                out += "    "
            } else if v == 0x1B {
                out += "\u{241B}"
            } else if v < 0x20, let picture = Unicode.Scalar(0x2400 + v) {
                out.unicodeScalars.append(picture)
            } else if v == 0x7F {
                out += "\u{2421}"
            } else {
                let hex = String(v, radix: 16, uppercase: true)
                out += "⟨U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "⟩"
            }
        }
        return out
    }

    /// What the command line escapes (controls, bidi overrides and isolates), and also newline
    /// and tab, which would move the cursor off its cell.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\n" || scalar == "\t" || TerminalText.needsEscape(scalar)
    }
}
