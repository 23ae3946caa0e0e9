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
                if let rendered = tryRender(source) {
                    if protect { out.unicodeScalars.append(Self.protectOpen) }
                    out.appendScalars(rendered.unicodeScalars)
                    if protect { out.unicodeScalars.append(Self.protectClose) }
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
                    if let rendered = tryRender(source) {
                        if protect { out.unicodeScalars.append(Self.protectOpen) }
                        out.appendScalars(rendered.unicodeScalars)
                        if protect { out.unicodeScalars.append(Self.protectClose) }
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
private struct Atom {
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

    init(_ text: String, _ kind: Kind) {
        self.text = text
        self.kind = kind
    }
}

private struct MathError: Error {}

private struct Symbol: Sendable {
    let text: String
    let kind: Atom.Kind
    init(_ text: String, _ kind: Atom.Kind) {
        self.text = text
        self.kind = kind
    }
}

// MARK: - Parser

private struct MathParser {
    private let s: [Unicode.Scalar]
    private var i = 0
    private var depth = 0
    /// Nesting limit over groups and command arguments; deeper input falls back to source
    /// rather than exhausting the stack.
    private static let maxDepth = 48

    init(_ text: String) {
        s = Array(text.unicodeScalars)
    }

    mutating func parseAll() throws -> [Atom] {
        try parseList(until: nil)
    }

    private mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw MathError() }
    }

    private mutating func parseList(until terminator: Unicode.Scalar?) throws -> [Atom] {
        try enter()
        defer { depth -= 1 }
        var atoms: [Atom] = []
        while true {
            skipSpace()
            guard i < s.count else {
                if terminator != nil { throw MathError() }
                return atoms
            }
            if s[i] == "}" {
                guard terminator == "}" else { throw MathError() }
                i += 1
                return atoms
            }
            if s[i] == "]", terminator == "]" {
                i += 1
                return atoms
            }
            let start = i
            var next = try parseAtom(single: false)
            try attachScripts(to: &next)
            // Every step must consume input; anything else would be a loop.
            guard i > start else { throw MathError() }
            atoms += next
        }
    }

    /// One atom (possibly several pieces, e.g. a spliced `{...}` group). `single` reads exactly
    /// one token, as TeX does for an undelimited argument (`\frac12`).
    private mutating func parseAtom(single: Bool) throws -> [Atom] {
        try enter()
        defer { depth -= 1 }
        let c = s[i]
        switch c {
        case "{":
            i += 1
            return try parseList(until: "}")
        case "^", "_", "'":
            if single { throw MathError() }
            return []  // scripts on an empty base; attachScripts consumes them
        case "\\":
            return try parseCommand()
        case "&", "#", "%", "$", "}":
            throw MathError()
        case "~":
            i += 1
            return [Atom(" ", .space)]
        default:
            break
        }
        if isDigit(c) {
            var j = i + 1
            if !single {
                while j < s.count, isDigit(s[j]) || (s[j] == "." && j + 1 < s.count && isDigit(s[j + 1])) {
                    j += 1
                }
            }
            var atom = Atom(String(scalars: s[i..<j]), .ord)
            atom.isNumber = true
            i = j
            return [atom]
        }
        i += 1
        return [Self.characterAtom(c)]
    }

    private static func characterAtom(_ c: Unicode.Scalar) -> Atom {
        switch c {
        case "-": return Atom("−", .bin)
        case "+", "*": return Atom(String(c), .bin)
        case "=", "<", ">", ":": return Atom(String(c), .rel)
        case ",", ";": return Atom(String(c), .punct)
        case "(", "[": return Atom(String(c), .open)
        case ")", "]", "!", "?": return Atom(String(c), .close)
        default:
            if relationCharacters.contains(c) { return Atom(String(c), .rel) }
            if binaryCharacters.contains(c) { return Atom(String(c), .bin) }
            return Atom(String(c), .ord)
        }
    }

    private mutating func attachScripts(to atoms: inout [Atom]) throws {
        var sub: [Atom]?
        var sup: [Atom]?
        var primes = 0
        var found = false
        loop: while true {
            skipSpace()
            guard i < s.count else { break }
            switch s[i] {
            case "'":
                guard sup == nil else { throw MathError() }
                primes += 1
                i += 1
            case "^":
                guard sup == nil else { throw MathError() }
                i += 1
                sup = try parseArg()
            case "_":
                guard sub == nil else { throw MathError() }
                i += 1
                sub = try parseArg()
            case "\\":
                guard let name = peekCommandName(), name == "limits" || name == "nolimits" else { break loop }
                i += 1 + name.unicodeScalars.count
                continue loop
            default:
                break loop
            }
            found = true
        }
        guard found else { return }
        var base = atoms.popLast() ?? Atom("", .ord)
        if let sub {
            let script = Layout.script(sub, superscript: false)
            base.text += script.text
            if script.fellBack { (base.needsRoomBefore, base.needsRoomAfter) = (true, true) }
        }
        var supAtoms = sup ?? []
        if primes > 0 {
            let mark = primes == 2 ? "″" : primes == 3 ? "‴" : String(repeating: "′", count: primes)
            supAtoms.insert(Atom(mark, .ord), at: 0)
        }
        if !supAtoms.isEmpty {
            let script = Layout.script(supAtoms, superscript: true)
            base.text += script.text
            if script.fellBack { (base.needsRoomBefore, base.needsRoomAfter) = (true, true) }
        }
        atoms.append(base)
    }

    /// A command argument: a `{...}` group or a single token.
    private mutating func parseArg() throws -> [Atom] {
        skipSpace()
        guard i < s.count else { throw MathError() }
        if s[i] == "{" {
            i += 1
            return try parseList(until: "}")
        }
        return try parseAtom(single: true)
    }

    private mutating func parseCommand() throws -> [Atom] {
        i += 1
        let name = try readCommandName()
        if let symbol = symbols[name] { return [Atom(symbol.text, symbol.kind)] }
        if name.unicodeScalars.count == 1, name.unicodeScalars.allSatisfy({ $0.properties.isWhitespace }) {
            return [Atom(" ", .space)]
        }
        if let word = functionNames[name] { return [Atom(word, .fn)] }
        if let mark = accents[name] { return [try Layout.accent(parseArg(), mark: mark)] }
        if let font = fonts[name] { return Layout.apply(font, to: try parseArg()) }
        if ignoredCommands.contains(name) { return [] }
        if let kind = classCommands[name] {
            return [Atom(Layout.join(try parseArg(), style: .script), kind)]
        }
        switch name {
        case "frac", "dfrac", "tfrac", "cfrac":
            let numerator = try parseArg()
            let denominator = try parseArg()
            return [Layout.fraction(numerator, denominator)]
        case "binom", "dbinom", "tbinom":
            let n = Layout.join(try parseArg(), style: .text)
            let k = Layout.join(try parseArg(), style: .text)
            return [Atom("(\(n) choose \(k))", .ord)]
        case "sqrt":
            skipSpace()
            var index: [Atom]?
            if i < s.count, s[i] == "[" {
                i += 1
                index = try parseList(until: "]")
            }
            return [try Layout.root(parseArg(), index: index)]
        case "text", "textrm", "textit", "textbf", "textsf", "texttt", "textnormal", "mbox":
            return [Atom(try parseTextArg(), .ord)]
        case "operatorname":
            if i < s.count, s[i] == "*" { i += 1 }
            return [Atom(Layout.join(try parseArg(), style: .script), .fn)]
        case "left":
            return try parseDelimiter(as: .open).map { [$0] } ?? []
        case "right":
            return try parseDelimiter(as: .close).map { [$0] } ?? []
        case "middle", "bigm", "Bigm", "biggm", "Biggm":
            return try parseDelimiter(as: .rel).map { [$0] } ?? []
        case "bigl", "Bigl", "biggl", "Biggl":
            return try parseDelimiter(as: .open).map { [$0] } ?? []
        case "bigr", "Bigr", "biggr", "Biggr":
            return try parseDelimiter(as: .close).map { [$0] } ?? []
        case "big", "Big", "bigg", "Bigg":
            return try parseDelimiter(as: nil).map { [$0] } ?? []
        case "not":
            return [try Layout.negate(parseArg())]
        case "phantom", "hphantom", "vphantom":
            _ = try parseArg()
            return []
        case "hspace":
            if i < s.count, s[i] == "*" { i += 1 }
            _ = try parseTextArg()
            return [Atom(" ", .space)]
        case "boxed":
            return try parseArg()
        case "pmod":
            let argument = try parseArg()
            return [Atom(" ", .space), Atom("(", .open), Atom("mod", .fn)] + argument + [Atom(")", .close)]
        default:
            throw MathError()
        }
    }

    private mutating func readCommandName() throws -> String {
        guard i < s.count else { throw MathError() }
        let start = i
        if isLetter(s[i]) {
            while i < s.count, isLetter(s[i]) { i += 1 }
        } else {
            i += 1
        }
        return String(scalars: s[start..<i])
    }

    private func peekCommandName() -> String? {
        guard i < s.count, s[i] == "\\" else { return nil }
        var j = i + 1
        while j < s.count, isLetter(s[j]) { j += 1 }
        guard j > i + 1 else { return nil }
        return String(scalars: s[(i + 1)..<j])
    }

    /// The delimiter after `\left`, `\right`, `\big` and friends; `nil` for the empty `.`.
    /// `kind` overrides the delimiter's own class when the command says which side it is.
    private mutating func parseDelimiter(as kind: Atom.Kind?) throws -> Atom? {
        skipSpace()
        guard i < s.count else { throw MathError() }
        let c = s[i]
        var atom: Atom
        if c == "\\" {
            i += 1
            let name = try readCommandName()
            guard delimiterCommands.contains(name), let symbol = symbols[name] else { throw MathError() }
            atom = Atom(symbol.text, symbol.kind)
        } else {
            i += 1
            switch c {
            case ".": return nil
            case "(", "[": atom = Atom(String(c), .open)
            case ")", "]": atom = Atom(String(c), .close)
            case "|", "/": atom = Atom(String(c), .ord)
            case "<": atom = Atom("⟨", .open)
            case ">": atom = Atom("⟩", .close)
            default: throw MathError()
            }
        }
        if let kind { atom.kind = kind }
        return atom
    }

    /// The argument of `\text{...}` and friends, read as text: spaces kept, math escapes resolved.
    private mutating func parseTextArg() throws -> String {
        skipSpace()
        guard i < s.count else { throw MathError() }
        if s[i] != "{" {
            let c = s[i]
            guard c != "\\", c != "}" else { throw MathError() }
            i += 1
            return String(c)
        }
        i += 1
        var level = 0
        var out = ""
        func appendSpace() {
            if out.unicodeScalars.last != " " { out.unicodeScalars.append(" ") }
        }
        while i < s.count {
            let c = s[i]
            switch c {
            case "{":
                level += 1
                i += 1
            case "}":
                i += 1
                if level == 0 { return out }
                level -= 1
            case "\\":
                guard i + 1 < s.count else { throw MathError() }
                let d = s[i + 1]
                if d == " " || d == "," || d == ";" || d == ":" {
                    appendSpace()
                } else if "{}_%&#$".unicodeScalars.contains(d) {
                    out.unicodeScalars.append(d)
                } else {
                    throw MathError()
                }
                i += 2
            case "$":
                throw MathError()
            case "~":
                appendSpace()
                i += 1
            default:
                if c.properties.isWhitespace {
                    appendSpace()
                } else {
                    out.unicodeScalars.append(c)
                }
                i += 1
            }
        }
        throw MathError()
    }

    private mutating func skipSpace() {
        while i < s.count, s[i].properties.isWhitespace { i += 1 }
    }

    private func isLetter(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c)
    }

    private func isDigit(_ c: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(c)
    }
}

// MARK: - Layout

private enum Style {
    /// Ordinary math: spaces around binary operators, relations and after punctuation.
    case text
    /// Sub- and superscripts: TeX drops those spaces there; only operator names keep theirs.
    case script
}

private enum Layout {
    static func join(_ atoms: [Atom], style: Style) -> String {
        var out = ""
        var previous: Atom?
        for atom in resolve(atoms) {
            if let previous, gap(previous, atom, style) { out += " " }
            out += atom.text
            previous = atom
        }
        return out
    }

    /// Applies TeX's rule that a binary symbol without an operand on both sides is a sign, and
    /// brackets a fraction that is the argument of a function name.
    static func resolve(_ atoms: [Atom]) -> [Atom] {
        var out = atoms.filter { !$0.text.isEmpty }
        var previous: Int?
        for k in out.indices where out[k].kind != .space {
            if out[k].kind == .bin {
                let next = out[(k + 1)...].first { $0.kind != .space }
                let sign: Bool
                if let p = previous {
                    let before = out[p]
                    sign = before.isUnarySign || [.bin, .op, .fn, .rel, .open, .punct].contains(before.kind)
                } else {
                    sign = true
                }
                if sign || [.rel, .close, .punct].contains(next?.kind ?? .rel) {
                    out[k].kind = .ord
                    out[k].isUnarySign = true
                }
            }
            if out[k].isFraction, let p = previous, out[p].kind == .fn {
                out[k].text = "(" + out[k].text + ")"
                out[k].isBracketed = true
            }
            previous = k
        }
        return out
    }

    private static func gap(_ a: Atom, _ b: Atom, _ style: Style) -> Bool {
        if a.kind == .space || b.kind == .space || a.isUnarySign { return false }
        if style == .script {
            if a.kind == .op || a.kind == .fn {
                return [.ord, .op, .fn, .inner].contains(b.kind) && !b.isBracketed
            }
            if b.kind == .op || b.kind == .fn { return [.ord, .close, .inner].contains(a.kind) }
            return false
        }
        // A full stop ending a displayed formula sits against it, like punctuation.
        if b.kind == .punct || (b.kind == .ord && b.text == ".") { return false }
        if a.kind == .punct { return true }
        if a.kind == .open || b.kind == .close { return false }
        if a.kind == .bin || b.kind == .bin { return true }
        if a.kind == .rel || b.kind == .rel { return !(a.kind == .rel && b.kind == .rel) }
        if a.kind == .fn { return !(b.kind == .open || b.isBracketed) }
        if a.kind == .op || b.kind == .op || b.kind == .fn { return true }
        if a.kind == .inner || b.kind == .inner { return true }
        // Ordinary atoms, closing and opening brackets: tight, as juxtaposition in TeX,
        // unless a wide script or a root would otherwise run into a neighbouring letter.
        let wordBefore = a.kind == .close || a.text.last.map { $0.isLetter || $0.isNumber } == true
        let wordAfter = b.kind == .ord && b.text.first.map { $0.isLetter || $0.isNumber } == true
        return (a.needsRoomAfter && wordAfter) || (b.needsRoomBefore && wordBefore)
    }

    /// A sub- or superscript: Unicode script characters when every character has one,
    /// otherwise the readable `x^(...)` / `x_(...)` form.
    static func script(_ atoms: [Atom], superscript: Bool) -> (text: String, fellBack: Bool) {
        let compact = join(atoms, style: .script)
        if compact.isEmpty { return ("", false) }
        if let converted = convert(compact, with: superscript ? superscripts : subscripts) {
            return (converted, false)
        }
        let marker = superscript ? "^" : "_"
        if compact.count == 1 { return (marker + compact, true) }
        return (marker + "(" + join(atoms, style: .text) + ")", true)
    }

    static func convert(_ text: String, with table: [Unicode.Scalar: String]) -> String? {
        var out = ""
        for c in text.unicodeScalars {
            guard let mapped = table[c] else { return nil }
            out += mapped
        }
        return out
    }

    static func fraction(_ numerator: [Atom], _ denominator: [Atom]) -> Atom {
        var top = join(numerator, style: .text)
        var bottom = join(denominator, style: .text)
        if isCompound(resolve(numerator)) { top = "(" + top + ")" }
        let below = resolve(denominator).filter { $0.kind != .space }
        // `1/2π` would read as (1/2)π, `a/τ B` as (a/τ)·B, and `1/−x` is hard to read: bracket
        // every denominator of more than one factor, except one function application `p(x)`.
        let leadingSign = below.first?.isUnarySign == true
        // A differential `∂θ` or `dx` is one factor, as in ∂ℒ/∂θ.
        let differential = below.count == 2 && ["∂", "d", "δ"].contains(below[0].text)
        let factors = below.count > 1 && !isSingleApplication(below) && !differential
        if isCompound(below) || leadingSign || factors { bottom = "(" + bottom + ")" }
        var atom = Atom(top + "/" + bottom, .inner)
        atom.isFraction = true
        return atom
    }

    /// `f(...)`: a name followed by one bracketed group that runs to the end.
    private static func isSingleApplication(_ atoms: [Atom]) -> Bool {
        guard atoms.count >= 3, atoms[0].kind == .ord || atoms[0].kind == .fn, atoms[1].kind == .open,
              atoms[atoms.count - 1].kind == .close else { return false }
        var depth = 0
        for (i, atom) in atoms.enumerated().dropFirst() {
            if atom.kind == .open { depth += 1 }
            if atom.kind == .close { depth -= 1 }
            if depth == 0 && i < atoms.count - 1 { return false }
        }
        return depth == 0
    }

    /// True when the list has more than one term at bracket depth zero.
    private static func isCompound(_ atoms: [Atom]) -> Bool {
        var depth = 0
        for atom in atoms {
            switch atom.kind {
            case .open:
                depth += 1
            case .close:
                depth = max(0, depth - 1)
            case .bin, .rel, .punct, .op, .fn, .space, .inner:
                if depth == 0 { return true }
            case .ord:
                if depth == 0, atom.text == "/" || atom.isFraction { return true }
            }
        }
        return false
    }

    static func root(_ body: [Atom], index: [Atom]?) throws -> Atom {
        var sign = "√"
        if let index {
            switch join(index, style: .script) {
            case "": break
            case "3": sign = "∛"
            case "4": sign = "∜"
            case let degree:
                guard let raised = convert(degree, with: superscripts) else { throw MathError() }
                sign = raised + "√"
            }
        }
        let inside = resolve(body).filter { $0.kind != .space }
        let simple = inside.count == 1 && inside[0].kind == .ord && !inside[0].isFraction
            && !inside[0].isUnarySign
        let text = join(body, style: .text)
        var atom = Atom(sign + (simple ? text : "(" + text + ")"), .ord)
        atom.needsRoomAfter = simple
        return atom
    }

    /// Puts a combining accent on every character of the argument (usually just one).
    static func accent(_ body: [Atom], mark: Unicode.Scalar) throws -> Atom {
        let text = join(body, style: .text)
        guard !text.isEmpty else { throw MathError() }
        var out = ""
        for c in text {
            out.append(c)
            if !c.isWhitespace { out.unicodeScalars.append(mark) }
        }
        return Atom(out, .ord)
    }

    /// `\not` before a relation.
    static func negate(_ atoms: [Atom]) throws -> Atom {
        let text = join(atoms, style: .script)
        if let negated = negations[text] { return Atom(negated, .rel) }
        guard !text.isEmpty else { throw MathError() }
        var out = text
        out.unicodeScalars.append("\u{0338}")
        return Atom(out, .rel)
    }

    static func apply(_ font: Font, to atoms: [Atom]) -> [Atom] {
        guard font != .upright else { return atoms }
        return atoms.map { atom in
            var styled = atom
            styled.text = ""
            for c in atom.text.unicodeScalars {
                styled.text += font.styled(c) ?? String(c)
            }
            return styled
        }
    }
}

// MARK: - Alphabets

private enum Font: Sendable {
    case blackboard, calligraphic, fraktur, bold, upright

    /// The Mathematical Alphanumeric Symbols letter, using the older Letterlike Symbols
    /// code points where Unicode left holes in the block (ℝ, ℒ, ℭ, ...).
    func styled(_ c: Unicode.Scalar) -> String? {
        let upper: UInt32, lower: UInt32, digits: UInt32?, holes: [Unicode.Scalar: Unicode.Scalar]
        switch self {
        case .blackboard:
            (upper, lower, digits) = (0x1D538, 0x1D552, 0x1D7D8)
            holes = ["C": "ℂ", "H": "ℍ", "N": "ℕ", "P": "ℙ", "Q": "ℚ", "R": "ℝ", "Z": "ℤ"]
        case .calligraphic:
            (upper, lower, digits) = (0x1D49C, 0x1D4B6, nil)
            holes = ["B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "L": "ℒ", "M": "ℳ", "R": "ℛ",
                     "e": "ℯ", "g": "ℊ", "o": "ℴ"]
        case .fraktur:
            (upper, lower, digits) = (0x1D504, 0x1D51E, nil)
            holes = ["C": "ℭ", "H": "ℌ", "I": "ℑ", "R": "ℜ", "Z": "ℨ"]
        case .bold:
            (upper, lower, digits) = (0x1D400, 0x1D41A, 0x1D7CE)
            holes = [:]
        case .upright:
            return nil
        }
        if let hole = holes[c] { return String(hole) }
        let v = c.value
        let code: UInt32
        switch v {
        case 0x41...0x5A: code = upper + (v - 0x41)
        case 0x61...0x7A: code = lower + (v - 0x61)
        case 0x30...0x39:
            guard let digits else { return nil }
            code = digits + (v - 0x30)
        default: return nil
        }
        return Unicode.Scalar(code).map { String($0) }
    }
}

private let fonts: [String: Font] = [
    "mathbb": .blackboard, "mathcal": .calligraphic, "mathscr": .calligraphic, "mathfrak": .fraktur,
    "mathbf": .bold, "boldsymbol": .bold, "bm": .bold,
    "mathrm": .upright, "mathit": .upright, "mathsf": .upright, "mathtt": .upright, "mathnormal": .upright,
]

// MARK: - Tables

private let symbols: [String: Symbol] = {
    var table: [String: Symbol] = [:]
    let greek: [(String, String)] = [
        ("alpha", "α"), ("beta", "β"), ("gamma", "γ"), ("delta", "δ"), ("epsilon", "ϵ"),
        ("varepsilon", "ε"), ("zeta", "ζ"), ("eta", "η"), ("theta", "θ"), ("vartheta", "ϑ"),
        ("iota", "ι"), ("kappa", "κ"), ("varkappa", "ϰ"), ("lambda", "λ"), ("mu", "μ"), ("nu", "ν"),
        ("xi", "ξ"), ("omicron", "ο"), ("pi", "π"), ("varpi", "ϖ"), ("rho", "ρ"), ("varrho", "ϱ"),
        ("sigma", "σ"), ("varsigma", "ς"), ("tau", "τ"), ("upsilon", "υ"), ("phi", "ϕ"),
        ("varphi", "φ"), ("chi", "χ"), ("psi", "ψ"), ("omega", "ω"), ("digamma", "ϝ"),
        ("Gamma", "Γ"), ("Delta", "Δ"), ("Theta", "Θ"), ("Lambda", "Λ"), ("Xi", "Ξ"), ("Pi", "Π"),
        ("Sigma", "Σ"), ("Upsilon", "Υ"), ("Phi", "Φ"), ("Psi", "Ψ"), ("Omega", "Ω"),
    ]
    for (name, text) in greek { table[name] = Symbol(text, .ord) }
    let ordinary: [(String, String)] = [
        ("infty", "∞"), ("nabla", "∇"), ("partial", "∂"), ("forall", "∀"), ("exists", "∃"),
        ("nexists", "∄"), ("emptyset", "∅"), ("varnothing", "∅"), ("neg", "¬"), ("lnot", "¬"),
        ("top", "⊤"), ("bot", "⊥"), ("ell", "ℓ"), ("hbar", "ℏ"), ("Re", "ℜ"), ("Im", "ℑ"),
        ("aleph", "ℵ"), ("wp", "℘"), ("prime", "′"), ("angle", "∠"), ("triangle", "△"),
        ("square", "□"), ("Box", "□"), ("surd", "√"), ("dagger", "†"), ("ddagger", "‡"),
        ("checkmark", "✓"), ("imath", "ı"), ("jmath", "ȷ"), ("vert", "|"), ("Vert", "‖"), ("|", "‖"),
        ("backslash", "\\"), ("$", "$"), ("%", "%"), ("#", "#"), ("&", "&"), ("_", "_"),
        ("vdots", "⋮"), ("flat", "♭"), ("sharp", "♯"), ("natural", "♮"), ("degree", "°"),
        ("uparrow", "↑"), ("downarrow", "↓"), ("Uparrow", "⇑"), ("Downarrow", "⇓"),
    ]
    for (name, text) in ordinary { table[name] = Symbol(text, .ord) }
    let ellipses: [(String, String)] = [
        ("ldots", "…"), ("dots", "…"), ("dotsc", "…"), ("dotso", "…"), ("cdots", "⋯"),
        ("dotsb", "⋯"), ("dotsm", "⋯"), ("dotsi", "⋯"), ("ddots", "⋱"),
    ]
    for (name, text) in ellipses { table[name] = Symbol(text, .inner) }
    let largeOperators: [(String, String)] = [
        ("sum", "∑"), ("prod", "∏"), ("coprod", "∐"), ("int", "∫"), ("iint", "∬"), ("iiint", "∭"),
        ("oint", "∮"), ("bigcup", "⋃"), ("bigcap", "⋂"), ("bigoplus", "⨁"), ("bigotimes", "⨂"),
        ("bigodot", "⨀"), ("bigvee", "⋁"), ("bigwedge", "⋀"), ("bigsqcup", "⨆"), ("biguplus", "⨄"),
    ]
    for (name, text) in largeOperators { table[name] = Symbol(text, .op) }
    let binary: [(String, String)] = [
        ("pm", "±"), ("mp", "∓"), ("times", "×"), ("cdot", "·"), ("div", "÷"), ("ast", "∗"),
        ("star", "⋆"), ("circ", "∘"), ("bullet", "•"), ("oplus", "⊕"), ("otimes", "⊗"), ("odot", "⊙"),
        ("ominus", "⊖"), ("oslash", "⊘"), ("cup", "∪"), ("cap", "∩"), ("setminus", "∖"),
        ("wedge", "∧"), ("land", "∧"), ("vee", "∨"), ("lor", "∨"), ("sqcup", "⊔"), ("sqcap", "⊓"),
        ("uplus", "⊎"), ("diamond", "⋄"), ("wr", "≀"), ("bmod", "mod"), ("mod", "mod"),
    ]
    for (name, text) in binary { table[name] = Symbol(text, .bin) }
    let relations: [(String, String)] = [
        ("le", "≤"), ("leq", "≤"), ("ge", "≥"), ("geq", "≥"), ("leqslant", "⩽"), ("geqslant", "⩾"),
        ("ne", "≠"), ("neq", "≠"), ("approx", "≈"), ("equiv", "≡"), ("sim", "∼"), ("simeq", "≃"),
        ("cong", "≅"), ("propto", "∝"), ("in", "∈"), ("notin", "∉"), ("ni", "∋"), ("subset", "⊂"),
        ("subseteq", "⊆"), ("supset", "⊃"), ("supseteq", "⊇"), ("subsetneq", "⊊"), ("supsetneq", "⊋"),
        ("to", "→"), ("rightarrow", "→"), ("leftarrow", "←"), ("gets", "←"), ("Rightarrow", "⇒"),
        ("Leftarrow", "⇐"), ("Leftrightarrow", "⇔"), ("leftrightarrow", "↔"), ("iff", "⟺"),
        ("implies", "⟹"), ("impliedby", "⟸"), ("mapsto", "↦"), ("longrightarrow", "⟶"),
        ("longleftarrow", "⟵"), ("Longrightarrow", "⟹"), ("Longleftarrow", "⟸"),
        ("longmapsto", "⟼"), ("hookrightarrow", "↪"), ("rightharpoonup", "⇀"), ("ll", "≪"),
        ("gg", "≫"), ("mid", "|"), ("nmid", "∤"), ("parallel", "∥"), ("perp", "⊥"), ("models", "⊨"),
        ("vdash", "⊢"), ("dashv", "⊣"), ("prec", "≺"), ("succ", "≻"), ("preceq", "⪯"), ("succeq", "⪰"),
        ("asymp", "≍"), ("doteq", "≐"), ("coloneqq", "≔"), ("eqqcolon", "≕"), ("triangleq", "≜"),
        ("lesssim", "≲"), ("gtrsim", "≳"), ("nleq", "≰"), ("ngeq", "≱"), ("approxeq", "≊"),
        ("sqsubseteq", "⊑"), ("sqsupseteq", "⊒"),
    ]
    for (name, text) in relations { table[name] = Symbol(text, .rel) }
    let spaces: [(String, String)] = [
        (",", " "), (":", " "), (";", " "), (">", " "), ("enspace", " "), ("thinspace", " "),
        ("medspace", " "), ("thickspace", " "), ("quad", "  "), ("qquad", "    "),
    ]
    for (name, text) in spaces { table[name] = Symbol(text, .space) }
    let brackets: [(String, String, Atom.Kind)] = [
        ("{", "{", .open), ("}", "}", .close), ("lbrace", "{", .open), ("rbrace", "}", .close),
        ("lbrack", "[", .open), ("rbrack", "]", .close), ("langle", "⟨", .open), ("rangle", "⟩", .close),
        ("lceil", "⌈", .open), ("rceil", "⌉", .close), ("lfloor", "⌊", .open), ("rfloor", "⌋", .close),
        ("lvert", "|", .open), ("rvert", "|", .close), ("lVert", "‖", .open), ("rVert", "‖", .close),
    ]
    for (name, text, kind) in brackets { table[name] = Symbol(text, kind) }
    table["colon"] = Symbol(":", .punct)
    return table
}()

/// Commands allowed after `\left`, `\right` and `\big`.
private let delimiterCommands: Set<String> = [
    "{", "}", "|", "lbrace", "rbrace", "lbrack", "rbrack", "langle", "rangle", "lceil", "rceil",
    "lfloor", "rfloor", "lvert", "rvert", "lVert", "rVert", "vert", "Vert", "backslash",
    "uparrow", "downarrow", "Uparrow", "Downarrow",
]

private let functionNames: [String: String] = {
    var table: [String: String] = ["liminf": "lim inf", "limsup": "lim sup"]
    for name in ["log", "ln", "lg", "exp", "max", "min", "sup", "inf", "lim", "arg", "det", "dim", "ker",
                 "deg", "gcd", "hom", "Pr", "sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh",
                 "tanh", "coth", "arcsin", "arccos", "arctan"] {
        table[name] = name
    }
    return table
}()

private let accents: [String: Unicode.Scalar] = [
    "hat": "\u{0302}", "widehat": "\u{0302}", "check": "\u{030C}", "tilde": "\u{0303}",
    "widetilde": "\u{0303}", "acute": "\u{0301}", "grave": "\u{0300}", "dot": "\u{0307}",
    "ddot": "\u{0308}", "breve": "\u{0306}", "bar": "\u{0304}", "vec": "\u{20D7}",
    "mathring": "\u{030A}", "overline": "\u{0305}", "underline": "\u{0332}",
    "overrightarrow": "\u{20D7}",
]

/// Commands that only change TeX's spacing or sizing; a terminal has nothing to show for them.
private let ignoredCommands: Set<String> = [
    "displaystyle", "textstyle", "scriptstyle", "scriptscriptstyle", "limits", "nolimits", "nonumber",
    "notag", "!", "negthinspace", "negmedspace", "negthickspace", "/", "strut", "mathstrut",
]

private let classCommands: [String: Atom.Kind] = [
    "mathop": .op, "mathbin": .bin, "mathrel": .rel, "mathord": .ord, "mathopen": .open,
    "mathclose": .close, "mathpunct": .punct, "mathinner": .inner,
]

private let negations: [String: String] = [
    "=": "≠", "∈": "∉", "≡": "≢", "<": "≮", ">": "≯", "≤": "≰", "≥": "≱", "⊂": "⊄", "⊆": "⊈",
    "∼": "≁", "≈": "≉", "|": "∤", "∃": "∄",
]

private let relationCharacters: Set<Unicode.Scalar> = Set(
    "≤≥≠≈≡∼≃≅∝∈∉∋⊂⊆⊃⊇⊊⊋→←⇒⇐⇔↔⟺⟹⟸↦⟶⟵⟼↪≪≫∣∤∥⊥⊨⊢⊣≺≻⪯⪰≍≐≔≕≜≲≳⩽⩾≰≱≊≢≮≯⊄⊈≁≉".unicodeScalars)

private let binaryCharacters: Set<Unicode.Scalar> = Set("±∓×÷·∗⋆∘•⊕⊗⊙⊖⊘∪∩∖∧∨⊔⊓⊎⋄−".unicodeScalars)

private func scriptTable(_ pairs: String) -> [Unicode.Scalar: String] {
    // Pairs of (character, script form) written back to back.
    var table: [Unicode.Scalar: String] = [:]
    let scalars = Array(pairs.unicodeScalars)
    var k = 0
    while k + 1 < scalars.count {
        table[scalars[k]] = String(scalars[k + 1])
        k += 2
    }
    return table
}

/// Characters with a superscript form. `′`, `*` and daggers are raised already in plain text.
private let superscripts: [Unicode.Scalar: String] = scriptTable(
    "0⁰1¹2²3³4⁴5⁵6⁶7⁷8⁸9⁹+⁺−⁻-⁻=⁼(⁽)⁾"
        + "aᵃbᵇcᶜdᵈeᵉfᶠgᵍhʰiⁱjʲkᵏlˡmᵐnⁿoᵒpᵖrʳsˢtᵗuᵘvᵛwʷxˣyʸzᶻ"
        + "AᴬBᴮDᴰEᴱGᴳHᴴIᴵJᴶKᴷLᴸMᴹNᴺOᴼPᴾRᴿTᵀUᵁVⱽWᵂ"
        + "αᵅβᵝγᵞδᵟεᵋϵᵋθᶿιᶥφᵠϕᵠχᵡ"
        + "⊤ᵀ′′″″‴‴**∗*⋆⋆††‡‡∘°")

/// Characters with a subscript form.
private let subscripts: [Unicode.Scalar: String] = scriptTable(
    "0₀1₁2₂3₃4₄5₅6₆7₇8₈9₉+₊−₋-₋=₌(₍)₎"
        + "aₐeₑhₕiᵢjⱼkₖlₗmₘnₙoₒpₚrᵣsₛtₜuᵤvᵥxₓ"
        + "βᵦγᵧρᵨφᵩϕᵩχᵪ")
