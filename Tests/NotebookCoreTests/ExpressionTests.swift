import Foundation
@testable import NotebookCore
import XCTest

/// The expression language: values, precedence, functions, broadcasting, errors and limits.
final class ExpressionTests: XCTestCase {
    /// Evaluates `text` with `x` = [1, 2, 3], `m` = [[1, 2], [3, 4]], `k` = 2 as own outputs and
    /// `c.v` = [10, 20, 30] as another cell's.
    func eval(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> Value {
        let outputs: [String: Value] = ["x": .vector([1, 2, 3]), "m": .matrix([[1, 2], [3, 4]]), "k": .integer(2)]
        let scope = ExpressionScope(
            reference: { cell, output in
                cell == "c" && output == "v" ? .success(.vector([10, 20, 30]))
                    : .failure(ExpressionError(.unavailable, at: 0, "no \(cell).\(output)"))
            },
            name: { outputs[$0] })
        return try ExpressionParser.parse(text).evaluate(in: scope)
    }

    func number(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        let value = try eval(text, file: file, line: line)
        guard let x = value.scalar else { XCTFail("\(text) gave \(value)", file: file, line: line); return .nan }
        return x
    }

    /// The offset and message of the error `text` gives, parsing or evaluating.
    func failure(_ text: String) -> ExpressionError? {
        do { _ = try eval(text); return nil } catch let error as ExpressionError { return error } catch { return nil }
    }

    func testLiterals() throws {
        XCTAssertEqual(try eval("1"), .integer(1))
        XCTAssertEqual(try eval("-2.5e-3"), .number(-2.5e-3))
        XCTAssertEqual(try eval(" 42 "), .integer(42))
        XCTAssertEqual(try eval("1e3"), .number(1000))
        XCTAssertEqual(try eval(".5"), .number(0.5))
        XCTAssertEqual(try eval("inf"), .number(.infinity))
        XCTAssertEqual(try eval("-inf"), .number(-.infinity))
        XCTAssertTrue(try number("nan").isNaN)
        XCTAssertEqual(try eval("true"), .bool(true))
        XCTAssertEqual(try eval("FALSE"), .bool(false))
        XCTAssertEqual(try eval("fp16"), .text("fp16"))
        XCTAssertEqual(try eval("nearest-even"), .text("nearest-even"))
        // Only `inf` and `nan` are numbers (docs/lesson-format.md); `infinity` is a word, as in `class = infinity`.
        XCTAssertEqual(try eval("infinity"), .text("infinity"))
        XCTAssertEqual(try eval("\"a \\\"b\\\"\""), .text("a \"b\""))
        XCTAssertEqual(try eval("[1, 2.5, -3]"), .vector([1, 2.5, -3]))
        XCTAssertEqual(try eval("[]"), .vector([]))
        XCTAssertEqual(try eval("[[1, 2], [3, 4]]"), .matrix([[1, 2], [3, 4]]))
        XCTAssertEqual(try eval("[1/2, 2^-1]"), .vector([0.5, 0.5]))
        XCTAssertEqual(try eval("[x[0], c.v[2]]"), .vector([1, 30]), "list elements are expressions")
        XCTAssertEqual(try eval("[x, x]"), .matrix([[1, 2, 3], [1, 2, 3]]))
    }

    func testPrecedenceAndAssociativity() throws {
        XCTAssertEqual(try number("-2^2"), -4, "^ binds tighter than unary minus")
        XCTAssertEqual(try number("(-2)^2"), 4)
        XCTAssertEqual(try number("2^3^2"), 512, "^ is right-associative")
        XCTAssertEqual(try number("2^-2"), 0.25, "an exponent may carry a sign")
        XCTAssertEqual(try number("2^-2^2"), 1.0 / 16)
        XCTAssertEqual(try number("1 + 2 * 3"), 7)
        XCTAssertEqual(try number("(1 + 2) * 3"), 9)
        XCTAssertEqual(try number("10 - 4 - 3"), 3, "- is left-associative")
        XCTAssertEqual(try number("16 / 4 / 2"), 2, "/ is left-associative")
        XCTAssertEqual(try number("2 * 3 ^ 2"), 18)
        XCTAssertEqual(try number("-3 * -3"), 9)
        XCTAssertEqual(try number("1 − 3 · 2 × 1"), -5, "Unicode minus and times")
        XCTAssertEqual(try number("x[1] - 1"), 1, "x-1 subtracts: a hyphen joins a name only before a letter")
        XCTAssertEqual(try eval(String(repeating: "-", count: 10_000) + "1"), .integer(1), "signs are a loop, not nesting")
    }

    func testIntegersStayWholeUnderAddSubtractMultiply() throws {
        XCTAssertEqual(try eval("2 * 5"), .integer(10))
        XCTAssertEqual(try eval("k + 1"), .integer(3))
        XCTAssertEqual(try eval("-(1 + 1)"), .integer(-2))
        XCTAssertEqual(try eval("7 / 2"), .number(3.5))
        XCTAssertEqual(try eval("2 ^ 3"), .number(8))
        XCTAssertEqual(try eval("9223372036854775807 + 1"), .number(9223372036854775808.0), "overflow falls back to Double")
    }

    func testIEEEArithmetic() throws {
        XCTAssertEqual(try number("1 / 0"), .infinity)
        XCTAssertEqual(try number("-1 / 0"), -.infinity)
        XCTAssertTrue(try number("0 / 0").isNaN)
        XCTAssertTrue(try number("log(-1)").isNaN)
        XCTAssertEqual(try number("log(0)"), -.infinity)
        XCTAssertTrue(try number("inf - inf").isNaN)
        XCTAssertEqual(try number("sqrt(2)^2"), 2.0000000000000004)
    }

    func testElementwiseAndBroadcasting() throws {
        XCTAssertEqual(try eval("x + 1"), .vector([2, 3, 4]))
        XCTAssertEqual(try eval("10 * x"), .vector([10, 20, 30]))
        XCTAssertEqual(try eval("x * x"), .vector([1, 4, 9]))
        XCTAssertEqual(try eval("c.v / x"), .vector([10, 10, 10]))
        XCTAssertEqual(try eval("x ^ 2"), .vector([1, 4, 9]))
        XCTAssertEqual(try eval("-x"), .vector([-1, -2, -3]))
        XCTAssertEqual(try eval("m - 1"), .matrix([[0, 1], [2, 3]]))
        XCTAssertEqual(try eval("m * m"), .matrix([[1, 4], [9, 16]]))
        XCTAssertEqual(try eval("2 ^ m"), .matrix([[2, 4], [8, 16]]))
    }

    func testFunctions() throws {
        XCTAssertEqual(try eval("abs(-3)"), .integer(3))
        XCTAssertEqual(try eval("abs(x - 2)"), .vector([1, 0, 1]))
        XCTAssertEqual(try eval("abs(m - 3)"), .matrix([[2, 1], [0, 1]]))
        XCTAssertEqual(try number("exp(log(5))"), 5, accuracy: 1e-15)
        XCTAssertEqual(try eval("sqrt(m * m)"), .matrix([[1, 2], [3, 4]]))
        XCTAssertEqual(try eval("exp(0 * x)"), .vector([1, 1, 1]))
        XCTAssertEqual(try number("min(x)"), 1)
        XCTAssertEqual(try number("max(m)"), 4)
        XCTAssertEqual(try eval("max(x, 2)"), .vector([2, 2, 3]), "two arguments: elementwise")
        XCTAssertEqual(try eval("min(x, c.v / 10, [0, 5, 5])"), .vector([0, 2, 3]))
        XCTAssertEqual(try number("max(2, 7)"), 7)
        XCTAssertTrue(try number("max([1, nan, 3])").isNaN, "NaN propagates, as in numpy")
        XCTAssertEqual(try number("sum(x)"), 6)
        XCTAssertEqual(try number("sum(m)"), 10)
        XCTAssertEqual(try number("sum([])"), 0)
        XCTAssertEqual(try number("mean(x)"), 2)
        XCTAssertEqual(try number("mean(m)"), 2.5)
        XCTAssertEqual(try eval("len(x)"), .integer(3))
        XCTAssertEqual(try eval("len(m)"), .integer(2), "rows of a matrix")
        XCTAssertEqual(try eval("argmax([3, 9, 9, 1])"), .integer(1), "the first maximum")
        XCTAssertEqual(try eval("argmax([1, nan, 3])"), .integer(1), "NaN counts as largest, as in numpy")
        XCTAssertEqual(try eval("argmax(m)"), .vector([1, 1]), "per row for a matrix")
        XCTAssertEqual(try number("max(abs(x - [1, 2, 3.5]))"), 0.5)
    }

    func testReferencesAndOwnOutputs() throws {
        XCTAssertEqual(try eval("c.v[1]"), .number(20))
        XCTAssertEqual(try eval("m[1][0]"), .number(3))
        XCTAssertEqual(try eval("m[1]"), .vector([3, 4]))
        let expression = try ExpressionParser.parse("a-b.out_2[3][0] + x")
        XCTAssertEqual(expression.references, [OutputReference(cell: "a-b", output: "out_2", indexes: [3, 0])])
        XCTAssertEqual(expression.names.map(\.name), ["x"])
        XCTAssertEqual(try ExpressionParser.parse("safe.x").soleReference, OutputReference(cell: "safe", output: "x"))
    }

    func testSyntaxErrorsHaveOffsets() {
        func syntax(_ text: String) -> (Int, String)? {
            do { _ = try ExpressionParser.parse(text); return nil } catch { return (error.offset, error.message) }
        }
        XCTAssertEqual(syntax("[1, 2")?.0, 0)
        XCTAssertEqual(syntax("[1, 2")?.1, "'[' is never closed")
        XCTAssertTrue(syntax("[[1, 2], [3]]")?.1.contains("ragged") == true)
        XCTAssertEqual(syntax("[[1, 2], [3]]")?.0, 9, "the second row starts at offset 9")
        XCTAssertEqual(syntax("[1, [2]]")?.1, "mixes numbers and rows; a matrix is [[...], [...]]")
        XCTAssertEqual(syntax("")?.1, "expected a value")
        XCTAssertEqual(syntax("1 2")?.0, 2)
        XCTAssertEqual(syntax("\"open")?.1, "string is never closed (missing \")")
        XCTAssertEqual(syntax("a.b.c")?.1, "a reference is cell.output, got a.b.…")
        XCTAssertEqual(syntax("1e")?.0, 1, "1 then an unexpected e")
        XCTAssertEqual(syntax("(1 + 2")?.1, "'(' is never closed")
        XCTAssertEqual(syntax("a.b[99999999999]")?.1, "expected a whole-number index such as [0]")
        XCTAssertEqual(syntax("a.b[-1]")?.1, "expected a whole-number index such as [0]")
        XCTAssertEqual(syntax("2x")?.1, "unexpected 'x' after the number 2")
        XCTAssertEqual(syntax("1 +")?.1, "expected a value")
        XCTAssertEqual(syntax("foo(1)")?.1, "unknown function 'foo'; the functions are abs, log, exp, sqrt, min, max, sum, mean, len, argmax")
        XCTAssertEqual(syntax("exp(1, 2)")?.1, "exp takes one argument, got 2")
        XCTAssertEqual(syntax("max()")?.1, "max takes 1 to 16 arguments, got 0")
        XCTAssertEqual(syntax("min(" + Array(repeating: "1", count: 17).joined(separator: ", ") + ")")?.1,
                       "min takes 1 to 16 arguments, got 17")
        XCTAssertEqual(syntax("sum(1")?.1, "'sum(' is never closed")
        XCTAssertEqual(syntax("[1, \"a\"]")?.1, "a list holds numbers, not a text")
        XCTAssertEqual(syntax("1 # 2")?.1, "unexpected '#' after the value")
    }

    func testEvaluationErrorsNameThePart() {
        XCTAssertEqual(failure("x + [1, 2]")?.message, "shapes differ: vector of 3 and vector of 2")
        XCTAssertEqual(failure("x + [1, 2]")?.offset, 2, "at the operator")
        XCTAssertEqual(failure("x + m")?.message, "shapes differ: vector of 3 and 2×2 matrix")
        XCTAssertEqual(failure("x[3]")?.message, "x[3] is out of range: x is a vector of 3")
        XCTAssertEqual(failure("k[0]")?.message, "k[0]: k is an integer, which has no elements")
        XCTAssertEqual(failure("1 + true")?.message, "true is a boolean; arithmetic needs numbers")
        XCTAssertEqual(failure("1 + fp16")?.message, "'fp16' is a word, not a number (an output name misspelt?)")
        XCTAssertEqual(failure("1 + fp16")?.offset, 4)
        XCTAssertEqual(failure("word[0]")?.message, "'word' is not an output here, so it cannot be indexed")
        XCTAssertEqual(failure("len(3)")?.message, "len needs a vector or a matrix, got an integer")
        XCTAssertEqual(failure("mean([])")?.message, "mean of an empty vector")
        XCTAssertEqual(failure("min([])")?.message, "min of an empty vector")
        XCTAssertEqual(failure("argmax(1)")?.message, "argmax needs a vector or a matrix")
        XCTAssertEqual(failure("[x, [1]]")?.message, "ragged matrix: row 2 has 1 elements, row 1 has 3")
        XCTAssertEqual(failure("2 * d.q")?.kind, .unavailable, "a value not there is told apart from a type error")
        XCTAssertEqual(failure("2 * d.q")?.offset, 4)
    }

    func testLimits() {
        for text in [String(repeating: "[", count: 5000), String(repeating: "(", count: 5000) + "1",
                     String(repeating: "2^", count: 5000) + "1", String(repeating: "abs(", count: 5000) + "1"] {
            XCTAssertThrowsError(try ExpressionParser.parse(text)) { error in
                XCTAssertTrue((error as? ExpressionError)?.message.contains("nested more than") == true, "\(error)")
            }
        }
        // A long chain of additions would make a tree too tall to evaluate recursively.
        let chain = (0..<2000).map(String.init).joined(separator: " + ")
        XCTAssertThrowsError(try ExpressionParser.parse(chain)) { error in
            XCTAssertTrue((error as? ExpressionError)?.message.contains("too long") == true, "\(error)")
        }
        XCTAssertNoThrow(try ExpressionParser.parse((0..<200).map(String.init).joined(separator: " + ")))
    }

    /// A million-element literal parses, and an expression over it evaluates, in well under a
    /// second even in a debug build; the shapes of work are checked in `LinearGrowthTests`.
    func testAMillionElementsAreCheap() throws {
        let text = "[" + Array(repeating: "0.5", count: 1_000_000).joined(separator: ",") + "]"
        let expression = try ExpressionParser.parse(text)
        guard case .vector(let xs) = try expression.evaluate(in: .empty) else { return XCTFail("not a vector") }
        XCTAssertEqual(xs.count, 1_000_000)
        let scope = ExpressionScope(name: { $0 == "v" ? .vector(xs) : nil })
        XCTAssertEqual(try ExpressionParser.parse("max(abs(v - 0.5 * v / v))").evaluate(in: scope), .number(0))
    }

    func testExpectationsSplitAtTheComparison() throws {
        let parts = try ExpressionParser.parseExpectation("loss ≈ (batch.loss + columns.loss) / 2 ± 1e-12")
        XCTAssertEqual(parts.left.source, "loss")
        XCTAssertEqual(parts.comparison, .approximately)
        XCTAssertEqual(parts.right.source, "(batch.loss + columns.loss) / 2")
        XCTAssertEqual(parts.tolerance?.source, "1e-12")
        let ascii = try ExpressionParser.parseExpectation("y[0] ~= 11 +- 0")
        XCTAssertEqual(ascii.comparison, .approximately)
        XCTAssertEqual(ascii.right.source, "11")
        XCTAssertEqual(try ExpressionParser.parseExpectation("a - b <= -2").comparison, .lessOrEqual)
        XCTAssertEqual(try ExpressionParser.parseExpectation("a ≥ b").comparison, .greaterOrEqual)
        XCTAssertEqual(try ExpressionParser.parseExpectation("a == b").comparison, .equal)
        XCTAssertThrowsError(try ExpressionParser.parseExpectation("total ≈ 3")) { error in
            XCTAssertTrue("\(error)".contains("needs a tolerance"))
        }
        for text in ["x = 3 +- 1", "x < 3 ± 1", "x >= 3 +- 1"] {
            XCTAssertThrowsError(try ExpressionParser.parseExpectation(text), text) { error in
                XCTAssertTrue("\(error)".contains("a tolerance goes with ≈ only"), "\(text): \(error)")
            }
        }
        XCTAssertEqual(try ExpressionParser.parseExpectation("x = 3 + -1").right.source, "3 + -1")
        XCTAssertThrowsError(try ExpressionParser.parseExpectation("total"))
        XCTAssertThrowsError(try ExpressionParser.parseExpectation("total < 1 < 2"))
    }

    func testJudgingRelationsAndBroadcast() throws {
        func verdict(_ text: String) throws -> ExpectationResult {
            let parts = try ExpressionParser.parseExpectation(text)
            let e = Expectation(left: parts.left, comparison: parts.comparison, right: parts.right,
                                tolerance: parts.tolerance, text: text, location: SourceLocation(file: "t", line: 1))
            let scope = ExpressionScope(reference: { c, o in c == "c" && o == "v" ? .success(.vector([10, 20, 30]))
                                                    : .failure(ExpressionError(.unavailable, at: 0, "needs \(c).\(o)")) },
                                        name: { ["x": .vector([1, 2, 3]), "label": .text("neg")][$0] })
            return ExpectationJudge.judge(e, in: scope)
        }
        XCTAssertTrue(try verdict("x < c.v").passed)
        XCTAssertTrue(try verdict("x * 10 = c.v").passed)
        XCTAssertTrue(try verdict("x > 0").passed, "a scalar stands for every element")
        XCTAssertFalse(try verdict("x > 1").passed)
        XCTAssertTrue(try verdict("sum(x) ≈ 6.001 ± 0.01").passed)
        XCTAssertTrue(try verdict("label = neg").passed)
        XCTAssertFalse(try verdict("label = pos").passed)
        let failed = try verdict("max(x) > c.v[0]")
        XCTAssertFalse(failed.passed)
        XCTAssertEqual(failed.message, "max(x) = 3, c.v[0] = 10", "both sides' values")
        XCTAssertEqual(try verdict("x < 0").message, "x = [1, 2, 3]", "a literal side is not repeated")
        XCTAssertEqual(try verdict("x = [1, 2]").message, "shapes differ: vector of 3 and vector of 2 (x = [1, 2, 3])")
        XCTAssertEqual(try verdict("x < d.q").message, "needs d.q")
        XCTAssertEqual(try verdict("label < 1").message, "a text cannot be compared with a integer (label = neg)")
    }
}
