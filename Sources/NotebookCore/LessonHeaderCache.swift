import Foundation

/// The lesson list's memory of the headers it read: for each lesson file, its
/// ``FileSignature`` and the header parsed from it, kept in one JSON file (under
/// `$XDG_CACHE_HOME/derive`). A file whose signature still matches is listed without being
/// opened; any other is read and parsed again.
///
/// The file is text, a line per lesson file of tab-separated fields (``Entry/line``), after a
/// first line naming the format. Not JSON: `JSONDecoder` took longer to read it than the
/// header parser takes to read the lessons' files.
///
/// The cache can only make listing faster, never wrong or noisy: a missing, corrupt or
/// foreign cache file counts as empty and is rewritten; one that cannot be written is left
/// alone, silently. Headers with errors are never kept, so their errors show every time.
///
/// A file changed twice within the file system's timestamp granularity (a few milliseconds)
/// can keep its size and times; as git does with its index, an entry is trusted only when
/// the file had already been unchanged for a while when it was read.
public struct LessonHeaderCache: Sendable {
    /// Bump when ``LessonParser/parseHeader(_:file:)`` reads a header differently, so that
    /// caches written by an older derive are read again.
    static let formatVersion = 1
    /// How long a file must have been unchanged before its header is kept.
    static let settleNanoseconds: Int64 = 2_000_000_000
    /// Entries beyond this many (files from folders long gone) are dropped, oldest first.
    static let maxEntries = 2_000
    /// A cache file larger than this is not one this derive wrote.
    static let maxFileBytes = 64 << 20

    /// Where the cache lives; `nil` keeps it in memory only.
    public let location: URL?
    private var entries: [String: Entry]
    private var dirty = false
    /// Headers this cache answered, and files it had to have read, since it was loaded.
    public private(set) var hits = 0
    public private(set) var misses = 0

    struct Entry: Equatable {
        var signature: FileSignature
        var id: String
        var title: String
        var order: Int
        var summary: String
        var cellIDs: [String]
        var questionIDs: [String]
        /// When it was read, in nanoseconds since 1970: the order in which entries are dropped.
        var readAt: Int64
    }

    /// The first line of the file: its format and version.
    static var formatLine: String { "derive lesson headers \(formatVersion)" }

    /// The cache file's place: `$XDG_CACHE_HOME/derive/lesson-headers.tsv`, else
    /// `~/.cache/derive/lesson-headers.tsv`; `nil` without either. A relative
    /// `XDG_CACHE_HOME` is ignored, as the XDG specification says.
    public static func defaultLocation(environment: [String: String]) -> URL? {
        let base: URL
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            base = URL(fileURLWithPath: xdg, isDirectory: true)
        } else if let home = environment["HOME"], home.hasPrefix("/") {
            base = URL(fileURLWithPath: home, isDirectory: true).appendingPathComponent(".cache", isDirectory: true)
        } else {
            return nil
        }
        return base.appendingPathComponent("derive", isDirectory: true).appendingPathComponent("lesson-headers.tsv")
    }

    /// Reads the cache at `location`; anything unreadable gives an empty cache.
    public init(location: URL?) {
        self.location = location
        entries = [:]
        guard let location, case .success(let data) = FileBytes.read(location.path, limit: Self.maxFileBytes) else { return }
        var lines = data.split(separator: 0x0A)
        guard let first = lines.first, String(decoding: first, as: UTF8.self) == Self.formatLine else { return }
        lines.removeFirst()
        var read: [String: Entry] = [:]
        for line in lines {
            // One line that does not read means the file is not what this derive wrote.
            guard let (path, entry) = Entry.read(line) else { return }
            read[path] = entry
        }
        entries = read
    }

    /// The header of the file at `url` as it was read before, when the file has not changed;
    /// `file` is its name for messages.
    mutating func header(at url: URL, file: String, signature: FileSignature) -> LessonHeader? {
        guard let entry = entries[url.path], entry.signature == signature else {
            misses += 1
            return nil
        }
        hits += 1
        return LessonHeader(id: entry.id, title: entry.title, order: entry.order, summary: entry.summary,
                            file: file, url: url, cellIDs: entry.cellIDs, questionIDs: entry.questionIDs)
    }

    /// Keeps `header`, read from `url` whose signature was `signature` before it was read,
    /// unless the file changed too recently to be sure a later change would show.
    mutating func remember(_ header: LessonHeader, at url: URL, signature: FileSignature, now: Date = Date()) {
        let nanoseconds = Int64(now.timeIntervalSince1970 * 1e9)
        guard nanoseconds - signature.modifiedNanoseconds >= Self.settleNanoseconds else {
            forget(url)
            return
        }
        let entry = Entry(signature: signature, id: header.id, title: header.title, order: header.order,
                          summary: header.summary, cellIDs: header.cellIDs, questionIDs: header.questionIDs,
                          readAt: nanoseconds)
        if entries[url.path].map({ $0.signature != entry.signature || $0.id != entry.id }) ?? true {
            entries[url.path] = entry
            dirty = true
        }
    }

    /// Drops what is known of `url` (a file that no longer lists).
    mutating func forget(_ url: URL) {
        if entries.removeValue(forKey: url.path) != nil { dirty = true }
    }

    /// Drops the entries of files in `directory` other than `present`.
    mutating func keepOnly(_ present: Set<String>, in directory: URL) {
        // The folder written as its files' paths write it.
        let folder = directory.appendingPathComponent("_").deletingLastPathComponent().path
        for path in entries.keys where !present.contains(path)
            && URL(fileURLWithPath: path).deletingLastPathComponent().path == folder {
            entries[path] = nil
            dirty = true
        }
    }

    /// Writes the cache when it changed: atomically (a reader sees the old file or the new one),
    /// creating its folder. Returns whether the file now holds what this cache knows; a cache
    /// that cannot be written costs the next listing its speed, nothing else.
    @discardableResult
    public mutating func save() -> Bool {
        guard dirty else { return true }
        guard let location else { return false }
        if entries.count > Self.maxEntries {
            let oldest = entries.sorted { $0.value.readAt < $1.value.readAt }.prefix(entries.count - Self.maxEntries)
            for (path, _) in oldest { entries[path] = nil }
        }
        do {
            try FileManager.default.createDirectory(at: location.deletingLastPathComponent(), withIntermediateDirectories: true)
            var text = Self.formatLine + "\n"
            for (path, entry) in entries.sorted(by: { $0.key < $1.key }) { text += entry.line(path: path) + "\n" }
            try Data(text.utf8).write(to: location, options: .atomic)
            dirty = false
            return true
        } catch {
            return false
        }
    }
}

extension LessonHeaderCache.Entry {
    /// The entry as a line of the cache file: the path, the signature's four numbers, when it
    /// was read, the id, title, order and summary, then the cell ids and the question ids
    /// (each list joined by U+001F), separated by tabs; text fields escaped with backslashes.
    func line(path: String) -> String {
        let numbers = [signature.size, signature.modifiedNanoseconds, signature.changedNanoseconds,
                       Int64(bitPattern: signature.inode), readAt].map(String.init)
        let texts = [id, title]
        let rest = [summary, cellIDs.joined(separator: "\u{1F}"), questionIDs.joined(separator: "\u{1F}")]
        return ([Self.escape(path)] + numbers + texts.map(Self.escape) + [String(order)] + rest.map(Self.escape))
            .joined(separator: "\t")
    }

    /// Reads a ``line(path:)``; nil when it is not one.
    static func read(_ line: some Collection<UInt8>) -> (path: String, entry: Self)? {
        let fields = line.split(separator: 0x09, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard fields.count == 12,
              let size = Int64(fields[1]), let modified = Int64(fields[2]), let changed = Int64(fields[3]),
              let inode = Int64(fields[4]), let readAt = Int64(fields[5]), let order = Int(fields[8]),
              let path = unescape(fields[0]), let id = unescape(fields[6]), let title = unescape(fields[7]),
              let summary = unescape(fields[9]), let cells = unescape(fields[10]), let questions = unescape(fields[11])
        else { return nil }
        func list(_ text: String) -> [String] {
            // U+001F is a character of its own (a control), so splitting its byte splits characters.
            text.isEmpty ? [] : text.utf8.split(separator: 0x1F, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        }
        let signature = FileSignature(size: size, modifiedNanoseconds: modified, changedNanoseconds: changed,
                                      inode: UInt64(bitPattern: inode))
        return (path, Self(signature: signature, id: id, title: title, order: order, summary: summary,
                           cellIDs: list(cells), questionIDs: list(questions), readAt: readAt))
    }

    /// Backslash, tab, line feed and carriage return as `\\`, `\t`, `\n`, `\r` (by scalar: a
    /// CR LF is one `Character`).
    static func escape(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\".unicodeScalars
            case "\t": out += "\\t".unicodeScalars
            case "\n": out += "\\n".unicodeScalars
            case "\r": out += "\\r".unicodeScalars
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// The text ``escape(_:)`` was given; nil for a backslash not followed by one of its four.
    static func unescape(_ text: String) -> String? {
        // Most fields hold no backslash at all.
        guard text.utf8.contains(UInt8(ascii: "\\")) else { return text }
        var out = String.UnicodeScalarView()
        var escaped = false
        for scalar in text.unicodeScalars {
            if escaped {
                switch scalar {
                case "\\": out.append("\\")
                case "t": out.append("\t")
                case "n": out.append("\n")
                case "r": out.append("\r")
                default: return nil
                }
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else {
                out.append(scalar)
            }
        }
        return escaped ? nil : String(out)
    }
}
