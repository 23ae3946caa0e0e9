/// Reads the lesson file format of docs/lesson-format.md into a ``Lesson``, collecting every syntax error
/// with its `file:line:column`. Checks that need the compute modules live in ``LessonLoader``.
public struct LessonParser {
    public let file: String
    private var errors: [LessonError] = []

    public init(file: String) {
        self.file = file
    }

    /// Parses `text`. The lesson is usable only when `errors` is empty; errors are in file order.
    public static func parse(_ text: String, file: String) -> (lesson: Lesson, errors: [LessonError]) {
        var parser = LessonParser(file: file)
        let lesson = parser.parseLesson(text)
        let errors = parser.errors.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        return (lesson, errors)
    }

    private mutating func fail(_ line: Int, _ column: Int, _ message: String) {
        errors.append(LessonError(SourceLocation(file: file, line: line, column: column), message))
    }

    private func at(_ line: Int, _ column: Int = 1) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column)
    }

    /// Lines longer than this (in bytes) are refused: no lesson needs one, and a megabyte of
    /// one line is more likely a mistake than data (data belongs in a compute module).
    public static let maxLineBytes = 512 << 10

    private mutating func parseLesson(_ text: String) -> Lesson {
        let lines = splitLines(text)
        var lesson = Lesson(id: "", title: "", file: file)
        let bodyStart = parseFrontMatter(lines, into: &lesson)
        parseBody(lines, from: bodyStart, into: &lesson)
        return lesson
    }

    /// The file's lines, over-long ones emptied (and reported), without a byte-order mark.
    private mutating func splitLines(_ text: String) -> [String] {
        var lines = LineEndings.lines(of: text)
        cleanLines(&lines)
        return lines
    }

    private mutating func cleanLines(_ lines: inout [String]) {
        for (index, line) in lines.enumerated() where line.utf8.count > Self.maxLineBytes {
            fail(index + 1, 1, "line is \(line.utf8.count) bytes long; lines are limited to \(Self.maxLineBytes)")
            lines[index] = ""
        }
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = String(first.dropFirst()) }
    }

    // MARK: Header only

    /// Parses what the lesson list needs and no more: the front matter, and the ids of the
    /// cells and questions as their fences give them. The errors are the front matter's; the
    /// body's are found when the lesson is parsed in full, on opening.
    ///
    /// The body is scanned as bytes: only fence lines become strings, so a lesson lists in a
    /// small fraction of the time its full parse takes.
    public static func parseHeader(_ text: String, file: String) -> (header: LessonHeader, errors: [LessonError]) {
        let bytes = Array(text.utf8)
        let lines = LineEndings.ranges(of: bytes)
        func line(_ index: Int) -> String { String(decoding: bytes[lines[index]], as: UTF8.self) }
        // The front matter runs to the first `---` after the first line.
        var frontCount = lines.count
        if lines.count > 1, let close = (1..<lines.count).first(where: { isRule(bytes[lines[$0]]) }) { frontCount = close + 1 }
        var parser = LessonParser(file: file)
        var frontLines = (0..<frontCount).map(line)
        parser.cleanLines(&frontLines)
        var lesson = Lesson(id: "", title: "", file: file)
        let bodyStart = parser.parseFrontMatter(frontLines, into: &lesson)
        var header = LessonHeader(id: lesson.id, title: lesson.title, order: lesson.order, summary: lesson.summary, file: file)
        var index = bodyStart
        while index < lines.count {
            guard mayBeFence(bytes[lines[index]]), let open = fence(line(index)) else {
                index += 1
                continue
            }
            var close = index + 1
            while close < lines.count, !(mayBeFence(bytes[lines[close]]) && closes(line(close), open)) { close += 1 }
            for kind in ["cell", "question"] where open.info == kind || open.info.hasPrefix(kind + " ") {
                let id = parser.options(open, line: index + 1, after: kind).first { $0.key == "id" }?.value
                if let id, kind == "cell" { header.cellIDs.append(id) }
                if let id, kind == "question" { header.questionIDs.append(id) }
            }
            index = close + 1
        }
        // Only the front matter was read (no front matter at all is an error on line 1).
        let errors = parser.errors.filter { $0.location.line <= max(bodyStart, 1) }
            .sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        return (header, errors)
    }

    /// `---` and trailing blanks: the line that closes the front matter.
    private static func isRule(_ line: ArraySlice<UInt8>) -> Bool {
        var rest = line[...]
        while let last = rest.last, last == 0x20 || last == 0x09 { rest.removeLast() }
        return rest.elementsEqual("---".utf8)
    }

    /// Whether a line can be a fence (up to three spaces, then three backticks or tildes),
    /// checked on its bytes before any string is made of it.
    private static func mayBeFence(_ line: ArraySlice<UInt8>) -> Bool {
        var i = line.startIndex
        while i < line.endIndex, i - line.startIndex < 3, line[i] == 0x20 { i += 1 }
        guard i + 2 < line.endIndex, line[i] == 0x60 || line[i] == 0x7E else { return false }
        return line[i + 1] == line[i] && line[i + 2] == line[i]
    }

    // MARK: Front matter

    private static let frontMatterKeys = ["id", "title", "order", "summary", "sources"]

    /// Returns the index of the first body line.
    private mutating func parseFrontMatter(_ lines: [String], into lesson: inout Lesson) -> Int {
        guard lines.first?.trimmingTrailingSpace == "---" else {
            fail(1, 1, "expected front matter: a first line '---', then 'id: ...' and 'title: ...', then '---'")
            return 0
        }
        var index = 1
        var seen: Set<String> = []
        var listKey: String?
        while index < lines.count, lines[index].trimmingTrailingSpace != "---" {
            let line = lines[index]
            let number = index + 1
            index += 1
            let trimmed = line.trimmingSpace
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if trimmed.hasPrefix("- "), listKey == "sources" {
                lesson.sources.append(String(trimmed.dropFirst(2)).trimmingSpace.unquoted)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else {
                fail(number, 1, "expected 'key: value' in the front matter")
                continue
            }
            let key = line[..<colon].trimmingSpace
            let value = line[line.index(after: colon)...].trimmingSpace.unquoted
            listKey = nil
            guard LessonParser.frontMatterKeys.contains(key) else {
                fail(number, 1, "unknown front matter key '\(key)'; expected one of \(LessonParser.frontMatterKeys.joined(separator: ", "))")
                continue
            }
            if !seen.insert(key).inserted { fail(number, 1, "'\(key)' is set twice") }
            switch key {
            case "id":
                lesson.id = value
                if !LessonParser.isValidLessonID(value) {
                    fail(number, colon.utf16Offset(in: line) + 3, "lesson id '\(value)' must match [a-z0-9-]+")
                }
            case "title": lesson.title = value
            case "summary": lesson.summary = value
            case "order":
                if let n = Int(value) { lesson.order = n } else {
                    fail(number, colon.utf16Offset(in: line) + 3, "order must be a whole number, got '\(value)'")
                }
            default:
                if value.isEmpty {
                    listKey = "sources"
                } else if value.hasPrefix("[") && value.hasSuffix("]") {
                    lesson.sources += value.dropFirst().dropLast().split(separator: ",").map { String($0).trimmingSpace.unquoted }
                } else {
                    lesson.sources.append(value)
                }
            }
        }
        guard index < lines.count else {
            fail(1, 1, "front matter starting here is never closed with '---'")
            return lines.count
        }
        if lesson.id.isEmpty && !seen.contains("id") { fail(1, 1, "front matter has no 'id'") }
        if lesson.title.isEmpty { fail(1, 1, "front matter has no 'title'") }
        return index + 1
    }

    /// Whether `id` can name a lesson (and its file): `[a-z0-9-]+`.
    public static func isValidLessonID(_ id: String) -> Bool {
        !id.isEmpty && id.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    // MARK: Body

    private struct Fence {
        var marker: Character
        var length: Int
        var info: String
        var infoColumn: Int
    }

    /// A fence line: up to three spaces, then three or more backticks or tildes.
    private static func fence(_ line: String) -> Fence? {
        // Most lines start with none of the three: a byte says so before any character is made.
        guard let first = line.utf8.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "`")
                || first == UInt8(ascii: "~") else { return nil }
        let indent = line.prefix { $0 == " " }.count
        guard indent <= 3 else { return nil }
        let rest = line.dropFirst(indent)
        guard let marker = rest.first, marker == "`" || marker == "~" else { return nil }
        let length = rest.prefix { $0 == marker }.count
        guard length >= 3 else { return nil }
        let info = rest.dropFirst(length)
        if marker == "`" && info.contains(Character("`")) { return nil }
        let leading = info.prefix { $0 == " " }.count
        return Fence(marker: marker, length: length, info: String(info).trimmingSpace,
                     infoColumn: indent + length + leading + 1)
    }

    private static func closes(_ line: String, _ open: Fence) -> Bool {
        guard let f = fence(line) else { return false }
        return f.marker == open.marker && f.length >= open.length && f.info.isEmpty
    }

    private mutating func parseBody(_ lines: [String], from start: Int, into lesson: inout Lesson) {
        var prose: [ProseLine] = []
        func flushProse() {
            if !prose.isEmpty { lesson.blocks.append(.prose(prose)); prose = [] }
        }
        var index = start
        while index < lines.count {
            let line = lines[index]
            let number = index + 1
            guard let open = LessonParser.fence(line) else {
                prose.append(ProseLine(number: number, raw: line, segments: parseSegments(line, number: number), isCode: false))
                index += 1
                continue
            }
            var close = index + 1
            while close < lines.count, !LessonParser.closes(lines[close], open) { close += 1 }
            let isCell = open.info == "cell" || open.info.hasPrefix("cell ")
            let isQuestion = open.info == "question" || open.info.hasPrefix("question ")
            if close >= lines.count {
                let kind = isCell ? "cell" : isQuestion ? "question" : "code"
                fail(number, 1, "\(kind) block is never closed; expected a line '\(String(repeating: open.marker, count: open.length))'")
            }
            let body = Array(lines[min(index + 1, lines.count)..<min(close, lines.count)])
            if isQuestion {
                flushProse()
                if let question = parseQuestion(open, body: body, line: number) {
                    if lesson.appendQuestion(question) {
                        lesson.blocks.append(.question(lesson.questions.count - 1))
                    } else {
                        fail(number, open.infoColumn, "duplicate question id '\(question.id)'")
                    }
                }
            } else if isCell {
                flushProse()
                if let cell = parseCell(open, body: body, line: number) {
                    if lesson.appendCell(cell) {
                        lesson.blocks.append(.cell(lesson.cells.count - 1))
                    } else {
                        fail(number, open.infoColumn, "duplicate cell id '\(cell.id)'")
                    }
                }
            } else {
                for (offset, raw) in lines[index...min(close, lines.count - 1)].enumerated() {
                    prose.append(ProseLine(number: number + offset, raw: raw, segments: [.text(raw)], isCode: true))
                }
            }
            index = close + 1
        }
        flushProse()
    }

    // MARK: Cells

    /// One `key=value`, `key="quoted value"` or bare `key` of a fence's info string.
    private struct FenceOption {
        var key: String
        var value: String?
        /// Where the option starts, and where its value starts.
        var column: Int
        var valueColumn: Int
    }

    /// The options after the fence's first word (`cell`, `question`).
    private mutating func options(_ fence: Fence, line: Int, after word: String) -> [FenceOption] {
        let info = Array(fence.info)
        var found: [FenceOption] = []
        var pos = word.count
        while pos < info.count {
            while pos < info.count, info[pos] == " " { pos += 1 }
            guard pos < info.count else { break }
            let column = fence.infoColumn + pos
            var key = ""
            while pos < info.count, info[pos] != "=", info[pos] != " " { key.append(info[pos]); pos += 1 }
            var value: String?
            var valueColumn = fence.infoColumn + pos + 1
            if pos < info.count, info[pos] == "=" {
                pos += 1
                var v = ""
                if pos < info.count, info[pos] == "\"" {
                    pos += 1
                    valueColumn = fence.infoColumn + pos
                    while pos < info.count, info[pos] != "\"" { v.append(info[pos]); pos += 1 }
                    if pos >= info.count { fail(line, column, "\(key) is never closed (missing \")") }
                    pos += 1
                } else {
                    valueColumn = fence.infoColumn + pos
                    while pos < info.count, info[pos] != " " { v.append(info[pos]); pos += 1 }
                }
                value = v
            }
            found.append(FenceOption(key: key, value: value, column: column, valueColumn: valueColumn))
        }
        return found
    }

    private mutating func parseCell(_ fence: Fence, body: [String], line: Int) -> CellSpec? {
        var id: String?, compute: String?, title: String?, heavy = false
        for option in options(fence, line: line, after: "cell") {
            switch (option.key, option.value) {
            case ("id", let v?): id = v
            case ("compute", let v?): compute = v
            case ("title", let v?): title = v
            case ("heavy", nil): heavy = true
            default:
                fail(line, option.column, "unknown cell option '\(option.key)\(option.value.map { "=" + $0 } ?? "")'; expected id=, compute=, heavy or title=\"...\"")
            }
        }
        guard let id, !id.isEmpty else {
            fail(line, fence.infoColumn, "cell has no id; write ```cell id=NAME compute=MODULE")
            return nil
        }
        if !LessonParser.isValidCellID(id) {
            fail(line, fence.infoColumn, "cell id '\(id)' must start with a letter and hold only letters, digits, '_' and '-', with a letter after each '-' (so that '\(id).x' never reads as a subtraction)")
        }
        guard let compute, !compute.isEmpty else {
            fail(line, fence.infoColumn, "cell '\(id)' has no compute=MODULE")
            return nil
        }
        var cell = CellSpec(id: id, compute: compute, isHeavy: heavy, title: title, bindings: [], expectations: [],
                            location: at(line, fence.infoColumn), sourceLines: body)
        for (offset, raw) in body.enumerated() {
            parseCellLine(raw, number: line + 1 + offset, into: &cell)
        }
        return cell
    }

    // MARK: Questions

    private mutating func parseQuestion(_ fence: Fence, body: [String], line: Int) -> Question? {
        var id: String?, cell: String?, answer: (text: String, column: Int)?, hint: String?
        var tolerance = AnswerTolerance.standard, choices: [String] = []
        var sawTolerance = false
        func number(_ option: FenceOption) -> Double? {
            guard let text = option.value, let x = try? ExpressionParser.parse(text).evaluate(in: .empty).scalar,
                  x.isFinite, x >= 0 else {
                fail(line, option.valueColumn, "\(option.key) must be a number ≥ 0, got '\(option.value ?? "")'")
                return nil
            }
            return x
        }
        for option in options(fence, line: line, after: "question") {
            switch (option.key, option.value) {
            case ("id", let v?): id = v
            case ("cell", let v?): cell = v
            case ("answer", let v?): answer = (v, option.valueColumn)
            case ("hint", let v?): hint = v
            case ("choices", let v?):
                choices = v.split(separator: "|", omittingEmptySubsequences: false).map { String($0).trimmingSpace }
                if choices.count < 2 || choices.contains(where: \.isEmpty) || Set(choices).count != choices.count {
                    fail(line, option.valueColumn, "choices are two or more different words separated by '|', got \"\(v)\"")
                }
            case ("tolerance", _?), ("rtol", _?):
                if sawTolerance { fail(line, option.column, "give tolerance= or rtol=, not both") }
                sawTolerance = true
                if let x = number(option) { tolerance = option.key == "rtol" ? .relative(x) : .absolute(x) }
            default:
                fail(line, option.column, "unknown question option '\(option.key)\(option.value.map { "=" + $0 } ?? "")'; expected id=, cell=, answer=, tolerance=, rtol=, choices=\"a|b\" or hint=\"...\"")
            }
        }
        guard let id, !id.isEmpty else {
            fail(line, fence.infoColumn, "question has no id; write ```question id=NAME cell=CELL answer=EXPRESSION")
            return nil
        }
        if !LessonParser.isValidCellID(id) {
            fail(line, fence.infoColumn, "question id '\(id)' must start with a letter and hold only letters, digits, '_' and '-'")
        }
        guard let cell, !cell.isEmpty else {
            fail(line, fence.infoColumn, "question '\(id)' has no cell=CELL (the cell whose outputs it asks about)")
            return nil
        }
        guard let answer else {
            fail(line, fence.infoColumn, "question '\(id)' has no answer=EXPRESSION")
            return nil
        }
        let expression: Expression
        do {
            expression = try ExpressionParser.parse(answer.text)
        } catch {
            fail(line, answer.column + error.offset, "\(error.message) (answer of question '\(id)')")
            return nil
        }
        if body.allSatisfy({ $0.trimmingSpace.isEmpty }) {
            fail(line, fence.infoColumn, "question '\(id)' has no text; write the question on the lines inside the block")
        }
        let text = body.enumerated().map { offset, raw in
            ProseLine(number: line + 1 + offset, raw: raw, segments: parseSegments(raw, number: line + 1 + offset), isCode: false)
        }
        return Question(id: id, cell: cell, answer: expression, tolerance: tolerance, choices: choices, hint: hint,
                        text: text, location: at(line, fence.infoColumn), answerColumn: answer.column)
    }

    private mutating func parseCellLine(_ raw: String, number: Int, into cell: inout CellSpec) {
        let indent = raw.prefix { $0 == " " || $0 == "\t" }.count
        let text = String(raw.dropFirst(indent)).trimmingTrailingSpace
        if text.isEmpty || text.hasPrefix("#") { return }
        let column = indent + 1
        if text.hasPrefix("expect ") || text == "expect" {
            if let expectation = parseExpectation(String(text.dropFirst(6)), number: number, column: column + 6) {
                cell.expectations.append(expectation)
            }
            return
        }
        guard let eq = text.firstIndex(of: "=") else {
            fail(number, column, "expected 'name = value', 'expect ...' or a '# comment' in the cell")
            return
        }
        let name = text[..<eq].trimmingSpace
        guard let first = name.first, LessonParser.isNameStart(first), name.allSatisfy(LessonParser.isNameChar) else {
            fail(number, column, "expected a parameter name before '=', got '\(name)'")
            return
        }
        if cell.binding(name) != nil {
            fail(number, column, "parameter '\(name)' is set twice in cell '\(cell.id)'")
            return
        }
        let valueText = String(text[text.index(after: eq)...])
        let valueColumn = column + text.unicodeScalars.distance(from: text.unicodeScalars.startIndex,
                                                                 to: eq.samePosition(in: text.unicodeScalars) ?? text.unicodeScalars.startIndex) + 1
        do {
            let expression = try ExpressionParser.parse(valueText)
            cell.bindings.append(ParameterBinding(name: name, expression: expression, location: at(number, column),
                                                  valueColumn: valueColumn))
        } catch {
            fail(number, valueColumn + error.offset, "\(error.message) (parameter '\(name)')")
        }
    }

    private mutating func parseExpectation(_ body: String, number line: Int, column: Int) -> Expectation? {
        let lead = body.unicodeScalars.prefix { $0 == " " }.count
        let text = body.trimmingSpace
        do {
            let parts = try ExpressionParser.parseExpectation(text)
            return Expectation(left: parts.left, comparison: parts.comparison, right: parts.right,
                               tolerance: parts.tolerance, text: text, location: at(line, column + lead))
        } catch {
            fail(line, column + lead + error.offset, error.message)
            return nil
        }
    }

    // MARK: Prose

    private mutating func parseSegments(_ line: String, number: Int) -> [ProseSegment] {
        // Scanned as UTF-8: `{`, `}` and `` ` `` are single bytes that never occur inside
        // another character's encoding, so only the text between placeholders becomes strings.
        guard line.utf8.withContiguousStorageIfAvailable(Self.hasDoubleBrace) ?? Self.hasDoubleBrace(Array(line.utf8)) else {
            return [.text(line)]
        }
        let bytes = Array(line.utf8)
        let columns = CharacterColumns(line, bytes)
        var segments: [ProseSegment] = []
        var text = ""
        var runStart = 0
        var i = 0
        var inCode = false
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "`") { inCode.toggle() }
            guard !inCode, bytes[i] == UInt8(ascii: "{"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "{") else {
                i += 1
                continue
            }
            text += String(decoding: bytes[runStart..<i], as: UTF8.self)
            let open = i + 2
            var close = open
            while close + 1 < bytes.count, !(bytes[close] == UInt8(ascii: "}") && bytes[close + 1] == UInt8(ascii: "}")) {
                close += 1
            }
            guard close + 1 < bytes.count else {
                fail(number, columns.column(ofByte: i), "'{{' is never closed; expected {{cell.output}}")
                runStart = i
                i = bytes.count
                break
            }
            if let placeholder = parsePlaceholder(bytes[open..<close], number: number, column: columns.column(ofByte: i)) {
                if !text.isEmpty { segments.append(.text(text)); text = "" }
                segments.append(.placeholder(placeholder))
            }
            i = close + 2
            runStart = i
        }
        text += String(decoding: bytes[runStart..<i], as: UTF8.self)
        if !text.isEmpty { segments.append(.text(text)) }
        return segments
    }

    /// Columns count characters, as an editor shows them; a line's bytes are its columns up to
    /// its first non-ASCII byte, and only a placeholder after one counts characters.
    private struct CharacterColumns {
        let line: String
        let asciiPrefix: Int

        init(_ line: String, _ bytes: [UInt8]) {
            self.line = line
            asciiPrefix = bytes.firstIndex { $0 >= 0x80 } ?? bytes.count
        }

        /// The 1-based column where the character holding byte `offset` starts.
        func column(ofByte offset: Int) -> Int {
            if offset <= asciiPrefix { return offset + 1 }
            return line[..<line.utf8.index(line.utf8.startIndex, offsetBy: offset)].count + 1
        }
    }

    static let formats = ["bits", "hex", "g", "%"]

    static func isValidFormat(_ spec: String) -> Bool {
        if formats.contains(spec) { return true }
        guard spec.hasPrefix("."), let style = spec.last, "feg%".contains(style) else { return false }
        let digits = spec.dropFirst().dropLast()
        guard !digits.isEmpty, digits.count <= 2, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let precision = Int(digits) else { return false }
        return precision <= NumberText.maxPrecision
    }

    /// `{{EXPR}}` or `{{EXPR:format}}`; the format follows the last colon outside quotes.
    /// `raw` is the UTF-8 between `{{` and `}}`, spaces included (they count in columns).
    private mutating func parsePlaceholder(_ raw: ArraySlice<UInt8>, number: Int, column: Int) -> Placeholder? {
        let leading = raw.prefix { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }.count
        var split: Int?
        var inString = false
        for i in raw.indices {
            if raw[i] == UInt8(ascii: "\"") { inString.toggle() }
            if raw[i] == UInt8(ascii: ":") && !inString { split = i }
        }
        let expressionText = String(decoding: raw[..<(split ?? raw.endIndex)], as: UTF8.self).trimmingSpace
        let format = split.map { String(decoding: raw[($0 + 1)...], as: UTF8.self).trimmingSpace }
        let expressionColumn = column + 2 + leading
        if let format, !LessonParser.isValidFormat(format) {
            fail(number, column, "unknown format ':\(format)'; use .4f, .3e, g, .6g, %, bits or hex (at most \(NumberText.maxPrecision) digits)")
            return nil
        }
        do {
            let expression = try ExpressionParser.parse(expressionText)
            return Placeholder(expression: expression, format: format, location: at(number, column),
                               expressionColumn: expressionColumn)
        } catch {
            let inner = String(decoding: raw, as: UTF8.self).trimmingSpace
            fail(number, expressionColumn + error.offset, "\(error.message) in '{{\(inner)}}'")
            return nil
        }
    }

    static func isNameStart(_ c: Character) -> Bool { isLetter(c) || c == "_" }
    static func isNameChar(_ c: Character) -> Bool { isLetter(c) || c.isNumber || c == "_" || c == "-" }

    /// `Character.isLetter`, with ASCII answered without the Unicode tables.
    private static func isLetter(_ c: Character) -> Bool {
        if let a = c.asciiValue { return (a >= 0x41 && a <= 0x5A) || (a >= 0x61 && a <= 0x7A) }
        return c.isLetter
    }

    /// Whether a prose line holds `{{` (most do not).
    private static func hasDoubleBrace<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        var afterBrace = false
        for byte in bytes {
            if byte == UInt8(ascii: "{") {
                if afterBrace { return true }
                afterBrace = true
            } else {
                afterBrace = false
            }
        }
        return false
    }

    /// Letters, digits, `_` and `-`, starting with a letter, a letter after every `-`.
    static func isValidCellID(_ id: String) -> Bool {
        let chars = Array(id)
        guard let first = chars.first, isNameStart(first) else { return false }
        for (i, c) in chars.enumerated() {
            guard isNameChar(c) else { return false }
            if c == "-" && !(i + 1 < chars.count && isLetter(chars[i + 1])) { return false }
        }
        return true
    }
}

extension StringProtocol {
    var trimmingSpace: String {
        // A first byte that is neither starts a character that is neither.
        guard let first = utf8.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") else {
            return trimmingTrailingSpace
        }
        return String(drop { $0 == " " || $0 == "\t" }).trimmingTrailingSpace
    }

    /// Without the spaces and tabs at the end: the one trailing trim, for lesson lines and
    /// screen rows alike.
    public var trimmingTrailingSpace: String {
        // A last byte that is neither ends a character that is neither.
        var s = String(self)
        guard let last = s.utf8.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") else { return s }
        while let last = s.last, last == " " || last == "\t" { s.removeLast() }
        return s
    }

    var unquoted: String {
        let s = String(self)
        if s.count >= 2, let f = s.first, let l = s.last, (f == "\"" && l == "\"") || (f == "'" && l == "'") {
            return String(s.dropFirst().dropLast())
        }
        return s
    }
}

/// Splits text into lines at `\n`, `\r\n` and a lone `\r`, the three endings a lesson
/// file, a saved value or piped input may have. (Swift reads `\r\n` as one Character, so
/// splitting a String on `"\n"` leaves such lines joined.)
public enum LineEndings {
    public static func lines(of text: String) -> [String] {
        let bytes = Array(text.utf8)
        return ranges(of: bytes).map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    /// Where each line of UTF-8 text is, without its ending (LF, CRLF or a lone CR).
    static func ranges(of bytes: [UInt8]) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        var start = 0
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case 0x0A:
                lines.append(start..<i)
                i += 1
                start = i
            case 0x0D:
                lines.append(start..<i)
                i += i + 1 < bytes.count && bytes[i + 1] == 0x0A ? 2 : 1
                start = i
            default:
                i += 1
            }
        }
        lines.append(start..<bytes.count)
        return lines
    }
}
