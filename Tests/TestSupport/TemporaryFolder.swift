import Foundation
import XCTest

/// A fresh folder under the system temporary folder, removed after the test (permissions a
/// test took away are given back first, so that it can be).
public func makeTemporaryFolder(_ test: XCTestCase, prefix: String = "derive-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock {
        _ = chmod(url.path, 0o755)
        try? FileManager.default.removeItem(at: url)
    }
    return url
}
