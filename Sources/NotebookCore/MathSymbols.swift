// The tables: alphabets, symbols, functions, accents, script characters.

// MARK: - Alphabets

enum Font: Sendable {
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

let fonts: [String: Font] = [
    "mathbb": .blackboard, "mathcal": .calligraphic, "mathscr": .calligraphic, "mathfrak": .fraktur,
    "mathbf": .bold, "boldsymbol": .bold, "bm": .bold,
    "mathrm": .upright, "mathit": .upright, "mathsf": .upright, "mathtt": .upright, "mathnormal": .upright,
]

// MARK: - Tables

let symbols: [String: Symbol] = {
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
let delimiterCommands: Set<String> = [
    "{", "}", "|", "lbrace", "rbrace", "lbrack", "rbrack", "langle", "rangle", "lceil", "rceil",
    "lfloor", "rfloor", "lvert", "rvert", "lVert", "rVert", "vert", "Vert", "backslash",
    "uparrow", "downarrow", "Uparrow", "Downarrow",
]

let functionNames: [String: String] = {
    var table: [String: String] = ["liminf": "lim inf", "limsup": "lim sup"]
    for name in ["log", "ln", "lg", "exp", "max", "min", "sup", "inf", "lim", "arg", "det", "dim", "ker",
                 "deg", "gcd", "hom", "Pr", "sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh",
                 "tanh", "coth", "arcsin", "arccos", "arctan"] {
        table[name] = name
    }
    return table
}()

let accents: [String: Unicode.Scalar] = [
    "hat": "\u{0302}", "widehat": "\u{0302}", "check": "\u{030C}", "tilde": "\u{0303}",
    "widetilde": "\u{0303}", "acute": "\u{0301}", "grave": "\u{0300}", "dot": "\u{0307}",
    "ddot": "\u{0308}", "breve": "\u{0306}", "bar": "\u{0304}", "vec": "\u{20D7}",
    "mathring": "\u{030A}", "overline": "\u{0305}", "underline": "\u{0332}",
    "overrightarrow": "\u{20D7}",
]

/// Commands that only change TeX's spacing or sizing; a terminal has nothing to show for them.
let ignoredCommands: Set<String> = [
    "displaystyle", "textstyle", "scriptstyle", "scriptscriptstyle", "limits", "nolimits", "nonumber",
    "notag", "!", "negthinspace", "negmedspace", "negthickspace", "/", "strut", "mathstrut",
]

let classCommands: [String: Atom.Kind] = [
    "mathop": .op, "mathbin": .bin, "mathrel": .rel, "mathord": .ord, "mathopen": .open,
    "mathclose": .close, "mathpunct": .punct, "mathinner": .inner,
]

let negations: [String: String] = [
    "=": "≠", "∈": "∉", "≡": "≢", "<": "≮", ">": "≯", "≤": "≰", "≥": "≱", "⊂": "⊄", "⊆": "⊈",
    "∼": "≁", "≈": "≉", "|": "∤", "∃": "∄",
]

let relationCharacters: Set<Unicode.Scalar> = Set(
    "≤≥≠≈≡∼≃≅∝∈∉∋⊂⊆⊃⊇⊊⊋→←⇒⇐⇔↔⟺⟹⟸↦⟶⟵⟼↪≪≫∣∤∥⊥⊨⊢⊣≺≻⪯⪰≍≐≔≕≜≲≳⩽⩾≰≱≊≢≮≯⊄⊈≁≉".unicodeScalars)

let binaryCharacters: Set<Unicode.Scalar> = Set("±∓×÷·∗⋆∘•⊕⊗⊙⊖⊘∪∩∖∧∨⊔⊓⊎⋄−".unicodeScalars)

func scriptTable(_ pairs: String) -> [Unicode.Scalar: String] {
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
let superscripts: [Unicode.Scalar: String] = scriptTable(
    "0⁰1¹2²3³4⁴5⁵6⁶7⁷8⁸9⁹+⁺−⁻-⁻=⁼(⁽)⁾"
        + "aᵃbᵇcᶜdᵈeᵉfᶠgᵍhʰiⁱjʲkᵏlˡmᵐnⁿoᵒpᵖrʳsˢtᵗuᵘvᵛwʷxˣyʸzᶻ"
        + "AᴬBᴮDᴰEᴱGᴳHᴴIᴵJᴶKᴷLᴸMᴹNᴺOᴼPᴾRᴿTᵀUᵁVⱽWᵂ"
        + "αᵅβᵝγᵞδᵟεᵋϵᵋθᶿιᶥφᵠϕᵠχᵡ"
        + "⊤ᵀ′′″″‴‴**∗*⋆⋆††‡‡∘°")

/// Characters with a subscript form.
let subscripts: [Unicode.Scalar: String] = scriptTable(
    "0₀1₁2₂3₃4₄5₅6₆7₇8₈9₉+₊−₋-₋=₌(₍)₎"
        + "aₐeₑhₕiᵢjⱼkₖlₗmₘnₙoₒpₚrᵣsₛtₜuᵤvᵥxₓ"
        + "βᵦγᵧρᵨφᵩϕᵩχᵪ")
