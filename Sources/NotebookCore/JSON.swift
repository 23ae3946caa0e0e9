/// A JSON document with ordered object keys, so output is stable and reads in declaration order.
public indirect enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        lhs.serialized() == rhs.serialized()
    }

    /// Serialises the document. `indent` of 0 gives one line.
    public func serialized(indent: Int = 0) -> String {
        var out = ""
        write(into: &out, indent: indent, level: 0)
        return out
    }

    private func write(into out: inout String, indent: Int, level: Int) {
        var pad: String { indent > 0 ? "\n" + String(repeating: " ", count: indent * (level + 1)) : "" }
        var closePad: String { indent > 0 ? "\n" + String(repeating: " ", count: indent * level) : "" }
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let n): out += String(n)
        case .number(let x): out += JSON.numberText(x)
        case .string(let s): JSON.writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            // Arrays of scalars stay on one line: vectors read better that way.
            let flat = indent == 0 || items.allSatisfy { !$0.isContainer }
            let pad = flat ? "" : pad
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += flat ? ", " : "," }
                if !flat { out += pad }
                item.write(into: &out, indent: flat ? 0 : indent, level: level + 1)
            }
            if !flat { out += closePad }
            out += "]"
        case .object(let pairs):
            if pairs.isEmpty { out += "{}"; return }
            let pad = pad, separator = indent > 0 ? ": " : ":"
            out += "{"
            for (i, (key, value)) in pairs.enumerated() {
                if i > 0 { out += "," }
                out += pad
                JSON.writeString(key, into: &out)
                out += separator
                value.write(into: &out, indent: indent, level: level + 1)
            }
            out += closePad + "}"
        }
    }

    /// One line with object keys sorted by their UTF-8 bytes: the same value always gives the
    /// same text, so it can be stored and compared.
    public var canonicalText: String {
        var out = ""
        writeCanonical(into: &out)
        return out
    }

    private func writeCanonical(into out: inout String) {
        switch self {
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.writeCanonical(into: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (i, (key, value)) in pairs.sorted(by: { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }).enumerated() {
                if i > 0 { out += "," }
                JSON.writeString(key, into: &out)
                out += ":"
                value.writeCanonical(into: &out)
            }
            out += "}"
        default:
            write(into: &out, indent: 0, level: 0)
        }
    }

    private var isContainer: Bool {
        switch self {
        case .array(let items): !items.isEmpty
        case .object(let pairs): !pairs.isEmpty
        default: false
        }
    }

    /// Shortest round-trip text for finite numbers; the strings `"NaN"`, `"Infinity"`,
    /// `"-Infinity"` for the others (JSON has no literal for them).
    static func numberText(_ x: Double) -> String {
        if x.isNaN { return "\"NaN\"" }
        if x.isInfinite { return x < 0 ? "\"-Infinity\"" : "\"Infinity\"" }
        return NumberText.shortest(x)
    }

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                // Valid JSON either way; escaped, the output can be pasted into a terminal.
                if TerminalText.needsEscape(scalar) {
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

extension Value {
    /// The JSON form of docs/json.md: vectors are arrays, matrices arrays of arrays.
    public var json: JSON {
        switch self {
        case .number(let x): .number(x)
        case .integer(let n): .integer(n)
        case .bool(let b): .bool(b)
        case .text(let s): .string(s)
        case .vector(let xs): .array(xs.map { .number($0) })
        case .matrix(let rows): .array(rows.map { .array($0.map { .number($0) }) })
        }
    }
}
