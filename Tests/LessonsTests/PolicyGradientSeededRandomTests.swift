import XCTest

@testable import Lessons

/// The seeded generator: published reference vectors, the Python twin, and its draws.
final class PolicyGradientSeededRandomTests: XCTestCase {
    private func generatorFixture() throws -> [String: Any] {
        let fixture = try XCTUnwrap(loadFixture("actor_critic.json") as? [String: Any])
        return try XCTUnwrap(fixture["generator"] as? [String: Any])
    }

    private func hex(_ any: Any?) throws -> [UInt64] {
        try XCTUnwrap(any as? [String]).map { try XCTUnwrap(UInt64($0, radix: 16)) }
    }

    func testSplitMix64MatchesPublishedOutputs() throws {
        let g = try generatorFixture()
        let seed = try hex([try XCTUnwrap(g["splitmix_seed"])])[0]
        XCTAssertEqual(seed, 1_477_776_061_723_855_037)
        var rng = SplitMix64(seed: seed)
        let expected = try hex(g["splitmix_expected"])
        XCTAssertEqual(expected.count, 10)
        XCTAssertEqual(expected.first, 1_985_237_415_132_408_290)
        XCTAssertEqual(expected.map { _ in rng.next() }, expected)
    }

    func testXoshiro256StarStarMatchesPublishedOutputs() throws {
        let g = try generatorFixture()
        let s = try hex(g["xoshiro_state"])
        XCTAssertEqual(s, [1, 2, 3, 4])
        var rng = Xoshiro256StarStar(state: (s[0], s[1], s[2], s[3]))
        let expected = try hex(g["xoshiro_expected"])
        XCTAssertEqual(expected.prefix(3), [11520, 0, 1_509_978_240])
        XCTAssertEqual(expected.map { _ in rng.next() }, expected)
    }

    func testSeedingMatchesPythonTwin() throws {
        let seeded = try XCTUnwrap(try generatorFixture()["seeded"] as? [String: Any])
        XCTAssertEqual(seeded.count, 3)
        for (key, value) in seeded {
            let entry = try XCTUnwrap(value as? [String: Any])
            let seed = try XCTUnwrap(UInt64(key))
            var rng = Xoshiro256StarStar(seed: seed)
            let s = try hex(entry["state"])
            XCTAssertTrue(rng.state == (s[0], s[1], s[2], s[3]), "seed \(seed): state")
            XCTAssertEqual((0..<5).map { _ in rng.next() }, try hex(entry["outputs"]), "seed \(seed)")
            var unitRng = Xoshiro256StarStar(seed: seed)
            let units = fixtureVector(entry["units"])
            XCTAssertEqual(units.count, 5)
            XCTAssertEqual((0..<5).map { _ in unitRng.nextUnit() }, units, "seed \(seed)")
        }
    }

    func testUnitIsTopFiftyThreeBits() {
        var a = Xoshiro256StarStar(seed: 99), b = Xoshiro256StarStar(seed: 99)
        var sum = 0.0
        let n = 100_000
        for _ in 0..<n {
            let u = a.nextUnit()
            let bits = b.next() >> 11
            XCTAssertEqual(u, Double(bits) / 9_007_199_254_740_992)
            XCTAssertTrue(u >= 0 && u < 1)
            sum += u
        }
        // Mean of n uniforms: standard error 1/sqrt(12n) ≈ 0.0009; 0.005 is more than five of them.
        XCTAssertEqual(sum / Double(n), 0.5, accuracy: 0.005)
    }

    func testAllZeroStateIsReplaced() {
        var rng = Xoshiro256StarStar(state: (0, 0, 0, 0))
        let outputs = (0..<4).map { _ in rng.next() }
        XCTAssertNotEqual(outputs, [0, 0, 0, 0])
        var seeded = Xoshiro256StarStar(seed: 0)
        XCTAssertEqual(outputs, (0..<4).map { _ in seeded.next() })
    }

    func testCategoricalFrequenciesAndZeroProbabilities() {
        var rng = Xoshiro256StarStar(seed: 5)
        let p = [0.2, 0.0, 0.5, 0.3, 0.0]
        var counts = [Int](repeating: 0, count: p.count)
        let n = 200_000
        for _ in 0..<n { counts[rng.categorical(p)] += 1 }
        XCTAssertEqual(counts[1], 0)
        XCTAssertEqual(counts[4], 0, "a trailing zero-probability entry is never chosen")
        for i in [0, 2, 3] {
            // Binomial standard error ≤ sqrt(0.25/n) ≈ 0.0011.
            XCTAssertEqual(Double(counts[i]) / Double(n), p[i], accuracy: 0.006, "index \(i)")
        }
        // Probabilities summing to just under 1 still return a valid index with positive mass.
        var low = Xoshiro256StarStar(seed: 6)
        for _ in 0..<10_000 {
            let i = low.categorical([0.25, 0.25, 0.4999999, 0])
            XCTAssertTrue((0...2).contains(i))
        }
    }

    func testBernoulliFrequency() {
        var rng = Xoshiro256StarStar(seed: 11)
        let n = 100_000
        var hits = 0.0
        for _ in 0..<n { hits += rng.bernoulli(0.3) }
        XCTAssertEqual(hits / Double(n), 0.3, accuracy: 0.006)
        XCTAssertEqual(rng.bernoulli(0), 0)
        XCTAssertEqual(rng.bernoulli(1), 1)
    }
}
