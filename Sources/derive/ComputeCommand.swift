import ArgumentParser
import Foundation
import Lessons
import NotebookCore

struct ComputeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compute",
        abstract: "Run one compute module with the given parameters.",
        discussion: "Example: derive compute softmax.online --set x=[3,1,2] --set block=2 --format json"
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Module name (see `derive modules`).", valueName: "module"))
    var module: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Set a parameter; repeatable.", valueName: "param=value"))
    var assignments: [Assignment] = []

    @Option(help: ArgumentHelp("Output format.", valueName: "format"))
    var format: DataFormat = .text

    func run() throws {
        let module = try ModuleLookup.find(module)
        var values: [String: Value] = [:]
        for assignment in assignments {
            if assignment.cell != nil {
                throw ValidationError("--set \(assignment.text): compute takes PARAM=VALUE (no cell)")
            }
            guard module.parameter(named: assignment.parameter) != nil else {
                throw ValidationError("--set \(assignment.text): \(module.name) has no parameter '\(assignment.parameter)'; it takes \(module.parameters.map(\.name).joined(separator: ", "))")
            }
            do {
                let expression = try ExpressionParser.parse(assignment.source)
                guard expression.references.isEmpty else {
                    throw ValidationError("--set \(assignment.text): compute takes values, not references to cells")
                }
                values[assignment.parameter] = try expression.evaluate(in: .empty)
            } catch let error as ExpressionError {
                throw ValidationError("--set \(assignment.text): \(error.message) (at column \(error.offset + 1) of the value)")
            }
        }
        let bar = StderrProgress(label: module.name)
        let result = CellJob.standalone(module, values: values).execute(context: bar.context)
        bar.finish()
        switch format {
        case .json:
            Terminal.print(JSONRenderer.cell(id: module.name, compute: module.name, result).serialized(indent: 2))
        default:
            let renderer = TextRenderer()
            let hints = module.displayHints
            if let inputs = result.inputs {
                Terminal.print("parameters")
                renderer.table(inputs.entries.map { ($0.name, $0.value) }, hints: [:]).forEach { Terminal.print("  " + $0) }
            }
            if let outputs = result.outputs {
                Terminal.print("outputs")
                renderer.table(outputs.entries.map { ($0.name, $0.value) }, hints: hints).forEach { Terminal.print("  " + $0) }
            }
        }
        if case .failed(let error) = result.status {
            Terminal.printError("derive: \(module.name): \(error)")
            throw ExitCode.failure
        }
    }
}
