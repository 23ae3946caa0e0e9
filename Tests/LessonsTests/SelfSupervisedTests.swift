import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

final class MaskedPredictionTests: XCTestCase {
    let module = MaskedPredictionModule()

    func testSimpleLinearRegressionByHand() throws {
        // One observed column x = [0, 1, 2], hidden y = [1, 2, 4], ridge 0: ordinary least squares.
        // slope = Σ(x − x̄)(y − ȳ)/Σ(x − x̄)² = (4/3 + 0 + 5/3)/2 = 3/2; intercept = ȳ − 3/2·x̄ = 7/3 − 3/2 = 5/6.
        // Predictions [5/6, 7/3, 23/6], residuals [1/6, −1/3, 1/6]: mse = (1 + 4 + 1)/36/3 = 1/18.
        // Baseline: Σ(y − ȳ)² = (16 + 1 + 25)/9 = 14/3, so baseline_mse = 14/9 and r2 = 1 − 1/28 = 27/28.
        let out = try evaluate(module, ["data": .matrix([[0, 1], [1, 2], [2, 4]]), "hidden": .vector([1]), "ridge": .number(0)])
        assertClose(out.matrix("weights"), [[1.5], [5.0 / 6]], tol: 1e-14)
        assertClose(out.matrix("predictions"), [[5.0 / 6], [7.0 / 3], [23.0 / 6]], tol: 1e-14)
        assertClose(out.number("mse"), 1.0 / 18, tol: 1e-15)
        assertClose(out.number("baseline_mse"), 14.0 / 9, tol: 1e-15)
        assertClose(out.number("r2"), 27.0 / 28, tol: 1e-15)
        XCTAssertEqual(out.vector("observed"), [0])
        XCTAssertEqual(out.matrix("targets"), [[1], [2], [4]])
    }

    func testRidgeShrinksTheInterceptTooByHand() throws {
        // x = [1, −1], y = [2, 0], λ = 1. X = [[1, 1], [−1, 1]]: XᵀX + I = 3I and XᵀY = [2, 2], so
        // W = [2/3, 2/3] (an unpenalised intercept would be ȳ = 1). Predictions [4/3, 0],
        // mse = (4/9 + 0)/2 = 2/9; baseline_mse = 1; r2 = 7/9.
        let out = try evaluate(module, ["data": .matrix([[1, 2], [-1, 0]]), "hidden": .vector([1]), "ridge": .number(1)])
        assertClose(out.matrix("weights"), [[2.0 / 3], [2.0 / 3]], tol: 1e-15)
        assertClose(out.matrix("predictions"), [[4.0 / 3], [0]], tol: 1e-15)
        assertClose(out.number("mse"), 2.0 / 9, tol: 1e-15)
        assertClose(out.number("baseline_mse"), 1, tol: 1e-15)
        assertClose(out.number("r2"), 7.0 / 9, tol: 1e-15)
    }

    func testExactLinearFunctionIsRecovered() throws {
        // Column 2 = 2·column 0 − 3·column 1 + 0.5 exactly: r2 = 1 and W = [2, −3, 0.5].
        var random = TestRandom(seed: 4)
        let data = (0..<25).map { _ -> [Double] in
            let a = Double.random(in: -3...3, using: &random), b = Double.random(in: -3...3, using: &random)
            return [a, b, 2 * a - 3 * b + 0.5]
        }
        for ridge in [0, 1e-12, 1e-6] {
            let out = try evaluate(module, ["data": .matrix(data), "hidden": .vector([2]), "ridge": .number(ridge)])
            XCTAssertLessThanOrEqual(abs(out.number("r2") - 1), 1e-9, "ridge \(ridge)")
            assertClose(out.matrix("weights").map { $0[0] }, [2, -3, 0.5], tol: ridge == 0 ? 1e-12 : 1e-5, "ridge \(ridge)")
            XCTAssertLessThan(out.number("mse"), 1e-9 * out.number("baseline_mse"))
        }
    }

    func testSolutionSatisfiesTheNormalEquations() throws {
        // At the ridge solution the gradient of ‖Y − XW‖² + λ‖W‖² vanishes: Xᵀ(Y − XW) = λW.
        var random = TestRandom(seed: 8)
        let data = (0..<15).map { _ in random.vector(5, in: -2...2) }
        let lambda = 0.3
        let out = try evaluate(module, ["data": .matrix(data), "hidden": .vector([3, 0]), "ridge": .number(lambda)])
        let w = out.matrix("weights"), p = out.matrix("predictions")
        XCTAssertEqual(out.vector("observed"), [1, 2, 4])
        let x = data.map { [$0[1], $0[2], $0[4], 1] }, y = data.map { [$0[3], $0[0]] }
        for k in 0..<4 {
            for c in 0..<2 {
                var lhs = 0.0
                for r in 0..<15 { lhs += x[r][k] * (y[r][c] - p[r][c]) }
                assertClose(lhs, lambda * w[k][c], tol: 1e-12, "k \(k), c \(c)")
            }
        }
    }

    func testColumnsFollowTheOrderOfHidden() throws {
        let ab = try evaluate(module, ["hidden": .vector([3, 1])])
        let ba = try evaluate(module, ["hidden": .vector([1, 3])])
        XCTAssertEqual(ab.matrix("weights").map { [$0[1], $0[0]] }, ba.matrix("weights"))
        XCTAssertEqual(ab.matrix("predictions").map { [$0[1], $0[0]] }, ba.matrix("predictions"))
        XCTAssertEqual(ab.vector("r2_per_column").reversed(), ba.vector("r2_per_column"))
        XCTAssertEqual(ab.number("mse"), ba.number("mse"))
    }

    func testHugeRidgeShrinksEverythingToZero() throws {
        // λ → ∞: W → 0, so predictions → 0 and mse → mean of y².
        let out = try evaluate(module, ["ridge": .number(1e30)])
        let y = MaskedPredictionModule.table.map { $0[3] }
        XCTAssertLessThan(out.matrix("weights").flatMap { $0 }.map(abs).max() ?? 1, 1e-28)
        assertClose(out.number("mse"), y.map { $0 * $0 }.reduce(0, +) / Double(y.count), tol: 1e-12)
        XCTAssertLessThan(out.number("r2"), 0, "worse than the mean")
    }

    func testDefaultHiddenColumnIsWellPredicted() throws {
        // The default table's column 3 is column 0 + 2·column 1 − column 2 plus rounding-sized noise.
        let out = try evaluate(module, [:])
        XCTAssertGreaterThan(out.number("r2"), 0.99)
        assertClose(out.matrix("weights").prefix(3).map { $0[0] }, [1, 2, -1], tol: 0.15)
        XCTAssertEqual(out.number("r2"), out.vector("r2_per_column")[0])
    }

    func testAgainstNumpyFixtures() throws {
        let fixture = try XCTUnwrap(loadFixture("self_supervised.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["masked"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 7)
        for (k, c) in cases.enumerated() {
            let out = try evaluate(module, ["data": .matrix(fixtureMatrix(c["data"])), "hidden": .vector(fixtureVector(c["hidden"])),
                                            "ridge": .number(try XCTUnwrap(fixtureNumber(c["ridge"])))])
            let weights = fixtureMatrix(c["weights"])
            let scale = max(1, weights.flatMap { $0 }.map(abs).max() ?? 1)
            assertClose(out.matrix("weights"), weights, tol: 1e-9 * scale, "case \(k)")
            let predictions = fixtureMatrix(c["predictions"])
            let yScale = max(1, predictions.flatMap { $0 }.map(abs).max() ?? 1)
            assertClose(out.matrix("predictions"), predictions, tol: 1e-10 * yScale, "case \(k)")
            XCTAssertEqual(out.vector("observed"), fixtureVector(c["observed"]))
            for name in ["mse", "baseline_mse"] {
                let expected = try XCTUnwrap(fixtureNumber(c[name]))
                assertClose(out.number(name), expected, tol: 1e-8 * expected, "\(name), case \(k)")
            }
            assertClose(out.number("r2"), try XCTUnwrap(fixtureNumber(c["r2"])), tol: 1e-9, "case \(k)")
            assertClose(out.vector("r2_per_column"), fixtureVector(c["r2_per_column"]), tol: 1e-9, "case \(k)")
            let baseline = fixtureVector(c["baseline_mse_per_column"])
            assertClose(out.vector("baseline_mse_per_column"), baseline, tol: 1e-12 * (baseline.max() ?? 1))
        }
    }

    func testBadHiddenIndicesNameHidden() {
        for (hidden, words) in [([4.0], "0..<4"), ([-1.0], "0..<4"), ([1.5], "0..<4"),
                                ([1, 1], "twice"), ([0, 1, 2, 3], "at least one column")] {
            let error = evaluationError(module, ["hidden": .vector(hidden)])
            XCTAssertEqual(error?.parameter, "hidden", "\(hidden)")
            XCTAssertTrue(error?.message.contains(words) == true, "\(String(describing: error))")
        }
        XCTAssertEqual(evaluationError(module, ["hidden": .vector([])])?.parameter, "hidden")
        // A constant hidden column: its mean is exact, so r2 would be 1 − mse/0.
        let constant = evaluationError(module, ["data": .matrix([[1, 5], [2, 5], [3, 5]]), "hidden": .vector([1])])
        XCTAssertEqual(constant?.parameter, "hidden")
        XCTAssertTrue(constant?.message.contains("constant") == true)
    }

    func testSingularSystemWithoutRidgeNamesRidge() {
        // Column 1 = 2·column 0: XᵀX is singular.
        let duplicate = evaluationError(module, ["data": .matrix([[1, 2, 0], [2, 4, 1], [3, 6, 5], [4, 8, 2]]),
                                                 "hidden": .vector([2]), "ridge": .number(0)])
        XCTAssertEqual(duplicate?.parameter, "ridge")
        XCTAssertTrue(duplicate?.message.contains("observed column 1") == true, "\(String(describing: duplicate))")
        // A constant observed column duplicates the intercept.
        let constant = evaluationError(module, ["data": .matrix([[7, 1, 0], [7, 2, 1], [7, 3, 5], [7, 4, 2]]),
                                                "hidden": .vector([2]), "ridge": .number(0)])
        XCTAssertEqual(constant?.parameter, "ridge")
        XCTAssertTrue(constant?.message.contains("intercept") == true, "\(String(describing: constant))")
        // Fewer rows than unknowns.
        let short = evaluationError(module, ["data": .matrix([[1, 2, 0, 3], [2, 1, 1, 4], [0, 5, 5, 1]]),
                                             "hidden": .vector([3]), "ridge": .number(0)])
        XCTAssertEqual(short?.parameter, "ridge")
        XCTAssertTrue(short?.message.contains("at least 4 rows") == true, "\(String(describing: short))")
        // Collinear up to rounding (column 1 = 3·column 0 + 1e-15 noise) is singular numerically.
        let nearly = evaluationError(module, ["data": .matrix([[0.1, 0.3, 1], [0.7, 2.1, 2], [1.3, 3.9000000000000004, 0], [2.2, 6.6000000000000005, 1]]),
                                              "hidden": .vector([2]), "ridge": .number(0)])
        XCTAssertEqual(nearly?.parameter, "ridge")
    }

    func testRidgeMakesTheSingularSystemSolvable() throws {
        // The duplicate-column data above with λ > 0: the weight is shared, w₀ + 2w₁ fits the slope.
        let out = try evaluate(module, ["data": .matrix([[1, 2, 0], [2, 4, 1], [3, 6, 5], [4, 8, 2]]),
                                        "hidden": .vector([2]), "ridge": .number(1e-3)])
        XCTAssertTrue(out.matrix("weights").flatMap { $0 }.allSatisfy(\.isFinite))
        let w = out.matrix("weights").map { $0[0] }
        assertClose(w[1], 2 * w[0], tol: 1e-9, "ridge splits the weight in the ratio of the columns")
        // A ridge far below the data's scale leaves the system numerically singular: still `ridge`.
        let tiny = evaluationError(module, ["data": .matrix([[1e6, 2e6, 0], [2e6, 4e6, 1], [3e6, 6e6, 5], [4e6, 8e6, 2]]),
                                            "hidden": .vector([2]), "ridge": .number(1e-300)])
        XCTAssertEqual(tiny?.parameter, "ridge")
        XCTAssertTrue(tiny?.message.contains("too small") == true, "\(String(describing: tiny))")
    }

    func testOtherBadDataNamesData() {
        XCTAssertEqual(evaluationError(module, ["data": .matrix([[1, 2, 3]]), "hidden": .vector([0])])?.parameter, "data")
        XCTAssertEqual(evaluationError(module, ["data": .matrix([[1, .nan], [2, 3]]), "hidden": .vector([0])])?.parameter, "data")
        XCTAssertEqual(evaluationError(module, ["data": .matrix([[1e200, 1], [2, 3]]), "hidden": .vector([0])])?.parameter, "data")
        XCTAssertEqual(evaluationError(module, ["data": .matrix([[Double]](repeating: [Double](repeating: 1, count: 101), count: 2)),
                                                "hidden": .vector([0])])?.parameter, "data")
        XCTAssertEqual(evaluationError(module, ["ridge": .number(-1)])?.parameter, "ridge")
    }
}

final class RotationPretextTests: XCTestCase {
    let module = RotationPretextModule()

    func testTwoByTwoByHand() throws {
        // [[1, 2], [3, 4]] turned a quarter counter-clockwise brings the right column to the top row.
        let out = try evaluate(module, ["image": .matrix([[1, 2], [3, 4]])])
        XCTAssertEqual(out.matrix("rot90"), [[2, 4], [1, 3]])
        XCTAssertEqual(out.matrix("rot180"), [[4, 3], [2, 1]])
        XCTAssertEqual(out.matrix("rot270"), [[3, 1], [4, 2]])
        XCTAssertEqual(out.vector("labels"), [0, 1, 2, 3])
    }

    func testQuarterTurnsCompose() throws {
        var random = TestRandom(seed: 2)
        let image = (0..<5).map { _ in random.vector(5, in: -1...1) }
        let out = try evaluate(module, ["image": .matrix(image)])
        let again = try evaluate(module, ["image": .matrix(out.matrix("rot90"))])
        XCTAssertEqual(again.matrix("rot90"), out.matrix("rot180"))
        XCTAssertEqual(again.matrix("rot180"), out.matrix("rot270"))
        XCTAssertEqual(again.matrix("rot270"), image, "four quarter turns are the identity")
        // 270° counter-clockwise (90° clockwise) is the transpose with each row reversed: out[i][j] = in[n−1−j][i].
        XCTAssertEqual(out.matrix("rot270"), (0..<5).map { i in (0..<5).map { j in image[4 - j][i] } })
    }

    func testAgainstNumpyRot90() throws {
        let fixture = try XCTUnwrap(loadFixture("self_supervised.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["rotation"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 5)
        for c in cases {
            let out = try evaluate(module, ["image": .matrix(fixtureMatrix(c["image"]))])
            for name in ["rot90", "rot180", "rot270"] {
                // Pure permutations: compare with a tolerance only for the JSON reading of decimals.
                assertClose(out.matrix(name), fixtureMatrix(c[name]), tol: 1e-15, name)
            }
        }
    }

    func testNonSquareImageNamesImage() {
        let error = evaluationError(module, ["image": .matrix([[1, 2, 3], [4, 5, 6]])])
        XCTAssertEqual(error?.parameter, "image")
        XCTAssertTrue(error?.message.contains("2×3") == true, "\(String(describing: error))")
        XCTAssertEqual(evaluationError(module, ["image": .vector([1, 2])])?.parameter, "image")
        XCTAssertEqual(evaluationError(module, ["image": .matrix([[1, .infinity], [0, 0]])])?.parameter, "image")
    }
}
