import Foundation
import XCTest
import NotebookCore
import Lessons
@testable import TUI

/// The fixture lessons (an English online-softmax lesson and one in Chinese).
func fixtureLibrary(registry: ModuleRegistry = ModuleCatalog.registry) -> LessonLibrary {
    let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("lessons")
    return LessonLoader(registry: registry).loadDirectory(url)
}

func makeState(width: Int = 100, height: Int = 30, color: Bool = true,
               registry: ModuleRegistry = ModuleCatalog.registry,
               file: StaticString = #filePath, line: UInt = #line) -> AppState {
    let library = fixtureLibrary(registry: registry)
    XCTAssertEqual(library.errors.map(\.description), [], "fixtures must load", file: file, line: line)
    return AppState(registry: registry, lessons: library.lessons.map { LessonEntry(lesson: $0) },
                    width: width, height: height, color: color)
}

/// Opens a lesson and returns the state.
func openedState(_ id: String = "online-softmax", width: Int = 100, height: Int = 30, color: Bool = true,
                 registry: ModuleRegistry = ModuleCatalog.registry,
                 file: StaticString = #filePath, line: UInt = #line) -> AppState {
    var state = makeState(width: width, height: height, color: color, registry: registry, file: file, line: line)
    _ = openLesson(&state, id: id)
    XCTAssertEqual(state.screen, .lesson, "\(id) opens", file: file, line: line)
    return state
}

@discardableResult
func press(_ state: inout AppState, _ keys: Key...) -> [Effect] {
    var effects: [Effect] = []
    for key in keys { effects += update(&state, .key(key)) }
    return effects
}

func type(_ state: inout AppState, _ text: String) {
    for c in text { _ = update(&state, .key(.char(c))) }
}

extension ScreenBuffer {
    var rows: [String] { (0..<height).map { rowText($0) } }
}

extension Effect {
    var isQuit: Bool { if case .quit = self { true } else { false } }
    var jobID: Int? { if case .runJob(let id, _) = self { id } else { nil } }
    var job: CellJob? { if case .runJob(_, let job) = self { job } else { nil } }
    var cancelledJob: Int? { if case .cancelJob(let id) = self { id } else { nil } }
}

/// A heavy module for the background-job tests: counts to `steps`, reporting progress and
/// stopping when cancelled.
struct SlowCount: ComputeModule {
    let name = "test.slow"
    let summary = "counts slowly"
    let isHeavy = true
    let parameters: [ParameterSpec] = [.integer("steps", 4, range: .atLeast(1), doc: "steps")]
    let outputs: [OutputSpec] = [OutputSpec("count", .integer, doc: "steps done")]

    func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        let steps = try inputs.integer("steps")
        for i in 0..<steps {
            try context.checkCancelled()
            context.reportProgress(Double(i + 1) / Double(steps))
        }
        return ["count": .integer(steps)]
    }
}

/// The open lesson's text as one string, lines joined by spaces (wrapping does not matter).
func proseText(_ state: AppState) -> String {
    state.documentLayout(state.session!).lines.map { $0.plainText.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }.joined(separator: " ")
}

/// A heavy module that reports nothing until it is done, so a loop test knows that the one
/// wake-up it waits for is the result.
struct QuietHeavy: ComputeModule {
    let name = "test.quiet"
    let summary = "doubles a number off the UI thread"
    let isHeavy = true
    let parameters: [ParameterSpec] = [.number("x", 21, doc: "the number")]
    let outputs: [OutputSpec] = [OutputSpec("double", .number, doc: "2x")]

    func run(_ inputs: Inputs, context: RunContext) throws(ComputeError) -> Outputs {
        ["double": .number(2 * (try inputs.number("x")))]
    }
}

/// A state with one lesson given as text, opened.
func stateWithLesson(_ text: String, width: Int = 80, height: Int = 24,
                     file: StaticString = #filePath, line: UInt = #line,
                     entry: (Lesson) -> LessonEntry = { LessonEntry(lesson: $0) }) throws -> AppState {
    let lesson = try LessonLoader(registry: ModuleCatalog.registry).load(text, file: "test.md").get()
    var s = AppState(registry: ModuleCatalog.registry, lessons: [entry(lesson)], width: width, height: height)
    _ = openLesson(&s, id: lesson.id)
    XCTAssertEqual(s.screen, .lesson, "\(lesson.id) opens", file: file, line: line)
    return s
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Row `y` of a frame. Reading outside the frame fails the test (the buffer itself answers a
/// blank, which would let a wrong row number pass).
func row(_ buffer: ScreenBuffer, _ y: Int, file: StaticString = #filePath, line: UInt = #line) -> String {
    guard y >= 0, y < buffer.height else {
        XCTFail("row \(y) is outside the \(buffer.height)-row frame", file: file, line: line)
        return ""
    }
    return buffer.rowText(y).trimmingTrailingSpace
}

/// Compares whole rows from `top`, trailing spaces ignored; failures point at the caller.
func assertRows(_ buffer: ScreenBuffer, from top: Int = 0, _ expected: [String], _ message: String = "",
                file: StaticString = #filePath, line: UInt = #line) {
    for (offset, want) in expected.enumerated() {
        XCTAssertEqual(row(buffer, top + offset, file: file, line: line), want,
                       message.isEmpty ? "row \(top + offset)" : "row \(top + offset): \(message)", file: file, line: line)
    }
}

/// The open lesson's layout, as the state makes it (reusing prose blocks laid out before),
/// equals a layout made from nothing.
func assertLayoutIsMadeFresh(_ s: AppState, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard let session = s.session else { return XCTFail("no lesson open", file: file, line: line) }
    let g = s.geometry()
    let fresh = Document.layout(s.viewContext(session), session, width: g.text.width, inlineCells: g.inlineCells)
    XCTAssertEqual(s.documentLayout(session).lines, fresh.lines, message, file: file, line: line)
}
