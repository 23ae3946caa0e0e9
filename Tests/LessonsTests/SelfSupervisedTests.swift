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

    func testHoldoutByHand() throws {
        // Fit y on x over the first three rows of x = [0, 1, 2, 3], y = [1, 2, 4, 9] (ridge 0): the line of
        // testSimpleLinearRegressionByHand, y = 3/2·x + 5/6. The held-out row x = 3 is predicted 16/3,
        // an error of 9 − 16/3 = 11/3; the training mean 7/3 misses it by 20/3. So heldout_mse = 121/9,
        // heldout_baseline_mse = 400/9 and heldout_r2 = 1 − 121/400 = 279/400.
        let out = try evaluate(module, ["data": .matrix([[0, 1], [1, 2], [2, 4], [3, 9]]), "hidden": .vector([1]),
                                        "ridge": .number(0), "holdout": .integer(1)])
        assertClose(out.matrix("weights"), [[1.5], [5.0 / 6]], tol: 1e-14)
        assertClose(out.number("r2"), 27.0 / 28, tol: 1e-15)
        assertClose(out.number("heldout_mse"), 121.0 / 9, tol: 1e-13)
        assertClose(out.number("heldout_baseline_mse"), 400.0 / 9, tol: 1e-13)
        assertClose(out.number("heldout_r2"), 279.0 / 400, tol: 1e-15)
        assertClose(out.matrix("predictions"), [[5.0 / 6], [7.0 / 3], [23.0 / 6], [16.0 / 3]], tol: 1e-14)
        XCTAssertEqual(out.matrix("targets"), [[1], [2], [4], [9]])
    }

    func testHoldoutFitsOnlyTheFirstRows() throws {
        // The fit with the last k rows held out is the fit of the first N − k rows alone, and its held-out
        // error is the error of those weights on the rest, against the fitted rows' means.
        var random = TestRandom(seed: 11)
        let data = (0..<12).map { _ in random.vector(4, in: -2...2) }
        for (hidden, k) in [([3.0], 4), ([0.0, 2.0], 3), ([1.0], 1)] {
            let held = try evaluate(module, ["data": .matrix(data), "hidden": .vector(hidden), "ridge": .number(0.1), "holdout": .integer(k)])
            let alone = try evaluate(module, ["data": .matrix(Array(data.prefix(12 - k))), "hidden": .vector(hidden), "ridge": .number(0.1)])
            XCTAssertEqual(held.matrix("weights"), alone.matrix("weights"))
            XCTAssertEqual(held.number("r2"), alone.number("r2"))
            XCTAssertEqual(Array(held.matrix("predictions").prefix(12 - k)), alone.matrix("predictions"))
            let columns = hidden.map { Int($0) }, w = held.matrix("weights")
            let observed = (0..<4).filter { !columns.contains($0) }
            let means = columns.map { c in data.prefix(12 - k).map { $0[c] }.reduce(0, +) / Double(12 - k) }
            var se = 0.0, seMean = 0.0
            for row in data.suffix(k) {
                let x = observed.map { row[$0] } + [1]
                for (j, c) in columns.enumerated() {
                    var yHat = 0.0
                    for i in 0..<x.count { yHat += x[i] * w[i][j] }
                    se += (row[c] - yHat) * (row[c] - yHat)
                    seMean += (row[c] - means[j]) * (row[c] - means[j])
                }
            }
            let count = Double(k * columns.count)
            assertClose(held.number("heldout_mse"), se / count, tol: 1e-12, "\(hidden), \(k)")
            assertClose(held.number("heldout_baseline_mse"), seMean / count, tol: 1e-12, "\(hidden), \(k)")
            assertClose(held.number("heldout_r2"), 1 - se / seMean, tol: 1e-12, "\(hidden), \(k)")
        }
    }

    func testNoHoldoutLeavesTheHeldOutScoresNaN() throws {
        let out = try evaluate(module, [:])
        for name in ["heldout_mse", "heldout_baseline_mse", "heldout_r2"] {
            XCTAssertTrue(out.number(name).isNaN, name)
        }
        XCTAssertEqual(out.matrix("predictions").count, MaskedPredictionModule.table.count)
    }

    func testInterpolationScoresOneInSampleButNotOnFreshRows() throws {
        // Four fitted rows for three observed columns plus the intercept: the fit passes through every
        // point whatever the data, so r2 = 1 on those rows; the held-out rows tell the truth.
        var random = TestRandom(seed: 5)
        let noise = (0..<10).map { _ in random.vector(4, in: -1...1) }
        let out = try evaluate(module, ["data": .matrix(noise), "hidden": .vector([3]), "ridge": .number(0), "holdout": .integer(6)])
        assertClose(out.number("r2"), 1, tol: 1e-9)
        XCTAssertLessThan(out.number("heldout_r2"), 0.5)
    }

    func testBadHoldoutNamesHoldout() {
        for k in [-1, 7, 8, 100] {
            let error = evaluationError(module, ["holdout": .integer(k)])
            XCTAssertEqual(error?.parameter, "holdout", "\(k)")
        }
        XCTAssertNoThrow(try evaluate(module, ["holdout": .integer(6)]), "two fitted rows are enough with ridge > 0")
        // Too few fitted rows for the unknowns without a ridge: the error still names ridge and counts the fitted rows.
        let short = evaluationError(module, ["holdout": .integer(5), "ridge": .number(0)])
        XCTAssertEqual(short?.parameter, "ridge")
        XCTAssertTrue(short?.message.contains("3 rows") == true, "\(String(describing: short))")
    }

    func testShiftMovesTheHiddenColumnUp() throws {
        // shift = 3 on the default table: row i's column 3 becomes row (i + 3) mod 8's, the lesson's
        // shuffled table, and the fit is the fit of that table.
        let table = MaskedPredictionModule.table
        let shuffled = table.indices.map { i in Array(table[i].prefix(3)) + [table[(i + 3) % 8][3]] }
        XCTAssertEqual(shuffled[0][3], -2.4)
        XCTAssertEqual(shuffled[5][3], -5.1)
        for holdout in [0, 4] {
            let shifted = try evaluate(module, ["shift": .integer(3), "holdout": .integer(holdout)])
            let typed = try evaluate(module, ["data": .matrix(shuffled), "holdout": .integer(holdout)])
            for name in ["weights", "predictions", "targets"] { XCTAssertEqual(shifted.matrix(name), typed.matrix(name), name) }
            XCTAssertEqual(shifted.number("r2"), typed.number("r2"))
        }
        // A shift of N is no shift; only hidden columns move.
        XCTAssertEqual(try evaluate(module, ["shift": .integer(8)]).matrix("weights"), try evaluate(module, [:]).matrix("weights"))
        let two = try evaluate(module, ["hidden": .vector([2, 3]), "shift": .integer(1)])
        XCTAssertEqual(two.matrix("targets")[0], [table[1][2], table[1][3]])
        XCTAssertEqual(evaluationError(module, ["shift": .integer(-1)])?.parameter, "shift")
        XCTAssertEqual(evaluationError(module, ["shift": .integer(1), "hidden": .vector([4])])?.parameter, "hidden")
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

final class StripPredictionTests: XCTestCase {
    let module = StripPredictionModule()

    func testGeneratedRowsArePolynomialsPlusNoise() throws {
        let out = try evaluate(module, [:])
        let data = out.matrix("data"), clean = try evaluate(module, ["noise": .number(0)]).matrix("data")
        XCTAssertEqual(data.count, 24)
        XCTAssertTrue(data.allSatisfy { $0.count == 8 })
        // dof = 2: every clean row is a straight line in the position, so its second differences vanish.
        for row in clean {
            for j in 1..<7 { XCTAssertEqual(row[j - 1] - 2 * row[j] + row[j + 1], 0, accuracy: 1e-12) }
        }
        // The noise has about the requested size (192 draws of N(0, 0.05²)).
        let residuals = zip(data, clean).flatMap { zip($0, $1).map { $0 - $1 } }
        let rms = (residuals.map { $0 * $0 }.reduce(0, +) / Double(residuals.count)).squareRoot()
        XCTAssertEqual(rms, 0.05, accuracy: 0.01)
        // The default hides every pixel but the two ends and holds out 16 rows.
        XCTAssertEqual(out.vector("observed"), [0, 7])
        XCTAssertEqual(out.matrix("targets"), data.map { Array($0[1..<7]) })
        XCTAssertFalse(out.number("heldout_r2").isNaN)
        // dof = 3: the third differences vanish instead.
        let curved = try evaluate(module, ["dof": .integer(3), "noise": .number(0)]).matrix("data")
        for row in curved {
            for j in 1..<6 { XCTAssertEqual(row[j + 2] - 3 * row[j + 1] + 3 * row[j] - row[j - 1], 0, accuracy: 1e-12) }
        }
    }

    func testNoiseFreeLinesAreInterpolatedExactly() throws {
        // Without noise, pixel j of a line is (1 − s)·pixel 0 + s·pixel 7 with s = j/7: the fit finds
        // those weights and a zero intercept, in sample and on the held-out rows.
        let out = try evaluate(module, ["noise": .number(0), "ridge": .number(0)])
        let w = out.matrix("weights")
        for j in 1...6 {
            let s = Double(j) / 7
            XCTAssertEqual(w[0][j - 1], 1 - s, accuracy: 1e-9, "pixel \(j)")
            XCTAssertEqual(w[1][j - 1], s, accuracy: 1e-9, "pixel \(j)")
            XCTAssertEqual(w[2][j - 1], 0, accuracy: 1e-9, "pixel \(j)")
        }
        XCTAssertEqual(out.number("r2"), 1, accuracy: 1e-12)
        XCTAssertEqual(out.number("heldout_r2"), 1, accuracy: 1e-12)
    }

    func testAgreesWithMaskedOnTheSameTable() throws {
        let strip = try evaluate(module, ["seed": .integer(4), "hidden": .vector([1, 2, 3, 4, 5, 6, 7])])
        let masked = try evaluate(MaskedPredictionModule(), ["data": .matrix(strip.matrix("data")),
                                                             "hidden": .vector([1, 2, 3, 4, 5, 6, 7]), "holdout": .integer(16)])
        for name in ["mse", "r2", "heldout_r2"] { XCTAssertEqual(strip.number(name), masked.number(name), name) }
        XCTAssertEqual(strip.matrix("weights"), masked.matrix("weights"))
    }

    func testSeededAndBadInputNamesTheParameter() throws {
        let a = try evaluate(module, ["seed": .integer(3)]), b = try evaluate(module, ["seed": .integer(3)])
        XCTAssertEqual(a.matrix("data"), b.matrix("data"))
        XCTAssertNotEqual(try evaluate(module, ["seed": .integer(4)]).matrix("data"), a.matrix("data"))
        XCTAssertEqual(evaluationError(module, ["dof": .integer(9)])?.parameter, "dof")
        XCTAssertEqual(evaluationError(module, ["pixels": .integer(2)])?.parameter, "pixels")
        XCTAssertEqual(evaluationError(module, ["hidden": .vector([8])])?.parameter, "hidden")
        XCTAssertEqual(evaluationError(module, ["rows": .integer(5)])?.parameter, "holdout")
        XCTAssertEqual(evaluationError(module, ["rows": .integer(10_000), "pixels": .integer(100)])?.parameter, "rows")
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

    func testEdgesOfTheSevenByHand() throws {
        // The 7: top row 4 lit; left column 1 (the corner); bottom row 1; right column 2 (corner, row 1).
        // A counter-clockwise quarter turn carries top → left → bottom → right → top.
        let out = try evaluate(module, [:])
        XCTAssertEqual(out.matrix("edges"), [[4, 1, 1, 2], [2, 4, 1, 1], [1, 2, 4, 1], [1, 1, 2, 4]])
        XCTAssertEqual(out["distinct"], .integer(4))
        XCTAssertEqual(out.number("best_accuracy"), 1)
        XCTAssertEqual(out.number("best_loss"), 0)
        var random = TestRandom(seed: 6)
        let image = (0..<4).map { _ in random.vector(4, in: 0...1) }
        let e = try evaluate(module, ["image": .matrix(image)]).matrix("edges")
        for k in 1..<4 {
            assertClose(e[k], [e[k - 1][3], e[k - 1][0], e[k - 1][1], e[k - 1][2]], tol: 1e-12, "turn \(k)")
        }
    }

    func testSymmetricImagesCapAccuracyAndLoss() throws {
        // A ring: one picture under four labels, best accuracy 1/4 and loss log 4 (uniform answer).
        let ring = try evaluate(module, ["image": .matrix([[1, 1, 1, 1], [1, 0, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1]])])
        XCTAssertEqual(ring["distinct"], .integer(1))
        XCTAssertEqual(ring.number("best_accuracy"), 0.25)
        XCTAssertEqual(ring.number("best_loss"), log(4), accuracy: 1e-15)
        // A Z: two pictures, each under two labels: 1/2 and log 2.
        let zed = try evaluate(module, ["image": .matrix([[1, 1, 1, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 1, 1, 1]])])
        XCTAssertEqual(zed["distinct"], .integer(2))
        XCTAssertEqual(zed.number("best_accuracy"), 0.5)
        XCTAssertEqual(zed.number("best_loss"), log(2), accuracy: 1e-15)
        // A 1×1 image is its own rotation.
        XCTAssertEqual(try evaluate(module, ["image": .matrix([[3]])])["distinct"], .integer(1))
    }

    func testNonSquareImageNamesImage() {
        let error = evaluationError(module, ["image": .matrix([[1, 2, 3], [4, 5, 6]])])
        XCTAssertEqual(error?.parameter, "image")
        XCTAssertTrue(error?.message.contains("2×3") == true, "\(String(describing: error))")
        XCTAssertEqual(evaluationError(module, ["image": .vector([1, 2])])?.parameter, "image")
        XCTAssertEqual(evaluationError(module, ["image": .matrix([[1, .infinity], [0, 0]])])?.parameter, "image")
    }
}

final class MAECostTests: XCTestCase {
    let module = MAECostModule()

    /// ViT-L with MAE's 8 × 512 decoder at m = 0.75, term by term.
    func testDefaultsByHand() throws {
        let out = try evaluate(module, [:])
        XCTAssertEqual(out["tokens"], .integer(196))
        XCTAssertEqual(out["visible"], .integer(49))
        // r = 8·12·512² / (24·12·1024²) = 1/12, and (1 + 1/12)/(1/4 + 1/12) = 13/4.
        XCTAssertEqual(out.number("decoder_fraction"), 1.0 / 12, accuracy: 1e-15)
        XCTAssertEqual(out.number("speedup_linear"), 3.25, accuracy: 1e-14)
        let n = 196.0, v = 49.0, we = 1024.0, wd = 512.0, p = 768.0
        func enc(_ t: Double) -> Double { 24 * t * (12 * we * we + 2 * t * we) }
        let dec = 8 * n * (12 * wd * wd + 2 * n * wd)
        XCTAssertEqual(out.number("speedup_attention"), (enc(n) + dec) / (enc(v) + dec), accuracy: 1e-12)
        let mae = enc(v) + dec + v * p * we + v * we * wd + n * wd * p
        let full = enc(n) + dec + v * p * we + n * we * wd + n * wd * p
        XCTAssertEqual(out.number("cost"), mae, accuracy: 1)
        XCTAssertEqual(out.number("cost_mask_tokens"), full, accuracy: 1)
        XCTAssertEqual(out.number("speedup"), full / mae, accuracy: 1e-12)
        XCTAssertEqual(out.number("encoder_share"), enc(v) / mae, accuracy: 1e-12)
        // Attention favours the short sequence; the per-token layers outside the blocks dilute the saving.
        XCTAssertGreaterThan(out.number("speedup_attention"), out.number("speedup"))
        XCTAssertGreaterThan(out.number("speedup"), out.number("speedup_linear"))
    }

    func testLimits() throws {
        // No masking saves nothing; no decoder and linear layers only save exactly n/n_vis.
        XCTAssertEqual(try evaluate(module, ["mask_ratio": .number(0)]).number("speedup"), 1, accuracy: 1e-15)
        let bare = try evaluate(module, ["decoder_depth": .integer(0)])
        XCTAssertEqual(bare.number("speedup_linear"), 4, accuracy: 1e-15)
        // ⌊n(1 − m)⌋ as in the reference code: 196·0.3 = 58.8 keeps 58.
        XCTAssertEqual(try evaluate(module, ["mask_ratio": .number(0.7)])["visible"], .integer(58))
        XCTAssertEqual(evaluationError(module, ["patch": .integer(15)])?.parameter, "patch")
        XCTAssertEqual(evaluationError(module, ["mask_ratio": .number(1)])?.parameter, "mask_ratio")
        XCTAssertEqual(evaluationError(module, ["mask_ratio": .number(0.999)])?.parameter, "mask_ratio")
    }
}
