import ArgumentParser
import Lessons
import NotebookCore

struct ModulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modules",
        abstract: "List the compute modules, or show one module's parameters and outputs."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("A module name.", valueName: "module"))
    var module: String?

    func run() throws {
        guard let name = module else {
            let width = ModuleCatalog.registry.names.map(\.count).max() ?? 0
            for module in ModuleCatalog.registry.modules {
                Terminal.print(module.name + String(repeating: " ", count: width - module.name.count) + "  "
                      + module.summary + (module.isHeavy ? " (heavy)" : ""))
            }
            return
        }
        let module = try ModuleLookup.find(name)
        Terminal.print("\(module.name)\(module.isHeavy ? " (heavy)" : "") — \(module.summary)\n\nparameters")
        let signatures = module.parameters.map(\.signature)
        let width = signatures.map(\.count).max() ?? 0
        for (spec, signature) in zip(module.parameters, signatures) {
            var doc = spec.doc
            if let range = spec.range { doc += " (\(range.description))" }
            Terminal.print("  " + signature + String(repeating: " ", count: width - signature.count) + "  " + doc)
        }
        Terminal.print("\noutputs")
        let outputWidth = module.outputs.map { $0.name.count + $0.kind.shortName.count + 2 }.max() ?? 0
        for output in module.outputs {
            let head = "\(output.name): \(output.kind.shortName)"
            Terminal.print("  " + head + String(repeating: " ", count: outputWidth - head.count) + "  " + output.doc
                  + (output.hint.map { " [\($0.rawValue)]" } ?? ""))
        }
    }
}
