import NotebookCore
import XCTest

@testable import Lessons

/// Checks every registered module against its own declarations, so a new module cannot
/// drift from what `derive modules` and the lesson loader promise.
final class ModuleContractTests: XCTestCase {
    func testNamesAreUniqueTopicDotVerb() {
        let names = Lessons.registry.names
        XCTAssertEqual(Set(names).count, names.count, "duplicate module names")
        for name in names {
            let parts = name.split(separator: ".")
            XCTAssertEqual(parts.count, 2, "\(name) is not topic.verb")
            XCTAssertTrue(name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "." || $0 == "-" }, name)
        }
    }

    func testDefaultsValidateAndProduceEveryDeclaredOutput() throws {
        for module in Lessons.registry.modules where !module.isHeavy {
            let needsValue = module.parameters.filter { $0.defaultValue == .required }
            guard needsValue.isEmpty else { continue }
            for spec in module.parameters {
                if case .value(let v) = spec.defaultValue {
                    XCTAssertNoThrow(try spec.validate(v), "\(module.name).\(spec.name) default does not validate")
                }
                XCTAssertFalse(spec.doc.isEmpty, "\(module.name).\(spec.name) has no doc")
            }
            let outputs = try module.evaluate([:]).outputs
            for spec in module.outputs {
                guard let value = outputs[spec.name] else {
                    XCTFail("\(module.name) did not produce declared output \(spec.name)")
                    continue
                }
                XCTAssertEqual(value.kind, spec.kind, "\(module.name).\(spec.name) has kind \(value.kind), declared \(spec.kind)")
            }
            for name in outputs.names {
                XCTAssertNotNil(module.output(named: name), "\(module.name) produced undeclared output \(name)")
            }
        }
    }

    func testUnknownParameterIsRejectedByName() {
        for module in Lessons.registry.modules {
            XCTAssertThrowsError(try module.inputs(from: ["no_such_parameter": .integer(1)])) { error in
                XCTAssertEqual((error as? ComputeError)?.parameter, "no_such_parameter")
            }
        }
    }
}
