import ArgumentParser
import NotebookCore

/// `--set [CELL.]PARAM=VALUE`.
struct Assignment: ExpressibleByArgument {
    var cell: String?
    var parameter: String
    var source: String

    init?(argument: String) {
        guard let eq = argument.firstIndex(of: "=") else { return nil }
        let target = argument[..<eq].trimmingCharacters(in: .whitespaces)
        source = String(argument[argument.index(after: eq)...])
        let parts = target.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        if parts.count == 2 {
            cell = parts[0]
            parameter = parts[1]
        } else {
            parameter = parts[0]
        }
    }

    var text: String { (cell.map { $0 + "." } ?? "") + parameter + "=" + source }

    /// Applies the assignment to a notebook; `focus` is the `--cell` choice, used when no cell is named.
    func apply(to notebook: inout Notebook, focus: String?) throws {
        let lesson = notebook.lesson
        let target: String
        if let cell = cell ?? focus {
            guard lesson.cell(cell) != nil else {
                throw LessonSelection.unknownCell(cell, in: lesson, prefix: "--set \(text): ")
            }
            target = cell
        } else {
            let candidates = lesson.cells.filter { notebook.registry.module(named: $0.compute)?.parameter(named: parameter) != nil }
            switch candidates.count {
            case 1: target = candidates[0].id
            case 0: throw ValidationError("--set \(text): no cell of '\(lesson.id)' has a parameter '\(parameter)'")
            default:
                throw ValidationError("--set \(text): several cells have '\(parameter)' (\(candidates.map(\.id).joined(separator: ", "))); write CELL.\(parameter)=...")
            }
        }
        do {
            try notebook.setOverride(cell: target, parameter: parameter, source: source)
        } catch {
            throw ValidationError("--set \(text): \(error)")
        }
    }
}
