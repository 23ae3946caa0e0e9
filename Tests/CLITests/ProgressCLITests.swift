import Foundation
import XCTest

/// Progress through the real `derive` binary: recorded by `run`, shown by `list` and
/// `progress`, never written by `check` or `run --no-record`.
final class ProgressCLITests: XCTestCase {
    private func database() throws -> (env: [String: String], url: URL) {
        let url = try DeriveProcess.temporaryDirectory(self).appendingPathComponent("data/progress.sqlite")
        return (["DERIVE_DB": url.path], url)
    }

    private func progressJSON(_ env: [String: String]) throws -> [String: Any] {
        let out = try DeriveProcess.run(["progress", "--format", "json"], environment: env)
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(out.stderr, "")
        return try out.json()
    }

    private func lesson(_ json: [String: Any], _ id: String) throws -> [String: Any] {
        let lessons = try XCTUnwrap(json["lessons"] as? [[String: Any]])
        return try XCTUnwrap(lessons.first { $0["id"] as? String == id })
    }

    /// The number of cells of the bundled lesson, counted from its file.
    private func cellCount() throws -> Int {
        let text = try String(contentsOf: DeriveProcess.root.appendingPathComponent("lessons/online-softmax.md"), encoding: .utf8)
        return text.components(separatedBy: "\n").filter { $0.hasPrefix("```cell ") }.count
    }

    func testProgressHelpSaysHowTimeIsMeasured() throws {
        let out = try DeriveProcess.run(["progress", "--help"])
        XCTAssertEqual(out.status, 0)
        XCTAssertTrue(out.stdout.contains("USAGE"))
        XCTAssertTrue(out.stdout.contains("no pause longer than 5 minutes"), out.stdout)
        XCTAssertTrue(out.stdout.contains("--reset"))
    }

    func testRunRecordsAndProgressShowsIt() throws {
        let (env, url) = try database()
        let cells = try cellCount()
        // Nothing yet: progress shows zeros and creates no database.
        let empty = try progressJSON(env)
        XCTAssertEqual(empty["total_runs"] as? Int, 0)
        XCTAssertTrue(try lesson(empty, "online-softmax")["last_visited"] is NSNull)
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))

        for _ in 0..<2 {
            let run = try DeriveProcess.run(["run", "online-softmax"], environment: env)
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertEqual(run.stderr, "")
        }
        var info = stat()
        XCTAssertEqual(stat(url.deletingLastPathComponent().path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o700)

        let json = try progressJSON(env)
        XCTAssertEqual(json["total_runs"] as? Int, 2 * cells)
        let entry = try lesson(json, "online-softmax")
        XCTAssertEqual(entry["cells"] as? Int, cells)
        XCTAssertEqual(entry["cells_run"] as? Int, cells)
        XCTAssertEqual(entry["runs"] as? Int, 2 * cells)
        XCTAssertEqual(entry["done"] as? Bool, true)
        let visited = try XCTUnwrap(entry["last_visited"] as? String)
        let date = try XCTUnwrap(ISO8601DateFormatter().date(from: visited), visited)
        XCTAssertLessThan(abs(date.timeIntervalSinceNow), 120)
        XCTAssertTrue(visited.hasSuffix("Z"))
        XCTAssertNotNil(entry["seconds_spent"] as? Int)

        let list = try DeriveProcess.run(["list"], environment: env)
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("✓ online-softmax"), list.stdout)
        XCTAssertTrue(list.stdout.contains("(\(cells)/\(cells) cells run, last visited \(visited.prefix(10)))"), list.stdout)

        let text = try DeriveProcess.run(["progress", "online-softmax"], environment: env)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("1 of 1 lesson done, \(cells) of \(cells) cells run, \(2 * cells) runs"), text.stdout)
        XCTAssertTrue(text.stdout.contains("Streak: 1 day"), text.stdout)
    }

    func testFailedCellsRecordButDoNotCount() throws {
        let (env, _) = try database()
        let cells = try cellCount()
        // A bad value in the first cell fails it; the cells reading from it are blocked (not runs).
        let run = try DeriveProcess.run(["run", "online-softmax", "--set", "safe.x=[1, nan]"], environment: env)
        XCTAssertNotEqual(run.status, 0)
        let entry = try lesson(try progressJSON(env), "online-softmax")
        XCTAssertEqual(entry["done"] as? Bool, false)
        let runs = try XCTUnwrap(entry["runs"] as? Int)
        let ran = try XCTUnwrap(entry["cells_run"] as? Int)
        XCTAssertLessThan(ran, cells)
        XCTAssertEqual(runs, ran + 1, "every successful cell once, plus the failed one")
    }

    func testCheckAndNoRecordNeverWrite() throws {
        let (env, url) = try database()
        XCTAssertEqual(try DeriveProcess.run(["check"], environment: env).status, 0)
        XCTAssertEqual(try DeriveProcess.run(["run", "online-softmax", "--no-record"], environment: env).status, 0)
        XCTAssertEqual(try DeriveProcess.run(["list"], environment: env).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.deletingLastPathComponent().path))
        // With a database already there, they still add nothing.
        XCTAssertEqual(try DeriveProcess.run(["run", "online-softmax", "--cell", "safe"], environment: env).status, 0)
        let before = try progressJSON(env)["total_runs"] as? Int
        XCTAssertEqual(try DeriveProcess.run(["check"], environment: env).status, 0)
        XCTAssertEqual(try DeriveProcess.run(["run", "online-softmax", "--no-record"], environment: env).status, 0)
        XCTAssertEqual(try progressJSON(env)["total_runs"] as? Int, before)
    }

    func testDbFlagWinsOverTheEnvironment() throws {
        let (env, envURL) = try database()
        let flagURL = envURL.deletingLastPathComponent().appendingPathComponent("flag.sqlite")
        let out = try DeriveProcess.run(["--db", flagURL.path, "run", "online-softmax"], environment: env)
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: flagURL.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: envURL.path))
        // XDG_DATA_HOME when neither is given.
        let xdg = envURL.deletingLastPathComponent().appendingPathComponent("xdg")
        var noDB = ["XDG_DATA_HOME": xdg.path]
        noDB["DERIVE_DB"] = ""
        XCTAssertEqual(try DeriveProcess.run(["run", "online-softmax"], environment: noDB).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: xdg.appendingPathComponent("derive/progress.sqlite").path))
    }

    func testResetAsksOrNeedsYes() throws {
        let (env, _) = try database()
        XCTAssertEqual(try DeriveProcess.run(["run", "online-softmax"], environment: env).status, 0)
        let refused = try DeriveProcess.run(["progress", "--reset"], environment: env)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("pass --yes"), refused.stderr)
        XCTAssertGreaterThan(try progressJSON(env)["total_runs"] as? Int ?? 0, 0)

        let unknown = try DeriveProcess.run(["progress", "--reset", "no-such-lesson", "--yes"], environment: env)
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("no lesson 'no-such-lesson'"), unknown.stderr)

        let one = try DeriveProcess.run(["progress", "--reset", "online-softmax", "--yes"], environment: env)
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertEqual(one.stdout, "Cleared your progress in online-softmax.\n")
        XCTAssertEqual(try progressJSON(env)["total_runs"] as? Int, 0)

        XCTAssertEqual(try DeriveProcess.run(["run", "online-softmax"], environment: env).status, 0)
        let all = try DeriveProcess.run(["progress", "--reset", "--yes"], environment: env)
        XCTAssertEqual(all.stdout, "Cleared all your progress.\n")
        XCTAssertEqual(try progressJSON(env)["total_runs"] as? Int, 0)
    }

    func testDamagedDatabaseIsMovedAsideWithAWarning() throws {
        let (env, url) = try database()
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let junk = Data(String(repeating: "not a database ", count: 100).utf8)
        try junk.write(to: url)
        let out = try DeriveProcess.run(["run", "online-softmax"], environment: env)
        XCTAssertEqual(out.status, 0)
        XCTAssertTrue(out.stderr.hasPrefix("derive: warning: progress database \(url.path) is damaged"), out.stderr)
        let aside = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
            .filter { $0.hasPrefix("progress.sqlite.corrupt-") }
        XCTAssertEqual(aside.count, 1)
        XCTAssertEqual(FileManager.default.contents(atPath: url.deletingLastPathComponent().appendingPathComponent(aside[0]).path), junk)
        XCTAssertGreaterThan(try progressJSON(env)["total_runs"] as? Int ?? 0, 0)
    }

    func testAnUnusableLocationWarnsAndTheCommandStillWorks() throws {
        let dir = try DeriveProcess.temporaryDirectory(self)
        let blocker = dir.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let env = ["DERIVE_DB": blocker.appendingPathComponent("progress.sqlite").path]
        let out = try DeriveProcess.run(["run", "online-softmax"], environment: env)
        XCTAssertEqual(out.status, 0)
        XCTAssertTrue(out.stdout.contains("online softmax") || out.stdout.contains("Online softmax"))
        XCTAssertTrue(out.stderr.contains("derive: warning: cannot create the progress folder"), out.stderr)
        XCTAssertTrue(out.stderr.contains("progress is not being recorded"), out.stderr)
    }

    /// Two `derive run` loops at once against one database: every run is there.
    func testTwoDeriveProcessesAtOnce() throws {
        let (env, _) = try database()
        let cells = try cellCount()
        let rounds = 8
        let group = DispatchGroup()
        let failures = FailureList()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: group) {
                for _ in 0..<rounds {
                    do {
                        let out = try DeriveProcess.run(["run", "online-softmax", "--format", "json"], environment: env)
                        if out.status != 0 || !out.stderr.isEmpty { failures.add("status \(out.status): \(out.stderr)") }
                    } catch {
                        failures.add("\(error)")
                    }
                }
            }
        }
        group.wait()
        XCTAssertEqual(failures.items, [])
        XCTAssertEqual(try progressJSON(env)["total_runs"] as? Int, 2 * rounds * cells)
    }
}

final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ item: String) { lock.withLock { list.append(item) } }
    var items: [String] { lock.withLock { list } }
}
