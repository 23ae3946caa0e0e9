import Foundation

/// A few environment variables, read one by one with `getenv`.
///
/// `ProcessInfo.processInfo.environment` builds a dictionary of every variable at each call
/// (about 0.1 ms, five times at start-up: callgrind counted 2.3 M instructions to the list's
/// first frame); the start-up paths ask only for the variables they read.
public enum EnvironmentVariables {
    /// The variable's value, or `nil` when it is unset (set but empty gives `""`).
    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The named variables that are set, as `ProcessInfo.processInfo.environment` gives them.
    public static func named(_ names: String...) -> [String: String] {
        var values: [String: String] = [:]
        for name in names { values[name] = value(name) }
        return values
    }
}
