import Foundation
@testable import NotebookCore
import XCTest

final class ValueParserTests: XCTestCase {
    func literal(_ text: String) throws -> Value {
        guard case .literal(let v) = try ValueParser.parse(text) else {
            XCTFail("\(text) parsed as a reference")
            return .bool(false)
        }
        return v
    }

    func testScalars() throws {
        XCTAssertEqual(try literal("1"), .integer(1))
        XCTAssertEqual(try literal("-2.5e-3"), .number(-2.5e-3))
        XCTAssertEqual(try literal(" 42 "), .integer(42))
        XCTAssertEqual(try literal("inf"), .number(.infinity))
        XCTAssertEqual(try literal("-inf"), .number(-.infinity))
        XCTAssertTrue(try literal("nan").scalar?.isNaN == true)
        XCTAssertEqual(try literal("true"), .bool(true))
        XCTAssertEqual(try literal("false"), .bool(false))
        XCTAssertEqual(try literal("1e3"), .number(1000))
    }

    func testArithmeticForExactConstants() throws {
        XCTAssertEqual(try literal("1/3"), .number(1.0 / 3))
        XCTAssertEqual(try literal("2^-24"), .number(pow(2, -24)))
        XCTAssertEqual(try literal("3*2^-26"), .number(3 * pow(2, -26)))
        XCTAssertEqual(try literal("1 + 2^-11"), .number(1 + pow(2, -11)))
        XCTAssertEqual(try literal("-(1 + 1)"), .number(-2))
        XCTAssertEqual(try literal("2^3^2"), .number(512), "power is right-associative")
    }

    func testWordsStringsVectorsMatrices() throws {
        XCTAssertEqual(try literal("fp16"), .text("fp16"))
        XCTAssertEqual(try literal("nearest-even"), .text("nearest-even"))
        // Only `inf` and `nan` are numbers (SPEC §2); `infinity` is a word, as in `class = infinity`.
        XCTAssertEqual(try literal("infinity"), .text("infinity"))
        XCTAssertEqual(try literal("\"a \\\"b\\\"\""), .text("a \"b\""))
        XCTAssertEqual(try literal("[1, 2.5, -3]"), .vector([1, 2.5, -3]))
        XCTAssertEqual(try literal("[]"), .vector([]))
        XCTAssertEqual(try literal("[[1, 2], [3, 4]]"), .matrix([[1, 2], [3, 4]]))
        XCTAssertEqual(try literal("[1/2, 2^-1]"), .vector([0.5, 0.5]))
    }

    func testReferences() throws {
        XCTAssertEqual(try ValueParser.parse("safe.x"), .reference(OutputReference(cell: "safe", output: "x")))
        XCTAssertEqual(try ValueParser.parse("a-1.out_2[3][0]"),
                       .reference(OutputReference(cell: "a-1", output: "out_2", indexes: [3, 0])))
    }

    func testSyntaxErrorsHaveOffsets() {
        func offset(_ text: String) -> (Int, String)? {
            do { _ = try ValueParser.parse(text); return nil } catch { return (error.offset, error.message) }
        }
        XCTAssertEqual(offset("[1, 2")?.0, 0)
        XCTAssertTrue(offset("[[1, 2], [3]]")?.1.contains("ragged") == true)
        XCTAssertEqual(offset("[[1, 2], [3]]")?.0, 9, "the second row starts at offset 9")
        XCTAssertNotNil(offset("[1, [2]]"))
        XCTAssertNotNil(offset(""))
        XCTAssertNotNil(offset("1 2"))
        XCTAssertNotNil(offset("\"open"))
        XCTAssertNotNil(offset("a.b.c"))
        XCTAssertNotNil(offset("x[1]"))
        XCTAssertNotNil(offset("1e"))
        XCTAssertNotNil(offset("(1 + 2"))
        XCTAssertNotNil(offset("a.b[99999999999]"))
    }

    func testDeepNestingIsAnErrorNotAStackOverflow() throws {
        for text in [String(repeating: "[", count: 5000), String(repeating: "(", count: 5000) + "1",
                     String(repeating: "2^", count: 5000) + "1"] {
            XCTAssertThrowsError(try ValueParser.parse(text)) { error in
                XCTAssertTrue((error as? ValueSyntaxError)?.message.contains("nested more than") == true, "\(error)")
            }
        }
        // Signs are not nesting: ten thousand of them still read as a number.
        XCTAssertEqual(try literal(String(repeating: "-", count: 10_000) + "1"), .integer(1))
        XCTAssertEqual(try literal("[[1, 2], [3, 4]]"), .matrix([[1, 2], [3, 4]]))
    }

    func testNothingTrapsOnNoise() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("[]()0123456789.,-+eE^*/ \"abc_=\\∞≈±")
        for _ in 0..<3000 {
            let text = String((0..<Int.random(in: 0...16, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            _ = try? ValueParser.parse(text)
            _ = try? ValueParser.parsePath(text)
        }
    }
}

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
