// Atoms laid out as terminal text: scripts, fractions, roots, matrices.

// MARK: - Layout

enum Style {
    /// Ordinary math: spaces around binary operators, relations and after punctuation.
    case text
    /// Sub- and superscripts: TeX drops those spaces there; only operator names keep theirs.
    case script
}

enum Layout {
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
        var atom = Atom(top + "/" + bottom, .inner,
                        markup: "<mfrac>" + MathMarkup.row(numerator) + MathMarkup.row(denominator) + "</mfrac>")
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
        let markup = index.map { "<mroot>" + MathMarkup.row(body) + MathMarkup.row($0) + "</mroot>" }
            ?? "<msqrt>" + MathMarkup.row(body) + "</msqrt>"
        var atom = Atom(sign + (simple ? text : "(" + text + ")"), .ord, markup: markup)
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
        let tag = mark == "\u{0332}" ? "munder" : "mover"
        let markup = "<\(tag) accent=\"true\">" + MathMarkup.row(body) + "<mo>" + MathMarkup.accentMark(mark) + "</mo></\(tag)>"
        return Atom(out, .ord, markup: markup)
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
        atoms.map { atom in
            // Atoms that hold other markup (a fraction, a script) keep it unstyled in MathML.
            let isToken = atom.markup == MathMarkup.token(atom.text, atom.kind)
            guard font != .upright else {
                guard isToken, atom.kind == .ord, atom.text.unicodeScalars.count == 1 else { return atom }
                var upright = atom
                upright.markup = "<mi mathvariant=\"normal\">" + HTMLText.escape(atom.text) + "</mi>"
                return upright
            }
            var styled = atom
            styled.text = ""
            for c in atom.text.unicodeScalars {
                styled.text += font.styled(c) ?? String(c)
            }
            if isToken { styled.markup = MathMarkup.token(styled.text, styled.kind) }
            return styled
        }
    }
}
