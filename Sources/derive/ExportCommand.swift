import ArgumentParser
import Foundation
import Lessons
import NotebookCore
import Progress

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a lesson with its numbers as a web page, a Jupyter notebook or Markdown.",
        discussion: """
            The web page is one file that works offline: math as MathML, charts as SVG, \
            answers that open on click; it loads nothing from anywhere. The notebook \
            (nbformat 4.5) opens in JupyterLab. Markdown is written into a folder with its \
            charts as SVG files beside it.

            Examples:
              derive export online-softmax                 # writes online-softmax.html
              derive export infonce --to ipynb -o ~/infonce.ipynb
              derive export trpo --to md -o notes/trpo     # notes/trpo/trpo.md and its charts
              derive export fp16 --mine -o - | less        # with your edited values, to stdout
            """
    )

    enum Target: String, ExpressibleByArgument, CaseIterable {
        case html, ipynb, md
    }

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The lesson id (see `derive list`).", valueName: "lesson"))
    var lessonID: String

    @Option(help: ArgumentHelp("What to write.", valueName: "html|ipynb|md"))
    var to: Target = .html

    @Option(name: [.customShort("o"), .customLong("output")],
            help: ArgumentHelp("The file to write (a folder for md); - for standard output. Default: LESSON.html, LESSON.ipynb or the folder LESSON.",
                               valueName: "path"))
    var output: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a parameter; repeatable.", valueName: "[cell.]param=value"))
    var assignments: [Assignment] = []

    @Flag(help: "Use the parameter values you saved in the notebook (--set still wins).")
    var mine = false

    @Flag(help: "Also run heavy cells.")
    var heavy = false

    func run() throws {
        let library = try global.loadLibrary()
        guard let lesson = try LessonSelection.resolve([lessonID], all: false, in: library).first else {
            throw ValidationError("no lesson '\(lessonID)'")
        }
        var notebook = Notebook(lesson: lesson, registry: ModuleCatalog.registry)
        if mine { applySaved(to: &notebook) }
        for assignment in assignments { try assignment.apply(to: &notebook, focus: nil) }
        let bar = StderrProgress(label: lesson.id)
        notebook.runAll(includeHeavy: heavy, context: bar.context)
        bar.finish()

        let generator = "derive " + Derive.configuration.version
        switch to {
        case .html:
            try write(HTMLRenderer(generator: generator).render(notebook), to: output ?? lesson.id + ".html")
        case .ipynb:
            try write(NotebookFileRenderer().render(notebook).serialized(indent: 1) + "\n", to: output ?? lesson.id + ".ipynb")
        case .md:
            try writeMarkdown(notebook, folder: output ?? lesson.id)
        }
        let failed = lesson.cells.filter { notebook.result($0.id).status.isFailed }.map(\.id)
        if !failed.isEmpty {
            Terminal.warn("\(failed.count) cell(s) failed (\(failed.joined(separator: ", "))); the export shows their errors")
            throw ExitCode.failure
        }
    }

    /// The learner's saved values; one that no longer applies is skipped with a warning.
    private func applySaved(to notebook: inout Notebook) {
        let store = global.openProgress(createIfMissing: false)
        for saved in store.overrides(lesson: notebook.lesson.id) {
            do {
                try notebook.setOverride(cell: saved.cell, parameter: saved.parameter, source: saved.source)
            } catch {
                Terminal.warn("your saved \(saved.cell).\(saved.parameter) = \(saved.source) no longer applies: \(error)")
            }
        }
    }

    private func writeMarkdown(_ notebook: Notebook, folder: String) throws {
        if folder == "-" {
            Terminal.print(MarkdownRenderer().render(notebook), terminator: "")
            return
        }
        let directory = URL(fileURLWithPath: folder)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ValidationError("cannot create the folder \(folder): \(WriteFailure(error))")
        }
        var charts: [(name: String, svg: String)] = []
        let renderer = MarkdownRenderer { cell, output, svg in
            let name = FileName.safe("\(notebook.lesson.id)-\(cell)-\(output)") + ".svg"
            charts.append((name, svg))
            return name
        }
        let markdown = renderer.render(notebook)
        for chart in charts { try write(chart.svg + "\n", to: directory.appendingPathComponent(chart.name).path, quiet: true) }
        try write(markdown, to: directory.appendingPathComponent(notebook.lesson.id + ".md").path)
        if !charts.isEmpty { Terminal.print("wrote \(charts.count) chart(s) beside it") }
    }

    /// Writes the whole file or nothing: to a temporary file beside it, then renamed over it.
    private func write(_ text: String, to path: String, quiet: Bool = false) throws {
        if path == "-" {
            Terminal.print(text, terminator: "")
            return
        }
        let url = URL(fileURLWithPath: path)
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw ValidationError("cannot write \(path): \(WriteFailure(error))")
        }
        if !quiet { Terminal.print("wrote \(path) (\(ByteCountFormatter.string(fromByteCount: Int64(text.utf8.count), countStyle: .file)))") }
    }
}

/// Why a file could not be written, in the words a shell would use.
struct WriteFailure: CustomStringConvertible {
    let error: Error

    init(_ error: Error) {
        self.error = error
    }

    var description: String {
        switch (error as? CocoaError)?.code {
        case .fileNoSuchFile?: "No such file or directory"
        case .fileWriteNoPermission?, .fileReadNoPermission?: "Permission denied"
        case .fileWriteOutOfSpace?: "No space left on device"
        case .fileWriteVolumeReadOnly?: "Read-only file system"
        default: error.localizedDescription
        }
    }
}

/// File names made from lesson, cell and output ids: letters, digits, `-`, `_` and `.` only.
enum FileName {
    static func safe(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "_" })
    }
}
