// The TeX subset MathText reads: a recursive-descent parser from source to atoms.

// MARK: - Parser

struct MathParser {
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
        // In MathML a script belongs to the whole group before it (`{a+b}^2`); the terminal
        // text, which has no such grouping, raises the last atom.
        let baseMarkup = atoms.count > 1 ? MathMarkup.row(atoms) : atoms.last?.markup ?? "<mrow></mrow>"
        let limits = atoms.count == 1 && (atoms[0].kind == .op || (atoms[0].kind == .fn && MathMarkup.limitFunctions.contains(atoms[0].text)))
        for k in atoms.indices { atoms[k].markup = "" }
        var base = atoms.popLast() ?? Atom("", .ord)
        if let sub {
            let script = Layout.script(sub, superscript: false)
            base.text += script.text
            if script.fellBack { (base.needsRoomBefore, base.needsRoomAfter) = (true, true) }
        }
        var supAtoms = sup ?? []
        if primes > 0 {
            let mark = primes == 2 ? "″" : primes == 3 ? "‴" : String(repeating: "′", count: primes)
            supAtoms.insert(Atom(mark, .ord, markup: "<mo>\(mark)</mo>"), at: 0)
        }
        if !supAtoms.isEmpty {
            let script = Layout.script(supAtoms, superscript: true)
            base.text += script.text
            if script.fellBack { (base.needsRoomBefore, base.needsRoomAfter) = (true, true) }
        }
        base.markup = MathMarkup.scripts(base: baseMarkup, limits: limits, sub: sub.map(MathMarkup.row),
                                         sup: supAtoms.isEmpty ? nil : MathMarkup.row(supAtoms))
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
            let argument = try parseArg()
            return [Atom(Layout.join(argument, style: .script), kind, markup: MathMarkup.row(argument))]
        }
        switch name {
        case "frac", "dfrac", "tfrac", "cfrac":
            let numerator = try parseArg()
            let denominator = try parseArg()
            return [Layout.fraction(numerator, denominator)]
        case "binom", "dbinom", "tbinom":
            let n = try parseArg()
            let k = try parseArg()
            let markup = "<mrow><mo>(</mo><mfrac linethickness=\"0\">" + MathMarkup.row(n) + MathMarkup.row(k) + "</mfrac><mo>)</mo></mrow>"
            return [Atom("(\(Layout.join(n, style: .text)) choose \(Layout.join(k, style: .text)))", .ord, markup: markup)]
        case "sqrt":
            skipSpace()
            var index: [Atom]?
            if i < s.count, s[i] == "[" {
                i += 1
                index = try parseList(until: "]")
            }
            return [try Layout.root(parseArg(), index: index)]
        case "text", "textrm", "textit", "textbf", "textsf", "texttt", "textnormal", "mbox":
            let text = try parseTextArg()
            return [Atom(text, .ord, markup: "<mtext>" + HTMLText.escape(text) + "</mtext>")]
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
