/// Text made safe for HTML and XML (pages, SVG, MathML): nothing a lesson writes becomes markup.
public enum HTMLText {
    /// Escapes `&`, `<`, `>`, `"` and `'`, and writes control characters (other than newline
    /// and tab), which XML forbids and which could hide text, as visible escapes.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if TerminalText.needsEscape(scalar) {
                    out += TerminalText.visibleEscape(scalar)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
