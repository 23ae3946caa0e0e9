import CNCurses
import CTerminalSignals
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NotebookCore

/// Why the full-screen interface cannot start on this terminal.
public struct TerminalUnavailable: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// The only code that talks to ncurses: it owns the terminal, shows screen buffers by
/// writing the cells that changed since the last frame, and turns input into ``Event``s.
///
/// Create one per session on the main thread; call ``restore()`` (also done by `deinit`)
/// before printing anything else.
///
/// Input, signals and wake-ups from background jobs arrive on three file descriptors that
/// ``readEvent(timeoutMilliseconds:)`` waits on together with `poll`: the terminal, the
/// signal self-pipe of `CTerminalSignals`, and a wake-up pipe of its own. So a SIGTERM ends
/// the wait at once, and a terminal that has gone away (hang-up, end of file, a read error)
/// is noticed instead of being read in a loop.
public final class NCursesBackend: TerminalBackend {
    /// Whether colours are used (false for `NO_COLOR`, `--no-color` and monochrome terminals).
    public private(set) var colorEnabled = false
    private var previous: ScreenBuffer?
    private var pairs: [Int: Int16] = [:]
    private var maxPairs = 0
    private var active = false
    private var screen: OpaquePointer?
    private var signalFD: Int32 = -1
    private let wakePipe: (read: Int32, write: Int32)
    /// Set once the terminal is known to be gone: nothing more is written to it.
    private var terminalGone = false
    /// Reads in a row that found the terminal readable but produced no input: end of file.
    private var emptyReads = 0

    /// Takes over the terminal. Throws when there is none, or when it cannot address the cursor
    /// (`TERM=dumb`); the caller then prints instead.
    public init(noColor: Bool = false) throws(TerminalUnavailable) {
        let term = EnvironmentVariables.value("TERM") ?? ""
        if term.isEmpty || term == "dumb" || term == "unknown" {
            throw TerminalUnavailable(description: "the terminal (TERM=\(term.isEmpty ? "unset" : term)) cannot show the full-screen view")
        }
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw TerminalUnavailable(description: "standard input and output must be a terminal")
        }
        // Wide characters need a UTF-8 locale; a bare system may only have C.UTF-8.
        setlocale(LC_ALL, "")
        if !Self.codesetIsUTF8() { setlocale(LC_ALL, "C.UTF-8") }
        var fds: [Int32] = [-1, -1]
        guard cts_pipe(&fds) == 0 else {
            throw TerminalUnavailable(description: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        wakePipe = (fds[0], fds[1])
        signalFD = cts_install(STDIN_FILENO)
        guard signalFD >= 0, let screen = newterm(nil, cn_stdout(), cn_stdin()) else {
            cts_uninstall()
            close(fds[0])
            close(fds[1])
            throw TerminalUnavailable(description: "ncurses cannot use the terminal TERM=\(term)")
        }
        self.screen = screen
        active = true
        raw()
        noecho()
        nonl()
        keypad(cn_stdscr(), true)
        intrflush(cn_stdscr(), false)
        set_escdelay(25)
        curs_set(0)
        mouseinterval(0)
        mousemask(cn_wheel_up_mask() | cn_wheel_down_mask(), nil)
        if !noColor && has_colors() {
            start_color()
            use_default_colors()
            colorEnabled = true
            maxPairs = Int(cn_color_pairs())
        }
    }

    deinit {
        restore()
        close(wakePipe.read)
        close(wakePipe.write)
    }

    static func codesetIsUTF8() -> Bool {
        guard let codeset = cn_codeset() else { return false }
        let name = String(cString: codeset).uppercased()
        return name == "UTF-8" || name == "UTF8"
    }

    /// The terminal's size in columns and rows.
    public var size: (width: Int, height: Int) { (Int(cn_cols()), Int(cn_lines())) }

    /// Puts the terminal back as it was. Safe to call twice. A terminal that has gone away
    /// gets nothing written to it.
    public func restore() {
        guard active else { return }
        active = false
        if !terminalGone {
            mousemask(0, nil)
            curs_set(1)
            endwin()
        }
        if let screen { delscreen(screen) }
        screen = nil
        cts_uninstall()
        if !terminalGone { fflush(cn_stdout()) }
    }

    /// Whether the terminal went away (hang-up, end of input, a read error) during the session.
    public var isTerminalGone: Bool { terminalGone }

    public var waker: @Sendable () -> Void {
        let fd = wakePipe.write
        return {
            var byte: UInt8 = 1
            // A full pipe already holds a wake-up: nothing is lost when this write fails.
            _ = write(fd, &byte, 1)
        }
    }

    /// Forgets the last frame so the next ``draw(_:)`` repaints everything (after a resize).
    public func invalidate() {
        previous = nil
        clearok(cn_stdscr(), true)
    }

    /// Shows a frame, writing only the cells that differ from the previous one.
    public func draw(_ buffer: ScreenBuffer) {
        guard active else { return }
        if let p = previous, p.width != buffer.width || p.height != buffer.height {
            previous = nil
        }
        if previous == nil { erase() }
        var scalars: [wchar_t] = []
        scalars.reserveCapacity(8)
        for (x, y) in buffer.changedCells(since: previous) {
            let cell = buffer[x, y]
            if cell.isContinuation { continue }
            scalars.removeAll(keepingCapacity: true)
            for scalar in cell.grapheme.unicodeScalars { scalars.append(wchar_t(bitPattern: scalar.value)) }
            let (attrs, pair) = attributes(cell.style)
            if cn_put_cell(Int32(y), Int32(x), scalars, Int32(scalars.count), attrs, pair) == cn_err,
               !(x == buffer.width - 1 && y == buffer.height - 1) {
                // ncurses refused the grapheme (a width it disagrees with): show a placeholder.
                mvaddstr(Int32(y), Int32(x), cell.width == 2 ? "??" : "?")
            }
        }
        previous = buffer
        refresh()
    }

    private func attributes(_ style: Style) -> (attr_t, Int16) {
        var attrs = cn_a_normal
        if style.bold { attrs |= cn_a_bold }
        if style.reverse { attrs |= cn_a_reverse }
        if style.underline { attrs |= cn_a_underline }
        if style.dim { attrs |= cn_a_dim }
        guard colorEnabled, style.fg != nil || style.bg != nil else { return (attrs, 0) }
        return (attrs, pair(fg: style.fg, bg: style.bg))
    }

    /// Colour pairs are made on first use; when the terminal runs out, colour is dropped.
    private func pair(fg: Color?, bg: Color?) -> Int16 {
        let key = (fg.map { $0.rawValue + 1 } ?? 0) * 16 + (bg.map { $0.rawValue + 1 } ?? 0)
        if let p = pairs[key] { return p }
        let next = pairs.count + 1
        guard next < maxPairs, next < Int(Int16.max) else { return 0 }
        init_pair(Int16(next), Int16(fg?.rawValue ?? -1), Int16(bg?.rawValue ?? -1))
        pairs[key] = Int16(next)
        return Int16(next)
    }

    /// Waits up to `timeoutMilliseconds` (negative: without limit) for input, a signal or a
    /// wake-up, and decodes what came. Returns `nil` when nothing arrived or the input was a
    /// key with no meaning here.
    public func readEvent(timeoutMilliseconds: Int32) -> Event? {
        guard active else { return nil }
        if terminalGone { return .terminate(.hangup) }
        if let signal = takeSignal() { return .terminate(.signal(signal)) }
        // Keys ncurses has already read from the terminal (the rest of a burst) come first:
        // `poll` cannot see them.
        switch readKey() {
        case .event(let event): return event
        case .ignored: return nil
        case .nothing: break
        }
        var fds = [
            pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
            pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0),
        ]
        let ready = poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
        if ready < 0 {
            // EINTR: a signal (SIGWINCH becomes a KEY_RESIZE for ncurses to hand over).
            if let signal = takeSignal() { return .terminate(.signal(signal)) }
            if errno == EINTR, case .event(let event) = readKey() { return event }
            return nil
        }
        if fds[1].revents != 0, let signal = takeSignal() { return .terminate(.signal(signal)) }
        if fds[2].revents != 0 { drainWakePipe() }
        let input = Int32(fds[0].revents)
        if input & (POLLHUP | POLLERR | POLLNVAL) != 0 && input & POLLIN == 0 {
            return hangUp()
        }
        guard input & POLLIN != 0 else { return nil }
        switch readKey() {
        case .event(let event):
            emptyReads = 0
            return event
        case .ignored:
            emptyReads = 0
            return nil
        case .nothing:
            // Readable but nothing to read: the other end closed (end of file), or the read
            // failed (EIO on a terminal that went away). Waiting again would return at once.
            emptyReads += 1
            if input & (POLLHUP | POLLERR) != 0 || emptyReads >= 3 { return hangUp() }
            return nil
        }
    }

    private func hangUp() -> Event {
        terminalGone = true
        return .terminate(.hangup)
    }

    private func takeSignal() -> Int32? {
        let signal = cts_take()
        return signal == 0 ? nil : signal
    }

    private func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakePipe.read, &buffer, buffer.count) > 0 {}
    }

    private enum KeyRead {
        case event(Event)
        /// A key or mouse report that means nothing here.
        case ignored
        /// ncurses had nothing: no input waiting, or the read failed.
        case nothing
    }

    /// One key from ncurses without waiting (beyond its escape-sequence delay).
    private func readKey() -> KeyRead {
        wtimeout(cn_stdscr(), 0)
        var ch: wint_t = 0
        let result = get_wch(&ch)
        if result == cn_err { return .nothing }
        let event = result == cn_key_code_yes ? decodeKeyCode(Int32(bitPattern: ch)) : decodeCharacter(UInt32(ch))
        return event.map(KeyRead.event) ?? .ignored
    }

    private func decodeKeyCode(_ code: Int32) -> Event? {
        switch code {
        case cn_key_resize:
            previous = nil
            return .resize(width: Int(cn_cols()), height: Int(cn_lines()))
        case cn_key_mouse:
            var event = MEVENT()
            guard getmouse(&event) == cn_ok else { return nil }
            if event.bstate & cn_wheel_up_mask() != 0 { return .wheel(-1) }
            if cn_wheel_down_mask() != 0 && event.bstate & cn_wheel_down_mask() != 0 { return .wheel(1) }
            return nil
        case KEY_UP: return .key(.up)
        case KEY_DOWN: return .key(.down)
        case KEY_LEFT: return .key(.left)
        case KEY_RIGHT: return .key(.right)
        case KEY_PPAGE: return .key(.pageUp)
        case KEY_NPAGE: return .key(.pageDown)
        case KEY_HOME: return .key(.home)
        case KEY_END: return .key(.end)
        case KEY_BACKSPACE: return .key(.backspace)
        case KEY_DC: return .key(.delete)
        case KEY_ENTER: return .key(.enter)
        case KEY_BTAB: return .key(.backTab)
        default:
            // Function keys and the rest have no binding.
            return nil
        }
    }

    private func decodeCharacter(_ value: UInt32) -> Event? {
        switch value {
        case 0x1B: return .key(.escape)
        case 0x0D, 0x0A: return .key(.enter)
        case 0x09: return .key(.tab)
        case 0x7F, 0x08: return .key(.backspace)
        case 0x01...0x1A:
            return .key(.ctrl(Character(Unicode.Scalar(UInt8(value) + 0x60))))
        default:
            guard let scalar = Unicode.Scalar(value), value >= 0x20 else { return nil }
            return .key(.char(Character(scalar)))
        }
    }
}
