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

fileprivate func matVec(_ m: [[Double]], _ v: [Double]) -> [Double] {
    m.map { row in zip(row, v).reduce(0) { $0 + $1.0 * $1.1 } }
}

fileprivate func dot(_ x: [Double], _ y: [Double]) -> Double {
    zip(x, y).reduce(0) { $0 + $1.0 * $1.1 }
}

fileprivate func norm(_ x: [Double]) -> Double { sqrt(dot(x, x)) }

/// KL(p‖q) and the sampled surrogate from logits, straight from the definitions.
fileprivate func directKLAndSurrogate(old: [Double], new: [Double], actions: [Int], advantages: [Double])
    -> (kl: Double, surrogate: Double, ratios: [Double]) {
    let lp = logSoftmax(old), lq = logSoftmax(new)
    let kl = zip(lp, lq).reduce(0) { $0 + exp($1.0) * ($1.0 - $1.1) }
    let ratios = actions.map { exp(lq[$0] - lp[$0]) }
    let surrogate = zip(advantages, ratios).reduce(0) { $0 + $1.0 * $1.1 } / Double(actions.count)
    return (kl, surrogate, ratios)
}

/// `trpo.step`: the natural gradient against numpy's pseudo-inverse and damped solves, the step
/// size against the quadratic KL model, KL and surrogate against direct computation, the line
/// search trial by trial, degenerate gradients and bad input.
final class TRPOTests: XCTestCase {
    let module = TRPOStepModule()

    func values(_ logits: [Double], _ actions: [Double], _ advantages: [Double],
                _ extra: [String: Value] = [:]) -> [String: Value] {
        var v: [String: Value] = ["logits": .vector(logits), "actions": .vector(actions), "advantages": .vector(advantages)]
        v.merge(extra) { $1 }
        return v
    }

    func testMatchesNumpyFixture() throws {
        let fixture = try XCTUnwrap(loadFixture("trpo.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 16)
        var backtracked = 0, rejected = 0, damped = 0
        for (n, c) in cases.enumerated() {
            let p = try XCTUnwrap(c["params"] as? [String: Any])
            var v: [String: Value] = [
                "logits": .vector(fixtureVector(p["logits"])), "actions": .vector(fixtureVector(p["actions"])),
                "advantages": .vector(fixtureVector(p["advantages"])),
                "max_backtracks": .integer(try XCTUnwrap(p["max_backtracks"] as? Int)),
            ]
            for name in ["delta", "damping", "backtrack", "clip", "lr"] {
                v[name] = .number(try XCTUnwrap(fixtureNumber(p[name])))
            }
            let out = try evaluate(module, v)
            let label = "case \(n)"
            assertClose(out.vector("pi_old"), fixtureVector(c["pi_old"]), tol: 1e-15, label)
            assertClose(out.vector("grad"), fixtureVector(c["grad"]), tol: 1e-15, label)
            assertClose(out.matrix("fisher"), fixtureMatrix(c["fisher"]), tol: 1e-15, label)
            // CG against pinv(F)·g or solve(F + damping·I, g).
            let x = fixtureVector(c["natural_grad"])
            let scale = max(1, x.map(abs).max() ?? 0)
            assertClose(out.vector("natural_grad"), x, tol: 1e-10 * scale, "natural_grad \(label)")
            let beta = try XCTUnwrap(fixtureNumber(c["step_size"]))
            assertClose(out.number("step_size"), beta, tol: 1e-10 * max(1, beta), label)
            assertClose(out.vector("full_step"), fixtureVector(c["full_step"]), tol: 1e-10, label)
            let expectedAccepted = try XCTUnwrap(c["accepted"] as? Bool)
            XCTAssertEqual(out["accepted"], .bool(expectedAccepted), label)
            XCTAssertEqual(out.number("step_fraction"), try XCTUnwrap(fixtureNumber(c["step_fraction"])), accuracy: 1e-15, label)
            let trials = fixtureMatrix(c["line_search"]), rows = out.matrix("line_search")
            XCTAssertEqual(rows.count, trials.count, label)
            for (row, trial) in zip(rows, trials) {
                XCTAssertEqual(row[0], trial[0], label)
                XCTAssertEqual(row[4], trial[4], "accepted flag of trial \(trial[0]) \(label)")
                assertClose(Array(row[1...3]), Array(trial[1...3]), tol: 1e-10, "trial \(trial[0]) \(label)")
            }
            assertClose(out.vector("new_logits"), fixtureVector(c["new_logits"]), tol: 1e-10, label)
            assertClose(out.vector("new_pi"), fixtureVector(c["new_pi"]), tol: 1e-10, label)
            assertClose(out.vector("ratios"), fixtureVector(c["ratios"]), tol: 1e-10, label)
            for name in ["kl", "surrogate_old", "surrogate_new", "ppo_objective", "plain_kl", "plain_surrogate"] {
                assertClose(out.number(name), try XCTUnwrap(fixtureNumber(c[name])), tol: 1e-10, "\(name) \(label)")
            }
            assertClose(out.vector("plain_logits"), fixtureVector(c["plain_logits"]), tol: 1e-13, label)
            if expectedAccepted && out.number("step_fraction") < 1 { backtracked += 1 }
            if !expectedAccepted { rejected += 1 }
            if try XCTUnwrap(fixtureNumber(p["damping"])) > 0 { damped += 1 }
        }
        // The fixture covers each branch of the search and both solves.
        XCTAssertGreaterThanOrEqual(backtracked, 3)
        XCTAssertGreaterThanOrEqual(rejected, 3)
        XCTAssertGreaterThanOrEqual(damped, 3)
    }

    /// Two actions, θ = (0, 0), one sample of action 0 with A = 1, δ = 0.01.
    /// π = (½, ½); g = onehot(0) − π = (½, −½); F = ¼·[[1, −1], [−1, 1]], so F g = ½ g and the
    /// minimum-norm solution is x = 2g = (1, −1) (orthogonal to the null vector (1, 1)).
    /// xᵀFx = ½·|x|² = 1, so β = sqrt(2δ) and the full step is β·(1, −1): the logit gap becomes
    /// z = 2β. Then π_new(0) = σ(2β) and KL(π_old‖π_new) = −½·log(4σ(z)σ(−z)) = log cosh(β),
    /// below its quadratic model β²/2 = δ, so k = 0 is accepted with L = 2σ(2β) > 1 = L_old.
    func testTwoActionsByHand() throws {
        let delta = 0.01
        let out = try evaluate(module, values([0, 0], [0], [1], ["delta": .number(delta)]))
        XCTAssertEqual(out.vector("pi_old"), [0.5, 0.5])
        XCTAssertEqual(out.vector("grad"), [0.5, -0.5])
        XCTAssertEqual(out.matrix("fisher"), [[0.25, -0.25], [-0.25, 0.25]])
        assertClose(out.vector("natural_grad"), [1, -1], tol: 1e-15)
        XCTAssertEqual(out["cg_iterations"], .integer(1))
        let beta = sqrt(2 * delta)
        assertClose(out.number("step_size"), beta, tol: 1e-15)
        assertClose(out.vector("full_step"), [beta, -beta], tol: 1e-15)
        XCTAssertEqual(out["accepted"], .bool(true))
        XCTAssertEqual(out.number("step_fraction"), 1)
        let up = 1 / (1 + exp(-2 * beta))
        assertClose(out.vector("new_pi"), [up, 1 - up], tol: 1e-15)
        assertClose(out.number("kl"), log(cosh(beta)), tol: 1e-15)
        XCTAssertLessThan(out.number("kl"), delta)
        XCTAssertEqual(out.number("surrogate_old"), 1)
        assertClose(out.number("surrogate_new"), 2 * up, tol: 1e-15)
        // The ratio 2σ(2β) ≈ 1.14 lies inside [1 − ε, 1 + ε]: PPO's objective is the surrogate.
        XCTAssertLessThan(2 * up, 1.2)
        assertClose(out.number("ppo_objective"), 2 * up, tol: 1e-15)

        // δ = 0.1: β = sqrt(0.2), KL = log cosh β ≈ 0.095 ≤ δ, and the ratio 2σ(2β) ≈ 1.42 is
        // clipped at 1.2 by PPO for this positive advantage.
        let wide = try evaluate(module, values([0, 0], [0], [1], ["delta": .number(0.1)]))
        let wideBeta = sqrt(0.2), wideUp = 1 / (1 + exp(-2 * wideBeta))
        XCTAssertEqual(wide.number("step_fraction"), 1)
        assertClose(wide.number("kl"), log(cosh(wideBeta)), tol: 1e-15)
        assertClose(wide.number("surrogate_new"), 2 * wideUp, tol: 1e-15)
        XCTAssertGreaterThan(2 * wideUp, 1.2)
        assertClose(wide.number("ppo_objective"), 1.2, tol: 1e-15)
    }

    /// One CG iteration from x = 0 is the exact line minimisation along r₀ = g:
    /// x₁ = (gᵀg / gᵀFg)·g.
    func testFirstConjugateGradientIterateIsTheExactStepAlongG() throws {
        let v = values([0.7, -0.4, 0.1, 1.2], [0, 1, 1, 3, 2], [1, -0.5, 0.3, 2, -1], ["cg_iters": .integer(1)])
        let out = try evaluate(module, v)
        let g = out.vector("grad"), f = out.matrix("fisher")
        let alpha = dot(g, g) / dot(g, matVec(f, g))
        assertClose(out.vector("natural_grad"), g.map { alpha * $0 }, tol: 1e-13)
        XCTAssertEqual(out["cg_iterations"], .integer(1))
        let residuals = out.vector("cg_residuals")
        XCTAssertEqual(residuals.count, 2)
        assertClose(residuals[0], norm(g), tol: 1e-15)
        let r1 = zip(g, matVec(f, out.vector("natural_grad"))).map { $0 - $1 }
        assertClose(residuals[1], norm(r1), tol: 1e-14)
        // With enough iterations the residual falls below 1e-10 within A − 1 = 3 of them.
        let converged = try evaluate(module, values([0.7, -0.4, 0.1, 1.2], [0, 1, 1, 3, 2], [1, -0.5, 0.3, 2, -1]))
        guard case .integer(let iterations)? = converged["cg_iterations"] else { return XCTFail("cg_iterations") }
        XCTAssertLessThanOrEqual(iterations, 4)
        XCTAssertLessThan(converged.vector("cg_residuals").last!, 1e-10)
    }

    /// Without damping F is singular; x must solve F x = g and be the minimum-norm solution,
    /// which for this F means orthogonal to the null vector 1 (entries summing to 0). With damping
    /// it solves (F + damping·I) x = g.
    func testNaturalGradientSolvesTheSystemOnRandomInputs() throws {
        var random = TestRandom(seed: 97)
        for actions in [2, 3, 5, 8] {
            for damping in [0, 1e-4, 0.1, 2] {
                let logits = random.vector(actions, in: -3...3)
                let samples = (0..<12).map { _ in Double(Int.random(in: 0..<actions, using: &random)) }
                let advantages = random.vector(12, in: -2...2)
                let out = try evaluate(module, values(logits, samples, advantages,
                                                      ["damping": .number(damping), "cg_iters": .integer(50)]))
                let label = "A=\(actions) damping=\(damping)"
                let f = out.matrix("fisher"), x = out.vector("natural_grad"), g = out.vector("grad")
                for i in 0..<actions {
                    XCTAssertEqual(f[i][i], exp(logSoftmax(logits)[i]) * (1 - exp(logSoftmax(logits)[i])) + damping,
                                   accuracy: 1e-15, label)
                }
                if damping == 0 {
                    // Singular: every row of F sums to zero, so F·1 = 0.
                    assertClose(matVec(f, [Double](repeating: 1, count: actions)), [Double](repeating: 0, count: actions),
                                tol: 1e-15, label)
                }
                // CG stops once ‖F x − g‖ < 1e-10.
                assertClose(matVec(f, x), g, tol: 1e-9, label)
                assertClose(x.reduce(0, +), 0, tol: 1e-9 * max(1, x.map(abs).max()!), "x ⊥ 1 \(label)")
                // β puts the quadratic KL model exactly at δ for the full step.
                let full = out.vector("full_step")
                assertClose(0.5 * dot(full, matVec(f, full)), 0.01, tol: 1e-14, label)
                assertClose(out.number("quadratic_kl"), 0.01, tol: 1e-14, label)
                assertClose(out.number("step_size"), sqrt(0.02 / dot(x, matVec(f, x))), tol: 1e-12 * out.number("step_size"), label)
            }
        }
    }

    func testKLSurrogateAndLineSearchAgainstDirectComputation() throws {
        var random = TestRandom(seed: 5)
        var sawBacktrack = false
        for trialCase in 0..<30 {
            let actions = 2 + trialCase % 4
            let logits = random.vector(actions, in: -4...4)
            let samples = (0..<6).map { _ in Double(Int.random(in: 0..<actions, using: &random)) }
            let advantages = random.vector(6, in: -2...2)
            let delta = [0.01, 0.05, 0.2][trialCase % 3]
            let out = try evaluate(module, values(logits, samples, advantages,
                                                  ["delta": .number(delta), "backtrack": .number(0.6)]))
            let indices = samples.map { Int($0) }
            let full = out.vector("full_step")
            let oldL = advantages.reduce(0, +) / 6
            assertClose(out.number("surrogate_old"), oldL, tol: 1e-15)
            var firstAccepted: Int?
            for row in out.matrix("line_search") {
                let k = Int(row[0])
                XCTAssertEqual(row[1], pow(0.6, Double(k)), accuracy: 1e-15)
                let theta = zip(logits, full).map { $0 + row[1] * $1 }
                let d = directKLAndSurrogate(old: logits, new: theta, actions: indices, advantages: advantages)
                assertClose(row[2], max(0, d.kl), tol: 1e-12 * max(1, d.kl), "kl k=\(k)")
                assertClose(row[3], d.surrogate, tol: 1e-12 * max(1, abs(d.surrogate)), "surrogate k=\(k)")
                let ok = d.kl <= delta && d.surrogate > oldL
                XCTAssertEqual(row[4], ok ? 1 : 0, "k=\(k)")
                if ok, firstAccepted == nil { firstAccepted = k }
            }
            // The search stops at the first acceptable trial.
            XCTAssertEqual(out.matrix("line_search").count, firstAccepted.map { $0 + 1 } ?? 10)
            XCTAssertEqual(out["accepted"], .bool(firstAccepted != nil))
            if let k = firstAccepted, k > 0 { sawBacktrack = true }
            let d = directKLAndSurrogate(old: logits, new: out.vector("new_logits"), actions: indices, advantages: advantages)
            assertClose(out.number("kl"), max(0, d.kl), tol: 1e-13)
            assertClose(out.number("surrogate_new"), d.surrogate, tol: 1e-13)
            assertClose(out.vector("ratios"), d.ratios, tol: 1e-12)
            assertClose(out.vector("new_pi"), logSoftmax(out.vector("new_logits")).map(exp), tol: 1e-15)
            let ppo = zip(d.ratios, advantages).map { r, a in min(r * a, min(max(r, 0.8), 1.2) * a) }.reduce(0, +) / 6
            assertClose(out.number("ppo_objective"), ppo, tol: 1e-13)
            if out["accepted"] == .bool(true) {
                XCTAssertLessThanOrEqual(out.number("kl"), delta)
                XCTAssertGreaterThan(out.number("surrogate_new"), oldL)
            }
        }
        XCTAssertTrue(sawBacktrack, "some random case should need a backtrack")
    }

    /// g = 0 (each action sampled once with equal advantages under a uniform policy) and a single
    /// action (π = 1, F = 0): x = 0, β = 0, nothing accepted, the policy unchanged.
    func testZeroGradientIsNotAccepted() throws {
        for (logits, actions, advantages) in [([0.0, 0], [0.0, 1], [1.0, 1]), ([1.5, 1.5, 1.5], [0, 1, 2], [-2, -2, -2]),
                                              ([2.5], [0, 0], [1, -3]), ([0.3, -1], [0, 1, 0], [0, 0, 0])] {
            let out = try evaluate(module, values(logits, actions, advantages))
            // Zero up to the rounding of π = 1/3 in the second case.
            XCTAssertEqual(out.vector("grad").map(abs).max()!, 0, accuracy: 1e-15)
            XCTAssertTrue(out.vector("natural_grad").allSatisfy { $0 == 0 })
            XCTAssertEqual(out.number("step_size"), 0)
            XCTAssertEqual(out["accepted"], .bool(false))
            XCTAssertEqual(out.number("step_fraction"), 0)
            XCTAssertEqual(out.vector("new_logits"), logits)
            XCTAssertEqual(out.number("kl"), 0)
            XCTAssertEqual(out.number("surrogate_new"), out.number("surrogate_old"))
            XCTAssertEqual(out["cg_iterations"], .integer(0))
            XCTAssertTrue(out.matrix("line_search").allSatisfy { $0[4] == 0 })
        }
    }

    func testRejectedSearchLeavesThePolicyUnchanged() throws {
        // The defaults overshoot at k = 0 (KL ≈ 0.0115 > 0.01); with one trial nothing is accepted.
        let out = try evaluate(module, ["max_backtracks": .integer(1)])
        XCTAssertEqual(out["accepted"], .bool(false))
        XCTAssertEqual(out.number("step_fraction"), 0)
        XCTAssertEqual(out.vector("new_logits"), [1, 0, -1])
        XCTAssertEqual(out.vector("new_pi"), out.vector("pi_old"))
        XCTAssertEqual(out.number("kl"), 0)
        XCTAssertEqual(out.number("surrogate_new"), 0.25)
        XCTAssertEqual(out.number("ppo_objective"), 0.25)
        XCTAssertEqual(out.vector("ratios"), [1, 1, 1, 1])
        let rows = out.matrix("line_search")
        XCTAssertEqual(rows.count, 1)
        XCTAssertGreaterThan(rows[0][2], 0.01)
        // The same search with more trials accepts half the step.
        let more = try evaluate(module, [:])
        XCTAssertEqual(more.number("step_fraction"), 0.5)
        XCTAssertEqual(more.matrix("line_search").map { $0[4] }, [0, 1])
    }

    func testShiftingEveryLogitChangesNothingButTheLogits() throws {
        let base = values([0.4, -1.3, 2.0], [0, 2, 1, 1], [0.5, -0.7, 1.1, 0.2])
        var shifted = base
        shifted["logits"] = .vector([0.4 + 7, -1.3 + 7, 2.0 + 7])
        let a = try evaluate(module, base), b = try evaluate(module, shifted)
        for name in ["pi_old", "grad", "natural_grad", "full_step", "new_pi", "ratios"] {
            assertClose(a.vector(name), b.vector(name), tol: 1e-12, name)
        }
        for name in ["step_size", "kl", "surrogate_new", "step_fraction"] {
            assertClose(a.number(name), b.number(name), tol: 1e-12, name)
        }
        assertClose(b.vector("new_logits"), a.vector("new_logits").map { $0 + 7 }, tol: 1e-12)
    }

    /// The plain step θ + lr·g ignores the trust region: at lr = 10 it moves the policy far past
    /// δ, while the TRPO step on the same data stays inside it.
    func testPlainStepOvershootsTheTrustRegion() throws {
        let out = try evaluate(module, ["lr": .number(10)])
        let logits = [1.0, 0, -1], g = out.vector("grad")
        let plain = zip(logits, g).map { $0 + 10 * $1 }
        assertClose(out.vector("plain_logits"), plain, tol: 1e-15)
        let d = directKLAndSurrogate(old: logits, new: plain, actions: [2, 2, 1, 0], advantages: [1.5, 1, -0.5, -1])
        assertClose(out.number("plain_kl"), d.kl, tol: 1e-14)
        assertClose(out.number("plain_surrogate"), d.surrogate, tol: 1e-14)
        assertClose(out.vector("plain_pi"), logSoftmax(plain).map(exp), tol: 1e-15)
        XCTAssertGreaterThan(out.number("plain_kl"), 50 * 0.01)
        XCTAssertLessThanOrEqual(out.number("kl"), 0.01)
        // lr does not touch the TRPO step.
        let defaults = try evaluate(module, [:])
        XCTAssertEqual(defaults.vector("new_logits"), out.vector("new_logits"))
    }

    /// A nearly deterministic policy whose rare action was sampled: F's smallest non-zero
    /// eigenvalue is about π(rare) ≈ 2·10⁻¹⁸, so x is huge, yet every output stays finite and an
    /// accepted step keeps its promise.
    func testIllConditionedFisherStaysFinite() throws {
        for logits in [[20.0, 0, -20], [100.0, -100, 0], [-100.0, 100]] {
            let out = try evaluate(module, values(logits, [0, Double(logits.count - 1)], [1, 2]))
            for spec in module.outputs {
                switch out[spec.name] {
                case .number(let x)?: XCTAssertTrue(x.isFinite, "\(spec.name) \(logits)")
                case .vector(let xs)?: XCTAssertTrue(xs.allSatisfy(\.isFinite), "\(spec.name) \(logits)")
                case .matrix(let rows)?: XCTAssertTrue(rows.allSatisfy { $0.allSatisfy(\.isFinite) }, "\(spec.name) \(logits)")
                default: break
                }
            }
            if out["accepted"] == .bool(true) {
                XCTAssertLessThanOrEqual(out.number("kl"), 0.01)
                XCTAssertGreaterThan(out.number("surrogate_new"), out.number("surrogate_old"))
            }
        }
    }

    func testBadInputNamesTheParameter() {
        XCTAssertEqual(evaluationError(module, ["advantages": .vector([1, 2, 3])])?.parameter, "advantages")
        XCTAssertEqual(evaluationError(module, ["actions": .vector([0, 1])])?.parameter, "advantages")
        XCTAssertEqual(evaluationError(module, ["actions": .vector([0, 1, 3, 0])])?.parameter, "actions")
        XCTAssertEqual(evaluationError(module, ["actions": .vector([0, 1, -1, 0])])?.parameter, "actions")
        XCTAssertEqual(evaluationError(module, ["actions": .vector([0, 1.5, 2, 0])])?.parameter, "actions")
        XCTAssertEqual(evaluationError(module, ["actions": .vector([])])?.parameter, "actions")
        let outOfRange = evaluationError(module, ["actions": .vector([0, 1, 3, 0])])?.message ?? ""
        XCTAssertTrue(outOfRange.contains("0..<3"), outOfRange)
        XCTAssertEqual(evaluationError(module, ["advantages": .vector([1, .nan, 0, 0])])?.parameter, "advantages")
        XCTAssertEqual(evaluationError(module, ["advantages": .vector([1, .infinity, 0, 0])])?.parameter, "advantages")
        XCTAssertEqual(evaluationError(module, ["delta": .number(0)])?.parameter, "delta")
        XCTAssertEqual(evaluationError(module, ["delta": .number(-0.01)])?.parameter, "delta")
        XCTAssertEqual(evaluationError(module, ["delta": .number(.nan)])?.parameter, "delta")
        XCTAssertEqual(evaluationError(module, ["damping": .number(-1)])?.parameter, "damping")
        XCTAssertEqual(evaluationError(module, ["cg_iters": .integer(0)])?.parameter, "cg_iters")
        XCTAssertEqual(evaluationError(module, ["backtrack": .number(1)])?.parameter, "backtrack")
        XCTAssertEqual(evaluationError(module, ["backtrack": .number(0)])?.parameter, "backtrack")
        XCTAssertEqual(evaluationError(module, ["max_backtracks": .integer(0)])?.parameter, "max_backtracks")
        XCTAssertEqual(evaluationError(module, ["logits": .vector([101, 0, 0])])?.parameter, "logits")
        XCTAssertEqual(evaluationError(module, ["logits": .vector([])])?.parameter, "logits")
        XCTAssertEqual(evaluationError(module, ["clip": .number(-0.2)])?.parameter, "clip")
    }
}
