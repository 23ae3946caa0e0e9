import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// `td3.learn` and `ddpg.ou-noise`: exact cases, one update replayed by hand from the documented
/// draw order, the clipped-noise moment against quadrature, statistical checks and bad input.
final class TD3LearningTests: XCTestCase {
    let module = TD3LearnModule()

    /// With no reward noise the critic starts exact for its policy and every δ is 0; at the
    /// optimum (or with the actor frozen) nothing moves, and the estimate is the true value
    /// −c·μ₀²/(1 − γ) throughout.
    func testNoiselessRewardsLeaveTheExactCriticAlone() throws {
        for (start, twin) in [(0.0, false), (0.7, false), (-1.5, true)] {
            let out = try evaluate(module, [
                "lr_actor": .number(start == 0 ? 0.1 : 0),
                "reward_noise": .number(0), "start": .number(start), "twin": .bool(twin),
                "updates": .integer(50), "runs": .integer(3), "curvature": .number(2),
                "target_noise": .number(0),
            ])
            let truth = -2 * start * start / (1 - 0.9)
            assertClose(out.number("true_value"), truth, tol: 1e-9 * max(1, abs(truth)), "start \(start)")
            assertClose(out.number("estimate"), truth, tol: 1e-9 * max(1, abs(truth)), "start \(start)")
            assertClose(out.number("bias"), 0, tol: 1e-9 * max(1, abs(truth)), "start \(start)")
            assertClose(out.number("action_rms"), abs(start), tol: 1e-12, "start \(start)")
            assertClose(out.number("curvature_learned"), -2, tol: 1e-12, "start \(start)")
            XCTAssertEqual(out.number("diverged"), 0)
        }
    }

    /// One update of one critic and the actor, replayed from the same Box–Muller stream.
    func testOneUpdateByHand() throws {
        let learner = TD3Learner(gamma: 0.9, lrCritic: 0.1, lrActor: 0.2, tau: 0.5, batch: 2, explore: 0.3,
                                 rewardNoise: 1, curvature: 1, twin: false, policyDelay: 1,
                                 targetNoise: 0.2, noiseClip: 0.1)
        let run = learner.run(start: 0.4, updates: 1, seed: 7)
        var normal = GaussianSampler(Xoshiro256StarStar(parameterSeed: 7))
        let v0 = -0.16 / 0.1
        var w = [0.9 * v0, 0, -1]
        let wStart = w
        var g = [0.0, 0, 0]
        for _ in 0..<2 {
            let a = 0.4 + 0.3 * normal.next()
            let r = -a * a + normal.next()
            let nextAction = 0.4 + min(max(0.2 * normal.next(), -0.1), 0.1)
            let y = r + 0.9 * (wStart[0] + wStart[1] * nextAction + wStart[2] * nextAction * nextAction)
            let delta = y - (wStart[0] + wStart[1] * a + wStart[2] * a * a)
            g[0] += delta / 2; g[1] += delta * a / 2; g[2] += delta * a * a / 2
        }
        for i in 0..<3 { w[i] += 0.1 * g[i] }
        let theta = 0.4 + 0.2 * (w[1] + 2 * w[2] * 0.4)
        let estimate = w[0] + w[1] * theta + w[2] * theta * theta
        assertClose(run.lastEstimate, estimate, tol: 1e-12)
        assertClose(run.lastTrue, -theta * theta / 0.1, tol: 1e-12)
        assertClose(run.lastCurvature, w[2], tol: 1e-15)
        assertClose(run.lastActionSquare, theta * theta, tol: 1e-15)
    }

    /// Two updates of twin critics whose transitions are correlated (ρ = 0.6), replayed from the
    /// stream: critic 2's draws are ρ·(critic 1's) + √(1 − ρ²)·(its own), and by the second
    /// update critic 2 reaches critic 1 through the shared minimum of the targets.
    func testCorrelatedTwinUpdatesByHand() throws {
        let rho = 0.6, own = (1 - rho * rho).squareRoot()
        var learner = TD3Learner(gamma: 0.9, lrCritic: 0.1, lrActor: 0.2, tau: 0.5, batch: 1, explore: 0.3,
                                 rewardNoise: 1, curvature: 1, twin: true, policyDelay: 1,
                                 targetNoise: 0.2, noiseClip: 0.1)
        learner.correlation = rho
        let run = learner.run(start: 0.4, updates: 2, seed: 11)
        var normal = GaussianSampler(Xoshiro256StarStar(parameterSeed: 11))
        func q(_ w: [Double], _ a: Double) -> Double { w[0] + w[1] * a + w[2] * a * a }
        let w0 = [0.9 * -0.16 / 0.1, 0, -1]
        var w = [w0, w0], wt = [w0, w0]
        var theta = 0.4, thetaTarget = 0.4
        var pull = 0.0
        for _ in 0..<2 {
            var first = (0.0, 0.0, 0.0)
            for c in 0..<2 {
                var z = normal.next(), xi = normal.next(), nu = normal.next()
                if c == 0 { first = (z, xi, nu) } else {
                    z = rho * first.0 + own * z; xi = rho * first.1 + own * xi; nu = rho * first.2 + own * nu
                }
                let a = theta + 0.3 * z
                let r = -a * a + xi
                let next = thetaTarget + min(max(0.2 * nu, -0.1), 0.1)
                if c == 0 { pull = min(q(wt[0], next), q(wt[1], next)) - q(wt[0], next) }
                let delta = r + 0.9 * min(q(wt[0], next), q(wt[1], next)) - q(w[c], a)
                w[c] = [w[c][0] + 0.1 * delta, w[c][1] + 0.1 * delta * a, w[c][2] + 0.1 * delta * a * a]
            }
            theta += 0.2 * (w[0][1] + 2 * w[0][2] * theta)
            thetaTarget = 0.5 * theta + 0.5 * thetaTarget
            for c in 0..<2 { for i in 0..<3 { wt[c][i] = 0.5 * w[c][i] + 0.5 * wt[c][i] } }
        }
        XCTAssertNotEqual(w[0][0], w[1][0])
        assertClose(run.lastEstimate, q(w[0], theta), tol: 1e-12)
        assertClose(run.lastCurvature, w[0][2], tol: 1e-15)
        // The last tenth of two updates is the second; its pull is critic 1's target's.
        XCTAssertLessThan(pull, 0)
        assertClose(run.lastPull, pull, tol: 1e-15)
    }

    /// ρ = 0 is the default stream exactly; raising ρ takes the clipped target's under-estimate
    /// through zero, and at ρ = 1 the twin critics are DDPG's single one.
    func testCorrelationMovesTheClippedBiasTowardTheSingleCritic() throws {
        let common: [String: Value] = ["updates": .integer(3000), "runs": .integer(400), "twin": .bool(true)]
        func bias(_ rho: Double) throws -> (Double, Double) {
            var values = common
            values["correlation"] = .number(rho)
            let out = try evaluate(module, values)
            return (out.number("bias"), out.number("bias_se"))
        }
        let plain = try evaluate(module, common)
        let (b0, _) = try bias(0)
        XCTAssertEqual(b0, plain.number("bias"))
        let (b99, se99) = try bias(0.99)
        let (b1, se1) = try bias(1)
        var oneValues = common
        oneValues["correlation"] = .number(1)
        XCTAssertEqual(try evaluate(module, oneValues).number("clip_pull"), 0)
        XCTAssertLessThan(plain.number("clip_pull"), 0)
        var singleValues = common
        singleValues["twin"] = .bool(false)
        let single = try evaluate(module, singleValues)
        XCTAssertLessThan(b0, -4 * plain.number("bias_se"))
        XCTAssertGreaterThan(b99, 4 * se99)
        XCTAssertLessThan(b99, b1)
        XCTAssertEqual(single.number("clip_pull"), 0)
        let seSingle = single.number("bias_se")
        XCTAssertLessThan(abs(b1 - single.number("bias")), 4 * (se1 * se1 + seSingle * seSingle).squareRoot())
    }

    func testClippedNoiseSecondMomentMatchesQuadrature() {
        // scipy.integrate.quad of clip(x, −k, k)² against N(0, s²) (Fixtures/make_td3_learning.py).
        assertClose(clippedNormalSecondMoment(sd: 0.2, clip: 0.5), 0.03910239933811228, tol: 1e-14)
        assertClose(clippedNormalSecondMoment(sd: 1, clip: 1), 0.5160585509617133, tol: 1e-14)
        assertClose(clippedNormalSecondMoment(sd: 0.3, clip: .infinity), 0.09, tol: 1e-15)
        XCTAssertEqual(clippedNormalSecondMoment(sd: 0.3, clip: 0), 0)
        XCTAssertEqual(clippedNormalSecondMoment(sd: 0, clip: 0.5), 0)
    }

    /// A frozen actor (lr_actor = 0) makes the critic an unbiased TD estimate; a learning actor
    /// over the single target over-estimates; the clipped target falls below the truth.
    func testOverEstimationNeedsTheActorAndClippingReversesIt() throws {
        let common: [String: Value] = ["updates": .integer(2000), "runs": .integer(300)]
        var frozenValues = common
        frozenValues["lr_actor"] = .number(0)
        let frozen = try evaluate(module, frozenValues)
        let single = try evaluate(module, common)
        var twinValues = common
        twinValues["twin"] = .bool(true)
        let clipped = try evaluate(module, twinValues)
        XCTAssertLessThan(abs(frozen.number("bias")), 4 * frozen.number("bias_se"))
        XCTAssertGreaterThan(single.number("bias"), 4 * single.number("bias_se"))
        XCTAssertLessThan(clipped.number("bias"), -4 * clipped.number("bias_se"))
        XCTAssertEqual(frozen.number("action_rms"), 0)
        XCTAssertEqual(single.vector("bias_curve").count, 10)
    }

    func testDivergedRunsAreCountedAndLeftOut() throws {
        let out = try evaluate(module, ["explore": .number(5), "updates": .integer(200), "runs": .integer(4)])
        XCTAssertEqual(out.number("diverged"), 1)
        XCTAssertTrue(out.number("bias").isNaN)
    }

    func testWorkLimitIsReported() {
        let error = evaluationError(module, ["updates": .integer(100_000), "runs": .integer(100), "twin": .bool(true)])
        XCTAssertEqual(error?.parameter, "runs")
    }
}

final class OUNoiseTests: XCTestCase {
    let module = OUNoiseModule()

    func testFirstValuesReplayTheStream() throws {
        let out = try evaluate(module, ["steps": .integer(10), "lag": .integer(1), "seed": .integer(3), "dt": .number(0.01)])
        var normal = GaussianSampler(Xoshiro256StarStar(parameterSeed: 3))
        let stationary = 0.2 / (0.15 * (2 - 0.0015)).squareRoot()
        var x = stationary * normal.next()
        var expected = [x]
        for _ in 1..<10 {
            x = (1 - 0.0015) * x + 0.2 * 0.1 * normal.next()
            expected.append(x)
        }
        assertClose(out.vector("path"), expected, tol: 1e-15)
        assertClose(out.number("std_exact"), stationary, tol: 1e-15)
    }

    /// κ·dt = 1 is independent Gaussian noise: no correlation at any lag, std σ√dt.
    func testUnitRateIsWhiteNoise() throws {
        let out = try evaluate(module, ["kappa": .number(1), "dt": .number(1), "sigma": .number(0.1)])
        XCTAssertEqual(out.number("autocorr_exact"), 0)
        XCTAssertEqual(out.number("efold_steps"), 0)
        XCTAssertEqual(out.number("integrated_steps"), 1)
        assertClose(out.number("std_exact"), 0.1, tol: 1e-15)
        assertClose(out.number("step_std_exact"), 0.1 * 2.0.squareRoot(), tol: 1e-15)
        XCTAssertLessThan(abs(out.number("autocorr")), 4 / 100_000.0.squareRoot())
        assertClose(out.number("std"), 0.1, tol: 0.002)
    }

    func testMeasuredStatisticsMatchTheExactOnes() throws {
        for (dt, lag) in [(1.0, 5), (0.01, 300)] {
            let out = try evaluate(module, ["dt": .number(dt), "lag": .integer(lag), "steps": .integer(1_000_000)])
            assertClose(out.number("std"), out.number("std_exact"), tol: 0.05 * out.number("std_exact"), "dt \(dt)")
            assertClose(out.number("autocorr"), out.number("autocorr_exact"), tol: 0.05, "dt \(dt)")
            assertClose(out.number("step_std"), out.number("step_std_exact"), tol: 0.01 * out.number("step_std_exact"), "dt \(dt)")
            assertClose(out.number("integrated_steps"), 1 / (0.15 * dt), tol: 1e-9, "dt \(dt)")
            assertClose(pow(out.number("autocorr_exact"), 1 / Double(lag) * out.number("efold_steps")), exp(-1), tol: 1e-12)
        }
    }

    func testNonStationaryRatesAreRejected() {
        XCTAssertEqual(evaluationError(module, ["kappa": .number(0.15), "dt": .number(20)])?.parameter, "dt")
        XCTAssertEqual(evaluationError(module, ["steps": .integer(10), "lag": .integer(10)])?.parameter, "lag")
    }
}
