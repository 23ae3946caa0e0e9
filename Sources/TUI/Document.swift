import Foundation
import NotebookCore

/// A place the focus can rest on, for `n`/`p`: a cell or a question.
enum Stop: Sendable, Equatable {
    case cell(Int)
    case question(Int)

    /// The stop a block of the lesson is, if any.
    init?(_ block: LessonBlock) {
        switch block {
        case .cell(let i): self = .cell(i)
        case .question(let i): self = .question(i)
        case .prose: return nil
        }
    }
}

/// The lesson laid out as lines for a width: prose with its values filled in, and the cells.
struct DocumentLayout {
    /// The stops in document order, with their first line and one past their last.
    var stops: [(stop: Stop, start: Int, end: Int)] = []

    var lines: [Line]
    /// First line of each cell (its header), by cell index.
    var cellStarts: [Int]
    /// One past the last line of each cell.
    var cellEnds: [Int]
    /// The line holding the parameter editor, when it is in the text.
    var editorLine: Int?
    /// First line of each question, by question index.
    var questionStarts: [Int] = []
    /// The line holding the answer editor, when one is open.
    var answerLine: Int?
    /// False for the first lines only (see ``Document/layout(_:_:width:inlineCells:lineBudget:)``).
    var isComplete = true

    /// The cell whose lines contain `line`, or the last cell starting before it.
    func cell(atLine line: Int) -> Int? {
        var found: Int?
        for (i, start) in cellStarts.enumerated() where start <= line { found = i }
        return found
    }
}

enum Document {
    /// Lays out the open lesson. With `inlineCells`, each cell's parameters and outputs follow
    /// its header; otherwise a one-line parameter summary does, and the side panel shows the rest.
    ///
    /// With a `lineBudget`, it stops after the block that takes it past that many lines; the
    /// lines it has are the same as the whole layout's first ones (a block's lines depend only
    /// on the blocks before it), and ``DocumentLayout/isComplete`` is false.
    static func layout(_ view: ViewContext, _ session: LessonSession, width: Int, inlineCells: Bool,
                       lineBudget: Int? = nil, proseLayouts: ProseLayouts? = nil) -> DocumentLayout {
        let w = max(10, width)
        var lines: [Line] = []
        var starts = Array(repeating: 0, count: session.lesson.cells.count)
        var ends = starts
        var editorLine: Int?
        // The title is in the title bar; the summary opens the text.
        if !session.lesson.summary.isEmpty {
            lines += Wrap.wrap([Span(session.lesson.summary, view.theme.dim)], width: w)
            lines.append([])
        }
        let questionMask = session.questions.mask(for: session.lesson)
        let mask: (Placeholder) -> String? = { questionMask.question(hiding: $0, in: session.notebook) }
        var questionStarts = Array(repeating: 0, count: session.lesson.questions.count)
        var answerLine: Int?
        var stops: [(stop: Stop, start: Int, end: Int)] = []
        for block in session.lesson.blocks {
            // Past the budget with text still to show (the whole layout drops blank lines at
            // its end only, so its count is past the budget too).
            if let lineBudget, lines.count > lineBudget, lines[lineBudget...].contains(where: { !$0.isEmpty }) {
                return DocumentLayout(stops: stops, lines: lines, cellStarts: starts, cellEnds: ends, editorLine: editorLine,
                                      questionStarts: questionStarts, answerLine: answerLine, isComplete: false)
            }
            switch block {
            case .prose(let proseLines):
                let make = { prose(proseLines, view: view, notebook: session.notebook, width: w, mask: mask) }
                if let proseLayouts {
                    lines += proseLayouts.lines(for: proseKey(proseLines, notebook: session.notebook, width: w, mask: mask), make: make)
                } else {
                    lines += make()
                }
            case .question(let index):
                guard session.lesson.questions.indices.contains(index) else { continue }
                if lines.last.map({ !$0.isEmpty }) ?? false { lines.append([]) }
                questionStarts[index] = lines.count
                let question = QuestionView.lines(view, session, index, width: w, mask: mask)
                if let e = question.editorLine { answerLine = lines.count + e }
                lines += question.lines
                stops.append((.question(index), questionStarts[index], lines.count))
                lines.append([])
            case .cell(let index):
                guard session.lesson.cells.indices.contains(index) else { continue }
                if lines.last.map({ !$0.isEmpty }) ?? false { lines.append([]) }
                starts[index] = lines.count
                lines.append(CellView.header(view, session, index, width: w))
                let cell = session.lesson.cells[index]
                if inlineCells {
                    let detail = CellView.detail(view, session, index, width: max(8, w - 2), includeHeader: false)
                    if let e = detail.editorLine { editorLine = lines.count + e }
                    let bar = Span("│ ", index == session.focusedCell ? view.theme.accent : view.theme.dim)
                    lines += detail.lines.map { [bar] + $0 }
                } else {
                    let summary = CellView.parameterSummary(view, session, cell, width: w)
                    if !summary.isEmpty { lines.append(summary) }
                }
                ends[index] = lines.count
                stops.append((.cell(index), starts[index], ends[index]))
                lines.append([])
            }
        }
        while lines.last?.isEmpty == true, lines.count > 1 { lines.removeLast() }
        return DocumentLayout(stops: stops, lines: lines, cellStarts: starts, cellEnds: ends, editorLine: editorLine,
                              questionStarts: questionStarts, answerLine: answerLine)
    }

    /// What the lines of a prose block depend on, besides the theme and the math renderer:
    /// its text, the width, and what each of its placeholders shows.
    static func proseKey(_ proseLines: [ProseLine], notebook: Notebook, width: Int,
                         mask: (Placeholder) -> String?) -> ProseLayouts.Key {
        var shown: [ProseLayouts.Shown] = []
        for line in proseLines {
            for case .placeholder(let placeholder) in line.segments {
                if let question = mask(placeholder) {
                    shown.append(.question(question))
                } else {
                    let resolved = notebook.resolve(placeholder)
                    shown.append(.value(resolved.text, available: resolved.available))
                }
            }
        }
        return ProseLayouts.Key(width: width, raw: proseLines.map(\.raw), shown: shown)
    }

    private enum Kind { case paragraph, heading(Int), item(indent: Int, bullet: String), quote }

    /// Markdown prose: headings, paragraphs, list items, quotes, code blocks, display math
    /// and tables (shown as written), with inline emphasis, code, math, links and values.
    static func prose(_ proseLines: [ProseLine], view: ViewContext, notebook: Notebook, width: Int,
                      mask: (Placeholder) -> String? = { _ in nil }) -> [Line] {
        let theme = view.theme
        var out: [Line] = []
        var pending: [ProseSegment] = []
        var kind = Kind.paragraph
        var inDisplayMath = false
        var mathBuffer = ""

        func flush() {
            guard !pending.isEmpty else { return }
            let spans = inline(pending, view: view, notebook: notebook, base: baseStyle(kind), mask: mask)
            switch kind {
            case .paragraph:
                out += Wrap.wrap(spans, width: width)
                out.append([])
            case .heading(let level):
                if let last = out.last, !last.isEmpty { out.append([]) }
                out += Wrap.wrap(spans, width: width)
                out.append([])
                _ = level
            case .item(let indent, let bullet):
                let bulletWidth = TextWidth.of(bullet) + 1
                let wrapped = Wrap.wrap(spans, width: width, indent: indent + bulletWidth, firstIndent: indent + bulletWidth)
                for (i, var line) in wrapped.enumerated() {
                    if i == 0, !line.isEmpty {
                        // Replace the indent with the bullet.
                        line[0] = Span(String(repeating: " ", count: indent) + bullet + " ", theme.accent)
                    }
                    out.append(line)
                }
            case .quote:
                out += Wrap.wrap(spans, width: max(4, width - 2)).map { [Span("│ ", theme.dim)] + $0 }
                out.append([])
            }
            pending = []
            kind = .paragraph
        }

        func baseStyle(_ kind: Kind) -> Style {
            switch kind {
            case .heading(1): return theme.heading1
            case .heading(2): return theme.heading2
            case .heading: return theme.heading3
            case .quote: return theme.dim
            default: return .plain
            }
        }

        func append(_ segments: [ProseSegment]) {
            if !pending.isEmpty { pending.append(.text(" ")) }
            pending += segments
        }

        for line in proseLines {
            let raw = line.raw
            let trimmed = raw.trimmingBlanks
            if line.isCode {
                flush()
                if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                    if out.last.map({ !$0.isEmpty }) ?? false, trimmed.count > 3 || out.last.map({ $0.first?.style != theme.code }) == true {
                        out.append([])
                    }
                    continue
                }
                out.append([Span("  " + raw, theme.code)])
                continue
            }
            if inDisplayMath {
                if let end = trimmed.range(of: "$$") {
                    mathBuffer += " " + trimmed[..<end.lowerBound]
                    out += displayMath(mathBuffer, view: view, width: width)
                    inDisplayMath = false
                    mathBuffer = ""
                } else {
                    mathBuffer += " " + trimmed
                }
                continue
            }
            if trimmed.isEmpty {
                flush()
                if out.last.map({ !$0.isEmpty }) ?? false { out.append([]) }
                continue
            }
            if trimmed.hasPrefix("$$") {
                flush()
                let rest = trimmed.dropFirst(2)
                if let end = rest.range(of: "$$") {
                    out += displayMath(String(rest[..<end.lowerBound]), view: view, width: width)
                } else {
                    inDisplayMath = true
                    mathBuffer = String(rest)
                }
                continue
            }
            if trimmed.hasPrefix("|") {
                flush()
                out.append([Span(raw, .plain)])
                continue
            }
            // Trailing spaces would pile up where lines join into one paragraph.
            var segments = trimmingTrailingWhitespace(line.segments)
            if trimmed.hasPrefix("#") {
                flush()
                let level = trimmed.prefix { $0 == "#" }.count
                let afterHashes = trimmed.dropFirst(level)
                let spaces = afterHashes.prefix { $0 == " " }.count
                segments = strip(segments, prefixLength: leadingWhitespace(raw) + level + spaces)
                kind = .heading(level)
                append(segments)
                flush()
                continue
            }
            if let bullet = listBullet(trimmed) {
                flush()
                let leading = leadingWhitespace(raw)
                kind = .item(indent: min(leading, 8), bullet: bullet.display)
                append(strip(segments, prefixLength: leading + bullet.length))
                continue
            }
            if trimmed.hasPrefix(">") {
                if case .quote = kind {} else { flush() }
                kind = .quote
                let leading = leadingWhitespace(raw)
                let strip1 = trimmed.hasPrefix("> ") ? 2 : 1
                append(strip(segments, prefixLength: leading + strip1))
                continue
            }
            if case .item = kind, raw.first == " " || raw.first == "\t" {
                append(strip(segments, prefixLength: leadingWhitespace(raw)))
                continue
            }
            if case .item = kind { flush(); if out.last.map({ !$0.isEmpty }) ?? false { out.append([]) } }
            if case .quote = kind { flush() }
            append(segments)
        }
        if inDisplayMath { out += displayMath(mathBuffer, view: view, width: width) }
        flush()
        return out
    }

    private static func displayMath(_ tex: String, view: ViewContext, width: Int) -> [Line] {
        let text = view.renderMath(tex.trimmingBlanks, true)
        var lines: [Line] = []
        for row in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lines += Wrap.wrap([Span(String(row), view.theme.math)], width: width, indent: 4, firstIndent: 4)
        }
        lines.append([])
        return lines
    }

    private static func listBullet(_ trimmed: String) -> (display: String, length: Int)? {
        for marker in ["- ", "* ", "+ "] where trimmed.hasPrefix(marker) { return ("•", 2) }
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, digits.count <= 3 {
            let rest = trimmed.dropFirst(digits.count)
            if rest.hasPrefix(". ") || rest.hasPrefix(") ") { return (digits + ".", digits.count + 2) }
        }
        return nil
    }

    /// The characters ``Swift/StringProtocol/trimmingBlanks`` removes from the start of `raw`
    /// (not from its end: trailing spaces must not shorten what is stripped at the front).
    static func leadingWhitespace(_ raw: String) -> Int {
        raw.prefix(while: \.isBlank).count
    }

    /// The segments without the spaces that end the last one.
    private static func trimmingTrailingWhitespace(_ segments: [ProseSegment]) -> [ProseSegment] {
        guard case .text(let t)? = segments.last, let last = t.last, last == " " || last == "\t" else { return segments }
        // Most lines end in a word; only the few with trailing blanks are copied.
        var result = segments
        let end = t.lastIndex { $0 != " " && $0 != "\t" }.map { t.index(after: $0) } ?? t.startIndex
        result[result.count - 1] = .text(String(t[..<end]))
        return result
    }

    /// Drops the first `prefixLength` characters of the text.
    private static func strip(_ segments: [ProseSegment], prefixLength: Int) -> [ProseSegment] {
        var remaining = prefixLength
        var result: [ProseSegment] = []
        for segment in segments {
            if remaining > 0, case .text(let t) = segment {
                if t.count <= remaining { remaining -= t.count; continue }
                result.append(.text(String(t.dropFirst(remaining))))
                remaining = 0
            } else {
                result.append(segment)
            }
        }
        return result
    }

    /// Inline Markdown: `**strong**`, `*emphasis*`, `` `code` ``, `$math$` (and GitHub's
    /// `` $`math`$ ``), `[links](url)`, backslash escapes, and `{{...}}` values highlighted.
    ///
    /// An inline `$` opens math only when followed by a non-space and closes only when
    /// preceded by a non-space and not followed by a digit, as ``MathText`` does, so prices
    /// such as "$5 or $10" stay prose.
    static func inline(_ segments: [ProseSegment], view: ViewContext, notebook: Notebook, base: Style,
                       mask: (Placeholder) -> String? = { _ in nil }) -> Line {
        let theme = view.theme
        var spans: Line = []
        var bold = false, italic = false, code = false
        var text = ""

        func style() -> Style {
            if code { return theme.code }
            var s = base
            if bold { s.bold = true }
            if italic { s.underline = true }
            return s
        }
        func emit() {
            if !text.isEmpty { spans.append(Span(text, style())) }
            text = ""
        }
        func math(_ tex: [Character]) {
            emit()
            spans.append(Span(view.renderMath(String(tex), false), theme.math))
        }
        for segment in segments {
            switch segment {
            case .placeholder(let placeholder):
                emit()
                if let question = mask(placeholder) {
                    spans.append(Span(QuestionMask.marker(question), theme.valueMissing))
                    continue
                }
                let resolved = notebook.resolve(placeholder)
                spans.append(Span(resolved.text, resolved.available ? theme.value : theme.valueMissing))
            case .text(let t):
                let chars = Array(t)
                // Whether a position closes `$...$` (or `$`...`$`, or is a `]`/`)`) does not
                // depend on where the search for it began. So a search that reached the end
                // of the text fails from every later start too, and one that found a closer
                // at `k` finds the same `k` from any later start up to `k`: remembering the
                // last answer keeps a line full of unmatched `$` or `[` linear, as in
                // `MathText.renderInline`.
                var noDollarCloserFrom = Int.max
                var noBacktickDollarFrom = Int.max
                var bracketSearch = NextIndexSearch(target: "]")
                var parenSearch = NextIndexSearch(target: ")")
                var i = 0
                while i < chars.count {
                    let c = chars[i]
                    let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
                    if code {
                        if c == "`" { emit(); code = false } else { text.append(c) }
                        i += 1
                        continue
                    }
                    switch c {
                    case "\\" where next != nil && "\\`*_$[]{}#".contains(next!):
                        text.append(next!)
                        i += 2
                        continue
                    case "`":
                        emit(); code = true
                    case "$" where next == "`":
                        // $`...`$
                        var j = i + 2
                        if j < noBacktickDollarFrom {
                            while j + 1 < chars.count && !(chars[j] == "`" && chars[j + 1] == "$") { j += 1 }
                            if j + 1 < chars.count {
                                math(Array(chars[(i + 2)..<j]))
                                i = j + 2
                                continue
                            }
                            noBacktickDollarFrom = i + 2
                        }
                        text.append(c)
                    case "$" where next.map { !$0.isWhitespace && $0 != "$" } == true:
                        var j = i + 2
                        var close: Int?
                        if j < noDollarCloserFrom {
                            while j < chars.count {
                                if chars[j] == "$" && !chars[j - 1].isWhitespace && chars[j - 1] != "\\"
                                    && (j + 1 >= chars.count || !chars[j + 1].isNumber) {
                                    close = j
                                    break
                                }
                                j += 1
                            }
                            if close == nil { noDollarCloserFrom = i + 2 }
                        }
                        if let close {
                            math(Array(chars[(i + 1)..<close]))
                            i = close + 1
                            continue
                        }
                        text.append(c)
                    case "*" where next == "*":
                        emit(); bold.toggle()
                        i += 2
                        continue
                    case "*", "_":
                        let prev: Character? = i > 0 ? chars[i - 1] : nil
                        let opening = !italic && next.map { !$0.isWhitespace } == true && (prev == nil || !(prev!.isLetter || prev!.isNumber))
                        let closing = italic && prev.map { !$0.isWhitespace } == true && (next == nil || !(next!.isLetter || next!.isNumber))
                        if opening || closing { emit(); italic.toggle() } else { text.append(c) }
                    case "[":
                        // [text](url): show the text as a link.
                        if let close = bracketSearch.next(in: chars, from: i + 1), close + 1 < chars.count, chars[close + 1] == "(",
                           let end = parenSearch.next(in: chars, from: close + 2) {
                            emit()
                            spans.append(Span(String(chars[(i + 1)..<close]), theme.link))
                            i = end + 1
                            continue
                        }
                        text.append(c)
                    default:
                        text.append(c)
                    }
                    i += 1
                }
            }
        }
        emit()
        return spans
    }
}

extension Character {
    /// Whether the character is blank as `CharacterSet.whitespaces` has it (a tab, a Unicode
    /// space separator, or the zero-width space), asked without Foundation: its `NSString`
    /// bridge was a tenth of the time a lesson took to lay out.
    var isBlank: Bool {
        self == " " || unicodeScalars.allSatisfy { scalar in
            switch scalar.value {
            case 0x09, 0x20, 0xA0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000: true
            default: false
            }
        }
    }
}

extension StringProtocol {
    /// Without the blank characters (``Swift/Character/isBlank``) at either end.
    var trimmingBlanks: String {
        guard let first = firstIndex(where: { !$0.isBlank }), let last = lastIndex(where: { !$0.isBlank }) else { return "" }
        return String(self[first...last])
    }
}

/// Prose blocks already laid out, kept across layouts. An edit changes what a few
/// placeholders show, and wrapping every paragraph and rendering all its math again took most
/// of the edit → frame cycle of a long lesson. Valid for one theme and math renderer:
/// ``AppState`` replaces its ``LayoutCache``, and with it this, when either changes.
final class ProseLayouts: @unchecked Sendable {
    struct Key: Hashable {
        var width: Int
        var raw: [String]
        var shown: [Shown]
    }

    /// What a placeholder shows: a question's marker in its place, or its value.
    enum Shown: Hashable {
        case question(String)
        case value(String, available: Bool)
    }

    /// Blocks kept at most (twelve lessons at a few widths need a few hundred); past it the
    /// cache starts again.
    static let limit = 4_096

    // Guarded by `lock`: copies of a state on different threads share this object.
    private let lock = NSLock()
    private var kept: [Key: [Line]] = [:]
    private var made = 0

    /// How many blocks were laid out (not reused), for tests.
    var blocksMade: Int { lock.withLock { made } }

    func lines(for key: Key, make: () -> [Line]) -> [Line] {
        if let hit = lock.withLock({ kept[key] }) { return hit }
        let lines = make()
        lock.withLock {
            if kept.count >= Self.limit { kept.removeAll(keepingCapacity: true) }
            kept[key] = lines
            made += 1
        }
        return lines
    }
}
