import Foundation
import NotebookCore
import TestSupport
import XCTest

@testable import Lessons

/// A seeded mutation fuzzer over the bundled lessons: thousands of damaged copies (cut, spliced,
/// with hostile tokens inserted) are loaded, run and rendered. None may trap (that would end the
/// test process), hang (a watchdog stops the process after a budget), or let a control
/// character through to text output.
final class LessonMutationTests: XCTestCase {
    static let hostileTokens = [
        "{{", "}}", "```", "```cell id=z compute=softmax.safe\n", "```cell id=z compute=attention.tiled\n", "~~~",
        "[[", "]]", "[", "]", "(", ")", "expect ", " ≈ ", " ± ", " < ", "=", "$", "$$", "\\frac{", "}", "*", "**", "`",
        "\u{1B}[31m", "\u{1B}]0;x\u{07}", "\u{9B}", "\u{202E}", "\u{200F}", "\u{0}", "\r\n", "\r", "\n", "\t",
        "1e308", "-1e308", "nan", "inf", "-inf", "2^999", "9223372036854775807", "0", "-1", "1/0", "[]",
        "max(", "argmax(", "len(", ":.30f", ":bits", "safe.x", "a.b[99999]", "---\n", "id: q\n", "\u{FEFF}", "é", "中文",
    ]

    func mutate(_ text: String, using rng: inout TestRandom) -> String {
        var scalars = Array(text.unicodeScalars)
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !scalars.isEmpty else { break }
            let at = Int.random(in: 0..<scalars.count, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: // cut a span
                let end = min(scalars.count, at + Int.random(in: 1...200, using: &rng))
                scalars.removeSubrange(at..<end)
            case 1: // insert a hostile token
                scalars.insert(contentsOf: Self.hostileTokens.randomElement(using: &rng)!.unicodeScalars, at: at)
            case 2: // duplicate a span elsewhere
                let end = min(scalars.count, at + Int.random(in: 1...400, using: &rng))
                let piece = scalars[at..<end]
                scalars.insert(contentsOf: piece, at: Int.random(in: 0...scalars.count, using: &rng))
            case 3: // replace a digit with a huge number
                if let digit = scalars[at...].firstIndex(where: { ("0"..."9").contains($0) }) {
                    scalars.replaceSubrange(digit...digit, with: "99999999".unicodeScalars)
                }
            default: // replace one scalar with a random one
                scalars[at] = Unicode.Scalar(UInt32.random(in: 0...0x7F, using: &rng)) ?? "x"
            }
        }
        return String(scalars: scalars)
    }

    func testThousandsOfMutantsNeverTrapHangOrLeakEscapes() throws {
        let files = try FileManager.default.contentsOfDirectory(at: BundledLessonTests.directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "md" }.sorted { $0.path < $1.path }
        let originals = try files.map { try String(contentsOf: $0, encoding: .utf8) }
        XCTAssertFalse(originals.isEmpty)
        let loader = LessonLoader(registry: ModuleCatalog.registry)
        var rng = TestRandom(seed: 20261201)
        let mutants = 2000
        var loaded = 0, ran = 0
        let started = Date()
        for index in 0..<mutants {
            let text = mutate(originals[index % originals.count], using: &rng)
            let watchdog = Watchdog(seconds: 60, what: "mutant \(index)", input: text)
            defer { watchdog.cancel() }
            guard case .success(let lesson) = loader.load(text, file: "mutant.md") else { continue }
            loaded += 1
            var notebook = Notebook(lesson: lesson, registry: ModuleCatalog.registry)
            // The test is about hostile text, not compute: a mutant's cells get a twentieth of a
            // second, then the long-running modules are cancelled (as Esc would), which also
            // runs the cancelled path through the renderers.
            let deadline = Date().addingTimeInterval(0.05)
            notebook.runAll(includeHeavy: false, context: RunContext(isCancelled: { Date() > deadline }))
            ran += lesson.cells.count
            for output in [TextRenderer().render(notebook), MarkdownRenderer().render(notebook),
                           JSONRenderer.lesson(notebook).serialized(indent: 2)] {
                if let raw = output.unicodeScalars.first(where: { $0 != "\n" && $0 != "\t" && TerminalText.needsEscape($0) }) {
                    XCTFail("mutant \(index) printed U+\(String(raw.value, radix: 16)) raw")
                    break
                }
            }
        }
        XCTAssertGreaterThan(loaded, mutants / 20, "some mutants must load, or the runs test nothing")
        XCTAssertGreaterThan(ran, 0)
        print("mutation test: \(mutants) mutants, \(loaded) loaded, \(ran) cells ran, \(Int(Date().timeIntervalSince(started))) s")
    }
}

/// Ends the process with a message when work takes longer than its budget: a hang must fail
/// the suite, not stall it. The input that hung is saved, so the failure can be reproduced.
final class Watchdog: @unchecked Sendable {
    private let item: DispatchWorkItem

    init(seconds: Double, what: String, input: String) {
        item = DispatchWorkItem {
            let saved = FileManager.default.temporaryDirectory.appendingPathComponent("derive-hung-input.md")
            try? input.write(to: saved, atomically: true, encoding: .utf8)
            fatalError("\(what) still running after \(seconds) s: a hang; its input is in \(saved.path)")
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: item)
    }

    func cancel() { item.cancel() }
}
