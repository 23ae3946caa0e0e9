import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// `pg.reinforce`: a draw-for-draw Python replay, statistics across seeds, bad input.
final class PolicyGradientReinforceTests: XCTestCase {
    let module = ReinforceModule()
    /// The lesson's bandit and step size.
    let lessonMeans: Value = .vector([0.7, 0.8, 0.9])

    private func fixture(_ key: String) throws -> [[String: Any]] {
        let fixture = try XCTUnwrap(loadFixture("actor_critic.json") as? [String: Any])
        return try XCTUnwrap(fixture[key] as? [[String: Any]])
    }

    func testMatchesPythonReplay() throws {
        let cases = try fixture("reinforce")
        XCTAssertEqual(cases.count, 6)
        for c in cases {
            let values: [String: Value] = [
                "means": .vector(fixtureVector(c["means"])),
                "episodes": .integer(try XCTUnwrap(c["episodes"] as? Int)),
                "lr": .number(try XCTUnwrap(fixtureNumber(c["lr"]))),
                "baseline": .text(try XCTUnwrap(c["baseline"] as? String)),
                "seed": .integer(try XCTUnwrap(c["seed"] as? Int)),
            ]
            let out = try evaluate(module, values)
            let label = "\(values)"
            // Same generator, same draws, same operations in the same order: the fixture holds the
            // Python results as hex floats and the Swift run must reproduce every bit.
            XCTAssertEqual(out.vector("pulls"), fixtureVector(c["pulls"]), label)
            XCTAssertEqual(out.vector("reward_curve"), fixtureVector(c["reward_curve"]), label)
            XCTAssertEqual(out.number("regret"), fixtureNumber(c["regret"]), label)
            XCTAssertEqual(out.number("mean_reward"), fixtureNumber(c["mean_reward"]), label)
            XCTAssertEqual(out.vector("final_logits"), fixtureVector(c["final_logits"]), label)
            XCTAssertEqual(out.vector("final_pi"), fixtureVector(c["final_pi"]), label)
            XCTAssertEqual(out.number("best_arm_prob"), fixtureNumber(c["best_arm_prob"]), label)
            XCTAssertEqual(fixtureVector(c["final_pi"]).count, fixtureVector(c["means"]).count, "hex floats parsed")
        }
    }

    func testInitialGradientStatisticsMatchEnumeration() throws {
        let cases = try fixture("initial_statistics")
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let means = fixtureVector(c["means"])
            let out = try evaluate(module, ["means": .vector(means), "episodes": .integer(10)])
            assertClose(out.vector("initial_gradient"), fixtureVector(c["gradient"]), tol: 1e-15, "\(means)")
            assertClose(out.number("variance_no_baseline"), try XCTUnwrap(fixtureNumber(c["variance_none"])), tol: 1e-14, "\(means)")
            assertClose(out.number("variance_with_baseline"), try XCTUnwrap(fixtureNumber(c["variance_mean"])), tol: 1e-14, "\(means)")
        }
    }

    /// The lesson's bandit at θ = 0, by hand: J = 0.8, ∇J = (−1/30, 0, 1/30),
    /// E‖ĝ‖² = (2/3)·J = 8/15 without a baseline and (2/3)·0.16 with b = J.
    func testInitialStatisticsByHand() throws {
        let out = try evaluate(module, ["means": lessonMeans, "episodes": .integer(10)])
        assertClose(out.vector("initial_gradient"), [-1.0 / 30, 0, 1.0 / 30], tol: 1e-16)
        let gradNormSq = 2.0 / 900
        XCTAssertEqual(out.number("variance_no_baseline"), 8.0 / 15 - gradNormSq, accuracy: 1e-15)
        XCTAssertEqual(out.number("variance_with_baseline"), 2.0 / 3 * 0.16 - gradNormSq, accuracy: 1e-15)
    }

    func testSameSeedReproducesDifferentSeedDiffers() throws {
        let values: [String: Value] = ["means": lessonMeans, "episodes": .integer(500), "seed": .integer(9)]
        let a = try evaluate(module, values), b = try evaluate(module, values)
        XCTAssertEqual(a.vector("final_logits"), b.vector("final_logits"))
        XCTAssertEqual(a.vector("pulls"), b.vector("pulls"))
        var other = values
        other["seed"] = .integer(10)
        XCTAssertNotEqual(try evaluate(module, other).vector("pulls"), a.vector("pulls"))
    }

    /// The seeds share the cores; each reports exactly what it gives run alone, in seed order.
    func testSeedsRunTogetherAsEachRunsAlone() throws {
        for entropy in [0.0, 0.2] {
            let base: [String: Value] = ["means": lessonMeans, "episodes": .integer(200), "lr": .number(0.3),
                                         "seed": .integer(40), "entropy": .number(entropy)]
            var many = base
            many["seeds"] = .integer(13)
            let together = try evaluate(module, many).vector("seed_best_arm_probs")
            XCTAssertEqual(together.count, 13)
            for k in 0..<13 {
                var alone = base
                alone["seed"] = .integer(40 + k)
                XCTAssertEqual(together[k], try evaluate(module, alone).number("best_arm_prob"), "seed \(40 + k), β \(entropy)")
            }
        }
    }

    /// The criterion, over twenty seeds rather than one: on the lesson's bandit with
    /// lr = 0.3 and 1000 episodes, REINFORCE with the mean baseline ends with the best arm above
    /// 0.9 every time.
    func testBaselineLearnsBestArmAcrossSeeds() throws {
        var firstTenth = 0.0, lastTenth = 0.0
        for seed in 1...20 {
            let out = try evaluate(module, ["means": lessonMeans, "lr": .number(0.3), "seed": .integer(seed)])
            XCTAssertGreaterThan(out.number("best_arm_prob"), 0.9, "seed \(seed)")
            XCTAssertEqual(integerOutput(out, "best_arm"), 2)
            let curve = out.vector("reward_curve")
            XCTAssertEqual(curve.count, 10)
            firstTenth += curve[0] / 20
            lastTenth += curve[9] / 20
        }
        // Learning shows in the curve: averaged over the seeds, the first tenth earns about what
        // uniform play does (0.8) and the last about what the best arm does (0.9).
        XCTAssertEqual(firstTenth, 0.82, accuracy: 0.03)
        XCTAssertEqual(lastTenth, 0.89, accuracy: 0.02)
    }

    /// Without a baseline every reward here is 0 or 1, so each sampled arm is pushed up on
    /// success and never down: over the same seeds the runs are worse on average and some lock
    /// onto a worse arm.
    func testNoBaselineIsWorseAcrossSeeds() throws {
        var withBaseline = 0.0, without = 0.0, regretWith = 0.0, regretWithout = 0.0
        var collapsed = 0
        for seed in 1...20 {
            var values: [String: Value] = ["means": lessonMeans, "lr": .number(0.3), "seed": .integer(seed)]
            let a = try evaluate(module, values)
            values["baseline"] = .text("none")
            let b = try evaluate(module, values)
            withBaseline += a.number("best_arm_prob")
            without += b.number("best_arm_prob")
            regretWith += a.number("regret")
            regretWithout += b.number("regret")
            if b.number("best_arm_prob") < 0.5 { collapsed += 1 }
        }
        XCTAssertGreaterThan(withBaseline / 20, without / 20 + 0.1)
        XCTAssertLessThan(regretWith, regretWithout)
        XCTAssertGreaterThanOrEqual(collapsed, 3)
    }

    func testRewardCurveAveragesTenths() throws {
        // 257 episodes: tenths of 25 or 26 episodes. Weighted by their sizes they give the mean.
        let out = try evaluate(module, ["means": .vector([0.2, 0.5, 0.8, 0.4]), "episodes": .integer(257),
                                        "lr": .number(0.5), "seed": .integer(3)])
        let curve = out.vector("reward_curve")
        var total = 0.0
        for k in 0..<10 { total += curve[k] * Double((k + 1) * 257 / 10 - k * 257 / 10) }
        XCTAssertEqual(total / 257, out.number("mean_reward"), accuracy: 1e-14)
        XCTAssertEqual(out.vector("pulls").reduce(0, +), 257)
        XCTAssertEqual(ReinforceModule.tenths((0..<20).map(Double.init)),
                       [0.5, 2.5, 4.5, 6.5, 8.5, 10.5, 12.5, 14.5, 16.5, 18.5])
    }

    func testRegretCountsExpectedLoss() throws {
        // Deterministic arms: reward 0 from arm 0, 1 from arm 1, so the regret is the number of
        // pulls of arm 0 and the mean reward the share of pulls of arm 1.
        let out = try evaluate(module, ["means": .vector([0, 1]), "episodes": .integer(400), "seed": .integer(4)])
        let pulls = out.vector("pulls")
        XCTAssertEqual(out.number("regret"), pulls[0])
        XCTAssertEqual(out.number("mean_reward"), pulls[1] / 400)
        let tied = try evaluate(module, ["means": .vector([0.5, 0.5]), "episodes": .integer(100)])
        XCTAssertEqual(tied.number("regret"), 0)
        XCTAssertEqual(tied.number("best_arm_prob"), 1, accuracy: 1e-15)
    }

    func testZeroLearningRateKeepsUniformPolicy() throws {
        let out = try evaluate(module, ["means": lessonMeans, "lr": .number(0), "episodes": .integer(3000)])
        XCTAssertEqual(out.vector("final_pi"), [1.0 / 3, 1.0 / 3, 1.0 / 3])
        XCTAssertEqual(out.number("best_arm_prob"), 1.0 / 3)
        for count in out.vector("pulls") { XCTAssertEqual(count / 3000, 1.0 / 3, accuracy: 0.03) }
        // Uniform play loses 0.1 per episode on average: regret ≈ 3000·(0.2 + 0.1 + 0)/3.
        XCTAssertEqual(out.number("regret"), 300, accuracy: 30)
    }

    func testDefaultsRun() throws {
        let out = try evaluate(module)
        XCTAssertEqual(out.names.prefix(4), ["final_pi", "best_arm_prob", "reward_curve", "regret"])
        XCTAssertEqual(out.vector("final_pi").count, 3)
        XCTAssertEqual(out.vector("final_pi").reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertEqual(module.output(named: "reward_curve")?.hint, .chart)
    }

    func testBadInputNamesTheParameter() {
        let cases: [(String, [String: Value])] = [
            ("means", ["means": .vector([0.5, 1.5])]),
            ("means", ["means": .vector([0.5, -0.1])]),
            ("means", ["means": .vector([0.5, .nan])]),
            ("means", ["means": .vector([])]),
            ("means", ["means": .vector([Double](repeating: 0.5, count: 1001))]),
            ("episodes", ["episodes": .integer(9)]),
            ("episodes", ["episodes": .integer(1_000_001)]),
            ("episodes", ["means": .vector([Double](repeating: 0.5, count: 1000)), "episodes": .integer(20_001)]),
            ("lr", ["lr": .number(-0.1)]),
            ("lr", ["lr": .number(.nan)]),
            ("lr", ["lr": .number(1001)]),
            ("baseline", ["baseline": .text("median")]),
            ("seed", ["seed": .integer(-1)]),
            ("seed", ["seed": .number(0.5)]),
        ]
        for (parameter, values) in cases {
            let error = evaluationError(module, values)
            XCTAssertEqual(error?.parameter, parameter, "\(values): \(String(describing: error))")
        }
    }
}

/// An integer output, or a test failure (a file-private helper so it cannot clash with others).
private func integerOutput(_ outputs: Outputs, _ name: String, file: StaticString = #filePath, line: UInt = #line) -> Int {
    guard case .integer(let n)? = outputs[name] else {
        XCTFail("output \(name) is not an integer: \(String(describing: outputs[name]))", file: file, line: line)
        return -1
    }
    return n
}
