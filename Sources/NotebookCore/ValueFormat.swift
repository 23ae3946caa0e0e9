/// The `{{cell.output:format}}` formats of docs/lesson-format.md.
public enum ValueFormat {
    /// Formats a value: `.4f`, `.3e`, `g`, `.6g`, `%` apply to every number; `hex` and `bits`
    /// show an integer in base 16 or 2, and a non-integral number's IEEE 754 double bits.
    public static func format(_ value: Value, _ spec: String?) -> String {
        switch spec {
        case "hex"?, "bits"?:
            return radix(value, hex: spec == "hex")
        default:
            return value.display(spec: spec)
        }
    }

    private static func radix(_ value: Value, hex: Bool) -> String {
        let integral: Int?
        switch value {
        case .integer(let n): integral = n
        case .number(let x) where x.isFinite && x == x.rounded() && abs(x) < 9.0e15: integral = Int(x)
        case .number: integral = nil
        default: return value.displayText
        }
        if let n = integral {
            let digits = String(n.magnitude, radix: hex ? 16 : 2)
            return (n < 0 ? "-" : "") + (hex ? "0x" : "0b") + digits
        }
        guard case .number(let x) = value else { return value.displayText }
        let bits = x.bitPattern
        if hex {
            let digits = String(bits, radix: 16)
            return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
        }
        let all = String(repeating: "0", count: 64 - String(bits, radix: 2).count) + String(bits, radix: 2)
        let chars = Array(all)
        return String(chars[0]) + " " + String(chars[1..<12]) + " " + String(chars[12...])
    }
}
