/// Unicode rendering of the LaTeX math in lesson prose, for terminal display.
///
/// Lessons are written for a code host, so their math is LaTeX between `$...$` or `$$...$$`.
/// A terminal cannot typeset it; this renderer turns the notation of ML derivations into
/// readable Unicode (`\sum_{j=1}^{N}` → `∑ⱼ₌₁ᴺ`, `\frac{a+b}{c}` → `(a + b)/c`). Anything it
/// does not understand — an unknown command, unbalanced braces, an environment — makes the
/// whole span fall back to its LaTeX source, because a reader can decode source but not a guess.
///
/// Spacing follows TeX's atom classes (ordinary, operator, binary, relation, open, close,
/// punctuation, inner), with one space standing for TeX's thin, medium and thick spaces alike.
public enum MathText {
    /// Renders one LaTeX math expression (without the `$` delimiters) as Unicode text.
    ///
    /// Returns `latex` unchanged when it cannot be rendered.
    public static func render(_ latex: String) -> String {
        tryRender(latex) ?? latex
    }

    /// Replaces every `$...$` and `$$...$$` span in a line/paragraph of Markdown prose with its
    /// rendering; `\$` is a literal dollar; code spans in backticks are left alone.
    /// GitHub's inline form `` $`...`$ `` is math too.
    ///
    /// A span that cannot be rendered is kept as written, delimiters included. With `protect`,
    /// rendered spans are marked for ``PlainMarkdown/inline(_:)`` (see ``protectOpen``). An inline `$`
    /// opens math only when followed by a non-space, and closes it only when preceded by a
    /// non-space and not followed by a digit (Pandoc's rule), so prices such as "$5 or $10"
    /// stay prose. Math never crosses a blank line.
    public static func renderInline(_ markdown: String, protect: Bool = false) -> String {
        replacingMath(in: markdown) { source, _ in
            tryRender(source).map { protect ? String(protectOpen) + $0 + String(protectClose) : $0 }
        }
    }

    /// Replaces every math span, found by the rules of ``renderInline(_:protect:)``, with
    /// `replace(source, isDisplay)`; where that gives `nil` the span stays as written.
    public static func replacingMath(in markdown: String, _ replace: (String, Bool) -> String?) -> String {
        let s = Array(markdown.unicodeScalars)
        var out = ""
        // A search for a closing delimiter that failed up to a barrier (the end of the text or a
        // blank line) fails from every later start before that barrier too; remembering that
        // keeps a paragraph full of unmatched dollars linear.
        var inlineHopelessBefore = 0
        var displayHopelessBefore = 0
        var backtickHopelessBefore = 0
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == "`" {
                let run = runLength(of: "`", in: s, from: i)
                if let close = closingBackticks(in: s, from: i + run, length: run) {
                    out.appendScalars(s[i..<(close + run)])
                    i = close + run
                } else {
                    out.appendScalars(s[i..<(i + run)])
                    i += run
                }
            } else if c == "\\", i + 1 < s.count, s[i + 1] == "$" {
                out.unicodeScalars.append("$")
                i += 2
            } else if c == "\\", i + 1 < s.count, s[i + 1] == "\\" {
                // An escaped backslash must not escape a dollar that follows it.
                out.appendScalars(s[i...(i + 1)])
                i += 2
            } else if c == "$", i + 1 < s.count, s[i + 1] == "`", i + 2 >= backtickHopelessBefore,
                      let close = closingBacktickDollar(in: s, from: i + 2, hopelessBefore: &backtickHopelessBefore) {
                // GitHub's $`...`$ form: the backticks let the math contain Markdown characters.
                let source = String(scalars: s[(i + 2)..<close])
                if let replacement = replace(source, false) {
                    out += replacement
                } else {
                    out.appendScalars(s[i..<(close + 2)])
                }
                i = close + 2
            } else if c == "$" {
                let display = i + 1 < s.count && s[i + 1] == "$"
                let open = display ? 2 : 1
                let start = i + open
                var close: Int?
                if start >= (display ? displayHopelessBefore : inlineHopelessBefore) {
                    switch closingDollar(in: s, from: start, display: display) {
                    case .found(let index): close = index
                    case .notBefore(let barrier):
                        if display { displayHopelessBefore = barrier } else { inlineHopelessBefore = barrier }
                    case .notOpening: break
                    }
                }
                if let close {
                    let source = String(scalars: s[(i + open)..<close])
                    if let replacement = replace(source, display) {
                        out += replacement
                    } else {
                        out.appendScalars(s[i..<(close + open)])
                    }
                    i = close + open
                } else {
                    out.appendScalars(s[i..<(i + open)])
                    i += open
                }
            } else {
                out.unicodeScalars.append(c)
                i += 1
            }
        }
        return out
    }

    /// With `protect`, each rendered span is wrapped in these two private-use characters, so
    /// that ``PlainMarkdown/inline(_:)`` leaves it alone (the `*` of π* is not emphasis).
    public static let protectOpen: Unicode.Scalar = "\u{E000}"
    public static let protectClose: Unicode.Scalar = "\u{E001}"

    /// One LaTeX math expression as a MathML `<math>` element, or `nil` where the terminal
    /// rendering would fall back to source too.
    public static func mathML(_ latex: String, display: Bool) -> String? {
        var parser = MathParser(latex)
        guard let atoms = try? parser.parseAll() else { return nil }
        return MathMarkup.math(atoms, source: latex, display: display)
    }

    /// The rendering, or `nil` when the expression has to fall back to its source.
    static func tryRender(_ latex: String) -> String? {
        var parser = MathParser(latex)
        guard let atoms = try? parser.parseAll() else { return nil }
        return Layout.join(atoms, style: .text)
    }

    private static func runLength(of c: Unicode.Scalar, in s: [Unicode.Scalar], from i: Int) -> Int {
        var j = i
        while j < s.count, s[j] == c { j += 1 }
        return j - i
    }

    /// The start of the next run of exactly `length` backticks (CommonMark code-span rule).
    private static func closingBackticks(in s: [Unicode.Scalar], from start: Int, length: Int) -> Int? {
        var j = start
        while j < s.count {
            if s[j] == "`" {
                let run = runLength(of: "`", in: s, from: j)
                if run == length { return j }
                j += run
            } else {
                j += 1
            }
        }
        return nil
    }

    /// The index of the "`" of the first "`$" at or after `start`, within the paragraph.
    private static func closingBacktickDollar(in s: [Unicode.Scalar], from start: Int,
                                              hopelessBefore: inout Int) -> Int? {
        var j = start
        while j + 1 < s.count {
            if s[j] == "\n", blankLineFollows(s, after: j) {
                hopelessBefore = j
                return nil
            }
            if s[j] == "`", s[j + 1] == "$" { return j }
            j += 1
        }
        hopelessBefore = s.count
        return nil
    }

    private enum Closing {
        case found(Int)
        /// No closer before this index (the end, or the blank line that ends the paragraph).
        case notBefore(Int)
        /// An inline `$` followed by a space opens nothing.
        case notOpening
    }

    /// The index of the closing `$` (or the first `$` of `$$`), skipping `\`-escapes.
    private static func closingDollar(in s: [Unicode.Scalar], from start: Int, display: Bool) -> Closing {
        func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }
        if !display {
            guard start < s.count, !isSpace(s[start]) else { return .notOpening }
        }
        var j = start
        while j < s.count {
            let c = s[j]
            if c == "\\" {
                j += 2
                continue
            }
            if c == "\n", blankLineFollows(s, after: j) { return .notBefore(j) }
            if c == "$" {
                if display {
                    if j + 1 < s.count, s[j + 1] == "$" { return .found(j) }
                } else if j > start, !isSpace(s[j - 1]),
                          !(j + 1 < s.count && ("0"..."9").contains(s[j + 1])) {
                    return .found(j)
                }
            }
            j += 1
        }
        return .notBefore(s.count)
    }

    private static func blankLineFollows(_ s: [Unicode.Scalar], after newline: Int) -> Bool {
        var j = newline + 1
        while j < s.count, s[j] == " " || s[j] == "\t" || s[j] == "\r" { j += 1 }
        return j < s.count && s[j] == "\n"
    }
}

// MARK: - Atoms

/// One rendered piece of a formula with its TeX class, which decides the spacing around it.
struct Atom {
    enum Kind { case ord, op, fn, bin, rel, open, close, punct, inner, space }

    var text: String
    var kind: Kind
    var isNumber = false
    var isFraction = false
    /// A `+`/`−` (or other binary symbol) in prefix position, written tight against what follows.
    var isUnarySign = false
    /// A fraction bracketed because it is the argument of a function name (`log(a/b)`).
    var isBracketed = false
    /// A letter written right before it would run into it (`ℓⱼ e^(x − m)`).
    var needsRoomBefore = false
    /// A letter written right after it would run into it (`e^(x − m) y`, `√x y`).
    var needsRoomAfter = false
    /// The atom as MathML (see `MathMarkup`); empty for an atom whose markup another holds.
    var markup: String

    init(_ text: String, _ kind: Kind, markup: String? = nil) {
        self.text = text
        self.kind = kind
        self.markup = markup ?? MathMarkup.token(text, kind)
    }
}

struct MathError: Error {}

struct Symbol: Sendable {
    let text: String
    let kind: Atom.Kind
    init(_ text: String, _ kind: Atom.Kind) {
        self.text = text
        self.kind = kind
    }
}
