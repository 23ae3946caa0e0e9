import Foundation
import XCTest
@testable import NotebookCore

final class EnvironmentVariablesTests: XCTestCase {
    func testGivesWhatProcessInfoGivesForTheNamedVariablesOnly() {
        setenv("DERIVE_TEST_SET", "a value = with spaces, ü", 1)
        setenv("DERIVE_TEST_EMPTY", "", 1)
        unsetenv("DERIVE_TEST_UNSET")
        defer { unsetenv("DERIVE_TEST_SET"); unsetenv("DERIVE_TEST_EMPTY") }
        let all = ProcessInfo.processInfo.environment
        let named = EnvironmentVariables.named("DERIVE_TEST_SET", "DERIVE_TEST_EMPTY", "DERIVE_TEST_UNSET", "PATH")
        XCTAssertEqual(named["DERIVE_TEST_SET"], "a value = with spaces, ü")
        // Set but empty is not unset: the callers treat the two differently (NO_COLOR, DERIVE_DB).
        XCTAssertEqual(named["DERIVE_TEST_EMPTY"], "")
        XCTAssertNil(named["DERIVE_TEST_UNSET"])
        XCTAssertEqual(named["PATH"], all["PATH"])
        XCTAssertEqual(EnvironmentVariables.value("DERIVE_TEST_EMPTY"), "")
        XCTAssertNil(EnvironmentVariables.value("DERIVE_TEST_UNSET"))
        XCTAssertEqual(Set(named.keys), Set(["DERIVE_TEST_SET", "DERIVE_TEST_EMPTY", "PATH"]).intersection(all.keys))
    }
}
