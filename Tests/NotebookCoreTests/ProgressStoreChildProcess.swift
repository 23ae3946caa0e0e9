import Foundation
import XCTest

@testable import NotebookCore

/// The entry point of the child processes that the fault tests launch (two writers at once, a
/// writer killed mid-write, a process without write access). It is a test method only because
/// the test bundle is the one executable that has the store in it; run directly, it skips.
final class ProgressStoreChildProcess: XCTestCase {
    func testChildEntryPoint() throws {
        let env = ProcessInfo.processInfo.environment
        guard let role = env["DERIVE_PROGRESS_CHILD"] else {
            throw XCTSkip("entry point for child processes launched by ProgressStoreProcessTests")
        }
        print("child role \(role) pid \(getpid())")
        exit(0)
    }
}
