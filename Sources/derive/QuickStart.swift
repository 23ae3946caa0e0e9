/// The command lines typed dozens of times a day, read without ArgumentParser: `derive`,
/// `derive tui [LESSON]`, with `--lessons`, `--db` and `--no-color`, and `derive --version`.
///
/// ArgumentParser's set-up (reflecting over every option's property wrapper, then trial parses
/// for `--generate-completion-script`) took 2.8 ms of a 9 ms start. Anything else, and anything
/// unusual in these forms (help, a repeated option, `--`, an empty value), is left to
/// ArgumentParser, so its rules and messages stay the only ones; `QuickStartTests` checks that
/// both read every line this reads the same.
enum QuickStart: Equatable {
    case version
    case notebook(NotebookLaunch)

    /// Reads `arguments` (without the program name); `nil` when ArgumentParser should.
    /// Bare `derive` opens the notebook only on a terminal (`interactive`); elsewhere it prints
    /// the list, which is ArgumentParser's path.
    init?(arguments: [String], interactive: Bool) {
        if arguments == ["--version"] {
            self = .version
            return
        }
        var launch = NotebookLaunch()
        var seen: Set<String> = []
        var positionals: [String] = []
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("-") else {
                positionals.append(argument)
                continue
            }
            let (name, attached) = Self.split(argument)
            guard ["--lessons", "--db", "--no-color"].contains(name), seen.insert(name).inserted else { return nil }
            if name == "--no-color" {
                guard attached == nil else { return nil }
                launch.noColor = true
                continue
            }
            guard let value = attached ?? rest.popFirst(), !value.isEmpty, !value.hasPrefix("-") else { return nil }
            if name == "--lessons" { launch.lessons = value } else { launch.db = value }
        }
        switch positionals.count {
        case 0:
            guard interactive else { return nil }
            launch.resume = true
        case 1, 2:
            guard positionals[0] == "tui" else { return nil }
            launch.lesson = positionals.dropFirst().first
        default:
            return nil
        }
        self = .notebook(launch)
    }

    /// `--name=value` as its name and value; `--name` alone with no value.
    private static func split(_ argument: String) -> (name: String, value: String?) {
        guard let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }
}
