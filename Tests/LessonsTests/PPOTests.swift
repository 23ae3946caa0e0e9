import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// log softmax written out for the checks below, independent of the module.
fileprivate func logSoftmax(_ x: [Double]) -> [Double] {
    let m = x.max()!
    let lse = m + log(x.map { exp($0 - m) }.reduce(0, +))
    return x.map { $0 - lse }
}

/// L^CLIP straight from its definition.
fileprivate func clippedObjective(old: [Double], theta: [Double], actions: [Int], advantages: [Double],
                                  clip: Double) -> Double {
    let lp = logSoftmax(old), lq = logSoftmax(theta)
    var total = 0.0
    for (a, adv) in zip(actions, advantages) {
        let r = exp(lq[a] - lp[a])
        total += min(r * adv, min(max(r, 1 - clip), 1 + clip) * adv)
    }
    return total / Double(actions.count)
}

/// `ppo.optimize`: the analytic gradient against finite differences, a two-action run by hand,
/// the numpy fixture, the stop on the all-clipped plateau, early stopping, agreement with
/// `trpo.step` and bad input.
final class PPOTests: XCTestCase {
    let module = PPOOptimizeModule()

    func values(_ logits: [Double], _ actions: [Double], _ advantages: [Double],
                _ extra: [String: Value] = [:]) -> [String: Value] {
        var v: [String: Value] = ["logits": .vector(logits), "actions": .vector(actions), "advantages": .vector(advantages)]
        v.merge(extra) { $1 }
        return v
    }

    /// Central differences of L^CLIP agree with the analytic gradient wherever no ratio sits
    /// within the difference step of a kink 1 ± ε.
    func testGradientMatchesFiniteDifferencesAwayFromTheKinks() {
        var random = TestRandom(seed: 41)
        var clippedSeen = 0, checked = 0
        for trial in 0..<200 {
            let actionCount = 2 + trial % 5
            let old = random.vector(actionCount, in: -2...2)
            let theta = zip(old, random.vector(actionCount, in: -1...1)).map { $0 + $1 }
            let samples = (0..<7).map { _ in Int.random(in: 0..<actionCount, using: &random) }
            let advantages = random.vector(7, in: -2...2)
            let clip = [0.1, 0.2, 0.3][trial % 3]
            let lp = logSoftmax(old), lq = logSoftmax(theta)
            let ratios = samples.map { exp(lq[$0] - lp[$0]) }
            guard ratios.allSatisfy({ abs($0 - (1 + clip)) > 1e-3 && abs($0 - (1 - clip)) > 1e-3 }) else { continue }
            let objective = ClippedSurrogate(
                surrogate: SoftmaxSurrogate(logPiOld: lp, actions: samples, advantages: advantages), clip: clip)
            let e = objective.evaluate(theta)
            assertClose(e.objective, clippedObjective(old: old, theta: theta, actions: samples, advantages: advantages, clip: clip),
                        tol: 1e-14, "objective \(trial)")
            let h = 1e-6
            for j in 0..<actionCount {
                var up = theta, down = theta
                up[j] += h
                down[j] -= h
                let fd = (clippedObjective(old: old, theta: up, actions: samples, advantages: advantages, clip: clip)
                    - clippedObjective(old: old, theta: down, actions: samples, advantages: advantages, clip: clip)) / (2 * h)
                assertClose(e.gradient[j], fd, tol: 1e-8, "∂/∂θ\(j) trial \(trial)")
            }
            // Adding a constant to every logit changes nothing, so the gradient sums to zero.
            assertClose(e.gradient.reduce(0, +), 0, tol: 1e-14, "sum trial \(trial)")
            clippedSeen += e.clippedCount
            checked += 1
        }
        XCTAssertGreaterThan(checked, 100)
        XCTAssertGreaterThan(clippedSeen, 50, "the clipped branch should be exercised")
    }

    /// Two actions, θ_old = (0, 0), one sample of action 0 with A = 1, ε = 0.2.
    /// π_old = (½, ½), every ratio 1, so the gradient at θ_old is r·A·(onehot(0) − π) = (½, −½).
    /// SGD at lr 1 moves θ to (½, −½): π(0) = σ(1) ≈ 0.731, r = 2σ(1) ≈ 1.46 > 1.2, the term is
    /// clipped, the objective is 1.2·A = 1.2 and the gradient is exactly zero from step 1 on, so
    /// θ stays put. KL(π_old‖π) = −½·log(4σ(1)σ(−1)) = log cosh(½).
    /// Adam's first step is lr·m̂/(√v̂ + 1e-8) with m̂ = g and v̂ = g²: lr·g/(|g| + 1e-8).
    func testTwoActionsByHand() throws {
        let sgd = try evaluate(module, values([0, 0], [0], [1], ["lr": .number(1), "steps": .integer(5)]))
        let up = 1 / (1 + exp(-1.0))
        XCTAssertEqual(sgd.vector("pi_old"), [0.5, 0.5])
        XCTAssertEqual(sgd["zero_grad_step"], .integer(1))
        XCTAssertEqual(sgd["steps_taken"], .integer(5))
        XCTAssertEqual(sgd.vector("new_logits"), [0.5, -0.5])
        XCTAssertEqual(sgd.vector("grad"), [0, 0])
        assertClose(sgd.vector("ratios"), [2 * up], tol: 1e-15)
        assertClose(sgd.vector("objective"), [1, 1.2, 1.2, 1.2, 1.2, 1.2], tol: 1e-15)
        assertClose(sgd.vector("surrogate"), [1] + Array(repeating: 2 * up, count: 5), tol: 1e-15)
        let kl = log(cosh(0.5))
        assertClose(sgd.vector("kl"), [0] + Array(repeating: kl, count: 5), tol: 1e-15)
        assertClose(sgd.number("final_kl"), kl, tol: 1e-15)
        assertClose(sgd.number("max_objective"), 1.2, tol: 1e-15)
        XCTAssertEqual(sgd.number("clip_fraction"), 1)

        let adam = try evaluate(module, values([0, 0], [0], [1], ["optimizer": .text("adam"), "steps": .integer(1)]))
        let first = 0.1 * 0.5 / (0.5 + 1e-8)
        assertClose(adam.vector("new_logits"), [first, -first], tol: 1e-16)
        XCTAssertEqual(adam["zero_grad_step"], .integer(-1))
        // The ratio 2σ(2·first) ≈ 1.1 is still inside the clip range: L^CLIP = L.
        let r = 2 / (1 + exp(-2 * first))
        assertClose(adam.number("final_objective"), r, tol: 1e-15)
        XCTAssertEqual(adam.number("clip_fraction"), 0)

        // A negative advantage pushes the action down until its ratio falls below 1 − ε.
        let down = try evaluate(module, values([0, 0], [0], [-1], ["lr": .number(1), "steps": .integer(3)]))
        XCTAssertEqual(down["zero_grad_step"], .integer(1))
        assertClose(down.vector("ratios"), [2 * (1 - up)], tol: 1e-15)
        assertClose(down.number("final_objective"), -0.8, tol: 1e-15)
    }

    func testMatchesNumpyFixture() throws {
        let fixture = try XCTUnwrap(loadFixture("ppo.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 16)
        var zeroReached = 0, stoppedEarly = 0, adam = 0
        for (n, c) in cases.enumerated() {
            let p = try XCTUnwrap(c["params"] as? [String: Any])
            let optimizer = try XCTUnwrap(p["optimizer"] as? String)
            var v: [String: Value] = [
                "logits": .vector(fixtureVector(p["logits"])), "actions": .vector(fixtureVector(p["actions"])),
                "advantages": .vector(fixtureVector(p["advantages"])),
                "steps": .integer(try XCTUnwrap(p["steps"] as? Int)), "optimizer": .text(optimizer),
            ]
            for name in ["clip", "lr", "target_kl"] {
                v[name] = .number(try XCTUnwrap(fixtureNumber(p[name])))
            }
            let out = try evaluate(module, v)
            let label = "case \(n)"
            let stepsTaken = try XCTUnwrap(c["steps_taken"] as? Int)
            let zero = try XCTUnwrap(c["zero_grad_step"] as? Int)
            XCTAssertEqual(out["steps_taken"], .integer(stepsTaken), label)
            XCTAssertEqual(out["zero_grad_step"], .integer(zero), label)
            assertClose(out.vector("pi_old"), fixtureVector(c["pi_old"]), tol: 1e-15, label)
            for name in ["objective", "kl", "surrogate", "new_logits", "new_pi", "ratios", "grad"] {
                assertClose(out.vector(name), fixtureVector(c[name]), tol: 1e-10, "\(name) \(label)")
            }
            for name in ["max_objective", "clip_fraction"] {
                assertClose(out.number(name), try XCTUnwrap(fixtureNumber(c[name])), tol: 1e-14, "\(name) \(label)")
            }
            assertClose(out.number("final_objective"), fixtureVector(c["objective"]).last!, tol: 1e-10, label)
            assertClose(out.number("final_kl"), fixtureVector(c["kl"]).last!, tol: 1e-10, label)
            if zero >= 0 { zeroReached += 1 }
            if stepsTaken < (p["steps"] as? Int ?? 0) { stoppedEarly += 1 }
            if optimizer == "adam" { adam += 1 }
        }
        XCTAssertGreaterThanOrEqual(zeroReached, 5)
        XCTAssertGreaterThanOrEqual(stoppedEarly, 2)
        XCTAssertGreaterThanOrEqual(adam, 4)
    }

    /// On the lesson's first batch every positive advantage wants its ratio up and every negative
    /// one down, so plain ascent runs until every term is clipped: then the gradient is exactly
    /// zero, the objective is its largest possible value, and θ never moves again. The nearest
    /// such policy has π(0) = 0.8·π_old(0), π(1) = 0.8·π_old(1), so the stop's KL is at least that
    /// policy's, and r(2) at least (1 − 0.8·(π_old(0) + π_old(1)))/π_old(2).
    func testPlainAscentStopsOnThePlateauEdge() throws {
        let out = try evaluate(module, ["lr": .number(0.01), "steps": .integer(2000)])
        guard case .integer(let zero)? = out["zero_grad_step"] else { return XCTFail("zero_grad_step") }
        XCTAssertGreaterThan(zero, 0)
        let objective = out.vector("objective"), kl = out.vector("kl")
        XCTAssertEqual(objective[zero], out.number("max_objective"))
        XCTAssertTrue(kl[zero...].allSatisfy { $0 == kl[zero] }, "θ stays put once the gradient is zero")
        // Not monotone on the way: action 1's term chatters across its kink r = 0.8 (clipped, then
        // pulled back out as action 0's term lowers π(0)), and the objective can dip by a little.
        XCTAssertTrue(zip(objective[1...zero], objective[..<zero]).contains { $0 < $1 })
        let piOld = out.vector("pi_old")
        let edge = [0.8 * piOld[0], 0.8 * piOld[1], 1 - 0.8 * (piOld[0] + piOld[1])]
        let edgeKL = (0..<3).map { piOld[$0] * log(piOld[$0] / edge[$0]) }.reduce(0, +)
        XCTAssertGreaterThanOrEqual(kl[zero], edgeKL)
        XCTAssertLessThan(kl[zero], 1.01 * edgeKL)
        XCTAssertGreaterThanOrEqual(out.vector("ratios")[0], edge[2] / piOld[2])
        XCTAssertEqual(out.number("clip_fraction"), 1)
    }

    /// Adam keeps moving on a zero gradient: its first moment decays geometrically, so θ drifts
    /// on past the point where every term was clipped, and then stops.
    func testAdamDriftsPastTheZeroGradient() throws {
        let out = try evaluate(module, ["optimizer": .text("adam"), "steps": .integer(400)])
        guard case .integer(let zero)? = out["zero_grad_step"] else { return XCTFail("zero_grad_step") }
        XCTAssertGreaterThan(zero, 0)
        let kl = out.vector("kl")
        XCTAssertGreaterThan(kl.last!, 2 * kl[zero])
        XCTAssertEqual(out.number("final_objective"), out.number("max_objective"))
        XCTAssertEqual(kl[399], kl[400], accuracy: 1e-12)
    }

    /// With target_kl the run stops at the first θ_k whose KL exceeds 1.5·target_kl.
    func testEarlyStoppingOnTheKL() throws {
        for optimizer in ["sgd", "adam"] {
            let out = try evaluate(module, ["optimizer": .text(optimizer), "target_kl": .number(0.01), "steps": .integer(500)])
            guard case .integer(let k)? = out["steps_taken"] else { return XCTFail("steps_taken") }
            XCTAssertLessThan(k, 500, optimizer)
            let kl = out.vector("kl")
            XCTAssertEqual(kl.count, k + 1)
            XCTAssertGreaterThan(kl[k], 0.015, optimizer)
            XCTAssertTrue(kl[..<k].allSatisfy { $0 <= 0.015 }, optimizer)
            XCTAssertEqual(out.number("final_kl"), kl[k])
        }
    }

    /// One SGD step at lr from θ_old is `trpo.step`'s plain step θ_old + lr·g (every ratio is 1
    /// there, so nothing is clipped), and L^CLIP there is its `ppo_objective` formula.
    func testFirstStepIsTRPOsPlainStep() throws {
        let batch = values([0.7, -0.4, 0.1, 1.2], [0, 1, 1, 3, 2], [1, -0.5, 0.3, 2, -1])
        var one = batch
        one["lr"] = .number(0.7)
        one["steps"] = .integer(1)
        let ppo = try evaluate(module, one)
        var trpo = batch
        trpo["lr"] = .number(0.7)
        let plain = try evaluate(TRPOStepModule(), trpo)
        assertClose(ppo.vector("new_logits"), plain.vector("plain_logits"), tol: 1e-15)
        assertClose(ppo.vector("surrogate")[1], plain.number("plain_surrogate"), tol: 1e-15)
        assertClose(ppo.vector("kl")[1], plain.number("plain_kl"), tol: 1e-15)
        XCTAssertEqual(ppo.vector("objective")[0], 0.36, accuracy: 1e-15)
    }

    func testZeroStepsAndZeroAdvantagesLeaveThePolicy() throws {
        let none = try evaluate(module, ["steps": .integer(0)])
        XCTAssertEqual(none.vector("new_logits"), [1, 0, -1])
        XCTAssertEqual(none.vector("kl"), [0])
        XCTAssertEqual(none.vector("ratios"), [1, 1, 1, 1])
        XCTAssertEqual(none["zero_grad_step"], .integer(-1))
        let flat = try evaluate(module, values([0.3, -1, 2], [0, 1, 2], [0, 0, 0]))
        XCTAssertEqual(flat["zero_grad_step"], .integer(0))
        XCTAssertEqual(flat.vector("new_logits"), [0.3, -1, 2])
        XCTAssertEqual(flat.number("clip_fraction"), 0)
    }

    func testBadInputNamesTheParameter() {
        XCTAssertEqual(evaluationError(module, ["advantages": .vector([1, 2, 3])])?.parameter, "advantages")
        XCTAssertEqual(evaluationError(module, ["actions": .vector([0, 1])])?.parameter, "advantages")
        XCTAssertEqual(evaluationError(module, ["actions": .vector([0, 1, 3, 0])])?.parameter, "actions")
        XCTAssertEqual(evaluationError(module, ["actions": .vector([0, 1.5, 2, 0])])?.parameter, "actions")
        XCTAssertEqual(evaluationError(module, ["advantages": .vector([1, .nan, 0, 0])])?.parameter, "advantages")
        XCTAssertEqual(evaluationError(module, ["logits": .vector([101, 0, 0])])?.parameter, "logits")
        XCTAssertEqual(evaluationError(module, ["clip": .number(-0.1)])?.parameter, "clip")
        XCTAssertEqual(evaluationError(module, ["clip": .number(1.5)])?.parameter, "clip")
        XCTAssertEqual(evaluationError(module, ["lr": .number(0)])?.parameter, "lr")
        XCTAssertEqual(evaluationError(module, ["lr": .number(.infinity)])?.parameter, "lr")
        XCTAssertEqual(evaluationError(module, ["steps": .integer(-1)])?.parameter, "steps")
        XCTAssertEqual(evaluationError(module, ["steps": .integer(100_001)])?.parameter, "steps")
        XCTAssertEqual(evaluationError(module, ["optimizer": .text("rmsprop")])?.parameter, "optimizer")
        XCTAssertEqual(evaluationError(module, ["target_kl": .number(-0.01)])?.parameter, "target_kl")
        // Too much work: 1,000 steps on 10,000 samples.
        let big = values([0, 0], Array(repeating: 0, count: 10_000), Array(repeating: 1, count: 10_000),
                         ["steps": .integer(1_000)])
        let error = evaluationError(module, big)
        XCTAssertEqual(error?.parameter, "steps")
        XCTAssertTrue(error?.message.contains("2000000") ?? false, error?.message ?? "")
    }
}
