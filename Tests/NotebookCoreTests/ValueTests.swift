import Foundation
@testable import NotebookCore
import XCTest

final class ParameterValidationTests: XCTestCase {
    func testKindsAreConvertedOrRejectedWithTheParameterName() throws {
        let n = ParameterSpec.integer("n", 1, range: .closed(1, 5), doc: "")
        XCTAssertEqual(try n.validate(.number(3)), .integer(3))
        XCTAssertThrowsError(try n.validate(.number(2.5))) { XCTAssertEqual(($0 as? ComputeError)?.parameter, "n") }
        XCTAssertThrowsError(try n.validate(.integer(6)))
        XCTAssertThrowsError(try n.validate(.number(1e300)))
        XCTAssertThrowsError(try n.validate(.text("x")))

        let x = ParameterSpec.number("x", 0, range: .positive, doc: "")
        XCTAssertEqual(try x.validate(.integer(2)), .number(2))
        XCTAssertThrowsError(try x.validate(.number(0)))
        XCTAssertThrowsError(try x.validate(.number(.nan))) { error in
            XCTAssertTrue((error as? ComputeError)?.message.contains("finite") == true)
        }

        let v = ParameterSpec.vector("v", nil, maxElements: 3, doc: "")
        XCTAssertEqual(try v.validate(.matrix([[1, 2]])), .vector([1, 2]))
        XCTAssertEqual(try v.validate(.integer(4)), .vector([4]))
        XCTAssertThrowsError(try v.validate(.vector([])))
        XCTAssertThrowsError(try v.validate(.vector([1, 2, 3, 4])))
        XCTAssertThrowsError(try v.validate(.matrix([[1], [2]])))
        XCTAssertThrowsError(try v.validate(.text("abc")))

        let m = ParameterSpec.matrix("m", nil, maxElements: 4, doc: "")
        XCTAssertEqual(try m.validate(.vector([1, 2])), .matrix([[1, 2]]))
        XCTAssertThrowsError(try m.validate(.matrix([[1, 2], [3]])))
        XCTAssertThrowsError(try m.validate(.matrix([[1, 2, 3], [4, 5, 6]])))

        enum Format: String, CaseIterable { case fp16, bf16, fp32 }
        let c = ParameterSpec.choice("format", Format.self, default: .fp16, among: [.fp16, .bf16], doc: "")
        XCTAssertThrowsError(try c.validate(.text("fp8"))) { error in
            XCTAssertEqual((error as? ComputeError)?.description, "parameter 'format' expects one of fp16, bf16, got fp8")
        }
    }
}

final class JSONTests: XCTestCase {
    func testNumbersAreShortestAndRoundTrip() throws {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let x = Double(bitPattern: random.next())
            guard x.isFinite else { continue }
            let text = NumberText.shortest(x)
            XCTAssertEqual(Double(text), x, text)
        }
        XCTAssertEqual(NumberText.shortest(5), "5")
        XCTAssertEqual(NumberText.shortest(0.1), "0.1")
        XCTAssertEqual(NumberText.shortest(1e-5), "1e-5")
        XCTAssertEqual(NumberText.shortest(-0.0), "-0")
        XCTAssertEqual(NumberText.shortest(1e300), "1e300")
    }

    func testNonFiniteNumbersAreStrings() {
        let doc = JSON.array([.number(.nan), .number(.infinity), .number(-.infinity), .number(0.5)])
        XCTAssertEqual(doc.serialized(), "[\"NaN\", \"Infinity\", \"-Infinity\", 0.5]")
    }

    func testDocumentParsesBackWithFoundation() throws {
        let value = Value.matrix([[1, 0.1], [1e-300, -2]])
        let doc = JSON.object([("m", value.json), ("s", .string("tab\t\"q\"\u{1}")), ("n", .integer(3)), ("b", .bool(true)), ("z", .null)])
        for indent in [0, 2] {
            let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(doc.serialized(indent: indent).utf8)) as? [String: Any])
            XCTAssertEqual(parsed["m"] as? [[Double]], [[1, 0.1], [1e-300, -2]])
            XCTAssertEqual(parsed["s"] as? String, "tab\t\"q\"\u{1}")
            XCTAssertEqual(parsed["n"] as? Int, 3)
            XCTAssertEqual(parsed["b"] as? Bool, true)
            XCTAssertTrue(parsed["z"] is NSNull)
        }
    }

    func testFormats() {
        XCTAssertEqual(ValueFormat.format(.number(0.63640864), ".4f"), "0.6364")
        XCTAssertEqual(ValueFormat.format(.number(12345.678), ".3e"), "1.235e+04")
        XCTAssertEqual(ValueFormat.format(.integer(255), "hex"), "0xff")
        XCTAssertEqual(ValueFormat.format(.integer(5), "bits"), "0b101")
        XCTAssertEqual(ValueFormat.format(.number(1.5), "hex"), "0x3ff8000000000000")
        XCTAssertEqual(ValueFormat.format(.number(0.25), "%"), "25.0%")
        XCTAssertEqual(ValueFormat.format(.vector([0.5, 1.0 / 3]), ".2f"), "[0.50, 0.33]")
        XCTAssertEqual(ValueFormat.format(.number(.nan), ".2f"), "NaN")
        // A format asked for applies to whole numbers too; without one they print as they are.
        XCTAssertEqual(ValueFormat.format(.integer(3), ".2f"), "3.00")
        XCTAssertEqual(ValueFormat.format(.integer(3), "%"), "300.0%")
        XCTAssertEqual(ValueFormat.format(.integer(1234567), ".2e"), "1.23e+06")
        XCTAssertEqual(ValueFormat.format(.integer(-7), nil), "-7")
        XCTAssertEqual(ValueFormat.format(.integer(Int.max), nil), "9223372036854775807")
    }
}

final class PlainMarkdownTests: XCTestCase {
    func testInlineMarkupBecomesPlainText() {
        XCTAssertEqual(PlainMarkdown.inline("the **guard** bit and *sticky* `bits` output"), "the guard bit and sticky bits output")
        XCTAssertEqual(PlainMarkdown.inline("a * b * c stays"), "a * b * c stays")
        XCTAssertEqual(PlainMarkdown.inline("see [the paper](https://example.org) now"), "see the paper now")
        XCTAssertEqual(PlainMarkdown.inline("**bold with *nested* text**"), "bold with nested text")
        XCTAssertEqual(PlainMarkdown.inline("unclosed **bold and `tick"), "unclosed **bold and `tick")
        XCTAssertEqual(PlainMarkdown.inline("2 * 3 = 6, x*"), "2 * 3 = 6, x*")
    }

    func testTablesAreAligned() {
        let lines = PlainMarkdown.table(["| format | bits | max |", "|---|:--:|---:|", "| FP16 | 16 | 65504 |", "| BF16 | 16 | 3.39e38 |"])
        XCTAssertEqual(lines, [
            "  format  bits  max",
            "  ──────  ────  ───────",
            "  FP16    16    65504",
            "  BF16    16    3.39e38",
        ])
        XCTAssertEqual(PlainMarkdown.cells(#"| a \| b | c |"#), ["a | b", "c"])
    }
}
