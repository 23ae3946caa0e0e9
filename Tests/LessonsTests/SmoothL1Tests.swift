import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

final class SmoothL1Tests: XCTestCase {
    let module = SmoothL1Module()

    func testByHand() throws {
        // d = [0.5, −2, 0.2, 3] with β = 1. Inside (|d| < 1): 0.5·0.25 = 0.125 and 0.5·0.04 = 0.02.
        // Outside: 2 − 0.5 = 1.5 and 3 − 0.5 = 2.5. Sum 4.145, mean 1.03625.
        // grad = [0.5, −1, 0.2, 1] / 4.
        let out = try evaluate(module, [:])
        assertClose(out.vector("diff"), [0.5, -2, 0.2, 3], tol: 1e-15)
        assertClose(out.vector("elementwise"), [0.125, 1.5, 0.02, 2.5], tol: 1e-15)
        assertClose(out.number("sum"), 4.145, tol: 1e-14)
        assertClose(out.number("loss"), 1.03625, tol: 1e-15)
        assertClose(out.vector("grad"), [0.125, -0.25, 0.05, 0.25], tol: 1e-15)
        XCTAssertEqual(out.vector("quadratic"), [1, 0, 1, 0])
    }

    func testGradientMatchesFiniteDifferences() throws {
        var random = TestRandom(seed: 17)
        for beta in [0.1, 1, 2.5] {
            let pred = random.vector(9, in: -4...4), target = random.vector(9, in: -1...1)
            let grad = try evaluate(module, ["pred": .vector(pred), "target": .vector(target), "beta": .number(beta)]).vector("grad")
            let numeric = try numericalGradient(pred) { p in
                try self.module.evaluate(["pred": .vector(p), "target": .vector(target), "beta": .number(beta)]).outputs.number("loss")
            }
            assertClose(grad, numeric, tol: 1e-8, "beta \(beta)")
        }
    }

    func testPiecesMeetWithEqualValueAndSlopeAtBeta() throws {
        for beta in [0.25, 1, 3] {
            let eps = 1e-9 * beta
            for sign in [-1.0, 1] {
                let d = [sign * (beta - eps), sign * beta, sign * (beta + eps)]
                let out = try evaluate(module, ["pred": .vector(d), "target": .vector([0, 0, 0]), "beta": .number(beta)])
                let e = out.vector("elementwise"), g = out.vector("grad")
                // Both pieces give β/2 at |d| = β and slope ±1 (÷ n = 3 for the mean).
                for value in e { assertClose(value, beta / 2, tol: 2e-9 * beta) }
                for slope in g { assertClose(slope, sign / 3, tol: 1e-8) }
                XCTAssertEqual(out.vector("quadratic"), [1, 0, 0])
            }
        }
    }

    func testGradientIsBoundedByOneOverN() throws {
        var random = TestRandom(seed: 29)
        let pred = random.vector(25, in: -100...100), target = random.vector(25, in: -100...100)
        for beta in [0, 0.5, 50, 1e4] {
            let grad = try evaluate(module, ["pred": .vector(pred), "target": .vector(target), "beta": .number(beta)]).vector("grad")
            XCTAssertTrue(grad.allSatisfy { abs($0) <= 1.0 / 25 }, "beta \(beta): \(grad.map(abs).max() ?? 0)")
        }
    }

    func testBetaZeroIsL1AndALargeBetaIsHalfSquaredErrorOverBeta() throws {
        let pred = [0.3, -0.7, 0, 2], target = [0.0, 0, 0, 0]
        let l1 = try evaluate(module, ["pred": .vector(pred), "target": .vector(target), "beta": .number(0)])
        XCTAssertEqual(l1.vector("elementwise"), pred.map(abs))
        XCTAssertEqual(l1.vector("grad"), [0.25, -0.25, 0, 0.25])
        let quadratic = try evaluate(module, ["pred": .vector(pred), "target": .vector(target), "beta": .number(10)])
        assertClose(quadratic.vector("elementwise"), pred.map { $0 * $0 / 20 }, tol: 1e-16)
        assertClose(quadratic.vector("grad"), pred.map { $0 / 40 }, tol: 1e-16)
    }

    func testAgainstTorch() throws {
        let fixture = try XCTUnwrap(loadFixture("faster_rcnn.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["smooth_l1"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 8)
        for c in cases {
            let out = try evaluate(module, ["pred": .vector(fixtureVector(c["pred"])), "target": .vector(fixtureVector(c["target"])),
                                            "beta": .number(try XCTUnwrap(fixtureNumber(c["beta"])))])
            assertClose(out.vector("elementwise"), fixtureVector(c["elementwise"]), tol: 1e-12)
            assertClose(out.number("loss"), try XCTUnwrap(fixtureNumber(c["loss"])), tol: 1e-12)
            assertClose(out.number("sum"), try XCTUnwrap(fixtureNumber(c["sum"])), tol: 1e-12)
            assertClose(out.vector("grad"), fixtureVector(c["grad"]), tol: 1e-12)
        }
    }

    func testBadInputNamesTheParameter() {
        XCTAssertEqual(evaluationError(module, ["target": .vector([1, 2])])?.parameter, "target")
        XCTAssertEqual(evaluationError(module, ["beta": .number(-1)])?.parameter, "beta")
        XCTAssertEqual(evaluationError(module, ["pred": .vector([])])?.parameter, "pred")
        XCTAssertEqual(evaluationError(module, ["pred": .vector([1, .nan, 0, 0])])?.parameter, "pred")
        XCTAssertEqual(evaluationError(module, ["target": .vector([1, 1e200, 0, 0])])?.parameter, "target")
    }
}
