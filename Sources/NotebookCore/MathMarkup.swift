// Atoms as MathML Core, for exported pages: the parser that renders math as terminal text
// also records each atom's markup, so one reading of the TeX serves both outputs.

enum MathMarkup {
    /// The markup of one token: numbers as `<mn>`, letters and ordinary symbols as `<mi>`,
    /// operators, relations and brackets as `<mo>` (the browser spaces them by its operator
    /// dictionary, as TeX does by atom class).
    static func token(_ text: String, _ kind: Atom.Kind) -> String {
        guard !text.isEmpty else { return "" }
        let escaped = HTMLText.escape(text)
        switch kind {
        case .space:
            let width = text.count >= 4 ? "2em" : text.count >= 2 ? "1em" : "0.2222em"
            return "<mspace width=\"\(width)\"/>"
        case .ord, .inner:
            if text.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || $0 == "." }) { return "<mn>\(escaped)</mn>" }
            let letters = text.unicodeScalars.allSatisfy { $0.properties.isAlphabetic }
            return letters ? "<mi>\(escaped)</mi>" : "<mo>\(escaped)</mo>"
        case .fn:
            return limitFunctions.contains(text)
                ? "<mo movablelimits=\"true\" form=\"prefix\">\(escaped)</mo>"
                : "<mi>\(escaped)</mi>"
        case .op:
            return "<mo largeop=\"true\" movablelimits=\"true\">\(escaped)</mo>"
        case .punct:
            return "<mo separator=\"true\">\(escaped)</mo>"
        case .bin, .rel, .open, .close:
            return "<mo>\(escaped)</mo>"
        }
    }

    /// Function names whose scripts go under them in display math (`\max_{a}`), as TeX's `\lim`.
    static let limitFunctions: Set<String> = ["lim", "max", "min", "sup", "inf", "lim inf", "lim sup"]

    /// Atoms in an `<mrow>`. A function name gets TeX's thin space before what it applies
    /// to, unless that is a bracket (`log x`, but `log(x)`); browsers add none after `<mi>`.
    static func row(_ atoms: [Atom]) -> String {
        var out = "<mrow>"
        // TeX's rule for a sign (`[−1, −2]`): the browser would space a lone `−` as binary.
        let shown = Layout.resolve(atoms).filter { !$0.markup.isEmpty }
        for (k, atom) in shown.enumerated() {
            out += atom.isUnarySign && atom.markup.hasPrefix("<mo>") ? "<mo form=\"prefix\">" + atom.markup.dropFirst(4) : atom.markup
            if atom.kind == .fn, k + 1 < shown.count, ![.open, .space, .punct, .close].contains(shown[k + 1].kind) {
                out += "<mspace width=\"0.1667em\"/>"
            }
        }
        return out + "</mrow>"
    }

    /// A base with scripts: `<munderover>` for large operators and limit functions, whose
    /// `movablelimits` lets the browser set the scripts beside them in inline math.
    static func scripts(base: String, limits: Bool, sub: String?, sup: String?) -> String {
        switch (sub, sup) {
        case (let sub?, let sup?): limits ? "<munderover>\(base)\(sub)\(sup)</munderover>" : "<msubsup>\(base)\(sub)\(sup)</msubsup>"
        case (let sub?, nil): limits ? "<munder>\(base)\(sub)</munder>" : "<msub>\(base)\(sub)</msub>"
        case (nil, let sup?): limits ? "<mover>\(base)\(sup)</mover>" : "<msup>\(base)\(sup)</msup>"
        case (nil, nil): base
        }
    }

    /// The spacing form of a combining accent, for `<mover accent="true">`.
    static func accentMark(_ mark: Unicode.Scalar) -> String {
        switch mark {
        case "\u{0302}": "^"
        case "\u{030C}": "ˇ"
        case "\u{0303}": "~"
        case "\u{0301}": "´"
        case "\u{0300}": "`"
        case "\u{0307}": "˙"
        case "\u{0308}": "¨"
        case "\u{0306}": "˘"
        case "\u{0304}", "\u{0305}": "¯"
        case "\u{20D7}": "→"
        case "\u{030A}": "˚"
        case "\u{0332}": "_"
        default: String(mark)
        }
    }

    /// A whole formula: `<math>` with the TeX source kept as an annotation (copy and paste
    /// gives it back; browsers display only the first child of `<semantics>`).
    static func math(_ atoms: [Atom], source: String, display: Bool) -> String {
        "<math" + (display ? " display=\"block\"" : "") + "><semantics>" + row(atoms)
            + "<annotation encoding=\"application/x-tex\">" + HTMLText.escape(source) + "</annotation></semantics></math>"
    }
}
