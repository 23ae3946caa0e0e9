import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

private func extendedFixture(_ key: String) throws -> [[String: Any]] {
    let root = try XCTUnwrap(loadFixture("policy_gradient_extended.json") as? [String: Any])
    return try XCTUnwrap(root[key] as? [[String: Any]], "fixture has no \(key)")
}

/// `pg.reinforce`'s entropy regularisation and multi-seed outputs.
final class ReinforceEntropyAndSeedsTests: XCTestCase {
    let module = ReinforceModule()
    let lessonMeans: Value = .vector([0.7, 0.8, 0.9])

    private func values(_ c: [String: Any]) throws -> [String: Value] {
        [
            "means": .vector(fixtureVector(c["means"])),
            "episodes": .integer(try XCTUnwrap(c["episodes"] as? Int)),
            "lr": .number(try XCTUnwrap(fixtureNumber(c["lr"]))),
            "baseline": .text(try XCTUnwrap(c["baseline"] as? String)),
            "seed": .integer(try XCTUnwrap(c["seed"] as? Int)),
            "entropy": .number(try XCTUnwrap(fixtureNumber(c["entropy"]))),
        ]
    }

    /// The Python replay uses the same generator, draws and operations, so every bit must match.
    func testEntropyRunsMatchPythonReplay() throws {
        let cases = try extendedFixture("reinforce_entropy")
        XCTAssertEqual(cases.count, 5)
        for c in cases {
            let v = try values(c)
            let out = try evaluate(module, v)
            let label = "\(v)"
            XCTAssertEqual(out.vector("final_logits"), fixtureVector(c["final_logits"]), label)
            XCTAssertEqual(out.vector("final_pi"), fixtureVector(c["final_pi"]), label)
            XCTAssertEqual(out.vector("pulls"), fixtureVector(c["pulls"]), label)
            XCTAssertEqual(out.number("regret"), fixtureNumber(c["regret"]), label)
            XCTAssertEqual(out.number("best_arm_prob"), fixtureNumber(c["best_arm_prob"]), label)
            XCTAssertEqual(out.number("mean_reward"), fixtureNumber(c["mean_reward"]), label)
            assertClose(out.vector("regularised_optimum"), fixtureVector(c["regularised_optimum"]), tol: 1e-15, label)
            XCTAssertEqual(fixtureVector(c["final_logits"]).count, fixtureVector(c["means"]).count, "hex floats parsed")
        }
    }

    func testSeedOutputsMatchPythonReplay() throws {
        let cases = try extendedFixture("reinforce_seeds")
        XCTAssertEqual(cases.count, 4)
        for c in cases {
            var v = try values(c)
            v["seeds"] = .integer(try XCTUnwrap(c["seeds"] as? Int))
            v["threshold"] = .number(try XCTUnwrap(fixtureNumber(c["threshold"])))
            let out = try evaluate(module, v)
            let probs = fixtureVector(c["seed_best_arm_probs"])
            XCTAssertEqual(probs.count, 20)
            XCTAssertEqual(out.vector("seed_best_arm_probs"), probs, "\(v)")
            XCTAssertEqual(out.number("seed_fraction_above"), try XCTUnwrap(fixtureNumber(c["seed_fraction_above"])), "\(v)")
        }
    }

    /// The review's multi-seed claims, now one cell each: with lr = 0.3 over seeds 1…20, every
    /// baselined run ends above 0.9 and 5 of 20 unbaselined runs do not.
    func testTwentySeedClaimsAsOutputs() throws {
        let with = try evaluate(module, ["means": lessonMeans, "lr": .number(0.3), "seeds": .integer(20)])
        XCTAssertEqual(with.number("seed_fraction_above"), 1)
        XCTAssertGreaterThan(with.vector("seed_best_arm_probs").min() ?? 0, 0.9)
        let without = try evaluate(module, ["means": lessonMeans, "lr": .number(0.3), "seeds": .integer(20),
                                            "baseline": .text("none")])
        XCTAssertEqual(without.number("seed_fraction_above"), 15.0 / 20)
        XCTAssertEqual(without.vector("seed_best_arm_probs").filter { $0 < 0.5 }.count, 5)
    }

    /// Extra seeds add outputs and change none of the first run's.
    func testSeedsKeepTheFirstRunsOutputsAndMatchSingleRuns() throws {
        let base: [String: Value] = ["means": .vector([0.2, 0.5, 0.8, 0.4]), "episodes": .integer(300),
                                     "lr": .number(0.5), "seed": .integer(41), "entropy": .number(0.1)]
        let one = try evaluate(module, base)
        var many = base
        many["seeds"] = .integer(4)
        let four = try evaluate(module, many)
        for name in ["final_pi", "final_logits", "pulls", "reward_curve"] {
            XCTAssertEqual(four.vector(name), one.vector(name), name)
        }
        XCTAssertEqual(four.number("regret"), one.number("regret"))
        let probs = four.vector("seed_best_arm_probs")
        XCTAssertEqual(probs.count, 4)
        for k in 0..<4 {
            var single = base
            single["seed"] = .integer(41 + k)
            XCTAssertEqual(probs[k], try evaluate(module, single).number("best_arm_prob"), "seed \(41 + k)")
        }
        XCTAssertEqual(four.number("seed_mean_best_arm_prob"), probs.reduce(0, +) / 4, accuracy: 1e-15)
        // seeds = 1: the seed outputs describe the cell's own run.
        XCTAssertEqual(one.vector("seed_best_arm_probs"), [one.number("best_arm_prob")])
    }

    /// "Above" is strict: a threshold equal to a run's value does not count it.
    func testThresholdIsStrict() throws {
        let out = try evaluate(module, ["means": lessonMeans, "lr": .number(0.3)])
        let p = out.number("best_arm_prob")
        let at = try evaluate(module, ["means": lessonMeans, "lr": .number(0.3), "threshold": .number(p)])
        XCTAssertEqual(at.number("seed_fraction_above"), 0)
        let below = try evaluate(module, ["means": lessonMeans, "lr": .number(0.3), "threshold": .number(p.nextDown)])
        XCTAssertEqual(below.number("seed_fraction_above"), 1)
    }

    /// Setting entropy = 0 explicitly is plain REINFORCE, bit for bit (the β = 0 branch is the
    /// original update).
    func testZeroEntropyIsPlainReinforce() throws {
        let plain = try evaluate(module, ["means": lessonMeans, "lr": .number(0.3), "baseline": .text("none")])
        let zero = try evaluate(module, ["means": lessonMeans, "lr": .number(0.3), "baseline": .text("none"),
                                         "entropy": .number(0), "seeds": .integer(1), "threshold": .number(0.9)])
        XCTAssertEqual(plain.vector("final_logits"), zero.vector("final_logits"))
        // The lesson's rf_none run, unchanged by the new parameters.
        XCTAssertEqual(zero.number("best_arm_prob"), 0.005292008, accuracy: 1e-9)
    }

    /// ∂H/∂θ against central differences of H(softmax(θ)) = −Σ π log π computed directly.
    func testEntropyGradientMatchesFiniteDifferences() throws {
        var rng = TestRandom(seed: 77)
        for arms in [2, 3, 5] {
            for _ in 0..<5 {
                let theta = rng.vector(arms, in: -3...3)
                let analytic = BanditRun.entropyGradient(theta, SafeSoftmax(theta))
                func h(_ t: [Double]) -> Double {
                    let e = t.map { exp($0) }
                    let z = e.reduce(0, +)
                    return -e.reduce(0.0) { $0 + ($1 / z) * log($1 / z) }
                }
                XCTAssertEqual(analytic.entropy, h(theta), accuracy: 1e-14)
                assertClose(analytic.gradient, numericalGradient(theta, h), tol: 1e-8, "\(theta)")
                // H is invariant to adding a constant to every logit, so its gradient sums to 0.
                XCTAssertEqual(analytic.gradient.reduce(0, +), 0, accuracy: 1e-15)
            }
        }
        // A logit far below the rest: π underflows to 0, the gradient stays finite and 0 there.
        let far = BanditRun.entropyGradient([0, -2e4, 1], SafeSoftmax([0, -2e4, 1]))
        XCTAssertEqual(far.gradient[1], 0)
        XCTAssertTrue(far.gradient.allSatisfy(\.isFinite))
    }

    /// softmax(means/β) maximises J + βH: by hand for means (0.2, 0.2 + 0.1·log 3) and β = 0.1 it
    /// is (1/4, 3/4); at β = 0 it puts everything on the tied best arms.
    func testRegularisedOptimumByHand() throws {
        let means = [0.2, 0.2 + 0.1 * log(3)]
        let out = try evaluate(module, ["means": .vector(means), "entropy": .number(0.1), "episodes": .integer(10)])
        assertClose(out.vector("regularised_optimum"), [0.25, 0.75], tol: 1e-15)
        // The gradient of J + βH at θ = means/β vanishes: the softmax policy gradient of J is
        // πᵢ(mᵢ − J), and β∂H/∂θ cancels it.
        let theta = means.map { $0 / 0.1 }
        let softmax = SafeSoftmax(theta)
        let pi = softmax.probabilities
        let j = zip(pi, means).reduce(0.0) { $0 + $1.0 * $1.1 }
        let gH = BanditRun.entropyGradient(theta, softmax).gradient
        for i in 0..<2 { XCTAssertEqual(pi[i] * (means[i] - j) + 0.1 * gH[i], 0, accuracy: 1e-15) }
        let tied = try evaluate(module, ["means": .vector([0.9, 0.3, 0.9]), "episodes": .integer(10)])
        XCTAssertEqual(tied.vector("regularised_optimum"), [0.5, 0, 0.5])
    }

    /// With a strong entropy weight and a small step the policy ends near the regularised optimum
    /// on average over seeds, not at the greedy arm: β = 0.5 holds the best arm near 0.40.
    func testStrongEntropyHoldsThePolicyNearTheRegularisedOptimum() throws {
        let out = try evaluate(module, ["means": lessonMeans, "entropy": .number(0.5), "lr": .number(0.05),
                                        "episodes": .integer(5000), "seeds": .integer(20)])
        let optimum = out.vector("regularised_optimum")
        XCTAssertEqual(optimum[2], 0.40176, accuracy: 1e-5)
        XCTAssertEqual(out.number("seed_mean_best_arm_prob"), optimum[2], accuracy: 0.03)
        XCTAssertLessThan(out.vector("seed_best_arm_probs").max() ?? 1, 0.6)
        // The final entropy stays near log 3, far from a committed policy.
        XCTAssertGreaterThan(out.number("entropy_final"), 0.9)
        XCTAssertLessThanOrEqual(out.number("entropy_final"), log(3) + 1e-15)
    }

    func testBadInputNamesTheParameter() {
        let cases: [(String, [String: Value])] = [
            ("entropy", ["entropy": .number(-0.01)]),
            ("entropy", ["entropy": .number(.nan)]),
            ("entropy", ["entropy": .number(.infinity)]),
            ("entropy", ["entropy": .number(1001)]),
            ("seeds", ["seeds": .integer(0)]),
            ("seeds", ["seeds": .integer(1001)]),
            ("seeds", ["seeds": .integer(1000), "episodes": .integer(10_000)]),
            ("seeds", ["seed": .integer(Int.max), "seeds": .integer(2)]),
            ("threshold", ["threshold": .number(1.5)]),
            ("threshold", ["threshold": .number(.nan)]),
        ]
        for (parameter, values) in cases {
            let error = evaluationError(module, values)
            XCTAssertEqual(error?.parameter, parameter, "\(values): \(String(describing: error))")
        }
        // The largest seed alone still runs.
        XCTAssertNoThrow(try module.evaluate(["seed": .integer(Int.max), "episodes": .integer(10)]))
    }
}

/// `pg.corridor-variance`: the actor's signal on the corridor, by exact enumeration.
final class CorridorVarianceTests: XCTestCase {
    let module = CorridorVarianceModule()

    func testMatchesNumpyEnumeration() throws {
        let cases = try extendedFixture("corridor_variance")
        XCTAssertEqual(cases.count, 7)
        for c in cases {
            var values: [String: Value] = [
                "length": .integer(try XCTUnwrap(c["length"] as? Int)),
                "pi_right": .vector(fixtureVector(c["pi_right"])),
                "gamma": .number(try XCTUnwrap(fixtureNumber(c["gamma"]))),
                "reward": .number(try XCTUnwrap(fixtureNumber(c["reward"]))),
                "state": .integer(try XCTUnwrap(c["state"] as? Int)),
                "n": .integer(try XCTUnwrap(c["n"] as? Int)),
                "lambda": .number(try XCTUnwrap(fixtureNumber(c["lambda"]))),
            ]
            if c["v"] is [Any] { values["v"] = .vector(fixtureVector(c["v"])) }
            let out = try evaluate(module, values)
            let label = "\(values)"
            assertClose(out.vector("variances"), fixtureVector(c["variances"]), tol: 1e-14, label)
            assertClose(out.vector("biases"), fixtureVector(c["biases"]), tol: 1e-14, label)
            assertClose(out.number("true_gradient"), try XCTUnwrap(fixtureNumber(c["true_gradient"])), tol: 1e-15, label)
            assertClose(out.vector("values"), fixtureVector(c["values"]), tol: 1e-14, label)
            assertClose(out.matrix("q_values"), fixtureMatrix(c["q_values"]), tol: 1e-14, label)
            assertClose(out.vector("critic"), fixtureVector(c["critic"]), tol: 1e-14, label)
            assertClose(out.number("optimal_baseline"), try XCTUnwrap(fixtureNumber(c["optimal_baseline"])), tol: 1e-13, label)
            assertClose(out.number("variance_optimal_baseline"), try XCTUnwrap(fixtureNumber(c["variance_optimal_baseline"])), tol: 1e-14, label)
            assertClose(out.vector("gae_variance_curve"), fixtureVector(c["gae_variance_curve"]), tol: 1e-14, label)
            assertClose(out.vector("gae_bias_curve"), fixtureVector(c["gae_bias_curve"]), tol: 1e-14, label)
            assertClose(out.vector("nstep_variance_curve"), fixtureVector(c["nstep_variance_curve"]), tol: 1e-14, label)
            assertClose(out.vector("nstep_bias_curve"), fixtureVector(c["nstep_bias_curve"]), tol: 1e-14, label)
            assertClose(out.number("bias_td_bootstrap"), try XCTUnwrap(fixtureNumber(c["bias_td_bootstrap"])), tol: 1e-14, label)
            XCTAssertEqual(out["trajectories"], .integer(try XCTUnwrap(c["trajectories"] as? Int)), label)
        }
    }

    /// The review's numbers at π(right) = 0.5, γ = 0.9, true V, measured at the start.
    /// V(1) = 0.5, V(0) = 0.5·0.9·0.5 = 0.225. The score for θ_right is +0.5 after right and −0.5
    /// after left. With ψ = G the signal is 0.45 (right, right: G = 0.9, prob 1/4) or 0 (prob 3/4):
    /// mean 0.1125, E[x²] = 0.050625, variance 0.03796875. With ψ = G − 0.225 it is 0.3375 (1/4),
    /// −0.1125 (right, left: 1/4) or +0.1125 (left: 1/2): variance 0.03796875 − 0.1125² = 0.0253125.
    /// With δ: right gives δ = 0.9·0.5 − 0.225 = 0.225, signal 0.1125; left δ = −0.225, signal
    /// 0.1125 again: a constant, variance 0.
    func testReviewNumbersByHand() throws {
        let out = try evaluate(module)
        XCTAssertEqual(out.number("variance_return"), 0.03796875, accuracy: 1e-16)
        XCTAssertEqual(out.number("variance_baseline"), 0.0253125, accuracy: 1e-16)
        XCTAssertEqual(out.number("variance_td"), 0, accuracy: 1e-18)
        XCTAssertEqual(out.number("true_gradient"), 0.1125, accuracy: 1e-16)
        assertClose(out.vector("values"), [0.225, 0.5], tol: 1e-16)
        // Every score² is 1/4 here, so the variance-optimal constant is E[G] = V(0) itself.
        XCTAssertEqual(out.number("optimal_baseline"), 0.225, accuracy: 1e-16)
    }

    /// At π(right) = 0.9: V(0) = 0.729, and subtracting it raises the variance. By hand, with G:
    /// 0.09 with prob 0.81, else 0: variance 0.81·0.0081 − 0.0729² = 0.00124659. With G − V:
    /// 0.0171 (0.81), −0.0729 (0.09), 0.6561 (left, 0.1): variance 0.04376187 − 0.0729² = 0.03844746.
    /// (The review prints 0.0013 and 0.0385, a double rounding of these.)
    func testBaselineCanRaiseTheVariance() throws {
        let out = try evaluate(module, ["pi_right": .vector([0.9])])
        XCTAssertEqual(out.number("variance_return"), 0.00124659, accuracy: 1e-16)
        XCTAssertEqual(out.number("variance_baseline"), 0.03844746, accuracy: 1e-16)
        XCTAssertGreaterThan(out.number("variance_baseline"), 30 * out.number("variance_return"))
        // The optimal constant is nowhere near V(0) = 0.729, and beats both.
        XCTAssertLessThan(out.number("optimal_baseline"), 0.1)
        XCTAssertLessThanOrEqual(out.number("variance_optimal_baseline"), out.number("variance_return"))
    }

    /// n and λ are the dial: λ = 0 and n = 1 are δ, λ = 1 and n past the end are G − v(s), for
    /// any critic. G and G − v are unbiased for any v; δ's bias is γ·E[(v(s') − V(s'))·score].
    func testIdentitiesForArbitraryCritics() throws {
        var rng = TestRandom(seed: 5)
        for trial in 0..<20 {
            let length = 1 + trial % 6
            let p = rng.vector(length, in: 0.05...0.95)
            let v = rng.vector(length, in: -2...2)
            let gamma = Double.random(in: 0.3...1, using: &rng)
            let state = trial % length
            func run(_ extra: [String: Value]) throws -> Outputs {
                var values: [String: Value] = ["length": .integer(length), "pi_right": .vector(p), "v": .vector(v),
                                               "gamma": .number(gamma), "state": .integer(state), "reward": .number(1.7)]
                for (k, x) in extra { values[k] = x }
                return try evaluate(module, values)
            }
            let label = "trial \(trial)"
            let a = try run(["lambda": .number(0), "n": .integer(1)])
            XCTAssertEqual(a.number("variance_gae"), a.number("variance_td"), accuracy: 1e-14, label)
            XCTAssertEqual(a.number("variance_nstep"), a.number("variance_td"), accuracy: 1e-14, label)
            XCTAssertEqual(a.number("bias_gae"), a.number("bias_td"), accuracy: 1e-14, label)
            let b = try run(["lambda": .number(1), "n": .integer(length - state)])
            XCTAssertEqual(b.number("variance_gae"), b.number("variance_baseline"), accuracy: 1e-12, label)
            XCTAssertEqual(b.number("variance_nstep"), b.number("variance_baseline"), accuracy: 1e-14, label)
            XCTAssertEqual(b.number("bias_return"), 0, accuracy: 1e-14, label)
            XCTAssertEqual(b.number("bias_baseline"), 0, accuracy: 1e-14, label)
            XCTAssertEqual(b.number("bias_td"), b.number("bias_td_bootstrap"), accuracy: 1e-14, label)
            XCTAssertEqual(b.number("bias_td_baseline"), 0, accuracy: 1e-15, label)
            // The curves' ends are the same dial settings.
            let gae = b.vector("gae_variance_curve"), steps = b.vector("nstep_variance_curve")
            XCTAssertEqual(gae.count, 11)
            XCTAssertEqual(steps.count, length - state)
            XCTAssertEqual(gae[0], b.number("variance_td"), accuracy: 1e-14, label)
            XCTAssertEqual(gae[10], b.number("variance_baseline"), accuracy: 1e-12, label)
            XCTAssertEqual(steps[0], b.number("variance_td"), accuracy: 1e-14, label)
            XCTAssertEqual(steps[steps.count - 1], b.number("variance_baseline"), accuracy: 1e-14, label)
            // The optimal constant baseline is never worse than any other constant, V(s) included.
            let vTrue = try run(["v": .vector(b.vector("values"))])
            XCTAssertLessThanOrEqual(b.number("variance_optimal_baseline"), vTrue.number("variance_baseline") + 1e-15, label)
            XCTAssertLessThanOrEqual(b.number("variance_optimal_baseline"), b.number("variance_return") + 1e-15, label)
            // With the true V every signal is unbiased.
            for bias in vTrue.vector("biases") { XCTAssertEqual(bias, 0, accuracy: 1e-14, label) }
        }
    }

    /// A simulation of the corridor with a seeded generator agrees with the enumeration.
    func testMonteCarloAgreesWithEnumeration() throws {
        let p = [0.7, 0.6, 0.8], v = [0.2, 0.1, 0.5], gamma = 0.9
        let out = try evaluate(module, ["length": .integer(3), "pi_right": .vector(p), "v": .vector(v),
                                        "gamma": .number(gamma), "n": .integer(2), "lambda": .number(0.5)])
        var rng = Xoshiro256StarStar(seed: 99)
        let samples = 60_000
        var sums = [Double](repeating: 0, count: 5), squares = sums
        for _ in 0..<samples {
            var states: [Int] = [], rewards: [Double] = []
            var s = 0, first = -1
            while true {
                let right = rng.nextUnit() < p[s]
                if first < 0 { first = right ? 1 : 0 }
                states.append(s)
                if !right { rewards.append(0); break }
                if s == 2 { rewards.append(1); break }
                rewards.append(0)
                s += 1
            }
            func value(_ k: Int) -> Double { k < states.count ? v[states[k]] : 0 }
            let g = rewards.enumerated().reduce(0.0) { $0 + pow(gamma, Double($1.offset)) * $1.element }
            let deltas = rewards.indices.map { rewards[$0] + gamma * value($0 + 1) - v[states[$0]] }
            let nStep = (states.count > 2 ? rewards[0] + gamma * rewards[1] + gamma * gamma * v[states[2]] : g) - v[0]
            let gae = deltas.enumerated().reduce(0.0) { $0 + pow(gamma * 0.5, Double($1.offset)) * $1.element }
            let score = Double(first) - p[0]
            for (i, psi) in [g, g - v[0], deltas[0], nStep, gae].enumerated() {
                sums[i] += psi * score
                squares[i] += psi * score * psi * score
            }
        }
        let variances = out.vector("variances"), biases = out.vector("biases")
        let truth = out.number("true_gradient")
        for i in 0..<5 {
            let mean = sums[i] / Double(samples)
            let variance = squares[i] / Double(samples) - mean * mean
            // Five standard errors of the mean; the variance to 6% (its standard error here is about 1.5%).
            XCTAssertEqual(mean, truth + biases[i], accuracy: 5 * (variance / Double(samples)).squareRoot() + 1e-12, "signal \(i)")
            XCTAssertEqual(variance, variances[i], accuracy: 0.06 * variances[i] + 1e-12, "signal \(i)")
        }
    }

    func testDeterministicPolicyHasNoVariance() throws {
        // π(right) = 1: one trajectory, score 0, every signal 0 with variance 0.
        let out = try evaluate(module, ["pi_right": .vector([1]), "length": .integer(4)])
        for x in out.vector("variances") { XCTAssertEqual(x, 0) }
        XCTAssertEqual(out.number("true_gradient"), 0)
        assertClose(out.vector("values"), [0.729, 0.81, 0.9, 1], tol: 1e-15, "γ^(L−1−s)")
    }

    func testBadInputNamesTheParameter() {
        let cases: [(String, [String: Value])] = [
            ("pi_right", ["pi_right": .vector([0.5, 0.5, 0.5])]),
            ("pi_right", ["pi_right": .vector([1.5])]),
            ("pi_right", ["pi_right": .vector([.nan])]),
            ("pi_right", ["pi_right": .vector([])]),
            ("length", ["length": .integer(0)]),
            ("length", ["length": .integer(101)]),
            ("v", ["v": .vector([0, 0, 0])]),
            ("v", ["v": .vector([0, .infinity])]),
            ("v", ["v": .vector([0, 2e6])]),
            ("state", ["state": .integer(2)]),
            ("state", ["state": .integer(-1)]),
            ("gamma", ["gamma": .number(1.5)]),
            ("n", ["n": .integer(0)]),
            ("lambda", ["lambda": .number(-0.1)]),
            ("reward", ["reward": .number(.nan)]),
        ]
        for (parameter, values) in cases {
            let error = evaluationError(module, values)
            XCTAssertEqual(error?.parameter, parameter, "\(values): \(String(describing: error))")
        }
    }
}

/// `pg.corridor-train`: the corridor loop of the lesson's chained cells, run to the end.
final class CorridorTrainTests: XCTestCase {
    let module = CorridorTrainModule()

    /// The seeds share the cores; each reports exactly what it gives run alone, in seed order,
    /// and the first seed's run is the cell's whole run.
    func testSeedsRunTogetherAsEachRunsAlone() throws {
        let base: [String: Value] = ["episodes": .integer(60), "seed": .integer(5)]
        var many = base
        many["seeds"] = .integer(9)
        let together = try evaluate(module, many)
        var curve = [Double](repeating: 0, count: 10)
        for k in 0..<9 {
            var alone = base
            alone["seed"] = .integer(5 + k)
            let one = try evaluate(module, alone)
            XCTAssertEqual(together.vector("seed_min_pi_right")[k], one.vector("seed_min_pi_right")[0], "seed \(5 + k)")
            XCTAssertEqual(together.vector("seed_episodes_to_threshold")[k], one.vector("seed_episodes_to_threshold")[0])
            for (i, m) in one.vector("return_curve").enumerated() { curve[i] += m }
            if k == 0 {
                XCTAssertEqual(together.matrix("theta"), one.matrix("theta"))
                XCTAssertEqual(together.vector("return_curve"), one.vector("return_curve"))
            }
        }
        XCTAssertEqual(together.vector("seed_return_curve"), curve.map { $0 / 9 })
    }

    /// Same generator, draws and operations as the Python replay: every bit matches.
    func testMatchesPythonReplay() throws {
        let cases = try extendedFixture("corridor_train")
        XCTAssertEqual(cases.count, 12)
        for c in cases {
            let values: [String: Value] = [
                "length": .integer(try XCTUnwrap(c["length"] as? Int)),
                "episodes": .integer(try XCTUnwrap(c["episodes"] as? Int)),
                "gamma": .number(try XCTUnwrap(fixtureNumber(c["gamma"]))),
                "reward": .number(try XCTUnwrap(fixtureNumber(c["reward"]))),
                "lr_actor": .number(try XCTUnwrap(fixtureNumber(c["lr_actor"]))),
                "lr_critic": .number(try XCTUnwrap(fixtureNumber(c["lr_critic"]))),
                "variant": .text(try XCTUnwrap(c["variant"] as? String)),
                "seed": .integer(try XCTUnwrap(c["seed"] as? Int)),
                "critic": .text(try XCTUnwrap(c["critic"] as? String)),
            ]
            let out = try evaluate(module, values)
            let label = "\(values)"
            XCTAssertEqual(out.matrix("theta"), fixtureMatrix(c["theta"]), label)
            XCTAssertEqual(out.vector("v"), fixtureVector(c["v"]), label)
            XCTAssertEqual(out.matrix("q"), fixtureMatrix(c["q"]), label)
            XCTAssertEqual(out.vector("pi_right"), fixtureVector(c["pi_right"]), label)
            XCTAssertEqual(out.vector("return_curve"), fixtureVector(c["return_curve"]), label)
            XCTAssertEqual(out.vector("seed_return_curve"), out.vector("return_curve"), "one seed: \(label)")
            XCTAssertEqual(out.vector("seed_episodes_to_threshold"),
                           [Double(try XCTUnwrap(c["episodes_to_threshold"] as? Int))], label)
            XCTAssertEqual(fixtureVector(c["v"]).count, try XCTUnwrap(c["length"] as? Int), "hex floats parsed")
        }
    }

    /// The module is the loop a learner would write around `pg.actor-critic`: the same seed and
    /// draws fed through the cell module give the same tables, bit for bit.
    func testEqualsChainingTheActorCriticCell() throws {
        let cell = ActorCriticModule()
        for variant in ["a2c", "qac"] {
            var theta: [[Double]] = [[0, 0], [0, 0]], q = theta
            var v: [Double] = [0, 0]
            var rng = Xoshiro256StarStar(seed: 31)
            for _ in 0..<60 {
                var s = 0
                var a = rng.categorical(SoftmaxPolicy(theta[s]).probabilities)
                while true {
                    let done = a == 0 || s == 1
                    let r: Double = (s == 1 && a == 1) ? 1 : 0
                    let sNext = done ? s : 1
                    let aNext = done ? 0 : rng.categorical(SoftmaxPolicy(theta[sNext]).probabilities)
                    let out = try evaluate(cell, [
                        "theta": .matrix(theta), "q": .matrix(q), "v": .vector(v), "s": .integer(s), "a": .integer(a),
                        "r": .number(r), "s_next": .integer(sNext), "a_next": .integer(aNext), "done": .bool(done),
                        "lr_actor": .number(0.5), "lr_critic": .number(0.2), "variant": .text(variant),
                    ])
                    theta = out.matrix("theta_new")
                    q = out.matrix("q_new")
                    v = out.vector("v_new")
                    if done { break }
                    s = sNext
                    a = aNext
                }
            }
            let trained = try evaluate(module, ["episodes": .integer(60), "seed": .integer(31), "variant": .text(variant)])
            XCTAssertEqual(trained.matrix("theta"), theta, variant)
            XCTAssertEqual(trained.matrix("q"), q, variant)
            XCTAssertEqual(trained.vector("v"), v, variant)
        }
    }

    /// The lesson's convergence claim as a cell, over twenty seeds: both variants end with right
    /// above 0.9 in both states, and A2C's critic settles near the true V of its policy.
    func testBothVariantsLearnTheCorridorAcrossSeeds() throws {
        for variant in ["a2c", "qac"] {
            let out = try evaluate(module, ["variant": .text(variant), "seeds": .integer(20)])
            XCTAssertEqual(out.number("seed_fraction_above"), 1, variant)
            XCTAssertEqual(out.vector("seed_min_pi_right").count, 20)
            let curve = out.vector("return_curve")
            XCTAssertGreaterThan(curve[9], curve[0], variant)
        }
        let a2c = try evaluate(module, ["episodes": .integer(1000)])
        assertClose(a2c.vector("v"), a2c.vector("v_true"), tol: 0.05)
        assertClose(a2c.vector("v_true"), [0.9, 1], tol: 0.05, "v(1) → 1 and v(0) → γ")
        let qac = try evaluate(module, ["episodes": .integer(1000), "variant": .text("qac")])
        XCTAssertEqual(qac.matrix("q")[1][1], 1, accuracy: 0.05)
        XCTAssertEqual(qac.matrix("q")[0][1], 0.9, accuracy: 0.05)
        XCTAssertEqual(qac.vector("v"), [0, 0], "QAC leaves v alone")
    }

    /// REINFORCE's first episode by hand. Seed 1's first two uniforms, 0.703 and 0.520, are both
    /// ≥ 1/2, so the uniform policy goes right twice and succeeds: G₀ = γR = 0.9, G₁ = R = 1, and
    /// θ[s] += α G_s (onehot(right) − (½, ½)) gives θ[0] = (−0.225, 0.225), θ[1] = (−0.25, 0.25).
    /// With the baseline v starts at 0, so θ is the same and v moves half way to G: (0.45, 0.5).
    /// Seed 2's first uniform, 0.102, goes left: G = 0, and neither variant changes anything.
    func testReinforceFirstEpisodeByHand() {
        for variant in [CorridorVariant.reinforce, .reinforceBaseline] {
            var learner = CorridorLearner(length: 2, gamma: 0.9, reward: 1, lrActor: 0.5, lrCritic: 0.5, variant: variant)
            var rng = Xoshiro256StarStar(seed: 1)
            XCTAssertEqual(learner.episode(&rng), 0.9, accuracy: 1e-15)
            assertClose(learner.theta[0], [-0.225, 0.225], tol: 1e-15)
            assertClose(learner.theta[1], [-0.25, 0.25], tol: 1e-15)
            assertClose(learner.v, variant == .reinforce ? [0, 0] : [0.45, 0.5], tol: 1e-15)
            var failing = CorridorLearner(length: 2, gamma: 0.9, reward: 1, lrActor: 0.5, lrCritic: 0.5, variant: variant)
            var rng2 = Xoshiro256StarStar(seed: 2)
            XCTAssertEqual(failing.episode(&rng2), 0)
            XCTAssertEqual(failing.theta, [[0, 0], [0, 0]])
            XCTAssertEqual(failing.v, [0, 0])
        }
    }

    /// A2C with the exact critic, seed 1's first episode by hand (right, right, as above). The
    /// uniform policy's values are V(door) = ½·1 = 0.5 and V(start) = ½·0.9·0.5 = 0.225. At the start
    /// δ = 0 + 0.9·0.5 − 0.225 = 0.225, so θ[0] += 0.5·0.225·(−½, ½) = (−0.05625, 0.05625): the start
    /// is pushed right at once, where the learned critic's δ is 0 (the lesson's cell c1). θ[0] does
    /// not change V(door), so at the door δ = 1 − 0.5 = 0.5 and θ[1] = (−0.125, 0.125).
    func testExactCriticFirstEpisodeByHand() throws {
        var learner = CorridorLearner(length: 2, gamma: 0.9, reward: 1, lrActor: 0.5, lrCritic: 0.5, variant: .a2c,
                                      exactCritic: true)
        var rng = Xoshiro256StarStar(seed: 1)
        XCTAssertEqual(learner.episode(&rng), 0.9, accuracy: 1e-15)
        assertClose(learner.theta[0], [-0.05625, 0.05625], tol: 1e-15)
        assertClose(learner.theta[1], [-0.125, 0.125], tol: 1e-15)
        var learned = CorridorLearner(length: 2, gamma: 0.9, reward: 1, lrActor: 0.5, lrCritic: 0.5, variant: .a2c)
        var rng2 = Xoshiro256StarStar(seed: 1)
        _ = learned.episode(&rng2)
        XCTAssertEqual(learned.theta[0], [0, 0], "the learned critic gives the start no push in episode 1")

        // The module's outputs: the critic reported is the final policy's true V (or q for QAC), and
        // lr_critic is not used.
        for variant in ["a2c", "qac", "reinforce-baseline"] {
            let a = try evaluate(module, ["variant": .text(variant), "critic": .text("exact"), "episodes": .integer(50)])
            let b = try evaluate(module, ["variant": .text(variant), "critic": .text("exact"), "episodes": .integer(50),
                                          "lr_critic": .number(0.9)])
            XCTAssertEqual(a.matrix("theta"), b.matrix("theta"), variant)
            if variant == "qac" {
                XCTAssertEqual(a.matrix("q"), a.matrix("q_true"), variant)
            } else {
                XCTAssertEqual(a.vector("v"), a.vector("v_true"), variant)
            }
        }
        let error = evaluationError(module, ["variant": .text("reinforce"), "critic": .text("exact")])
        XCTAssertEqual(error?.parameter, "critic")
    }

    /// Without a baseline and with R > 0, only a successful episode (right in every state) has a
    /// nonzero return, and it pushes right: π(right | s) never falls, in any state, at any episode.
    /// With the baseline a success can follow an over-valued v and push right down, so it can fall.
    func testReinforceWithoutBaselineOnlyPushesRight() {
        var fell = false
        for seed in 1...20 {
            for variant in [CorridorVariant.reinforce, .reinforceBaseline] {
                var learner = CorridorLearner(length: 3, gamma: 0.9, reward: 1, lrActor: 0.5, lrCritic: 0.5, variant: variant)
                var rng = Xoshiro256StarStar(seed: UInt64(seed))
                var before = learner.piRight
                for _ in 0..<100 {
                    _ = learner.episode(&rng)
                    let after = learner.piRight
                    if variant == .reinforce {
                        for s in 0..<3 { XCTAssertGreaterThanOrEqual(after[s], before[s], "seed \(seed) state \(s)") }
                    } else if zip(after, before).contains(where: { $0 < $1 }) {
                        fell = true
                    }
                    before = after
                }
            }
        }
        XCTAssertTrue(fell, "the baseline variant does sometimes push right down")
    }

    /// The lesson's comparison over 200 seeds on the default corridor: REINFORCE without a baseline
    /// reaches π(right) > 0.9 first on average, the baseline version next, then the actor-critics;
    /// every variant reaches it in every run.
    func testLearningSpeedOrderingAcrossSeeds() throws {
        var speed: [String: Double] = [:]
        for variant in ["reinforce", "reinforce-baseline", "a2c", "qac"] {
            let out = try evaluate(module, ["variant": .text(variant), "seeds": .integer(200), "lr_critic": .number(0.5)])
            let passage = out.vector("seed_episodes_to_threshold")
            XCTAssertEqual(passage.count, 200)
            XCTAssertLessThanOrEqual(passage.max() ?? .infinity, 300, variant)
            speed[variant] = passage.reduce(0, +) / 200
            XCTAssertEqual(out.vector("seed_return_curve").count, 10)
        }
        let r = try XCTUnwrap(speed["reinforce"]), rb = try XCTUnwrap(speed["reinforce-baseline"])
        let a = try XCTUnwrap(speed["a2c"]), q = try XCTUnwrap(speed["qac"])
        XCTAssertLessThan(r, rb)
        XCTAssertLessThan(rb, a)
        XCTAssertLessThan(rb, q)
        // The exact critic removes the lag but not δ's variance: A2C lands between the two.
        let exact = try evaluate(module, ["variant": .text("a2c"), "critic": .text("exact"), "seeds": .integer(200)])
        let e = exact.vector("seed_episodes_to_threshold").reduce(0, +) / 200
        XCTAssertLessThan(r, e)
        XCTAssertLessThan(e, a)
    }

    func testSeedsKeepTheFirstRunAndThresholdIsStrict() throws {
        let one = try evaluate(module, ["episodes": .integer(40), "seed": .integer(8)])
        let three = try evaluate(module, ["episodes": .integer(40), "seed": .integer(8), "seeds": .integer(3)])
        XCTAssertEqual(one.matrix("theta"), three.matrix("theta"))
        let minima = three.vector("seed_min_pi_right")
        for k in 0..<3 {
            let single = try evaluate(module, ["episodes": .integer(40), "seed": .integer(8 + k)])
            XCTAssertEqual(minima[k], single.vector("pi_right").min())
        }
        let at = try evaluate(module, ["episodes": .integer(40), "seed": .integer(8), "threshold": .number(minima[0])])
        XCTAssertEqual(at.number("seed_fraction_above"), 0)
    }

    /// The lesson's k1 → k4 chain: after QAC's three transitions, going left at the door (reward 0,
    /// q(door, left) = 0) gives advantage 0 and leaves π unchanged, where A2C's c4 pushed left
    /// down with δ = −0.5.
    func testTheK4Contrast() throws {
        let cell = ActorCriticModule()
        var theta: [[Double]] = [[0, 0], [0, 0]], q = theta
        let steps: [(s: Int, a: Int, r: Double, sNext: Int, aNext: Int, done: Bool)] = [
            (0, 1, 0, 1, 1, false), (1, 1, 1, 1, 0, true), (0, 1, 0, 1, 1, false), (1, 0, 0, 1, 0, true),
        ]
        var last: Outputs = [:]
        for t in steps {
            last = try evaluate(cell, [
                "theta": .matrix(theta), "q": .matrix(q), "s": .integer(t.s), "a": .integer(t.a), "r": .number(t.r),
                "s_next": .integer(t.sNext), "a_next": .integer(t.aNext), "done": .bool(t.done),
                "gamma": .number(0.9), "lr_actor": .number(0.5), "lr_critic": .number(0.5), "variant": .text("qac"),
            ])
            theta = last.matrix("theta_new")
            q = last.matrix("q_new")
        }
        XCTAssertEqual(last.number("advantage"), 0)
        XCTAssertEqual(last.vector("actor_step"), [0, 0])
        XCTAssertEqual(last.vector("new_pi"), last.vector("pi"))
        XCTAssertEqual(last.vector("pi")[1], 1 / (1 + exp(-0.25)), accuracy: 1e-15, "k2 left θ[door] = (−0.125, 0.125)")
    }

    func testBadInputNamesTheParameter() {
        let cases: [(String, [String: Value])] = [
            ("length", ["length": .integer(0)]),
            ("episodes", ["episodes": .integer(9)]),
            ("seeds", ["seeds": .integer(1000), "episodes": .integer(10_000)]),
            ("seeds", ["seed": .integer(Int.max), "seeds": .integer(2)]),
            ("lr_critic", ["lr_critic": .number(1.5)]),
            ("lr_actor", ["lr_actor": .number(.nan)]),
            ("variant", ["variant": .text("ppo")]),
            ("variant", ["variant": .text("reinforce_baseline")]),
            ("gamma", ["gamma": .number(-0.1)]),
        ]
        for (parameter, values) in cases {
            let error = evaluationError(module, values)
            XCTAssertEqual(error?.parameter, parameter, "\(values): \(String(describing: error))")
        }
    }
}
