import Foundation

/// The lesson list's memory of the headers it read: for each lesson file, its
/// ``FileSignature`` and the header parsed from it, kept in one JSON file (under
/// `$XDG_CACHE_HOME/derive`). A file whose signature still matches is listed without being
/// opened; any other is read and parsed again.
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

    /// Where the cache lives; `nil` keeps it in memory only.
    public let location: URL?
    private var entries: [String: Entry]
    private var dirty = false
    /// Headers this cache answered, and files it had to have read, since it was loaded.
    public private(set) var hits = 0
    public private(set) var misses = 0

    struct Entry: Codable, Equatable {
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

    private struct Stored: Codable {
        var format: Int
        var lessons: [String: Entry]
    }

    /// The cache file's place: `$XDG_CACHE_HOME/derive/lesson-headers.json`, else
    /// `~/.cache/derive/lesson-headers.json`; `nil` without either. A relative
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
        return base.appendingPathComponent("derive", isDirectory: true).appendingPathComponent("lesson-headers.json")
    }

    /// Reads the cache at `location`; anything unreadable gives an empty cache.
    public init(location: URL?) {
        self.location = location
        entries = [:]
        guard let location, let data = try? Data(contentsOf: location),
              let stored = try? JSONDecoder().decode(Stored.self, from: data),
              stored.format == Self.formatVersion else { return }
        entries = stored.lessons
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
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(Stored(format: Self.formatVersion, lessons: entries)).write(to: location, options: .atomic)
            dirty = false
            return true
        } catch {
            return false
        }
    }
}
