import ArgumentParser
import Foundation
import Lessons
import Progress
import NotebookCore

/// The options every command takes, however they were read: by ArgumentParser
/// (``GlobalOptions``) or by the notebook's quick start (``NotebookLaunch``).
protocol CommonOptions {
    /// `--lessons DIR`.
    var lessons: String? { get }
    /// `--db PATH`.
    var db: String? { get }
    /// `--no-color`.
    var noColor: Bool { get }
}

/// Options every command takes, as ArgumentParser reads them.
struct GlobalOptions: ParsableArguments, CommonOptions {
    @Option(name: .long, help: ArgumentHelp("Folder of lesson files (env DERIVE_LESSONS).", valueName: "dir"))
    var lessons: String?

    @Option(name: .long, help: ArgumentHelp("Progress database (env DERIVE_DB).", valueName: "path"))
    var db: String?

    @Flag(name: .customLong("no-color"), help: "Plain output without colour (also NO_COLOR).")
    var noColor = false
}

extension CommonOptions {
    /// `--lessons`, then `DERIVE_LESSONS`, then `./lessons`, then the install's `share/derive/lessons`.
    func lessonsDirectory() throws -> URL {
        if let path = lessons ?? EnvironmentVariables.value("DERIVE_LESSONS") {
            let url = URL(fileURLWithPath: path)
            guard Terminal.isDirectory(url) else {
                throw ValidationError("lessons folder '\(path)' does not exist")
            }
            return url
        }
        let local = URL(fileURLWithPath: "lessons")
        if Terminal.isDirectory(local) { return local }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let installed = executable.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/derive/lessons")
        if Terminal.isDirectory(installed) { return installed }
        throw ValidationError("no lessons folder found: pass --lessons DIR or set DERIVE_LESSONS")
    }

    /// Reads the lessons' headers, for the commands that only list them; files whose front
    /// matter did not read are reported on stderr. A body's errors wait until it is opened.
    func loadCatalog(from directory: URL? = nil) throws -> LessonCatalog {
        var cache = LessonHeaderCache(location: LessonHeaderCache.defaultLocation(environment: EnvironmentVariables.named("XDG_CACHE_HOME", "HOME")))
        let catalog = LessonLoader(registry: ModuleCatalog.registry).loadHeaders(try directory ?? lessonsDirectory(), cache: &cache)
        cache.save()
        for error in catalog.errors { Terminal.warn("\(error)") }
        return catalog
    }

    /// Loads the lessons, reporting files that did not load on stderr (unless `quiet`: the
    /// caller reports them itself).
    func loadLibrary(quiet: Bool = false) throws -> LessonLibrary {
        let library = LessonLoader(registry: ModuleCatalog.registry).loadDirectory(try lessonsDirectory())
        if !quiet { for error in library.errors { Terminal.warn("\(error)") } }
        return library
    }

    /// `--db`, then `DERIVE_DB`, then the XDG data folder.
    var progressLocation: URL? { ProgressStoreLocation.resolve(flag: db) }

    /// Opens the progress store, printing its warnings on stderr.
    func openProgress(createIfMissing: Bool = true) -> ProgressStore {
        let opened = ProgressStore.open(at: progressLocation, createIfMissing: createIfMissing)
        for warning in opened.warnings { Terminal.warn(warning) }
        return opened.store
    }

    /// Prints warnings raised since the store was opened (a write that failed).
    func flushWarnings(_ store: ProgressStore) {
        for warning in store.drainWarnings() { Terminal.warn(warning) }
    }
}
