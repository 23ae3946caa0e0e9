import NotebookCore
import XCTest

@testable import Lessons

/// Checks every registered module against its own declarations, so a new module cannot
/// drift from what `derive modules` and the lesson loader promise.
final class ModuleContractTests: XCTestCase {
    func testNamesAreUniqueTopicDotVerb() {
        let names = ModuleCatalog.registry.names
        XCTAssertEqual(Set(names).count, names.count, "duplicate module names")
        for name in names {
            let parts = name.split(separator: ".")
            XCTAssertEqual(parts.count, 2, "\(name) is not topic.verb")
            XCTAssertTrue(name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "." || $0 == "-" }, name)
        }
    }

    func testDefaultsValidateAndProduceEveryDeclaredOutput() throws {
        for module in ModuleCatalog.registry.modules where !module.isHeavy {
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
        for module in ModuleCatalog.registry.modules {
            XCTAssertThrowsError(try module.inputs(from: ["no_such_parameter": .integer(1)])) { error in
                XCTAssertEqual((error as? ComputeError)?.parameter, "no_such_parameter")
            }
        }
    }
}

/// Bad input is normal input: every parameter of every module gets hostile values, one at a
/// time, on top of the defaults. Each must give a result or a `ComputeError`; a trap (index
/// out of range, overflow, division by zero) would crash this test process.
final class HostileInputTests: XCTestCase {
    static let hostile: [Value] = [
        .integer(Int.max), .integer(Int.min), .integer(-1), .integer(0), .integer(1),
        .number(.nan), .number(.infinity), .number(-.infinity), .number(1e308), .number(-1e308), .number(.leastNonzeroMagnitude),
        .number(-0.0), .bool(true), .text("zz"), .text(""),
        .vector([]), .vector([0]), .vector([.nan, 1]), .vector([1e308, 1e308, -1e308]), .vector([-1, 2.5, 1e9]),
        .vector(Array(repeating: 1, count: 2_000_001)),
        .matrix([[0]]), .matrix([[1, 2], [3, 4]]), .matrix([[1e308, -1e308], [.infinity, 0]]),
        .matrix(Array(repeating: Array(repeating: 0.5, count: 3), count: 7)),
    ]

    func testHostileValuesGiveResultsOrErrorsNeverTraps() {
        // Heavy modules see a cancelled context, so an accepted value cannot start hours of work.
        let cancelled = RunContext(isCancelled: { true })
        var accepted = 0, rejected = 0
        for module in ModuleCatalog.registry.modules {
            for spec in module.parameters {
                for value in Self.hostile {
                    let context = module.isHeavy ? cancelled : RunContext.silent
                    let start = DispatchTime.now().uptimeNanoseconds
                    do {
                        _ = try module.evaluate([spec.name: value], context: context)
                        accepted += 1
                    } catch {
                        rejected += 1
                        XCTAssertFalse(error.message.isEmpty, "\(module.name).\(spec.name): empty message")
                    }
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    XCTAssertLessThan(seconds, 5, "\(module.name).\(spec.name) = \(value.shapeDescription) ran \(seconds) s")
                }
            }
        }
        let parameterCount = ModuleCatalog.registry.modules.map(\.parameters.count).reduce(0, +)
        XCTAssertEqual(accepted + rejected, parameterCount * Self.hostile.count)
        XCTAssertGreaterThan(accepted, 100, "some hostile values are legitimate inputs")
        XCTAssertGreaterThan(rejected, 500)
    }
}
