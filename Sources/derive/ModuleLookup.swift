import ArgumentParser
import Foundation
import Lessons
import NotebookCore

/// Finds a module by name with a helpful error.
enum ModuleLookup {
    static func find(_ name: String) throws -> any ComputeModule {
        if let module = ModuleCatalog.registry.module(named: name) { return module }
        let hint = ModuleCatalog.registry.suggestion(for: name)
        throw ValidationError("no compute module '\(name)'\(hint); see `derive modules`")
    }
}
