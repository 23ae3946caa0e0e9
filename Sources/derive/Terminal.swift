import Foundation
import NotebookCore
#if canImport(Glibc)
import Glibc
#endif

/// Facts about the process's terminal and small output helpers.
enum Terminal {
    static var isInteractive: Bool { isatty(STDOUT_FILENO) == 1 && isatty(STDIN_FILENO) == 1 }
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
    static var stdinIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }

    static func isDirectory(_ url: URL) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
    }

    /// Every line derive prints goes through here or ``printError(_:)``: lesson text (titles,
    /// string parameters, module names typed on the command line) can hold escape sequences,
    /// which are shown escaped instead of reaching the terminal.
    static func print(_ text: String, terminator: String = "\n") {
        Swift.print(TerminalText.escapeControls(text), terminator: terminator)
    }

    /// Sends what was printed now: a pipe buffers standard output until exit otherwise.
    static func flush() {
        fflush(nil) // every output stream, stdout among them (naming stdout is not concurrency-safe)
    }

    static func warn(_ message: String) {
        printError("derive: warning: \(message)")
    }

    /// Messages can quote lesson text, so control characters are shown escaped.
    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((TerminalText.escapeControls(message) + "\n").utf8))
    }
}

/// A progress bar on stderr for long work, drawn only when stderr is a terminal.
final class StderrProgress: @unchecked Sendable {
    private let label: String
    private let lock = NSLock()
    private var lastDrawn = -1
    private let enabled: Bool

    init(label: String) {
        self.label = label
        enabled = Terminal.stderrIsTerminal
    }

    func update(_ fraction: Double) {
        guard enabled, fraction.isFinite else { return }
        let percent = Int(max(0, min(1, fraction)) * 100)
        lock.lock()
        defer { lock.unlock() }
        guard percent != lastDrawn else { return }
        lastDrawn = percent
        let (filled, empty) = BlockGlyphs.bar(fraction: Double(percent) / 100, width: 30)
        let bar = filled + String(repeating: "░", count: empty)
        FileHandle.standardError.write(Data("\r\(TerminalText.escapeControls(label)) \(bar) \(percent)%".utf8))
    }

    func finish() {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        if lastDrawn >= 0 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    /// A run context that draws this bar.
    var context: RunContext {
        RunContext(reportProgress: { [self] in update($0) })
    }
}

extension String {
    /// The text with control characters shown escaped (lesson titles can hold anything).
    var escapingControls: String { TerminalText.escapeControls(self) }
}
